package pgclone

import (
	"context"
	"errors"
	"fmt"
	"sort"
	"strings"
	"time"

	"github.com/jackc/pgx/v5"
	"github.com/jackc/pgx/v5/pgconn"
)

// This file turns the source catalog into the DDL that rebuilds it in the
// target's shadow schemas. Definitions come from pg_get_* and format_type
// with search_path set to '' so that every name is schema-qualified; the
// schema names are then rewritten to their shadow names by nameMap.

// nameMap rewrites schema qualifiers in SQL produced by pg_get_* functions.
type nameMap struct {
	schemas map[string]string // source schema -> target schema
	// members maps a source schema to the extension objects (types,
	// functions, operators) it holds and where they live in the target,
	// which is not the shadow schema when the extension is already
	// installed there.
	members map[string]map[string]string
	// bodies makes rewrite descend into dollar-quoted strings (function
	// bodies): see bindToShadows.
	bodies bool
}

func isIdentStart(c byte) bool {
	return c == '_' || 'a' <= c && c <= 'z' || 'A' <= c && c <= 'Z' || c >= 0x80
}

func isIdentChar(c byte) bool { return isIdentStart(c) || '0' <= c && c <= '9' || c == '$' }

func isOperatorChar(c byte) bool { return strings.IndexByte("+-*/<>=~!@#%^&|`?", c) >= 0 }

// readIdent reads an identifier (bare or double-quoted) at s[i:], returning
// its name and end; ok is false when there is none.
func readIdent(s string, i int) (name string, end int, ok bool) {
	if i >= len(s) {
		return "", i, false
	}
	if s[i] == '"' {
		var b strings.Builder
		for j := i + 1; j < len(s); j++ {
			if s[j] == '"' {
				if j+1 < len(s) && s[j+1] == '"' {
					b.WriteByte('"')
					j++
					continue
				}
				return b.String(), j + 1, true
			}
			b.WriteByte(s[j])
		}
		return "", len(s), false
	}
	if !isIdentStart(s[i]) {
		return "", i, false
	}
	j := i
	for j < len(s) && isIdentChar(s[j]) {
		j++
	}
	return s[i:j], j, true
}

// target returns the replacement schema for a qualifier schema followed by
// object name obj, or "" to leave it.
func (m *nameMap) target(schema, obj string) string {
	if t, ok := m.members[schema][obj]; ok {
		if t == schema {
			return ""
		}
		return t
	}
	return m.schemas[schema]
}

// rewrite replaces the schema of every qualified name in sql whose schema
// is mapped: identifiers followed by a dot (not preceded by one), and
// 'schema.name'::regclass style literals. String literals, quoted
// identifiers and dollar-quoted bodies are otherwise left alone.
func (m *nameMap) rewrite(sql string) string {
	var b strings.Builder
	b.Grow(len(sql) + 32)
	prevDot := false
	for i := 0; i < len(sql); {
		c := sql[i]
		switch {
		case c == '\'':
			escapes := i > 0 && (sql[i-1] == 'E' || sql[i-1] == 'e') && (i < 2 || !isIdentChar(sql[i-2]))
			j := i + 1
			for j < len(sql) {
				if escapes && sql[j] == '\\' {
					j += 2
					continue
				}
				if sql[j] == '\'' {
					if j+1 < len(sql) && sql[j+1] == '\'' {
						j += 2
						continue
					}
					break
				}
				j++
			}
			j = min(j+1, len(sql))
			lit := sql[i:j]
			if rest := sql[j:]; strings.HasPrefix(rest, "::reg") && !escapes && len(lit) >= 2 {
				lit = "'" + strings.ReplaceAll(m.rewriteName(strings.ReplaceAll(lit[1:len(lit)-1], "''", "'")), "'", "''") + "'"
			}
			b.WriteString(lit)
			i = j
			prevDot = false
		case c == '$' && (i == 0 || !isIdentChar(sql[i-1])):
			// Dollar quote: $tag$ ... $tag$.
			j := i + 1
			for j < len(sql) && isIdentChar(sql[j]) && sql[j] != '$' {
				j++
			}
			if j < len(sql) && sql[j] == '$' {
				tag := sql[i : j+1]
				if end := strings.Index(sql[j+1:], tag); end >= 0 {
					stop := j + 1 + end + len(tag)
					if m.bodies {
						b.WriteString(tag + m.rewrite(sql[j+1:j+1+end]) + tag)
					} else {
						b.WriteString(sql[i:stop])
					}
					i = stop
					prevDot = false
					continue
				}
			}
			b.WriteByte(c)
			i++
		case c == '"' || isIdentStart(c):
			name, end, ok := readIdent(sql, i)
			if !ok {
				b.WriteString(sql[i:end])
				i = end
				continue
			}
			if !prevDot && end < len(sql) && sql[end] == '.' {
				obj, _, isIdent := readIdent(sql, end+1)
				if !isIdent {
					k := end + 1
					for k < len(sql) && isOperatorChar(sql[k]) {
						k++
					}
					obj = sql[end+1 : k]
				}
				if t := m.target(name, obj); t != "" {
					b.WriteString(pgx.Identifier{t}.Sanitize())
					i = end
					prevDot = false
					continue
				}
			}
			b.WriteString(sql[i:end])
			i = end
			prevDot = false
		default:
			b.WriteByte(c)
			prevDot = c == '.'
			i++
		}
	}
	return b.String()
}

