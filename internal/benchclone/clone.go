package main

import (
	"context"
	"encoding/json"
	"fmt"
	"os"
	"os/exec"
	"strings"
	"syscall"
	"time"

	"github.com/jackc/pgx/v5"

	"github.com/stagingkit/terraform-provider-staging/internal/masking"
	"github.com/stagingkit/terraform-provider-staging/internal/pgclone"
)

// rules mask every personal column of each dataset kind.
var rules = map[string][]pgclone.ColumnRule{
	"shop": {
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
	},
	"ledger": {
		{Table: "payments", Column: "card_number", Spec: masking.Spec{Transformer: "credit_card"}},
		{Table: "payments", Column: "card_holder", Spec: masking.Spec{Transformer: "full_name"}},
		{Table: "payments", Column: "email", Spec: masking.Spec{Transformer: "email", Domain: "customer_email"}},
	},
}

// cloneReport is what a clone child process prints.
type cloneReport struct {
	Rows    int64   `json:"rows"`
	Seconds float64 `json:"seconds"`
	Phases  []phase `json:"phases"`
}

// phase is pgclone.Phase as the child encodes it. Key, Start and Busy are
// read when pgclone reports them and are zero otherwise.
type phase struct {
	Key      string
	Name     string
	Start    time.Duration // from the clone's start
	Duration time.Duration // from the phase's first task to the end of its last
	Busy     time.Duration // its tasks' time summed over workers
}

// runClone is the child process: one clone, its report on stdout.
func runClone(ctx context.Context, kind, source, target string, percent float64, parallelism int) error {
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
	rs, ok := rules[kind]
	if !ok {
		return fmt.Errorf("unknown dataset %q", kind)
	}
	opts := pgclone.Options{Rules: rs, Key: key, Parallelism: parallelism,
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
	rep := cloneReport{Seconds: res.Duration.Seconds()}
	for _, t := range res.Tables {
		rep.Rows += t.Rows
	}
	// Through JSON, so that fields pgclone adds to Phase arrive here.
	b, err := json.Marshal(res.Phases)
	if err != nil {
		return err
	}
	if err := json.Unmarshal(b, &rep.Phases); err != nil {
		return err
	}
	return json.NewEncoder(os.Stdout).Encode(rep)
}

// runOurs runs one masked clone of d into target in a child process, so
// that its peak memory and CPU time are its own.
func (b *bench) runOurs(ctx context.Context, d *dataset, target string, percent float64, parallelism int) (sample, error) {
	cmd := exec.CommandContext(ctx, b.self, "-mode", "clone", "-dataset", d.kind, "-source", d.dsn, "-target", target,
		"-subset", fmt.Sprint(percent), "-parallelism", fmt.Sprint(parallelism))
	var stderr strings.Builder
	cmd.Stderr = &stderr
	out, err := cmd.Output()
	if err != nil {
		return sample{}, fmt.Errorf("clone: %w\n%s", err, stderr.String())
	}
	var rep cloneReport
	if err := json.Unmarshal(out, &rep); err != nil {
		return sample{}, fmt.Errorf("clone report %q: %w", out, err)
	}
	return sample{Rows: rep.Rows, Phases: rep.Phases, PeakMiB: peakMiB(cmd.ProcessState),
		ProcCPU: (cmd.ProcessState.UserTime() + cmd.ProcessState.SystemTime()).Seconds()}, nil
}

// peakMiB is the maximum resident set of a finished process.
func peakMiB(ps *os.ProcessState) float64 {
	if ru, ok := ps.SysUsage().(*syscall.Rusage); ok {
		return float64(ru.Maxrss) / 1024 // kilobytes on Linux
	}
	return 0
}
