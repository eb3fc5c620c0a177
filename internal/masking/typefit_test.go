package masking

import (
	"math"
	"math/rand/v2"
	"strconv"
	"strings"
	"testing"
)

// TestFitsType checks the plan-time refusals of outputs the column's type
// cannot hold (review #10 item 9): each case failed at copy time before.
func TestFitsType(t *testing.T) {
	vc := func(n int) ColumnClass { return ColumnClass{Equality: EqualText, MaxLength: n} }
	for _, c := range []struct {
		spec   Spec
		class  ColumnClass
		unique bool
		ok     bool
		reason string
	}{
		{Spec{Transformer: "hash"}, vc(20), true, false, "hash writes 32 characters, more than varchar(20)"},
		{Spec{Transformer: "hash"}, vc(32), true, true, ""},
		{Spec{Transformer: "hash", Options: map[string]any{"length": 16.0}}, vc(20), false, true, ""},
		{Spec{Transformer: "digits"}, vc(3), true, false, "fewer than 1,000,000 possible values"},
		{Spec{Transformer: "digits"}, vc(7), false, false, "up to 8 characters"},
		{Spec{Transformer: "digits"}, vc(8), true, true, ""},
		{Spec{Transformer: "digits", Options: map[string]any{"keep_prefix": 1.0}}, vc(7), true, true, ""},
		{Spec{Transformer: "digits", Options: map[string]any{"keep_prefix": 1.0}}, vc(4), true, false, "a unique or key column cannot be masked"},
		{Spec{Transformer: "digits", Options: map[string]any{"keep_prefix": 1.0, "small_domain": "hash"}}, vc(4), false, true, ""},
		{Spec{Transformer: "format_preserving"}, vc(3), false, false, "small_domain = \"hash\""},
		{Spec{Transformer: "format_preserving"}, vc(4), true, true, ""},
		{Spec{Transformer: "ip"}, vc(15), false, false, "varchar(43)"},
		{Spec{Transformer: "phone"}, vc(15), true, true, ""},
		{Spec{Transformer: "hash"}, ColumnClass{Equality: EqualInteger, IntegerMax: 2147483647}, false, false, "does not write integers"},
		{Spec{Transformer: "digits"}, ColumnClass{Equality: EqualInteger, IntegerMax: 2147483647}, false, false, "max_value = 2147483647"},
		{Spec{Transformer: "digits"}, ColumnClass{Equality: EqualNumeric, Precision: 5, Scale: 2}, false, false, "numeric(5,2)"},
		{Spec{Transformer: "digits"}, ColumnClass{Equality: EqualNumeric, Precision: 12, Scale: 2}, false, true, ""},
		{Spec{Transformer: "redact"}, vc(3), false, false, `"REDACTED" (option value) is longer than varchar(3)`},
		{Spec{Transformer: "redact", Options: map[string]any{"value": "x"}}, vc(3), false, true, ""},
		{Spec{Transformer: "redact"}, ClassOf("integer", false), false, false, "not an integer"},
		{Spec{Transformer: "redact", Options: map[string]any{"value": "0"}}, ClassOf("integer", false), false, true, ""},
		{Spec{Transformer: "digits", OnInvalid: "redact"}, ClassOf("bigint", false), false, false, "option invalid_value"},
		{Spec{Transformer: "redact"}, ClassOf("uuid", false), false, false, "not a uuid"},
		{Spec{Transformer: "redact", Options: map[string]any{"value": "00000000-0000-0000-0000-000000000000"}}, ClassOf("uuid", false), false, true, ""},
	} {
		ok, reason := FitsType(c.spec, c.class, c.unique)
		if ok != c.ok || !strings.Contains(reason, c.reason) {
			t.Errorf("%+v on %+v: got %v %q, want %v %q", c.spec, c.class, ok, reason, c.ok, c.reason)
		}
	}
}

