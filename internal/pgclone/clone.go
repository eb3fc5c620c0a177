package pgclone

import (
	"bufio"
	"context"
	"crypto/sha256"
	"encoding/hex"
	"encoding/json"
	"errors"
	"fmt"
	"hash/maphash"
	"io"
	"os"
	"runtime"
	"slices"
	"sort"
	"strings"
	"sync"
	"sync/atomic"
	"time"

	"github.com/jackc/pgx/v5"
	"github.com/jackc/pgx/v5/pgconn"
	"github.com/jackc/pgx/v5/pgproto3"

	"github.com/stagingkit/terraform-provider-staging/internal/masking"
)

// TableResult is what was copied into one table.
type TableResult struct {
	Name     string // "schema.table"
	Rows     int64
	Bytes    int64 // text COPY bytes written to the target (after masking)
	Duration time.Duration
}

// Result is the audit record of one clone.
type Result struct {
	Tables       []TableResult
	SnapshotTime time.Time // the source's now() in the exported snapshot
	Duration     time.Duration
	// DataDuration is the data phase alone: from the start of the first
	// COPY stream to the end of the last one (index builds and foreign key
	// validations that overlap it included).
	DataDuration time.Duration
	// Phases are the steps of the clone and how long each took, in the
	// order they started (see Phase: some overlap).
	Phases []Phase
	// PolicyHash is the hex SHA-256 of a canonical encoding of the rules
	// and options (never of the key).
	PolicyHash string
	// TransformerVersions maps "schema.table.column" to the version of
	// the transformer that masked it.
	TransformerVersions map[string]string
	ServerVersion       string // the source's server_version
	// Skipped lists objects of the copied schemas that were not created,
	// and why (a foreign key to a table that is not copied, a grant or
	// policy for a role the target does not have, a comment on a kind of
	// object that is not copied).
	Skipped []string
	// NotCopied are the source's objects a copy never reproduces, by
	// design (publications, subscriptions, foreign servers, user mappings,
	// event triggers, foreign tables).
	NotCopied []NotCopied
	// Objects counts the schema objects created in the target, per kind
	// (the Kind* constants).
	Objects map[string]int
	// CoincidentalMatches counts, per masked identifier column, masked
	// values that equal a production value of the column. A
	// format-preserving permutation of a dense space (7-digit phone
	// numbers, say) produces them by chance at the rate the production
	// values fill that space, and fixes about one value in the size of the
	// space; without the key nobody can tell which, so they are reported,
	// not refused. Values left unchanged more often than that fail the
	// clone (see LeakError).
	CoincidentalMatches map[string]int
}

// Phase is one step of a clone. The copy, the index builds, the foreign
// keys and the leak check overlap (a tree's indexes are built while other
// tables copy): for those, Duration is the wall interval from the start of
// the phase's first task to the end of its last, and Busy the time its
// tasks took summed over the workers, which may exceed Duration. For the
// steps that run alone Busy equals Duration.
type Phase struct {
	// Key names the phase for programs, stably: one of the Phase*
	// constants.
	Key string
	// Name describes the phase for people; it may change between
	// versions.
	Name string
	// Start is when the phase began, from the start of the clone.
	Start    time.Duration
	Duration time.Duration
	Busy     time.Duration
}

// Keys of [Phase], stable across versions.
const (
	PhaseAnalysis    = "analysis"     // the source's catalog, the masking policy and the subset plan, in the snapshot
	PhaseSchema      = "schema"       // shadow schemas, types, functions, tables, sequences' values
	PhaseCopy        = "copy"         // the COPY streams of every table and range
	PhaseIndexes     = "indexes"      // primary, unique, exclusion and check constraints and indexes
	PhaseForeignKeys = "foreign_keys" // foreign keys added and validated
	PhaseLeakCheck   = "leak_check"   // production values compared with the masked ones
	PhasePostData    = "post_data"    // materialized views, triggers, row-level security, policies, grants, comments
	PhaseSwap        = "swap"         // the transaction that puts the copy in place of the live schemas
)

// ErrSameDatabase is returned by Clone when source and target are one
// database.
var ErrSameDatabase = errors.New("pgclone: source and target are the same database (same system identifier and database name); refusing to overwrite production")

// ErrBusy is returned when another clone into the same target is running.
var ErrBusy = errors.New("pgclone: another clone into this target database is running")

// LeakError reports masked identifier columns whose target values equal
// production values. It never holds the values.
type LeakError struct {
	Leaks []Leak
}

// Leak is one column whose masking let production values through.
type Leak struct {
	Column string // "schema.table.column"
	Count  int    // rows whose masked value is their own production value
	Total  int    // masked non-NULL values of the column
}

func (e *LeakError) Error() string {
	parts := make([]string, len(e.Leaks))
	for i, l := range e.Leaks {
		parts[i] = fmt.Sprintf("%s (%d of %d values)", l.Column, l.Count, l.Total)
	}
	return "pgclone: leak check failed, the target was not replaced: masking left production values unchanged, more often than chance explains, in " + strings.Join(parts, ", ")
}

// errInjected is the failure failAfterRows injects.
var errInjected = errors.New("pgclone: injected failure (test)")

// sessionParams make text COPY output unambiguous and equal on both sides.
var sessionParams = map[string]string{
	"DateStyle":          "ISO, YMD",
	"IntervalStyle":      "postgres",
	"TimeZone":           "UTC",
	"extra_float_digits": "3",
	"bytea_output":       "hex",
	"application_name":   "staging-pgclone",
}

func connect(ctx context.Context, cfg *pgx.ConnConfig, extra map[string]string) (*pgx.Conn, error) {
	c := cfg.Copy()
	if c.RuntimeParams == nil {
		c.RuntimeParams = map[string]string{}
	}
	for k, v := range sessionParams {
		c.RuntimeParams[k] = v
	}
	for k, v := range extra {
		c.RuntimeParams[k] = v
	}
	return pgx.ConnectConfig(ctx, c)
}

