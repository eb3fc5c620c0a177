package pgclone

import (
	"context"
	"errors"
	"fmt"
	"path"
	"sort"
	"strings"
	"time"

	"github.com/jackc/pgx/v5"

	"github.com/stagingkit/terraform-provider-staging/internal/masking"
)

// ColumnRule masks one column.
type ColumnRule struct {
	Table  string // "schema.table" or "table" (= public); a rule on a partitioned table covers its partitions
	Column string
	Spec   masking.Spec
}

// Actions for columns without a rule.
const (
	// ActionKeep copies columns without a rule as they are; columns the
	// detector flags as personal data still fail closed (see [Analyze]).
	ActionKeep = "keep"
)

// Options configure [Analyze] and [Clone].
type Options struct {
	// IncludeSchemas and ExcludeSchemas are globs (path.Match) on schema
	// names; by default every non-system schema is included.
	IncludeSchemas, ExcludeSchemas []string
	// IncludeTables and ExcludeTables are globs on "schema.table"; a
	// partition follows its partitioned table.
	IncludeTables, ExcludeTables []string
	Rules                        []ColumnRule
	// DefaultAction for columns without a rule: "keep" (the default)
	// copies them as they are; PII detection still fails closed.
	DefaultAction string
	Key           masking.Key
	// Subset chooses part of the rows; every reference of a copied row
	// still resolves. See [PlanSubset].
	Subset SubsetOptions
	// Parallelism is the number of workers (one source and one target
	// connection each) that copy tables, or ranges of a large table, and
	// build indexes and foreign keys at once; default runtime.NumCPU().
	Parallelism int
	// Progress, when set, is called at least every 10 s per table while
	// it is copied (over all its ranges when several workers share it),
	// and when it is done. Calls may come from several
	// goroutines at once.
	Progress func(TableProgress)
	// Source says how source sessions are opened: read-only startup
	// parameters, lock and statement timeouts, and whether a privileged
	// login is accepted. The zero value is the safe default.
	Source SourceSettings
	// Owner is recorded in the target's owner catalog as the holder of the
	// copied schemas; the swap refuses schemas another owner holds (see
	// [Owner.Conflicts] and [OwnerError]).
	Owner Owner
	// Hold, when set, is called at the points of the clone named by the
	// Hold* constants, from any goroutine: tests stop (and kill) a clone
	// there. It must return promptly when it has nothing to do.
	Hold func(phase string)

	// lockWait overrides how long the swap waits for locks in all
	// (defaultLockWait) in tests.
	lockWait time.Duration
	// chunkPages, when positive, overrides the size of the ranges a large
	// table is split into (chunkBytes), in pages: tests split small tables.
	chunkPages int64
	// trace, when set, hears of every task of the load as it starts and
	// ends (see scheduler).
	trace func(taskTrace)

	// AllowDroppedDependents lets the copy leave out foreign keys that
	// reference tables that are not copied, and views that read them;
	// without it they are problems (see [ProblemExcludedDependency]).
	AllowDroppedDependents bool
	// ExcludeObjects are globs on "schema.name" of functions, procedures,
	// aggregates, views and materialized views of the copied schemas, and
	// on names of extensions, to leave out: the way past an object the
	// target cannot reproduce.
	ExcludeObjects []string
	// RoleMap maps production roles to staging roles for grants and
	// policies; a role it does not name keeps its name. Grants and policy
	// roles that do not exist in the target are left out and listed.
	RoleMap map[string]string

	// failAfterRows, when positive, makes the copy fail once that many
	// rows (over all tables) have been read: tests break a clone midway.
	failAfterRows int64
	// progressInterval overrides the 10 s progress period in tests.
	progressInterval time.Duration
	// leakBudget overrides the leak check's in-memory budget for the
	// whole clone (bytes of hashes before a spill to disk) in tests.
	leakBudget int
	// textCopy streams every table in text COPY, as tables the binary
	// path cannot mask are: tests compare the two paths.
	textCopy bool
	// estimateRows takes each table's row count from the planner's
	// statistics instead of counting it (see TablePlan.Estimated): Clone
	// sets it, since counting every table (and every subset filter) in
	// the snapshot before the first COPY put a scan of production on the
	// clone's critical path.
	estimateRows bool
	// noMemoryLimit leaves the process's soft memory limit alone (see
	// limitMemory): the memory tests compare with and without it.
	noMemoryLimit bool
}

// TableProgress reports the copy of one table.
type TableProgress struct {
	Table         string // "schema.table"
	Rows          int64  // rows copied so far
	TotalRows     int64  // the table's rows: the planner's estimate during a clone (see TablePlan.Estimated)
	RowsPerSecond float64
	Percent       float64 // of TotalRows, at most 100; 100 once the table is done
	Elapsed       time.Duration
	// Remaining estimates the time left at the rate so far (0 when done
	// or not yet known).
	Remaining time.Duration
	Done      bool
}

// Kinds of [Problem].
const (
	ProblemUnmaskedPII        = "unmasked_pii"
	ProblemNonBijectiveUnique = "non_bijective_unique"
	ProblemUnknownTable       = "unknown_table"
	ProblemUnknownColumn      = "unknown_column"
	ProblemBadRule            = "bad_rule"
	// ProblemDerivedData: a column derived from masked columns (a
	// tsvector maintained by a trigger) that the copy cannot recompute.
	ProblemDerivedData = "derived_data"
)

// Problem is one reason the masking policy is not safe to run.
type Problem struct {
	Kind          string // one of the Problem* constants
	Table, Column string // "schema.table" (as named by the rule for unknown tables) and column
	Detail        string
	Suggested     *masking.Spec // for unmasked_pii: the rule to add
}

