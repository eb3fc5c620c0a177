package pgclone

import (
	"errors"
	"fmt"
	"hash/maphash"
	"math/rand/v2"
	"os"
	"runtime"
	"testing"

	"github.com/stagingkit/terraform-provider-staging/internal/masking"
)

// TestUnchangedTolerance: the tolerance is the Poisson quantile of the
// chance fixed points n/N, not a flat share of the column.
func TestUnchangedTolerance(t *testing.T) {
	for _, tc := range []struct {
		n      int
		domain float64
		want   int
	}{
		{1_000_000, 0, 0},        // domain unknown: nothing unchanged passes
		{10, 1e12, 0},            // λ = 1e-11: P(X > 0) below 1e-9
		{100_000, 1e6, 6},        // λ = 0.1: P(X > 6) ≈ 2e-11, P(X > 5) ≈ 1.4e-9
		{1_000_000, 1e6, 11},     // λ = 1: P(X > 11) ≈ 8e-10
		{1_000_000_000, 1e6, -1}, // λ = 1000: about λ + 6σ
	} {
		got := unchangedTolerance(tc.n, tc.domain)
		if tc.want >= 0 && got != tc.want {
			t.Errorf("unchangedTolerance(%d, %g) = %d, want %d", tc.n, tc.domain, got, tc.want)
		}
		if tc.want < 0 && (got < 1150 || got > 1250) {
			t.Errorf("unchangedTolerance(%d, %g) = %d, want about 1000 + 6·√1000", tc.n, tc.domain, got)
		}
	}
}

// leakColumn runs values through a rowMasker with the leak collector of
// spec, as copyTable does, and returns the collector.
func leakColumn(t testing.TB, spec masking.Spec, values func(yield func(string) bool), budget int) *leakHashes {
	key := testKey(t, "leak")
	tr := mustTransformer(t, spec, key)
	l := newLeakHashes(spec, budget, t.TempDir())
	m := &rowMasker{ncols: 1, seed: maphash.MakeSeed(), masks: []columnMask{{index: 0, t: tr, leak: l}}}
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
	// A rule that forgets one address in 1,000: its output is its input.
	for i := 0; i < 100_000; i += 1000 {
		l.masked[i] = l.prod[i]
		l.unchanged++
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
	t.Logf("%d chance fixed points among %d values (tolerance %d)", l.unchanged, l.total, unchangedTolerance(l.total, l.domain))
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

// randomLeaks fills two collectors (one in memory, one spilling every
// budget bytes) with the same n pairs: a quarter of the masked hashes are
// production hashes of other rows, some are their own row's.
func randomLeaks(n, budget int, dir string) (mem, spill *leakHashes, err error) {
	r := rand.New(rand.NewPCG(1, 2))
	mem = &leakHashes{domain: 1e6}
	spill = &leakHashes{domain: 1e6, budget: budget, dir: dir}
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
		mem.add(p, m, same)
		if err := spill.add(p, m, same); err != nil {
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
	mem, spill, err := randomLeaks(200_000, 4<<10, dir)
	if err != nil {
		t.Fatal(err)
	}
	// A second partition of the same table tree.
	mem2, spill2, err := randomLeaks(30_000, 4<<10, dir)
	if err != nil {
		t.Fatal(err)
	}
	if err := mem.absorb(mem2); err != nil {
		t.Fatal(err)
	}
	all := &leakHashes{budget: 4 << 10, dir: dir}
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
// budget (64 MiB a column): B/op stays near the budget however large n
// is, and peak-heap-MiB is the largest live heap seen.
func BenchmarkLeakCheck(b *testing.B) {
	for _, n := range []int{1_000_000, 10_000_000} {
		b.Run(fmt.Sprint(n), func(b *testing.B) {
			b.ReportAllocs()
			var peak uint64
			for b.Loop() {
				l := &leakHashes{domain: 1e6, dir: b.TempDir()}
				r := rand.New(rand.NewPCG(3, 4))
				for range n {
					if err := l.add(r.Uint64(), r.Uint64(), false); err != nil {
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
