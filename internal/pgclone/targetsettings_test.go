package pgclone

import (
	"context"
	"slices"
	"testing"

	"github.com/stagingkit/terraform-provider-staging/internal/pgtest"
)

// TestClone_storageParameters: staging tables get production's storage
// parameters, of the table and of its TOAST table, including
// autovacuum_enabled, which the clone turns off while it loads and gives
// back before the swap: a table with autovacuum off in production stays
// off, every other table has autovacuum on again.
func TestClone_storageParameters(t *testing.T) {
	c := pgtest.Require(t)
	prod, staging := c.NewDatabase(t), c.NewDatabase(t)
	pgtest.Exec(t, prod,
		`CREATE TABLE tuned (id int PRIMARY KEY, note text) WITH (fillfactor = 70, autovacuum_enabled = false, autovacuum_vacuum_scale_factor = 0.01, toast.autovacuum_vacuum_cost_delay = 5)`,
		`CREATE TABLE toast_off (id int PRIMARY KEY, body text) WITH (toast.autovacuum_enabled = false, toast_tuple_target = 256)`,
		`CREATE TABLE plain (id int PRIMARY KEY, body text)`,
		`CREATE TABLE events (id int, at date NOT NULL) PARTITION BY RANGE (at)`,
		`CREATE TABLE events_2026 PARTITION OF events FOR VALUES FROM ('2026-01-01') TO ('2027-01-01') WITH (fillfactor = 90)`,
		`INSERT INTO tuned SELECT g, repeat('x', g) FROM generate_series(1, 100) g`,
		`INSERT INTO toast_off SELECT g, 'b' FROM generate_series(1, 100) g`,
		`INSERT INTO plain SELECT g, 'p' FROM generate_series(1, 100) g`,
		`INSERT INTO events SELECT g, date '2026-01-01' + g FROM generate_series(1, 100) g`)
	if _, err := Clone(context.Background(), sourceConfig(t, prod), mustConfig(t, staging), Options{Key: testKey(t, "k")}); err != nil {
		t.Fatal(err)
	}
	const q = `SELECT c.relname || ' ' || coalesce(array_to_string(c.reloptions, ','), '-') || ' toast:' ||
	                  coalesce((SELECT array_to_string(t.reloptions, ',') FROM pg_class t WHERE t.oid = c.reltoastrelid), '-')
	           FROM pg_class c WHERE c.relnamespace = 'public'::regnamespace AND c.relkind IN ('r', 'p') ORDER BY c.relname`
	want := queryStrings(t, dial(t, prod), q)
	got := queryStrings(t, dial(t, staging), q)
	if !slices.Equal(got, want) {
		t.Errorf("staging's storage parameters:\n%q\nproduction's:\n%q", got, want)
	}
	if !slices.Contains(want, "plain - toast:-") || !slices.Contains(want, "tuned fillfactor=70,autovacuum_enabled=false,autovacuum_vacuum_scale_factor=0.01 toast:autovacuum_vacuum_cost_delay=5") {
		t.Fatalf("the test's production tables are not as it expects: %q", want)
	}
}

// TestStorageParameters: while a table loads, autovacuum is off on it and
// its TOAST table; production's own parameters are kept, quoted.
func TestStorageParameters(t *testing.T) {
	rel := &relation{schema: "s", name: "t", kind: 'r', options: []string{"fillfactor=70", "autovacuum_enabled=true"}, toastOptions: []string{"autovacuum_enabled=false"}}
	want := []string{"fillfactor = '70'", "autovacuum_enabled = false", "toast.autovacuum_enabled = false"}
	if got := storageParameters(rel); !slices.Equal(got, want) {
		t.Errorf("storageParameters = %q, want %q", got, want)
	}
	wantRestore := []string{`ALTER TABLE "s"."t" RESET (autovacuum_enabled, toast.autovacuum_enabled)`,
		`ALTER TABLE "s"."t" SET (fillfactor = '70', autovacuum_enabled = 'true', toast.autovacuum_enabled = 'false')`}
	if got := autovacuumRestore(rel); !slices.Equal(got, wantRestore) {
		t.Errorf("autovacuumRestore = %q, want %q", got, wantRestore)
	}
	parted := &relation{schema: "s", name: "p", kind: 'p'}
	if got := storageParameters(parted); len(got) != 0 {
		t.Errorf("a partitioned table takes no storage parameters: %q", got)
	}
}

// TestWorker_limitParallel: a worker gives its statements at most the
// spare workers it is told, and never more than the session's own
// max_parallel_workers_per_gather and max_parallel_maintenance_workers.
func TestWorker_limitParallel(t *testing.T) {
	c := pgtest.Require(t)
	db := c.NewDatabase(t)
	ctx := context.Background()
	conn := dial(t, db)
	pgtest.Exec(t, db, `ALTER DATABASE `+conn.Config().Database+` SET max_parallel_maintenance_workers = 1`)
	conn = dial(t, db) // a session that has the database's setting
	w := &worker{tgt: conn, parallelSet: -1}
	if err := conn.QueryRow(ctx, `SELECT current_setting('max_parallel_workers_per_gather')::int,
	       current_setting('max_parallel_maintenance_workers')::int`).Scan(&w.maxGather, &w.maxMaintenance); err != nil {
		t.Fatal(err)
	}
	for _, c := range []struct {
		spare               int
		gather, maintenance string
	}{{0, "0", "0"}, {3, "2", "1"}, {1, "1", "1"}} {
		if err := w.limitParallel(ctx, c.spare); err != nil {
			t.Fatal(err)
		}
		got := queryStrings(t, conn, `SELECT current_setting('max_parallel_workers_per_gather') || ' ' || current_setting('max_parallel_maintenance_workers')`)
		if want := c.gather + " " + c.maintenance; got[0] != want {
			t.Errorf("spare %d: %s, want %s", c.spare, got[0], want)
		}
	}
}