func (p Problem) String() string {
	name := p.Table
	if p.Column != "" {
		name += "." + p.Column
	}
	s := fmt.Sprintf("%s: %s: %s", name, p.Kind, p.Detail)
	if p.Suggested != nil {
		s += "; suggested rule: " + specString(*p.Suggested)
	}
	return s
}

func specString(s masking.Spec) string {
	out := fmt.Sprintf("transformer = %q", s.Transformer)
	if s.Domain != "" {
		out += fmt.Sprintf(", domain = %q", s.Domain)
	}
	for _, k := range sortedStringKeys(s.Options) {
		out += fmt.Sprintf(", %s = %v", k, s.Options[k])
	}
	return out
}

// ProblemsError is returned by [Clone] when [Analyze] reports problems:
// nothing was written.
type ProblemsError struct{ Problems []Problem }

func (e *ProblemsError) Error() string {
	lines := make([]string, len(e.Problems))
	for i, p := range e.Problems {
		lines[i] = "  - " + p.String()
	}
	return fmt.Sprintf("pgclone: the masking policy is not safe, nothing was copied (%d problems):\n%s",
		len(e.Problems), strings.Join(lines, "\n"))
}

// TablePlan is one table whose rows are copied (a plain table or a leaf
// partition).
type TablePlan struct {
	Name   string   // "schema.table"
	Rows   int64    // exact count in the snapshot, or the planner's estimate when Estimated
	Masked []string // columns with a rule other than keep, sorted
	// Estimated says Rows is pg_class.reltuples (0 when never analysed),
	// not a count: Clone estimates, and checks each table's rows read
	// from the snapshot against the rows the target wrote instead.
	Estimated bool
}

// Analysis is what [Analyze] found.
type Analysis struct {
	Tables   []TablePlan
	Problems []Problem
	// WritePrivileges are the copied tables the source login could change
	// outside a READ ONLY transaction: a read-only role is safer.
	WritePrivileges []WritePrivilege
	// NotCopied are the source's objects that a copy never reproduces, by
	// design, with the reason.
	NotCopied []NotCopied
	// Skipped are objects left out because options allow it
	// (AllowDroppedDependents), with the reason.
	Skipped []string
	// Extensions the copy creates in the target: check them against the
	// target with [MissingExtensions].
	Extensions []string
	// Roles that grants and policies of the copied schemas name (after
	// RoleMap): check them against the target with [MissingRoles].
	Roles []string
	// Warnings are what the plan checked on sampled values only (a
	// domain's CHECK constraints against masked samples), one sentence
	// each, naming the column.
	Warnings []string
}

// identifierTransformers mask values that identify a person on their own:
// the leak check compares their outputs with production.
var identifierTransformers = map[string]bool{"email": true, "phone": true, "credit_card": true, "iban": true, "digits": true}

// identifierKinds are the detector kinds treated the same way.
var identifierKinds = map[string]bool{masking.KindEmail: true, masking.KindPhone: true, masking.KindCreditCard: true,
	masking.KindIBAN: true, masking.KindNationalID: true}

// sampleSize is how many non-NULL values per column the detector sees
// (with their repeats: a value in 2% of rows is about 2% of them).
const sampleSize = 1000

// column is one column of a catalog relation.
type column struct {
	num       int
	name      string
	typ       string // format_type
	notNull   bool
	def       string // pg_get_expr of the default, "" for none
	identity  byte   // 'a', 'd' or 0
	generated byte   // 's' or 0
	collation string // quoted, qualified; "" for the default
	unique    bool   // in a primary key or unique index
	// uniqueExpr: used by a unique index on expressions, such as
	// UNIQUE (lower(email)); caseInsensitive: compared ignoring case there
	// (lower() or upper() of it) or under a nondeterministic collation.
	uniqueExpr, caseInsensitive bool
	// baseTyp is format_type of the column's type with domains resolved
	// to their base type (over any depth of domains); equal to typ
	// otherwise.
	baseTyp string
	// unsafeIndex is a unique index (quoted, qualified) with a key
	// expression over the column that the clone cannot judge, and
	// unsafeExpr that expression: masking the column is refused.
	unsafeIndex, unsafeExpr string
	local                   bool   // defined by the table itself, not only inherited
	identOpts               string // identity sequence options
	identLast               *int64 // identity sequence's last value
}

// relation is a table, partitioned table or partition of the source.
type relation struct {
	oid         uint32
	schema      string
	name        string
	kind        byte // 'r' or 'p'
	unlogged    bool
	isPartition bool
	parent      string // qualified direct parent of a partition
	root        string // qualified root of a partition tree; the name itself otherwise
	partKey     string // pg_get_partkeydef for kind 'p'
	partBound   string // FOR VALUES ... of a partition
	// inherits are the parents of a table that inherits outside
	// partitioning, in order.
	inherits []string
	// partCols are the columns of the partition key of a partitioned
	// table; partExpr is set when the key has expressions.
	partCols []string
	partExpr bool
	columns  []column
	included bool
	// options and toastOptions are the storage parameters of the table
	// and of its TOAST table (pg_class.reloptions: "fillfactor=70").
	options, toastOptions []string
}

func (r *relation) qualified() string { return Name{r.schema, r.name}.String() }

func (r *relation) column(name string) *column {
	for i := range r.columns {
		if r.columns[i].name == name {
			return &r.columns[i]
		}
	}
	return nil
}

// catalogState is the part of the source catalog Analyze needs.
type catalogState struct {
	schemas []string // included schemas, sorted
	rels    map[string]*relation
	order   []*relation // by oid: parents before their partitions
}

