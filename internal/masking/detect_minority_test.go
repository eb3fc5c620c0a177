package masking

import (
	"fmt"
	"math/rand/v2"
	"testing"
)

// TestDetect_StrongMinorities is second-review item A: a minority of card
// numbers, SSNs or person names in a column without a telling name
// (rv.mix2.card 33%, rv.mix2.nat 50%, rv.mix.info 33%, the rest
// placeholders) is flagged, and look-alikes are not.
func TestDetect_StrongMinorities(t *testing.T) {
	mix := func(every, n int, hit func(i int) string, other string) []string {
		var out []string
		for i := range n {
			if i%every == 0 {
				out = append(out, hit(i))
			} else {
				out = append(out, other)
			}
		}
		return out
	}
	card := func(int) string { return "4111 1111 1111 1111" }
	ssn := func(i int) string { return fmt.Sprintf("123-45-%04d", i+1) }
	name := func(int) string { return "Mary Jones" }
	for _, c := range []struct {
		name    string
		samples []string
		want    string
	}{
		{"card", mix(3, 30, card, "-"), KindCreditCard},
		{"col", mix(4, 100, card, "n/a"), KindCreditCard}, // 25%
		{"nat", mix(2, 30, ssn, "-"), KindNationalID},
		{"col", mix(5, 100, ssn, "-"), KindNationalID}, // 20%
		{"info", mix(3, 30, name, "n/a"), KindFullName},
		{"col", mix(10, 100, card, "-"), ""}, // 10%: below the minority
		{"col", mix(10, 100, name, "-"), ""},
		// SSA never issues these: area 000/666/9xx, group 00, serial 0000.
		{"col", mix(2, 30, func(i int) string {
			return []string{"000-12-3456", "666-12-3456", "912-12-3456", "123-00-4567", "123-45-0000"}[i%5]
		}, "-"), ""},
		// Luhn-valid but no issuer has that prefix for that length.
		{"col", mix(2, 30, func(int) string { return "1234 5678 9012 3452" }, "-"), ""},
		{"col", mix(2, 30, func(int) string { return "Victoria Station" }, "-"), KindFullName}, // a given name + capitalised word is name-shaped: fail closed
	} {
		f := Detect(Column{Name: c.name, SQLType: "text", Samples: c.samples})
		got := ""
		if len(f) > 0 {
			got = f[0].Kind
		}
		if got != c.want {
			t.Errorf("%s %.50q: got %q, want %q (%v)", c.name, c.samples, got, c.want, f)
		}
	}
	for _, v := range []struct{ s, want string }{
		{"4111 1111 1111 1111", KindCreditCard},
		{"5500-0000-0000-0004", KindCreditCard},
		{"378282246310005", KindCreditCard},
		{"6011111111111117", KindCreditCard},
		{"2223000048400011", KindCreditCard},
		{"1234567890123452", ""}, // Luhn-valid, no issuer
		{"123-45-6789", KindNationalID},
		{"666-45-6789", ""},
		{"123-00-6789", ""},
		{"123-45-0000", ""},
		{"123456789", ""}, // undashed: not strong alone
		{"Mary Jones", ""},
	} {
		if got := StrongValueKind(v.s); got != v.want {
			t.Errorf("StrongValueKind(%q) = %q, want %q", v.s, got, v.want)
		}
	}
}

// TestDetect_RandomIDsNotCards measures what the minority threshold for
// cards is set against: random 16-digit ids pass isIssuedCardNumber about
// 3.5% of the time, and a column of them is never flagged at 20%.
func TestDetect_RandomIDsNotCards(t *testing.T) {
	r := rand.New(rand.NewPCG(1, 2))
	id := func() string { return fmt.Sprintf("%016d", r.Uint64N(9e15)+1e15) }
	pass := 0
	const n = 200000
	for range n {
		if isIssuedCardNumber(id()) {
			pass++
		}
	}
	rate := float64(pass) / n
	t.Logf("random 16-digit ids passing Luhn + issuer: %.4f", rate)
	if rate > 0.04 {
		t.Errorf("random ids pass as cards %.4f of the time, the threshold assumes about 0.035", rate)
	}
	for range 2000 {
		samples := make([]string, 100)
		for i := range samples {
			samples[i] = id()
		}
		for _, f := range Detect(Column{Name: "ref", SQLType: "text", Samples: samples}) {
			if f.Kind == KindCreditCard {
				t.Fatalf("a column of random ids was flagged as card numbers: %v", f)
			}
		}
	}
}
