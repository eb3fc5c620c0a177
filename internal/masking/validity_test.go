package masking

import (
	"math"
	"strconv"
	"strings"
	"testing"
)

// TestValidity_NumberNoiseBigint checks that number_noise writes bigint
// values as plain integers within bigint's range: before, values of 10^18
// and more came out in exponent notation.
func TestValidity_NumberNoiseBigint(t *testing.T) {
	k := testKey(t, "validity")
	tr := mustNew(t, Spec{Transformer: "number_noise", Options: map[string]any{"ratio": 0.5}}, k)
	for i := range 20000 {
		var in string
		switch i % 3 {
		case 0:
			in = strconv.FormatInt(math.MaxInt64-int64(i)*7919, 10)
		case 1:
			in = strconv.FormatInt(math.MinInt64+int64(i)*7919, 10)
		default:
			in = strconv.FormatUint(1_000_000_000_000_000_000+uint64(i)*104729, 10)
		}
		out, err := MaskString(tr, in)
		if err != nil {
			t.Fatalf("%s: %v", in, err)
		}
		if _, err := strconv.ParseInt(out, 10, 64); err != nil {
			t.Fatalf("number_noise(%s) = %q: not a bigint: %v", in, out, err)
		}
	}
}

// TestValidity_TimestampShiftYear9999 checks that shifts stay within years
// 1 to 9999: before, 9999-12-31 could become year 10000.
func TestValidity_TimestampShiftYear9999(t *testing.T) {
	k := testKey(t, "validity")
	for _, name := range []string{"date_shift", "timestamp_shift"} {
		tr := mustNew(t, Spec{Transformer: name, Options: map[string]any{"max_days": 3650.0}}, k)
		for i := range 2000 {
			in := "9999-12-" + strconv.Itoa(31-i%20)
			if name == "timestamp_shift" {
				in += " " + strconv.Itoa(10+i%14) + ":00:00.5+02"
			}
			for _, v := range []string{in, strings.Replace(in, "9999", "0001", 1)} {
				v = strings.Replace(v, "0001-12", "0001-01", 1)
				out, err := MaskString(tr, v)
				if err != nil {
					t.Fatalf("%s(%q): %v", name, v, err)
				}
				y, _, _, _, ok := parseISODate([]byte(out))
				if !ok || y < 1 || y > 9999 || strings.HasPrefix(out, "10000") {
					t.Fatalf("%s(%q) = %q: outside years 1 to 9999", name, v, out)
				}
			}
		}
	}
}

// TestValidity_KeepYearNeverZero checks that keep_year never returns the
// input unchanged, even when every shift within max_days leaves the year.
func TestValidity_KeepYearNeverZero(t *testing.T) {
	k := testKey(t, "validity")
	for _, name := range []string{"date_shift", "timestamp_shift"} {
		for _, maxDays := range []float64{1, 3, 200, 400, 36500} {
			tr := mustNew(t, Spec{Transformer: name, Options: map[string]any{"max_days": maxDays, "keep_year": true}}, k)
			for y := 1; y <= 9999; y += 7 {
				for _, md := range []string{"01-01", "12-31", "06-15", "02-29"} {
					in := strconv.Itoa(10000 + y)[1:] + "-" + md
					if md == "02-29" && daysIn(y, 2) != 29 {
						continue
					}
					if name == "timestamp_shift" {
						in += " 00:00:00"
						if md == "12-31" {
							in = strings.Replace(in, "00:00:00", "23:59:59", 1)
						}
					}
					out, err := MaskString(tr, in)
					if err != nil {
						t.Fatalf("%s(%q): %v", name, in, err)
					}
					if out == in || out[:4] != in[:4] {
						t.Fatalf("%s(%q, max_days %v, keep_year) = %q", name, in, maxDays, out)
					}
				}
			}
		}
	}
}