// bufferedReads returns cfg for a session that reads COPY streams: a COPY
// stream is one protocol message per row and pgproto3 reads the socket
// 8 KiB at a time; through a readBufferSize buffer it takes one system
// call per socket's worth of rows instead.
func bufferedReads(cfg *pgx.ConnConfig) *pgx.ConnConfig {
	c := cfg.Copy()
	c.BuildFrontend = func(r io.Reader, w io.Writer) *pgproto3.Frontend {
		return pgproto3.NewFrontend(bufio.NewReaderSize(r, readBufferSize), w)
	}
	return c
}

// readBufferSize is how much a worker's source session reads from its
// socket at a time.
const readBufferSize = 256 << 10

// databaseIdentity identifies the database a connection reaches.
func databaseIdentity(ctx context.Context, conn *pgx.Conn) (string, error) {
	var sys, db string
	err := conn.QueryRow(ctx, `SELECT system_identifier::text, current_database() FROM pg_control_system()`).Scan(&sys, &db)
	if err != nil {
		// pg_control_system may be restricted: fall back to the address.
		if err2 := conn.QueryRow(ctx, `SELECT coalesce(host(inet_server_addr()), 'local') || ':' || current_setting('port') || '/' || current_setting('data_directory', true), current_database()`).Scan(&sys, &db); err2 != nil {
			return "", fmt.Errorf("identifying database: %w", err)
		}
	}
	return sys + "/" + db, nil
}

// PolicyHash is the hex SHA-256 of a canonical encoding of what decides
// the staging data besides the key and the source: rules (sorted), filters
// and the default action.
func PolicyHash(opts Options) string {
	type rule struct {
		Table, Column, Transformer, Domain, OnInvalid string
		Options                                       map[string]any
	}
	rules := make([]rule, len(opts.Rules))
	for i, r := range opts.Rules {
		rules[i] = rule{Qualify(r.Table), r.Column, r.Spec.Transformer, r.Spec.Domain, r.Spec.OnInvalid, r.Spec.Options}
	}
	sort.Slice(rules, func(i, j int) bool {
		if rules[i].Table != rules[j].Table {
			return rules[i].Table < rules[j].Table
		}
		return rules[i].Column < rules[j].Column
	})
	sorted := func(s []string) []string { s = slices.Clone(s); sort.Strings(s); return s }
	action := opts.DefaultAction
	if action == "" {
		action = ActionKeep
	}
	canon := map[string]any{
		"v":               1,
		"rules":           rules,
		"default_action":  action,
		"include_schemas": sorted(opts.IncludeSchemas),
		"exclude_schemas": sorted(opts.ExcludeSchemas),
		"include_tables":  sorted(opts.IncludeTables),
		"exclude_tables":  sorted(opts.ExcludeTables),
	}
	if s := opts.Subset; len(s.Subsets) > 0 {
		// The seed is left out: it comes from the key.
		canon["subset"] = map[string]any{"subsets": s.Subsets, "virtual_foreign_keys": s.VirtualForeignKeys, "null_dangling": s.NullDangling}
	}
	b, _ := json.Marshal(canon) // map keys are sorted by encoding/json
	sum := sha256.Sum256(b)
	return hex.EncodeToString(sum[:])
}

