package main

import (
	"fmt"
	"io"
	"slices"
	"strconv"
	"strings"
	"text/tabwriter"
)

// report prints the tables and targets of one driver run.
type report struct {
	cfg                   config
	jobs                  int
	idle                  float64 // cores busy before the rounds
	shop, quarter, ledger *dataset
	methods               map[string]*method
	notes                 []string // methods skipped or failed, one line each; empty lines are none
}

// spread is the median, minimum and maximum of some samples.
type spread struct{ med, min, max float64 }

func stats(xs []float64) spread {
	if len(xs) == 0 {
		return spread{}
	}
	s := slices.Sorted(slices.Values(xs))
	n := len(s)
	med := s[n/2]
	if n%2 == 0 {
		med = (s[n/2-1] + s[n/2]) / 2
	}
	return spread{med: med, min: s[0], max: s[n-1]}
}

// stat is the spread of f over m's samples.
func (m *method) stat(f func(sample) float64) spread {
	xs := make([]float64, len(m.samples))
	for i, s := range m.samples {
		xs[i] = f(s)
	}
	return stats(xs)
}

func (m *method) seconds() spread { return m.stat(func(s sample) float64 { return s.Seconds }) }

// get is the method with key k, or nil when it was not measured.
func (r report) get(k string) *method {
	if m := r.methods[k]; m != nil && len(m.samples) > 0 {
		return m
	}
	return nil
}

// print prints the shop's table, the clone's phases, the one-table
// clones and the targets; order is the methods' order in the shop table.
func (r report) print(w io.Writer, order []*method) {
	r.printShop(w, order)
	r.printPhases(w)
	r.printOneTable(w)
	r.printTargets(w)
}

// printShop prints every method on the shop against the sequential limit.
func (r report) printShop(w io.Writer, order []*method) {
	limit := r.get(keyLimit)
	lim := limit.seconds().med
	fmt.Fprintf(w, "\n== The shop at scale %g (%s rows), %d cores: medians of %d interleaved rounds ==\n",
		r.shop.scale, thousands(r.shop.totalRows()), r.jobs, r.cfg.rounds)
	tw := tabwriter.NewWriter(w, 0, 4, 1, ' ', 0)
	fmt.Fprintln(tw, "| method\t| median s\t| min-max s\t| spread\t| x sequential limit\t| rows\t| peak MiB\t| cores busy\t|")
	fmt.Fprintln(tw, "|---\t|---\t|---\t|---\t|---\t|---\t|---\t|---\t|")
	row := func(label string, sec spread, vsLimit, rows, peak, busy string) {
		fmt.Fprintf(tw, "| %s\t| %.1f\t| %.1f-%.1f\t| ±%.0f%%\t| %s\t| %s\t| %s\t| %s\t|\n", label, sec.med, sec.min, sec.max,
			50*(sec.max-sec.min)/max(sec.med, 1e-9), vsLimit, rows, peak, busy)
	}
	for _, p := range []struct{ label, part string }{
		{fmt.Sprintf("psql binary COPY pipes, %d tables at a time, into bare tables (data)", r.jobs), partData},
		{fmt.Sprintf("post-data in plain SQL, %d at a time: keys and indexes, then foreign keys", r.jobs), partPostData},
	} {
		sec := limit.stat(func(s sample) float64 { return s.Parts[p.part] })
		row(p.label, sec, ratio(sec.med, lim), "", "-", "-")
	}
	for _, m := range order {
		if m.d == r.ledger || len(m.samples) == 0 {
			continue
		}
		sec := m.seconds()
		vsLimit := "-" // the quarter-scale clone has no limit of its own
		if m.d == r.shop {
			vsLimit = ratio(sec.med, lim)
		}
		peak := "-"
		if p := m.stat(func(s sample) float64 { return s.PeakMiB }); p.max > 0 {
			peak = fmt.Sprintf("%.0f", p.max)
		}
		row(m.label, sec, vsLimit, thousands(int64(m.stat(func(s sample) float64 { return float64(s.Rows) }).med)), peak,
			fmt.Sprintf("%.2f", m.stat(func(s sample) float64 { return s.Busy }).med))
	}
	tw.Flush()
	for _, n := range r.notes {
		if n != "" {
			fmt.Fprintln(w, n)
		}
	}
	fmt.Fprintf(w, `
- spread: half the min-max range over the median. x sequential limit: median over median.
- peak MiB: the maximum resident set of the tool's own process (the most over the rounds; pg_dump/pg_restore: the larger of the two); the servers' memory is not counted.
- cores busy: how many of the machine's %d cores were busy on average during the run, from /proc/stat
  (user+nice+system+irq+softirq over all CPU time, times %d): the tool, both PostgreSQL servers and anything else
  running. The machine was %.2f cores busy before the rounds; more than 0.1 means other work skewed this run.
`, r.jobs, r.jobs, r.idle)
}