// shadowSuffix and oldSuffix name the target schemas a clone builds in and
// swaps out; source schemas with these suffixes are never copied.
const (
	shadowSuffix = "__stg_new"
	oldSuffix    = "__stg_old"
)

func isSystemSchema(s string) bool {
	return s == "pg_catalog" || s == "information_schema" || strings.HasPrefix(s, "pg_toast") || strings.HasPrefix(s, "pg_temp_") ||
		strings.HasSuffix(s, shadowSuffix) || strings.HasSuffix(s, oldSuffix) || s == CatalogSchema
}

func matchAny(globs []string, s string) bool {
	for _, g := range globs {
		if ok, _ := path.Match(g, s); ok {
			return true
		}
	}
	return false
}

func (o *Options) schemaIncluded(s string) bool {
	if isSystemSchema(s) {
		return false
	}
	if len(o.IncludeSchemas) > 0 && !matchAny(o.IncludeSchemas, s) {
		return false
	}
	return !matchAny(o.ExcludeSchemas, s)
}

func (o *Options) tableIncluded(qualified string) bool {
	if !o.schemaIncluded(SplitName(qualified).Schema) {
		return false
	}
	if len(o.IncludeTables) > 0 && !matchAny(o.IncludeTables, qualified) {
		return false
	}
	return !matchAny(o.ExcludeTables, qualified)
}

func (o *Options) validate() error {
	switch o.DefaultAction {
	case "", ActionKeep:
	default:
		return fmt.Errorf("pgclone: default_action %q is not supported; valid values are: keep", o.DefaultAction)
	}
	for _, globs := range [][]string{o.IncludeSchemas, o.ExcludeSchemas, o.IncludeTables, o.ExcludeTables} {
		for _, g := range globs {
			if _, err := path.Match(g, ""); err != nil {
				return fmt.Errorf("pgclone: bad pattern %q: %w", g, err)
			}
		}
	}
	return nil
}

