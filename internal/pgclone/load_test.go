package pgclone

import (
	"context"
	"errors"
	"fmt"
	"strings"
	"sync"
	"sync/atomic"
	"testing"
	"time"

	"github.com/stagingkit/terraform-provider-staging/internal/masking"
	"github.com/stagingkit/terraform-provider-staging/internal/pgtest"
)

// traceLog collects the tasks a clone ran.
type traceLog struct {
	mu    sync.Mutex
	ended []taskTrace
	// onStart, when set, is called as a task starts (outside the lock).
	onStart func(taskTrace)
}

func (l *traceLog) record(tt taskTrace) {
	if tt.End.IsZero() {
		if l.onStart != nil {
			l.onStart(tt)
		}
		return
	}
	l.mu.Lock()
	defer l.mu.Unlock()
	l.ended = append(l.ended, tt)
}

// copies are the copy tasks of table (its ranges).
func (l *traceLog) copies(table string) []taskTrace {
	l.mu.Lock()
	defer l.mu.Unlock()
	var out []taskTrace
	for _, tt := range l.ended {
		if tt.Kind == taskCopy && (tt.Name == table || strings.HasPrefix(tt.Name, table+" (")) {
			out = append(out, tt)
		}
	}
	return out
}

// tableDigest is the row count and a digest of the rows of table.
func tableDigest(t testing.TB, dsn, table string) string {
	t.Helper()
	return queryString(t, dial(t, dsn), fmt.Sprintf(`SELECT count(*) || ':' || coalesce(md5(string_agg(x::text, '|' ORDER BY x::text)), '') FROM %s x`, table))
}

