package pgclone

import (
	"context"
	"fmt"
	"slices"
	"strings"

	"github.com/jackc/pgx/v5"
)

// This file reads the schema objects besides tables, sequences, keys and
// indexes that a pg_dump of the copied schemas restores (types, functions,
// procedures, aggregates, views, materialized views, triggers, row-level
// security, policies, comments) and orders the ones created before the
// data by their real dependencies (pg_depend).
//
// Late-bound code and the shadow schemas. A function body is text that
// PostgreSQL parses when the function runs, so a body that says
// `public.codes` reads whatever `public` is at that moment. While the copy
// is built, `public` is still the previous copy (or nothing), and the new
// one is `public__stg_new`; every step of the build that runs user code
// (a generated column or domain CHECK during COPY, a CHECK constraint or an
// expression index as it is built, a materialized-view refresh) would read
// the old data. So the build creates each function with its body bound to
// the shadow schemas (qualifiers and `SET search_path` rewritten), and the
// swap transaction, right after the renames, replaces each such body by
// the verbatim production text. The copy the swap commits therefore has
// production's function definitions, and everything computed during the
// build was computed from the new, masked data. `BEGIN ATOMIC` bodies are
// bound at creation, like views, and need no second step. Code that builds
// SQL in strings (`EXECUTE 'SELECT ... FROM public.x'`) is not rewritten:
// such a function that runs during the build reads the live schema.

// preObject is one object created before the data, in dependency order.
type preObject struct {
	key  string // 'r'/'t'/'f' + oid: relation, type, function
	kind string // a summary kind, see the Kind* constants
	name string // "schema.name" (source)
	ddl  string // source names (search_path '')
	// table, for a table, gives the storage parameters appended to ddl
	// after its names are rewritten (their "toast." namespace would read
	// as a schema; see cloner.storageClause).
	table *relation
	// lateBody is set for functions whose body PostgreSQL binds late: the
	// build creates them bound to the shadow schemas, the swap restores ddl.
	lateBody bool
}

// Kinds of schema objects in [Result.Objects] and the plan summary.
const (
	KindTable            = "table"
	KindPartition        = "partition"
	KindView             = "view"
	KindMaterializedView = "materialized_view"
	KindSequence         = "sequence"
	KindEnum             = "enum"
	KindDomain           = "domain"
	KindCompositeType    = "composite_type"
	KindRangeType        = "range_type"
	KindFunction         = "function"
	KindProcedure        = "procedure"
	KindAggregate        = "aggregate"
	KindConstraint       = "constraint"
	KindForeignKey       = "foreign_key"
	KindIndex            = "index"
	KindTrigger          = "trigger"
	KindPolicy           = "policy"
	KindRowSecurity      = "row_security"
	KindComment          = "comment"
	KindExtension        = "extension"
	KindGrant            = "grant" // objects with privileges granted to other roles
	KindCollation        = "collation"
	KindOperator         = "operator"
	KindCast             = "cast"
	KindStatistics       = "statistics"
)

// triggerDef is one user trigger of a copied table or view.
type triggerDef struct {
	table   string // qualified source name
	name    string
	def     string // pg_get_triggerdef
	enabled byte   // tgenabled: 'O', 'D', 'R' or 'A'
	onTable bool   // on a table (not a view): ALTER TABLE can set its state
}

// policyDef is one row-level security policy.
type policyDef struct {
	table, name      string
	permissive       bool
	cmd              byte // polcmd
	roles            []string
	qual, withCheck  string
	rowSecurity      bool // relrowsecurity and relforcerowsecurity of the table
	forceRowSecurity bool
}

// rowSecurity is the RLS state of one copied table.
type rowSecurity struct {
	table         string
	enable, force bool
	policies      []policyDef
}

// matviewDef is a materialized view: created WITH NO DATA before the data,
// refreshed from the masked copy after it, then indexed.
type matviewDef struct {
	oid          uint32
	schema, name string
	populated    bool
	indexes      []string
}

// commentDef is a COMMENT ON statement (source names).
type commentDef struct{ sql string }

