package main

import (
	"testing"
)

func TestStats_medianAndRange(t *testing.T) {
	for _, tc := range []struct {
		name string
		in   []float64
		want spread
	}{
		{"empty", nil, spread{}},
		{"one", []float64{3}, spread{3, 3, 3}},
		{"odd, unsorted", []float64{9, 1, 4}, spread{4, 1, 9}},
		{"even: mean of the middle two", []float64{4, 1, 2, 10}, spread{3, 1, 10}},
	} {
		t.Run(tc.name, func(t *testing.T) {
			if got := stats(tc.in); got != tc.want {
				t.Errorf("stats(%v) = %+v, want %+v", tc.in, got, tc.want)
			}
		})
	}
}

func TestThousands(t *testing.T) {
	for in, want := range map[int64]string{0: "0", 999: "999", 1000: "1,000", 8200000: "8,200,000", 123456789: "123,456,789"} {
		if got := thousands(in); got != want {
			t.Errorf("thousands(%d) = %q, want %q", in, got, want)
		}
	}
}
