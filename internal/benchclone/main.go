// Command benchclone measures the masked clone against its limit and its
// peers as a DBA would, in one run, and prints the tables of issue #13:
//
//   - the sequential limit: psql binary COPY pipes (psql -c "COPY t TO
//     STDOUT (FORMAT binary)" | psql -c "COPY t FROM STDIN (FORMAT
//     binary)"), up to one table per core at a time, into bare tables, then
//     the post-data steps (keys and indexes, then foreign keys) in plain SQL,
//     up to one statement per core at a time;
//   - pg_dump -Fd -jN -Z0 followed by pg_restore -jN (N = cores), unmasked;
//   - pgcopydb clone --table-jobs N --index-jobs N, unmasked (installed
//     with apt-get when missing and running as root, else skipped);
//   - our clone with a rule on every personal column, and of a 10% subset;
//   - our clone of the same shop at a quarter of the scale (how time grows
//     with the data), and of a one-table dataset (7M rows at scale 1) with
//     parallelism 1 and 2, with the cores each keeps busy.
//
// Each method runs into a fresh database after one untimed read of every
// source table; methods are interleaved round-robin over -rounds rounds
// (each round starting one method later) and reported as medians with
// their spread. Tools run as their own processes, so the clone's peak
// memory is its own maximum resident set.
//
//	go run ./internal/benchclone -scale 1 -rounds 5
package main

import (
	"context"
	"flag"
	"fmt"
	"os"
	"runtime"
	"time"

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
	Phases  []phase            // our clone's phases
}

// method is one way of copying a dataset, and its samples.
type method struct {
	key     string
	label   string
	d       *dataset
	subset  bool // copies a subset: rows are counted, not compared with the source
	run     func(ctx context.Context, target string) (sample, error)
	samples []sample
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
	seq      int // target databases made so far
}

func main() {
	mode := flag.String("mode", "driver", "driver (default), or clone (the child process that clones once)")
	scale := flag.Float64("scale", 1, "data size: 1 = a shop of 1M customers, 3M orders, 3M payments, and a 7M-row table")
	rounds := flag.Int("rounds", 5, "rounds over which the methods are interleaved; medians are reported")
	scaling := flag.Bool("scaling", true, "also clone the shop at a quarter of -scale (the 4x check)")
	oneTable := flag.Bool("one-table", true, "also clone a one-table dataset with parallelism 1 and 2")
	parallelism := flag.Int("parallelism", runtime.NumCPU(), "the clone's parallelism on the shop")
	kind := flag.String("dataset", "shop", "clone mode: shop or ledger (which rules)")
	source := flag.String("source", "", "clone mode: source DSN")
	target := flag.String("target", "", "clone mode: target DSN")
	percent := flag.Float64("subset", 0, "clone mode: percent of customers to copy (0: all)")
	flag.Parse()
	ctx := context.Background()
	var err error
	if *mode == "clone" {
		err = runClone(ctx, *kind, *source, *target, *percent, *parallelism)
	} else if *rounds < 1 || *scale <= 0 {
		err = fmt.Errorf("-rounds must be at least 1 and -scale positive")
	} else {
		err = drive(ctx, config{scale: *scale, rounds: *rounds, scaling: *scaling, oneTable: *oneTable, parallelism: *parallelism})
	}
	if err != nil {
		fmt.Fprintln(os.Stderr, "benchclone:", err)
		os.Exit(1)
	}
}

// config is the driver's flags.
type config struct {
	scale       float64
	rounds      int
	scaling     bool
	oneTable    bool
	parallelism int
}