// TestClone_rangeSplit: a one-table database is copied by both workers, in
// ranges of pages of about equal size, and the copy is exactly the one a
// single worker makes of the whole table: same rows, same masked values,
// one result for the table, every range's values in the leak check.
func TestClone_rangeSplit(t *testing.T) {
	ctx := context.Background()
	cluster := pgtest.Require(t)
	prod := cluster.NewDatabase(t)
	pgtest.Exec(t, prod,
		`CREATE TABLE people (id int PRIMARY KEY, email text NOT NULL UNIQUE, phone text, note text NOT NULL)`,
		`INSERT INTO people SELECT g, 'person' || g || '@example.com', CASE WHEN g % 9 = 0 THEN NULL ELSE '+49 30 ' || (1000000 + g) END,
			repeat('n', g % 40) FROM generate_series(1, 40000) g`,
		`VACUUM ANALYZE people`)
	rules := []ColumnRule{
		{Table: "people", Column: "email", Spec: masking.Spec{Transformer: "email"}},
		{Table: "people", Column: "phone", Spec: masking.Spec{Transformer: "phone"}},
	}
	pages := queryString(t, dial(t, prod), `SELECT (pg_relation_size('people') / current_setting('block_size')::int)::text`)

	// One worker, whole table: the reference.
	single := cluster.NewDatabase(t)
	var singleLog traceLog
	ref, err := Clone(ctx, sourceConfig(t, prod), mustConfig(t, single), Options{Rules: rules, Key: testKey(t, "ranges"), Parallelism: 1, trace: singleLog.record})
	if err != nil {
		t.Fatal(err)
	}
	if n := len(singleLog.copies("public.people")); n != 1 {
		t.Fatalf("one worker copied people in %d streams", n)
	}

	// Two workers, ranges of 20 pages (capped at 4 per worker).
	split := cluster.NewDatabase(t)
	var log traceLog
	var progress progressLog
	res, err := Clone(ctx, sourceConfig(t, prod), mustConfig(t, split), Options{Rules: rules, Key: testKey(t, "ranges"), Parallelism: 2,
		chunkPages: 20, trace: log.record, Progress: progress.report, progressInterval: time.Millisecond})
	if err != nil {
		t.Fatal(err)
	}
	ranges := log.copies("public.people")
	if len(ranges) != 8 {
		t.Fatalf("%s pages in %d ranges, want 8 (4 per worker)", pages, len(ranges))
	}
	perWorker := map[int]int64{}
	var sum int64
	for _, r := range ranges {
		perWorker[r.Worker] += r.Rows
		sum += r.Rows
		// Ranges of equal pages hold about equal rows.
		if r.Rows < 40000/8/2 || r.Rows > 40000/8*3/2 {
			t.Errorf("range %s copied %d rows, want about %d", r.Name, r.Rows, 40000/8)
		}
	}
	if sum != 40000 {
		t.Errorf("the ranges copied %d rows, want 40000", sum)
	}
	// Both workers shared the table: each copied at least a quarter.
	for w := range 2 {
		if perWorker[w] < 40000/4 {
			t.Errorf("worker %d copied %d of 40000 rows (per worker: %v)", w, perWorker[w], perWorker)
		}
	}
	t.Logf("%s pages, rows per worker %v", pages, perWorker)

	// The same copy as one worker's, masked.
	if a, b := tableDigest(t, single, "people"), tableDigest(t, split, "people"); a != b {
		t.Errorf("split copy differs from the single-worker copy:\n%s\n%s", a, b)
	}
	if a, b := tableDigest(t, prod, "people"), tableDigest(t, split, "people"); a == b {
		t.Error("staging equals production: nothing was masked")
	}
	// Bytes are summed too: each range's binary stream adds its own
	// 19-byte header and 2-byte trailer.
	if d := res.Tables[0].Bytes - ref.Tables[0].Bytes; len(res.Tables) != 1 || res.Tables[0].Rows != 40000 || d < 0 || d > 21*int64(len(ranges)-1) {
		t.Errorf("results %+v, want one table of 40000 rows and %d bytes", res.Tables, ref.Tables[0].Bytes)
	}
	// The table's progress sums its ranges: the last report is done with
	// every row.
	if done := progress.done["public.people"]; !done.Done || done.Rows != 40000 || done.Percent != 100 || done.Remaining != 0 {
		t.Errorf("last progress report %+v", done)
	}

	// The leak check saw every range's values: an unmasked phone column
	// fails it with every value counted.
	leaky := slicesClone(rules)
	leaky[1].Spec = masking.Spec{Transformer: "regex_replace", Options: map[string]any{"pattern": "^never$", "replacement": "x"}}
	_, err = Clone(ctx, sourceConfig(t, prod), mustConfig(t, split), Options{Rules: leaky, Key: testKey(t, "ranges"), Parallelism: 2, chunkPages: 20})
	var le *LeakError
	if want := 40000 - 40000/9; !errors.As(err, &le) || le.Leaks[0].Count != want || le.Leaks[0].Total != want {
		t.Errorf("err = %v, want a leak of %d phones", err, want)
	}
	if a, b := tableDigest(t, single, "people"), tableDigest(t, split, "people"); a != b {
		t.Error("the failed clone changed staging")
	}

	// PostgreSQL reads a range with a TID Range Scan, not the whole table.
	plan := strings.Join(queryStrings(t, dial(t, prod), `EXPLAIN SELECT * FROM people AS x WHERE `+(tidRange{from: 10, to: 20}).condition("x")), "\n")
	if !strings.Contains(plan, "Tid Range Scan") {
		t.Errorf("a range is read by:\n%s", plan)
	}
}

