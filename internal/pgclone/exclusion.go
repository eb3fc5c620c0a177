package pgclone

import (
	"context"
	"fmt"
	"slices"
	"strings"

	"github.com/jackc/pgx/v5"
)

// ProblemExcludedDependency is a [Problem] kind: an object that is copied
// depends on a table that is not (a foreign key that references it, a
// view that reads it), so the copy would have to leave that object out.
const ProblemExcludedDependency = "excluded_dependency"

// dependents finds what the copy would lose because of excluded tables:
// foreign keys of copied tables that reference a table that is not
// copied, and views and materialized views that read (directly or through
// other views) a table or view that is not copied. Relations of system
// schemas and of extensions are not copies' business: they are found in
// the target as they are.
//
// Without Options.AllowDroppedDependents each is a problem naming the
// object, the table and the way out; with it they are left out of the copy
// and listed in [Result.Skipped]. It returns the qualified names of the
// views to leave out.
func (p *policy) dependents(ctx context.Context, q Querier, opts *Options) (map[string]bool, error) {
	cat := p.cat
	var copied []uint32
	for _, r := range cat.order {
		if r.included {
			copied = append(copied, r.oid)
		}
	}
	// Foreign keys of copied tables to tables that are not copied.
	rows, err := q.Query(ctx, `
		SELECT k.conname, n.nspname, c.relname, rn.nspname, rc.relname
		FROM pg_constraint k JOIN pg_class c ON c.oid = k.conrelid JOIN pg_namespace n ON n.oid = c.relnamespace
		JOIN pg_class rc ON rc.oid = k.confrelid JOIN pg_namespace rn ON rn.oid = rc.relnamespace
		WHERE k.contype = 'f' AND k.conparentid = 0 AND k.conrelid = ANY ($1::oid[]) AND NOT k.confrelid = ANY ($1::oid[])
		ORDER BY 2, 3, 1`, copied)
	if err != nil {
		return nil, fmt.Errorf("reading foreign keys to tables that are not copied: %w", err)
	}
	for rows.Next() {
		var con, schema, table, refSchema, refTable string
		if err := rows.Scan(&con, &schema, &table, &refSchema, &refTable); err != nil {
			rows.Close()
			return nil, err
		}
		name, ref := Name{schema, table}, Name{refSchema, refTable}
		if opts.AllowDroppedDependents {
			continue // left out, and listed, when the constraints are created
		}
		p.analysis.Problems = append(p.analysis.Problems, Problem{Kind: ProblemExcludedDependency, Table: name.String(), Detail: fmt.Sprintf(
			"foreign key %s references %s, which is not copied (excluded by schemas, exclude_schemas, tables or exclude_tables); "+
				"copy %s too, or set allow_dropped_dependents = true to copy %s without this foreign key", con, ref, ref, name)})
	}
	if err := rows.Err(); err != nil {
		return nil, err
	}

	// Views and materialized views of the copied schemas, with the
	// relations they read.
	type view struct {
		oid          uint32
		name         Name
		deps         []uint32
		depNames     []string
		depSystem    []bool // the dependency is a system or extension relation
		included     bool
		droppedCause string
	}
	rows, err = q.Query(ctx, `
		SELECT c.oid, n.nspname, c.relname,
		       array(SELECT DISTINCT d.refobjid FROM pg_rewrite r JOIN pg_depend d ON d.classid = 'pg_rewrite'::regclass AND d.objid = r.oid
		             WHERE r.ev_class = c.oid AND d.refclassid = 'pg_class'::regclass AND d.refobjid <> c.oid ORDER BY 1),
		       array(SELECT `+sqlName("rn.nspname", "rc.relname")+` FROM (SELECT DISTINCT d.refobjid FROM pg_rewrite r
		               JOIN pg_depend d ON d.classid = 'pg_rewrite'::regclass AND d.objid = r.oid
		             WHERE r.ev_class = c.oid AND d.refclassid = 'pg_class'::regclass AND d.refobjid <> c.oid) x
		             JOIN pg_class rc ON rc.oid = x.refobjid JOIN pg_namespace rn ON rn.oid = rc.relnamespace ORDER BY x.refobjid),
		       array(SELECT rn.nspname IN ('pg_catalog', 'information_schema')
		                    OR EXISTS (SELECT 1 FROM pg_depend e WHERE e.classid = 'pg_class'::regclass AND e.objid = x.refobjid AND e.deptype = 'e')
		             FROM (SELECT DISTINCT d.refobjid FROM pg_rewrite r
		               JOIN pg_depend d ON d.classid = 'pg_rewrite'::regclass AND d.objid = r.oid
		             WHERE r.ev_class = c.oid AND d.refclassid = 'pg_class'::regclass AND d.refobjid <> c.oid) x
		             JOIN pg_class rc ON rc.oid = x.refobjid JOIN pg_namespace rn ON rn.oid = rc.relnamespace ORDER BY x.refobjid)
		FROM pg_class c JOIN pg_namespace n ON n.oid = c.relnamespace
		WHERE c.relkind IN ('v', 'm') AND n.nspname = ANY ($1::text[])
		  AND NOT EXISTS (SELECT 1 FROM pg_depend x WHERE x.classid = 'pg_class'::regclass AND x.objid = c.oid AND x.deptype = 'e')
		ORDER BY c.oid`, cat.schemas)
	if err != nil {
		return nil, fmt.Errorf("reading views: %w", err)
	}
	var views []*view
	for rows.Next() {
		v := &view{}
		if err := rows.Scan(&v.oid, &v.name.Schema, &v.name.Name, &v.deps, &v.depNames, &v.depSystem); err != nil {
			rows.Close()
			return nil, err
		}
		v.included = opts.tableIncluded(v.name.String())
		views = append(views, v)
	}
	if err := rows.Err(); err != nil {
		return nil, err
	}
	ok := map[uint32]bool{}
	for _, oid := range copied {
		ok[oid] = true
	}
	for _, v := range views {
		if v.included {
			ok[v.oid] = true
		}
	}
	// Leave out views whose inputs are not copied, to a fixed point.
	for changed := true; changed; {
		changed = false
		for _, v := range views {
			if !ok[v.oid] {
				continue
			}
			for i, d := range v.deps {
				if !ok[d] && !v.depSystem[i] {
					ok[v.oid] = false
					v.droppedCause = v.depNames[i]
					changed = true
					break
				}
			}
		}
	}
	dropped := map[string]bool{}
	for _, v := range views {
		if !v.included || v.droppedCause == "" {
			continue
		}
		dropped[v.name.String()] = true
		if opts.AllowDroppedDependents {
			p.skipped = append(p.skipped, fmt.Sprintf("view %s: it reads %s, which is not copied", v.name, v.droppedCause))
			continue
		}
		p.analysis.Problems = append(p.analysis.Problems, Problem{Kind: ProblemExcludedDependency, Table: v.name.String(), Detail: fmt.Sprintf(
			"this view reads %s, which is not copied (excluded by schemas, exclude_schemas, tables or exclude_tables); "+
				"copy %s too, exclude the view as well (exclude_tables), or set allow_dropped_dependents = true to copy without it", v.droppedCause, v.droppedCause)})
	}
	slices.Sort(p.skipped)
	return dropped, nil
}

// Name is a schema-qualified name, kept as a pair: schema and table names
// may hold dots.
type Name struct{ Schema, Name string }

// String is the display form used in results, rules and messages:
// "schema.table", with a part double-quoted when it holds a dot or a
// double quote, so that it can be split again (see [SplitName]).
func (n Name) String() string { return displayPart(n.Schema) + "." + displayPart(n.Name) }

func displayPart(s string) string {
	if strings.ContainsAny(s, `."`) {
		return pgx.Identifier{s}.Sanitize()
	}
	return s
}

// sqlName is the SQL expression of the display form of a name (see
// [Name.String]) from a schema and a name column.
func sqlName(schema, name string) string {
	part := func(col string) string {
		return fmt.Sprintf(`CASE WHEN %s::text ~ '[."]' THEN quote_ident(%s) ELSE %s::text END`, col, col, col)
	}
	return "(" + part(schema) + " || '.' || " + part(name) + ")"
}
