package pgclone

import (
	"context"
	"errors"
	"fmt"
	"hash/maphash"
	"math"
	"math/rand/v2"
	"os"
	"runtime"
	"strings"
	"sync"
	"testing"

	"github.com/stagingkit/terraform-provider-staging/internal/masking"
	"github.com/stagingkit/terraform-provider-staging/internal/pgtest"
)

// TestUnchangedTolerance: the tolerance is the Poisson quantile at 1e-9 of
// the expected chance fixed points λ = Σ 1/N, not a flat share of the
// column.
func TestUnchangedTolerance(t *testing.T) {
	for _, tc := range []struct {
		lambda float64
		want   int
	}{
		{0, 0},           // no keyed permutation: nothing unchanged passes
		{1e-11, 0},       // 10 values in 10^12: P(X > 0) below 1e-9
		{1e6 * 1e-26, 0}, // a million e-mails with 20-letter local parts
		{0.01, 3},        // 10,000 values in 10^6: P(X > 3) ≈ 4e-10, P(X > 2) ≈ 1.6e-7
		{0.1, 6},         // P(X > 6) ≈ 2e-11, P(X > 5) ≈ 1.4e-9
		{1, 11},          // P(X > 11) ≈ 8e-10
		{1000, -1},       // about λ + 6σ
	} {
		got := unchangedTolerance(tc.lambda)
		if tc.want >= 0 && got != tc.want {
			t.Errorf("unchangedTolerance(%g) = %d, want %d", tc.lambda, got, tc.want)
		}
		if tc.want < 0 && (got < 1150 || got > 1250) {
			t.Errorf("unchangedTolerance(%g) = %d, want about 1000 + 6·√1000", tc.lambda, got)
		}
	}
}

// leakColumn runs values through a rowMasker with the leak collector of
// spec, as copyTable does, and returns the collector.
func leakColumn(t testing.TB, spec masking.Spec, values func(yield func(string) bool), budget int) *leakHashes {
	key := testKey(t, "leak")
	mt, err := masking.NewMetered(spec, key)
	if err != nil {
		t.Fatal(err)
	}
	l := newLeakMemory(budget, t.TempDir()).collector()
	m := &rowMasker{ncols: 1, seed: maphash.MakeSeed(), masks: []columnMask{{index: 0, t: mt, metered: mt, leak: l}}}
	var out []byte
	for v := range values {
		var err error
		if out, err = m.appendLine(out[:0], []byte(v)); err != nil {
			t.Fatalf("%q: %v", v, err)
		}
	}
	return l
}

// TestLeakCheck_emailOneInAThousandFails: an e-mail rule that leaves one
// address in 1,000 as it was fails the clone (the flat 0.1% tolerance let
// it through): e-mails are permuted among at least 10^6 values, so chance
// explains at most 6 unchanged of 100,000.
func TestLeakCheck_emailOneInAThousandFails(t *testing.T) {
	spec := masking.Spec{Transformer: "email"}
	l := leakColumn(t, spec, func(yield func(string) bool) {
		for i := range 100_000 {
			if !yield(fmt.Sprintf("user%06d@example.com", i)) {
				return
			}
		}
	}, 0)
	if l.unchanged != 0 || l.total != 100_000 {
		t.Fatalf("email left %d of %d unchanged", l.unchanged, l.total)
	}
	// user012345: 26^4·10^6 local parts; a hundred thousand of them are
	// expected to have 100,000/(26^4·10^6) ≈ 2e-7 chance fixed points.
	if l.expected < 1e-7 || l.expected > 1e-6 || unchangedTolerance(l.expected) != 1 {
		t.Fatalf("expected %g chance fixed points, tolerance %d", l.expected, unchangedTolerance(l.expected))
	}
	// A rule that forgets one address in 1,000: its output is its input.
	for i := 0; i < 100_000; i += 1000 {
		l.masked[i] = l.prod[i]
		l.unchanged++
		l.addFixed(l.prod[i])
	}
	c := &cloner{leaks: map[string]*leakHashes{"public.users.email": l}}
	var le *LeakError
	if err := c.leakCheck(); !errors.As(err, &le) || le.Leaks[0].Count != 100 || le.Leaks[0].Total != 100_000 {
		t.Fatalf("leakCheck = %v, want public.users.email: 100 of 100000", err)
	}
}