// readCatalog reads schemas, tables and columns of the source.
func readCatalog(ctx context.Context, q Querier, opts *Options) (*catalogState, error) {
	cat := &catalogState{rels: map[string]*relation{}}
	rows, err := q.Query(ctx, `SELECT nspname FROM pg_namespace ORDER BY 1`)
	if err != nil {
		return nil, fmt.Errorf("reading schemas: %w", err)
	}
	names, err := pgx.CollectRows(rows, pgx.RowTo[string])
	if err != nil {
		return nil, fmt.Errorf("reading schemas: %w", err)
	}
	for _, n := range names {
		if opts.schemaIncluded(n) {
			cat.schemas = append(cat.schemas, n)
		}
	}
	rows, err = q.Query(ctx, `
		SELECT c.oid, n.nspname, c.relname, c.relkind, c.relpersistence = 'u', c.relispartition,
		       coalesce((SELECT `+sqlName("pn.nspname", "p.relname")+` FROM pg_inherits i JOIN pg_class p ON p.oid = i.inhparent
		                 JOIN pg_namespace pn ON pn.oid = p.relnamespace WHERE i.inhrelid = c.oid AND c.relispartition), ''),
		       coalesce((SELECT `+sqlName("rn.nspname", "r.relname")+` FROM pg_class r JOIN pg_namespace rn ON rn.oid = r.relnamespace
		                 WHERE c.relispartition AND r.oid = pg_partition_root(c.oid)), ''),
		       CASE WHEN c.relkind = 'p' THEN pg_get_partkeydef(c.oid) ELSE '' END,
		       coalesce(pg_get_expr(c.relpartbound, c.oid), ''),
		       array(SELECT a.attname::text FROM pg_partitioned_table pt CROSS JOIN unnest(pt.partattrs::int2[]) k
		             JOIN pg_attribute a ON a.attrelid = pt.partrelid AND a.attnum = k WHERE pt.partrelid = c.oid),
		       coalesce((SELECT 0 = ANY (pt.partattrs::int2[]) FROM pg_partitioned_table pt WHERE pt.partrelid = c.oid), false),
		       array(SELECT `+sqlName("pn.nspname", "p.relname")+` FROM pg_inherits i JOIN pg_class p ON p.oid = i.inhparent
		             JOIN pg_namespace pn ON pn.oid = p.relnamespace WHERE i.inhrelid = c.oid AND NOT c.relispartition ORDER BY i.inhseqno),
		       coalesce(c.reloptions, '{}'), coalesce((SELECT t.reloptions FROM pg_class t WHERE t.oid = c.reltoastrelid), '{}')
		FROM pg_class c JOIN pg_namespace n ON n.oid = c.relnamespace
		WHERE c.relkind IN ('r', 'p') AND c.relpersistence <> 't'
		  AND n.nspname = ANY ($1::text[])
		  AND NOT EXISTS (SELECT 1 FROM pg_depend d WHERE d.classid = 'pg_class'::regclass AND d.objid = c.oid AND d.deptype = 'e')
		ORDER BY c.oid`, cat.schemas)
	if err != nil {
		return nil, fmt.Errorf("reading tables: %w", err)
	}
	for rows.Next() {
		r := &relation{}
		var kind string
		if err := rows.Scan(&r.oid, &r.schema, &r.name, &kind, &r.unlogged, &r.isPartition, &r.parent, &r.root, &r.partKey, &r.partBound, &r.partCols, &r.partExpr, &r.inherits, &r.options, &r.toastOptions); err != nil {
			rows.Close()
			return nil, fmt.Errorf("reading tables: %w", err)
		}
		r.kind = kind[0]
		if r.root == "" {
			r.root = r.qualified()
		}
		cat.rels[r.qualified()] = r
		cat.order = append(cat.order, r)
	}
	if err := rows.Err(); err != nil {
		return nil, fmt.Errorf("reading tables: %w", err)
	}
	// Partitions may have a smaller oid than their parent (ATTACH
	// PARTITION); order by depth so that parents come first.
	depth := func(r *relation) int {
		d := 0
		for p := r; p.isPartition && cat.rels[p.parent] != nil; p = cat.rels[p.parent] {
			d++
		}
		return d
	}
	sort.SliceStable(cat.order, func(i, j int) bool { return depth(cat.order[i]) < depth(cat.order[j]) })
	for _, r := range cat.order {
		root := cat.rels[r.root]
		r.included = root != nil && opts.tableIncluded(r.root)
	}

	oids := make([]uint32, 0, len(cat.order))
	byOID := map[uint32]*relation{}
	for _, r := range cat.order {
		if r.included {
			oids = append(oids, r.oid)
			byOID[r.oid] = r
		}
	}
	rows, err = q.Query(ctx, `
		SELECT a.attrelid, a.attnum, a.attname, format_type(a.atttypid, a.atttypmod), a.attnotnull,
		       coalesce(pg_get_expr(d.adbin, d.adrelid), ''), a.attidentity::text, a.attgenerated::text,
		       coalesce(CASE WHEN a.attcollation <> t.typcollation THEN quote_ident(cn.nspname) || '.' || quote_ident(co.collname) END, ''),
		       EXISTS (SELECT 1 FROM pg_index i WHERE i.indrelid = a.attrelid AND i.indisunique AND a.attnum = ANY (i.indkey)),
		       EXISTS (SELECT 1 FROM pg_index i JOIN pg_depend dp ON dp.classid = 'pg_class'::regclass AND dp.objid = i.indexrelid
		               WHERE i.indrelid = a.attrelid AND i.indisunique AND i.indexprs IS NOT NULL
		                 AND dp.refclassid = 'pg_class'::regclass AND dp.refobjid = a.attrelid AND dp.refobjsubid = a.attnum),
		       coalesce(NOT co.collisdeterministic, false),
		       coalesce((WITH RECURSIVE dt(oid, mod) AS (
		                   SELECT a.atttypid, a.atttypmod
		                   UNION ALL
		                   SELECT bt.typbasetype, CASE WHEN bt.typtypmod <> -1 THEN bt.typtypmod ELSE dt.mod END
		                   FROM dt JOIN pg_type bt ON bt.oid = dt.oid WHERE bt.typtype = 'd')
		                 SELECT format_type(dt.oid, dt.mod) FROM dt JOIN pg_type x ON x.oid = dt.oid WHERE x.typtype <> 'd'), ''),
		       a.attislocal,
		       coalesce((SELECT format('START WITH %s INCREMENT BY %s MINVALUE %s MAXVALUE %s CACHE %s %s',
		                   s.seqstart, s.seqincrement, s.seqmin, s.seqmax, s.seqcache, CASE WHEN s.seqcycle THEN 'CYCLE' ELSE 'NO CYCLE' END)
		                 FROM pg_depend dp JOIN pg_sequence s ON s.seqrelid = dp.objid
		                 WHERE dp.classid = 'pg_class'::regclass AND dp.refclassid = 'pg_class'::regclass AND dp.refobjid = a.attrelid AND dp.refobjsubid = a.attnum AND dp.deptype = 'i'), ''),
		       (SELECT pg_sequence_last_value(dp.objid) FROM pg_depend dp
		         WHERE dp.classid = 'pg_class'::regclass AND dp.refclassid = 'pg_class'::regclass AND dp.refobjid = a.attrelid AND dp.refobjsubid = a.attnum AND dp.deptype = 'i')
		FROM pg_attribute a
		JOIN pg_type t ON t.oid = a.atttypid
		LEFT JOIN pg_attrdef d ON d.adrelid = a.attrelid AND d.adnum = a.attnum
		LEFT JOIN pg_collation co ON co.oid = a.attcollation LEFT JOIN pg_namespace cn ON cn.oid = co.collnamespace
		WHERE a.attrelid = ANY ($1::oid[]) AND a.attnum > 0 AND NOT a.attisdropped
		ORDER BY a.attrelid, a.attnum`, oids)
	if err != nil {
		return nil, fmt.Errorf("reading columns: %w", err)
	}
	for rows.Next() {
		var oid uint32
		var c column
		var identity, generated string
		if err := rows.Scan(&oid, &c.num, &c.name, &c.typ, &c.notNull, &c.def, &identity, &generated, &c.collation, &c.unique, &c.uniqueExpr, &c.caseInsensitive, &c.baseTyp, &c.local, &c.identOpts, &c.identLast); err != nil {
			rows.Close()
			return nil, fmt.Errorf("reading columns: %w", err)
		}
		if identity != "" {
			c.identity = identity[0]
		}
		if generated != "" {
			c.generated = generated[0]
		}
		byOID[oid].columns = append(byOID[oid].columns, c)
	}
	if err := rows.Err(); err != nil {
		return nil, fmt.Errorf("reading columns: %w", err)
	}
	if err := readUniqueIndexes(ctx, q, oids, byOID); err != nil {
		return nil, err
	}
	return cat, nil
}

// columnPlan is the effective treatment of one copied column.
type columnPlan struct {
	spec masking.Spec
	t    masking.Transformer
	leak bool
	// metered makes t anew, metered, for one COPY stream of a
	// leak-checked column (see masking.Metered); nil for an array column,
	// masked element by element.
	metered func() (*masking.Metered, error)
}

