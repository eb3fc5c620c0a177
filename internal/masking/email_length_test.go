package masking

import (
	"strings"
	"testing"
)

// longDomain is a valid domain name of n characters.
func longDomain(n int) string {
	var b strings.Builder
	for b.Len() < n {
		if b.Len() > 0 {
			b.WriteByte('.')
		}
		l := min(60, n-b.Len())
		if l < 1 {
			break
		}
		b.WriteString(strings.Repeat("d", l))
	}
	s := b.String()
	if len(s) != n || strings.HasSuffix(s, ".") {
		panic("bad domain length")
	}
	return s
}

// Review #10 (second review, F): a short local part next to a domain that
// leaves no room for the widening suffix must still be masked within 254
// characters, one to one, so that a unique varchar(254) column holds every
// output. Without the cycle-walk in emailLocal, some of these fail with
// "longer than 254 characters".
func TestEmailShortLocalNextToLongDomainStaysWithin254(t *testing.T) {
	tr := mustNew(t, Spec{Transformer: "email"}, testKey(t, "email length"))
	seen := map[string]string{}
	for _, local := range []string{"a", "b", "ab", "xy", "bob", "abc", "zz9", "abcd", "a.b"} {
		for _, dl := range []int{254 - 1 - len(local), 240, 250 - len(local)} {
			domain := longDomain(dl)
			in := local + "@" + domain
			out, err := MaskString(tr, in)
			if err != nil {
				t.Fatalf("%d-character address with local part %q: %v", len(in), local, err)
			}
			if len(out) > EmailMaxLength {
				t.Fatalf("output of %d characters", len(out))
			}
			if prev, dup := seen[strings.ToLower(out)]; dup {
				t.Fatalf("%q and %q mask alike", prev, in)
			}
			seen[strings.ToLower(out)] = in
		}
	}
	// Many short local parts under one tight domain: all within 254 and
	// distinct (the cycle-walk is a permutation of the short forms).
	domain := longDomain(254 - 1 - 2)
	outs := map[string]bool{}
	for a := byte('a'); a <= 'z'; a++ {
		for b := byte('a'); b <= 'z'; b++ {
			out, err := MaskString(tr, string([]byte{a, b})+"@"+domain)
			if err != nil || len(out) > EmailMaxLength || outs[out] {
				t.Fatalf("%c%c: %q %v", a, b, out, err)
			}
			outs[out] = true
		}
	}
}