// readMoreObjects reads the objects of this file into so: types,
// functions, aggregates, materialized views (into so.pre, with tables and
// views, ordered), triggers, row-level security, policies and comments.
// search_path must be ”.
func readMoreObjects(ctx context.Context, q Querier, cat *catalogState, so *schemaObjects, opts *Options, dropped map[string]bool) error {
	schemas := cat.schemas
	relOIDs := cat.includedOIDs()
	scan := func(what, sql string, args []any, each func(pgx.Rows) error) error {
		return scanRows(ctx, q, what, sql, args, each)
	}
	notExt := func(class, oid string) string {
		return fmt.Sprintf("NOT EXISTS (SELECT 1 FROM pg_depend x WHERE x.classid = '%s'::regclass AND x.objid = %s AND x.deptype = 'e')", class, oid)
	}

	// Types: enums, domains, composite and range types.
	var pre []preObject
	err := scan("types", `
		SELECT t.oid, t.typtype::text, `+sqlName("n.nspname", "t.typname")+`,
		  CASE t.typtype
		  WHEN 'e' THEN format('CREATE TYPE %I.%I AS ENUM (%s)', n.nspname, t.typname,
		         (SELECT coalesce(string_agg(quote_literal(e.enumlabel), ', ' ORDER BY e.enumsortorder), '') FROM pg_enum e WHERE e.enumtypid = t.oid))
		  WHEN 'd' THEN format('CREATE DOMAIN %I.%I AS %s%s%s%s %s', n.nspname, t.typname, format_type(t.typbasetype, t.typtypmod),
		         CASE WHEN t.typcollation <> bt.typcollation THEN ' COLLATE ' || quote_ident(cn.nspname) || '.' || quote_ident(co.collname) ELSE '' END,
		         CASE WHEN t.typdefault IS NOT NULL THEN ' DEFAULT ' || t.typdefault ELSE '' END,
		         CASE WHEN t.typnotnull THEN ' NOT NULL' ELSE '' END,
		         coalesce((SELECT string_agg(format('CONSTRAINT %I %s', k.conname, pg_get_constraintdef(k.oid)), ' ' ORDER BY k.oid)
		                   FROM pg_constraint k WHERE k.contypid = t.oid), ''))
		  WHEN 'c' THEN format('CREATE TYPE %I.%I AS (%s)', n.nspname, t.typname,
		         coalesce((SELECT string_agg(format('%I %s%s', a.attname, format_type(a.atttypid, a.atttypmod),
		                     CASE WHEN a.attcollation <> at.typcollation THEN ' COLLATE ' || quote_ident(acn.nspname) || '.' || quote_ident(aco.collname) ELSE '' END),
		                     ', ' ORDER BY a.attnum)
		                   FROM pg_attribute a JOIN pg_type at ON at.oid = a.atttypid
		                   LEFT JOIN pg_collation aco ON aco.oid = a.attcollation LEFT JOIN pg_namespace acn ON acn.oid = aco.collnamespace
		                   WHERE a.attrelid = t.typrelid AND a.attnum > 0 AND NOT a.attisdropped), ''))
		  ELSE (SELECT format('CREATE TYPE %I.%I AS RANGE (SUBTYPE = %s%s%s%s%s, MULTIRANGE_TYPE_NAME = %I.%I)', n.nspname, t.typname,
		         format_type(r.rngsubtype, NULL),
		         CASE WHEN NOT opc.opcdefault THEN ', SUBTYPE_OPCLASS = ' || quote_ident(ocn.nspname) || '.' || quote_ident(opc.opcname) ELSE '' END,
		         CASE WHEN r.rngcollation <> 0 AND r.rngcollation <> st.typcollation
		              THEN ', COLLATION = ' || (SELECT quote_ident(rcn.nspname) || '.' || quote_ident(rco.collname) FROM pg_collation rco
		                                        JOIN pg_namespace rcn ON rcn.oid = rco.collnamespace WHERE rco.oid = r.rngcollation) ELSE '' END,
		         CASE WHEN r.rngcanonical <> 0 THEN ', CANONICAL = ' || r.rngcanonical::regproc::text ELSE '' END,
		         CASE WHEN r.rngsubdiff <> 0 THEN ', SUBTYPE_DIFF = ' || r.rngsubdiff::regproc::text ELSE '' END,
		         mn.nspname, mt.typname)
		        FROM pg_range r JOIN pg_type st ON st.oid = r.rngsubtype
		        JOIN pg_opclass opc ON opc.oid = r.rngsubopc JOIN pg_namespace ocn ON ocn.oid = opc.opcnamespace
		        JOIN pg_type mt ON mt.oid = r.rngmultitypid JOIN pg_namespace mn ON mn.oid = mt.typnamespace
		        WHERE r.rngtypid = t.oid)
		  END
		FROM pg_type t JOIN pg_namespace n ON n.oid = t.typnamespace
		LEFT JOIN pg_type bt ON bt.oid = t.typbasetype
		LEFT JOIN pg_collation co ON co.oid = t.typcollation LEFT JOIN pg_namespace cn ON cn.oid = co.collnamespace
		WHERE n.nspname = ANY ($1::text[]) AND `+notExt("pg_type", "t.oid")+`
		  AND (t.typtype IN ('e', 'd', 'r') OR t.typtype = 'c' AND (SELECT c.relkind FROM pg_class c WHERE c.oid = t.typrelid) = 'c')
		ORDER BY t.oid`, []any{schemas}, func(rows pgx.Rows) error {
		var oid uint32
		var typ string
		o := preObject{}
		if err := rows.Scan(&oid, &typ, &o.name, &o.ddl); err != nil {
			return err
		}
		o.key = fmt.Sprintf("t%d", oid)
		o.kind = map[string]string{"e": KindEnum, "d": KindDomain, "c": KindCompositeType, "r": KindRangeType}[typ]
		pre = append(pre, o)
		return nil
	})
	if err != nil {
		return err
	}

	// Functions and procedures (pg_get_functiondef), aggregates (rebuilt
	// from pg_aggregate).
	err = scan("functions", `
		SELECT p.oid, p.prokind::text, `+sqlName("n.nspname", "p.proname")+`, p.prosqlbody IS NULL,
		  CASE WHEN p.prokind = 'a' THEN
		    (SELECT format('CREATE AGGREGATE %I.%I(%s) (SFUNC = %s, STYPE = %s%s%s%s%s%s%s%s%s%s, PARALLEL = %s)', n.nspname, p.proname,
		       CASE WHEN p.pronargs = 0 THEN '*' ELSE pg_get_function_identity_arguments(p.oid) END,
		       a.aggtransfn::regproc::text, format_type(a.aggtranstype, NULL),
		       CASE WHEN a.aggtransspace <> 0 THEN ', SSPACE = ' || a.aggtransspace ELSE '' END,
		       CASE WHEN a.aggfinalfn <> 0 THEN ', FINALFUNC = ' || a.aggfinalfn::regproc::text
		            || CASE WHEN a.aggfinalextra THEN ', FINALFUNC_EXTRA' ELSE '' END
		            || ', FINALFUNC_MODIFY = ' || CASE a.aggfinalmodify WHEN 'r' THEN 'READ_ONLY' WHEN 's' THEN 'SHAREABLE' ELSE 'READ_WRITE' END
		            ELSE '' END,
		       CASE WHEN a.aggcombinefn <> 0 THEN ', COMBINEFUNC = ' || a.aggcombinefn::regproc::text ELSE '' END,
		       CASE WHEN a.aggserialfn <> 0 THEN ', SERIALFUNC = ' || a.aggserialfn::regproc::text ELSE '' END,
		       CASE WHEN a.aggdeserialfn <> 0 THEN ', DESERIALFUNC = ' || a.aggdeserialfn::regproc::text ELSE '' END,
		       CASE WHEN a.agginitval IS NOT NULL THEN ', INITCOND = ' || quote_literal(a.agginitval) ELSE '' END,
		       CASE WHEN a.aggmtransfn <> 0 THEN ', MSFUNC = ' || a.aggmtransfn::regproc::text || ', MINVFUNC = ' || a.aggminvtransfn::regproc::text
		            || ', MSTYPE = ' || format_type(a.aggmtranstype, NULL)
		            || CASE WHEN a.aggmtransspace <> 0 THEN ', MSSPACE = ' || a.aggmtransspace ELSE '' END
		            || CASE WHEN a.aggmfinalfn <> 0 THEN ', MFINALFUNC = ' || a.aggmfinalfn::regproc::text
		                 || CASE WHEN a.aggmfinalextra THEN ', MFINALFUNC_EXTRA' ELSE '' END
		                 || ', MFINALFUNC_MODIFY = ' || CASE a.aggmfinalmodify WHEN 'r' THEN 'READ_ONLY' WHEN 's' THEN 'SHAREABLE' ELSE 'READ_WRITE' END
		                 ELSE '' END
		            || CASE WHEN a.aggminitval IS NOT NULL THEN ', MINITCOND = ' || quote_literal(a.aggminitval) ELSE '' END
		            ELSE '' END,
		       CASE WHEN a.aggsortop <> 0 THEN (SELECT ', SORTOP = OPERATOR(' || quote_ident(son.nspname) || '.' || so.oprname || ')'
		                                        FROM pg_operator so JOIN pg_namespace son ON son.oid = so.oprnamespace WHERE so.oid = a.aggsortop) ELSE '' END,
		       CASE WHEN a.aggkind = 'h' THEN ', HYPOTHETICAL' ELSE '' END,
		       CASE p.proparallel WHEN 's' THEN 'SAFE' WHEN 'r' THEN 'RESTRICTED' ELSE 'UNSAFE' END)
		     FROM pg_aggregate a WHERE a.aggfnoid = p.oid)
		  ELSE pg_get_functiondef(p.oid) END
		FROM pg_proc p JOIN pg_namespace n ON n.oid = p.pronamespace
		WHERE n.nspname = ANY ($1::text[]) AND `+notExt("pg_proc", "p.oid")+`
		  AND NOT EXISTS (SELECT 1 FROM pg_depend x WHERE x.classid = 'pg_proc'::regclass AND x.objid = p.oid AND x.deptype = 'i')
		ORDER BY p.oid`, []any{schemas}, func(rows pgx.Rows) error {
		var oid uint32
		var kind string
		var late bool
		o := preObject{}
		if err := rows.Scan(&oid, &kind, &o.name, &late, &o.ddl); err != nil {
			return err
		}
		o.key = fmt.Sprintf("f%d", oid)
		o.kind = map[string]string{"f": KindFunction, "w": KindFunction, "p": KindProcedure, "a": KindAggregate}[kind]
		if matchAny(opts.ExcludeObjects, o.name) {
			so.skipped = append(so.skipped, fmt.Sprintf("%s %s: excluded by exclude_objects", o.kind, o.name))
			return nil
		}
		o.lateBody = late && kind != "a"
		pre = append(pre, o)
		return nil
	})
	if err != nil {
		return err
	}

	// Collations, operators and casts.
	err = scan("collations, operators and casts", `
		SELECT 'o' || co.oid, 'collation', `+sqlName("n.nspname", "co.collname")+`,
		       format('CREATE COLLATION %I.%I (provider = %s%s, deterministic = %s)', n.nspname, co.collname,
		              CASE co.collprovider WHEN 'i' THEN 'icu' ELSE 'libc' END,
		              CASE WHEN co.collprovider = 'i' THEN ', locale = ' || quote_literal(coalesce(to_jsonb(co)->>'colliculocale', to_jsonb(co)->>'colllocale'))
		                   ELSE ', lc_collate = ' || quote_literal(co.collcollate) || ', lc_ctype = ' || quote_literal(co.collctype) END,
		              co.collisdeterministic::text)
		FROM pg_collation co JOIN pg_namespace n ON n.oid = co.collnamespace
		WHERE n.nspname = ANY ($1::text[]) AND `+notExt("pg_collation", "co.oid")+`
		UNION ALL
		SELECT 'p' || o.oid, 'operator', quote_ident(n.nspname) || '.' || o.oprname,
		       format('CREATE OPERATOR %s.%s (FUNCTION = %s%s%s%s%s%s%s%s%s)', quote_ident(n.nspname), o.oprname, o.oprcode::regproc::text,
		              CASE WHEN o.oprleft <> 0 THEN ', LEFTARG = ' || format_type(o.oprleft, NULL) ELSE '' END,
		              CASE WHEN o.oprright <> 0 THEN ', RIGHTARG = ' || format_type(o.oprright, NULL) ELSE '' END,
		              (SELECT ', COMMUTATOR = OPERATOR(' || quote_ident(xn.nspname) || '.' || x.oprname || ')' FROM pg_operator x
		                 JOIN pg_namespace xn ON xn.oid = x.oprnamespace WHERE x.oid = o.oprcom),
		              (SELECT ', NEGATOR = OPERATOR(' || quote_ident(xn.nspname) || '.' || x.oprname || ')' FROM pg_operator x
		                 JOIN pg_namespace xn ON xn.oid = x.oprnamespace WHERE x.oid = o.oprnegate),
		              CASE WHEN o.oprrest <> 0 THEN ', RESTRICT = ' || o.oprrest::regproc::text ELSE '' END,
		              CASE WHEN o.oprjoin <> 0 THEN ', JOIN = ' || o.oprjoin::regproc::text ELSE '' END,
		              CASE WHEN o.oprcanhash THEN ', HASHES' ELSE '' END,
		              CASE WHEN o.oprcanmerge THEN ', MERGES' ELSE '' END)
		FROM pg_operator o JOIN pg_namespace n ON n.oid = o.oprnamespace
		WHERE n.nspname = ANY ($1::text[]) AND `+notExt("pg_operator", "o.oid")+`
		UNION ALL
		SELECT 'k' || c.oid, 'cast', format_type(c.castsource, NULL) || ' AS ' || format_type(c.casttarget, NULL),
		       format('CREATE CAST (%s AS %s) %s%s', format_type(c.castsource, NULL), format_type(c.casttarget, NULL),
		              CASE c.castmethod WHEN 'f' THEN 'WITH FUNCTION ' || c.castfunc::regprocedure::text WHEN 'i' THEN 'WITH INOUT' ELSE 'WITHOUT FUNCTION' END,
		              CASE c.castcontext WHEN 'a' THEN ' AS ASSIGNMENT' WHEN 'i' THEN ' AS IMPLICIT' ELSE '' END)
		FROM pg_cast c
		WHERE c.oid >= 16384 AND `+notExt("pg_cast", "c.oid")+`
		  AND NOT EXISTS (SELECT 1 FROM pg_depend x WHERE x.classid = 'pg_cast'::regclass AND x.objid = c.oid AND x.deptype = 'i')
		  AND (EXISTS (SELECT 1 FROM pg_type t JOIN pg_namespace n ON n.oid = t.typnamespace WHERE t.oid IN (c.castsource, c.casttarget) AND n.nspname = ANY ($1::text[]))
		       OR EXISTS (SELECT 1 FROM pg_proc p JOIN pg_namespace n ON n.oid = p.pronamespace WHERE p.oid = c.castfunc AND n.nspname = ANY ($1::text[])))`,
		[]any{schemas}, func(rows pgx.Rows) error {
			o := preObject{}
			var kind string
			if err := rows.Scan(&o.key, &kind, &o.name, &o.ddl); err != nil {
				return err
			}
			o.kind = map[string]string{"collation": KindCollation, "operator": KindOperator, "cast": KindCast}[kind]
			pre = append(pre, o)
			return nil
		})
	if err != nil {
		return err
	}

	// Tables, views and materialized views.
	for _, rel := range cat.order {
		if rel.included {
			for _, parent := range rel.inherits {
				if pr := cat.rels[parent]; pr == nil || !pr.included {
					// Its parent is not copied: a plain table with all its columns.
					so.skipped = append(so.skipped, fmt.Sprintf("inheritance of %s from %s: %s is not copied, so %s is copied as a plain table", rel.qualified(), parent, parent, rel.qualified()))
					copied := *rel
					copied.inherits = nil
					rel = &copied
					break
				}
			}
			kind := KindTable
			if rel.isPartition {
				kind = KindPartition
			}
			pre = append(pre, preObject{key: fmt.Sprintf("r%d", rel.oid), kind: kind, name: rel.qualified(), ddl: tableDDL(rel, true), table: rel})
		}
	}
	for _, v := range so.views {
		with := ""
		if v.options != "" {
			with = " WITH (" + v.options + ")"
		}
		pre = append(pre, preObject{key: fmt.Sprintf("r%d", v.oid), kind: KindView, name: Name{v.schema, v.name}.String(),
			ddl: fmt.Sprintf("CREATE VIEW %s%s AS %s", quoteQualified(Name{v.schema, v.name}.String()), with, strings.TrimSuffix(v.def, ";"))})
	}
	err = scan("materialized views", `
		SELECT c.oid, n.nspname, c.relname, pg_get_viewdef(c.oid), coalesce(array_to_string(c.reloptions, ', '), ''), c.relispopulated,
		       array(SELECT pg_get_indexdef(i.indexrelid) FROM pg_index i WHERE i.indrelid = c.oid ORDER BY i.indexrelid)
		FROM pg_class c JOIN pg_namespace n ON n.oid = c.relnamespace
		WHERE c.relkind = 'm' AND n.nspname = ANY ($1::text[]) AND `+notExt("pg_class", "c.oid")+`
		ORDER BY c.oid`, []any{schemas}, func(rows pgx.Rows) error {
		var m matviewDef
		var def, options string
		if err := rows.Scan(&m.oid, &m.schema, &m.name, &def, &options, &m.populated, &m.indexes); err != nil {
			return err
		}
		if !opts.tableIncluded(Name{m.schema, m.name}.String()) || dropped[Name{m.schema, m.name}.String()] {
			return nil
		}
		if matchAny(opts.ExcludeObjects, Name{m.schema, m.name}.String()) {
			so.skipped = append(so.skipped, fmt.Sprintf("materialized view %s.%s: excluded by exclude_objects", m.schema, m.name))
			return nil
		}
		with := ""
		if options != "" {
			with = " WITH (" + options + ")"
		}
		so.matviews = append(so.matviews, m)
		pre = append(pre, preObject{key: fmt.Sprintf("r%d", m.oid), kind: KindMaterializedView, name: Name{m.schema, m.name}.String(),
			ddl: fmt.Sprintf("CREATE MATERIALIZED VIEW %s%s AS %s WITH NO DATA", quoteQualified(Name{m.schema, m.name}.String()), with, strings.TrimSuffix(def, ";"))})
		return nil
	})
	if err != nil {
		return err
	}

	// Dependencies between them, each end mapped to the object that owns
	// it: a column default or a table's row type to its table, a view's
	// rule to the view, a domain's constraint or an array type to the type,
	// a composite type's relation to the type.
	var deps [][2]string
	err = scan("dependencies", `
		WITH owners(classid, objid, owner) AS (
		  SELECT 'pg_class'::regclass::oid, c.oid, CASE WHEN c.relkind = 'c' THEN 't' || c.reltype ELSE 'r' || c.oid END
		  FROM pg_class c JOIN pg_namespace n ON n.oid = c.relnamespace WHERE n.nspname = ANY ($1::text[])
		  UNION ALL
		  SELECT 'pg_type'::regclass::oid, t.oid,
		         CASE WHEN e.oid IS NOT NULL THEN
		                CASE WHEN e.typrelid <> 0 AND ec.relkind <> 'c' THEN 'r' || e.typrelid ELSE 't' || e.oid END
		              WHEN t.typrelid <> 0 AND tc.relkind <> 'c' THEN 'r' || t.typrelid
		              WHEN t.typtype = 'm' THEN 't' || (SELECT r.rngtypid FROM pg_range r WHERE r.rngmultitypid = t.oid)
		              ELSE 't' || t.oid END
		  FROM pg_type t JOIN pg_namespace n ON n.oid = t.typnamespace
		  LEFT JOIN pg_class tc ON tc.oid = t.typrelid
		  LEFT JOIN pg_type e ON e.oid = t.typelem AND e.typarray = t.oid
		  LEFT JOIN pg_class ec ON ec.oid = e.typrelid
		  WHERE n.nspname = ANY ($1::text[])
		  UNION ALL
		  SELECT 'pg_proc'::regclass::oid, p.oid, 'f' || p.oid FROM pg_proc p JOIN pg_namespace n ON n.oid = p.pronamespace WHERE n.nspname = ANY ($1::text[])
		  UNION ALL
		  SELECT 'pg_attrdef'::regclass::oid, ad.oid, 'r' || ad.adrelid FROM pg_attrdef ad JOIN pg_class c ON c.oid = ad.adrelid
		    JOIN pg_namespace n ON n.oid = c.relnamespace WHERE n.nspname = ANY ($1::text[])
		  UNION ALL
		  SELECT 'pg_rewrite'::regclass::oid, rw.oid, 'r' || rw.ev_class FROM pg_rewrite rw JOIN pg_class c ON c.oid = rw.ev_class
		    JOIN pg_namespace n ON n.oid = c.relnamespace WHERE n.nspname = ANY ($1::text[])
		  UNION ALL
		  SELECT 'pg_constraint'::regclass::oid, k.oid, 't' || k.contypid FROM pg_constraint k JOIN pg_type t ON t.oid = k.contypid
		    JOIN pg_namespace n ON n.oid = t.typnamespace WHERE n.nspname = ANY ($1::text[])
		  UNION ALL
		  SELECT 'pg_collation'::regclass::oid, co.oid, 'o' || co.oid FROM pg_collation co JOIN pg_namespace n ON n.oid = co.collnamespace
		    WHERE n.nspname = ANY ($1::text[])
		  UNION ALL
		  SELECT 'pg_operator'::regclass::oid, o.oid, 'p' || o.oid FROM pg_operator o JOIN pg_namespace n ON n.oid = o.oprnamespace
		    WHERE n.nspname = ANY ($1::text[])
		  UNION ALL
		  SELECT 'pg_cast'::regclass::oid, c.oid, 'k' || c.oid FROM pg_cast c WHERE c.oid >= 16384
		)
		SELECT DISTINCT a.owner, b.owner
		FROM pg_depend d
		JOIN owners a ON a.classid = d.classid AND a.objid = d.objid
		JOIN owners b ON b.classid = d.refclassid AND b.objid = d.refobjid
		WHERE d.deptype IN ('n', 'a') AND a.owner <> b.owner`, []any{schemas}, func(rows pgx.Rows) error {
		var d [2]string
		err := rows.Scan(&d[0], &d[1])
		deps = append(deps, d)
		return err
	})
	if err != nil {
		return err
	}
	so.pre = orderObjects(pre, deps)

	// Triggers of copied tables and views.
	viewOIDs := make([]uint32, 0, len(so.views))
	for _, v := range so.views {
		viewOIDs = append(viewOIDs, v.oid)
	}
	err = scan("triggers", `
		SELECT `+sqlName("n.nspname", "c.relname")+`, tg.tgname, pg_get_triggerdef(tg.oid), tg.tgenabled::text, c.relkind IN ('r', 'p')
		FROM pg_trigger tg JOIN pg_class c ON c.oid = tg.tgrelid JOIN pg_namespace n ON n.oid = c.relnamespace
		WHERE (tg.tgrelid = ANY ($1::oid[]) OR tg.tgrelid = ANY ($2::oid[])) AND NOT tg.tgisinternal AND tg.tgparentid = 0
		ORDER BY tg.oid`, []any{relOIDs, viewOIDs}, func(rows pgx.Rows) error {
		var t triggerDef
		var enabled string
		if err := rows.Scan(&t.table, &t.name, &t.def, &enabled, &t.onTable); err != nil {
			return err
		}
		t.enabled = enabled[0]
		so.triggers = append(so.triggers, t)
		return nil
	})
	if err != nil {
		return err
	}

	// Extended statistics.
	err = scan("extended statistics", `
		SELECT pg_get_statisticsobjdef(s.oid) FROM pg_statistic_ext s WHERE s.stxrelid = ANY ($1::oid[]) ORDER BY s.oid`,
		[]any{relOIDs}, func(rows pgx.Rows) error {
			var def string
			err := rows.Scan(&def)
			so.statistics = append(so.statistics, def)
			return err
		})
	if err != nil {
		return err
	}

	// Row-level security and policies.
	err = scan("row-level security", `
		SELECT `+sqlName("n.nspname", "c.relname")+`, c.relrowsecurity, c.relforcerowsecurity,
		       coalesce(pol.polname::text, ''), coalesce(pol.polpermissive, true), coalesce(pol.polcmd::text, '*'),
		       coalesce(array(SELECT CASE WHEN r = 0 THEN '' ELSE (SELECT rolname::text FROM pg_roles WHERE oid = r) END
		                      FROM unnest(pol.polroles) r), '{}'),
		       coalesce(pg_get_expr(pol.polqual, pol.polrelid), ''), coalesce(pg_get_expr(pol.polwithcheck, pol.polrelid), '')
		FROM pg_class c JOIN pg_namespace n ON n.oid = c.relnamespace
		LEFT JOIN pg_policy pol ON pol.polrelid = c.oid
		WHERE c.oid = ANY ($1::oid[]) AND (c.relrowsecurity OR c.relforcerowsecurity OR pol.oid IS NOT NULL)
		ORDER BY c.oid, pol.oid`, []any{relOIDs}, func(rows pgx.Rows) error {
		var p policyDef
		var cmd string
		if err := rows.Scan(&p.table, &p.rowSecurity, &p.forceRowSecurity, &p.name, &p.permissive, &cmd, &p.roles, &p.qual, &p.withCheck); err != nil {
			return err
		}
		p.cmd = cmd[0]
		if n := len(so.rowSecurity); n == 0 || so.rowSecurity[n-1].table != p.table {
			so.rowSecurity = append(so.rowSecurity, rowSecurity{table: p.table, enable: p.rowSecurity, force: p.forceRowSecurity})
		}
		if p.name != "" {
			rs := &so.rowSecurity[len(so.rowSecurity)-1]
			rs.policies = append(rs.policies, p)
		}
		return nil
	})
	if err != nil {
		return err
	}

	// Comments on what is copied.
	matOIDs := make([]uint32, 0, len(so.matviews))
	for _, m := range so.matviews {
		matOIDs = append(matOIDs, m.oid)
	}
	copiedRels := slices.Concat(relOIDs, viewOIDs, matOIDs)
	if so.grants, err = readGrants(ctx, q, schemas, copiedRels); err != nil {
		return err
	}
	err = scan("comments", `
		SELECT o.type, o.identity, d.description
		FROM pg_description d CROSS JOIN LATERAL pg_identify_object(d.classoid, d.objoid, d.objsubid) o
		WHERE (o.schema = ANY ($1::text[]) OR d.classoid = 'pg_namespace'::regclass AND o.identity = ANY ($1::text[])
		       OR d.classoid IN ('pg_trigger'::regclass, 'pg_policy'::regclass))
		  AND NOT EXISTS (SELECT 1 FROM pg_depend x WHERE x.classid = d.classoid AND x.objid = d.objoid AND x.deptype = 'e')
		  AND CASE d.classoid
		      WHEN 'pg_class'::regclass THEN d.objoid = ANY ($2::oid[])
		           OR EXISTS (SELECT 1 FROM pg_index i WHERE i.indexrelid = d.objoid AND i.indrelid = ANY ($2::oid[]))
		           OR EXISTS (SELECT 1 FROM pg_class s WHERE s.oid = d.objoid AND s.relkind IN ('S', 'c'))
		      WHEN 'pg_constraint'::regclass THEN EXISTS (SELECT 1 FROM pg_constraint k WHERE k.oid = d.objoid AND (k.contypid <> 0 OR k.conrelid = ANY ($2::oid[])))
		      WHEN 'pg_trigger'::regclass THEN EXISTS (SELECT 1 FROM pg_trigger t WHERE t.oid = d.objoid AND t.tgrelid = ANY ($2::oid[]))
		      WHEN 'pg_policy'::regclass THEN EXISTS (SELECT 1 FROM pg_policy p WHERE p.oid = d.objoid AND p.polrelid = ANY ($2::oid[]))
		      ELSE true END
		ORDER BY d.classoid, d.objoid, d.objsubid`, []any{schemas, copiedRels}, func(rows pgx.Rows) error {
		var typ, identity, text string
		if err := rows.Scan(&typ, &identity, &text); err != nil {
			return err
		}
		if sql, ok := commentSQL(typ, identity, text); ok {
			so.comments = append(so.comments, commentDef{sql: sql})
		} else {
			so.skipped = append(so.skipped, fmt.Sprintf("comment on %s %s: this kind of object is not copied", typ, identity))
		}
		return nil
	})
	return err
}