// rewriteName rewrites the schema of one qualified name such as
// public.orders_id_seq or "My Schema"."x".
func (m *nameMap) rewriteName(name string) string {
	schema, end, ok := readIdent(name, 0)
	if !ok || end >= len(name) || name[end] != '.' {
		return name
	}
	obj, _, _ := readIdent(name, end+1)
	if t := m.target(schema, obj); t != "" {
		return pgx.Identifier{t}.Sanitize() + name[end:]
	}
	return name
}

// schemaObjects is what the target needs besides tables: read once from
// the source snapshot.
type schemaObjects struct {
	extensions []extension
	// pre are types, functions, aggregates, tables, views and materialized
	// views, in dependency order (source names).
	pre         []preObject
	sequences   []sequence
	constraints []constraintDef
	indexes     []indexDef
	views       []viewDef
	matviews    []matviewDef
	triggers    []triggerDef
	rowSecurity []rowSecurity
	comments    []commentDef
	grants      []grantDef
	statistics  []string // CREATE STATISTICS (source names)
	skipped     []string // objects of the copied schemas that are not copied, and why
	// codeOnLoad holds the copied tables whose load runs user functions:
	// a domain CHECK or a generated column that calls one.
	codeOnLoad map[string]bool
}

type extension struct {
	name, schema string
	members      []string
}

type sequence struct {
	schema, name, typ  string
	options            string
	last               *int64
	ownerTable, ownerC string // OWNED BY, "" for none
}

type constraintDef struct {
	table, name, def string
	kind             byte
	refTable         string // for foreign keys
	// late is set when the constraint calls a user function, which may
	// read other tables: it is checked once all the data is loaded.
	late bool
}

type indexDef struct {
	table, def string
	late       bool // the index calls a user function (see constraintDef.late)
}

// usesUserFunction is a SQL condition: the object (class, oid) depends on
// a function outside the system schemas.
func usesUserFunction(class, oid string) string {
	return fmt.Sprintf(`EXISTS (SELECT 1 FROM pg_depend d JOIN pg_proc p ON p.oid = d.refobjid JOIN pg_namespace pn ON pn.oid = p.pronamespace
		WHERE d.classid = '%s'::regclass AND d.objid = %s AND d.refclassid = 'pg_proc'::regclass AND pn.nspname NOT IN ('pg_catalog', 'information_schema'))`, class, oid)
}

type viewDef struct {
	oid          uint32
	schema, name string
	def, options string
	deps         []uint32
}

// scanRows runs sql and calls each for every row, naming what in errors.
func scanRows(ctx context.Context, q Querier, what, sql string, args []any, each func(pgx.Rows) error) error {
	rows, err := q.Query(ctx, sql, args...)
	if err != nil {
		return fmt.Errorf("reading %s: %w", what, err)
	}
	defer rows.Close()
	for rows.Next() {
		if err := each(rows); err != nil {
			return fmt.Errorf("reading %s: %w", what, err)
		}
	}
	if err := rows.Err(); err != nil {
		return fmt.Errorf("reading %s: %w", what, err)
	}
	return nil
}