// policy is the outcome of analysis that Clone executes.
type policy struct {
	cat      *catalogState
	analysis Analysis
	// columns maps "schema.table" of a copied relation (plain table or
	// leaf partition) to its masked columns.
	columns map[string]map[string]*columnPlan
	// filters and nullify are the subset of each copied relation (keyed by
	// the relation, taken from its partition root): a condition over
	// SubsetAlias, and column -> replacement expression.
	filters map[string]string
	nullify map[string]map[string]string
	// droppedViews are the views and materialized views left out because
	// they read tables that are not copied (AllowDroppedDependents).
	droppedViews map[string]bool
	skipped      []string
}

// Analyze checks a masking policy against the source: q must be inside a
// REPEATABLE READ READ ONLY transaction the caller opened. It validates the
// rules against the real tables and columns, builds their transformers,
// runs the PII detector on every included column (name, SQL type and up to
// 100 non-NULL sampled values) and reports, fail-closed: personal data
// without a rule (a rule with transformer "keep" accepts it), non-bijective
// transformers on primary-key or unique columns, rules naming missing
// tables or columns, and bad transformer options. It returns an error only
// when the catalog cannot be read; policy problems are in
// [Analysis.Problems].
func Analyze(ctx context.Context, q Querier, opts Options) (Analysis, error) {
	p, err := analyze(ctx, q, &opts)
	if err != nil {
		return Analysis{}, err
	}
	names := make([]string, len(p.analysis.Tables))
	for i, t := range p.analysis.Tables {
		names[i] = t.Name
	}
	if p.analysis.WritePrivileges, err = WritePrivileges(ctx, q, names); err != nil {
		return Analysis{}, err
	}
	return p.analysis, nil
}