// printPhases prints where our whole masked clone's time went: each
// phase's medians over the rounds, by pgclone's stable Key when it reports
// one, else by its Name.
func (r report) printPhases(w io.Writer) {
	m := r.get(keyOurs)
	if m == nil {
		return
	}
	var keys []string
	names := map[string]string{}
	start, dur, busy := map[string][]float64{}, map[string][]float64{}, map[string][]float64{}
	for _, s := range m.samples {
		for _, p := range s.Phases {
			k := p.Key
			if k == "" {
				k = p.Name
			}
			if _, ok := names[k]; !ok {
				keys = append(keys, k)
				names[k] = p.Name
			}
			start[k] = append(start[k], p.Start.Seconds())
			dur[k] = append(dur[k], p.Duration.Seconds())
			busy[k] = append(busy[k], p.Busy.Seconds())
		}
	}
	total := m.seconds().med
	fmt.Fprintf(w, "\n== Where our masked clone's time goes (shop at scale %g, medians of %d rounds) ==\n", r.shop.scale, len(m.samples))
	tw := tabwriter.NewWriter(w, 0, 4, 1, ' ', 0)
	fmt.Fprintln(tw, "| phase\t| what\t| starts at s\t| seconds\t| share of the clone\t| busy s\t|")
	fmt.Fprintln(tw, "|---\t|---\t|---\t|---\t|---\t|---\t|")
	dash := func(x spread, format string) string {
		if x.max <= 0 {
			return "-"
		}
		return fmt.Sprintf(format, x.med)
	}
	for _, k := range keys {
		what := names[k]
		if what == k {
			what = ""
		}
		d := stats(dur[k])
		fmt.Fprintf(tw, "| %s\t| %s\t| %s\t| %.2f\t| %.0f%%\t| %s\t|\n", k, what, dash(stats(start[k]), "%.2f"), d.med,
			100*d.med/max(total, 1e-9), dash(stats(busy[k]), "%.2f"))
	}
	tw.Flush()
	fmt.Fprintln(w, `seconds: from the phase's first task to the end of its last (phases the clone overlaps overlap here too);
busy s: its tasks' time summed over the workers, when pgclone reports it; share: seconds over the whole clone's median.`)
}

