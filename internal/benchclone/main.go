// Command benchclone measures the masked clone against its physical limit
// and its peers on a generated shop, in one run, and prints one table:
//
//   - the limit: a plain binary COPY TO STDOUT | COPY FROM STDIN pipe into
//     tables without constraints or indexes, two tables at a time;
//   - pg_dump -Fd -j2 -Z0 followed by pg_restore -j2;
//   - our clone with a rule on every personal column (data phase and whole
//     clone with constraints and indexes);
//   - our clone of a 10% subset.
//
// Each measured tool runs as its own process so that its peak memory
// (maximum resident set) can be read; the data is generated at -scale
// (1 = 1M customers, 3M orders, 3M payments) and, with -scaling, also at a
// quarter of it, to show how time grows with the data.
//
//	go run ./internal/benchclone -scale 1
package main

import (
	"context"
	"encoding/json"
	"flag"
	"fmt"
	"io"
	"os"
	"os/exec"
	"path/filepath"
	"strings"
	"syscall"
	"text/tabwriter"
	"time"

	"github.com/jackc/pgx/v5"
	"github.com/jackc/pgx/v5/pgconn"
	"golang.org/x/sync/errgroup"

	"github.com/stagingkit/terraform-provider-staging/internal/masking"
	"github.com/stagingkit/terraform-provider-staging/internal/pgclone"
	"github.com/stagingkit/terraform-provider-staging/internal/pgtest"
	"github.com/stagingkit/terraform-provider-staging/internal/shopdata"
)

// parallelism is the clone's -parallelism, passed on to its child process.
var parallelism int

var tables = []string{"customers", "addresses", "orders", "payments", "support_tickets"}

// rules mask every personal column of the shop.
var rules = []pgclone.ColumnRule{
	{Table: "customers", Column: "email", Spec: masking.Spec{Transformer: "email", Domain: "customer_email"}},
	{Table: "customers", Column: "first_name", Spec: masking.Spec{Transformer: "first_name"}},
	{Table: "customers", Column: "last_name", Spec: masking.Spec{Transformer: "last_name"}},
	{Table: "customers", Column: "phone", Spec: masking.Spec{Transformer: "phone"}},
	{Table: "customers", Column: "birth_date", Spec: masking.Spec{Transformer: "date_shift"}},
	{Table: "addresses", Column: "street", Spec: masking.Spec{Transformer: "address"}},
	{Table: "addresses", Column: "postal_code", Spec: masking.Spec{Transformer: "text_scramble"}},
	{Table: "payments", Column: "card_number", Spec: masking.Spec{Transformer: "credit_card"}},
	{Table: "payments", Column: "card_holder", Spec: masking.Spec{Transformer: "full_name"}},
	{Table: "support_tickets", Column: "body", Spec: masking.Spec{Transformer: "text_scramble"}},
}

// measurement is one row of the table.
type measurement struct {
	Method  string
	Scale   float64
	Rows    int64
	Seconds float64 // whole job
	Data    float64 // data phase, when the job has one
	PeakMiB float64 // maximum resident set of the measured process(es); 0 if not measured
}

// cloneReport is what a clone child process prints.
type cloneReport struct {
	Rows    int64           `json:"rows"`
	Seconds float64         `json:"seconds"`
	Data    float64         `json:"data_seconds"`
	Phases  []pgclone.Phase `json:"phases"`
}

func main() {
	mode := flag.String("mode", "driver", "driver (default), or clone (child process)")
	scale := flag.Float64("scale", 1, "data size: 1 = 1M customers, 3M orders, 3M payments")
	scaling := flag.Bool("scaling", true, "also measure at a quarter of -scale, to compare how time grows with the data")
	source := flag.String("source", "", "clone mode: source DSN")
	target := flag.String("target", "", "clone mode: target DSN")
	percent := flag.Float64("subset", 0, "clone mode: percent of customers to copy (0: all)")
	flag.IntVar(&parallelism, "parallelism", 2, "tables the clone copies at once")
	flag.Parse()
	ctx := context.Background()
	var err error
	if *mode == "clone" {
		err = runClone(ctx, *source, *target, *percent)
	} else {
		err = drive(ctx, *scale, *scaling)
	}
	if err != nil {
		fmt.Fprintln(os.Stderr, "benchclone:", err)
		os.Exit(1)
	}
}