func analyze(ctx context.Context, q Querier, opts *Options) (*policy, error) {
	if err := opts.validate(); err != nil {
		return nil, err
	}
	cat, err := readCatalog(ctx, q, opts)
	if err != nil {
		return nil, err
	}
	key := opts.Key
	if key.IsZero() {
		// Options are validated the same way with any key; this one never
		// masks anything (Clone refuses to run without a key).
		if key, err = masking.DeriveKey([]byte("pgclone analysis without a key: validation only")); err != nil {
			return nil, err
		}
	}
	p := &policy{cat: cat, columns: map[string]map[string]*columnPlan{}}
	problem := func(kind, table, col, detail string, suggested *masking.Spec) {
		p.analysis.Problems = append(p.analysis.Problems, Problem{Kind: kind, Table: table, Column: col, Detail: detail, Suggested: suggested})
	}

	// Rules, by relation and column.
	ruled := map[string]map[string]*columnPlan{}
	named := map[string]bool{} // "schema.table.column" with a rule, valid or not
	for _, rule := range opts.Rules {
		name := Qualify(rule.Table)
		rel := cat.rels[name]
		if rel == nil || !rel.included {
			why := "no such table in the source"
			if rel != nil {
				why = "the table is excluded from the copy by the schema or table filters"
			}
			problem(ProblemUnknownTable, name, rule.Column, why, nil)
			continue
		}
		col := rel.column(rule.Column)
		if col == nil {
			problem(ProblemUnknownColumn, name, rule.Column, "no such column in "+name, nil)
			continue
		}
		named[name+"."+rule.Column] = true
		if ruled[name][rule.Column] != nil {
			problem(ProblemBadRule, name, rule.Column, "two rules name this column", nil)
			continue
		}
		if col.generated != 0 {
			problem(ProblemBadRule, name, rule.Column, "a generated column is recomputed by the target, not copied: mask the columns it is computed from", nil)
			continue
		}
		if rule.Spec.Transformer == "null" && col.notNull {
			problem(ProblemBadRule, name, rule.Column, "transformer \"null\" on a NOT NULL column", nil)
			continue
		}
		// The column's base type (domains resolved), collation and unique
		// indexes decide what its values are and when two are equal.
		jc := p.withPartitions(rel, col) // with its partitions' own unique indexes
		class, unique := jc.class(), jc.unique || jc.uniqueExpr || p.uniqueInPartitions(rel, rule.Column)
		spec := rule.Spec
		if !col.isArray() {
			spec = masking.WithTypeBounds(spec, class) // number_noise within the type's range
		}
		t, err := masking.New(spec, key)
		if err != nil {
			problem(ProblemBadRule, name, rule.Column, err.Error(), nil)
			continue
		}
		if col.isArray() {
			// Element by element: an e-mail rule on text[] masks each address.
			t = arrayMask{t}
		} else if tr := rule.Spec.Transformer; tr != "keep" && tr != "null" {
			if jc.unsafeIndex != "" {
				problem(ProblemNonBijectiveUnique, name, rule.Column, fmt.Sprintf(
					"%s compares it through the expression %s, which the clone cannot prove masking keeps one to one (it judges the column itself, lower() or upper() of it, and casts to text or citext); copy the column with transformer \"keep\" if it is not personal data, or index the column itself or lower() of it instead",
					jc.unsafeIndex, jc.unsafeExpr), nil)
				continue
			}
			if ok, why := masking.FitsType(rule.Spec, class, unique); !ok && !unique {
				// Unique columns: BijectiveUnder says it below.
				problem(ProblemOutputDoesNotFit, name, rule.Column, why, nil)
				continue
			}
		}
		if unique {
			// Judged against the column's equality (its base type; citext,
			// collations, unique expressions), not only as text: digits on
			// an int4 key must stay in range.
			bijective, why := t.Bijective(), fmt.Sprintf(
				"transformer %q is not bijective: distinct values could mask equally; use a bijective transformer (email, phone, credit_card, iban, digits, uuid, ip, format_preserving, or hash with length >= 32)", rule.Spec.Transformer)
			if !col.isArray() && (class.Equality != masking.EqualOther || !bijective) {
				if class.Equality == masking.EqualOther {
					// Other base types (date, bytea, ...) print one text
					// per value: their text equality is theirs.
					class.Equality = masking.EqualText
				}
				bijective, why, _ = masking.BijectiveUnder(rule.Spec, class)
			}
			if !bijective {
				// The detail is the reason; callers say where the column is.
				problem(ProblemNonBijectiveUnique, name, rule.Column, why, nil)
				continue
			}
		}
		if ruled[name] == nil {
			ruled[name] = map[string]*columnPlan{}
		}
		cp := &columnPlan{spec: rule.Spec, t: t, leak: identifierTransformers[rule.Spec.Transformer]}
		if _, ok := t.(arrayMask); !ok {
			cp.metered = func() (*masking.Metered, error) { return masking.NewMetered(spec, key) }
		}
		ruled[name][rule.Column] = cp
	}

	// Both ends of every foreign key (and virtual one) masked alike.
	var fkTables []string
	for _, rel := range cat.order {
		if rel.included && !rel.isPartition {
			fkTables = append(fkTables, rel.qualified())
		}
	}
	fkProblems, err := foreignKeyMaskingProblems(ctx, q, fkTables, opts.Subset.VirtualForeignKeys, func(table, column string) (masking.Spec, bool) {
		if cp := ruled[table][column]; cp != nil {
			return cp.spec, true
		}
		// A refused rule (its own problem says why): an empty spec, so
		// that the key is not also reported as "no rule".
		return masking.Spec{}, named[table+"."+column]
	}, func(table, column string) (masking.ColumnClass, bool, bool) {
		rel := cat.rels[table]
		if rel == nil {
			return masking.ColumnClass{}, false, false
		}
		col := rel.column(column)
		if col == nil || col.isArray() {
			return masking.ColumnClass{}, false, false
		}
		class := p.withPartitions(rel, col).class()
		if class.Equality == masking.EqualOther {
			class.Equality = masking.EqualText // as for unique columns above
		}
		return class, col.unique || col.uniqueExpr || p.uniqueInPartitions(rel, column), true
	})
	if err != nil {
		return nil, err
	}
	p.analysis.Problems = append(p.analysis.Problems, fkProblems...)

	// Objects that depend on what is not copied, that are never copied,
	// or that the target cannot reproduce.
	if p.droppedViews, err = p.dependents(ctx, q, opts); err != nil {
		return nil, err
	}
	p.analysis.Skipped = p.skipped
	if p.analysis.NotCopied, err = readNotCopied(ctx, q, cat.schemas); err != nil {
		return nil, err
	}
	if err := p.unreproducible(ctx, q, opts, ruled); err != nil {
		return nil, err
	}
	if p.analysis.Extensions, err = readExtensions(ctx, q, opts); err != nil {
		return nil, err
	}
	if p.analysis.Roles, err = readRoles(ctx, q, cat.schemas, opts); err != nil {
		return nil, err
	}

	// Detection, on plain and partitioned tables (partitions are sampled
	// through their root). keys (unique and foreign-key columns, which
	// shape the suggestions) is read at the first column flagged.
	var keys *keyColumns
	suggested := map[string]*masking.Spec{}
	for _, rel := range cat.order {
		if !rel.included || rel.isPartition {
			continue
		}
		samples, err := sampleColumns(ctx, q, rel)
		if err != nil {
			return nil, err
		}
		masksSome := false
		for _, cp := range ruled[rel.qualified()] {
			masksSome = masksSome || cp.spec.Transformer != "keep"
		}
		for i, col := range rel.columns {
			if col.generated != 0 {
				continue
			}
			if col.typ == "tsvector" && masksSome && !named[rel.qualified()+"."+col.name] {
				// Derived from other columns (by a trigger or the
				// application): it would carry the production words of the
				// columns masked beside it.
				problem(ProblemDerivedData, rel.qualified(), col.name,
					"a tsvector column beside masked columns holds the production words they are derived from, and the copy cannot recompute it; "+
						"add a rule with transformer \"null\" (recompute it in staging, for example with an UPDATE that fires its trigger), or \"keep\" if it holds nothing personal", nil)
				continue
			}
			if cp := ruled[rel.qualified()][col.name]; cp != nil && cp.t != nil && cp.spec.Transformer != "keep" && cp.spec.Transformer != "null" {
				// A domain's CHECK constraints judged on masked samples.
				detail, warning, err := domainCheckProblem(ctx, q, rel, col, cp, samples[i])
				if err != nil {
					return nil, err
				}
				if detail != "" {
					problem(ProblemOutputDoesNotFit, rel.qualified(), col.name, detail, nil)
				} else if warning != "" {
					p.analysis.Warnings = append(p.analysis.Warnings, warning)
				}
			}
			if cp := ruled[rel.qualified()][col.name]; cp != nil && (cp.spec.OnInvalid == "" || cp.spec.OnInvalid == masking.OnInvalidError) {
				// The apply would fail at the first invalid value, after
				// copying: say so at plan, with counts, never values.
				if bad, of := invalidSamples(cp, col.typ, samples[i]); bad > 0 {
					problem(ProblemInvalidSamples, rel.qualified(), col.name,
						invalidSamplesDetail(cp.spec, col.unique || col.uniqueExpr || p.uniqueInPartitions(rel, col.name), bad, of), nil)
				}
			}
			findings := masking.Detect(masking.Column{Name: col.name, SQLType: col.typ, Samples: samples[i]})
			if len(findings) == 0 {
				continue
			}
			if cp := ruled[rel.qualified()][col.name]; cp != nil {
				for _, f := range findings {
					cp.leak = cp.leak || identifierKinds[f.Kind]
				}
				continue
			}
			if named[rel.qualified()+"."+col.name] || p.ruledInAllLeaves(rel, col.name, ruled) {
				continue
			}
			f := findings[0]
			if keys == nil {
				k, err := readKeyColumns(ctx, q, cat, opts.Subset.VirtualForeignKeys)
				if err != nil {
					return nil, err
				}
				keys = &k
			}
			sg := suggestRule(f, samples[i], col.baseType(), keys.key[rel.qualified()+"."+col.name] || p.uniqueInPartitions(rel, col.name))
			msg := fmt.Sprintf("looks like %s (confidence %.2f: %s)", f.Kind, f.Confidence, f.Reason)
			if sg.Note != "" {
				msg += "; " + sg.Note
			}
			suggested[rel.qualified()+"."+col.name] = &sg.Spec
			problem(ProblemUnmaskedPII, rel.qualified(), col.name, msg, &sg.Spec)
		}
	}
	if keys != nil {
		keys.align(suggested)
	}

	// The subset, planned on the tables users see (partition roots).
	var subset SubsetPlan
	if len(opts.Subset.Subsets) > 0 {
		var roots []string
		for _, rel := range cat.order {
			if rel.included && !rel.isPartition {
				roots = append(roots, rel.qualified())
			}
		}
		if subset, _, err = PlanSubset(ctx, q, roots, opts.Subset); err != nil {
			return nil, err
		}
	}
	p.filters, p.nullify = map[string]string{}, map[string]map[string]string{}

	// Copied relations and their effective rules: a partition takes the
	// rules of its ancestors, its own rules win.
	for _, rel := range cat.order {
		if !rel.included || rel.kind != 'r' {
			continue
		}
		eff := map[string]*columnPlan{}
		var chain []*relation
		for r := rel; r != nil; r = cat.rels[r.parent] {
			chain = append(chain, r)
			if !r.isPartition {
				break
			}
		}
		for i := len(chain) - 1; i >= 0; i-- {
			for c, cp := range ruled[chain[i].qualified()] {
				eff[c] = cp
			}
		}
		tp := TablePlan{Name: rel.qualified()}
		masked := map[string]*columnPlan{}
		for c, cp := range eff {
			if cp.spec.Transformer == "keep" {
				continue
			}
			masked[c] = cp
			tp.Masked = append(tp.Masked, c)
		}
		sort.Strings(tp.Masked)
		p.columns[rel.qualified()] = masked
		filter := "true"
		if f, ok := subset.Filters[rel.root]; ok {
			filter = f
			p.filters[rel.qualified()] = f
		}
		if n, ok := subset.Nullify[rel.root]; ok {
			p.nullify[rel.qualified()] = n
		}
		if opts.estimateRows {
			tp.Estimated = true
			if err := q.QueryRow(ctx, "SELECT greatest(reltuples, 0)::int8 FROM pg_catalog.pg_class WHERE oid = $1::regclass", quoteQualified(rel.qualified())).Scan(&tp.Rows); err != nil {
				return nil, fmt.Errorf("estimating rows of %s: %w", rel.qualified(), err)
			}
		} else if err := q.QueryRow(ctx, "SELECT count(*) FROM ONLY "+quoteQualified(rel.qualified())+" AS "+SubsetAlias+" WHERE "+filter).Scan(&tp.Rows); err != nil {
			return nil, fmt.Errorf("counting rows of %s: %w", rel.qualified(), err)
		}
		p.analysis.Tables = append(p.analysis.Tables, tp)
	}
	sort.Slice(p.analysis.Tables, func(i, j int) bool { return p.analysis.Tables[i].Name < p.analysis.Tables[j].Name })
	sort.SliceStable(p.analysis.Problems, func(i, j int) bool {
		a, b := p.analysis.Problems[i], p.analysis.Problems[j]
		if a.Table != b.Table {
			return a.Table < b.Table
		}
		return a.Column < b.Column
	})
	return p, nil
}