// Clone copies source into target through the masking policy of opts.
//
// It reads the source in one exported snapshot shared by Parallelism
// workers, all in REPEATABLE READ READ ONLY transactions, so production is
// never written. It refuses to run when [Analyze] reports problems
// (*ProblemsError), when source and target are one database
// (ErrSameDatabase) or without a key. The schema is rebuilt from the
// catalog in shadow schemas ("<schema>__stg_new") of the target:
// extensions, sequences, then types (enums, domains, composite and range
// types), collations, functions, procedures, aggregates, operators, casts,
// tables (with their inheritance), partitions, views and materialized
// views in dependency order (pg_depend; see objects.go for
// how late-bound function bodies are handled), and sequences set. The
// data is streamed through the masking transformers by the workers, a
// large table in ranges of pages by several at once; each table tree's
// primary, unique and check keys and indexes are built as soon as its
// tables are loaded, and each foreign key added and validated as soon as
// its two tables are, while other tables still copy (see load.go and
// schedule.go). Then materialized views are
// refreshed from the masked data and indexed, triggers created with
// their enabled state (after the load, so they do not fire during it),
// row-level security, policies, grants (to roles that exist in the target)
// and comments set, and the leak check run. Only then, in one
// transaction, each live schema is replaced by its shadow: until that
// commit the target keeps its previous content, and any failure, timeout
// or cancellation drops the shadow schemas and leaves it as it was.
//
// The clone owns the copied schemas of the target: objects that exist
// only in the target's copies of those schemas (and objects elsewhere that
// depend on them) are dropped by the swap. Extensions that the source has
// in a copied schema are created in the shadow schema when the target lacks
// them; when the target already has one in a live schema that is replaced,
// it is moved to the new schema with ALTER EXTENSION ... SET SCHEMA inside
// the swap (a non-relocatable one makes the clone fail before any write).
// Not copied: ownership (the target login owns the copy); [Result.NotCopied]
// and [Result.Skipped] list what was left out and why.
//
// While it runs, Clone lowers the Go runtime's soft memory limit of the
// process to 192 MiB (see cloneMemoryLimit; a lower limit, such as one
// set with GOMEMLIMIT, is kept) and puts the previous one back after the
// last clone running in the process ends.
func Clone(ctx context.Context, source, target *pgx.ConnConfig, opts Options) (res Result, err error) {
	start := time.Now()
	if opts.Key.IsZero() {
		return Result{}, errNoKey
	}
	if err := opts.validate(); err != nil {
		return Result{}, err
	}
	if opts.Parallelism <= 0 {
		opts.Parallelism = runtime.NumCPU()
	}
	if !opts.noMemoryLimit {
		defer limitMemory()()
	}
	c := &cloner{opts: &opts, source: source, target: target, start: start}
	c.memoBudget.Store(memoBudget)
	defer c.closeAll()
	defer func() {
		if c.leakDir != "" {
			_ = os.RemoveAll(c.leakDir)
		}
	}()

	// Every source session starts read-only, with row security off and
	// bounded lock waits (see SourceSettings.Params), and its login must
	// not be able to write around a READ ONLY transaction.
	if c.srcCoord, err = connect(ctx, source, opts.Source.Params()); err != nil {
		return Result{}, fmt.Errorf("pgclone: connecting to the source: %w", err)
	}
	if c.tgtCoord, err = connect(ctx, target, nil); err != nil {
		return Result{}, fmt.Errorf("pgclone: connecting to the target: %w", err)
	}
	srcID, err := databaseIdentity(ctx, c.srcCoord)
	if err != nil {
		return Result{}, fmt.Errorf("pgclone: source: %w", err)
	}
	tgtID, err := databaseIdentity(ctx, c.tgtCoord)
	if err != nil {
		return Result{}, fmt.Errorf("pgclone: target: %w", err)
	}
	if srcID == tgtID {
		return Result{}, ErrSameDatabase
	}
	if _, err := opts.Source.CheckSourceRole(ctx, c.srcCoord); err != nil {
		return Result{}, fmt.Errorf("pgclone: %w", err)
	}

	// The snapshot.
	c.srcTx, err = c.srcCoord.BeginTx(ctx, pgx.TxOptions{IsoLevel: pgx.RepeatableRead, AccessMode: pgx.ReadOnly})
	if err != nil {
		return Result{}, fmt.Errorf("pgclone: starting the source transaction: %w", err)
	}
	var snapshot string
	if err := c.srcTx.QueryRow(ctx, `SELECT pg_export_snapshot(), now(), current_setting('server_version'), current_setting('server_version_num')::int / 10000`).Scan(&snapshot, &res.SnapshotTime, &res.ServerVersion, &c.srcMajor); err != nil {
		return Result{}, fmt.Errorf("pgclone: exporting the snapshot: %w", err)
	}
	if _, err := c.srcTx.Exec(ctx, `SELECT pg_catalog.set_config('search_path', '', true)`); err != nil {
		return Result{}, fmt.Errorf("pgclone: %w", err)
	}
	c.phaseStart = time.Now()
	// Row counts come from the copy itself (read from the snapshot,
	// written by the target), not from a scan before it.
	opts.estimateRows = true
	pol, err := analyze(ctx, c.srcTx, &opts)
	if err != nil {
		return Result{}, c.sourceError(ctx, fmt.Errorf("pgclone: analysing the source: %w", err))
	}
	if len(pol.analysis.Problems) > 0 {
		return Result{}, &ProblemsError{Problems: pol.analysis.Problems}
	}
	c.pol = pol
	objs, err := readSchemaObjects(ctx, c.srcTx, pol.cat, &opts, pol.droppedViews)
	if err != nil {
		return Result{}, fmt.Errorf("pgclone: %w", err)
	}
	c.objs = objs
	c.mark(PhaseAnalysis, "analyze the source")

	// Exclusive use of the target, and leftovers of a killed run.
	var locked bool
	if err := c.tgtCoord.QueryRow(ctx, `SELECT pg_try_advisory_lock(hashtext('stagingkit/pgclone'))`).Scan(&locked); err != nil {
		return Result{}, fmt.Errorf("pgclone: locking the target: %w", err)
	}
	if !locked {
		return Result{}, ErrBusy
	}
	if err := dropShadows(ctx, c.tgtCoord); err != nil {
		return Result{}, fmt.Errorf("pgclone: dropping leftovers of an earlier run: %w", err)
	}
	defer func() {
		if err != nil {
			// Whatever happened, the live schemas are untouched.
			err = c.dropOwnShadows(ctx, err)
		}
	}()
	if err := c.checkTarget(ctx); err != nil {
		return Result{}, err
	}
	if missing, err := MissingExtensions(ctx, c.tgtCoord, pol.analysis.Extensions); err != nil {
		return Result{}, fmt.Errorf("pgclone: %w", err)
	} else if len(missing) > 0 {
		return Result{}, &MissingExtensionsError{Extensions: missing}
	}

	if err := c.build(ctx, snapshot); err != nil {
		return Result{}, err
	}
	if err := <-c.leakResult; err != nil {
		return Result{}, err
	}
	c.addSpan(PhaseLeakCheck, "leak check", kindStats{first: c.leakStart, last: c.leakEnd, busy: c.leakEnd.Sub(c.leakStart), n: 1})
	c.phaseStart = time.Now()
	if err := c.swap(ctx); err != nil {
		return Result{}, err
	}
	c.mark(PhaseSwap, "swap")
	res.Phases = c.phases
	sort.SliceStable(res.Phases, func(i, j int) bool { return res.Phases[i].Start < res.Phases[j].Start })

	res.Tables = c.results
	sort.Slice(res.Tables, func(i, j int) bool { return res.Tables[i].Name < res.Tables[j].Name })
	res.PolicyHash = PolicyHash(opts)
	res.TransformerVersions = map[string]string{}
	for table, cols := range pol.columns {
		for col, cp := range cols {
			res.TransformerVersions[table+"."+col] = cp.t.Version()
		}
	}
	res.Skipped = slices.Concat(pol.skipped, c.skipped, c.objs.skipped)
	res.NotCopied = pol.analysis.NotCopied
	res.Objects = c.objects
	res.CoincidentalMatches = c.coincidental
	res.DataDuration = c.dataDuration
	res.Duration = time.Since(start)
	return res, nil
}

// cloner holds the state of one Clone.
type cloner struct {
	opts           *Options
	source, target *pgx.ConnConfig
	srcCoord       *pgx.Conn
	srcTx          pgx.Tx
	tgtCoord       *pgx.Conn
	workers        []*worker
	pol            *policy
	objs           *schemaObjects
	names          *nameMap
	moveExts       []string // extensions to move into the new live schema at the swap
	// restore holds the verbatim definitions of functions whose bodies the
	// build bound to the shadow schemas, run in the swap after the renames.
	restore []string
	objects map[string]int // copied objects per kind
	seed    maphash.Seed

	start time.Time // when Clone was called

	mu      sync.Mutex
	results []TableResult
	runs    []*tableRun            // the copies of tables, over their ranges
	leaks   map[string]*leakHashes // "schema.table.column" (root table) -> hashes
	leakDir string                 // spilled leak-check runs
	leakMem *leakMemory            // the leak check's memory budget, shared by all its collectors
	// coincidental counts masked values equal to another row's production value.
	coincidental map[string]int
	// dataDuration is how long the data phase (the COPY streams) took.
	dataDuration time.Duration
	phases       []Phase
	phaseStart   time.Time
	// leakResult delivers the leak check, which starts when the last COPY
	// stream ends and runs beside the rest of the build.
	leakResult         chan error
	leakOnce           sync.Once
	leakStart, leakEnd time.Time
	skipped            []string
	memoBudget         atomic.Int64 // bytes the COPY streams' memos may still take (see memo)
	srcMajor           int          // the source's PostgreSQL major version
	// refusedOptions are the source's storage parameters ("toast.k=v")
	// the target refuses (see probeStorageParameters).
	refusedOptions map[string]string
	copied         atomic.Int64 // rows read, for failAfterRows
}

