package pgclone

import (
	"context"
	"slices"
	"strings"
	"testing"

	"github.com/stagingkit/terraform-provider-staging/internal/pgtest"
)

// TestClone_storageParameters: staging tables get production's storage
// parameters, of the table and of its TOAST table, including
// autovacuum_enabled, which the clone turns off while it loads and gives
// back before the swap: a table with autovacuum off in production stays
// off, every other table has autovacuum on again. A schema named "toast"
// does not capture the parameters' "toast." namespace; the TOAST
// parameters of a table whose TOAST table staging cannot have (its last
// variable-length column was dropped in production) are named in Skipped.
func TestClone_storageParameters(t *testing.T) {
	c := pgtest.Require(t)
	prod, staging := c.NewDatabase(t), c.NewDatabase(t)
	pgtest.Exec(t, prod,
		`CREATE SCHEMA toast`,
		`CREATE TABLE toast.menu (id int PRIMARY KEY, name text) WITH (toast.autovacuum_enabled = false)`,
		`CREATE TABLE toast.dropped (id int PRIMARY KEY, note text) WITH (toast.autovacuum_vacuum_cost_delay = 5)`,
		`ALTER TABLE toast.dropped DROP COLUMN note`,
		`CREATE TABLE tuned (id int PRIMARY KEY, note text) WITH (fillfactor = 70, autovacuum_enabled = false, autovacuum_vacuum_scale_factor = 0.01, toast.autovacuum_vacuum_cost_delay = 5)`,
		`CREATE TABLE toast_off (id int PRIMARY KEY, body text) WITH (toast.autovacuum_enabled = false, toast_tuple_target = 256)`,
		`CREATE TABLE plain (id int PRIMARY KEY, body text)`,
		`CREATE TABLE events (id int, at date NOT NULL) PARTITION BY RANGE (at)`,
		`CREATE TABLE events_2026 PARTITION OF events FOR VALUES FROM ('2026-01-01') TO ('2027-01-01') WITH (fillfactor = 90)`,
		`INSERT INTO tuned SELECT g, repeat('x', g) FROM generate_series(1, 100) g`,
		`INSERT INTO toast_off SELECT g, 'b' FROM generate_series(1, 100) g`,
		`INSERT INTO plain SELECT g, 'p' FROM generate_series(1, 100) g`,
		`INSERT INTO events SELECT g, date '2026-01-01' + g FROM generate_series(1, 100) g`)
	res, err := Clone(context.Background(), sourceConfig(t, prod), mustConfig(t, staging), Options{Key: testKey(t, "k")})
	if err != nil {
		t.Fatal(err)
	}
	const q = `SELECT c.relnamespace::regnamespace || '.' || c.relname || ' ' || coalesce(array_to_string(c.reloptions, ','), '-') || ' toast:' ||
	                  coalesce((SELECT array_to_string(t.reloptions, ',') FROM pg_class t WHERE t.oid = c.reltoastrelid), '-')
	           FROM pg_class c WHERE c.relnamespace IN ('public'::regnamespace, 'toast'::regnamespace) AND c.relkind IN ('r', 'p') ORDER BY 1`
	want := queryStrings(t, dial(t, prod), q)
	got := queryStrings(t, dial(t, staging), q)
	if i := slices.Index(want, "toast.dropped - toast:autovacuum_vacuum_cost_delay=5"); i >= 0 {
		want[i] = "toast.dropped - toast:-" // where staging cannot keep them
	} else {
		t.Fatalf("production's toast.dropped is not as the test expects: %q", want)
	}
	if !slices.Equal(got, want) {
		t.Errorf("staging's storage parameters:\n%q\nproduction's:\n%q", got, want)
	}
	var noted []string
	for _, s := range res.Skipped {
		if strings.Contains(s, "TOAST") {
			noted = append(noted, s)
		}
	}
	if len(noted) != 1 || !strings.Contains(noted[0], "toast.dropped (autovacuum_vacuum_cost_delay=5)") {
		t.Errorf("Skipped names the lost TOAST parameters as %q; all: %q", noted, res.Skipped)
	}
	if !slices.Contains(want, "public.plain - toast:-") || !slices.Contains(want, "public.tuned fillfactor=70,autovacuum_enabled=false,autovacuum_vacuum_scale_factor=0.01 toast:autovacuum_vacuum_cost_delay=5") {
		t.Fatalf("the test's production tables are not as it expects: %q", want)
	}
}

