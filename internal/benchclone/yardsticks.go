package main

import (
	"bytes"
	"context"
	"fmt"
	"os"
	"os/exec"
	"path/filepath"
	"strings"
	"time"

	"github.com/jackc/pgx/v5"
	"golang.org/x/sync/errgroup"
)

// The yardsticks are measured as a DBA would run them: the PostgreSQL
// client tools themselves, in their own processes, with as many jobs as
// the machine has cores.

// limitPlan is the SQL of the sequential limit on one dataset, read once
// from the source's catalog: bare tables to load, as pg_dump's pre-data
// section makes them (columns, types, NOT NULL and CHECK constraints; no
// keys, no indexes), then the post-data statements in two waves, as
// pg_restore orders them.
type limitPlan struct {
	bare        []string
	keysIndexes []string // primary keys, unique constraints and other indexes, biggest table first
	foreignKeys []string // after every key they reference exists
}

const (
	bareTablesSQL = `SELECT format('CREATE TABLE %I (%s%s)', c.relname,
		string_agg(format('%I %s', a.attname, format_type(a.atttypid, a.atttypmod)) ||
			CASE WHEN a.attnotnull THEN ' NOT NULL' ELSE '' END, ', ' ORDER BY a.attnum),
		coalesce((SELECT string_agg(format(', CONSTRAINT %I %s', k.conname, pg_get_constraintdef(k.oid)), '' ORDER BY k.conname)
			FROM pg_constraint k WHERE k.conrelid = c.oid AND k.contype = 'c'), ''))
	FROM pg_class c JOIN pg_attribute a ON a.attrelid = c.oid AND a.attnum > 0 AND NOT a.attisdropped
	WHERE c.relnamespace = 'public'::regnamespace AND c.relkind = 'r'
	GROUP BY c.oid, c.relname`
	keysIndexesSQL = `SELECT stmt FROM (
		SELECT format('ALTER TABLE %I ADD CONSTRAINT %I %s', c.relname, k.conname, pg_get_constraintdef(k.oid)) AS stmt, pg_relation_size(c.oid) AS size
		FROM pg_constraint k JOIN pg_class c ON c.oid = k.conrelid
		WHERE c.relnamespace = 'public'::regnamespace AND k.contype IN ('p', 'u')
		UNION ALL
		SELECT pg_get_indexdef(i.indexrelid), pg_relation_size(c.oid)
		FROM pg_index i JOIN pg_class c ON c.oid = i.indrelid
		WHERE c.relnamespace = 'public'::regnamespace AND c.relkind = 'r'
		  AND NOT EXISTS (SELECT FROM pg_constraint k WHERE k.conindid = i.indexrelid AND k.contype IN ('p', 'u', 'x'))
	) AS s ORDER BY size DESC, stmt`
	foreignKeysSQL = `SELECT format('ALTER TABLE %I ADD CONSTRAINT %I %s', c.relname, k.conname, pg_get_constraintdef(k.oid))
	FROM pg_constraint k JOIN pg_class c ON c.oid = k.conrelid
	WHERE c.relnamespace = 'public'::regnamespace AND k.contype = 'f'
	ORDER BY pg_relation_size(c.oid) DESC, k.conname`
)

// planLimit reads d's limit plan from the source.
func planLimit(ctx context.Context, d *dataset) (limitPlan, error) {
	conn, err := pgx.Connect(ctx, d.dsn)
	if err != nil {
		return limitPlan{}, err
	}
	defer conn.Close(ctx)
	var p limitPlan
	for _, q := range []struct {
		sql string
		out *[]string
	}{{bareTablesSQL, &p.bare}, {keysIndexesSQL, &p.keysIndexes}, {foreignKeysSQL, &p.foreignKeys}} {
		rows, err := conn.Query(ctx, q.sql)
		if err != nil {
			return limitPlan{}, err
		}
		if *q.out, err = pgx.CollectRows(rows, pgx.RowTo[string]); err != nil {
			return limitPlan{}, err
		}
	}
	p.bare = append(append([]string{}, d.types...), p.bare...)
	return p, nil
}

// runLimit measures the sequential limit into the empty database target:
// psql binary COPY pipes, up to b.jobs tables at a time, into bare tables
// (created untimed), then the post-data statements, up to b.jobs at a time.
func (b *bench) runLimit(ctx context.Context, d *dataset, target string) (sample, error) {
	p := b.limits[d]
	if err := execAll(ctx, target, p.bare, 1); err != nil {
		return sample{}, fmt.Errorf("bare tables: %w", err)
	}
	start := time.Now()
	g, gctx := errgroup.WithContext(ctx)
	g.SetLimit(b.jobs)
	for _, t := range d.tables {
		g.Go(func() error { return b.psqlPipe(gctx, d.dsn, target, t) })
	}
	if err := g.Wait(); err != nil {
		return sample{}, err
	}
	data := time.Since(start).Seconds()
	start = time.Now()
	if err := execAll(ctx, target, p.keysIndexes, b.jobs); err != nil {
		return sample{}, fmt.Errorf("post-data: %w", err)
	}
	if err := execAll(ctx, target, p.foreignKeys, b.jobs); err != nil {
		return sample{}, fmt.Errorf("post-data: %w", err)
	}
	post := time.Since(start).Seconds()
	return sample{Seconds: data + post, Parts: map[string]float64{partData: data, partPostData: post}}, nil
}