// runClone is the child process that clones and reports.
func runClone(ctx context.Context, source, target string, percent float64) error {
	src, err := pgx.ParseConfig(source)
	if err != nil {
		return err
	}
	dst, err := pgx.ParseConfig(target)
	if err != nil {
		return err
	}
	key, err := masking.DeriveKey([]byte("benchmark masking key"))
	if err != nil {
		return err
	}
	opts := pgclone.Options{Rules: rules, Key: key, Parallelism: parallelism,
		// The benchmark's clusters are throwaway and it reads as their
		// superuser, as pg_dump does beside it.
		Source: pgclone.SourceSettings{AllowPrivilegedLogin: true}}
	if percent > 0 {
		opts.Subset = pgclone.SubsetOptions{Subsets: []pgclone.Subset{{Table: "customers", Percent: percent}}, NullDangling: true, Seed: "bench"}
	}
	res, err := pgclone.Clone(ctx, src, dst, opts)
	if err != nil {
		return err
	}
	var rows int64
	for _, t := range res.Tables {
		rows += t.Rows
	}
	return json.NewEncoder(os.Stdout).Encode(cloneReport{Rows: rows, Seconds: res.Duration.Seconds(), Data: res.DataDuration.Seconds(), Phases: res.Phases})
}

// peakMiB is the maximum resident set of a finished process.
func peakMiB(ps *os.ProcessState) float64 {
	if ru, ok := ps.SysUsage().(*syscall.Rusage); ok {
		return float64(ru.Maxrss) / 1024 // kilobytes on Linux
	}
	return 0
}