type worker struct {
	src *pgx.Conn
	tx  pgx.Tx
	tgt *pgx.Conn
	// maxGather and maxMaintenance are the target session's own
	// max_parallel_workers_per_gather and max_parallel_maintenance_workers,
	// the most parallel workers a statement of this worker is given (see
	// limitParallel); parallelSet is the spare count set last (-2: none).
	maxGather, maxMaintenance, parallelSet int
}

// limitParallel lets the worker's next statements on the target use at
// most spare parallel workers of the server, and never more than the
// session's own settings allow; spareAlone keeps the session's settings.
// The clone's own sessions keep Parallelism server processes busy; a
// parallel index build or foreign-key check beside them only competes
// with them for the same cores (on the bench, a parallel build of two
// indexes on 3M rows took 0.7 CPU-seconds more than a serial one and was
// no faster), so a statement beside other tasks gets parallel workers only
// for the workers the clone leaves idle, and one that runs alone gets what
// the server gives any session.
func (w *worker) limitParallel(ctx context.Context, spare int) error {
	if spare == w.parallelSet {
		return nil
	}
	gather, maintenance := w.maxGather, w.maxMaintenance
	if spare != spareAlone {
		gather, maintenance = min(spare, gather), min(spare, maintenance)
	}
	_, err := w.tgt.Exec(ctx, `SELECT set_config('max_parallel_workers_per_gather', $1::int::text, false),
	       set_config('max_parallel_maintenance_workers', $2::int::text, false)`,
		gather, maintenance)
	if err != nil {
		return fmt.Errorf("pgclone: setting the target session's parallel workers: %w", err)
	}
	w.parallelSet = spare
	return nil
}

func (c *cloner) closeAll() {
	ctx, cancel := context.WithTimeout(context.Background(), 10*time.Second)
	defer cancel()
	c.closeWorkers(ctx)
	if c.srcCoord != nil {
		_ = c.srcCoord.Close(ctx)
		c.srcCoord = nil
	}
	if c.tgtCoord != nil {
		_ = c.tgtCoord.Close(ctx)
		c.tgtCoord = nil
	}
}

// closeWorkers ends the workers' sessions: whatever they were doing is
// rolled back and their locks are released.
func (c *cloner) closeWorkers(ctx context.Context) {
	for _, w := range c.workers {
		if w.src != nil {
			_ = w.src.Close(ctx)
		}
		if w.tgt != nil {
			_ = w.tgt.Close(ctx)
		}
	}
	c.workers = nil
}

// advisoryLock is the key of the session advisory lock that gives one
// clone at a time the use of a target database.
const advisoryLock = `hashtext('stagingkit/pgclone')`

// checkTarget fails before anything is written when the copy would
// replace the owner catalog, or a schema of the target that another owner
// holds (the swap checks again, in its transaction).
func (c *cloner) checkTarget(ctx context.Context) error {
	if slices.Contains(c.pol.cat.schemas, CatalogSchema) {
		return fmt.Errorf("pgclone: the source has a schema named %s, the owner catalog of clone targets; exclude it from the copy (exclude_schemas)", CatalogSchema)
	}
	return CheckOwners(ctx, c.tgtCoord, c.opts.Owner, c.pol.cat.schemas)
}

// dropOwnShadows drops the shadow schemas of a failed clone while the
// clone still holds the target's advisory lock, so that it never drops the
// shadows of another run: on the coordinator session when it is healthy,
// else on a new session that takes the lock again (when another run has
// it by then, the shadows are left to the next run, which drops leftovers
// first). It returns cause, with what went wrong added.
func (c *cloner) dropOwnShadows(ctx context.Context, cause error) error {
	cctx, cancel := context.WithTimeout(context.WithoutCancel(ctx), time.Minute)
	defer cancel()
	c.closeWorkers(cctx) // their sessions may hold locks on the shadows
	conn := c.tgtCoord
	if conn == nil || conn.IsClosed() || conn.Ping(cctx) != nil {
		var err error
		if conn, err = connect(cctx, c.target, nil); err != nil {
			return fmt.Errorf("%w (and reconnecting to drop the shadow schemas failed: %w)", cause, err)
		}
		defer conn.Close(cctx)
		var locked bool
		if err := conn.QueryRow(cctx, `SELECT pg_try_advisory_lock(`+advisoryLock+`)`).Scan(&locked); err != nil {
			return fmt.Errorf("%w (and locking the target to drop the shadow schemas failed: %w)", cause, err)
		}
		if !locked {
			return cause
		}
	}
	if err := dropShadows(cctx, conn); err != nil {
		return fmt.Errorf("%w (and dropping the shadow schemas failed: %w)", cause, err)
	}
	return cause
}

// sourceError turns a lock timeout of a source session into a
// *SourceLockTimeoutError naming the sessions that blocked it, read on a fresh
// source session; other errors are returned as they are.
func (c *cloner) sourceError(ctx context.Context, err error) error {
	if !IsLockTimeout(err) {
		return err
	}
	lt := c.opts.Source.LockTimeout
	if lt == 0 {
		lt = DefaultLockTimeout
	}
	out := &SourceLockTimeoutError{Timeout: lt, Err: err}
	cctx, cancel := context.WithTimeout(context.WithoutCancel(ctx), 10*time.Second)
	defer cancel()
	if conn, cerr := connect(cctx, c.source, c.opts.Source.Params()); cerr == nil {
		out.Blockers, _ = LockBlockers(cctx, conn)
		_ = conn.Close(cctx)
	}
	return out
}

