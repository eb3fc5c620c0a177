package pgclone

import (
	"context"
	"fmt"
	"sort"
	"strings"

	"github.com/jackc/pgx/v5"
)

// Subset chooses the rows of a root table: those matching Where, or a
// deterministic Percent of them (by primary key and seed), or both.
type Subset struct {
	Table   string // "schema.table" or "table" (public)
	Where   string // SQL condition on the table's columns; "" for none
	Percent float64
}

// VirtualForeignKey declares a relationship the catalog does not know, so
// that subsetting follows it like a real foreign key.
type VirtualForeignKey struct {
	Table      string
	Columns    []string
	RefTable   string
	RefColumns []string
}

// SubsetOptions configure PlanSubset.
type SubsetOptions struct {
	Subsets            []Subset
	VirtualForeignKeys []VirtualForeignKey
	// NullDangling turns nullable references to rows that are not copied
	// into NULLs instead of dropping the referencing rows. Cycles in the
	// foreign-key graph can only be cut at nullable references this way.
	NullDangling bool
	// Seed makes Percent selections deterministic; derive it from the
	// masking key (never pass the key itself: it is sent to the server).
	Seed string
}

// SubsetPlan says which rows of each table to copy.
type SubsetPlan struct {
	// Filters maps "schema.table" to a SQL condition over the alias
	// SubsetAlias; tables without an entry are copied whole.
	Filters map[string]string
	// Nullify maps "schema.table" to column -> SQL expression (over the
	// alias SubsetAlias) that replaces the column in the copy, setting a
	// dangling reference to NULL.
	Nullify map[string]map[string]string
}

// SubsetAlias is the alias a table has in the SELECT that SubsetPlan's
// expressions are written for.
const SubsetAlias = "t"

// ForeignKey is one foreign key (or virtual one) between copied tables.
type ForeignKey struct {
	Name       string
	Table      string
	Columns    []string
	RefTable   string
	RefColumns []string
	Nullable   bool // every referencing column may be NULL
	// Partition, when set, is the partition (of Table, its root) that
	// declares the foreign key: only that partition's rows reference.
	Partition string
}

func (fk ForeignKey) String() string {
	return fmt.Sprintf("%s(%s) -> %s(%s)", fk.Table, strings.Join(fk.Columns, ", "), fk.RefTable, strings.Join(fk.RefColumns, ", "))
}

// SubsetError explains why a subset cannot be made closed.
type SubsetError struct{ Reason string }

func (e *SubsetError) Error() string { return "subset: " + e.Reason }

// Qualify turns "table" into "public.table" and leaves "schema.table" as
// it is: how rules, subsets and results name tables.
// A part that holds a dot or a double quote is double-quoted, as in SQL:
// `"sales.eu".orders` is table orders of schema "sales.eu", and
// `"a.b"` is table "a.b" of public.
func Qualify(name string) string {
	if _, _, qualified := splitName(name); qualified {
		return name
	}
	return "public." + name
}

// SplitName splits a qualified name in the form [Name.String] prints
// (parts that hold a dot or a double quote are double-quoted) into its
// schema and name; an unqualified name is in public.
func SplitName(name string) Name {
	schema, rest, qualified := splitName(name)
	if !qualified {
		return Name{"public", unquotePart(name)}
	}
	return Name{schema, unquotePart(rest)}
}

// splitName cuts name at the dot that ends its schema part.
func splitName(name string) (schema, rest string, qualified bool) {
	if strings.HasPrefix(name, `"`) {
		s, end, ok := readIdent(name, 0)
		if ok && end < len(name) && name[end] == '.' {
			return s, name[end+1:], true
		}
		return "", name, false
	}
	schema, rest, qualified = strings.Cut(name, ".")
	return schema, rest, qualified
}

