// Package pgclone reads PostgreSQL catalogs: the live facts of a database
// that parity checks compare between production and staging, and (in later
// releases) the schema and data that a masked clone copies.
package pgclone

import (
	"context"
	"crypto/sha256"
	"encoding/hex"
	"fmt"
	"sort"
	"strings"

	"github.com/jackc/pgx/v5"
)

// Querier is what the catalog reader needs: a connection or, for one
// consistent snapshot, a transaction.
type Querier interface {
	Query(ctx context.Context, sql string, args ...any) (pgx.Rows, error)
	QueryRow(ctx context.Context, sql string, args ...any) pgx.Row
}

// Fingerprint holds the facts of one database that should match between
// production and staging.
type Fingerprint struct {
	ServerVersion    string            // e.g. "15.18"
	ServerVersionNum int               // e.g. 150018
	Encoding         string            // e.g. "UTF8"
	Collation        string            // LC_COLLATE of the database
	CType            string            // LC_CTYPE of the database
	TimeZone         string            // the session's TimeZone setting
	Extensions       map[string]string // installed extension -> version
	Settings         map[string]string // selected server settings
	// Tables maps "schema.table" (tables, partitioned tables, views,
	// materialized views, foreign tables) to a digest of its columns,
	// types, defaults, identity and generated columns, constraints, indexes
	// and, for views, definition.
	Tables map[string]string
	// SchemaDigest covers every table digest plus enum types and sequences:
	// equal digests mean equal schemas.
	SchemaDigest string
}

// DefaultSettings are the server settings a fingerprint includes when the
// caller names none: those that change how queries behave, not how big the
// server is.
var DefaultSettings = []string{
	"DateStyle", "IntervalStyle", "TimeZone", "default_transaction_isolation",
	"standard_conforming_strings", "search_path", "lc_messages", "lc_monetary", "lc_numeric", "lc_time",
}

// FingerprintOptions choose what to read.
type FingerprintOptions struct {
	// Schemas to digest; empty means every schema but the system ones.
	Schemas []string
	// Settings to include; nil means DefaultSettings.
	Settings []string
}

// digestLength is how many hex digits of SHA-256 a table digest keeps: 96
// bits, plenty to tell schemas apart, short enough to read in a plan.
const digestLength = 24

// ReadFingerprint reads the fingerprint of the database q is connected to.
// Run it inside one REPEATABLE READ transaction to get one snapshot.
func ReadFingerprint(ctx context.Context, q Querier, opts FingerprintOptions) (Fingerprint, error) {
	var fp Fingerprint
	err := q.QueryRow(ctx, `
		SELECT current_setting('server_version'), current_setting('server_version_num')::int,
		       pg_encoding_to_char(d.encoding), d.datcollate, d.datctype, current_setting('TimeZone')
		FROM pg_database d WHERE d.datname = current_database()`).
		Scan(&fp.ServerVersion, &fp.ServerVersionNum, &fp.Encoding, &fp.Collation, &fp.CType, &fp.TimeZone)
	if err != nil {
		return Fingerprint{}, fmt.Errorf("reading server facts: %w", err)
	}
	// "15.18 (Debian 15.18-0+deb12u1)" -> "15.18"
	if i := strings.IndexByte(fp.ServerVersion, ' '); i > 0 {
		fp.ServerVersion = fp.ServerVersion[:i]
	}
	if fp.Extensions, err = stringMap(ctx, q, `SELECT extname, extversion FROM pg_extension`); err != nil {
		return Fingerprint{}, fmt.Errorf("reading extensions: %w", err)
	}
	settings := opts.Settings
	if settings == nil {
		settings = DefaultSettings
	}
	if fp.Settings, err = stringMap(ctx, q, `SELECT name, setting FROM pg_settings WHERE lower(name) = ANY($1)`, lowerAll(settings)); err != nil {
		return Fingerprint{}, fmt.Errorf("reading settings: %w", err)
	}
	if fp.Tables, err = tableDigests(ctx, q, opts.Schemas); err != nil {
		return Fingerprint{}, err
	}
	extra, err := typeAndSequenceLines(ctx, q, opts.Schemas)
	if err != nil {
		return Fingerprint{}, err
	}
	lines := make([]string, 0, len(fp.Tables)+len(extra))
	for name, d := range fp.Tables {
		lines = append(lines, "table "+name+" "+d)
	}
	lines = append(lines, extra...)
	fp.SchemaDigest = digest(lines)
	return fp, nil
}

func lowerAll(in []string) []string {
	out := make([]string, len(in))
	for i, s := range in {
		out[i] = strings.ToLower(s)
	}
	return out
}

// digest hashes lines in sorted order.
func digest(lines []string) string {
	sort.Strings(lines)
	h := sha256.New()
	for _, l := range lines {
		h.Write([]byte(l))
		h.Write([]byte{'\n'})
	}
	return hex.EncodeToString(h.Sum(nil))[:digestLength]
}

func stringMap(ctx context.Context, q Querier, sql string, args ...any) (map[string]string, error) {
	rows, err := q.Query(ctx, sql, args...)
	if err != nil {
		return nil, err
	}
	out := map[string]string{}
	for rows.Next() {
		var k, v string
		if err := rows.Scan(&k, &v); err != nil {
			rows.Close()
			return nil, err
		}
		out[k] = v
	}
	return out, rows.Err()
}

// schemaFilter is the WHERE clause on a namespace alias n that keeps the
// requested schemas, or all non-system ones (the owner catalog of clone
// targets, CatalogSchema, counts as one); its argument is $1.
const schemaFilter = `(cardinality($1::text[]) = 0 AND n.nspname NOT IN ('pg_catalog', 'information_schema', '` + CatalogSchema + `')
	AND n.nspname NOT LIKE 'pg\_toast%' AND n.nspname NOT LIKE 'pg\_temp\_%') OR n.nspname = ANY($1::text[])`