// TestLeakCheck_densePhonePermutationPasses: masking every 7-digit phone
// number of one shape (a dense space, where a keyed permutation has chance
// fixed points) passes.
func TestLeakCheck_densePhonePermutationPasses(t *testing.T) {
	if testing.Short() {
		t.Skip("a million FF1 encryptions")
	}
	spec := masking.Spec{Transformer: "digits"}
	// "0" and six digits: the leading zero is kept and the six others are
	// one FF1 domain of exactly 10^6 values, all of them masked here.
	l := leakColumn(t, spec, func(yield func(string) bool) {
		for i := range 1_000_000 {
			if !yield(fmt.Sprintf("0%06d", i)) {
				return
			}
		}
	}, 0)
	t.Logf("%d chance fixed points among %d values (expected %g, tolerance %d)", l.unchanged, l.total, l.expected, unchangedTolerance(l.expected))
	if math.Abs(l.expected-1) > 1e-6 {
		t.Fatalf("expected %g chance fixed points, want 1 (10^6 values in 10^6)", l.expected)
	}
	if l.unchanged == 0 {
		t.Fatal("no chance fixed point: pick a key under which the permutation has some, so the tolerance is exercised")
	}
	c := &cloner{leaks: map[string]*leakHashes{"public.people.phone": l}}
	if err := c.leakCheck(); err != nil {
		t.Fatal(err)
	}
	// Every masked value is some production value, and the tolerated
	// fixed points are reported with the coincidences.
	if got := c.coincidental["public.people.phone"]; got != 1_000_000 {
		t.Errorf("coincidental = %d, want 1000000", got)
	}
}

// randomLeaks fills two collectors (one on memB, one on spillB) with the
// same n pairs: a quarter of the masked hashes are production hashes of
// other rows, some are their own row's.
func randomLeaks(n int, memB, spillB *leakMemory) (mem, spill *leakHashes, err error) {
	r := rand.New(rand.NewPCG(1, 2))
	mem = memB.collector()
	spill = spillB.collector()
	prods := make([]uint64, 0, n)
	for i := range n {
		p := r.Uint64()
		prods = append(prods, p)
		m := r.Uint64()
		same := false
		switch {
		case i%4 == 1:
			m = prods[r.IntN(len(prods))]
		case i%10000 == 7:
			m, same = p, true
		}
		_ = mem.addHashes(p, m, same, 1e-6)
		if err := spill.addHashes(p, m, same, 1e-6); err != nil {
			return nil, nil, err
		}
	}
	return mem, spill, nil
}

// TestLeakCheck_spilledEqualsInMemory: with a budget of 4 KiB the hashes go
// to disk in hundreds of sorted runs, merged across partitions; the result
// equals the in-memory check's, and the runs are removed.
func TestLeakCheck_spilledEqualsInMemory(t *testing.T) {
	dir := t.TempDir()
	memB, spillB := newLeakMemory(0, dir), newLeakMemory(4<<10, dir)
	mem, spill, err := randomLeaks(200_000, memB, spillB)
	if err != nil {
		t.Fatal(err)
	}
	// A second partition of the same table tree.
	mem2, spill2, err := randomLeaks(30_000, memB, spillB)
	if err != nil {
		t.Fatal(err)
	}
	if err := mem.absorb(mem2); err != nil {
		t.Fatal(err)
	}
	all := spillB.collector()
	for _, l := range []*leakHashes{spill, spill2} {
		if err := all.absorb(l); err != nil {
			t.Fatal(err)
		}
	}
	if len(all.prodRuns) < 100 || len(all.prod)*8 > 4<<10 {
		t.Fatalf("%d runs, %d hashes in memory: the budget did not force spills", len(all.prodRuns), len(all.prod))
	}
	if len(mem.prodRuns) != 0 {
		t.Fatal("the default budget spilled 230,000 hashes")
	}
	cm := &cloner{leaks: map[string]*leakHashes{"public.t.c": mem}}
	cs := &cloner{leaks: map[string]*leakHashes{"public.t.c": all}}
	errM, errS := cm.leakCheck(), cs.leakCheck()
	if fmt.Sprint(errM) != fmt.Sprint(errS) || fmt.Sprint(cm.coincidental) != fmt.Sprint(cs.coincidental) {
		t.Fatalf("in memory: %v %v; spilled: %v %v", errM, cm.coincidental, errS, cs.coincidental)
	}
	var le *LeakError
	if !errors.As(errS, &le) || le.Leaks[0].Count != 23 || le.Leaks[0].Total != 230_000 || cs.coincidental["public.t.c"] < 57_000 {
		t.Fatalf("spilled check: %v, coincidental %v", errS, cs.coincidental)
	}
	if files, _ := os.ReadDir(dir); len(files) != 0 {
		t.Errorf("%d runs left after the check", len(files))
	}
}

