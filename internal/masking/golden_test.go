package masking

import (
	"bufio"
	"crypto/sha256"
	"encoding/hex"
	"flag"
	"fmt"
	"math/rand/v2"
	"os"
	"slices"
	"strconv"
	"strings"
	"testing"
)

var updateGolden = flag.Bool("update-golden", false, "rewrite testdata/golden-outputs.tsv from the current code")

// goldenCases are the transformer configurations whose outputs are frozen:
// every transformer with its default options, and the options and input
// classes that take other paths through FF1 (integers, mixed radix, the
// 128-bit and math/big domains, hashed small domains).
func goldenCases() []struct {
	name string
	spec Spec
	vals func(r *rand.Rand) string
} {
	type c = struct {
		name string
		spec Spec
		vals func(r *rand.Rand) string
	}
	var cs []c
	for _, name := range TransformerNames() {
		name := name
		cs = append(cs, c{name, specFor(name), nil})
	}
	digitStr := func(n int) func(r *rand.Rand) string {
		return func(r *rand.Rand) string {
			b := make([]byte, n)
			for i := range b {
				b[i] = byte('0' + r.IntN(10))
			}
			return string(b)
		}
	}
	cs = append(cs,
		c{"digits/int", Spec{Transformer: "digits"}, func(r *rand.Rand) string {
			return strconv.FormatInt(r.Int64N(1_000_000_000_000)-r.Int64N(1_000_000_000), 10)
		}},
		c{"digits/16", Spec{Transformer: "digits"}, digitStr(16)},
		c{"digits/keep", Spec{Transformer: "digits", Options: map[string]any{"keep_prefix": 2.0, "keep_suffix": 1.0}}, digitStr(12)},
		c{"digits/long", Spec{Transformer: "digits"}, digitStr(45)},
		c{"digits/small_hash", Spec{Transformer: "digits", Options: map[string]any{"small_domain": "hash"}}, digitStr(4)},
		c{"credit_card/no_issuer", Spec{Transformer: "credit_card", Options: map[string]any{"keep_issuer": false}}, gen["credit_card"]},
		c{"format_preserving/hex", Spec{Transformer: "format_preserving", Options: map[string]any{"alphabet": "0123456789abcdef"}}, func(r *rand.Rand) string {
			return fmt.Sprintf("%016x%08x", r.Uint64(), r.Uint32())
		}},
		c{"format_preserving/long", Spec{Transformer: "format_preserving"}, func(r *rand.Rand) string {
			const a = "0123456789abcdefghijklmnopqrstuvwxyzABCDEFGHIJKLMNOPQRSTUVWXYZ"
			b := make([]byte, 40)
			for i := range b {
				b[i] = a[r.IntN(len(a))]
			}
			return string(b)
		}},
		c{"email/long", Spec{Transformer: "email"}, func(r *rand.Rand) string {
			return fmt.Sprintf("first.middle.last.%d.%d@example.org", r.IntN(1e9), r.IntN(1e9))
		}},
	)
	return cs
}

// caseValues returns the i-th input of a configuration: from vals when it
// has its own generator, else the transformer's benchmark values, then
// its generator's values (see gen) when it has one.
func caseValues(transformer string, vals func(r *rand.Rand) string, r *rand.Rand) func(i int) []byte {
	bench := benchValues(transformer)
	return func(i int) []byte {
		if vals != nil {
			return []byte(vals(r))
		}
		if g := gen[transformer]; g != nil && i >= len(bench) {
			return []byte(g(r))
		}
		return bench[i%len(bench)]
	}
}

// TestGoldenOutputs checks that the masked outputs of every transformer are
// the ones frozen in testdata/golden-outputs.tsv: a change of output needs
// a transformer version bump (and a re-copy of every clone), so speed work
// must leave them alone. Each line holds the SHA-256 of 2,000 outputs (and
// error messages) of one configuration and its first output in clear.
func TestGoldenOutputs(t *testing.T) {
	k := testKey(t, "golden")
	got := map[string]string{}
	for _, gc := range goldenCases() {
		tr := mustNew(t, gc.spec, k)
		r := rand.New(rand.NewPCG(10, 10))
		next := caseValues(gc.spec.Transformer, gc.vals, r)
		h := sha256.New()
		first := ""
		for i := range 2000 {
			v := next(i)
			out, null, err := Apply(tr, nil, v, false)
			line := fmt.Sprintf("%q\t%q\t%v\t%v\n", v, out, null, err)
			if i == 0 {
				first = fmt.Sprintf("%q->%q", v, out)
			}
			h.Write([]byte(line))
		}
		got[gc.name] = hex.EncodeToString(h.Sum(nil)) + "\t" + first
	}
	path := "testdata/golden-outputs.tsv"
	if *updateGolden {
		var b strings.Builder
		b.WriteString("# configuration\tSHA-256 of 2,000 outputs\tfirst input->output (go test -run TestGoldenOutputs -update-golden rewrites this file)\n")
		for _, name := range slices.Sorted(func(yield func(string) bool) {
			for n := range got {
				if !yield(n) {
					return
				}
			}
		}) {
			fmt.Fprintf(&b, "%s\t%s\n", name, got[name])
		}
		if err := os.WriteFile(path, []byte(b.String()), 0o644); err != nil {
			t.Fatal(err)
		}
		return
	}
	f, err := os.Open(path)
	if err != nil {
		t.Fatal(err)
	}
	defer f.Close()
	want := map[string]string{}
	sc := bufio.NewScanner(f)
	for sc.Scan() {
		if strings.HasPrefix(sc.Text(), "#") {
			continue
		}
		name, rest, _ := strings.Cut(sc.Text(), "\t")
		want[name] = rest
	}
	if err := sc.Err(); err != nil {
		t.Fatal(err)
	}
	for name, g := range got {
		w, ok := want[name]
		switch {
		case !ok:
			t.Errorf("%s: not in %s (run with -update-golden once the outputs are right)", name, path)
		case g != w:
			t.Errorf("%s: outputs changed:\n got %s\nwant %s", name, g, w)
		}
	}
	for name := range want {
		if _, ok := got[name]; !ok {
			t.Errorf("%s: in %s but no longer tested", name, path)
		}
	}
}