// readGrants reads the privileges granted on the copied schemas and on
// the copied relations, columns, sequences, functions and types (those
// with an ACL that is not the default). The owner's own privileges are
// left out: in the target the objects belong to the login that copies.
func readGrants(ctx context.Context, q Querier, schemas []string, rels []uint32) ([]grantDef, error) {
	rows, err := q.Query(ctx, `
		WITH objs(classid, objid, subid, kind, acl, owner) AS (
		  SELECT 'pg_namespace'::regclass, n.oid, 0, 'SCHEMA', n.nspacl, n.nspowner FROM pg_namespace n WHERE n.nspname = ANY ($1::text[]) AND n.nspacl IS NOT NULL
		  UNION ALL
		  SELECT 'pg_class'::regclass, c.oid, 0, CASE WHEN c.relkind = 'S' THEN 'SEQUENCE' ELSE 'TABLE' END, c.relacl, c.relowner
		  FROM pg_class c JOIN pg_namespace n ON n.oid = c.relnamespace
		  WHERE c.relacl IS NOT NULL AND (c.oid = ANY ($2::oid[]) OR c.relkind = 'S' AND n.nspname = ANY ($1::text[]))
		  UNION ALL
		  SELECT 'pg_class'::regclass, a.attrelid, a.attnum, 'COLUMN', a.attacl, c.relowner
		  FROM pg_attribute a JOIN pg_class c ON c.oid = a.attrelid WHERE a.attrelid = ANY ($2::oid[]) AND a.attacl IS NOT NULL AND NOT a.attisdropped
		  UNION ALL
		  SELECT 'pg_proc'::regclass, p.oid, 0, 'ROUTINE', p.proacl, p.proowner FROM pg_proc p JOIN pg_namespace n ON n.oid = p.pronamespace
		  WHERE n.nspname = ANY ($1::text[]) AND p.proacl IS NOT NULL
		  UNION ALL
		  SELECT 'pg_type'::regclass, t.oid, 0, 'TYPE', t.typacl, t.typowner FROM pg_type t JOIN pg_namespace n ON n.oid = t.typnamespace
		  WHERE n.nspname = ANY ($1::text[]) AND t.typacl IS NOT NULL
		)
		SELECT o.kind, CASE o.kind WHEN 'COLUMN' THEN quote_ident(a.attname) ELSE '' END, i.identity,
		       coalesce(array_agg(CASE WHEN x.grantee = 0 THEN '' ELSE (SELECT rolname::text FROM pg_roles WHERE oid = x.grantee) END
		                          ORDER BY x.grantee, x.privilege_type) FILTER (WHERE x.grantee <> o.owner), '{}'),
		       coalesce(array_agg(x.privilege_type::text ORDER BY x.grantee, x.privilege_type) FILTER (WHERE x.grantee <> o.owner), '{}'),
		       coalesce(array_agg(x.is_grantable ORDER BY x.grantee, x.privilege_type) FILTER (WHERE x.grantee <> o.owner), '{}')
		FROM objs o CROSS JOIN LATERAL pg_identify_object(o.classid, o.objid, 0) i
		LEFT JOIN pg_attribute a ON o.kind = 'COLUMN' AND a.attrelid = o.objid AND a.attnum = o.subid
		CROSS JOIN LATERAL aclexplode(o.acl) x
		WHERE NOT EXISTS (SELECT 1 FROM pg_depend d WHERE d.classid = o.classid AND d.objid = o.objid AND d.deptype IN ('e', 'i'))
		GROUP BY o.classid, o.objid, o.subid, o.kind, a.attname, i.identity
		ORDER BY o.classid, o.objid, o.subid`, schemas, rels)
	if err != nil {
		return nil, fmt.Errorf("reading privileges: %w", err)
	}
	var out []grantDef
	for rows.Next() {
		var g grantDef
		var roles, privs []string
		var options []bool
		if err := rows.Scan(&g.kind, &g.column, &g.object, &roles, &privs, &options); err != nil {
			rows.Close()
			return nil, fmt.Errorf("reading privileges: %w", err)
		}
		for i := range roles {
			g.grants = append(g.grants, grant{role: roles[i], privilege: privs[i], grantOption: options[i]})
		}
		out = append(out, g)
	}
	return out, rows.Err()
}

