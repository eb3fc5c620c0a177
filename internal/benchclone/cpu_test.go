package main

import (
	"runtime"
	"testing"
)

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

func TestParseProcStat_commWithSpacesAndParentheses(t *testing.T) {
	line := "4242 (postgres: a (b) c) S 17 4242 4242 0 -1 4194560 100 0 0 0 250 40 7 3 20 0 1 0 12345 0 0\n"
	got, err := parseProcStat(line)
	if err != nil {
		t.Fatal(err)
	}
	if want := (procStat{ppid: 17, utime: 250, stime: 40, cutime: 7, cstime: 3}); got != want {
		t.Errorf("parseProcStat = %+v, want %+v", got, want)
	}
	if _, err := parseProcStat("4242 postgres S 17"); err == nil {
		t.Error("parseProcStat of a line without (comm): no error")
	}
}
