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
	"os/signal"
	"runtime"
	"runtime/pprof"
	"syscall"
)

func main() {
	mode := flag.String("mode", "driver", "driver (default), or clone (the child process that clones once)")
	scale := flag.Float64("scale", 1, "data size: 1 = a shop of 1M customers, 3M orders, 3M payments, and a 7M-row table")
	rounds := flag.Int("rounds", 5, "rounds over which the methods are interleaved; medians are reported")
	scaling := flag.Bool("scaling", true, "also clone the shop at a quarter of -scale (the 4x check)")
	oneTable := flag.Bool("one-table", true, "also clone a one-table dataset with parallelism 1 and 2")
	oneRounds := flag.Int("one-table-rounds", 0, "rounds of the one-table clones (0: 3, or -rounds if fewer)")
	parallelism := flag.Int("parallelism", runtime.NumCPU(), "the clone's parallelism on the shop")
	kind := flag.String("dataset", "shop", "clone mode: shop or ledger (which rules)")
	source := flag.String("source", "", "clone mode: source DSN")
	target := flag.String("target", "", "clone mode: target DSN")
	percent := flag.Float64("subset", 0, "clone mode: percent of customers to copy (0: all)")
	cpuProfile := flag.String("cpuprofile", "", "clone mode: write the clone's CPU profile to this file (go tool pprof)")
	flag.Parse()
	// Interrupted, the driver still stops its clusters and removes them.
	ctx, cancel := signal.NotifyContext(context.Background(), os.Interrupt, syscall.SIGTERM)
	defer cancel()
	var err error
	if *mode == "clone" {
		err = withCPUProfile(*cpuProfile, func() error {
			return runClone(ctx, *kind, *source, *target, *percent, *parallelism)
		})
	} else if *rounds < 1 || *scale <= 0 {
		err = fmt.Errorf("-rounds must be at least 1 and -scale positive")
	} else {
		if *oneRounds <= 0 {
			*oneRounds = min(3, *rounds)
		}
		err = drive(ctx, config{scale: *scale, rounds: *rounds, oneRounds: *oneRounds, scaling: *scaling, oneTable: *oneTable,
			parallelism: *parallelism})
	}
	if err != nil {
		fmt.Fprintln(os.Stderr, "benchclone:", err)
		cancel()
		os.Exit(1)
	}
}

// config is the driver's flags.
type config struct {
	scale       float64
	rounds      int // of the shop's methods
	oneRounds   int // of the one-table clones
	scaling     bool
	oneTable    bool
	parallelism int
}

// withCPUProfile runs f, writing its CPU profile to path unless path is
// empty.
func withCPUProfile(path string, f func() error) error {
	if path == "" {
		return f()
	}
	out, err := os.Create(path)
	if err != nil {
		return err
	}
	defer out.Close()
	if err := pprof.StartCPUProfile(out); err != nil {
		return err
	}
	err = f()
	pprof.StopCPUProfile()
	return err
}