// dropShadows drops the shadow and old schemas of any run.
func dropShadows(ctx context.Context, conn *pgx.Conn) error {
	rows, err := conn.Query(ctx, `SELECT nspname FROM pg_namespace WHERE nspname LIKE '%\_\_stg\_new' OR nspname LIKE '%\_\_stg\_old' ORDER BY 1`)
	if err != nil {
		return err
	}
	names, err := pgx.CollectRows(rows, pgx.RowTo[string])
	if err != nil {
		return err
	}
	for _, n := range names {
		if _, err := conn.Exec(ctx, "DROP SCHEMA IF EXISTS "+pgx.Identifier{n}.Sanitize()+" CASCADE"); err != nil {
			return fmt.Errorf("dropping schema %s: %w", n, err)
		}
	}
	return nil
}

// build creates the shadow schemas and loads them.
func (c *cloner) build(ctx context.Context, snapshot string) error {
	cat := c.pol.cat
	c.names = &nameMap{schemas: map[string]string{}, members: map[string]map[string]string{}}
	for _, s := range cat.schemas {
		if len(s)+len(shadowSuffix) > 63 {
			return fmt.Errorf("pgclone: schema name %q is too long for its shadow schema (at most %d bytes)", s, 63-len(shadowSuffix))
		}
		c.names.schemas[s] = s + shadowSuffix
	}

	// Workers: one source transaction in the snapshot and one target
	// session each.
	for range c.opts.Parallelism {
		w := &worker{}
		c.workers = append(c.workers, w)
		var err error
		if w.src, err = connect(ctx, bufferedReads(c.source), c.opts.Source.Params()); err != nil {
			return fmt.Errorf("pgclone: connecting to the source: %w", err)
		}
		if w.tx, err = w.src.BeginTx(ctx, pgx.TxOptions{IsoLevel: pgx.RepeatableRead, AccessMode: pgx.ReadOnly}); err != nil {
			return fmt.Errorf("pgclone: %w", err)
		}
		if _, err = w.tx.Exec(ctx, "SET TRANSACTION SNAPSHOT "+quoteLiteral(snapshot)); err != nil {
			return fmt.Errorf("pgclone: importing the snapshot: %w", err)
		}
		if w.tgt, err = connect(ctx, c.target, map[string]string{"synchronous_commit": "off", "maintenance_work_mem": "256MB"}); err != nil {
			return fmt.Errorf("pgclone: connecting to the target: %w", err)
		}
		w.parallelSet = -2 // none yet
		if err = w.tgt.QueryRow(ctx, `SELECT current_setting('max_parallel_workers_per_gather')::int,
		       current_setting('max_parallel_maintenance_workers')::int`).Scan(&w.maxGather, &w.maxMaintenance); err != nil {
			return fmt.Errorf("pgclone: reading the target's parallel workers: %w", err)
		}
	}

	// Schemas, extensions, types, sequences and tables, in one transaction.
	if err := c.probeStorageParameters(ctx); err != nil {
		return err
	}
	ddl, err := c.preDataDDL(ctx)
	if err != nil {
		return err
	}
	if err := execAll(ctx, c.tgtCoord, true, ddl); err != nil {
		return fmt.Errorf("pgclone: creating the schema: %w", err)
	}
	if err := c.noteLostToastParameters(ctx); err != nil {
		return err
	}
	// Sequences and identity columns take the source's values: they do not
	// depend on the data.
	if err := execAll(ctx, c.tgtCoord, false, c.sequenceValues()); err != nil {
		return fmt.Errorf("pgclone: setting sequences: %w", err)
	}
	c.mark(PhaseSchema, "create the schema")

	c.leaks = map[string]*leakHashes{}
	c.seed = maphash.MakeSeed()
	// Hashes of the leak check beyond its memory budget go here; Clone
	// removes the directory whatever happens.
	if c.leakDir, err = os.MkdirTemp("", "pgclone-leak-"); err != nil {
		return fmt.Errorf("pgclone: leak check: %w", err)
	}
	c.leakMem = newLeakMemory(c.opts.leakBudget, c.leakDir)
	if err := c.load(ctx); err != nil {
		return err
	}
	roles, err := targetRoles(ctx, c.tgtCoord)
	if err != nil {
		return fmt.Errorf("pgclone: reading the target's roles: %w", err)
	}
	if err := execAll(ctx, c.tgtCoord, true, c.postDataObjects(roles)); err != nil {
		return fmt.Errorf("pgclone: creating materialized views, triggers, policies and comments: %w", err)
	}
	c.mark(PhasePostData, "materialized views, triggers, policies, comments")
	return nil
}

// startLeakCheck starts the leak check (once): it is client work that
// runs while the server builds the rest.
func (c *cloner) startLeakCheck() {
	c.leakOnce.Do(func() {
		c.leakResult = make(chan error, 1)
		c.leakStart = time.Now()
		go func() {
			err := c.leakCheck()
			c.leakEnd = time.Now()
			c.leakResult <- err
		}()
	})
}

func quoteLiteral(s string) string { return "'" + strings.ReplaceAll(s, "'", "''") + "'" }

// execAll runs statements, in one transaction when tx is set.
func execAll(ctx context.Context, conn *pgx.Conn, tx bool, stmts []string) error {
	if len(stmts) == 0 {
		return nil
	}
	if tx {
		t, err := conn.Begin(ctx)
		if err != nil {
			return err
		}
		defer func() { _ = t.Rollback(context.WithoutCancel(ctx)) }()
		for _, s := range stmts {
			if _, err := t.Exec(ctx, s); err != nil {
				return fmt.Errorf("%w\n%s", err, s)
			}
		}
		return t.Commit(ctx)
	}
	for _, s := range stmts {
		if _, err := conn.Exec(ctx, s); err != nil {
			return fmt.Errorf("%w\n%s", err, s)
		}
	}
	return nil
}

