package pgclone

import (
	"context"
	"testing"
	"time"

	"github.com/jackc/pgx/v5"

	"github.com/stagingkit/terraform-provider-staging/internal/pgtest"
)

// schemaHeavy is a catalog without data: 2,000 tables (a quarter with a
// foreign key to the one before), 500 views, 1,000 functions (half of them
// used by a trigger) and 500 triggers.
var schemaHeavy = []string{
	`DO $$ BEGIN
		FOR i IN 1..2000 LOOP
			EXECUTE format('CREATE TABLE t%s (id int PRIMARY KEY, ref int, amount numeric NOT NULL DEFAULT 0, note text, updated_at timestamptz)', i);
			IF i % 4 = 0 THEN EXECUTE format('ALTER TABLE t%s ADD FOREIGN KEY (ref) REFERENCES t%s', i, i - 1); END IF;
		END LOOP;
		FOR i IN 1..1000 LOOP
			IF i <= 500 THEN
				EXECUTE format('CREATE FUNCTION f%s() RETURNS trigger LANGUAGE plpgsql AS $b$ BEGIN NEW.updated_at := now(); RETURN NEW; END $b$', i);
				EXECUTE format('CREATE TRIGGER tr%s BEFORE UPDATE ON t%s FOR EACH ROW EXECUTE FUNCTION f%s()', i, i, i);
			ELSE
				EXECUTE format('CREATE FUNCTION f%s(x numeric) RETURNS numeric LANGUAGE sql IMMUTABLE AS $b$ SELECT x * %s $b$', i, i);
			END IF;
		END LOOP;
		FOR i IN 1..500 LOOP
			EXECUTE format('CREATE VIEW v%s AS SELECT id, f%s(amount) AS scaled FROM t%s', i, 500 + i, i);
		END LOOP;
	END $$`,
}

// BenchmarkClone_schemaHeavy measures analysis (what a plan runs) and a
// whole clone of schemaHeavy: analyze-s and clone-s per run.
func BenchmarkClone_schemaHeavy(b *testing.B) {
	c := pgtest.Require(b)
	prod, staging := c.NewDatabase(b), c.NewDatabase(b)
	pgtest.Exec(b, prod, schemaHeavy...)
	ctx := context.Background()
	opts := Options{Key: testKey(b, "bench-key"), Parallelism: 2}
	var analyzeTime, cloneTime time.Duration
	for b.Loop() {
		start := time.Now()
		conn, err := pgx.ConnectConfig(ctx, sourceConfig(b, prod))
		if err != nil {
			b.Fatal(err)
		}
		tx, err := conn.BeginTx(ctx, pgx.TxOptions{IsoLevel: pgx.RepeatableRead, AccessMode: pgx.ReadOnly})
		if err != nil {
			b.Fatal(err)
		}
		if _, err := Analyze(ctx, tx, opts); err != nil {
			b.Fatal(err)
		}
		_ = conn.Close(ctx)
		analyzeTime += time.Since(start)
		start = time.Now()
		res, err := Clone(ctx, sourceConfig(b, prod), mustConfig(b, staging), opts)
		if err != nil {
			b.Fatal(err)
		}
		cloneTime += time.Since(start)
		for _, ph := range res.Phases {
			b.Logf("%-55s %v", ph.Name, ph.Duration.Round(time.Millisecond))
		}
		if res.Objects[KindTable] != 2000 || res.Objects[KindView] != 500 || res.Objects[KindFunction] != 1000 || res.Objects[KindTrigger] != 500 {
			b.Fatalf("objects = %v", res.Objects)
		}
	}
	b.ReportMetric(analyzeTime.Seconds()/float64(b.N), "analyze-s")
	b.ReportMetric(cloneTime.Seconds()/float64(b.N), "clone-s")
}