// TestWithTypeBounds_NumberNoise masks values at the edge of bounded types
// (numeric(5,2)'s 999.99, smallint's 32767, integer's minimum) and checks
// every output stays within the type (review #10 item 9: numeric field
// overflow at copy before).
func TestWithTypeBounds_NumberNoise(t *testing.T) {
	k := testKey(t, "bounds")
	for _, c := range []struct {
		class    ColumnClass
		in       func(r *rand.Rand) string
		lo, hi   float64
		maxScale int
	}{
		{ColumnClass{Equality: EqualNumeric, Precision: 5, Scale: 2}, func(r *rand.Rand) string {
			return strconv.FormatFloat(999.99-float64(r.IntN(500))/100, 'f', 2, 64)
		}, -999.99, 999.99, 2},
		{ClassOf("smallint", false), func(r *rand.Rand) string { return strconv.Itoa(32767 - r.IntN(3000)) }, -32768, 32767, 0},
		{ClassOf("integer", false), func(r *rand.Rand) string { return strconv.Itoa(-2147483648 + r.IntN(100000)) }, -2147483648, 2147483647, 0},
	} {
		tr := mustNew(t, WithTypeBounds(Spec{Transformer: "number_noise", Options: map[string]any{"ratio": 0.5}}, c.class), k)
		r := rand.New(rand.NewPCG(1, 2))
		for range 20000 {
			in := c.in(r)
			out, err := MaskString(tr, in)
			if err != nil {
				t.Fatalf("%q: %v", in, err)
			}
			v, err := strconv.ParseFloat(out, 64)
			if err != nil || v < c.lo || v > c.hi || strings.ContainsAny(out, "eE") {
				t.Fatalf("%v: %q -> %q, outside [%v, %v]", c.class, in, out, c.lo, c.hi)
			}
			if i := strings.IndexByte(out, '.'); i >= 0 && len(out)-i-1 > c.maxScale {
				t.Fatalf("%q -> %q: more than %d decimals", in, out, c.maxScale)
			}
		}
	}
	if s := WithTypeBounds(Spec{Transformer: "number_noise", Options: map[string]any{"max": 10.0}}, ClassOf("integer", false)); s.Options["max"] != 10.0 || s.Options["min"] != -2147483648.0 {
		t.Errorf("bounds should keep the narrower option: %v", s.Options)
	}
	if s := WithTypeBounds(Spec{Transformer: "number_noise"}, ClassOf("bigint", false)); s.Options["max"].(float64) >= math.Pow(2, 63) {
		t.Errorf("bigint bound rounds above the type: %v", s.Options)
	}
}

// TestSameMaskingOn_IntegerBigint checks the foreign key of an integer
// column to a bigint one (review #10 item 4): digits with each type's
// maximum is accepted, and masks every integer both hold alike, including
// 10-digit ones just below integer's maximum.
func TestSameMaskingOn_IntegerBigint(t *testing.T) {
	int4, int8 := ClassOf("integer", false), ClassOf("bigint", false)
	a := Spec{Transformer: "digits", Options: map[string]any{"max_value": 2147483647.0}}
	b := Spec{Transformer: "digits", Options: map[string]any{"max_value": "9223372036854775807"}}
	if ok, why := SameMaskingOn(a, b, int4, int8); !ok {
		t.Fatalf("int -> bigint with each type's maximum refused: %s", why)
	}
	if ok, why := SameMaskingOn(b, b, int4, int8); !ok {
		t.Fatalf("identical specs should be the same: %s", why)
	}
	wide := Spec{Transformer: "digits", Options: map[string]any{"max_value": 99999999999.0}}
	if ok, why := SameMaskingOn(a, wide, int4, int8); ok || !strings.Contains(why, "9223372036854775807") {
		t.Fatalf("bigint end without the type's maximum: got %v %q", ok, why)
	}
	k := testKey(t, "fk")
	ta, tb := mustNew(t, a, k), mustNew(t, b, k)
	for _, v := range []int64{0, 1, 9_999_999, 10_000_000, 999_999_999, 1_000_000_000, 2_000_000_001, 2_147_483_647, -2_000_000_001, -5, -2_147_483_648, -2_147_483_647} {
		s := strconv.FormatInt(v, 10)
		oa, err := MaskString(ta, s)
		if err != nil {
			t.Fatal(err)
		}
		ob, err := MaskString(tb, s)
		if err != nil {
			t.Fatal(err)
		}
		if oa != ob {
			t.Errorf("%s masks to %s on integer and %s on bigint", s, oa, ob)
		}
		if x, err := strconv.ParseInt(oa, 10, 32); err != nil || (x < 0) != (v < 0) {
			t.Errorf("%s -> %s: not an integer of the same sign", s, oa)
		}
	}
	// Each type's minimum is masked too, within the type.
	if out, err := MaskString(tb, "-9223372036854775808"); err != nil || !strings.HasPrefix(out, "-") {
		t.Errorf("bigint's minimum: %q, %v", out, err)
	} else if _, err := strconv.ParseInt(out, 10, 64); err != nil {
		t.Errorf("bigint's minimum masked out of range: %q", out)
	}
	if _, err := MaskString(ta, "2147483648"); err == nil {
		t.Errorf("2147483648 is beyond max_value 2147483647 and must be refused")
	}
}