// BenchmarkLeakCheck collects and checks n hash pairs with the default
// budget (96 MiB for the clone): B/op stays near the budget however large n
// is, and peak-heap-MiB is the largest live heap seen.
func BenchmarkLeakCheck(b *testing.B) {
	for _, n := range []int{1_000_000, 10_000_000} {
		b.Run(fmt.Sprint(n), func(b *testing.B) {
			b.ReportAllocs()
			var peak uint64
			for b.Loop() {
				l := newLeakMemory(0, b.TempDir()).collector()
				r := rand.New(rand.NewPCG(3, 4))
				for range n {
					if err := l.addHashes(r.Uint64(), r.Uint64(), false, 1e-6); err != nil {
						b.Fatal(err)
					}
				}
				var ms runtime.MemStats
				runtime.ReadMemStats(&ms)
				peak = max(peak, ms.HeapInuse)
				c := &cloner{leaks: map[string]*leakHashes{"t.c": l}}
				if err := c.leakCheck(); err != nil {
					b.Fatal(err)
				}
			}
			b.ReportMetric(float64(peak)/(1<<20), "peak-heap-MiB")
			b.ReportMetric(float64(n), "hashes")
		})
	}
}

// leakingTransformer masks as its transformer does, except the values in
// leak, which it leaves as they are: a broken rule, made on purpose.
type leakingTransformer struct {
	masking.Transformer
	leak map[string]bool
}

func (l leakingTransformer) Transform(dst, src []byte) ([]byte, error) {
	n := len(dst)
	out, err := l.Transformer.Transform(dst, src) // a metered transformer measures src
	if l.leak[string(src)] {
		return append(out[:n], src...), nil
	}
	return out, err
}

// TestLeakCheck_cloneFailsOnOneEmail: in a 10,000-row e-mail column, one
// address that masking leaves as it was fails the clone, naming the column
// and not the address (e-mail local parts are permuted among so many
// values that chance explains no fixed point at all); in a dense column of
// the same table (seven digits, a leading zero kept: 10^6 values, so 0.01
// chance fixed points expected and up to 3 tolerated) two unchanged values
// pass.
func TestLeakCheck_cloneFailsOnOneEmail(t *testing.T) {
	c := pgtest.Require(t)
	prod, staging := c.NewDatabase(t), c.NewDatabase(t)
	pgtest.Exec(t, prod,
		`CREATE TABLE people (id int PRIMARY KEY, email text NOT NULL, code text NOT NULL)`,
		`INSERT INTO people SELECT g, 'customer' || g || '.' || substr(md5(g::text), 1, 12) || '@example.com',
		        '0' || lpad((g * 7919 % 1000000)::text, 6, '0')
		   FROM generate_series(1, 10000) g`)
	leaked := queryString(t, dial(t, prod), `SELECT email FROM people WHERE id = 4321`)
	codes := queryStrings(t, dial(t, prod), `SELECT code FROM people WHERE id IN (17, 9000) ORDER BY id`)
	leakTestHook = func(tr masking.Transformer) masking.Transformer {
		return leakingTransformer{tr, map[string]bool{leaked: true, codes[0]: true, codes[1]: true}}
	}
	defer func() { leakTestHook = nil }()
	rules := []ColumnRule{
		{Table: "people", Column: "email", Spec: masking.Spec{Transformer: "email"}},
		{Table: "people", Column: "code", Spec: masking.Spec{Transformer: "digits"}},
	}
	_, err := Clone(context.Background(), sourceConfig(t, prod), mustConfig(t, staging), Options{Key: testKey(t, "k"), Rules: rules})
	var le *LeakError
	if !errors.As(err, &le) || len(le.Leaks) != 1 || le.Leaks[0] != (Leak{Column: "public.people.email", Count: 1, Total: 10000}) {
		t.Fatalf("err = %v; want one leak: public.people.email, 1 of 10000", err)
	}
	if strings.Contains(err.Error(), leaked) || strings.Contains(err.Error(), "customer4321") {
		t.Errorf("the error names the leaked value: %v", err)
	}
	if s := shadowSchemas(t, dial(t, staging)); len(s) > 0 {
		t.Errorf("shadow schemas left: %v", s)
	}

	// Without the leaking address, the clone succeeds with two unchanged
	// codes, and they are in staging.
	leakTestHook = func(tr masking.Transformer) masking.Transformer {
		return leakingTransformer{tr, map[string]bool{codes[0]: true, codes[1]: true}}
	}
	if _, err := Clone(context.Background(), sourceConfig(t, prod), mustConfig(t, staging), Options{Key: testKey(t, "k"), Rules: rules}); err != nil {
		t.Fatal(err)
	}
	if got := queryString(t, dial(t, staging), `SELECT count(*)::text FROM people WHERE code IN ($1, $2)`, codes[0], codes[1]); got != "2" {
		t.Errorf("%s of the 2 unchanged codes in staging", got)
	}
}

