package masking

import "testing"

func TestDomainSize(t *testing.T) {
	for _, tc := range []struct {
		spec Spec
		want float64
		ok   bool
	}{
		{Spec{Transformer: "email"}, 1e6, true},
		{Spec{Transformer: "phone", OnInvalid: OnInvalidHash}, 1e6, true},
		{Spec{Transformer: "digits", Options: map[string]any{"small_domain": "hash"}}, 0, false},
		{Spec{Transformer: "hash"}, 0, false},
		{Spec{Transformer: "redact"}, 0, false},
	} {
		n, ok := DomainSize(tc.spec)
		if n != tc.want || ok != tc.ok {
			t.Errorf("DomainSize(%+v) = %v, %v; want %v, %v", tc.spec, n, ok, tc.want, tc.ok)
		}
	}
}

// TestDomainSize_isALowerBound: no value of an FF1 transformer is permuted
// among fewer than DomainSize values; here the smallest domains there are
// (a leading zero kept and six digits encrypted) are a permutation of
// exactly 10^6 values, and one digit fewer is refused.
func TestDomainSize_isALowerBound(t *testing.T) {
	tr, err := New(Spec{Transformer: "digits"}, testKey(t, "domain"))
	if err != nil {
		t.Fatal(err)
	}
	if _, err := MaskString(tr, "012345"); err == nil {
		t.Fatal("012345 (10^5 values) was encrypted: the domain bound would not hold")
	}
	out, err := MaskString(tr, "0123456")
	if err != nil || len(out) != 7 || out[0] != '0' {
		t.Fatalf("0123456: %q, %v", out, err)
	}
}