// grantDef is the non-default ACL of one object.
type grantDef struct {
	kind   string // SCHEMA, TABLE, SEQUENCE, COLUMN, ROUTINE, TYPE
	column string // quoted, for COLUMN
	object string // pg_identify_object identity (source names)
	grants []grant
}

// grant is one privilege granted to a role ("" for PUBLIC).
type grant struct {
	role, privilege string
	grantOption     bool
}

// sql renders an ACL: privileges PUBLIC has by default are revoked first
// (pg_dump does the same), then each grant, to the role roleMap maps the
// production role to (the same name by default) when it exists in the
// target; grants to other roles are listed in skipped.
func (g grantDef) sql(roles map[string]bool, roleMap map[string]string) (stmts, skipped []string) {
	on, cols := g.kind+" "+g.object, ""
	if g.kind == "COLUMN" {
		on, cols = "TABLE "+g.object, " ("+g.column+")"
	} else {
		stmts = append(stmts, "REVOKE ALL ON "+on+" FROM PUBLIC")
	}
	for _, gr := range g.grants {
		grantee := "PUBLIC"
		if gr.role != "" {
			role := mapRole(gr.role, roleMap)
			if !roles[role] {
				skipped = append(skipped, fmt.Sprintf("grant of %s on %s%s to %s: the role does not exist in the target (role_map can map it to one that does)", gr.privilege, on, cols, role))
				continue
			}
			grantee = pgx.Identifier{role}.Sanitize()
		}
		st := "GRANT " + gr.privilege + cols + " ON " + on + " TO " + grantee
		if gr.grantOption {
			st += " WITH GRANT OPTION"
		}
		stmts = append(stmts, st)
	}
	return stmts, skipped
}