// preDataDDL plans extensions and decides where their objects live.
func (c *cloner) preDataDDL(ctx context.Context) ([]string, error) {
	// Function bodies are not checked at creation, as pg_dump does: they
	// may use objects created after them.
	ddl := []string{"SET LOCAL check_function_bodies = off"}
	for _, s := range c.pol.cat.schemas {
		ddl = append(ddl, "CREATE SCHEMA "+pgx.Identifier{c.names.schemas[s]}.Sanitize())
	}
	type installed struct {
		schema      string
		relocatable bool
	}
	have := map[string]installed{}
	rows, err := c.tgtCoord.Query(ctx, `SELECT e.extname, n.nspname, e.extrelocatable FROM pg_extension e JOIN pg_namespace n ON n.oid = e.extnamespace`)
	if err != nil {
		return nil, fmt.Errorf("pgclone: reading the target's extensions: %w", err)
	}
	for rows.Next() {
		var name string
		var in installed
		if err := rows.Scan(&name, &in.schema, &in.relocatable); err != nil {
			rows.Close()
			return nil, err
		}
		have[name] = in
	}
	if err := rows.Err(); err != nil {
		return nil, err
	}
	for _, e := range c.objs.extensions {
		where := e.schema // where its objects will be during the build
		in, ok := have[e.name]
		_, copied := c.names.schemas[e.schema]
		switch {
		case ok:
			where = in.schema
			if _, replaced := c.names.schemas[in.schema]; replaced {
				if !in.relocatable {
					return nil, fmt.Errorf("pgclone: extension %s is installed in schema %s of the target, which the clone replaces, and is not relocatable: move it to a schema that is not copied (DROP/CREATE EXTENSION ... SCHEMA)", e.name, in.schema)
				}
				c.moveExts = append(c.moveExts, e.name)
			}
		case copied:
			where = c.names.schemas[e.schema]
			ddl = append(ddl, fmt.Sprintf("CREATE EXTENSION IF NOT EXISTS %s SCHEMA %s CASCADE", pgx.Identifier{e.name}.Sanitize(), pgx.Identifier{where}.Sanitize()))
		default:
			ddl = append(ddl, "CREATE SCHEMA IF NOT EXISTS "+pgx.Identifier{e.schema}.Sanitize(),
				fmt.Sprintf("CREATE EXTENSION IF NOT EXISTS %s SCHEMA %s CASCADE", pgx.Identifier{e.name}.Sanitize(), pgx.Identifier{e.schema}.Sanitize()))
		}
		if c.names.members[e.schema] == nil {
			c.names.members[e.schema] = map[string]string{}
		}
		for _, m := range e.members {
			c.names.members[e.schema][m] = where
		}
	}
	for _, s := range c.objs.sequences {
		ddl = append(ddl, c.names.rewrite(fmt.Sprintf("CREATE SEQUENCE %s AS %s %s", quoteQualified(Name{s.schema, s.name}.String()), s.typ, s.options)))
		c.count(KindSequence)
	}
	// Types, functions, tables, views: in dependency order. Bodies bound
	// late are bound to the shadow schemas for the build; the swap puts
	// the verbatim ones back (see objects.go).
	live := c.names.liveNames()
	for _, o := range c.objs.pre {
		if o.lateBody {
			build := c.names.bindToShadows(o.ddl)
			ddl = append(ddl, build)
			if verbatim := live.rewrite(o.ddl); verbatim != build {
				c.restore = append(c.restore, verbatim)
			}
		} else {
			ddl = append(ddl, c.names.rewrite(o.ddl)+c.storageClause(o.table))
		}
		c.count(o.kind)
	}
	for _, s := range c.objs.sequences {
		if s.ownerTable != "" && c.pol.cat.rels[s.ownerTable] != nil && c.pol.cat.rels[s.ownerTable].included {
			ddl = append(ddl, c.names.rewrite(fmt.Sprintf("ALTER SEQUENCE %s OWNED BY %s.%s",
				quoteQualified(Name{s.schema, s.name}.String()), quoteQualified(s.ownerTable), pgx.Identifier{s.ownerC}.Sanitize())))
		}
	}
	return ddl, nil
}

// sequenceValues sets sequences and identity columns to the source's values.
func (c *cloner) sequenceValues() []string {
	var out []string
	for _, s := range c.objs.sequences {
		if s.last != nil {
			out = append(out, c.names.rewrite(fmt.Sprintf("SELECT pg_catalog.setval(%s, %d, true)",
				quoteLiteral(quoteQualified(Name{s.schema, s.name}.String()))+"::regclass", *s.last)))
		}
	}
	for _, rel := range c.pol.cat.order {
		if !rel.included || rel.isPartition {
			continue
		}
		for _, col := range rel.columns {
			if col.identity != 0 && col.identLast != nil {
				table := c.names.rewriteName(quoteQualified(rel.qualified()))
				out = append(out, fmt.Sprintf("SELECT pg_catalog.setval(pg_catalog.pg_get_serial_sequence(%s, %s), %d, true)",
					quoteLiteral(table), quoteLiteral(col.name), *col.identLast))
			}
		}
	}
	return out
}

// binaryOK reports whether rel can stream in binary COPY (see
// binaryCopyOK).
func (c *cloner) binaryOK(rel *relation, masks map[string]*columnPlan) bool {
	return c.binaryCopyOK(rel, masks)
}

// routesThroughRoot reports whether a masked column of partition rel is
// in the partition key of one of its ancestors (or the key has
// expressions, which may use it).
func (c *cloner) routesThroughRoot(rel *relation, masks map[string]*columnPlan) bool {
	if len(masks) == 0 {
		return false
	}
	for r := rel; r.isPartition; {
		parent := c.pol.cat.rels[r.parent]
		if parent == nil {
			return false
		}
		if parent.partExpr {
			return true
		}
		for _, col := range parent.partCols {
			if masks[col] != nil {
				return true
			}
		}
		r = parent
	}
	return false
}

// root is the partition-tree root of a relation, or the relation itself.
func (c *cloner) root(table string) string {
	if r := c.pol.cat.rels[table]; r != nil {
		return r.root
	}
	return table
}