// uniqueInPartitions reports whether a partition of rel has its own unique
// index on col.
func (p *policy) uniqueInPartitions(rel *relation, col string) bool {
	for _, r := range p.cat.order {
		if r.isPartition && r.root == rel.root && r != rel {
			if c := r.column(col); c != nil && c.unique {
				return true
			}
		}
	}
	return false
}

// ruledInAllLeaves reports whether every leaf partition of a partitioned
// rel has a rule of its own for col.
func (p *policy) ruledInAllLeaves(rel *relation, col string, ruled map[string]map[string]*columnPlan) bool {
	if rel.kind != 'p' {
		return false
	}
	leaves := 0
	for _, r := range p.cat.order {
		if r.isPartition && r.root == rel.qualified() && r.kind == 'r' {
			leaves++
			if ruled[r.qualified()][col] == nil && ruled[r.parent][col] == nil {
				return false
			}
		}
	}
	return leaves > 0
}

// Sampling bounds of sampleColumns: at most sampleRows rows of a table are
// read, a table of at most smallTablePages pages (1 MiB) is read whole,
// and the detector sees up to sampleSize values per column (array elements
// for arrays), each cut to sampleCellChars characters (the first
// sampleByteaPrefix bytes of a bytea, enough for a file signature).
const (
	sampleRows        = 10000
	smallTablePages   = 128
	sampleCellChars   = 4096
	sampleByteaPrefix = 16
	// assumedRowsPerPage sizes the page sample of a table never analysed
	// (reltuples = -1), low so that narrow rows make a larger sample, not
	// a smaller one; the row cap bounds what is read.
	assumedRowsPerPage = 20
)