// TestClone_rangeSplitSubsetPartitions: ranges of leaf partitions, under a
// subset filter, with a masked partition key that moves rows to other
// partitions, copy exactly what a single worker copies.
func TestClone_rangeSplitSubsetPartitions(t *testing.T) {
	ctx := context.Background()
	cluster := pgtest.Require(t)
	prod := cluster.NewDatabase(t)
	pgtest.Exec(t, prod, partitionSchema...)
	opts := func(parallelism int, log *traceLog) Options {
		return Options{Rules: partitionRules, Key: testKey(t, "partitions"), Parallelism: parallelism, chunkPages: 1, trace: log.record,
			Subset: SubsetOptions{Subsets: []Subset{{Table: "customers", Percent: 40}}, Seed: "s"}}
	}
	single, split := cluster.NewDatabase(t), cluster.NewDatabase(t)
	var singleLog, splitLog traceLog
	if _, err := Clone(ctx, sourceConfig(t, prod), mustConfig(t, single), opts(1, &singleLog)); err != nil {
		t.Fatal(err)
	}
	res, err := Clone(ctx, sourceConfig(t, prod), mustConfig(t, split), opts(2, &splitLog))
	if err != nil {
		t.Fatal(err)
	}
	// A filtered partition and a partition whose masked key routes its
	// rows through the root were both split.
	for _, table := range []string{"public.payments_2024_01", "public.sales_2024_h2", "public.rentals"} {
		if n := len(splitLog.copies(table)); n < 2 {
			t.Errorf("%s was copied in %d ranges", table, n)
		}
	}
	for _, table := range []string{"customers", "rentals", "payments", "payments_2024_01", "sales", "sales_2024_h1", "sales_2024_h2"} {
		if a, b := tableDigest(t, single, table), tableDigest(t, split, table); a != b {
			t.Errorf("%s: split copy %s, single-worker copy %s", table, b, a)
		}
	}
	if got := tableDigest(t, split, "customers"); strings.HasPrefix(got, "200:") || strings.HasPrefix(got, "0:") {
		t.Errorf("customers %s: the subset did not apply", got)
	}
	names := map[string]bool{}
	for _, tr := range res.Tables {
		if names[tr.Name] {
			t.Errorf("%s has two results", tr.Name)
		}
		names[tr.Name] = true
	}
}

// TestClone_foreignKeyBeforeLastCopy: a foreign key between two small
// tables is added and validated while a big table is still being copied
// (the big copy waits, in the test, until it is), and a foreign key that
// production's rows violate still fails the clone and leaves staging as
// it was.
func TestClone_foreignKeyBeforeLastCopy(t *testing.T) {
	ctx := context.Background()
	cluster := pgtest.Require(t)
	prod, staging := cluster.NewDatabase(t), cluster.NewDatabase(t)
	pgtest.Exec(t, prod,
		`CREATE TABLE parents (id int PRIMARY KEY, name text NOT NULL)`,
		`CREATE TABLE children (id int PRIMARY KEY, parent_id int NOT NULL REFERENCES parents, label text NOT NULL)`,
		`CREATE INDEX children_parent ON children (parent_id)`,
		`CREATE TABLE big (id int PRIMARY KEY, payload text NOT NULL)`,
		`INSERT INTO parents SELECT g, 'p' || g FROM generate_series(1, 100) g`,
		`INSERT INTO children SELECT g, 1 + g % 100, 'c' || g FROM generate_series(1, 1000) g`,
		`INSERT INTO big SELECT g, repeat('x', 100) FROM generate_series(1, 20000) g`)
	rules := []ColumnRule{{Table: "parents", Column: "name", Spec: masking.Spec{Transformer: "keep"}}}

	validated := make(chan struct{})
	var once sync.Once
	var log traceLog
	var bigWaited time.Duration
	log.onStart = func(tt taskTrace) {
		if tt.Kind == taskCopy && tt.Name == "public.big" {
			start := time.Now()
			select {
			case <-validated:
			case <-time.After(30 * time.Second):
			}
			bigWaited = time.Since(start)
		}
	}
	trace := func(tt taskTrace) {
		log.record(tt)
		if tt.Kind == taskValidate && !tt.End.IsZero() && tt.Err == nil {
			once.Do(func() { close(validated) })
		}
	}
	res, err := Clone(ctx, sourceConfig(t, prod), mustConfig(t, staging), Options{Rules: rules, Key: testKey(t, "fk"), Parallelism: 2, trace: trace})
	if err != nil {
		t.Fatal(err)
	}
	var validateEnd, bigEnd time.Time
	for _, tt := range log.ended {
		switch {
		case tt.Kind == taskValidate:
			validateEnd = tt.End
		case tt.Kind == taskCopy && tt.Name == "public.big":
			bigEnd = tt.End
		}
	}
	if validateEnd.IsZero() || bigEnd.IsZero() || !validateEnd.Before(bigEnd) || bigWaited >= 30*time.Second {
		t.Fatalf("the foreign key was validated at %v, the big table's copy ended at %v (it waited %s for the validation)", validateEnd, bigEnd, bigWaited)
	}
	if got := queryString(t, dial(t, staging), `SELECT string_agg(conname || ':' || convalidated, ',') FROM pg_constraint WHERE contype = 'f'`); got != "children_parent_id_fkey:true" {
		t.Errorf("foreign keys in staging: %s", got)
	}
	// The phases overlap honestly: the foreign keys ran inside the copy's
	// wall interval, and the copy's busy time is summed over workers.
	phases := map[string]Phase{}
	for _, p := range res.Phases {
		phases[p.Key] = p
	}
	for _, k := range []string{PhaseAnalysis, PhaseSchema, PhaseCopy, PhaseIndexes, PhaseForeignKeys, PhaseLeakCheck, PhasePostData, PhaseSwap} {
		if _, ok := phases[k]; !ok {
			t.Errorf("no phase %q in %+v", k, res.Phases)
		}
	}
	cp, fk := phases[PhaseCopy], phases[PhaseForeignKeys]
	if fk.Start < cp.Start || fk.Start+fk.Duration > cp.Start+cp.Duration || cp.Duration != res.DataDuration {
		t.Errorf("copy phase %+v, foreign keys %+v, data %s: the foreign keys should run inside the copy", cp, fk, res.DataDuration)
	}

	// Rows that break the foreign key (inserted with triggers off, as a
	// replica or a restore may) fail the clone at the validation.
	before := tableDigest(t, staging, "children")
	pgtest.Exec(t, prod, `SET session_replication_role = replica`, `INSERT INTO children VALUES (5000, 4242, 'orphan')`)
	_, err = Clone(ctx, sourceConfig(t, prod), mustConfig(t, staging), Options{Rules: rules, Key: testKey(t, "fk"), Parallelism: 2})
	if err == nil || !strings.Contains(err.Error(), "validating foreign keys") || !strings.Contains(err.Error(), "23503") {
		t.Fatalf("err = %v, want the foreign key's violation", err)
	}
	if after := tableDigest(t, staging, "children"); after != before {
		t.Error("the failed clone changed staging")
	}
	if s := shadowSchemas(t, dial(t, staging)); len(s) > 0 {
		t.Errorf("shadow schemas left: %v", s)
	}
}