// commentSQL renders COMMENT ON for an object described by
// pg_identify_object; ok is false for kinds the clone does not create.
func commentSQL(typ, identity, text string) (string, bool) {
	var what string
	switch typ {
	case "table column", "view column", "materialized view column", "composite type column":
		what = "COLUMN " + identity
	case "table constraint", "trigger", "policy":
		what = strings.ToUpper(strings.TrimPrefix(typ, "table ")) + " " + identity
	case "domain constraint":
		// "name on schema.domain"
		name, dom, ok := strings.Cut(identity, " on ")
		if !ok {
			return "", false
		}
		what = "CONSTRAINT " + name + " ON DOMAIN " + dom
	case "composite type":
		what = "TYPE " + identity
	case "table", "view", "materialized view", "sequence", "index", "type", "domain", "function", "procedure", "aggregate", "schema":
		what = strings.ToUpper(typ) + " " + identity
	default:
		return "", false
	}
	return "COMMENT ON " + what + " IS " + quoteLiteral(text), true
}

// orderObjects sorts objects so that each comes after the objects it
// depends on (deps are [dependent, referenced] keys; keys of objects not
// in the list are ignored), keeping the given order where dependencies
// allow. Objects in a cycle keep the given order.
func orderObjects(objs []preObject, deps [][2]string) []preObject {
	index := map[string]int{}
	for i, o := range objs {
		index[o.key] = i
	}
	after := make([][]int, len(objs)) // referenced -> dependents
	waiting := make([]int, len(objs))
	seen := map[[2]int]bool{}
	for _, d := range deps {
		a, okA := index[d[0]]
		b, okB := index[d[1]]
		if !okA || !okB || a == b || seen[[2]int{a, b}] {
			continue
		}
		seen[[2]int{a, b}] = true
		after[b] = append(after[b], a)
		waiting[a]++
	}
	out := make([]preObject, 0, len(objs))
	done := make([]bool, len(objs))
	for len(out) < len(objs) {
		progressed := false
		for i := range objs {
			if done[i] || waiting[i] > 0 {
				continue
			}
			// Emit the first ready object, then rescan from the start so
			// that the given order is kept where possible.
			done[i] = true
			out = append(out, objs[i])
			for _, j := range after[i] {
				waiting[j]--
			}
			progressed = true
			break
		}
		if !progressed {
			// A cycle: take the first waiting object as it is; creating it
			// fails loudly if the cycle is real.
			for i := range objs {
				if !done[i] {
					waiting[i] = 0
					break
				}
			}
		}
	}
	return out
}