func drive(ctx context.Context, scale float64, scaling bool) error {
	self, err := os.Executable()
	if err != nil {
		return err
	}
	fmt.Fprintln(os.Stderr, "starting two PostgreSQL clusters (source and target)...")
	src, err := pgtest.Start(ctx)
	if err != nil {
		return err
	}
	defer func() { _ = src.Stop() }()
	dst, err := pgtest.Start(ctx)
	if err != nil {
		return err
	}
	defer func() { _ = dst.Stop() }()
	bin, err := pgtest.FindBinaries()
	if err != nil {
		return err
	}

	scales := []float64{scale}
	if scaling {
		scales = []float64{scale / 4, scale}
	}
	var results []measurement
	for i, s := range scales {
		srcDSN, err := src.CreateDatabase(ctx, fmt.Sprintf("shop_%d", i))
		if err != nil {
			return err
		}
		conn, err := pgx.Connect(ctx, srcDSN)
		if err != nil {
			return err
		}
		start := time.Now()
		if err := shopdata.Create(ctx, conn); err != nil {
			return err
		}
		sz, err := shopdata.Seed(ctx, conn, s)
		if err != nil {
			return err
		}
		if _, err := conn.Exec(ctx, "CHECKPOINT"); err != nil {
			return err
		}
		total := sz.Customers + sz.Addresses + sz.Orders + sz.Payments + sz.Tickets
		fmt.Fprintf(os.Stderr, "scale %g: seeded %d rows in %s\n", s, total, time.Since(start).Round(time.Second))

		// 1. The limit: binary COPY pipe into bare tables.
		pipeDSN, err := dst.CreateDatabase(ctx, fmt.Sprintf("pipe_%d", i))
		if err != nil {
			return err
		}
		secs, err := copyPipe(ctx, conn, srcDSN, pipeDSN)
		conn.Close(ctx)
		if err != nil {
			return fmt.Errorf("copy pipe: %w", err)
		}
		results = append(results, measurement{Method: "COPY pipe (binary, no indexes): the limit", Scale: s, Rows: total, Seconds: secs, Data: secs})
		fmt.Fprintf(os.Stderr, "  copy pipe %.1fs\n", secs)

		// 2. pg_dump | pg_restore.
		dumpDSN, err := dst.CreateDatabase(ctx, fmt.Sprintf("dump_%d", i))
		if err != nil {
			return err
		}
		dir, err := os.MkdirTemp("", "benchdump")
		if err != nil {
			return err
		}
		start = time.Now()
		dump := exec.CommandContext(ctx, filepath.Join(bin, "pg_dump"), "-Fd", "-j2", "-Z0", "-f", filepath.Join(dir, "d"), srcDSN)
		if out, err := dump.CombinedOutput(); err != nil {
			return fmt.Errorf("pg_dump: %w\n%s", err, out)
		}
		restore := exec.CommandContext(ctx, filepath.Join(bin, "pg_restore"), "-j2", "-d", dumpDSN, filepath.Join(dir, "d"))
		if out, err := restore.CombinedOutput(); err != nil {
			return fmt.Errorf("pg_restore: %w\n%s", err, out)
		}
		secs = time.Since(start).Seconds()
		_ = os.RemoveAll(dir)
		results = append(results, measurement{Method: "pg_dump -Fd -j2 -Z0 + pg_restore -j2 (no masking)", Scale: s, Rows: total, Seconds: secs,
			PeakMiB: max(peakMiB(dump.ProcessState), peakMiB(restore.ProcessState))})
		fmt.Fprintf(os.Stderr, "  pg_dump+pg_restore %.1fs\n", secs)

		// 3 and 4. Our clone, whole and subset, each in its own process.
		for _, pct := range []float64{0, 10} {
			cloneDSN, err := dst.CreateDatabase(ctx, fmt.Sprintf("clone_%d_%d", i, int(pct)))
			if err != nil {
				return err
			}
			cmd := exec.CommandContext(ctx, self, "-mode", "clone", "-source", srcDSN, "-target", cloneDSN, "-subset", fmt.Sprint(pct), "-parallelism", fmt.Sprint(parallelism))
			var stderr strings.Builder
			cmd.Stderr = &stderr
			out, err := cmd.Output()
			if err != nil {
				return fmt.Errorf("clone: %w\n%s", err, stderr.String())
			}
			var rep cloneReport
			if err := json.Unmarshal(out, &rep); err != nil {
				return fmt.Errorf("clone report %q: %w", out, err)
			}
			name := "our clone, every personal column masked"
			if pct > 0 {
				name = "our clone, 10% subset of customers, masked"
			}
			results = append(results, measurement{Method: name, Scale: s, Rows: rep.Rows, Seconds: rep.Seconds, Data: rep.Data, PeakMiB: peakMiB(cmd.ProcessState)})
			fmt.Fprintf(os.Stderr, "  %s %.1fs:", name, rep.Seconds)
			for _, ph := range rep.Phases {
				fmt.Fprintf(os.Stderr, " %s %.1fs;", ph.Name, ph.Duration.Seconds())
			}
			fmt.Fprintln(os.Stderr)
		}
	}
	printTable(os.Stdout, results, scales)
	return nil
}