// TestClone_onlyTablesWhoseLoadRunsCode: when every table's load runs user
// code (a domain CHECK calling a function), the first wave is empty and
// its barrier is done at once; releasing it once made the copy ready
// twice, two workers copied the table, and its primary key failed.
func TestClone_onlyTablesWhoseLoadRunsCode(t *testing.T) {
	c := pgtest.Require(t)
	prod, staging := c.NewDatabase(t), c.NewDatabase(t)
	pgtest.Exec(t, prod, `CREATE FUNCTION code_ok(v text) RETURNS boolean LANGUAGE sql STABLE AS $$ SELECT v ~ '^[0-9]+$' $$`,
		`CREATE DOMAIN code AS text CHECK (code_ok(VALUE))`,
		`CREATE TABLE people (id int PRIMARY KEY, nickname text NOT NULL, badge code)`,
		`INSERT INTO people SELECT g, 'n' || g, g::text FROM generate_series(1, 100) g`)
	var copies atomic.Int64
	res, err := Clone(context.Background(), sourceConfig(t, prod), mustConfig(t, staging), Options{Key: testKey(t, "k"), Parallelism: 2,
		Rules: []ColumnRule{{Table: "people", Column: "nickname", Spec: masking.Spec{Transformer: "keep"}}},
		trace: func(tt taskTrace) {
			if tt.Kind == taskCopy && tt.End.IsZero() {
				copies.Add(1)
			}
		}})
	if err != nil {
		t.Fatal(err)
	}
	if n := copies.Load(); n != 1 || len(res.Tables) != 1 || res.Tables[0].Rows != 100 {
		t.Fatalf("%d copies of people, results %+v: want one copy of 100 rows", n, res.Tables)
	}
}