// searchPathClause starts the SET search_path clause of pg_get_functiondef.
const searchPathClause = "\n SET search_path TO "

// bindToShadows returns the build-time version of a function definition:
// its body and its SET search_path bound to the shadow schemas.
func (m *nameMap) bindToShadows(def string) string {
	body := (&nameMap{schemas: m.schemas, members: m.members, bodies: true}).rewrite(def)
	i := strings.Index(body, searchPathClause)
	if i < 0 {
		return body
	}
	start := i + len(searchPathClause)
	end := strings.IndexByte(body[start:], '\n')
	if end < 0 {
		end = len(body) - start
	}
	items := strings.Split(body[start:start+end], ", ")
	for k, it := range items {
		name := strings.Trim(it, "'")
		if unq, _, ok := readIdent(name, 0); ok && strings.HasPrefix(name, `"`) {
			name = unq
		}
		if t, ok := m.schemas[name]; ok {
			items[k] = quoteLiteral(t)
		}
	}
	return body[:start] + strings.Join(items, ", ") + body[start+end:]
}

// liveNames maps extension objects to where they live after the swap: the
// shadow schemas they were put in take their live names.
func (m *nameMap) liveNames() *nameMap {
	live := &nameMap{schemas: map[string]string{}, members: map[string]map[string]string{}}
	for s, objs := range m.members {
		live.members[s] = map[string]string{}
		for o, where := range objs {
			live.members[s][o] = strings.TrimSuffix(where, shadowSuffix)
		}
	}
	return live
}