// Parts of the sequential limit.
const (
	partData     = "data"
	partPostData = "post-data"
)

// psqlPipe is psql src -c "COPY t TO STDOUT (FORMAT binary)" | psql target
// -c "COPY t FROM STDIN (FORMAT binary)".
func (b *bench) psqlPipe(ctx context.Context, src, target, table string) error {
	t := pgx.Identifier{table}.Sanitize()
	psql := filepath.Join(b.bin, "psql")
	out := exec.CommandContext(ctx, psql, "-X", "-q", "-v", "ON_ERROR_STOP=1", "-d", src, "-c", "COPY "+t+" TO STDOUT (FORMAT binary)")
	in := exec.CommandContext(ctx, psql, "-X", "-q", "-v", "ON_ERROR_STOP=1", "-d", target, "-c", "COPY "+t+" FROM STDIN (FORMAT binary)")
	r, w, err := os.Pipe()
	if err != nil {
		return err
	}
	var outErr, inErr bytes.Buffer
	out.Stdout, out.Stderr = w, &outErr
	in.Stdin, in.Stdout, in.Stderr = r, &inErr, &inErr
	if err := in.Start(); err != nil {
		w.Close()
		r.Close()
		return err
	}
	err = out.Start()
	w.Close()
	r.Close()
	if err != nil {
		_ = in.Wait()
		return err
	}
	errOut, errIn := out.Wait(), in.Wait()
	if errOut != nil || errIn != nil {
		return fmt.Errorf("psql pipe of %s: %v %v: %s %s", table, errOut, errIn, outErr.String(), inErr.String())
	}
	return nil
}

// execAll runs stmts in the database at dsn, up to jobs at a time, each on
// its own connection.
func execAll(ctx context.Context, dsn string, stmts []string, jobs int) error {
	g, gctx := errgroup.WithContext(ctx)
	g.SetLimit(jobs)
	for _, s := range stmts {
		g.Go(func() error {
			conn, err := pgx.Connect(gctx, dsn)
			if err != nil {
				return err
			}
			defer conn.Close(context.Background())
			if _, err := conn.Exec(gctx, s); err != nil {
				return fmt.Errorf("%w\n%s", err, s)
			}
			return nil
		})
	}
	return g.Wait()
}

// runDump measures pg_dump -Fd -jN -Z0 then pg_restore -jN into target.
func (b *bench) runDump(ctx context.Context, d *dataset, target string) (sample, error) {
	dir, err := os.MkdirTemp("", "benchclone-dump-")
	if err != nil {
		return sample{}, err
	}
	defer os.RemoveAll(dir)
	jobs := fmt.Sprintf("-j%d", b.jobs)
	dump := exec.CommandContext(ctx, filepath.Join(b.bin, "pg_dump"), "-Fd", jobs, "-Z0", "-f", filepath.Join(dir, "d"), d.dsn)
	if out, err := dump.CombinedOutput(); err != nil {
		return sample{}, fmt.Errorf("pg_dump: %w\n%s", err, out)
	}
	restore := exec.CommandContext(ctx, filepath.Join(b.bin, "pg_restore"), jobs, "-d", target, filepath.Join(dir, "d"))
	if out, err := restore.CombinedOutput(); err != nil {
		return sample{}, fmt.Errorf("pg_restore: %w\n%s", err, out)
	}
	return sample{PeakMiB: max(peakMiB(dump.ProcessState), peakMiB(restore.ProcessState))}, nil
}

// runPgcopydb measures pgcopydb clone --table-jobs N --index-jobs N into
// target, with a fresh work directory, and PATH leading to the pg_dump and
// pg_restore of the servers' version.
func (b *bench) runPgcopydb(ctx context.Context, d *dataset, target string) (sample, error) {
	dir, err := os.MkdirTemp("", "benchclone-pgcopydb-")
	if err != nil {
		return sample{}, err
	}
	defer os.RemoveAll(dir)
	cmd := exec.CommandContext(ctx, b.pgcopydb.path, "clone", "--source", d.dsn, "--target", target,
		"--dir", filepath.Join(dir, "work"), "--table-jobs", fmt.Sprint(b.jobs), "--index-jobs", fmt.Sprint(b.jobs))
	cmd.Env = append(os.Environ(), "PATH="+b.bin+string(os.PathListSeparator)+os.Getenv("PATH"))
	if out, err := cmd.CombinedOutput(); err != nil {
		return sample{}, fmt.Errorf("pgcopydb clone: %w\n%s", err, tail(string(out), 40))
	}
	return sample{PeakMiB: peakMiB(cmd.ProcessState)}, nil
}

// tail is the last n lines of s.
func tail(s string, n int) string {
	lines := strings.Split(strings.TrimRight(s, "\n"), "\n")
	return strings.Join(lines[max(0, len(lines)-n):], "\n")
}