// includedOIDs are the OIDs of the relations the clone copies.
func (cat *catalogState) includedOIDs() []uint32 {
	var oids []uint32
	for _, r := range cat.order {
		if r.included {
			oids = append(oids, r.oid)
		}
	}
	return oids
}

// readSchemaObjects reads types, sequences, constraints, indexes, views and
// extensions of the copied schemas and tables. search_path must be ”.
func readSchemaObjects(ctx context.Context, q Querier, cat *catalogState, opts *Options, dropped map[string]bool) (*schemaObjects, error) {
	so := &schemaObjects{}
	schemas := cat.schemas
	oids := cat.includedOIDs()
	scan := func(what, sql string, args []any, each func(pgx.Rows) error) error {
		return scanRows(ctx, q, what, sql, args, each)
	}
	err := scan("extensions", `
		SELECT e.extname, n.nspname,
		       array(SELECT t.typname::text FROM pg_depend d JOIN pg_type t ON t.oid = d.objid
		               WHERE d.refobjid = e.oid AND d.classid = 'pg_type'::regclass AND d.deptype = 'e'
		             UNION SELECT p.proname::text FROM pg_depend d JOIN pg_proc p ON p.oid = d.objid
		               WHERE d.refobjid = e.oid AND d.classid = 'pg_proc'::regclass AND d.deptype = 'e'
		             UNION SELECT o.oprname::text FROM pg_depend d JOIN pg_operator o ON o.oid = d.objid
		               WHERE d.refobjid = e.oid AND d.classid = 'pg_operator'::regclass AND d.deptype = 'e')
		FROM pg_extension e JOIN pg_namespace n ON n.oid = e.extnamespace
		WHERE e.extname <> 'plpgsql' ORDER BY e.oid`, nil, func(rows pgx.Rows) error {
		var e extension
		if err := rows.Scan(&e.name, &e.schema, &e.members); err != nil {
			return err
		}
		if matchAny(opts.ExcludeObjects, e.name) {
			so.skipped = append(so.skipped, "extension "+e.name+": excluded by exclude_objects")
			return nil
		}
		so.extensions = append(so.extensions, e)
		return nil
	})
	if err != nil {
		return nil, err
	}
	err = scan("sequences", `
		SELECT n.nspname, c.relname, format_type(s.seqtypid, NULL),
		       format('INCREMENT BY %s MINVALUE %s MAXVALUE %s START WITH %s CACHE %s %s', s.seqincrement, s.seqmin, s.seqmax, s.seqstart, s.seqcache,
		              CASE WHEN s.seqcycle THEN 'CYCLE' ELSE 'NO CYCLE' END),
		       pg_sequence_last_value(c.oid),
		       coalesce(`+sqlName("tn.nspname", "tc.relname")+`, ''), coalesce(a.attname::text, '')
		FROM pg_sequence s JOIN pg_class c ON c.oid = s.seqrelid JOIN pg_namespace n ON n.oid = c.relnamespace
		LEFT JOIN pg_depend d ON d.classid = 'pg_class'::regclass AND d.objid = c.oid AND d.refclassid = 'pg_class'::regclass AND d.deptype IN ('a', 'i')
		LEFT JOIN pg_class tc ON tc.oid = d.refobjid LEFT JOIN pg_namespace tn ON tn.oid = tc.relnamespace
		LEFT JOIN pg_attribute a ON a.attrelid = d.refobjid AND a.attnum = d.refobjsubid
		WHERE n.nspname = ANY ($1::text[]) AND coalesce(d.deptype, 'a') <> 'i'
		  AND NOT EXISTS (SELECT 1 FROM pg_depend x WHERE x.objid = c.oid AND x.classid = 'pg_class'::regclass AND x.deptype = 'e')
		ORDER BY c.oid`, []any{schemas}, func(rows pgx.Rows) error {
		var s sequence
		err := rows.Scan(&s.schema, &s.name, &s.typ, &s.options, &s.last, &s.ownerTable, &s.ownerC)
		so.sequences = append(so.sequences, s)
		return err
	})
	if err != nil {
		return nil, err
	}
	err = scan("constraints", `
		SELECT `+sqlName("n.nspname", "c.relname")+`, k.conname, k.contype::text, pg_get_constraintdef(k.oid),
		       coalesce((SELECT `+sqlName("rn.nspname", "r.relname")+` FROM pg_class r JOIN pg_namespace rn ON rn.oid = r.relnamespace WHERE r.oid = k.confrelid), ''),
		       `+usesUserFunction("pg_constraint", "k.oid")+`
		FROM pg_constraint k JOIN pg_class c ON c.oid = k.conrelid JOIN pg_namespace n ON n.oid = c.relnamespace
		WHERE k.conrelid = ANY ($1::oid[]) AND k.contype IN ('p', 'u', 'x', 'c', 'f') AND k.conparentid = 0 AND k.conislocal
		ORDER BY CASE k.contype WHEN 'p' THEN 0 WHEN 'u' THEN 1 WHEN 'x' THEN 2 WHEN 'c' THEN 3 ELSE 4 END, k.oid`, []any{oids}, func(rows pgx.Rows) error {
		var k constraintDef
		var kind string
		err := rows.Scan(&k.table, &k.name, &kind, &k.def, &k.refTable, &k.late)
		k.kind = kind[0]
		so.constraints = append(so.constraints, k)
		return err
	})
	if err != nil {
		return nil, err
	}
	err = scan("indexes", `
		SELECT `+sqlName("n.nspname", "c.relname")+`, pg_get_indexdef(i.indexrelid),
		       `+usesUserFunction("pg_class", "i.indexrelid")+`
		FROM pg_index i JOIN pg_class ic ON ic.oid = i.indexrelid JOIN pg_class c ON c.oid = i.indrelid JOIN pg_namespace n ON n.oid = c.relnamespace
		WHERE i.indrelid = ANY ($1::oid[]) AND NOT ic.relispartition
		  AND NOT EXISTS (SELECT 1 FROM pg_constraint k WHERE k.conindid = i.indexrelid AND k.conrelid = i.indrelid AND k.contype IN ('p', 'u', 'x'))
		ORDER BY i.indexrelid`, []any{oids}, func(rows pgx.Rows) error {
		var ix indexDef
		err := rows.Scan(&ix.table, &ix.def, &ix.late)
		ix.def = strings.Replace(ix.def, " ON ONLY ", " ON ", 1)
		so.indexes = append(so.indexes, ix)
		return err
	})
	if err != nil {
		return nil, err
	}
	err = scan("views", `
		SELECT c.oid, n.nspname, c.relname, pg_get_viewdef(c.oid), coalesce(array_to_string(c.reloptions, ', '), ''),
		       array(SELECT DISTINCT d.refobjid FROM pg_rewrite r JOIN pg_depend d ON d.classid = 'pg_rewrite'::regclass AND d.objid = r.oid
		             WHERE r.ev_class = c.oid AND d.refclassid = 'pg_class'::regclass AND d.refobjid <> c.oid)
		FROM pg_class c JOIN pg_namespace n ON n.oid = c.relnamespace
		WHERE c.relkind = 'v' AND n.nspname = ANY ($1::text[])
		  AND NOT EXISTS (SELECT 1 FROM pg_depend x WHERE x.objid = c.oid AND x.classid = 'pg_class'::regclass AND x.deptype = 'e')
		ORDER BY c.oid`, []any{schemas}, func(rows pgx.Rows) error {
		var v viewDef
		err := rows.Scan(&v.oid, &v.schema, &v.name, &v.def, &v.options, &v.deps)
		if err == nil && opts.tableIncluded(Name{v.schema, v.name}.String()) && !dropped[Name{v.schema, v.name}.String()] {
			if matchAny(opts.ExcludeObjects, Name{v.schema, v.name}.String()) {
				so.skipped = append(so.skipped, fmt.Sprintf("view %s.%s: excluded by exclude_objects", v.schema, v.name))
				return nil
			}
			so.views = append(so.views, v)
		}
		return err
	})
	if err != nil {
		return nil, err
	}
	so.codeOnLoad = map[string]bool{}
	err = scan("functions run by COPY", `
		SELECT DISTINCT `+sqlName("n.nspname", "c.relname")+`
		FROM pg_attribute a JOIN pg_class c ON c.oid = a.attrelid JOIN pg_namespace n ON n.oid = c.relnamespace
		WHERE a.attrelid = ANY ($1::oid[]) AND a.attnum > 0 AND NOT a.attisdropped AND (
		  EXISTS (SELECT 1 FROM pg_attrdef ad WHERE ad.adrelid = a.attrelid AND ad.adnum = a.attnum AND a.attgenerated <> ''
		          AND `+usesUserFunction("pg_attrdef", "ad.oid")+`)
		  OR EXISTS (SELECT 1 FROM pg_constraint k WHERE k.contypid = a.atttypid AND `+usesUserFunction("pg_constraint", "k.oid")+`))`,
		[]any{oids}, func(rows pgx.Rows) error {
			var name string
			err := rows.Scan(&name)
			so.codeOnLoad[name] = true
			return err
		})
	if err != nil {
		return nil, err
	}
	so.views = sortViews(so.views)
	if err := readMoreObjects(ctx, q, cat, so, opts, dropped); err != nil {
		return nil, err
	}
	return so, nil
}

