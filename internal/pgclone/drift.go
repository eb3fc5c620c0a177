package pgclone

import (
	"context"
	"fmt"
	"slices"

	"github.com/jackc/pgx/v5"
)

// The swap records, in the owner catalog, a digest of every object of the
// schemas it swaps in (table schema_objects); [Drift] compares the
// target's catalog with it, so that objects added, dropped or changed in
// staging by hand since the copy are noticed.

// objectsTable holds the objects of each copied schema as the last copy
// made them.
var objectsTable = pgx.Identifier{CatalogSchema, "schema_objects"}.Sanitize()

// objectsQuery lists the objects of the schemas $1 with a digest of their
// definitions (names schema-qualified: run it with search_path set to ”).
const objectsQuery = `
	SELECT n.nspname::text, 'relation', c.relkind::text || ' ' || quote_ident(c.relname),
	       md5(coalesce(CASE WHEN c.relkind IN ('v', 'm') THEN pg_get_viewdef(c.oid) WHEN c.relkind = 'i' THEN pg_get_indexdef(c.oid) ELSE '' END, '')
	           || coalesce((SELECT string_agg(quote_ident(a.attname) || ' ' || format_type(a.atttypid, a.atttypmod) || ' ' || a.attnotnull::text
	                                         || coalesce(' ' || pg_get_expr(d.adbin, d.adrelid), ''), ',' ORDER BY a.attnum)
	                        FROM pg_attribute a LEFT JOIN pg_attrdef d ON d.adrelid = a.attrelid AND d.adnum = a.attnum
	                        WHERE a.attrelid = c.oid AND a.attnum > 0 AND NOT a.attisdropped), '')
	           || ' rls=' || c.relrowsecurity::text || c.relforcerowsecurity::text)
	FROM pg_class c JOIN pg_namespace n ON n.oid = c.relnamespace
	WHERE n.nspname = ANY ($1::text[]) AND c.relkind IN ('r', 'p', 'v', 'm', 'S', 'i', 'I', 'c')
	UNION ALL
	SELECT n.nspname::text, CASE p.prokind WHEN 'a' THEN 'aggregate' WHEN 'p' THEN 'procedure' ELSE 'function' END,
	       quote_ident(p.proname) || '(' || pg_get_function_identity_arguments(p.oid) || ')',
	       md5(CASE WHEN p.prokind = 'a' THEN '' ELSE pg_get_functiondef(p.oid) END)
	FROM pg_proc p JOIN pg_namespace n ON n.oid = p.pronamespace
	WHERE n.nspname = ANY ($1::text[])
	UNION ALL
	SELECT n.nspname::text, 'type', t.typtype::text || ' ' || quote_ident(t.typname),
	       md5(coalesce((SELECT string_agg(e.enumlabel, ',' ORDER BY e.enumsortorder) FROM pg_enum e WHERE e.enumtypid = t.oid), '')
	           || format_type(t.typbasetype, t.typtypmod))
	FROM pg_type t JOIN pg_namespace n ON n.oid = t.typnamespace
	WHERE n.nspname = ANY ($1::text[]) AND t.typtype IN ('e', 'd', 'r')
	UNION ALL
	SELECT n.nspname::text, 'constraint', quote_ident(k.conname) || ' on ' || quote_ident(coalesce(c.relname, t.typname)), md5(pg_get_constraintdef(k.oid))
	FROM pg_constraint k JOIN pg_namespace n ON n.oid = k.connamespace
	LEFT JOIN pg_class c ON c.oid = k.conrelid LEFT JOIN pg_type t ON t.oid = k.contypid
	WHERE n.nspname = ANY ($1::text[])
	UNION ALL
	SELECT n.nspname::text, 'trigger', quote_ident(tg.tgname) || ' on ' || quote_ident(c.relname), md5(pg_get_triggerdef(tg.oid) || tg.tgenabled::text)
	FROM pg_trigger tg JOIN pg_class c ON c.oid = tg.tgrelid JOIN pg_namespace n ON n.oid = c.relnamespace
	WHERE n.nspname = ANY ($1::text[]) AND NOT tg.tgisinternal
	UNION ALL
	SELECT n.nspname::text, 'policy', quote_ident(pol.polname) || ' on ' || quote_ident(c.relname),
	       md5(coalesce(pg_get_expr(pol.polqual, pol.polrelid), '') || '|' || coalesce(pg_get_expr(pol.polwithcheck, pol.polrelid), '') || pol.polcmd::text || pol.polpermissive::text)
	FROM pg_policy pol JOIN pg_class c ON c.oid = pol.polrelid JOIN pg_namespace n ON n.oid = c.relnamespace
	WHERE n.nspname = ANY ($1::text[])`