// TestLeakCheck_globalBudget: six columns, each copied by three concurrent
// COPY streams that hand their hashes to the column's collector when they
// end (as copyTable and absorbLeaks do), share one budget of 64 KiB. The
// budget is never exceeded, the largest sets are spilled (those of other
// streams too), and the check finds exactly what it finds with all hashes
// in memory.
func TestLeakCheck_globalBudget(t *testing.T) {
	const cols, streams, n = 6, 3, 30_000
	run := func(mem *leakMemory) *cloner {
		c := &cloner{leaks: map[string]*leakHashes{}}
		var mu sync.Mutex // c.mu
		var wg sync.WaitGroup
		errs := make(chan error, cols*streams)
		for col := range cols {
			key := fmt.Sprintf("public.t.c%d", col)
			c.leaks[key] = mem.collector()
			for s := range streams {
				wg.Go(func() {
					l := mem.collector()
					r := rand.New(rand.NewPCG(uint64(col), uint64(s)))
					prods := make([]uint64, 0, n)
					for i := range n {
						p, m, same := r.Uint64(), r.Uint64(), false
						prods = append(prods, p)
						switch {
						case i%4 == 1:
							m = prods[r.IntN(len(prods))]
						case i%7919 == 7: // 3 times in 30,000 (once i%4 == 1)
							m, same = p, true
						}
						if err := l.addHashes(p, m, same, 1e-6); err != nil {
							errs <- err
							return
						}
					}
					mu.Lock()
					defer mu.Unlock()
					if err := c.leaks[key].absorb(l); err != nil {
						errs <- err
					}
				})
			}
		}
		wg.Wait()
		close(errs)
		for err := range errs {
			t.Fatal(err)
		}
		return c
	}
	dir := t.TempDir()
	small, large := newLeakMemory(64<<10, dir), newLeakMemory(1<<30, dir)
	cs, cl := run(small), run(large)
	runs := 0
	for _, l := range cs.leaks {
		runs += len(l.prodRuns)
	}
	t.Logf("64 KiB: %d spills, %d runs, peak %d bytes; 1 GiB: %d spills", small.spills, runs, small.peak, large.spills)
	if small.spills < 50 || runs < 50 || large.spills != 0 {
		t.Fatalf("%d spills into %d runs under 64 KiB, %d under 1 GiB: the budget did not force spills", small.spills, runs, large.spills)
	}
	if small.peak > small.limit {
		t.Fatalf("peak %d bytes over the %d budget", small.peak, small.limit)
	}
	errS, errL := cs.leakCheck(), cl.leakCheck()
	if fmt.Sprint(errS) != fmt.Sprint(errL) || fmt.Sprint(cs.coincidental) != fmt.Sprint(cl.coincidental) {
		t.Fatalf("spilled: %v %v; in memory: %v %v", errS, cs.coincidental, errL, cl.coincidental)
	}
	var le *LeakError
	if !errors.As(errS, &le) || len(le.Leaks) != cols || le.Leaks[0].Count != streams*3 || len(cs.coincidental) != cols {
		t.Fatalf("check: %v, coincidental %v", errS, cs.coincidental)
	}
	if files, _ := os.ReadDir(dir); len(files) != 0 {
		t.Errorf("%d runs left after the check", len(files))
	}
}

// TestLeakCheck_repeatedFixedPoint: a keyed permutation fixes values, not
// rows. Under this key digits maps 7340881 to itself; on 20 of 5,000 rows
// that is one chance fixed point, within the tolerance, where counting
// rows failed every clone of the table.
func TestLeakCheck_repeatedFixedPoint(t *testing.T) {
	key := testKey(t, "fp")
	tr, err := masking.New(masking.Spec{Transformer: "digits"}, key)
	if err != nil {
		t.Fatal(err)
	}
	if out, err := masking.MaskString(tr, "7340881"); err != nil || out != "7340881" {
		t.Fatalf("the fixture's fixed point: digits masks 7340881 to %q (%v) under this key", out, err)
	}
	c := pgtest.Require(t)
	prod, staging := c.NewDatabase(t), c.NewDatabase(t)
	pgtest.Exec(t, prod,
		`CREATE TABLE orders (id int PRIMARY KEY, customer_ref bigint NOT NULL)`,
		`INSERT INTO orders SELECT g, CASE WHEN g % 250 = 0 THEN 7340881 ELSE 20000000 + g * 7919 END FROM generate_series(1, 5000) g`)
	rules := []ColumnRule{{Table: "orders", Column: "customer_ref", Spec: masking.Spec{Transformer: "digits"}}}
	if _, err := Clone(context.Background(), sourceConfig(t, prod), mustConfig(t, staging), Options{Key: key, Rules: rules}); err != nil {
		t.Fatalf("one value fixed by chance on 20 rows failed the clone: %v", err)
	}
	if got := queryString(t, dial(t, staging), `SELECT count(*)::text FROM orders WHERE customer_ref = 7340881`); got != "20" {
		t.Errorf("%s rows keep 7340881, want 20", got)
	}
}