// unquotePart returns the name a part stands for: the content of a fully
// double-quoted part, else the part itself.
func unquotePart(s string) string {
	if strings.HasPrefix(s, `"`) {
		if n, end, ok := readIdent(s, 0); ok && end == len(s) {
			return n
		}
	}
	return s
}

// quoteQualified quotes a qualified name for SQL.
func quoteQualified(name string) string {
	n := SplitName(name)
	return pgx.Identifier{n.Schema, n.Name}.Sanitize()
}

func quoteCols(alias string, cols []string) string {
	parts := make([]string, len(cols))
	for i, c := range cols {
		parts[i] = alias + "." + pgx.Identifier{c}.Sanitize()
	}
	if len(parts) == 1 {
		return parts[0]
	}
	return "(" + strings.Join(parts, ", ") + ")"
}

// ReadForeignKeys returns the foreign keys among tables (qualified names),
// with the nullability of their referencing columns.
//
// A foreign key declared on a partition (not inherited from its parent)
// is returned on the partition's root, with Partition naming it; one that
// references a partition is returned on the partition's root.
func ReadForeignKeys(ctx context.Context, q Querier, tables []string) ([]ForeignKey, error) {
	rows, err := q.Query(ctx, `
		WITH k AS (
		  SELECT k.*, c.relispartition,
		         CASE WHEN c.relispartition THEN pg_partition_root(c.oid) ELSE c.oid END AS tbl,
		         CASE WHEN rc.relispartition THEN pg_partition_root(rc.oid) ELSE rc.oid END AS reftbl
		  FROM pg_constraint k JOIN pg_class c ON c.oid = k.conrelid JOIN pg_class rc ON rc.oid = k.confrelid
		  WHERE k.contype = 'f' AND (NOT c.relispartition OR k.conparentid = 0)
		)
		SELECT k.conname, `+sqlName("n.nspname", "c.relname")+`, `+sqlName("rn.nspname", "rc.relname")+`,
		       array(SELECT a.attname::text FROM unnest(k.conkey) WITH ORDINALITY AS u(n, i)
		             JOIN pg_attribute a ON a.attrelid = k.conrelid AND a.attnum = u.n ORDER BY u.i),
		       array(SELECT a.attname::text FROM unnest(k.confkey) WITH ORDINALITY AS u(n, i)
		             JOIN pg_attribute a ON a.attrelid = k.confrelid AND a.attnum = u.n ORDER BY u.i),
		       NOT bool_or_notnull.v,
		       CASE WHEN k.relispartition THEN (SELECT `+sqlName("pn.nspname", "p.relname")+` FROM pg_class p JOIN pg_namespace pn ON pn.oid = p.relnamespace
		                                         WHERE p.oid = k.conrelid) ELSE '' END
		FROM k
		JOIN pg_class c ON c.oid = k.tbl JOIN pg_namespace n ON n.oid = c.relnamespace
		JOIN pg_class rc ON rc.oid = k.reftbl JOIN pg_namespace rn ON rn.oid = rc.relnamespace
		CROSS JOIN LATERAL (SELECT bool_or(a.attnotnull) AS v FROM pg_attribute a
		                    WHERE a.attrelid = k.conrelid AND a.attnum = ANY(k.conkey)) AS bool_or_notnull
		WHERE `+sqlName("n.nspname", "c.relname")+` = ANY($1) AND `+sqlName("rn.nspname", "rc.relname")+` = ANY($1)
		ORDER BY 2, 7, 1`, tables)
	if err != nil {
		return nil, fmt.Errorf("reading foreign keys: %w", err)
	}
	var fks []ForeignKey
	for rows.Next() {
		var fk ForeignKey
		if err := rows.Scan(&fk.Name, &fk.Table, &fk.RefTable, &fk.Columns, &fk.RefColumns, &fk.Nullable, &fk.Partition); err != nil {
			rows.Close()
			return nil, err
		}
		fks = append(fks, fk)
	}
	return fks, rows.Err()
}

