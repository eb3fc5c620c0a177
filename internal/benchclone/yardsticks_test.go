package main

import (
	"context"
	"os"
	"testing"

	"github.com/jackc/pgx/v5"

	"github.com/stagingkit/terraform-provider-staging/internal/pgtest"
)

func TestMain(m *testing.M) { os.Exit(pgtest.Main(m)) }

// oneDB hands out one database that already exists, whatever name is asked.
type oneDB string

func (d oneDB) CreateDatabase(context.Context, string) (string, error) { return string(d), nil }

// The sequential limit copies every row through psql and builds the same
// keys, indexes and foreign keys as the source has; the servers' CPU time
// counts its backends.
func TestLimit_copiesEveryRowAndBuildsEveryKey(t *testing.T) {
	if testing.Short() {
		t.Skip("needs PostgreSQL")
	}
	c := pgtest.Require(t)
	ctx := t.Context()
	bin, err := pgtest.FindBinaries()
	if err != nil {
		t.Fatal(err)
	}
	d, err := seedShop(ctx, oneDB(c.NewDatabase(t)), "shop", 0.001)
	if err != nil {
		t.Fatal(err)
	}
	p, err := planLimit(ctx, d)
	if err != nil {
		t.Fatal(err)
	}
	b := &bench{bin: bin, jobs: 2, limits: map[*dataset]limitPlan{d: p}}
	target := c.NewDatabase(t)
	pm, err := postmasterPID(c)
	if err != nil {
		t.Fatal(err)
	}
	cpuBefore, err := serverCPU([]int{pm})
	if err != nil {
		t.Fatal(err)
	}
	s, err := b.runLimit(ctx, d, target)
	if err != nil {
		t.Fatal(err)
	}
	// The backends that loaded and indexed the data have exited: their
	// time is in the postmaster's reaped-children time.
	if cpuAfter, err := serverCPU([]int{pm}); err != nil || cpuAfter <= cpuBefore {
		t.Errorf("server CPU %v s before the copy, %v s after (%v): want it to grow", cpuBefore, cpuAfter, err)
	}
	if s.Parts[partData] <= 0 || s.Parts[partPostData] <= 0 || s.Seconds != s.Parts[partData]+s.Parts[partPostData] {
		t.Errorf("sample %+v: want data and post-data timed and added up", s)
	}
	if _, err := verifyRows(ctx, target, d, false); err != nil {
		t.Error(err)
	}
	const objects = `SELECT (SELECT count(*) FROM pg_constraint WHERE connamespace = 'public'::regnamespace AND contype IN ('p', 'u', 'f', 'c')),
		(SELECT count(*) FROM pg_indexes WHERE schemaname = 'public')`
	var want, got [2]int
	for _, x := range []struct {
		dsn string
		out *[2]int
	}{{d.dsn, &want}, {target, &got}} {
		conn, err := pgx.Connect(ctx, x.dsn)
		if err != nil {
			t.Fatal(err)
		}
		err = conn.QueryRow(ctx, objects).Scan(&x.out[0], &x.out[1])
		conn.Close(ctx)
		if err != nil {
			t.Fatal(err)
		}
	}
	if got != want || want[0] == 0 {
		t.Errorf("target has %d constraints and %d indexes, the source %d and %d", got[0], got[1], want[0], want[1])
	}
}