// TestStorageParameters: while a table loads, autovacuum is off on it and
// its TOAST table; production's own parameters are kept, quoted.
func TestStorageParameters(t *testing.T) {
	rel := &relation{schema: "s", name: "t", kind: 'r', options: []string{"fillfactor=70", "autovacuum_enabled=true"}, toastOptions: []string{"autovacuum_enabled=false"}}
	want := []string{"fillfactor = '70'", "autovacuum_enabled = false", "toast.autovacuum_enabled = false"}
	if got := storageParameters(rel, nil); !slices.Equal(got, want) {
		t.Errorf("storageParameters = %q, want %q", got, want)
	}
	wantRestore := []string{`ALTER TABLE "s"."t" RESET (autovacuum_enabled, toast.autovacuum_enabled)`,
		`ALTER TABLE "s"."t" SET (fillfactor = '70', autovacuum_enabled = 'true', toast.autovacuum_enabled = 'false')`}
	if got := autovacuumRestore(`"s"."t"`, rel, nil); !slices.Equal(got, wantRestore) {
		t.Errorf("autovacuumRestore = %q, want %q", got, wantRestore)
	}
	parted := &relation{schema: "s", name: "p", kind: 'p'}
	if got := storageParameters(parted, nil); len(got) != 0 {
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
	w := &worker{tgt: conn, parallelSet: -2}
	if err := conn.QueryRow(ctx, `SELECT current_setting('max_parallel_workers_per_gather')::int,
	       current_setting('max_parallel_maintenance_workers')::int`).Scan(&w.maxGather, &w.maxMaintenance); err != nil {
		t.Fatal(err)
	}
	for _, c := range []struct {
		spare               int
		gather, maintenance string
	}{{0, "0", "0"}, {3, "2", "1"}, {1, "1", "1"}, {0, "0", "0"}, {spareAlone, "2", "1"}} {
		if err := w.limitParallel(ctx, c.spare); err != nil {
			t.Fatal(err)
		}
		got := queryStrings(t, conn, `SELECT current_setting('max_parallel_workers_per_gather') || ' ' || current_setting('max_parallel_maintenance_workers')`)
		if want := c.gather + " " + c.maintenance; got[0] != want {
			t.Errorf("spare %d: %s, want %s", c.spare, got[0], want)
		}
	}
}

// TestProbeStorageParameters: parameters the target refuses (unknown to
// it, or a value it does not take, as from a newer production server) are
// left out of the table and its autovacuum restore, and named in Skipped.
func TestProbeStorageParameters(t *testing.T) {
	c := pgtest.Require(t)
	db := c.NewDatabase(t)
	rel := &relation{schema: "public", name: "t", kind: 'r', included: true,
		options:      []string{"fillfactor=70", "future_parameter=on", "autovacuum_enabled=false"},
		toastOptions: []string{"autovacuum_vacuum_cost_delay=5000"}} // above its maximum of 100
	other := &relation{schema: "public", name: "u", kind: 'r', included: true, options: []string{"fillfactor=70"}}
	cl := &cloner{pol: &policy{cat: &catalogState{order: []*relation{rel, other}}}, tgtCoord: dial(t, db)}
	if err := cl.tgtCoord.QueryRow(context.Background(), `SELECT current_setting('server_version_num')::int / 10000`).Scan(&cl.srcMajor); err != nil {
		t.Fatal(err)
	}
	// Source and target of one major version: nothing is probed.
	if err := cl.probeStorageParameters(context.Background()); err != nil || cl.refusedOptions != nil || len(cl.skipped) != 0 {
		t.Fatalf("probe of a same-version target: %v, %q, %q", err, cl.refusedOptions, cl.skipped)
	}
	// As from a newer production server: each set is tried, a refused
	// set item by item, on a login without the TEMPORARY privilege.
	login := pgtest.ReaderDSN(t, db)
	pgtest.Exec(t, db, `REVOKE TEMPORARY ON DATABASE `+dial(t, db).Config().Database+` FROM PUBLIC`,
		`GRANT CREATE ON DATABASE `+dial(t, db).Config().Database+` TO `+dial(t, login).Config().User)
	cl.tgtCoord = dial(t, login)
	if err := cl.probeOptionSets(context.Background(), [][]string{optionItems(rel), optionItems(other)}); err != nil {
		t.Fatal(err)
	}
	if len(cl.refusedOptions) != 2 || cl.refusedOptions["future_parameter = 'on'"] == "" || cl.refusedOptions["toast.autovacuum_vacuum_cost_delay = '5000'"] == "" {
		t.Fatalf("refused %q", cl.refusedOptions)
	}
	want := []string{"fillfactor = '70'", "autovacuum_enabled = false", "toast.autovacuum_enabled = false"}
	if got := storageParameters(rel, cl.refusedOptions); !slices.Equal(got, want) {
		t.Errorf("storageParameters = %q, want %q", got, want)
	}
	wantRestore := []string{`ALTER TABLE t RESET (autovacuum_enabled, toast.autovacuum_enabled)`, `ALTER TABLE t SET (fillfactor = '70', autovacuum_enabled = 'false')`}
	if got := autovacuumRestore("t", rel, cl.refusedOptions); !slices.Equal(got, wantRestore) {
		t.Errorf("autovacuumRestore = %q, want %q", got, wantRestore)
	}
	if len(cl.skipped) != 2 || !strings.Contains(cl.skipped[0], "future_parameter = 'on' of public.t: the staging server refuses it") {
		t.Errorf("skipped %q", cl.skipped)
	}
	// Nothing of the probe is left.
	if n := queryStrings(t, dial(t, db), `SELECT count(*)::text FROM pg_class WHERE relname = 'pgclone_probe'`); n[0] != "0" {
		t.Errorf("%s probe tables left", n[0])
	}
}
