package main

import (
	"bufio"
	"fmt"
	"os"
	"runtime"
	"strconv"
	"strings"
	"time"
)

// cpuSample is the machine-wide CPU time counters of /proc/stat's first
// line, in clock ticks.
type cpuSample struct {
	busy, total uint64
}

// readCPU reads /proc/stat. Busy is user+nice+system+irq+softirq (guest time
// is already inside user); total adds idle, iowait and steal.
func readCPU() (cpuSample, error) {
	f, err := os.Open("/proc/stat")
	if err != nil {
		return cpuSample{}, err
	}
	defer f.Close()
	sc := bufio.NewScanner(f)
	if !sc.Scan() {
		return cpuSample{}, fmt.Errorf("/proc/stat is empty")
	}
	fields := strings.Fields(sc.Text())
	if len(fields) < 9 || fields[0] != "cpu" {
		return cpuSample{}, fmt.Errorf("/proc/stat: unexpected first line %q", sc.Text())
	}
	var v [8]uint64 // user nice system idle iowait irq softirq steal
	for i := range v {
		if v[i], err = strconv.ParseUint(fields[i+1], 10, 64); err != nil {
			return cpuSample{}, fmt.Errorf("/proc/stat: %w", err)
		}
	}
	s := cpuSample{busy: v[0] + v[1] + v[2] + v[5] + v[6]}
	for _, x := range v {
		s.total += x
	}
	return s, nil
}

// coresBusy is how many of the machine's cores were busy on average between
// two samples: the busy share of all CPU time times the core count. It
// counts every process on the machine (the tool, both PostgreSQL servers,
// and anything else running), so it is only meaningful on an otherwise
// idle machine; 0 when /proc/stat cannot be read.
func coresBusy(before, after cpuSample) float64 {
	if after.total <= before.total {
		return 0
	}
	return float64(after.busy-before.busy) / float64(after.total-before.total) * float64(runtime.NumCPU())
}

// idleLoad measures how busy the machine is while the bench does nothing,
// for d: anything above zero is someone else's work that inflates "cores
// kept busy" and slows every method.
func idleLoad(d time.Duration) float64 {
	before, err := readCPU()
	if err != nil {
		return 0
	}
	time.Sleep(d)
	after, err := readCPU()
	if err != nil {
		return 0
	}
	return coresBusy(before, after)
}

// clockTicks is USER_HZ, the unit of /proc/<pid>/stat's times: 100 on
// every Linux architecture Go supports.
const clockTicks = 100

// serverCPU is the CPU seconds the PostgreSQL servers with these
// postmaster pids have used so far: each postmaster's own time and that of
// the children it has reaped (backends that have exited), plus the time of
// its live children. Unlike /proc/stat it counts nothing else running on
// the machine.
func serverCPU(postmasters []int) (float64, error) {
	isPM := map[int]bool{}
	for _, p := range postmasters {
		isPM[p] = true
	}
	entries, err := os.ReadDir("/proc")
	if err != nil {
		return 0, err
	}
	var ticks uint64
	for _, e := range entries {
		pid, err := strconv.Atoi(e.Name())
		if err != nil {
			continue
		}
		st, err := readProcStat(pid)
		if err != nil {
			continue // exited meanwhile: its time is in its parent's reaped-children time
		}
		switch {
		case isPM[pid]:
			ticks += st.utime + st.stime + st.cutime + st.cstime
		case isPM[st.ppid]:
			ticks += st.utime + st.stime
		}
	}
	return float64(ticks) / clockTicks, nil
}

// procStat is what serverCPU reads of /proc/<pid>/stat.
type procStat struct {
	ppid                         int
	utime, stime, cutime, cstime uint64
}

func readProcStat(pid int) (procStat, error) {
	b, err := os.ReadFile(fmt.Sprintf("/proc/%d/stat", pid))
	if err != nil {
		return procStat{}, err
	}
	return parseProcStat(string(b))
}

// parseProcStat parses a /proc/<pid>/stat line: "pid (comm) state ppid ...";
// comm may hold spaces and parentheses, so fields are counted from the last
// ')'.
func parseProcStat(line string) (procStat, error) {
	i := strings.LastIndexByte(line, ')')
	if i < 0 {
		return procStat{}, fmt.Errorf("unexpected /proc stat line %q", line)
	}
	f := strings.Fields(line[i+1:]) // f[0] is field 3, state
	if len(f) < 15 {
		return procStat{}, fmt.Errorf("unexpected /proc stat line %q", line)
	}
	var st procStat
	var err error
	if st.ppid, err = strconv.Atoi(f[1]); err != nil {
		return procStat{}, err
	}
	for j, dst := range []*uint64{&st.utime, &st.stime, &st.cutime, &st.cstime} {
		if *dst, err = strconv.ParseUint(f[11+j], 10, 64); err != nil {
			return procStat{}, err
		}
	}
	return st, nil
}
