package pgclone

import (
	"context"
	"errors"
	"strings"
	"testing"

	"github.com/stagingkit/terraform-provider-staging/internal/masking"
	"github.com/stagingkit/terraform-provider-staging/internal/pgtest"
)

// TestAnalyze_notCopiedAndUnreproducible: what is never copied by design
// is listed with its reason; a C function and a column referencing large
// objects are problems, each with its way out (exclude_objects, a null
// rule), after which the copy goes through and lists what it left out.
func TestAnalyze_notCopiedAndUnreproducible(t *testing.T) {
	ctx := context.Background()
	cluster := pgtest.Require(t)
	prod := cluster.NewDatabase(t)
	pgtest.Exec(t, prod,
		`CREATE TABLE docs (id int PRIMARY KEY, body oid, title text NOT NULL)`,
		`INSERT INTO docs SELECT g, lo_from_bytea(0, 'secret contract'), 'Doc ' || g FROM generate_series(1, 3) g`,
		`CREATE FUNCTION c_validator(oid) RETURNS void LANGUAGE c AS '$libdir/plpgsql', 'plpgsql_validator'`,
		`CREATE PUBLICATION docs_pub FOR TABLE docs`,
		`CREATE FUNCTION on_ddl() RETURNS event_trigger LANGUAGE plpgsql AS $$ BEGIN END $$`,
		`CREATE EVENT TRIGGER audit_ddl ON ddl_command_end EXECUTE FUNCTION on_ddl()`,
		`CREATE EXTENSION postgres_fdw`,
		`CREATE SERVER other_db FOREIGN DATA WRAPPER postgres_fdw OPTIONS (dbname 'other')`,
		`CREATE USER MAPPING FOR CURRENT_USER SERVER other_db OPTIONS (user 'x', password 'not-copied')`,
		`CREATE FOREIGN TABLE remote_docs (id int) SERVER other_db`,
		`CREATE STATISTICS docs_stats ON id, title FROM docs`,
		`CREATE FUNCTION text_eq_ci(text, text) RETURNS bool LANGUAGE sql IMMUTABLE AS $$ SELECT lower($1) = lower($2) $$`,
		`CREATE OPERATOR === (LEFTARG = text, RIGHTARG = text, FUNCTION = text_eq_ci, COMMUTATOR = ===)`,
		`CREATE COLLATION ci (provider = icu, locale = 'und-u-ks-level2', deterministic = false)`,
		`ALTER TABLE docs ADD COLUMN tag text COLLATE ci`,
		`CREATE TYPE mood AS ENUM ('calm', 'angry')`,
		`CREATE FUNCTION mood_level(mood) RETURNS int LANGUAGE sql IMMUTABLE AS $$ SELECT CASE $1 WHEN 'calm' THEN 0 ELSE 1 END $$`,
		`CREATE CAST (mood AS int) WITH FUNCTION mood_level(mood) AS ASSIGNMENT`,
		`CREATE VIEW loud_docs AS SELECT id FROM docs WHERE title === 'DOC 1'`,
	)
	staging := cluster.NewDatabase(t)
	opts := Options{Key: testKey(t, "notcopied"), Parallelism: 1}

	_, err := Clone(ctx, sourceConfig(t, prod), mustConfig(t, staging), opts)
	var pe *ProblemsError
	if !errors.As(err, &pe) {
		t.Fatalf("Clone: %v, want *ProblemsError", err)
	}
	kinds := map[string]string{}
	for _, p := range pe.Problems {
		kinds[p.Kind] = p.Table + "." + p.Column + ": " + p.Detail
	}
	if d := kinds[ProblemUnreproducible]; !strings.Contains(d, "public.c_validator") || !strings.Contains(d, `exclude_objects = ["public.c_validator"]`) {
		t.Errorf("unreproducible problem = %q", d)
	}
	if d := kinds[ProblemLargeObjects]; !strings.HasPrefix(d, "public.docs.body:") || !strings.Contains(d, `transformer "null"`) {
		t.Errorf("large objects problem = %q", d)
	}

	opts.ExcludeObjects = []string{"public.c_validator"}
	opts.Rules = []ColumnRule{{Table: "docs", Column: "body", Spec: masking.Spec{Transformer: "null"}}}
	res, err := Clone(ctx, sourceConfig(t, prod), mustConfig(t, staging), opts)
	if err != nil {
		t.Fatal(err)
	}
	var notCopied []string
	for _, n := range res.NotCopied {
		notCopied = append(notCopied, n.Kind+" "+n.Name)
		if n.Reason == "" {
			t.Errorf("%s %s: no reason", n.Kind, n.Name)
		}
	}
	if got, want := strings.Join(notCopied, ", "), "event_trigger audit_ddl, foreign_server other_db, foreign_table public.remote_docs, publication docs_pub, user_mapping other_db for postgres"; got != want {
		t.Errorf("NotCopied = %s\nwant       %s", got, want)
	}
	if s := strings.Join(res.Skipped, "\n"); !strings.Contains(s, "function public.c_validator: excluded by exclude_objects") {
		t.Errorf("Skipped = %s", s)
	}
	dst := dial(t, staging)
	// Operators, collations, casts and extended statistics are copied.
	sameCatalog(t, dial(t, prod), dst, map[string][]string{
		"function": {"c_validator"}, "relation": {"remote_docs"}, "column": {"remote_docs"},
		"trigger": {"audit_ddl"}, "comment": {"remote_docs"},
	}, "public")
	if got := queryString(t, dst, `SELECT count(*)::text FROM loud_docs`); got != "1" {
		t.Errorf("the view using operator === sees %s rows, want 1", got)
	}
	if got := queryString(t, dst, `SELECT 'angry'::mood::int::text`); got != "1" {
		t.Errorf("the cast gives %s", got)
	}
	if got := queryString(t, dst, `SELECT count(*)::text || '/' || count(body)::text FROM docs`); got != "3/0" {
		t.Errorf("docs in staging (rows/bodies) = %s, want 3/0", got)
	}
	if got := queryString(t, dst, `SELECT count(*)::text FROM pg_largeobject_metadata`); got != "0" {
		t.Errorf("%s large objects in staging", got)
	}
}

func TestMissingExtensions(t *testing.T) {
	conn := dial(t, pgtest.Require(t).NewDatabase(t))
	got, err := MissingExtensions(context.Background(), conn, []string{"citext", "no_such_extension", "pgcrypto"})
	if err != nil || len(got) != 1 || got[0] != "no_such_extension" {
		t.Errorf("MissingExtensions = %v, %v; want [no_such_extension]", got, err)
	}
}
