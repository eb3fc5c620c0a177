package main

import (
	"context"
	"fmt"
	"os"
	"path/filepath"
	"runtime"
	"slices"
	"strconv"
	"strings"
	"time"

	"golang.org/x/sync/errgroup"

	"github.com/stagingkit/terraform-provider-staging/internal/pgtest"
)

// sample is one timed run of one method.
type sample struct {
	Seconds float64            // wall seconds of the timed work
	Parts   map[string]float64 // timed parts, for the sequential limit
	Rows    int64              // rows in the target afterwards
	PeakMiB float64            // maximum resident set of the measured process; 0 if not measured
	ProcCPU float64            // CPU seconds of the clone process; 0 if not measured
	Busy    float64            // cores kept busy machine-wide during the run
	SrvCPU  float64            // CPU seconds of both PostgreSQL servers during the run
	Phases  []phase            // our clone's phases
}

// method is one way of copying a dataset, and its samples.
type method struct {
	key    string
	label  string
	d      *dataset
	subset bool // copies a subset: rows are counted, not compared with the source
	// optional methods (a peer tool) that fail are reported and left out
	// of the later rounds instead of ending the bench.
	optional bool
	failed   string
	run      func(ctx context.Context, target string) (sample, error)
	samples  []sample
}

// Method keys.
const (
	keyLimit    = "limit"
	keyDump     = "pg_dump"
	keyPgcopydb = "pgcopydb"
	keyOurs     = "ours"
	keySubset   = "subset"
	keyQuarter  = "ours-quarter"
	keyOne1     = "one-table-p1"
	keyOne2     = "one-table-p2"
)

// bench is the state of one driver run.
type bench struct {
	src, dst *pgtest.Cluster
	bin      string // the PostgreSQL client and server binaries
	self     string // this executable, run again as the clone's child process
	jobs     int    // cores: the jobs every tool is given
	pgcopydb pgcopydbTool
	limits   map[*dataset]limitPlan
	seq      int   // target databases made so far
	pms      []int // the postmasters' pids
}

// datasets are the seeded sources of one run; quarter and ledger are nil
// when not asked for.
type datasets struct {
	shop, quarter, ledger *dataset
}

func (ds datasets) all() []*dataset {
	all := []*dataset{ds.shop}
	for _, d := range []*dataset{ds.quarter, ds.ledger} {
		if d != nil {
			all = append(all, d)
		}
	}
	return all
}

// drive runs the whole benchmark and prints its report on stdout; progress
// goes to stderr.
func drive(ctx context.Context, cfg config) error {
	began := time.Now()
	b := &bench{jobs: runtime.NumCPU(), limits: map[*dataset]limitPlan{}}
	stop, err := b.start(ctx)
	if err != nil {
		return err
	}
	defer stop()
	seedStart := time.Now()
	ds, err := b.seed(ctx, cfg)
	if err != nil {
		return err
	}
	seeding := time.Since(seedStart)
	for _, d := range ds.all() {
		if err := warm(ctx, d); err != nil {
			return err
		}
	}
	shopMethods, oneMethods := b.shopMethods(cfg, ds), b.oneTableMethods(ds)

	idle := idleLoad(2 * time.Second)
	fmt.Fprintf(os.Stderr, "machine busy before the rounds: %.2f of %d cores\n", idle, b.jobs)
	roundsStart := time.Now()
	if err := b.rounds(ctx, "shop", shopMethods, cfg.rounds); err != nil {
		return err
	}
	oneStart := time.Now()
	if err := b.rounds(ctx, "one table", oneMethods, cfg.oneRounds); err != nil {
		return err
	}
	end := time.Now()

	all := slices.Concat(shopMethods, oneMethods)
	r := report{cfg: cfg, jobs: b.jobs, idle: idle, shop: ds.shop, quarter: ds.quarter, ledger: ds.ledger,
		methods: map[string]*method{}, notes: []string{b.pgcopydb.skip}}
	for _, m := range all {
		r.methods[m.key] = m
		r.notes = append(r.notes, m.failed)
	}
	r.print(os.Stdout, all)
	perRound := func(d time.Duration, n int) time.Duration { return (d / time.Duration(n)).Round(time.Second) }
	fmt.Printf("\nThis run took %s: clusters, seeding (%s) and warming %s; shop rounds %s (%s each); one-table rounds %s (%s each).\n",
		end.Sub(began).Round(time.Second), seeding.Round(time.Second), roundsStart.Sub(began).Round(time.Second),
		oneStart.Sub(roundsStart).Round(time.Second), perRound(oneStart.Sub(roundsStart), cfg.rounds),
		end.Sub(oneStart).Round(time.Second), perRound(end.Sub(oneStart), cfg.oneRounds))
	return nil
}

