package masking

import (
	"math"
	"math/rand/v2"
	"runtime"
	"strings"
	"testing"
)

// TestFixedPointOdds checks the domain each kind of value is permuted in.
func TestFixedPointOdds(t *testing.T) {
	pow := math.Pow
	for _, tc := range []struct {
		spec  Spec
		value string
		want  float64
	}{
		// Six digits after a kept leading zero: FF1's minimum domain.
		{Spec{Transformer: "digits"}, "0123456", 1e-6},
		// A leading non-zero digit stays non-zero: 9·10^15.
		{Spec{Transformer: "digits"}, "4111-1111-1111-1111", 1 / (9 * 1e15)},
		// Integers: [0, 10^7), then the magnitudes of their digit count.
		{Spec{Transformer: "digits"}, "42", 1e-7},
		{Spec{Transformer: "digits"}, "123456789", 1 / (9e8)},
		// Card: issuer (6) and check digit kept, 9 digits encrypted.
		{Spec{Transformer: "credit_card"}, "4111111111111111", 1e-9},
		// E-mail: the local part's letters and digits.
		{Spec{Transformer: "email"}, "alice.smith7@example.com", 1 / (pow(26, 10) * 10)},
		// A short local part is widened to bob and bob.DD (the fewest digits).
		{Spec{Transformer: "email"}, "bob@example.com", 1 / (pow(26, 3) * (1 + 1e2))},
		// Hex digits of a UUID but the version, the variant's free bits.
		{Spec{Transformer: "uuid"}, "befacbdf-518e-4dba-af19-39dc7379c95a", 1 / (pow(16, 30) * 4)},
		// A 3-digit code hashed into 10^3 values.
		{Spec{Transformer: "format_preserving", Options: map[string]any{"alphabet": "0123456789", "small_domain": "hash"}}, "123", 1e-3},
		// Refused, kept or not encrypted at all: chance explains nothing.
		{Spec{Transformer: "digits"}, "012", 0},
		{Spec{Transformer: "digits", OnInvalid: OnInvalidRedact}, "012", 0},
		{Spec{Transformer: "hash"}, "anything", 0},
		{Spec{Transformer: "email"}, "", 0},
	} {
		m, err := NewFixedPointMeter(tc.spec)
		if err != nil {
			t.Fatal(err)
		}
		got := m.FixedPointOdds([]byte(tc.value))
		if math.Abs(got-tc.want) > 1e-9*tc.want {
			t.Errorf("%s %q: odds %g, want %g", tc.spec.Transformer, tc.value, got, tc.want)
		}
	}
}

// TestFixedPointOdds_matchChance counts the values a keyed transformer
// actually leaves unchanged over many keys and compares the count with the
// sum of the meter's odds: a meter that overstated the domain would expect
// far fewer fixed points than occur.
func TestFixedPointOdds_matchChance(t *testing.T) {
	spec := Spec{Transformer: "format_preserving", Options: map[string]any{"alphabet": "0123456789", "small_domain": "hash"}}
	m, err := NewFixedPointMeter(spec)
	if err != nil {
		t.Fatal(err)
	}
	r := rand.New(rand.NewPCG(3, 4))
	expected, unchanged := 0.0, 0
	for k := range 40 {
		tr := mustNew(t, spec, testKey(t, "chance"+strings.Repeat("x", k)))
		for range 500 {
			v := []byte{byte('0' + r.IntN(10)), byte('0' + r.IntN(10)), byte('0' + r.IntN(10))}
			out, err := MaskString(tr, string(v))
			if err != nil {
				t.Fatal(err)
			}
			if out == string(v) {
				unchanged++
			}
			expected += m.FixedPointOdds(v)
		}
	}
	// 20,000 values at 1/1000: Poisson(20), outside [5, 40] with
	// probability below 1e-4.
	if math.Abs(expected-20) > 1e-6 || unchanged < 5 || unchanged > 40 {
		t.Fatalf("%d values unchanged, %g expected", unchanged, expected)
	}
}

