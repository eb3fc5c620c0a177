package pgclone

import (
	"context"
	"fmt"
	"slices"
	"strings"

	"github.com/jackc/pgx/v5"
)

// Kinds of [Problem] about objects the target cannot reproduce.
const (
	// ProblemUnreproducible: an object of the copied schemas that cannot be
	// created in the target (a C function: its library is a file on the
	// production server).
	ProblemUnreproducible = "unreproducible"
	// ProblemLargeObjects: a copied column references large objects
	// (type oid or lo) and the database has some; they are not copied, so
	// the column needs a rule that nulls it.
	ProblemLargeObjects = "large_objects"
)

// NotCopied is an object that a copy never reproduces, by design.
type NotCopied struct {
	Kind   string // publication, subscription, foreign_server, user_mapping, event_trigger, foreign_table
	Name   string
	Reason string
}

func (n NotCopied) String() string { return n.Kind + " " + n.Name + ": " + n.Reason }

// notCopiedReasons says why each kind is never copied.
var notCopiedReasons = map[string]string{
	"publication":    "logical replication from staging is not wanted; create publications in staging yourself",
	"subscription":   "a subscription would connect staging back to production",
	"foreign_server": "a foreign server is a path from staging to another database, production included",
	"user_mapping":   "user mappings hold credentials of other databases",
	"event_trigger":  "event triggers are database-wide and fire on DDL, the copy's own included",
	"foreign_table":  "a foreign table reads another database through a foreign server, which is not copied",
}

// readNotCopied lists the objects of the source that are never copied,
// by design: publications, subscriptions, foreign servers, user mappings,
// event triggers, and foreign tables of the copied schemas.
func readNotCopied(ctx context.Context, q Querier, schemas []string) ([]NotCopied, error) {
	rows, err := q.Query(ctx, `
		SELECT 'publication', pubname::text FROM pg_publication
		UNION ALL SELECT 'subscription', subname::text FROM pg_subscription WHERE subdbid = (SELECT oid FROM pg_database WHERE datname = current_database())
		UNION ALL SELECT 'foreign_server', srvname::text FROM pg_foreign_server
		UNION ALL SELECT 'user_mapping', srvname || ' for ' || usename FROM pg_user_mappings
		UNION ALL SELECT 'event_trigger', evtname::text FROM pg_event_trigger
		UNION ALL SELECT 'foreign_table', `+sqlName("n.nspname", "c.relname")+` FROM pg_class c JOIN pg_namespace n ON n.oid = c.relnamespace
		  WHERE c.relkind = 'f' AND n.nspname = ANY ($1::text[])
		ORDER BY 1, 2`, schemas)
	if err != nil {
		return nil, fmt.Errorf("reading objects that are not copied: %w", err)
	}
	defer rows.Close()
	var out []NotCopied
	for rows.Next() {
		var n NotCopied
		if err := rows.Scan(&n.Kind, &n.Name); err != nil {
			return nil, err
		}
		n.Reason = notCopiedReasons[n.Kind]
		out = append(out, n)
	}
	return out, rows.Err()
}

// unreproducible reports, as problems, the functions of the copied
// schemas the target cannot have (C functions outside extensions), unless
// Options.ExcludeObjects names them, and copied columns of type oid or lo
// when the database has large objects, unless a rule nulls them.
func (p *policy) unreproducible(ctx context.Context, q Querier, opts *Options, ruled map[string]map[string]*columnPlan) error {
	rows, err := q.Query(ctx, `
		SELECT n.nspname, p.proname, pg_get_function_identity_arguments(p.oid), coalesce(p.probin, '')
		FROM pg_proc p JOIN pg_namespace n ON n.oid = p.pronamespace JOIN pg_language l ON l.oid = p.prolang
		WHERE n.nspname = ANY ($1::text[]) AND l.lanname = 'c'
		  AND NOT EXISTS (SELECT 1 FROM pg_depend x WHERE x.classid = 'pg_proc'::regclass AND x.objid = p.oid AND x.deptype IN ('e', 'i'))
		ORDER BY 1, 2, 3`, p.cat.schemas)
	if err != nil {
		return fmt.Errorf("reading C functions: %w", err)
	}
	for rows.Next() {
		var schema, name, args, lib string
		if err := rows.Scan(&schema, &name, &args, &lib); err != nil {
			rows.Close()
			return err
		}
		n := Name{schema, name}
		if opts.objectExcluded(n) {
			continue
		}
		p.analysis.Problems = append(p.analysis.Problems, Problem{Kind: ProblemUnreproducible, Table: n.String(), Detail: fmt.Sprintf(
			"function %s(%s) is written in C (library %q): the library is a file on the production server, which a copy cannot bring to staging; "+
				"install it in staging as an extension, or leave the function out with exclude_objects = [%q] (objects that use it fail to be created)",
			n, args, lib, n.String())})
	}
	if err := rows.Err(); err != nil {
		return err
	}

	var hasLargeObjects bool
	if err := q.QueryRow(ctx, `SELECT EXISTS (SELECT 1 FROM pg_largeobject_metadata)`).Scan(&hasLargeObjects); err != nil {
		return fmt.Errorf("reading large objects: %w", err)
	}
	if !hasLargeObjects {
		return nil
	}
	for _, rel := range p.cat.order {
		if !rel.included || rel.isPartition {
			continue
		}
		for _, col := range rel.columns {
			if col.typ != "oid" && col.typ != "lo" && !strings.HasSuffix(col.typ, ".lo") {
				continue
			}
			if cp := ruled[rel.qualified()][col.name]; cp != nil && cp.spec.Transformer == "null" {
				continue
			}
			p.analysis.Problems = append(p.analysis.Problems, Problem{Kind: ProblemLargeObjects, Table: rel.qualified(), Column: col.name, Detail: fmt.Sprintf(
				"column of type %s in a database with large objects: large objects are not copied, so its references would dangle or point at other data; "+
					"add a rule with transformer \"null\" (the column must allow NULL), or exclude the table", col.typ)})
		}
	}
	return nil
}