// recordObjects stores the objects of schemas as they are now, in the
// swap transaction (the catalog is locked by lockCatalog).
func recordObjects(ctx context.Context, tx pgx.Tx, schemas []string) error {
	if _, err := tx.Exec(ctx, `SELECT pg_catalog.set_config('search_path', '', true)`); err != nil {
		return err
	}
	if _, err := tx.Exec(ctx, `DELETE FROM `+objectsTable+` WHERE schema_name = ANY ($1::text[])`, schemas); err != nil {
		return fmt.Errorf("pgclone: recording the copy's objects: %w", err)
	}
	if _, err := tx.Exec(ctx, `INSERT INTO `+objectsTable+` (schema_name, kind, identity, digest) `+objectsQuery, schemas); err != nil {
		return fmt.Errorf("pgclone: recording the copy's objects: %w", err)
	}
	return nil
}

// Drift compares the objects of schemas in the target conn is connected
// to with those the last copy recorded, and describes each object added,
// dropped or changed since ("added trigger audit on public.orders"),
// sorted. Schemas for which no copy recorded anything (copies made by
// earlier versions) are not compared.
func Drift(ctx context.Context, conn *pgx.Conn, schemas []string) ([]string, error) {
	tx, err := conn.BeginTx(ctx, pgx.TxOptions{IsoLevel: pgx.RepeatableRead, AccessMode: pgx.ReadOnly})
	if err != nil {
		return nil, err
	}
	defer func() { _ = tx.Rollback(context.WithoutCancel(ctx)) }()
	var exists bool
	if err := tx.QueryRow(ctx, `SELECT to_regclass($1) IS NOT NULL`, objectsTable).Scan(&exists); err != nil || !exists {
		return nil, err
	}
	if _, err := tx.Exec(ctx, `SELECT pg_catalog.set_config('search_path', '', true)`); err != nil {
		return nil, err
	}
	type key struct{ schema, kind, identity string }
	read := func(sql string) (map[key]string, error) {
		rows, err := tx.Query(ctx, sql, schemas)
		if err != nil {
			return nil, err
		}
		defer rows.Close()
		out := map[key]string{}
		for rows.Next() {
			var k key
			var digest string
			if err := rows.Scan(&k.schema, &k.kind, &k.identity, &digest); err != nil {
				return nil, err
			}
			out[k] = digest
		}
		return out, rows.Err()
	}
	recorded, err := read(`SELECT schema_name, kind, identity, digest FROM ` + objectsTable + ` WHERE schema_name = ANY ($1::text[])`)
	if err != nil {
		return nil, fmt.Errorf("pgclone: reading the copy's recorded objects: %w", err)
	}
	now, err := read(objectsQuery)
	if err != nil {
		return nil, fmt.Errorf("pgclone: reading the target's objects: %w", err)
	}
	compared := map[string]bool{}
	for k := range recorded {
		compared[k.schema] = true
	}
	var out []string
	describe := func(what string, k key) string {
		return fmt.Sprintf("%s %s %s in schema %s", what, k.kind, k.identity, displayPart(k.schema))
	}
	for k, d := range now {
		if !compared[k.schema] {
			continue
		}
		switch r, ok := recorded[k]; {
		case !ok:
			out = append(out, describe("added", k))
		case r != d:
			out = append(out, describe("changed", k))
		}
	}
	for k := range recorded {
		if _, ok := now[k]; !ok {
			out = append(out, describe("dropped", k))
		}
	}
	slices.Sort(out)
	return out, nil
}