// primaryKeys returns each table's primary-key columns.
func primaryKeys(ctx context.Context, q Querier, tables []string) (map[string][]string, error) {
	rows, err := q.Query(ctx, `
		SELECT `+sqlName("n.nspname", "c.relname")+`,
		       array(SELECT a.attname::text FROM unnest(k.conkey) WITH ORDINALITY AS u(n, i)
		             JOIN pg_attribute a ON a.attrelid = k.conrelid AND a.attnum = u.n ORDER BY u.i)
		FROM pg_constraint k JOIN pg_class c ON c.oid = k.conrelid JOIN pg_namespace n ON n.oid = c.relnamespace
		WHERE k.contype = 'p' AND `+sqlName("n.nspname", "c.relname")+` = ANY($1)`, tables)
	if err != nil {
		return nil, fmt.Errorf("reading primary keys: %w", err)
	}
	out := map[string][]string{}
	for rows.Next() {
		var t string
		var cols []string
		if err := rows.Scan(&t, &cols); err != nil {
			rows.Close()
			return nil, err
		}
		out[t] = cols
	}
	return out, rows.Err()
}

// columnNullable reports, for virtual foreign keys, whether all of a
// table's given columns are nullable.
func columnsNullable(ctx context.Context, q Querier, table string, cols []string) (bool, error) {
	var n int
	err := q.QueryRow(ctx, `SELECT count(*) FROM pg_attribute a
		WHERE a.attrelid = to_regclass($1) AND a.attname = ANY($2) AND NOT a.attisdropped AND a.attnum > 0 AND NOT a.attnotnull`,
		quoteQualified(table), cols).Scan(&n)
	return n == len(cols), err
}

