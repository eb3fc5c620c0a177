package main

import (
	"strings"
	"testing"
)

const sample = `goos: linux
BenchmarkTransform/email-2    1000  900 ns/op  20.0 MB/s  1200000 values/cpu-s  900000 values/s  0 B/op  0 allocs/op
BenchmarkTransform/email-2    1000  800 ns/op  20.0 MB/s  1300000 values/cpu-s  800000 values/s  0 B/op  0 allocs/op
BenchmarkTransform/uuid-2     1000  900 ns/op  20.0 MB/s   500000 values/cpu-s  400000 values/s  0 B/op  0 allocs/op
BenchmarkFF1_16Digits-2       1000  400 ns/op  2500000 values/cpu-s  2000000 values/s  0 B/op  0 allocs/op
BenchmarkLeakCheck/1000000-2  1  1 ns/op  1 values/s
`

// TestParse takes the best CPU-second rate of each masking benchmark and
// ignores other packages' benchmarks.
func TestParse(t *testing.T) {
	got, cpu, err := parse(strings.NewReader(sample))
	if err != nil || !cpu {
		t.Fatalf("parse: %v, cpu %v", err, cpu)
	}
	want := map[string]float64{"Transform/email": 1300000, "Transform/uuid": 500000, "FF1_16Digits": 2500000}
	if len(got) != len(want) {
		t.Fatalf("got %v, want %v", got, want)
	}
	for k, v := range want {
		if got[k] != v {
			t.Errorf("%s = %v, want %v", k, got[k], v)
		}
	}
}

// TestCompare flags what fell below 0.9 of its baseline, and only that.
func TestCompare(t *testing.T) {
	now, _, _ := parse(strings.NewReader(sample))
	base := map[string]float64{"Transform/email": 1400000, "Transform/uuid": 600000, "FF1_16Digits": 2600000, "Transform/iban": 900000}
	var b strings.Builder
	if err := compare(&b, base, now, []string{"# header"}); err != nil {
		t.Fatal(err)
	}
	out := b.String()
	for _, want := range []string{"Transform/uuid                   |         600000 |         500000 |   0.83 | regression", "Transform/email                  |        1400000 |        1300000 |   0.93 | \n", "Transform/iban                   |         900000 |              - |      - | not run", "1 of 4 below 0.9×"} {
		if !strings.Contains(out, want) {
			t.Errorf("output lacks %q:\n%s", want, out)
		}
	}
}