// copyTable streams one range of a table (or all of it) from the source
// snapshot into its shadow, and returns the rows it copied. The table's
// result is recorded, and its row count checked, by its last range.
func (c *cloner) copyTable(ctx context.Context, w *worker, tr *tableRun, part tidRange) (int64, error) {
	tp := tr.tp
	c.beginRange(tr)
	rel := c.pol.cat.rels[tp.Name]
	var cols []string
	masks := c.pol.columns[tp.Name]
	var m *rowMasker
	if len(masks) > 0 {
		m = &rowMasker{seed: c.seed}
	}
	leakKeys := map[int]string{}
	var selects []string // what the source sends: the columns, or a nulled reference
	for _, col := range rel.columns {
		if col.generated != 0 {
			continue
		}
		sel := SubsetAlias + "." + pgx.Identifier{col.name}.Sanitize()
		if expr, ok := c.pol.nullify[tp.Name][col.name]; ok {
			sel = expr
		}
		selects = append(selects, sel)
		if cp := masks[col.name]; cp != nil {
			cm := columnMask{index: len(cols), t: cp.t, bin: binaryFieldOf(col.name, col.binaryType()), memo: newMemo(&c.memoBudget)}
			if cp.leak {
				cm.leak = c.leakMem.collector()
				if cp.metered != nil {
					// The odds the leak check sums, measured as the
					// value is masked rather than by parsing it again.
					mt, err := cp.metered()
					if err != nil {
						return 0, err
					}
					cm.t, cm.metered = mt, mt
				} else {
					// An array column: its whole literal is measured. A
					// spec the meter refuses (New accepted it to plan the
					// column, so this does not happen) leaves the odds 0.
					cm.meter, _ = masking.NewFixedPointMeter(cp.spec)
				}
				if leakTestHook != nil {
					cm.t = leakTestHook(cm.t)
				}
				leakKeys[len(m.masks)] = rel.root + "." + col.name
			}
			m.masks = append(m.masks, cm)
		}
		cols = append(cols, pgx.Identifier{col.name}.Sanitize())
	}
	if m != nil {
		m.ncols = len(cols)
		defer func() {
			for i := range m.masks {
				m.masks[i].memo.release()
			}
		}()
	}
	colList := strings.Join(cols, ", ")
	filter := "true"
	if f, ok := c.pol.filters[tp.Name]; ok {
		filter = f
	}
	if cond := part.condition(SubsetAlias); cond != "" {
		filter = "(" + filter + ") AND " + cond
	}
	copyOut := fmt.Sprintf("COPY (SELECT %s FROM ONLY %s AS %s WHERE %s) TO STDOUT", strings.Join(selects, ", "), quoteQualified(tp.Name), SubsetAlias, filter)
	// A masked partition key may move a row to another partition: such
	// rows go in through the root, which routes them.
	into := tp.Name
	if c.routesThroughRoot(rel, masks) {
		into = rel.root
	}
	copyIn := fmt.Sprintf("COPY %s (%s) FROM STDIN", c.names.rewriteName(quoteQualified(into)), colList)
	if len(cols) == 0 {
		// A table without columns: nothing to stream but its row count.
		copyOut = fmt.Sprintf("COPY (SELECT FROM ONLY %s AS %s WHERE %s) TO STDOUT", quoteQualified(tp.Name), SubsetAlias, filter)
		copyIn = fmt.Sprintf("COPY %s FROM STDIN", c.names.rewriteName(quoteQualified(tp.Name)))
	}

	pr, pw := io.Pipe()
	mw := &maskingWriter{m: m, w: pw}
	if len(cols) > 0 && c.binaryOK(rel, masks) {
		copyOut += " (FORMAT binary)"
		copyIn += " (FORMAT binary)"
		mw.binary = &binaryRows{}
	}
	limit := c.opts.failAfterRows
	mw.onRows = func(n int64) error {
		tr.rows.Add(n) // the table's progress, over its ranges
		c.hold(HoldCopy)
		if limit > 0 && c.copied.Add(n) >= limit {
			return errInjected
		}
		return nil
	}
	type inResult struct {
		tag pgconn.CommandTag
		err error
	}
	in := make(chan inResult, 1)
	go func() {
		tag, err := w.tgt.PgConn().CopyFrom(ctx, pr, copyIn)
		_ = pr.CloseWithError(errors.Join(err, io.ErrClosedPipe))
		in <- inResult{tag, err}
	}()

	_, outErr := w.tx.Conn().PgConn().CopyTo(ctx, mw, copyOut)
	if outErr == nil {
		outErr = mw.Close()
	}
	_ = pw.CloseWithError(outErr) // nil: the reader sees EOF
	r := <-in
	if outErr != nil || r.err != nil {
		tr.endProgress(false)
	}
	// When the target fails first, the source side only sees the closed
	// pipe: report the target's error.
	if r.err != nil && (outErr == nil || errors.Is(outErr, io.ErrClosedPipe)) {
		return 0, fmt.Errorf("pgclone: copying %s into the target%s: %w", tp.Name, targetColumn(r.err), r.err)
	}
	if outErr != nil {
		return 0, c.sourceError(ctx, fmt.Errorf("pgclone: copying %s out of the source: %w", tp.Name, outErr))
	}
	rows := mw.rows.Load()
	if err := c.absorbLeaks(m, leakKeys); err != nil {
		return rows, err
	}
	return rows, c.endRange(tr, rows, r.tag.RowsAffected(), mw.outBytes)
}

// absorbLeaks adds the leak-check hashes of one COPY stream to its
// columns' collectors.
func (c *cloner) absorbLeaks(m *rowMasker, leakKeys map[int]string) error {
	c.mu.Lock()
	defer c.mu.Unlock()
	if m != nil {
		for i, key := range leakKeys {
			l := m.masks[i].leak
			all := c.leaks[key]
			if all == nil {
				all = c.leakMem.collector()
				c.leaks[key] = all
			}
			if err := all.absorb(l); err != nil {
				return err
			}
		}
	}
	return nil
}

// progressInterval is how often Progress hears about a table being copied.
const progressInterval = 10 * time.Second