// start finds the tools and starts the source and target clusters; stop
// stops them.
func (b *bench) start(ctx context.Context) (stop func(), err error) {
	if b.self, err = os.Executable(); err != nil {
		return nil, err
	}
	if b.bin, err = pgtest.FindBinaries(); err != nil {
		return nil, err
	}
	b.pgcopydb = findPgcopydb(ctx)
	if b.pgcopydb.skip != "" {
		fmt.Fprintln(os.Stderr, b.pgcopydb.skip)
	}
	fmt.Fprintln(os.Stderr, "starting two PostgreSQL clusters (source and target)...")
	if b.src, err = pgtest.Start(ctx); err != nil {
		return nil, err
	}
	if b.dst, err = pgtest.Start(ctx); err != nil {
		_ = b.src.Stop()
		return nil, err
	}
	stop = func() { _ = b.src.Stop(); _ = b.dst.Stop() }
	for _, c := range []*pgtest.Cluster{b.src, b.dst} {
		pid, err := postmasterPID(c)
		if err != nil {
			stop()
			return nil, err
		}
		b.pms = append(b.pms, pid)
	}
	return stop, nil
}

// postmasterPID reads the first line of the cluster's postmaster.pid.
func postmasterPID(c *pgtest.Cluster) (int, error) {
	b, err := os.ReadFile(filepath.Join(c.Dir, "data", "postmaster.pid"))
	if err != nil {
		return 0, err
	}
	line, _, _ := strings.Cut(string(b), "\n")
	return strconv.Atoi(strings.TrimSpace(line))
}

// seed creates the datasets cfg asks for in the source cluster, the shop
// beside the others (each seeds on one server core), and reads the
// sequential limit's plan of the shop.
func (b *bench) seed(ctx context.Context, cfg config) (datasets, error) {
	var ds datasets
	g, gctx := errgroup.WithContext(ctx)
	g.Go(func() (err error) {
		ds.shop, err = seedShop(gctx, b.src, "shop", cfg.scale)
		return err
	})
	g.Go(func() (err error) {
		if cfg.scaling {
			if ds.quarter, err = seedShop(gctx, b.src, "shop_quarter", cfg.scale/4); err != nil {
				return err
			}
		}
		if cfg.oneTable {
			ds.ledger, err = seedLedger(gctx, b.src, "ledger", cfg.scale)
		}
		return err
	})
	if err := g.Wait(); err != nil {
		return ds, err
	}
	p, err := planLimit(ctx, ds.shop)
	if err != nil {
		return ds, err
	}
	b.limits[ds.shop] = p
	fmt.Fprintf(os.Stderr, "sequential limit: %d bare tables and types, then %d keys and indexes, then %d foreign keys\n",
		len(p.bare), len(p.keysIndexes), len(p.foreignKeys))
	return ds, nil
}

// shopMethods are the methods interleaved on the shop: the yardsticks and
// our clones, whole, subset and at a quarter of the scale.
func (b *bench) shopMethods(cfg config, ds datasets) []*method {
	shop := ds.shop
	ours := func(d *dataset, percent float64, parallelism int) func(context.Context, string) (sample, error) {
		return func(ctx context.Context, target string) (sample, error) {
			return b.runOurs(ctx, d, target, percent, parallelism)
		}
	}
	ms := []*method{
		{key: keyLimit, d: shop, label: "sequential limit = data + post-data",
			run: func(ctx context.Context, t string) (sample, error) { return b.runLimit(ctx, shop, t) }},
		{key: keyDump, d: shop, label: fmt.Sprintf("pg_dump -Fd -j%d -Z0 + pg_restore -j%d, unmasked", b.jobs, b.jobs),
			run: func(ctx context.Context, t string) (sample, error) { return b.runDump(ctx, shop, t) }},
	}
	if b.pgcopydb.skip == "" {
		ms = append(ms, &method{key: keyPgcopydb, d: shop, optional: true,
			label: fmt.Sprintf("pgcopydb %s clone --table-jobs %d --index-jobs %d, unmasked", b.pgcopydb.version, b.jobs, b.jobs),
			run:   func(ctx context.Context, t string) (sample, error) { return b.runPgcopydb(ctx, shop, t) }})
	}
	ms = append(ms,
		&method{key: keyOurs, d: shop, run: ours(shop, 0, cfg.parallelism),
			label: fmt.Sprintf("our clone, every personal column masked (parallelism %d)", cfg.parallelism)},
		&method{key: keySubset, d: shop, subset: true, run: ours(shop, 10, cfg.parallelism),
			label: "our clone, 10% subset of customers, masked"})
	if ds.quarter != nil {
		ms = append(ms, &method{key: keyQuarter, d: ds.quarter, run: ours(ds.quarter, 0, cfg.parallelism),
			label: fmt.Sprintf("our clone of the shop at scale %g, masked", ds.quarter.scale)})
	}
	return ms
}