// sortViews orders views so that each comes after the views it reads.
func sortViews(views []viewDef) []viewDef {
	byOID := map[uint32]int{}
	for i, v := range views {
		byOID[v.oid] = i
	}
	state := make([]int, len(views)) // 0 new, 1 visiting, 2 done
	var out []viewDef
	var visit func(i int)
	visit = func(i int) {
		if state[i] != 0 {
			return
		}
		state[i] = 1
		deps := append([]uint32(nil), views[i].deps...)
		sort.Slice(deps, func(a, b int) bool { return deps[a] < deps[b] })
		for _, d := range deps {
			if j, ok := byOID[d]; ok {
				visit(j)
			}
		}
		state[i] = 2
		out = append(out, views[i])
	}
	for i := range views {
		visit(i)
	}
	return out
}

// tableDDL is the CREATE TABLE statement of rel (source names).
func tableDDL(rel *relation, parentIsCopied bool) string {
	name := quoteQualified(rel.qualified())
	create := "CREATE TABLE "
	if rel.unlogged {
		create = "CREATE UNLOGGED TABLE "
	}
	var b strings.Builder
	b.WriteString(create + name)
	if rel.isPartition && parentIsCopied {
		b.WriteString(" PARTITION OF " + quoteQualified(rel.parent) + " " + rel.partBound)
	} else {
		b.WriteString(" (")
		first := true
		for _, c := range rel.columns {
			if len(rel.inherits) > 0 && !c.local {
				continue // comes with the parent
			}
			if !first {
				b.WriteString(", ")
			}
			first = false
			b.WriteString(pgx.Identifier{c.name}.Sanitize() + " " + c.typ)
			if c.collation != "" {
				b.WriteString(" COLLATE " + c.collation)
			}
			switch {
			case c.generated == 's':
				b.WriteString(" GENERATED ALWAYS AS (" + c.def + ") STORED")
			case c.identity == 'a':
				b.WriteString(" GENERATED ALWAYS AS IDENTITY (" + c.identOpts + ")")
			case c.identity == 'd':
				b.WriteString(" GENERATED BY DEFAULT AS IDENTITY (" + c.identOpts + ")")
			case c.def != "":
				b.WriteString(" DEFAULT " + c.def)
			}
			if c.notNull {
				b.WriteString(" NOT NULL")
			}
		}
		b.WriteString(")")
		if len(rel.inherits) > 0 {
			parents := make([]string, len(rel.inherits))
			for i, p := range rel.inherits {
				parents[i] = quoteQualified(p)
			}
			b.WriteString(" INHERITS (" + strings.Join(parents, ", ") + ")")
		}
	}
	if rel.kind == 'p' {
		b.WriteString(" PARTITION BY " + rel.partKey)
	}
	return b.String()
}

