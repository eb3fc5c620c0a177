package main

import (
	"runtime"
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

func TestCoresBusy_shareOfAllCPUTimeTimesCores(t *testing.T) {
	before := cpuSample{busy: 100, total: 1000}
	after := cpuSample{busy: 100 + 300, total: 1000 + 400} // 3/4 of the time busy
	got := coresBusy(before, after)
	if want := 0.75 * float64(runtime.NumCPU()); got != want {
		t.Errorf("coresBusy = %v, want %v", got, want)
	}
	if got := coresBusy(after, after); got != 0 {
		t.Errorf("coresBusy over no time = %v, want 0", got)
	}
}

func TestReadCPU(t *testing.T) {
	s, err := readCPU()
	if err != nil {
		t.Skipf("no /proc/stat here: %v", err)
	}
	if s.total == 0 || s.busy > s.total {
		t.Errorf("readCPU = %+v: want busy <= total and total > 0", s)
	}
}