// TestNumberNoise_LongNumerics checks numerics with more significant
// digits than float64 holds (review #10 item 15: a 30-digit numeric came
// out as 1.1122219143219066e+29): plain digits, the input's decimal
// places, and a relative change within the ratio.
func TestNumberNoise_LongNumerics(t *testing.T) {
	tr := mustNew(t, Spec{Transformer: "number_noise", Options: map[string]any{"ratio": 0.1}}, testKey(t, "long"))
	for _, in := range []string{"123456789012345678901234567890.12", "-99999999999999999999", "1234567890123456.7890", "0.00000000000000012345", "9223372036854775807", "-9223372036854775808", "12345678901234567"} {
		out, err := MaskString(tr, in)
		if err != nil {
			t.Fatalf("%q: %v", in, err)
		}
		if strings.ContainsAny(out, "eE") {
			t.Fatalf("%q -> %q: exponent notation", in, out)
		}
		scale := func(s string) int {
			if i := strings.IndexByte(s, '.'); i >= 0 {
				return len(s) - i - 1
			}
			return 0
		}
		if scale(out) != scale(in) {
			t.Fatalf("%q -> %q: decimal places changed", in, out)
		}
		x, _ := strconv.ParseFloat(in, 64)
		y, _ := strconv.ParseFloat(out, 64)
		if math.Abs(y-x) > 0.1000001*math.Abs(x) || (x < 0) != (y < 0) {
			t.Fatalf("%q -> %q: beyond the ratio", in, out)
		}
		if strings.HasPrefix(in, "92233") || strings.HasPrefix(in, "-92233") {
			if _, err := strconv.ParseInt(out, 10, 64); err != nil {
				t.Fatalf("%q -> %q: left bigint's range", in, out)
			}
		}
	}
}

// TestShift_PostgresLimits shifts dates and timestamps at PostgreSQL's
// largest values (review #10 item 14: 5874897-12-31 became 5874898-01-28)
// and checks the outputs stay within the types and are still shifted.
func TestShift_PostgresLimits(t *testing.T) {
	k := testKey(t, "limits")
	for _, c := range []struct {
		transformer, in, max string
	}{
		{"date_shift", "5874897-12-31", "5874897-12-31"},
		{"date_shift", "5874897-12-20", "5874897-12-31"},
		{"timestamp_shift", "294276-12-31 23:59:59", "294276-12-31 23:59:59"},
		{"timestamp_shift", "294276-12-30 10:00:00.5", "294276-12-31 23:59:59.999999"},
	} {
		for _, days := range []float64{30, 365, 36500} {
			tr := mustNew(t, Spec{Transformer: c.transformer, Options: map[string]any{"max_days": days}}, k)
			out, err := MaskString(tr, c.in)
			if err != nil {
				t.Fatalf("%s(%q): %v", c.transformer, c.in, err)
			}
			year := func(s string) int { y, _ := strconv.Atoi(s[:strings.IndexByte(s, '-')]); return y }
			if out == c.in || year(out) > year(c.max) {
				t.Errorf("%s(%q), max_days %v = %q: unshifted or beyond PostgreSQL's maximum %s", c.transformer, c.in, days, out, c.max)
			}
		}
	}
}

// FuzzTransformNumberNoise: a plain decimal keeps its sign and decimal
// places and is never written with an exponent, however many digits it
// has.
func FuzzTransformNumberNoise(f *testing.F) {
	fuzzFormat(f, "number_noise", []string{"12.50", "-7", "123456789012345678901234567890.12", "0.000000000000000001", "9223372036854775807"},
		func(in string) bool {
			s := strings.TrimPrefix(in, "-")
			i := strings.IndexByte(s, '.')
			intPart, frac := s, ""
			if i >= 0 {
				intPart, frac = s[:i], s[i+1:]
			}
			return intPart != "" && strings.Trim(intPart, "0123456789") == "" && strings.Trim(frac, "0123456789") == "" && (i < 0 || frac != "")
		},
		func(in, out string) string {
			scale := func(s string) int {
				if i := strings.IndexByte(s, '.'); i >= 0 {
					return len(s) - i - 1
				}
				return 0
			}
			switch {
			case strings.ContainsAny(out, "eE"):
				return "exponent notation"
			case scale(out) != scale(in):
				return "decimal places changed"
			case strings.HasPrefix(out, "-") && !strings.HasPrefix(in, "-"):
				return "sign changed"
			}
			return ""
		})
}