// objectExcluded reports whether Options.ExcludeObjects names n (globs on
// "schema.name").
func (o *Options) objectExcluded(n Name) bool {
	return matchAny(o.ExcludeObjects, n.String()) || matchAny(o.ExcludeObjects, n.Schema+"."+n.Name)
}

// readExtensions lists the extensions of the source that the copy creates
// in the target
// (every one but plpgsql and those Options.ExcludeObjects names).
func readExtensions(ctx context.Context, q Querier, opts *Options) ([]string, error) {
	rows, err := q.Query(ctx, `SELECT extname::text FROM pg_extension WHERE extname <> 'plpgsql' ORDER BY 1`)
	if err != nil {
		return nil, fmt.Errorf("reading extensions: %w", err)
	}
	names, err := pgx.CollectRows(rows, pgx.RowTo[string])
	return slices.DeleteFunc(names, func(n string) bool { return matchAny(opts.ExcludeObjects, n) }), err
}

// MissingExtensions returns the extensions among names that the target
// (q) neither has nor can create: their files are not installed on the
// staging server, so the copy would fail to create them.
func MissingExtensions(ctx context.Context, q Querier, names []string) ([]string, error) {
	rows, err := q.Query(ctx, `
		SELECT n FROM unnest($1::text[]) AS n
		WHERE NOT EXISTS (SELECT 1 FROM pg_available_extensions a WHERE a.name = n)
		ORDER BY 1`, names)
	if err != nil {
		return nil, fmt.Errorf("reading the target's available extensions: %w", err)
	}
	return pgx.CollectRows(rows, pgx.RowTo[string])
}

// MissingExtensionsError is returned by [Clone] when the target cannot
// create extensions the source has; nothing was written.
type MissingExtensionsError struct{ Extensions []string }

func (e *MissingExtensionsError) Error() string {
	return "pgclone: the staging server cannot create extensions production has, nothing was copied: " + strings.Join(e.Extensions, ", ") +
		"; install their packages on the staging server (pg_available_extensions lists what it can create), or leave them out with exclude_objects (objects that use them fail to be created)"
}

// readRoles lists the roles that grants and policies of the copied
// schemas name (PUBLIC and the objects' owners aside), mapped through
// Options.RoleMap: those the target lacks are left out of the copy.
func readRoles(ctx context.Context, q Querier, schemas []string, opts *Options) ([]string, error) {
	rows, err := q.Query(ctx, `
		WITH acls(acl, owner) AS (
		  SELECT n.nspacl, n.nspowner FROM pg_namespace n WHERE n.nspname = ANY ($1::text[])
		  UNION ALL SELECT c.relacl, c.relowner FROM pg_class c JOIN pg_namespace n ON n.oid = c.relnamespace WHERE n.nspname = ANY ($1::text[])
		  UNION ALL SELECT a.attacl, c.relowner FROM pg_attribute a JOIN pg_class c ON c.oid = a.attrelid JOIN pg_namespace n ON n.oid = c.relnamespace
		    WHERE n.nspname = ANY ($1::text[]) AND a.attacl IS NOT NULL
		  UNION ALL SELECT p.proacl, p.proowner FROM pg_proc p JOIN pg_namespace n ON n.oid = p.pronamespace WHERE n.nspname = ANY ($1::text[])
		  UNION ALL SELECT t.typacl, t.typowner FROM pg_type t JOIN pg_namespace n ON n.oid = t.typnamespace WHERE n.nspname = ANY ($1::text[])
		), grantees AS (
		  SELECT (aclexplode(acl)).grantee AS r, owner FROM acls WHERE acl IS NOT NULL
		  UNION ALL SELECT unnest(pol.polroles), 0 FROM pg_policy pol JOIN pg_class c ON c.oid = pol.polrelid JOIN pg_namespace n ON n.oid = c.relnamespace
		    WHERE n.nspname = ANY ($1::text[])
		)
		SELECT DISTINCT ro.rolname::text FROM grantees g JOIN pg_roles ro ON ro.oid = g.r WHERE g.r <> 0 AND g.r <> g.owner ORDER BY 1`, schemas)
	if err != nil {
		return nil, fmt.Errorf("reading the roles of grants and policies: %w", err)
	}
	names, err := pgx.CollectRows(rows, pgx.RowTo[string])
	if err != nil {
		return nil, err
	}
	for i, n := range names {
		names[i] = mapRole(n, opts.RoleMap)
	}
	slices.Sort(names)
	return slices.Compact(names), nil
}

// MissingRoles returns the roles among names that the target (q) does not
// have.
func MissingRoles(ctx context.Context, q Querier, names []string) ([]string, error) {
	rows, err := q.Query(ctx, `SELECT n FROM unnest($1::text[]) AS n WHERE NOT EXISTS (SELECT 1 FROM pg_roles r WHERE r.rolname = n) ORDER BY 1`, names)
	if err != nil {
		return nil, fmt.Errorf("reading the target's roles: %w", err)
	}
	return pgx.CollectRows(rows, pgx.RowTo[string])
}