// PlanSubset works out which rows of tables (qualified names) to copy so
// that every reference of a copied row resolves:
//
//   - a root table (one with a Subset) keeps the rows its Where and Percent
//     choose;
//   - a row that references a table whose rows are filtered is kept only if
//     the row it references is kept (or the reference is NULL); with
//     NullDangling, a nullable reference to a row that is not kept becomes
//     NULL instead, and the row is kept;
//   - tables that neither are roots nor reference filtered tables are
//     copied whole, so references into them always resolve.
//
// Filters nest along chains of foreign keys (payments of orders of chosen
// customers). A cycle of foreign keys between filtered tables can only be
// cut at a nullable reference with NullDangling; otherwise PlanSubset fails
// with a *SubsetError naming the cycle.
func PlanSubset(ctx context.Context, q Querier, tables []string, opts SubsetOptions) (SubsetPlan, []ForeignKey, error) {
	plan := SubsetPlan{Filters: map[string]string{}, Nullify: map[string]map[string]string{}}
	if len(opts.Subsets) == 0 {
		return plan, nil, nil
	}
	included := map[string]bool{}
	for _, t := range tables {
		included[t] = true
	}
	fks, err := ReadForeignKeys(ctx, q, tables)
	if err != nil {
		return plan, nil, err
	}
	for _, v := range opts.VirtualForeignKeys {
		fk := ForeignKey{Name: "virtual", Table: Qualify(v.Table), Columns: v.Columns, RefTable: Qualify(v.RefTable), RefColumns: v.RefColumns}
		if !included[fk.Table] || !included[fk.RefTable] {
			return plan, nil, &SubsetError{Reason: fmt.Sprintf("virtual foreign key %s names a table that is not copied", fk)}
		}
		if len(fk.Columns) == 0 || len(fk.Columns) != len(fk.RefColumns) {
			return plan, nil, &SubsetError{Reason: fmt.Sprintf("virtual foreign key %s needs as many columns as referenced columns", fk)}
		}
		if fk.Nullable, err = columnsNullable(ctx, q, fk.Table, fk.Columns); err != nil {
			return plan, nil, err
		}
		fks = append(fks, fk)
	}
	pks, err := primaryKeys(ctx, q, tables)
	if err != nil {
		return plan, nil, err
	}
	roots := map[string]Subset{}
	for _, s := range opts.Subsets {
		name := Qualify(s.Table)
		if !included[name] {
			return plan, nil, &SubsetError{Reason: fmt.Sprintf("subset table %s is not among the copied tables", name)}
		}
		if s.Percent < 0 || s.Percent > 100 {
			return plan, nil, &SubsetError{Reason: fmt.Sprintf("subset of %s: percent must be between 0 and 100, got %g", name, s.Percent)}
		}
		if s.Where != "" {
			if err := CheckCondition(s.Where); err != nil {
				return plan, nil, &SubsetError{Reason: fmt.Sprintf("subset of %s: where must be one SQL condition: %v", name, err)}
			}
		}
		if s.Where == "" && s.Percent == 0 {
			return plan, nil, &SubsetError{Reason: fmt.Sprintf("subset of %s needs where, percent, or both", name)}
		}
		if _, dup := roots[name]; dup {
			return plan, nil, &SubsetError{Reason: fmt.Sprintf("two subset blocks name %s; combine their conditions", name)}
		}
		s.Table = name
		roots[name] = s
	}

	// A table is filtered if it is a root or references a filtered table
	// through an edge that filters (not one that is nulled).
	outgoing := map[string][]ForeignKey{}
	for _, fk := range fks {
		outgoing[fk.Table] = append(outgoing[fk.Table], fk)
	}
	nullifies := func(fk ForeignKey) bool { return opts.NullDangling && fk.Nullable }
	filtered := map[string]bool{}
	for t := range roots {
		filtered[t] = true
	}
	for changed := true; changed; {
		changed = false
		for _, fk := range fks {
			if filtered[fk.RefTable] && !nullifies(fk) && !filtered[fk.Table] {
				filtered[fk.Table], changed = true, true
			}
		}
	}

	b := &filterBuilder{roots: roots, outgoing: outgoing, filtered: filtered, nullifies: nullifies, pks: pks, seed: opts.Seed}
	names := make([]string, 0, len(filtered))
	for t := range filtered {
		names = append(names, t)
	}
	sort.Strings(names)
	for _, t := range names {
		f, err := b.filter(t, SubsetAlias, nil)
		if err != nil {
			return plan, nil, err
		}
		plan.Filters[t] = f
	}
	// Nullable references into filtered tables that do not filter become
	// NULL when their row is not kept; a column in several such foreign
	// keys stays only if all of them resolve. The conditions are collected
	// per column and rendered once.
	keep := map[string]map[string][]string{} // table -> column -> conditions
	for _, fk := range fks {
		if !filtered[fk.RefTable] || !nullifies(fk) {
			continue
		}
		cond, err := b.keepCondition(fk)
		if err != nil {
			return plan, nil, err
		}
		if keep[fk.Table] == nil {
			keep[fk.Table] = map[string][]string{}
		}
		for _, col := range fk.Columns { // a composite key is nulled whole
			keep[fk.Table][col] = append(keep[fk.Table][col], cond)
		}
	}
	for table, cols := range keep {
		plan.Nullify[table] = map[string]string{}
		for col, conds := range cols {
			plan.Nullify[table][col] = fmt.Sprintf("CASE WHEN %s THEN %s.%s END", strings.Join(conds, " AND "), SubsetAlias, pgx.Identifier{col}.Sanitize())
		}
	}
	return plan, fks, nil
}

type filterBuilder struct {
	roots     map[string]Subset
	outgoing  map[string][]ForeignKey
	filtered  map[string]bool
	nullifies func(ForeignKey) bool
	pks       map[string][]string
	seed      string
	depth     int
}

