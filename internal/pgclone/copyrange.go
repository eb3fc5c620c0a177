package pgclone

import (
	"context"
	"fmt"
	"sync"
	"sync/atomic"
	"time"

	"github.com/jackc/pgx/v5"
)

// A large table is copied by several workers at once, each streaming one
// range of its pages: "ctid >= '(a,0)' AND ctid < '(b,0)'", which
// PostgreSQL 14 and later read with a TID Range Scan (only those pages).
// The page count comes from the source inside the snapshot; the last range
// has no upper bound, so rows on pages added since are not lost (they are
// invisible to the snapshot anyway). Every range goes through the same
// subset filter, NULLed references and masking as a whole-table copy, into
// the same shadow table (or its partition tree's root when a masked
// partition key may move rows); the table's results are summed over its
// ranges and its row count is checked against the snapshot once the last
// range is in.

// chunkBytes is the smallest range a table is split into: a table is
// copied in ranges when it has at least two of them.
const chunkBytes = 64 << 20

// rangesPerWorker caps the ranges of one table: enough for the workers to
// share it evenly, few enough that each range's fixed cost stays small.
const rangesPerWorker = 4

// tidRange is a range of pages of a table: [from, to), to < 0 for no
// upper bound. The zero range with to < 0 is the whole table.
type tidRange struct {
	from, to int64
}

// whole is the range of a table that is not split.
var whole = tidRange{from: 0, to: -1}

// condition is the range as a condition on alias's ctid; "" for the whole
// table.
func (r tidRange) condition(alias string) string {
	var conds []string
	if r.from > 0 {
		conds = append(conds, fmt.Sprintf("%s.ctid >= '(%d,0)'::pg_catalog.tid", alias, r.from))
	}
	if r.to >= 0 {
		conds = append(conds, fmt.Sprintf("%s.ctid < '(%d,0)'::pg_catalog.tid", alias, r.to))
	}
	switch len(conds) {
	case 0:
		return ""
	case 1:
		return conds[0]
	}
	return conds[0] + " AND " + conds[1]
}

func (r tidRange) String() string {
	if r.to < 0 {
		return fmt.Sprintf("pages %d-", r.from)
	}
	return fmt.Sprintf("pages %d-%d", r.from, r.to-1)
}

// splitPages divides a table of pages pages into ranges of equal size, at
// least chunk pages each, for workers workers: at most rangesPerWorker
// each, and a multiple of workers when there are that many, so that no
// worker is left with one range more than the others. The last range is
// open. A table smaller than two chunks, or one worker, gets one range.
func splitPages(pages, chunk int64, workers int) []tidRange {
	if chunk <= 0 || workers < 2 || pages < 2*chunk {
		return []tidRange{whole}
	}
	n := min(pages/chunk, int64(rangesPerWorker*workers))
	if w := int64(workers); n > w {
		n -= n % w
	}
	out := make([]tidRange, n)
	for i := range n {
		out[i] = tidRange{from: i * pages / n, to: (i + 1) * pages / n}
	}
	out[n-1].to = -1
	return out
}

// tableSize is the size of a table in the snapshot, in pages.
type tableSize struct {
	main  int64 // the main fork: what ctid ranges divide
	total int64 // with TOAST and other forks: what the copy reads
}

// tableSizes reads the size of every copied table on the snapshot's
// transaction, and the server's block size.
func (c *cloner) tableSizes(ctx context.Context) (map[string]tableSize, int64, error) {
	byOID := map[uint32]string{}
	var oids []uint32
	for _, tp := range c.pol.analysis.Tables {
		if rel := c.pol.cat.rels[tp.Name]; rel != nil {
			byOID[rel.oid] = tp.Name
			oids = append(oids, rel.oid)
		}
	}
	var block int64
	if err := c.srcTx.QueryRow(ctx, `SELECT current_setting('block_size')::bigint`).Scan(&block); err != nil {
		return nil, 0, fmt.Errorf("pgclone: reading the block size: %w", err)
	}
	sizes := map[string]tableSize{}
	err := scanRows(ctx, c.srcTx, "table sizes", `
		SELECT c.oid, pg_catalog.pg_relation_size(c.oid) / $2::bigint, pg_catalog.pg_table_size(c.oid) / $2::bigint
		FROM pg_catalog.pg_class c WHERE c.oid = ANY ($1::oid[])`, []any{oids, block}, func(rows pgx.Rows) error {
		var oid uint32
		var s tableSize
		if err := rows.Scan(&oid, &s.main, &s.total); err != nil {
			return err
		}
		sizes[byOID[oid]] = s
		return nil
	})
	if err != nil {
		return nil, 0, fmt.Errorf("pgclone: %w", err)
	}
	return sizes, block, nil
}

// ranges decides how a table is copied: whole, or in ranges of pages when
// it is large and there are several workers.
func (c *cloner) ranges(size tableSize, block int64) []tidRange {
	chunk := int64(chunkBytes) / max(block, 1)
	if c.opts.chunkPages > 0 {
		chunk = c.opts.chunkPages
	}
	return splitPages(size.main, chunk, c.opts.Parallelism)
}

// tableRun is the copy of one table, over all its ranges.
type tableRun struct {
	tp TablePlan
	// rows counts the rows read so far by all ranges, for progress.
	rows atomic.Int64

	mu            sync.Mutex
	left          int // ranges not done
	read, written int64
	bytes         int64
	start         time.Time // when the first range started
	stopProgress  func(done bool)
	stopOnce      sync.Once
}

// beginRange marks a range's start: the first one starts the table's clock and
// its progress reports.
func (c *cloner) beginRange(tr *tableRun) {
	tr.mu.Lock()
	defer tr.mu.Unlock()
	if tr.start.IsZero() {
		tr.start = time.Now()
		tr.stopProgress = c.progress(tr.tp, tr.start, &tr.rows)
	}
}

// endProgress stops the table's progress reports (once), with a last
// report when done.
func (tr *tableRun) endProgress(done bool) {
	tr.mu.Lock()
	stop := tr.stopProgress
	tr.mu.Unlock()
	if stop != nil {
		tr.stopOnce.Do(func() { stop(done) })
	}
}

// endRange adds a finished range's counts; after the last range it checks
// the table's row count against the snapshot and records its result.
func (c *cloner) endRange(tr *tableRun, read, written, bytes int64) error {
	tr.mu.Lock()
	tr.read += read
	tr.written += written
	tr.bytes += bytes
	tr.left--
	last := tr.left == 0
	res := TableResult{Name: tr.tp.Name, Rows: tr.read, Bytes: tr.bytes, Duration: time.Since(tr.start)}
	written = tr.written
	tr.mu.Unlock()
	if !last {
		return nil
	}
	// Every range's rows were read from the snapshot and written by the
	// target; when the analysis counted the table, the count must agree.
	if written != res.Rows || (!tr.tp.Estimated && res.Rows != tr.tp.Rows) {
		tr.endProgress(false)
		if tr.tp.Estimated {
			return fmt.Errorf("pgclone: %s: %d rows read from the snapshot, %d written", tr.tp.Name, res.Rows, written)
		}
		return fmt.Errorf("pgclone: %s: %d rows in the snapshot, %d read, %d written", tr.tp.Name, tr.tp.Rows, res.Rows, written)
	}
	tr.endProgress(true)
	c.mu.Lock()
	c.results = append(c.results, res)
	c.mu.Unlock()
	return nil
}