func drive(ctx context.Context, cfg config) error {
	began := time.Now()
	b := &bench{jobs: runtime.NumCPU(), limits: map[*dataset]limitPlan{}}
	var err error
	if b.self, err = os.Executable(); err != nil {
		return err
	}
	if b.bin, err = pgtest.FindBinaries(); err != nil {
		return err
	}
	b.pgcopydb = findPgcopydb(ctx)
	if b.pgcopydb.skip != "" {
		fmt.Fprintln(os.Stderr, b.pgcopydb.skip)
	}
	fmt.Fprintln(os.Stderr, "starting two PostgreSQL clusters (source and target)...")
	if b.src, err = pgtest.Start(ctx); err != nil {
		return err
	}
	defer func() { _ = b.src.Stop() }()
	if b.dst, err = pgtest.Start(ctx); err != nil {
		return err
	}
	defer func() { _ = b.dst.Stop() }()

	// Datasets, seeded and read once before anything is timed.
	seedStart := time.Now()
	shop, err := seedShop(ctx, b.src, "shop", cfg.scale)
	if err != nil {
		return err
	}
	datasets := []*dataset{shop}
	var quarter, ledger *dataset
	if cfg.scaling {
		if quarter, err = seedShop(ctx, b.src, "shop_quarter", cfg.scale/4); err != nil {
			return err
		}
		datasets = append(datasets, quarter)
	}
	if cfg.oneTable {
		if ledger, err = seedLedger(ctx, b.src, "ledger", cfg.scale); err != nil {
			return err
		}
		datasets = append(datasets, ledger)
	}
	if b.limits[shop], err = planLimit(ctx, shop); err != nil {
		return err
	}
	seeding := time.Since(seedStart)
	for _, d := range datasets {
		if err := warm(ctx, d); err != nil {
			return err
		}
	}

	// The shop's methods, interleaved; then the one-table clones.
	shopMethods := []*method{
		{key: keyLimit, d: shop, label: "sequential limit = data + post-data",
			run: func(ctx context.Context, t string) (sample, error) { return b.runLimit(ctx, shop, t) }},
		{key: keyDump, d: shop, label: fmt.Sprintf("pg_dump -Fd -j%d -Z0 + pg_restore -j%d, unmasked", b.jobs, b.jobs),
			run: func(ctx context.Context, t string) (sample, error) { return b.runDump(ctx, shop, t) }},
	}
	if b.pgcopydb.skip == "" {
		shopMethods = append(shopMethods, &method{key: keyPgcopydb, d: shop,
			label: fmt.Sprintf("pgcopydb %s clone --table-jobs %d --index-jobs %d, unmasked", b.pgcopydb.version, b.jobs, b.jobs),
			run:   func(ctx context.Context, t string) (sample, error) { return b.runPgcopydb(ctx, shop, t) }})
	}
	shopMethods = append(shopMethods,
		&method{key: keyOurs, d: shop, label: fmt.Sprintf("our clone, every personal column masked (parallelism %d)", cfg.parallelism),
			run: func(ctx context.Context, t string) (sample, error) {
				return b.runOurs(ctx, shop, t, 0, cfg.parallelism)
			}},
		&method{key: keySubset, d: shop, subset: true, label: "our clone, 10% subset of customers, masked",
			run: func(ctx context.Context, t string) (sample, error) {
				return b.runOurs(ctx, shop, t, 10, cfg.parallelism)
			}})
	if quarter != nil {
		shopMethods = append(shopMethods, &method{key: keyQuarter, d: quarter, label: fmt.Sprintf("our clone of the shop at scale %g, masked", quarter.scale),
			run: func(ctx context.Context, t string) (sample, error) {
				return b.runOurs(ctx, quarter, t, 0, cfg.parallelism)
			}})
	}
	var oneMethods []*method
	if ledger != nil {
		for _, p := range []int{1, 2} {
			oneMethods = append(oneMethods, &method{key: map[int]string{1: keyOne1, 2: keyOne2}[p], d: ledger,
				label: fmt.Sprintf("parallelism %d", p),
				run:   func(ctx context.Context, t string) (sample, error) { return b.runOurs(ctx, ledger, t, 0, p) }})
		}
	}

	idle := idleLoad(2 * time.Second)
	fmt.Fprintf(os.Stderr, "machine busy before the rounds: %.2f of %d cores\n", idle, b.jobs)
	roundsStart := time.Now()
	if err := b.rounds(ctx, "shop", shopMethods, cfg.rounds); err != nil {
		return err
	}
	shopTime := time.Since(roundsStart)
	oneStart := time.Now()
	if err := b.rounds(ctx, "one table", oneMethods, cfg.rounds); err != nil {
		return err
	}
	oneTime := time.Since(oneStart)

	r := report{cfg: cfg, jobs: b.jobs, idle: idle, shop: shop, quarter: quarter, ledger: ledger,
		methods: map[string]*method{}, pgcopydbSkip: b.pgcopydb.skip}
	for _, m := range append(shopMethods, oneMethods...) {
		r.methods[m.key] = m
	}
	r.print(os.Stdout, append(shopMethods, oneMethods...))
	fmt.Printf("\nThis run took %s: clusters, seeding (%s) and warming %s; shop rounds %s; one-table rounds %s.\n",
		time.Since(began).Round(time.Second), seeding.Round(time.Second), roundsStart.Sub(began).Round(time.Second),
		shopTime.Round(time.Second), oneTime.Round(time.Second))
	return nil
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
			s, err := b.measure(ctx, m)
			if err != nil {
				return fmt.Errorf("%s: %w", m.label, err)
			}
			m.samples = append(m.samples, s)
			fmt.Fprintf(os.Stderr, "  %s round %d/%d: %-70s %7.2fs %5.2f cores busy\n", what, r+1, n, m.label, s.Seconds, s.Busy)
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
	start := time.Now()
	s, err := m.run(ctx, target)
	wall := time.Since(start).Seconds()
	after, _ := readCPU()
	if err != nil {
		return sample{}, err
	}
	if s.Seconds == 0 {
		s.Seconds = wall
	}
	s.Busy = coresBusy(before, after)
	rows, err := verifyRows(ctx, target, m.d, m.subset)
	if err != nil {
		return sample{}, fmt.Errorf("checking the copy: %w", err)
	}
	s.Rows = rows
	return s, nil
}