// FuzzTransformDigitsInteger: an integer as PostgreSQL prints it stays a
// canonical integer of the same sign within bigint (never "-0").
func FuzzTransformDigitsInteger(f *testing.F) {
	fuzzFormat(f, "digits", []string{"0", "-1", "-8148607", "2147483647", "-2147483648", "-9223372036854775808", "9223372036854775807"},
		func(in string) bool {
			v, err := strconv.ParseInt(in, 10, 64)
			return err == nil && strconv.FormatInt(v, 10) == in
		},
		func(in, out string) string {
			v, err := strconv.ParseInt(out, 10, 64)
			switch {
			case err != nil || strconv.FormatInt(v, 10) != out:
				return "not a canonical bigint"
			case (v < 0) != strings.HasPrefix(in, "-"):
				return "sign changed"
			}
			return ""
		})
}

// TestFitsType_EveryTransformerLength is review #10's second review B: on
// a varchar(n) column every transformer is judged against n, unique or
// not (email with local_part = "hash" on varchar(20), full_name on
// varchar(12) failed at copy with "value too long").
func TestFitsType_EveryTransformerLength(t *testing.T) {
	vc := func(n int) ColumnClass { return ColumnClass{Equality: EqualText, MaxLength: n} }
	for _, c := range []struct {
		spec   Spec
		n      int
		ok     bool
		reason string
	}{
		{Spec{Transformer: "email", Options: map[string]any{"local_part": "hash"}}, 20, false, "varchar(20), more than the column holds; alter the column to varchar(254) or text"},
		{Spec{Transformer: "email"}, 100, false, "widened"},
		{Spec{Transformer: "email"}, 254, true, ""},
		{Spec{Transformer: "email", Options: map[string]any{"local_part": "hash"}}, 254, true, ""},
		{Spec{Transformer: "email", Options: map[string]any{"domain_mode": "replace", "replacement_domain": "example.com"}}, 254, true, ""},
		{Spec{Transformer: "full_name"}, 12, false, "full_name writes values of no bounded length"},
		{Spec{Transformer: "full_name"}, 200, false, "alter the column to text"},
		{Spec{Transformer: "first_name"}, 4, false, "the longest name of its dictionary"},
		{Spec{Transformer: "first_name"}, 40, true, ""},
		{Spec{Transformer: "address"}, 20, false, "address writes up to"},
		{Spec{Transformer: "json"}, 200, false, "no bounded length"},
		{Spec{Transformer: "uuid"}, 36, true, ""},
		{Spec{Transformer: "phone"}, 6, true, ""},
		{Spec{Transformer: "credit_card"}, 19, true, ""},
		{Spec{Transformer: "iban"}, 34, true, ""},
		{Spec{Transformer: "text_scramble"}, 5, true, ""},
		{Spec{Transformer: "date_shift"}, 10, false, "alter the column to text"},
		{Spec{Transformer: "number_noise"}, 10, false, "up to 24 characters"},
		{Spec{Transformer: "regex_replace", Options: map[string]any{"pattern": "a"}}, 50, false, "replacement"},
		{Spec{Transformer: "format_preserving", OnInvalid: "hash"}, 20, false, "32 hex characters"},
		{Spec{Transformer: "keep"}, 1, true, ""},
		{Spec{Transformer: "null"}, 1, true, ""},
	} {
		for _, unique := range []bool{false, true} {
			ok, reason := FitsType(c.spec, vc(c.n), unique)
			if ok != c.ok || !strings.Contains(reason, c.reason) {
				t.Errorf("%+v on varchar(%d) unique=%v: got %v %q, want %v %q", c.spec, c.n, unique, ok, reason, c.ok, c.reason)
			}
		}
	}
	// The bounds hold on values at the edge: longest outputs measured on
	// short and long inputs never exceed MaxOutputLength.
	k := testKey(t, "lengths")
	inputs := map[string][]string{
		"first_name": {"a", "Bob", "MARY"}, "last_name": {"x", "Smith"},
		"address": {"1 a", "1 a, b", "1 a, b, c, d"},
		"email":   {"a@b.io", "ab@x.io", "!@x.io", "bob.smith@example.com"},
	}
	for tr, vals := range inputs {
		for _, opts := range []map[string]any{nil, {"local_part": "hash"}} {
			if tr != "email" && opts != nil {
				continue
			}
			spec := Spec{Transformer: tr, Options: opts}
			m := mustNew(t, spec, k)
			for _, v := range vals {
				for i := range 200 {
					in := v
					if i > 0 {
						in = strings.Replace(v, "a", string(rune('a'+i%26)), 1) + strings.Repeat(" ", 0)
						if tr == "email" {
							in = strconv.Itoa(i%10) + v[1:]
						}
					}
					out, err := MaskString(m, in)
					if err != nil {
						continue
					}
					if max, bounded, _ := MaxOutputLength(spec, len(in)); !bounded || len(out) > max {
						t.Fatalf("%s %v: %q -> %q (%d characters), bound %d", tr, opts, in, out, len(out), max)
					}
				}
			}
		}
	}
}