// TestFixedPointOdds_smallestDomain: no value of an FF1 transformer is
// permuted among fewer than 10^6 values; here the smallest domains there
// are (a leading zero kept and six digits encrypted) are a permutation of
// exactly 10^6 values, and one digit fewer is refused.
func TestFixedPointOdds_smallestDomain(t *testing.T) {
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

// BenchmarkFixedPointOdds measures the meter per format-preserving
// transformer: the leak check runs it on every value of an identifier
// column, on top of masking it (compare BenchmarkTransform).
func BenchmarkFixedPointOdds(b *testing.B) {
	for _, name := range []string{"email", "phone", "credit_card", "iban", "digits"} {
		b.Run(name, func(b *testing.B) {
			m, err := NewFixedPointMeter(Spec{Transformer: name})
			if err != nil {
				b.Fatal(err)
			}
			vals := benchValues(name)
			b.ReportAllocs()
			runtime.LockOSThread()
			defer runtime.UnlockOSThread()
			b.ResetTimer()
			cpu0 := threadCPU()
			for i := range b.N {
				m.FixedPointOdds(vals[i&255])
			}
			reportRates(b, cpu0)
		})
	}
}

// TestMetered checks that a metered transformer masks exactly as New's and
// measures exactly what a FixedPointMeter measures, over every golden
// configuration (valid, invalid and edge values) and the paths where the
// masking itself loops: an e-mail whose widened local part is cycle-walked
// among the short forms, values replaced by on_invalid.
func TestMetered(t *testing.T) {
	k := testKey(t, "metered")
	type tc = struct {
		spec Spec
		vals func(r *rand.Rand) string
	}
	var cases []tc
	for _, gc := range goldenCases() {
		cases = append(cases, tc{gc.spec, gc.vals})
	}
	// A 249-character domain leaves 4 characters to the local part: "bob"
	// widens to "bob.DD", longer than that, and is cycle-walked.
	long := strings.Repeat("d", 63) + "." + strings.Repeat("e", 63) + "." + strings.Repeat("f", 63) + "." + strings.Repeat("g", 53) + ".com"
	cases = append(cases,
		tc{Spec{Transformer: "email"}, func(r *rand.Rand) string {
			return []string{"bob", "ann", "bob.12", "zed"}[r.IntN(4)] + "@" + long
		}},
		tc{Spec{Transformer: "digits", OnInvalid: OnInvalidRedact}, func(r *rand.Rand) string {
			return []string{"012", "x", "0123456", "-42"}[r.IntN(4)]
		}},
		tc{Spec{Transformer: "email", OnInvalid: OnInvalidHash}, func(r *rand.Rand) string {
			return []string{"not an e-mail", "", "a@b", "alice@example.com"}[r.IntN(4)]
		}},
	)
	for _, c := range cases {
		plain := mustNew(t, c.spec, k)
		met, err := NewMetered(c.spec, k)
		if err != nil {
			t.Fatal(err)
		}
		meter, err := NewFixedPointMeter(c.spec)
		if err != nil {
			t.Fatal(err)
		}
		next := caseValues(c.spec.Transformer, c.vals, rand.New(rand.NewPCG(3, 4)))
		for i := range 400 {
			v := next(i)
			want, wantNull, wantErr := Apply(plain, nil, v, false)
			got, gotNull, gotErr := Apply(met, nil, v, false)
			if string(got) != string(want) || gotNull != wantNull || (gotErr == nil) != (wantErr == nil) {
				t.Fatalf("%s %q: metered %q %v %v, New %q %v %v", c.spec.Transformer, v, got, gotNull, gotErr, want, wantNull, wantErr)
			}
			odds := 0.0
			if !gotNull {
				odds = met.FixedPointOdds()
			}
			if wantOdds := meter.FixedPointOdds(v); odds != wantOdds {
				t.Fatalf("%s %q: metered odds %g, meter %g", c.spec.Transformer, v, odds, wantOdds)
			}
		}
	}
}