// postDataObjects is the DDL run after the data, keys, indexes and foreign
// keys, on the shadow schemas: materialized views refreshed (from the
// masked copy) and indexed, triggers with their enabled state, row-level
// security and policies (for roles that exist in the target; a policy for
// roles that do not exist cannot apply to anyone there and is listed as
// skipped), and comments.
func (c *cloner) postDataObjects(targetRoles map[string]bool) []string {
	var out []string
	rw := c.names.rewrite
	// Autovacuum, held off during the load, as the source has it.
	for _, rel := range c.pol.cat.order {
		if rel.included && rel.kind == 'r' {
			out = append(out, autovacuumRestore(c.names.rewriteName(quoteQualified(rel.qualified())), rel, c.refusedOptions)...)
		}
	}
	for _, o := range c.objs.pre {
		if o.kind != KindMaterializedView {
			continue
		}
		for _, m := range c.objs.matviews {
			if (Name{m.schema, m.name}).String() != o.name {
				continue
			}
			if m.populated {
				out = append(out, rw("REFRESH MATERIALIZED VIEW "+quoteQualified(o.name)))
			}
			for _, ix := range m.indexes {
				out = append(out, rw(ix))
				c.count(KindIndex)
			}
		}
	}
	for _, st := range c.objs.statistics {
		out = append(out, rw(st))
		c.count(KindStatistics)
	}
	for _, t := range c.objs.triggers {
		out = append(out, rw(t.def))
		c.count(KindTrigger)
		state := map[byte]string{'D': "DISABLE TRIGGER ", 'R': "ENABLE REPLICA TRIGGER ", 'A': "ENABLE ALWAYS TRIGGER "}[t.enabled]
		if state != "" && t.onTable {
			out = append(out, rw("ALTER TABLE "+quoteQualified(t.table)+" "+state+pgx.Identifier{t.name}.Sanitize()))
		}
	}
	for _, rs := range c.objs.rowSecurity {
		table := quoteQualified(rs.table)
		if rs.enable {
			out = append(out, rw("ALTER TABLE "+table+" ENABLE ROW LEVEL SECURITY"))
			c.count(KindRowSecurity)
		}
		if rs.force {
			out = append(out, rw("ALTER TABLE "+table+" FORCE ROW LEVEL SECURITY"))
		}
		for _, p := range rs.policies {
			var roles []string
			var missing []string
			for _, r := range p.roles {
				switch r = mapRole(r, c.opts.RoleMap); {
				case r == "":
					roles = append(roles, "PUBLIC")
				case targetRoles[r]:
					roles = append(roles, pgx.Identifier{r}.Sanitize())
				default:
					missing = append(missing, r)
				}
			}
			if len(roles) == 0 {
				c.skipped = append(c.skipped, fmt.Sprintf("policy %s on %s: its roles (%s) do not exist in the target, so it applies to no one there (role_map can map them)", p.name, rs.table, strings.Join(missing, ", ")))
				continue
			}
			if len(missing) > 0 {
				c.skipped = append(c.skipped, fmt.Sprintf("policy %s on %s: roles %s do not exist in the target and were left out of it", p.name, rs.table, strings.Join(missing, ", ")))
			}
			as := "PERMISSIVE"
			if !p.permissive {
				as = "RESTRICTIVE"
			}
			cmd := map[byte]string{'r': "SELECT", 'a': "INSERT", 'w': "UPDATE", 'd': "DELETE"}[p.cmd]
			if cmd == "" {
				cmd = "ALL"
			}
			sql := fmt.Sprintf("CREATE POLICY %s ON %s AS %s FOR %s TO %s", pgx.Identifier{p.name}.Sanitize(), table, as, cmd, strings.Join(roles, ", "))
			if p.qual != "" {
				sql += " USING (" + p.qual + ")"
			}
			if p.withCheck != "" {
				sql += " WITH CHECK (" + p.withCheck + ")"
			}
			out = append(out, rw(sql))
			c.count(KindPolicy)
		}
	}
	for _, g := range c.objs.grants {
		stmts, skipped := g.sql(targetRoles, c.opts.RoleMap)
		for _, st := range stmts {
			if g.kind == "SCHEMA" {
				// The identity of a schema is its bare name.
				st = strings.Replace(st, " ON SCHEMA "+g.object, " ON SCHEMA "+pgx.Identifier{c.names.schemas[unquoteIdent(g.object)]}.Sanitize(), 1)
				out = append(out, st)
				continue
			}
			out = append(out, rw(st))
		}
		c.skipped = append(c.skipped, skipped...)
		c.count(KindGrant)
	}
	for _, cm := range c.objs.comments {
		out = append(out, c.rewriteComment(cm.sql))
		c.count(KindComment)
	}
	return out
}