// filter returns the condition that keeps table t's rows, over alias.
// stack holds the tables being expanded, to detect cycles.
func (b *filterBuilder) filter(t, alias string, stack []string) (string, error) {
	for i, s := range stack {
		if s == t {
			cycle := append(append([]string{}, stack[i:]...), t)
			return "", &SubsetError{Reason: fmt.Sprintf("the foreign keys %s form a cycle between subsetted tables that cannot be cut: "+
				"make one of its references nullable and set null_dangling_references, or subset a table outside the cycle", strings.Join(cycle, " -> "))}
		}
	}
	stack = append(stack, t)
	var conds []string
	if r, ok := b.roots[t]; ok {
		if r.Where != "" {
			conds = append(conds, "("+r.Where+")")
		}
		if r.Percent > 0 && r.Percent < 100 {
			key := "ROW(" + alias + ".*)" // no primary key: the whole row
			if pk := b.pks[t]; len(pk) == 1 {
				key = "ROW(" + quoteCols(alias, pk) + ")"
			} else if len(pk) > 1 {
				key = quoteCols(alias, pk)
			}
			seed := strings.ReplaceAll(b.seed+"|"+t, "'", "''")
			conds = append(conds, fmt.Sprintf("(('x' || substr(md5('%s|' || %s::text), 1, 8))::bit(32)::bigint %% 1000000) < %d",
				seed, key, int64(r.Percent*10000)))
		}
	}
	for _, fk := range b.outgoing[t] {
		if !b.filtered[fk.RefTable] || b.nullifies(fk) {
			continue
		}
		b.depth++
		inner := fmt.Sprintf("p%d", b.depth)
		parent, err := b.filter(fk.RefTable, inner, stack)
		if err != nil {
			return "", err
		}
		var nullChecks []string
		for _, c := range fk.Columns {
			nullChecks = append(nullChecks, alias+"."+pgx.Identifier{c}.Sanitize()+" IS NULL")
		}
		// Not ONLY: a partitioned parent's rows live in its partitions.
		exists := fmt.Sprintf("EXISTS (SELECT 1 FROM %s AS %s WHERE %s = %s AND %s)",
			quoteQualified(fk.RefTable), inner, quoteCols(inner, fk.RefColumns), quoteCols(alias, fk.Columns), orTrue(parent))
		if fk.Nullable {
			exists = "(" + strings.Join(nullChecks, " OR ") + " OR " + exists + ")"
		}
		if fk.Partition != "" {
			// Declared on one partition: the other partitions' rows pass.
			exists = "(" + partitionOther(alias, fk.Partition) + " OR " + exists + ")"
		}
		conds = append(conds, exists)
	}
	if len(conds) == 0 {
		return "true", nil
	}
	return strings.Join(conds, " AND "), nil
}

func orTrue(s string) string {
	if s == "" {
		return "true"
	}
	return s
}

// keepCondition is the condition, over SubsetAlias, that the row fk's
// reference points to is copied.
func (b *filterBuilder) keepCondition(fk ForeignKey) (string, error) {
	b.depth++
	inner := fmt.Sprintf("n%d", b.depth)
	parent, err := b.filter(fk.RefTable, inner, nil)
	if err != nil {
		return "", err
	}
	cond := fmt.Sprintf("EXISTS (SELECT 1 FROM %s AS %s WHERE %s = %s AND %s)",
		quoteQualified(fk.RefTable), inner, quoteCols(inner, fk.RefColumns), quoteCols(SubsetAlias, fk.Columns), orTrue(parent))
	if fk.Partition != "" {
		cond = "(" + partitionOther(SubsetAlias, fk.Partition) + " OR " + cond + ")"
	}
	return cond, nil
}

// partitionOther is the condition that a row of alias is not in partition
// (a qualified name), nor in one of its sub-partitions.
func partitionOther(alias, partition string) string {
	return fmt.Sprintf("NOT (%s.tableoid = ANY (ARRAY(SELECT relid FROM pg_catalog.pg_partition_tree(%s::regclass))))",
		alias, quoteLiteral(quoteQualified(partition)))
}
