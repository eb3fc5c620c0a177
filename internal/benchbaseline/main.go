// Command benchbaseline compares the masking benchmarks with a committed
// baseline of values per second per transformer, and flags regressions.
//
// It reads `go test -bench` output on its standard input and takes, for
// each masking benchmark (BenchmarkTransform/<transformer> and
// BenchmarkFF1_16Digits), the best of its runs in values/cpu-s (the rate
// per second of the benchmark thread's CPU time, which other processes on
// the machine disturb less than wall time) or, where the thread's CPU
// time is not available, values/s.
//
//	go test -run '^$' -bench 'Transform|FF1_16Digits' -benchtime=300ms -count=3 ./internal/masking/ | \
//	    go run ./internal/benchbaseline -update internal/masking/testdata/bench-baseline.tsv
//
// writes the baseline; without -update it prints baseline, now, their
// ratio, and "regression" where now is below 0.9 of the baseline.
//
// A baseline only means something on the machine that measured it: the
// file records which one, and on another machine (or one busy with other
// work) the ratios say how the machines differ, not how the code did.
// Re-measure the baseline on your machine before you read them.
package main

import (
	"bufio"
	"flag"
	"fmt"
	"io"
	"maps"
	"os"
	"regexp"
	"runtime"
	"slices"
	"strconv"
	"strings"
	"time"
)

// regression is the ratio below which a benchmark is flagged.
const regression = 0.9

func main() {
	file := flag.String("baseline", "internal/masking/testdata/bench-baseline.tsv", "the baseline file")
	update := flag.String("update", "", "write the baseline to this file instead of comparing")
	flag.Parse()
	now, cpu, err := parse(os.Stdin)
	if err != nil {
		fail(err)
	}
	if len(now) == 0 {
		fail(fmt.Errorf("no masking benchmark with values/s in the input"))
	}
	if *update != "" {
		if err := write(*update, now, cpu); err != nil {
			fail(err)
		}
		fmt.Printf("wrote %d baselines to %s\n", len(now), *update)
		return
	}
	base, header, err := read(*file)
	if err != nil {
		fail(err)
	}
	if err := compare(os.Stdout, base, now, header); err != nil {
		fail(err)
	}
}

func fail(err error) {
	fmt.Fprintln(os.Stderr, "benchbaseline:", err)
	os.Exit(1)
}

// benchLine matches a masking benchmark's result line; the name loses its
// -GOMAXPROCS suffix.
var benchLine = regexp.MustCompile(`^Benchmark(Transform/\S+?|FF1_16Digits)(-\d+)?\s+\d+\s`)

// parse returns the best rate of each masking benchmark, and whether the
// rates are per CPU-second (all of them) or per wall-clock second.
func parse(r io.Reader) (map[string]float64, bool, error) {
	wall, cpu := map[string]float64{}, map[string]float64{}
	sc := bufio.NewScanner(r)
	for sc.Scan() {
		m := benchLine.FindStringSubmatch(sc.Text())
		if m == nil {
			continue
		}
		f := strings.Fields(sc.Text())
		for i := 1; i+1 < len(f); i++ {
			v, err := strconv.ParseFloat(f[i], 64)
			if err != nil {
				continue
			}
			switch f[i+1] {
			case "values/s":
				wall[m[1]] = max(wall[m[1]], v)
			case "values/cpu-s":
				cpu[m[1]] = max(cpu[m[1]], v)
			}
		}
	}
	if len(cpu) > 0 && len(cpu) == len(wall) {
		return cpu, true, sc.Err()
	}
	return wall, false, sc.Err()
}