// tableDigests digests every relation of the chosen schemas.
func tableDigests(ctx context.Context, q Querier, schemas []string) (map[string]string, error) {
	if schemas == nil {
		schemas = []string{}
	}
	// One line per fact, keyed by the relation; the lines of a relation are
	// hashed together.
	facts := map[string][]string{}
	queries := []struct{ what, sql string }{
		{"relations", `SELECT n.nspname || '.' || c.relname, 'kind ' || c.relkind::text || ' partition ' || c.relispartition::text
			FROM pg_class c JOIN pg_namespace n ON n.oid = c.relnamespace
			WHERE c.relkind IN ('r', 'p', 'v', 'm', 'f') AND (` + schemaFilter + `)`},
		{"columns", `SELECT n.nspname || '.' || c.relname,
				format('column %s %s %s notnull=%s default=%s identity=%s generated=%s collation=%s',
					lpad(a.attnum::text, 5, '0'), quote_ident(a.attname), format_type(a.atttypid, a.atttypmod), a.attnotnull,
					coalesce(pg_get_expr(d.adbin, d.adrelid), ''), a.attidentity, a.attgenerated, coalesce(co.collname, ''))
			FROM pg_attribute a
			JOIN pg_class c ON c.oid = a.attrelid JOIN pg_namespace n ON n.oid = c.relnamespace
			LEFT JOIN pg_attrdef d ON d.adrelid = a.attrelid AND d.adnum = a.attnum
			LEFT JOIN pg_collation co ON co.oid = a.attcollation AND a.attcollation <> 0 AND co.collname <> 'default'
			WHERE a.attnum > 0 AND NOT a.attisdropped AND c.relkind IN ('r', 'p', 'v', 'm', 'f') AND (` + schemaFilter + `)`},
		{"constraints", `SELECT n.nspname || '.' || c.relname, format('constraint %s %s', quote_ident(k.conname), pg_get_constraintdef(k.oid))
			FROM pg_constraint k JOIN pg_class c ON c.oid = k.conrelid JOIN pg_namespace n ON n.oid = c.relnamespace
			WHERE (` + schemaFilter + `)`},
		{"indexes", `SELECT n.nspname || '.' || c.relname, 'index ' || pg_get_indexdef(i.indexrelid)
			FROM pg_index i JOIN pg_class c ON c.oid = i.indrelid JOIN pg_namespace n ON n.oid = c.relnamespace
			WHERE (` + schemaFilter + `)`},
		{"views", `SELECT n.nspname || '.' || c.relname, 'view ' || pg_get_viewdef(c.oid)
			FROM pg_class c JOIN pg_namespace n ON n.oid = c.relnamespace
			WHERE c.relkind IN ('v', 'm') AND (` + schemaFilter + `)`},
	}
	for _, qu := range queries {
		rows, err := q.Query(ctx, qu.sql, schemas)
		if err != nil {
			return nil, fmt.Errorf("reading %s: %w", qu.what, err)
		}
		for rows.Next() {
			var rel, line string
			if err := rows.Scan(&rel, &line); err != nil {
				rows.Close()
				return nil, fmt.Errorf("reading %s: %w", qu.what, err)
			}
			facts[rel] = append(facts[rel], line)
		}
		if err := rows.Err(); err != nil {
			return nil, fmt.Errorf("reading %s: %w", qu.what, err)
		}
	}
	out := make(map[string]string, len(facts))
	for rel, lines := range facts {
		out[rel] = digest(lines)
	}
	return out, nil
}

// typeAndSequenceLines describes enum and domain types and sequences, which
// belong to no table but still make schemas differ.
func typeAndSequenceLines(ctx context.Context, q Querier, schemas []string) ([]string, error) {
	if schemas == nil {
		schemas = []string{}
	}
	sqls := []string{
		`SELECT format('enum %I.%I %s', n.nspname, t.typname, string_agg(quote_literal(e.enumlabel), ',' ORDER BY e.enumsortorder))
			FROM pg_type t JOIN pg_enum e ON e.enumtypid = t.oid JOIN pg_namespace n ON n.oid = t.typnamespace
			WHERE (` + schemaFilter + `) GROUP BY n.nspname, t.typname`,
		`SELECT format('domain %I.%I %s notnull=%s default=%s', n.nspname, t.typname, format_type(t.typbasetype, t.typtypmod), t.typnotnull, coalesce(t.typdefault, ''))
			FROM pg_type t JOIN pg_namespace n ON n.oid = t.typnamespace
			WHERE t.typtype = 'd' AND (` + schemaFilter + `)`,
		`SELECT format('sequence %I.%I %s increment %s', n.nspname, c.relname, format_type(s.seqtypid, NULL), s.seqincrement)
			FROM pg_sequence s JOIN pg_class c ON c.oid = s.seqrelid JOIN pg_namespace n ON n.oid = c.relnamespace
			WHERE (` + schemaFilter + `)`,
	}
	var lines []string
	for _, sql := range sqls {
		rows, err := q.Query(ctx, sql, schemas)
		if err != nil {
			return nil, fmt.Errorf("reading types and sequences: %w", err)
		}
		for rows.Next() {
			var l string
			if err := rows.Scan(&l); err != nil {
				rows.Close()
				return nil, err
			}
			lines = append(lines, l)
		}
		if err := rows.Err(); err != nil {
			return nil, err
		}
	}
	return lines, nil
}