// printOneTable prints the one-table clones.
func (r report) printOneTable(w io.Writer) {
	if r.ledger == nil {
		return
	}
	fmt.Fprintf(w, "\n== One table (payments, %s rows, 3 masked columns), our clone: medians of %d interleaved rounds ==\n",
		thousands(r.ledger.totalRows()), r.cfg.oneRounds)
	tw := tabwriter.NewWriter(w, 0, 4, 1, ' ', 0)
	fmt.Fprintln(tw, "| clone\t| median s\t| min-max s\t| rows/s\t| cores kept busy\t| clone + servers cores\t| clone process cores\t| peak MiB\t|")
	fmt.Fprintln(tw, "|---\t|---\t|---\t|---\t|---\t|---\t|---\t|---\t|")
	for _, k := range []string{keyOne1, keyOne2} {
		m := r.get(k)
		if m == nil {
			continue
		}
		sec := m.seconds()
		fmt.Fprintf(tw, "| %s\t| %.1f\t| %.1f-%.1f\t| %s\t| %.2f\t| %.2f\t| %.2f\t| %.0f\t|\n", m.label, sec.med, sec.min, sec.max,
			thousands(int64(float64(r.ledger.totalRows())/sec.med)),
			m.stat(func(s sample) float64 { return s.Busy }).med,
			m.stat(func(s sample) float64 { return (s.ProcCPU + s.SrvCPU) / s.Seconds }).med,
			m.stat(func(s sample) float64 { return s.ProcCPU / s.Seconds }).med,
			m.stat(func(s sample) float64 { return s.PeakMiB }).max)
	}
	tw.Flush()
	fmt.Fprintln(w, `cores kept busy: the whole machine, as above (the clone, both servers and anything else running).
clone + servers cores: the CPU seconds of the clone process (rusage) and of both PostgreSQL servers (their postmasters'
and backends' times in /proc/<pid>/stat) over the clone's wall seconds: the same measure without other work on the machine.
clone process cores: the clone's own CPU seconds over its wall seconds.`)
}

// printTargets prints each of issue #13's targets as met or NOT met.
func (r report) printTargets(w io.Writer) {
	fmt.Fprintf(w, "\n== Targets (issue #13) ==\n")
	ours := r.get(keyOurs)
	o := ours.seconds().med
	if m := r.get(keyPgcopydb); m != nil {
		p := m.seconds().med
		fmt.Fprintf(w, "- masked clone %.1f s <= pgcopydb unmasked %.1f s (medians): %s\n", o, p, verdict(o <= p))
	} else {
		fmt.Fprintln(w, "- masked clone <= pgcopydb unmasked: not measured (pgcopydb was skipped or failed, see above)")
	}
	d := r.get(keyDump).seconds().med
	fmt.Fprintf(w, "- masked clone %.1f s < pg_dump/pg_restore unmasked %.1f s (medians): %s\n", o, d, verdict(o < d))
	if q := r.get(keyQuarter); q != nil {
		x := o / q.seconds().med
		fmt.Fprintf(w, "- 4x the data costs %.2fx the time (<= 4.4): %s\n", x, verdict(x <= 4.4))
	}
	one1, one2 := r.get(keyOne1), r.get(keyOne2)
	if one1 != nil && one2 != nil {
		s1, s2 := one1.seconds().med, one2.seconds().med
		fmt.Fprintf(w, "- one table, parallelism 2 %.1f s no slower than parallelism 1 %.1f s: %s\n", s2, s1, verdict(s2 <= s1))
		busy := one2.stat(func(s sample) float64 { return s.Busy }).med
		own := one2.stat(func(s sample) float64 { return (s.ProcCPU + s.SrvCPU) / s.Seconds }).med
		fmt.Fprintf(w, "- one table, parallelism 2 keeps %.2f cores busy machine-wide (>= 1.8; the clone and servers alone: %.2f): %s\n",
			busy, own, verdict(busy >= 1.8))
	}
	var peak float64
	for _, k := range []string{keyOurs, keySubset, keyQuarter, keyOne1, keyOne2} {
		if m := r.get(k); m != nil {
			peak = max(peak, m.stat(func(s sample) float64 { return s.PeakMiB }).max)
		}
	}
	fmt.Fprintf(w, "- clone peak RSS %.0f MiB, the most of any clone run (<= 256 MiB): %s\n", peak, verdict(peak <= 256))
}

func verdict(ok bool) string {
	if ok {
		return "met"
	}
	return "NOT met"
}

func ratio(x, limit float64) string {
	if limit <= 0 {
		return "-"
	}
	return fmt.Sprintf("%.2f", x/limit)
}

// thousands formats n with comma separators.
func thousands(n int64) string {
	s := strconv.FormatInt(n, 10)
	var b strings.Builder
	for i, c := range s {
		if i > 0 && (len(s)-i)%3 == 0 && s[0] != '-' {
			b.WriteByte(',')
		}
		b.WriteRune(c)
	}
	return b.String()
}