// storageClause is the WITH (...) clause that ends the CREATE TABLE of rel
// (nil: none), or "": its storage parameters (see storageParameters) but
// those the target refuses. It holds no names to rewrite.
func (c *cloner) storageClause(rel *relation) string {
	if rel == nil {
		return ""
	}
	if with := storageParameters(rel, c.refusedOptions); len(with) > 0 {
		return " WITH (" + strings.Join(with, ", ") + ")"
	}
	return ""
}

// probeStorageParameters finds the storage parameters of the copied
// tables that the target refuses (a parameter a newer production server
// knows and staging's does not, or a value it does not take): the tables
// are created without them and Result.Skipped names each. A target of
// production's major version takes them all and is not asked. Otherwise
// each distinct set of a table's parameters is tried on a table in a
// throwaway schema, in a transaction that is rolled back, and the items of
// a set it refuses one by one.
func (c *cloner) probeStorageParameters(ctx context.Context) error {
	var sets [][]string
	seen := map[string]bool{}
	for _, rel := range c.pol.cat.order {
		items := optionItems(rel)
		if key := strings.Join(items, ", "); rel.included && len(items) > 0 && !seen[key] {
			seen[key] = true
			sets = append(sets, items)
		}
	}
	if len(sets) == 0 {
		return nil
	}
	var tgtMajor int
	if err := c.tgtCoord.QueryRow(ctx, `SELECT current_setting('server_version_num')::int / 10000`).Scan(&tgtMajor); err != nil {
		return fmt.Errorf("pgclone: reading the target's version: %w", err)
	}
	if c.srcMajor == tgtMajor {
		return nil
	}
	return c.probeOptionSets(ctx, sets)
}