// sampleColumns returns up to sampleSize non-NULL values of every column of
// rel, in text form, from one query over at most sampleRows rows spread
// across the whole table: a table of up to smallTablePages pages (its size
// on disk, never the planner's estimate, which is -1 before the first
// ANALYZE) is read whole; a larger one is sampled by pages (TABLESAMPLE
// SYSTEM, REPEATABLE so the same data gives the same plan) at the rate that
// gives about sampleRows rows. The sampled rows are put in an order that
// does not follow the table's (a hash of their physical address) and the
// row cap keeps the first sampleRows of that order, so rows late in a
// table are as likely to be seen as early ones. Values are not made
// distinct: a placeholder in 2% of rows is about 2% of the samples, so the
// detector's validity figure is what the copy will meet. Array columns give
// their elements (up to 20 per row), bytea columns the hex of their first
// bytes.
func sampleColumns(ctx context.Context, q Querier, rel *relation) ([][]string, error) {
	if len(rel.columns) == 0 {
		return nil, nil
	}
	var pages, analysedPages, analysedRows float64
	var neverAnalysed bool
	// Sizes of the table and, for a partitioned one (which has none of
	// its own), of every partition: pg_partition_tree lists no row for a
	// plain table, which once made every table look empty, so "small",
	// and read whole.
	if err := q.QueryRow(ctx, `SELECT coalesce(sum(pg_catalog.pg_relation_size(c.oid)), 0)::float8 / current_setting('block_size')::float8,
       coalesce(sum(c.relpages) FILTER (WHERE c.reltuples >= 0), 0)::float8,
       coalesce(sum(c.reltuples) FILTER (WHERE c.reltuples >= 0), 0)::float8,
       coalesce(bool_or(c.reltuples < 0 AND c.relkind IN ('r', 'm')), false)
FROM pg_catalog.pg_class c
WHERE c.oid = $1::regclass OR c.oid IN (SELECT relid FROM pg_catalog.pg_partition_tree($1::regclass))`,
		quoteQualified(rel.qualified())).Scan(&pages, &analysedPages, &analysedRows, &neverAnalysed); err != nil {
		return nil, fmt.Errorf("sampling %s: %w", rel.qualified(), err)
	}
	from := quoteQualified(rel.qualified())
	if pages > smallTablePages {
		perPage := float64(assumedRowsPerPage)
		if !neverAnalysed && analysedPages > 0 && analysedRows > 0 {
			perPage = max(1, analysedRows/analysedPages)
		}
		// Twice the pages the row cap needs, and at least smallTablePages
		// of them, so that a wrong density still reaches the cap.
		want := max(2*sampleRows/perPage, smallTablePages)
		from += fmt.Sprintf(" TABLESAMPLE SYSTEM (%g) REPEATABLE (0)", min(100, 100*want/pages))
	}
	cols := make([]string, 0, len(rel.columns)+1)
	exprs := make([]string, len(rel.columns))
	for i, c := range rel.columns {
		id := pgx.Identifier{c.name}.Sanitize()
		alias := fmt.Sprintf("c%d", i)
		typ := strings.ToLower(c.typ)
		switch {
		case c.generated != 0:
			exprs[i] = "'{}'::text[]"
			continue
		case typ == "bytea":
			cols = append(cols, fmt.Sprintf("pg_catalog.substr(%s, 1, %d)::text AS %s", id, sampleByteaPrefix, alias))
		case c.isArray(): // its own type, or a domain over an array
			cols = append(cols, fmt.Sprintf("%s AS %s", id, alias))
			exprs[i] = fmt.Sprintf("ARRAY(SELECT pg_catalog.left(e::text, %d) FROM sampled s, LATERAL unnest(s.%s) WITH ORDINALITY AS u(e, n) WHERE e IS NOT NULL AND n <= 20 ORDER BY s.h, n LIMIT %d)",
				sampleCellChars, alias, sampleSize)
			continue
		default:
			cols = append(cols, fmt.Sprintf("pg_catalog.left(%s::text, %d) AS %s", id, sampleCellChars, alias))
		}
		exprs[i] = fmt.Sprintf("ARRAY(SELECT %s FROM sampled WHERE %s IS NOT NULL ORDER BY h LIMIT %d)", alias, alias, sampleSize)
	}
	cols = append(cols, "pg_catalog.hashtext(ctid::text || tableoid::text) AS h")
	dest := make([][]string, len(rel.columns))
	ptrs := make([]any, len(dest))
	for i := range dest {
		ptrs[i] = &dest[i]
	}
	query := fmt.Sprintf("WITH sampled AS MATERIALIZED (SELECT %s FROM %s ORDER BY h LIMIT %d) SELECT %s",
		strings.Join(cols, ", "), from, sampleRows, strings.Join(exprs, ", "))
	if err := q.QueryRow(ctx, query).Scan(ptrs...); err != nil {
		return nil, fmt.Errorf("sampling %s: %w", rel.qualified(), err)
	}
	return dest, nil
}

func sortedStringKeys[V any](m map[string]V) []string {
	keys := make([]string, 0, len(m))
	for k := range m {
		keys = append(keys, k)
	}
	sort.Strings(keys)
	return keys
}

// errNoKey is returned by Clone without a masking key.
var errNoKey = errors.New("pgclone: no masking key: derive one from the environment's secret with masking.DeriveKey")