// progress reports a table's copy until the returned function is called.
func (c *cloner) progress(tp TablePlan, start time.Time, rows *atomic.Int64) func(done bool) {
	if c.opts.Progress == nil {
		return func(bool) {}
	}
	report := func(done bool) {
		n := rows.Load()
		el := time.Since(start)
		p := TableProgress{Table: tp.Name, Rows: n, TotalRows: tp.Rows, Elapsed: el, Done: done}
		if el > 0 {
			p.RowsPerSecond = float64(n) / el.Seconds()
		}
		switch {
		case done:
			p.Percent = 100
		case tp.Rows > 0:
			p.Percent = min(100, 100*float64(n)/float64(tp.Rows))
		}
		if !done && p.RowsPerSecond > 0 && tp.Rows > n {
			p.Remaining = time.Duration(float64(tp.Rows-n) / p.RowsPerSecond * float64(time.Second))
		}
		c.opts.Progress(p)
	}
	every := c.opts.progressInterval
	if every <= 0 {
		every = progressInterval
	}
	stop := make(chan struct{})
	finished := make(chan struct{})
	go func() {
		defer close(finished)
		t := time.NewTicker(every)
		defer t.Stop()
		for {
			select {
			case <-stop:
				return
			case <-t.C:
				report(false)
			}
		}
	}()
	return func(done bool) {
		close(stop)
		<-finished
		if done {
			report(true)
		}
	}
}

// mark records the step that ends now, which ran alone.
func (c *cloner) mark(key, name string) {
	now := time.Now()
	d := now.Sub(c.phaseStart)
	c.phases = append(c.phases, Phase{Key: key, Name: name, Start: c.phaseStart.Sub(c.start), Duration: d, Busy: d})
	c.phaseStart = now
}

// addSpan records a phase whose tasks ran beside others.
func (c *cloner) addSpan(key, name string, st kindStats) {
	if st.n == 0 {
		return
	}
	c.phases = append(c.phases, Phase{Key: key, Name: name, Start: st.first.Sub(c.start), Duration: st.last.Sub(st.first), Busy: st.busy})
}

// Points of a clone at which Options.Hold is called.
const (
	HoldCopy     = "copy"     // inside a COPY stream, after rows were written
	HoldIndex    = "index"    // before a table's keys and indexes are built
	HoldValidate = "validate" // before a foreign key is validated
	HoldSwap     = "swap"     // in the swap transaction, before COMMIT
)

// hold calls Options.Hold.
func (c *cloner) hold(phase string) {
	if c.opts.Hold != nil {
		c.opts.Hold(phase)
	}
}

// swap replaces each live schema by its shadow in one transaction, which
// also records the owner of the copied schemas in the owner catalog (and
// drops schemas the owner held that the copy no longer has). Each attempt
// waits at most lockTimeout for the locks it needs (dropping the previous
// copy waits for sessions reading it); it is retried with backoff for
// Options.lockWait in all, then fails with a *LockTimeoutError naming the
// sessions that hold them. Another owner's schemas fail it with an
// *OwnerError.
func (c *cloner) swap(ctx context.Context) error {
	wait := c.opts.lockWait
	if wait <= 0 {
		wait = defaultLockWait
	}
	schemas := c.pol.cat.schemas
	blockers := slices.Clone(schemas)
	err := withLockRetry(ctx, c.tgtCoord, wait, func(tx pgx.Tx) error {
		if _, err := lockCatalog(ctx, tx, true); err != nil {
			return err
		}
		stale, err := claim(ctx, tx, c.opts.Owner, schemas)
		if err != nil {
			return err
		}
		blockers = append(slices.Clone(schemas), stale...)
		var live []string
		for _, s := range schemas {
			var exists bool
			if err := tx.QueryRow(ctx, `SELECT EXISTS (SELECT 1 FROM pg_namespace WHERE nspname = $1)`, s).Scan(&exists); err != nil {
				return err
			}
			var stmts []string
			if exists {
				live = append(live, s)
				stmts = append(stmts, fmt.Sprintf("ALTER SCHEMA %s RENAME TO %s", pgx.Identifier{s}.Sanitize(), pgx.Identifier{s + oldSuffix}.Sanitize()))
			}
			stmts = append(stmts, fmt.Sprintf("ALTER SCHEMA %s RENAME TO %s", pgx.Identifier{s + shadowSuffix}.Sanitize(), pgx.Identifier{s}.Sanitize()))
			for _, st := range stmts {
				if _, err := tx.Exec(ctx, st); err != nil {
					return fmt.Errorf("%w\n%s", err, st)
				}
			}
		}
		// Late-bound bodies were bound to the shadow schemas for the build:
		// now that the shadows have their live names, production's text.
		if len(c.restore) > 0 {
			if _, err := tx.Exec(ctx, "SET LOCAL check_function_bodies = off"); err != nil {
				return err
			}
		}
		for _, st := range c.restore {
			if _, err := tx.Exec(ctx, st); err != nil {
				return fmt.Errorf("restoring a function body: %w\n%s", err, st)
			}
		}
		for _, e := range c.moveExts {
			var schema string
			if err := tx.QueryRow(ctx, `SELECT n.nspname FROM pg_extension e JOIN pg_namespace n ON n.oid = e.extnamespace WHERE e.extname = $1`, e).Scan(&schema); err != nil {
				return err
			}
			if live, ok := strings.CutSuffix(schema, oldSuffix); ok {
				if _, err := tx.Exec(ctx, fmt.Sprintf("ALTER EXTENSION %s SET SCHEMA %s", pgx.Identifier{e}.Sanitize(), pgx.Identifier{live}.Sanitize())); err != nil {
					return fmt.Errorf("moving extension %s: %w", e, err)
				}
			}
		}
		for _, s := range live {
			if _, err := tx.Exec(ctx, "DROP SCHEMA "+pgx.Identifier{s + oldSuffix}.Sanitize()+" CASCADE"); err != nil {
				return fmt.Errorf("dropping the previous %s: %w", s, err)
			}
		}
		if err := dropSchemas(ctx, tx, stale); err != nil {
			return err
		}
		// What the copy is made of, for drift detection.
		if err := recordObjects(ctx, tx, schemas); err != nil {
			return err
		}
		c.hold(HoldSwap)
		return nil
	}, func() []string { return blockers })
	var oe *OwnerError
	var le *LockTimeoutError
	if err != nil && !errors.As(err, &oe) && !errors.As(err, &le) {
		return fmt.Errorf("pgclone: swap: %w", err)
	}
	return err
}