// probeOptionSets records in c.refusedOptions the items of sets the target
// refuses, and names them in c.skipped.
func (c *cloner) probeOptionSets(ctx context.Context, sets [][]string) error {
	fail := func(err error) error { return fmt.Errorf("pgclone: checking storage parameters: %w", err) }
	tx, err := c.tgtCoord.Begin(ctx)
	if err != nil {
		return fail(err)
	}
	defer func() { _ = tx.Rollback(context.WithoutCancel(ctx)) }()
	schema := pgx.Identifier{fmt.Sprintf("pgclone_probe_%d", time.Now().UnixNano())}.Sanitize()
	if _, err := tx.Exec(ctx, "CREATE SCHEMA "+schema); err != nil {
		return fail(err)
	}
	// try reports why the target refuses items ("" when it takes them).
	try := func(items []string) (string, error) {
		if _, err := tx.Exec(ctx, "SAVEPOINT probe"); err != nil {
			return "", err
		}
		_, err := tx.Exec(ctx, "CREATE TABLE "+schema+".t (v text) WITH ("+strings.Join(items, ", ")+")")
		var pe *pgconn.PgError
		switch {
		case err == nil:
		case errors.As(err, &pe) && (pe.Code == "22023" || pe.Code == "22P02"): // invalid_parameter_value, invalid_text_representation
		default:
			return "", err
		}
		if _, rerr := tx.Exec(ctx, "ROLLBACK TO SAVEPOINT probe"); rerr != nil {
			return "", rerr
		}
		if err != nil {
			return pe.Message, nil
		}
		return "", nil
	}
	c.refusedOptions = map[string]string{}
	for _, items := range sets {
		why, err := try(items)
		if err != nil {
			return fail(err)
		}
		if why == "" {
			continue
		}
		for _, o := range items {
			if _, done := c.refusedOptions[o]; done {
				continue
			}
			why, err := try([]string{o})
			if err != nil {
				return fail(err)
			}
			if why != "" {
				c.refusedOptions[o] = why
			}
		}
	}
	for _, rel := range c.pol.cat.order {
		if !rel.included {
			continue
		}
		for _, o := range optionItems(rel) {
			if why, ok := c.refusedOptions[o]; ok {
				c.skipped = append(c.skipped, fmt.Sprintf("storage parameter %s of %s: the staging server refuses it (%s), so the table is created without it", o, rel.qualified(), why))
			}
		}
	}
	return nil
}