// write saves rates as the baseline, with where and how they were measured.
func write(path string, rates map[string]float64, cpu bool) error {
	unit := "values/s"
	if cpu {
		unit = "values/cpu-s"
	}
	host, _ := os.Hostname()
	var b strings.Builder
	fmt.Fprintf(&b, "# Masking benchmark baseline (%s, best of the runs given), measured %s\n", unit, time.Now().UTC().Format(time.DateOnly))
	fmt.Fprintf(&b, "# on %s: %s, %d CPUs, %s %s/%s, load average %s. Valid on this machine only; re-measure on yours:\n", host, cpuModel(), runtime.NumCPU(), runtime.Version(), runtime.GOOS, runtime.GOARCH, loadAverage())
	b.WriteString("# go test -run '^$' -bench 'Transform|FF1_16Digits' -benchtime=300ms -count=3 ./internal/masking/ | go run ./internal/benchbaseline -update " + path + "\n")
	b.WriteString("# benchmark\t" + unit + "\n")
	for _, name := range slices.Sorted(maps.Keys(rates)) {
		fmt.Fprintf(&b, "%s\t%.0f\n", name, rates[name])
	}
	return os.WriteFile(path, []byte(b.String()), 0o644)
}

// loadAverage is the one-minute load average, or "unknown": a busy
// machine gives lower rates even per CPU-second (shared caches, SMT).
func loadAverage() string {
	data, err := os.ReadFile("/proc/loadavg")
	if f := strings.Fields(string(data)); err == nil && len(f) > 0 {
		return f[0]
	}
	return "unknown"
}

// cpuModel is the CPU's model name from /proc/cpuinfo, or "unknown CPU".
func cpuModel() string {
	data, err := os.ReadFile("/proc/cpuinfo")
	if err != nil {
		return "unknown CPU"
	}
	for line := range strings.SplitSeq(string(data), "\n") {
		if k, v, ok := strings.Cut(line, ":"); ok && strings.TrimSpace(k) == "model name" {
			return strings.TrimSpace(v)
		}
	}
	return "unknown CPU"
}

// read loads a baseline and its comment header.
func read(path string) (map[string]float64, []string, error) {
	data, err := os.ReadFile(path)
	if err != nil {
		return nil, nil, err
	}
	base := map[string]float64{}
	var header []string
	for i, line := range strings.Split(strings.TrimSpace(string(data)), "\n") {
		if strings.HasPrefix(line, "#") {
			header = append(header, line)
			continue
		}
		name, rate, ok := strings.Cut(line, "\t")
		v, err := strconv.ParseFloat(rate, 64)
		if !ok || err != nil {
			return nil, nil, fmt.Errorf("%s:%d: want <benchmark>\\t<rate>", path, i+1)
		}
		base[name] = v
	}
	return base, header, nil
}

// compare prints one row per benchmark of the baseline or the run.
func compare(w io.Writer, base, now map[string]float64, header []string) error {
	for _, h := range header[:min(2, len(header))] {
		fmt.Fprintln(w, h)
	}
	fmt.Fprintf(w, "| %-32s | %14s | %14s | %6s | %s\n", "benchmark", "baseline", "now", "ratio", "")
	fmt.Fprintf(w, "|%s|%s|%s|%s|%s\n", strings.Repeat("-", 34), strings.Repeat("-", 16), strings.Repeat("-", 16), strings.Repeat("-", 8), "------")
	names := slices.Sorted(maps.Keys(base))
	for n := range now {
		if _, ok := base[n]; !ok {
			names = append(names, n)
		}
	}
	regressions := 0
	for _, n := range names {
		b, okB := base[n]
		v, okN := now[n]
		switch {
		case !okN:
			fmt.Fprintf(w, "| %-32s | %14.0f | %14s | %6s | not run\n", n, b, "-", "-")
		case !okB:
			fmt.Fprintf(w, "| %-32s | %14s | %14.0f | %6s | no baseline\n", n, "-", v, "-")
		default:
			flag := ""
			if v < regression*b {
				flag = "regression"
				regressions++
			}
			fmt.Fprintf(w, "| %-32s | %14.0f | %14.0f | %6.2f | %s\n", n, b, v, v/b, flag)
		}
	}
	if regressions > 0 {
		fmt.Fprintf(w, "%d of %d below %.1f× their baseline (machine-specific: see the baseline's header)\n", regressions, len(base), regression)
	}
	return nil
}