// copyPipe streams every table in binary COPY from source to bare tables
// of the same columns in target, two at a time, and returns the seconds
// the data took.
func copyPipe(ctx context.Context, srcConn *pgx.Conn, srcDSN, dstDSN string) (float64, error) {
	dstConn, err := pgx.Connect(ctx, dstDSN)
	if err != nil {
		return 0, err
	}
	defer dstConn.Close(ctx)
	// The types the columns use, then bare tables.
	for _, ddl := range shopdata.Schema[:2] {
		if _, err := dstConn.Exec(ctx, ddl); err != nil {
			return 0, err
		}
	}
	for _, t := range tables {
		var cols string
		if err := srcConn.QueryRow(ctx, `SELECT string_agg(quote_ident(attname) || ' ' || format_type(atttypid, atttypmod), ', ' ORDER BY attnum)
			FROM pg_attribute WHERE attrelid = $1::regclass AND attnum > 0 AND NOT attisdropped`, t).Scan(&cols); err != nil {
			return 0, err
		}
		if _, err := dstConn.Exec(ctx, fmt.Sprintf("CREATE TABLE %s (%s)", t, cols)); err != nil {
			return 0, err
		}
	}
	start := time.Now()
	g, gctx := errgroup.WithContext(ctx)
	g.SetLimit(2)
	for _, t := range tables {
		g.Go(func() error {
			s, err := pgconn.Connect(gctx, srcDSN)
			if err != nil {
				return err
			}
			defer s.Close(context.Background())
			d, err := pgconn.Connect(gctx, dstDSN)
			if err != nil {
				return err
			}
			defer d.Close(context.Background())
			pr, pw := io.Pipe()
			done := make(chan error, 1)
			go func() {
				_, err := d.CopyFrom(gctx, pr, fmt.Sprintf("COPY %s FROM STDIN (FORMAT binary)", t))
				_ = pr.CloseWithError(err)
				done <- err
			}()
			_, err = s.CopyTo(gctx, pw, fmt.Sprintf("COPY %s TO STDOUT (FORMAT binary)", t))
			_ = pw.CloseWithError(err)
			if inErr := <-done; err == nil {
				err = inErr
			}
			return err
		})
	}
	if err := g.Wait(); err != nil {
		return 0, err
	}
	return time.Since(start).Seconds(), nil
}

func printTable(w io.Writer, results []measurement, scales []float64) {
	limit := map[float64]float64{}
	dump := map[float64]float64{}
	clone := map[float64]measurement{}
	for _, r := range results {
		switch {
		case strings.HasPrefix(r.Method, "COPY pipe"):
			limit[r.Scale] = r.Seconds
		case strings.HasPrefix(r.Method, "pg_dump"):
			dump[r.Scale] = r.Seconds
		case r.Method == "our clone, every personal column masked":
			clone[r.Scale] = r
		}
	}
	fmt.Fprintln(w)
	tw := tabwriter.NewWriter(w, 0, 4, 2, ' ', 0)
	fmt.Fprintln(tw, "| method\t| scale\t| rows\t| seconds\t| data phase s\t| rows/s\t| peak MiB\t| vs limit\t|")
	fmt.Fprintln(tw, "|---\t|---\t|---\t|---\t|---\t|---\t|---\t|---\t|")
	for _, r := range results {
		data, peak, ratio := "-", "-", ""
		if r.Data > 0 {
			data = fmt.Sprintf("%.1f", r.Data)
			ratio = fmt.Sprintf("%.2fx", r.Data/limit[r.Scale])
		} else {
			ratio = fmt.Sprintf("%.2fx (whole)", r.Seconds/limit[r.Scale])
		}
		if r.PeakMiB > 0 {
			peak = fmt.Sprintf("%.0f", r.PeakMiB)
		}
		fmt.Fprintf(tw, "| %s\t| %g\t| %d\t| %.1f\t| %s\t| %.0f\t| %s\t| %s\t|\n", r.Method, r.Scale, r.Rows, r.Seconds, data, float64(r.Rows)/r.Seconds, peak, ratio)
	}
	tw.Flush()
	fmt.Fprintln(w)
	top := scales[len(scales)-1]
	c := clone[top]
	verdict := func(ok bool) string {
		if ok {
			return "met"
		}
		return "NOT met"
	}
	fmt.Fprintf(w, "Targets at scale %g:\n", top)
	fmt.Fprintf(w, "- masked clone's data phase / COPY pipe = %.2f (target <= 1.3): %s\n", c.Data/limit[top], verdict(c.Data <= 1.3*limit[top]))
	fmt.Fprintf(w, "- whole masked clone %.1fs vs pg_dump+pg_restore %.1fs (target: faster): %s\n", c.Seconds, dump[top], verdict(c.Seconds < dump[top]))
	fmt.Fprintf(w, "- peak memory of the clone %.0f MiB (target <= 256): %s\n", c.PeakMiB, verdict(c.PeakMiB <= 256))
	if len(scales) > 1 {
		small := clone[scales[0]]
		ratio := c.Seconds / small.Seconds
		fmt.Fprintf(w, "- 4x the data costs %.2fx the time (target <= 4.4): %s\n", ratio, verdict(ratio <= 4.4))
	}
}