// noteLostToastParameters names, in Result.Skipped, the TOAST storage
// parameters of tables that have no TOAST table in staging: production
// keeps its TOAST table (and their parameters) after the last column that
// needed it is dropped; a new table without such a column gets none, and
// PostgreSQL ignores the parameters.
func (c *cloner) noteLostToastParameters(ctx context.Context) error {
	var names, sources []string
	for _, rel := range c.pol.cat.order {
		if rel.included && len(rel.toastOptions) > 0 {
			names = append(names, c.names.rewriteName(quoteQualified(rel.qualified())))
			sources = append(sources, rel.qualified())
		}
	}
	if len(names) == 0 {
		return nil
	}
	rows, err := c.tgtCoord.Query(ctx, `SELECT i - 1 FROM unnest($1::text[]) WITH ORDINALITY AS t(name, i)
		WHERE (SELECT c.reltoastrelid FROM pg_class c WHERE c.oid = t.name::regclass) = 0 ORDER BY i`, names)
	if err != nil {
		return fmt.Errorf("pgclone: reading the staging tables' TOAST tables: %w", err)
	}
	lost, err := pgx.CollectRows(rows, pgx.RowTo[int64])
	if err != nil {
		return fmt.Errorf("pgclone: reading the staging tables' TOAST tables: %w", err)
	}
	for _, i := range lost {
		rel := c.pol.cat.rels[sources[i]]
		c.skipped = append(c.skipped, fmt.Sprintf("TOAST storage parameters of %s (%s): its staging table has no TOAST table (production keeps one from a dropped column), so PostgreSQL has nowhere to keep them",
			rel.qualified(), strings.Join(rel.toastOptions, ", ")))
	}
	return nil
}

// optionItems are rel's storage parameters as WITH items ("toast.k=v"),
// autovacuum_enabled of a plain table included.
func optionItems(rel *relation) []string {
	var out []string
	for _, o := range rel.options {
		out = append(out, optionItem("", o))
	}
	for _, o := range rel.toastOptions {
		out = append(out, optionItem("toast.", o))
	}
	return out
}

// optionItem writes one reloptions entry ("k=v") as a WITH item, the
// value quoted.
func optionItem(prefix, o string) string {
	k, v, _ := strings.Cut(o, "=")
	return prefix + k + " = " + quoteLiteral(v)
}

// storageParameters are the WITH (...) items of rel's CREATE TABLE: the
// source's storage parameters of the table and of its TOAST table, but
// autovacuum held off on a plain table while it loads. Autovacuum would
// otherwise vacuum and analyze each table as its rows arrive, competing
// with the copy for the cores, and every ALTER TABLE of the build that
// meets it waits deadlock_timeout (1 s by default) before the server
// cancels it. autovacuumRestore gives the source's settings back before
// the swap.
func storageParameters(rel *relation, refused map[string]string) []string {
	var with []string
	add := func(prefix string, opts []string) {
		for _, o := range opts {
			k, _, _ := strings.Cut(o, "=")
			item := optionItem(prefix, o)
			if _, no := refused[item]; no || (rel.kind == 'r' && k == "autovacuum_enabled") {
				continue
			}
			with = append(with, item)
		}
	}
	add("", rel.options)
	add("toast.", rel.toastOptions)
	if rel.kind == 'r' {
		// Accepted, and without effect, when the table has no TOAST table.
		with = append(with, "autovacuum_enabled = false", "toast.autovacuum_enabled = false")
	}
	return with
}

// autovacuumRestore gives rel, a plain table named name in the target,
// the source's autovacuum_enabled back after its load (see
// storageParameters). When the source sets it, all the source's parameters
// (but those the target refused) are set again in their order, so that
// pg_class.reloptions reads as the source's.
func autovacuumRestore(name string, rel *relation, refused map[string]string) []string {
	stmts := []string{"ALTER TABLE " + name + " RESET (autovacuum_enabled, toast.autovacuum_enabled)"}
	var all []string
	set := false
	for _, side := range []struct {
		prefix string
		opts   []string
	}{{"", rel.options}, {"toast.", rel.toastOptions}} {
		for _, o := range side.opts {
			item := optionItem(side.prefix, o)
			if _, no := refused[item]; no {
				continue
			}
			set = set || strings.HasPrefix(o, "autovacuum_enabled=")
			all = append(all, item)
		}
	}
	if set {
		stmts = append(stmts, "ALTER TABLE "+name+" SET ("+strings.Join(all, ", ")+")")
	}
	return stmts
}