// rewriteComment maps a COMMENT ON statement to the shadow schemas,
// including COMMENT ON SCHEMA, whose name is not a qualifier.
func (c *cloner) rewriteComment(sql string) string {
	if rest, ok := strings.CutPrefix(sql, "COMMENT ON SCHEMA "); ok {
		name, end, okName := readIdent(rest, 0)
		if t, mapped := c.names.schemas[name]; okName && mapped {
			return "COMMENT ON SCHEMA " + pgx.Identifier{t}.Sanitize() + rest[end:]
		}
	}
	return c.names.rewrite(sql)
}

// mapRole is the staging role of production role r: roleMap's entry, or
// r itself.
func mapRole(r string, roleMap map[string]string) string {
	if m, ok := roleMap[r]; ok {
		return m
	}
	return r
}

// unquoteIdent returns the name an identifier, quoted or not, stands for.
func unquoteIdent(s string) string {
	if name, end, ok := readIdent(s, 0); ok && end == len(s) {
		return name
	}
	return s
}

// count adds one object of kind to the summary.
func (c *cloner) count(kind string) {
	if c.objects == nil {
		c.objects = map[string]int{}
	}
	c.objects[kind]++
}

// targetRoles lists the roles of the target cluster.
func targetRoles(ctx context.Context, conn *pgx.Conn) (map[string]bool, error) {
	rows, err := conn.Query(ctx, `SELECT rolname::text FROM pg_roles`)
	if err != nil {
		return nil, err
	}
	names, err := pgx.CollectRows(rows, pgx.RowTo[string])
	if err != nil {
		return nil, err
	}
	out := map[string]bool{}
	for _, n := range names {
		out[n] = true
	}
	return out, nil
}