// oneTableMethods are our clones of the one-table dataset with
// parallelism 1 and 2.
func (b *bench) oneTableMethods(ds datasets) []*method {
	if ds.ledger == nil {
		return nil
	}
	var ms []*method
	for _, p := range []struct {
		key         string
		parallelism int
	}{{keyOne1, 1}, {keyOne2, 2}} {
		ms = append(ms, &method{key: p.key, d: ds.ledger, label: fmt.Sprintf("parallelism %d", p.parallelism),
			run: func(ctx context.Context, t string) (sample, error) {
				return b.runOurs(ctx, ds.ledger, t, 0, p.parallelism)
			}})
	}
	return ms
}

// rounds runs every method once per round, each round starting one method
// later than the one before, and prints progress and, after the first
// round, when the rest should end.
func (b *bench) rounds(ctx context.Context, what string, methods []*method, n int) error {
	if len(methods) == 0 {
		return nil
	}
	start := time.Now()
	for r := range n {
		for i := range methods {
			m := methods[(r+i)%len(methods)]
			if m.failed != "" {
				continue
			}
			s, err := b.measure(ctx, m)
			if err != nil && m.optional && ctx.Err() == nil {
				m.failed = fmt.Sprintf("%s failed in round %d and was left out: %v", m.label, r+1, err)
				fmt.Fprintln(os.Stderr, m.failed)
				continue
			}
			if err != nil {
				return fmt.Errorf("%s: %w", m.label, err)
			}
			m.samples = append(m.samples, s)
			fmt.Fprintf(os.Stderr, "  %s, round %d/%d: %7.2f s, %4.2f cores busy: %s\n", what, r+1, n, s.Seconds, s.Busy, m.label)
		}
		if r == 0 && n > 1 {
			left := time.Since(start) * time.Duration(n-1)
			fmt.Fprintf(os.Stderr, "%s: round 1 took %s; %d more rounds, about %s (until %s)\n", what,
				time.Since(start).Round(time.Second), n-1, left.Round(time.Second), time.Now().Add(left).Format("15:04"))
		}
	}
	return nil
}

// measure runs m once into a fresh target database, times it, measures
// the cores kept busy, checks the rows copied and drops the database.
func (b *bench) measure(ctx context.Context, m *method) (sample, error) {
	b.seq++
	name := fmt.Sprintf("run_%d", b.seq)
	target, err := b.dst.CreateDatabase(ctx, name)
	if err != nil {
		return sample{}, err
	}
	defer func() { _ = b.dst.DropDatabase(ctx, name) }()
	// No checkpoint of an earlier run lands in this one.
	for _, c := range []*pgtest.Cluster{b.src, b.dst} {
		if err := execAll(ctx, c.DSN("postgres"), []string{"CHECKPOINT"}, 1); err != nil {
			return sample{}, err
		}
	}
	before, _ := readCPU()
	srvBefore, _ := serverCPU(b.pms)
	start := time.Now()
	s, err := m.run(ctx, target)
	wall := time.Since(start).Seconds()
	after, _ := readCPU()
	srvAfter, _ := serverCPU(b.pms)
	if err != nil {
		return sample{}, err
	}
	if s.Seconds == 0 {
		s.Seconds = wall
	}
	s.Busy = coresBusy(before, after)
	s.SrvCPU = srvAfter - srvBefore
	rows, err := verifyRows(ctx, target, m.d, m.subset)
	if err != nil {
		return sample{}, fmt.Errorf("checking the copy: %w", err)
	}
	s.Rows = rows
	return s, nil
}
