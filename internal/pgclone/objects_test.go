package pgclone

import (
	"context"
	"errors"
	"fmt"
	"slices"
	"strings"
	"testing"

	"github.com/jackc/pgx/v5"

	"github.com/stagingkit/terraform-provider-staging/internal/masking"
	"github.com/stagingkit/terraform-provider-staging/internal/pgtest"
)

// objectsSchema has every kind of schema object the clone copies besides
// tables, keys and indexes, in small: functions whose bodies say
// `public.x` (the late-binding trap) used by a default, a CHECK, a domain
// CHECK, an expression index, a generated column, a view and a
// materialized view; a user aggregate used in a view; a procedure; a
// BEGIN ATOMIC function; a function with SET search_path; composite and
// range types as column types; triggers (last-updated, audit, a disabled
// one); row-level security with a tenant policy; comments.
var objectsSchema = []string{
	`CREATE TYPE money_amount AS (amount numeric(12, 2), currency char(3))`,
	`CREATE TYPE floatrange AS RANGE (subtype = float8)`,
	`CREATE TABLE codes (code text PRIMARY KEY, valid bool NOT NULL)`,
	`CREATE FUNCTION strip(x text) RETURNS text LANGUAGE sql IMMUTABLE AS $$ SELECT btrim(x) $$`,
	`CREATE FUNCTION norm(x text) RETURNS text LANGUAGE sql IMMUTABLE AS $$ SELECT lower(public.strip(x)) $$`,
	`CREATE FUNCTION valid_code(c text) RETURNS bool LANGUAGE sql STABLE AS $$ SELECT coalesce((SELECT valid FROM public.codes WHERE code = c), false) $$`,
	`CREATE FUNCTION looks_like_code(c text) RETURNS bool LANGUAGE plpgsql IMMUTABLE AS $$ BEGIN RETURN public.strip(c) ~ '^C[0-9]+$'; END $$`,
	`CREATE DOMAIN code_t AS text CONSTRAINT code_shape CHECK (public.looks_like_code(VALUE))`,
	`CREATE SEQUENCE code_seq START 100`,
	`CREATE FUNCTION next_code() RETURNS text LANGUAGE sql AS $$ SELECT 'C' || nextval('public.code_seq') $$`,
	`CREATE FUNCTION has_code(c text) RETURNS bool LANGUAGE plpgsql STABLE SET search_path = public AS $$ BEGIN RETURN EXISTS (SELECT 1 FROM codes WHERE code = c); END $$`,
	`CREATE FUNCTION gc_step(acc text, x text) RETURNS text LANGUAGE sql IMMUTABLE AS $$ SELECT CASE WHEN acc IS NULL THEN x ELSE acc || ',' || x END $$`,
	`CREATE AGGREGATE group_concat(text) (SFUNC = gc_step, STYPE = text)`,
	`CREATE TABLE items (
		id int PRIMARY KEY,
		code code_t NOT NULL DEFAULT public.next_code() CHECK (public.valid_code(code)) CHECK (public.has_code(code)),
		name text NOT NULL,
		name_norm text GENERATED ALWAYS AS (public.norm(name)) STORED,
		price money_amount,
		band floatrange,
		tenant_id int NOT NULL,
		owner_email text,
		updated_at timestamptz NOT NULL DEFAULT '2024-01-01')`,
	`CREATE INDEX items_norm ON items (public.norm(name))`,
	// A domain whose CHECK reads another table: loading scans runs it.
	`CREATE DOMAIN known_code AS text CONSTRAINT known CHECK (public.valid_code(VALUE))`,
	`CREATE TABLE scans (id int PRIMARY KEY, code known_code NOT NULL)`,
	`CREATE TABLE audit (id bigint GENERATED ALWAYS AS IDENTITY PRIMARY KEY, item_id int, what text)`,
	`CREATE FUNCTION item_count() RETURNS bigint LANGUAGE sql STABLE AS $$ SELECT count(*) FROM public.items $$`,
	`CREATE FUNCTION code_count() RETURNS bigint LANGUAGE sql STABLE BEGIN ATOMIC SELECT count(*) FROM public.codes; END`,
	`CREATE PROCEDURE invalidate(c text) LANGUAGE sql AS $$ UPDATE public.codes SET valid = false WHERE code = c $$`,
	`CREATE FUNCTION touch() RETURNS trigger LANGUAGE plpgsql AS $$ BEGIN NEW.updated_at := now(); RETURN NEW; END $$`,
	`CREATE FUNCTION audit_insert() RETURNS trigger LANGUAGE plpgsql AS $$ BEGIN INSERT INTO public.audit (item_id, what) VALUES (NEW.id, 'insert'); RETURN NEW; END $$`,
	`CREATE TRIGGER items_touch BEFORE UPDATE ON items FOR EACH ROW EXECUTE FUNCTION public.touch()`,
	`CREATE TRIGGER items_audit AFTER INSERT ON items FOR EACH ROW EXECUTE FUNCTION public.audit_insert()`,
	`CREATE TRIGGER items_audit_off AFTER DELETE ON items FOR EACH ROW EXECUTE FUNCTION public.audit_insert()`,
	`ALTER TABLE items DISABLE TRIGGER items_audit_off`,
	`CREATE VIEW item_codes AS SELECT tenant_id, group_concat(code ORDER BY code) AS codes FROM items GROUP BY tenant_id`,
	`CREATE MATERIALIZED VIEW item_stats AS SELECT tenant_id, count(*) AS n, public.item_count() AS total, group_concat(name_norm ORDER BY id) AS names
		FROM items GROUP BY tenant_id`,
	`CREATE UNIQUE INDEX item_stats_tenant ON item_stats (tenant_id)`,
	`ALTER TABLE items ENABLE ROW LEVEL SECURITY`,
	`ALTER TABLE items FORCE ROW LEVEL SECURITY`,
	`CREATE POLICY tenant ON items USING (tenant_id = nullif(current_setting('app.tenant', true), '')::int)`,
	`CREATE POLICY everyone_reads_codes ON codes AS RESTRICTIVE FOR SELECT TO PUBLIC USING (valid)`,
	`COMMENT ON TABLE items IS 'Things we sell'`,
	`COMMENT ON COLUMN items.code IS 'Catalog code'`,
	`COMMENT ON FUNCTION norm(text) IS 'Normalized name'`,
	`COMMENT ON AGGREGATE group_concat(text) IS 'Comma-separated'`,
	`COMMENT ON TYPE money_amount IS 'An amount in a currency'`,
	`COMMENT ON MATERIALIZED VIEW item_stats IS 'Per tenant'`,
	`COMMENT ON TRIGGER items_touch ON items IS 'Last updated'`,
	`COMMENT ON POLICY tenant ON items IS 'One tenant at a time'`,
	`COMMENT ON CONSTRAINT code_shape ON DOMAIN code_t IS 'C and digits'`,

	`INSERT INTO codes SELECT 'C' || g, true FROM generate_series(1, 60) g`,
	`INSERT INTO items (id, code, name, price, band, tenant_id, owner_email)
		SELECT g, 'C' || (1 + g % 50), '  Widget ' || g || ' ', ROW(g * 1.5, 'EUR')::money_amount, floatrange(g, g + 0.5), 1 + g % 3,
		       'owner' || g || '@example.com'
		FROM generate_series(1, 300) g`,
	`INSERT INTO scans SELECT g, 'C' || (1 + g % 60) FROM generate_series(1, 500) g`,
	// Inheritance outside partitioning, with a column merged.
	`CREATE TABLE happenings (id int PRIMARY KEY, at date NOT NULL DEFAULT '2024-01-01', note text)`,
	`CREATE TABLE clicks (target text NOT NULL, note text DEFAULT 'click') INHERITS (happenings)`,
	`ALTER TABLE clicks ADD PRIMARY KEY (id)`,
	`INSERT INTO happenings (id, note) VALUES (1, 'opened')`,
	`INSERT INTO clicks (id, target) VALUES (2, 'button')`,
	`REFRESH MATERIALIZED VIEW item_stats`,
}

// objectsRules masks the fixture's personal data.
var objectsRules = []ColumnRule{{Table: "items", Column: "owner_email", Spec: masking.Spec{Transformer: "email"}}}

// catalogDefinitions lists, per kind of object, the definitions of every
// object in schemas as PostgreSQL prints them: two databases with equal
// lists define the same objects. Names of the schemas are printed as they
// are, so a copy made under other schema names differs.
func catalogDefinitions(t testing.TB, conn *pgx.Conn, schemas ...string) map[string][]string {
	t.Helper()
	ctx := context.Background()
	tx, err := conn.Begin(ctx)
	if err != nil {
		t.Fatal(err)
	}
	defer func() { _ = tx.Rollback(ctx) }()
	if _, err := tx.Exec(ctx, `SET LOCAL search_path = ''`); err != nil {
		t.Fatal(err)
	}
	notExt := func(class, oid string) string {
		return fmt.Sprintf("NOT EXISTS (SELECT 1 FROM pg_depend x WHERE x.classid = '%s'::regclass AND x.objid = %s AND x.deptype = 'e')", class, oid)
	}
	queries := map[string]string{
		"relation": `SELECT c.relkind::text || ' ' || n.nspname || '.' || c.relname || ' ' || c.relpersistence::text || ' rls=' || c.relrowsecurity || '/' || c.relforcerowsecurity
			|| ' populated=' || c.relispopulated || coalesce(' ' || pg_get_expr(c.relpartbound, c.oid), '')
			|| coalesce(' view: ' || pg_get_viewdef(c.oid), '')
			|| coalesce(' inherits ' || (SELECT string_agg(p.relname, ',' ORDER BY i.inhseqno) FROM pg_inherits i JOIN pg_class p ON p.oid = i.inhparent WHERE i.inhrelid = c.oid), '')
			FROM pg_class c JOIN pg_namespace n ON n.oid = c.relnamespace
			WHERE n.nspname = ANY ($1) AND c.relkind IN ('r', 'p', 'v', 'm', 'S', 'f') AND ` + notExt("pg_class", "c.oid"),
		"column": `SELECT n.nspname || '.' || c.relname || '.' || a.attname || ' ' || format_type(a.atttypid, a.atttypmod) || ' ' || a.attnotnull
			|| ' ' || a.attidentity::text || a.attgenerated::text || coalesce(' ' || pg_get_expr(d.adbin, d.adrelid), '') || ' #' || a.attnum || ' local=' || a.attislocal::text
			FROM pg_attribute a JOIN pg_class c ON c.oid = a.attrelid JOIN pg_namespace n ON n.oid = c.relnamespace
			LEFT JOIN pg_attrdef d ON d.adrelid = a.attrelid AND d.adnum = a.attnum
			WHERE n.nspname = ANY ($1) AND c.relkind IN ('r', 'p', 'v', 'm', 'c', 'f') AND a.attnum > 0 AND NOT a.attisdropped AND ` + notExt("pg_class", "c.oid"),
		"type": `SELECT t.typtype::text || ' ' || n.nspname || '.' || t.typname || ' ' || format_type(t.typbasetype, t.typtypmod) || ' ' || t.typnotnull || coalesce(' ' || t.typdefault, '')
			|| coalesce(' ' || (SELECT string_agg(e.enumlabel, ',' ORDER BY e.enumsortorder) FROM pg_enum e WHERE e.enumtypid = t.oid), '')
			|| coalesce(' ' || (SELECT format_type(r.rngsubtype, NULL) || ' ' || r.rngsubdiff::regproc::text FROM pg_range r WHERE r.rngtypid = t.oid), '')
			FROM pg_type t JOIN pg_namespace n ON n.oid = t.typnamespace
			WHERE n.nspname = ANY ($1) AND t.typtype IN ('e', 'd', 'r', 'm', 'c') AND ` + notExt("pg_type", "t.oid") + `
			  AND (t.typrelid = 0 OR (SELECT relkind FROM pg_class WHERE oid = t.typrelid) = 'c')`,
		"function": `SELECT CASE WHEN p.prokind = 'a' THEN 'aggregate ' || p.oid::regprocedure::text || ' ' || a.aggtransfn::regproc::text || ' ' || format_type(a.aggtranstype, NULL)
			  || ' ' || a.aggfinalfn::regproc::text || coalesce(' ' || a.agginitval, '') ELSE pg_get_functiondef(p.oid) END
			FROM pg_proc p JOIN pg_namespace n ON n.oid = p.pronamespace LEFT JOIN pg_aggregate a ON a.aggfnoid = p.oid
			WHERE n.nspname = ANY ($1) AND ` + notExt("pg_proc", "p.oid"),
		"constraint": `SELECT coalesce(n.nspname || '.' || c.relname, tn.nspname || '.' || t.typname) || ' ' || k.conname || ' ' || k.contype::text || ' ' || pg_get_constraintdef(k.oid)
			|| ' valid=' || k.convalidated
			FROM pg_constraint k LEFT JOIN pg_class c ON c.oid = k.conrelid LEFT JOIN pg_namespace n ON n.oid = c.relnamespace
			LEFT JOIN pg_type t ON t.oid = k.contypid LEFT JOIN pg_namespace tn ON tn.oid = t.typnamespace
			WHERE coalesce(n.nspname, tn.nspname) = ANY ($1)`,
		"index": `SELECT pg_get_indexdef(i.indexrelid) || ' valid=' || i.indisvalid FROM pg_index i JOIN pg_class c ON c.oid = i.indexrelid
			JOIN pg_namespace n ON n.oid = c.relnamespace WHERE n.nspname = ANY ($1)`,
		"trigger": `SELECT pg_get_triggerdef(t.oid) || ' ' || t.tgenabled::text FROM pg_trigger t JOIN pg_class c ON c.oid = t.tgrelid
			JOIN pg_namespace n ON n.oid = c.relnamespace WHERE n.nspname = ANY ($1) AND NOT t.tgisinternal`,
		"policy": `SELECT schemaname || '.' || tablename || ' ' || policyname || ' ' || permissive || ' ' || roles::text || ' ' || cmd
			|| ' ' || coalesce(qual, '') || ' ' || coalesce(with_check, '') FROM pg_policies WHERE schemaname = ANY ($1)`,
		"comment": `SELECT o.type || ' ' || o.identity || ': ' || d.description
			FROM pg_description d CROSS JOIN LATERAL pg_identify_object(d.classoid, d.objoid, d.objsubid) o
			WHERE (o.schema = ANY ($1) OR d.classoid = 'pg_namespace'::regclass AND o.identity = ANY ($1)
			       OR d.classoid = 'pg_trigger'::regclass AND (SELECT n.nspname FROM pg_trigger x JOIN pg_class c ON c.oid = x.tgrelid JOIN pg_namespace n ON n.oid = c.relnamespace WHERE x.oid = d.objoid) = ANY ($1)
			       OR d.classoid = 'pg_policy'::regclass AND (SELECT n.nspname FROM pg_policy x JOIN pg_class c ON c.oid = x.polrelid JOIN pg_namespace n ON n.oid = c.relnamespace WHERE x.oid = d.objoid) = ANY ($1))
			  AND NOT EXISTS (SELECT 1 FROM pg_depend x WHERE x.classid = d.classoid AND x.objid = d.objoid AND x.deptype = 'e')`,
		"operator": `SELECT o.oid::regoperator::text || ' ' || o.oprcode::regproc::text || ' ' || o.oprcom::regoperator::text || ' ' || o.oprcanhash::text
			FROM pg_operator o JOIN pg_namespace n ON n.oid = o.oprnamespace WHERE n.nspname = ANY ($1) AND ` + notExt("pg_operator", "o.oid"),
		"cast": `SELECT format_type(c.castsource, NULL) || ' AS ' || format_type(c.casttarget, NULL) || ' ' || c.castfunc::regprocedure::text || ' ' || c.castcontext::text
			FROM pg_cast c WHERE c.oid >= 16384 AND $1::text[] IS NOT NULL AND ` + notExt("pg_cast", "c.oid"),
		"collation": `SELECT n.nspname || '.' || co.collname || ' ' || co.collprovider::text || ' ' || co.collisdeterministic::text || ' ' || coalesce(co.colliculocale, co.collcollate)
			FROM pg_collation co JOIN pg_namespace n ON n.oid = co.collnamespace WHERE n.nspname = ANY ($1) AND ` + notExt("pg_collation", "co.oid"),
		"statistics": `SELECT pg_get_statisticsobjdef(s.oid) FROM pg_statistic_ext s JOIN pg_namespace n ON n.oid = s.stxnamespace WHERE n.nspname = ANY ($1)`,
		"sequence": `SELECT n.nspname || '.' || c.relname || ' ' || format_type(s.seqtypid, NULL) || ' ' || s.seqstart || ' ' || s.seqincrement
			FROM pg_sequence s JOIN pg_class c ON c.oid = s.seqrelid JOIN pg_namespace n ON n.oid = c.relnamespace WHERE n.nspname = ANY ($1)`,
	}
	out := map[string][]string{}
	for kind, q := range queries {
		rows, err := tx.Query(ctx, q, schemas)
		if err != nil {
			t.Fatalf("%s: %v", kind, err)
		}
		defs, err := pgx.CollectRows(rows, pgx.RowTo[string])
		if err != nil {
			t.Fatalf("%s: %v", kind, err)
		}
		slices.Sort(defs)
		out[kind] = defs
	}
	return out
}

// sameCatalog fails the test where production and staging define other
// objects in schemas; except drops, per kind, the definitions containing
// one of its strings from both sides (the documented differences).
func sameCatalog(t testing.TB, prod, staging *pgx.Conn, except map[string][]string, schemas ...string) {
	t.Helper()
	a, b := catalogDefinitions(t, prod, schemas...), catalogDefinitions(t, staging, schemas...)
	keep := func(kind string, defs []string) []string {
		return slices.DeleteFunc(slices.Clone(defs), func(d string) bool {
			return slices.ContainsFunc(except[kind], func(e string) bool { return strings.Contains(d, e) })
		})
	}
	for _, kind := range slices.Sorted(func(yield func(string) bool) {
		for k := range a {
			if !yield(k) {
				return
			}
		}
	}) {
		pa, pb := keep(kind, a[kind]), keep(kind, b[kind])
		for _, d := range pa {
			if !slices.Contains(pb, d) {
				t.Errorf("%s in production, missing or different in staging:\n%s", kind, d)
			}
		}
		for _, d := range pb {
			if !slices.Contains(pa, d) {
				t.Errorf("%s in staging, not in production:\n%s", kind, d)
			}
		}
	}
}

// TestClone_schemaObjects: every kind of object of objectsSchema is
// copied; code that runs during the build (CHECKs, a domain CHECK, an
// expression index, a generated column, a materialized view refresh) reads
// the new copy although function bodies say public.x; staging's
// functions are production's text; triggers fire in staging, RLS filters.
func TestClone_schemaObjects(t *testing.T) {
	ctx := context.Background()
	cluster := pgtest.Require(t)
	prod := cluster.NewDatabase(t)
	pgtest.Exec(t, prod, objectsSchema...)
	staging := cluster.NewDatabase(t)
	src, dst := dial(t, prod), dial(t, staging)
	// One worker copies the biggest table first: scans, whose domain
	// CHECK reads codes. Tables whose load runs user code wait for the
	// others, or the CHECK would see codes empty.
	opts := Options{Rules: objectsRules, Key: testKey(t, "objects"), Parallelism: 1}

	res, err := Clone(ctx, sourceConfig(t, prod), mustConfig(t, staging), opts)
	if err != nil {
		t.Fatal(err)
	}
	sameCatalog(t, src, dst, nil, "public")
	for kind, want := range map[string]int{KindFunction: 11, KindProcedure: 1, KindAggregate: 1, KindCompositeType: 1, KindRangeType: 1,
		KindDomain: 2, KindTrigger: 3, KindPolicy: 2, KindMaterializedView: 1, KindView: 1, KindComment: 10, KindRowSecurity: 1} {
		if res.Objects[kind] != want {
			t.Errorf("Objects[%s] = %d, want %d (all: %v)", kind, res.Objects[kind], want, res.Objects)
		}
	}
	if len(res.Skipped) > 0 {
		t.Errorf("skipped: %v", res.Skipped)
	}

	// Inheritance: the child's rows are its own, and reached through the parent.
	if got := queryString(t, dst, `SELECT (SELECT count(*) FROM happenings)::text || '/' || (SELECT count(*) FROM ONLY happenings)::text || '/' || (SELECT note FROM clicks)`); got != "2/1/click" {
		t.Errorf("happenings/only/clicks.note = %s, want 2/1/click", got)
	}

	// The materialized view was refreshed from the masked copy.
	if got, want := queryString(t, dst, `SELECT sum(n)::text || '/' || min(total)::text FROM item_stats`), "300/300"; got != want {
		t.Errorf("item_stats = %s, want %s", got, want)
	}

	// Triggers fire in staging, with their enabled state.
	pgtest.Exec(t, staging, `SET app.tenant = '1'`,
		`INSERT INTO items (id, code, name, tenant_id) VALUES (1000, 'C5', 'new', 1)`,
		`UPDATE items SET name = 'renamed' WHERE id = 1000`,
		`DELETE FROM items WHERE id = 1000`)
	if got := queryString(t, dst, `SELECT string_agg(what, ',') FROM audit WHERE item_id = 1000`); got != "insert" {
		t.Errorf("audit rows for item 1000 = %s, want insert (the delete trigger is disabled)", got)
	}

	// Row-level security filters a role that reads the table.
	pgtest.Exec(t, staging, `DO $$ BEGIN
		IF NOT EXISTS (SELECT 1 FROM pg_roles WHERE rolname = 'objects_tenant_app') THEN CREATE ROLE objects_tenant_app; END IF;
	END $$`, `GRANT SELECT ON items TO objects_tenant_app`)
	tenantRows := func(tenant string) string {
		t.Helper()
		tx, err := dst.Begin(ctx)
		if err != nil {
			t.Fatal(err)
		}
		defer func() { _ = tx.Rollback(ctx) }()
		var n string
		if err := tx.QueryRow(ctx, `SELECT set_config('app.tenant', $1, true), set_config('role', 'objects_tenant_app', true)`, tenant).Scan(new(string), new(string)); err != nil {
			t.Fatal(err)
		}
		if err := tx.QueryRow(ctx, `SELECT count(*)::text FROM items`).Scan(&n); err != nil {
			t.Fatal(err)
		}
		return n
	}
	if a, b := tenantRows("2"), tenantRows(""); a != "100" || b != "0" {
		t.Errorf("tenant 2 sees %s rows, no tenant %s; want 100 and 0", a, b)
	}

	// A second copy, after production changed: CHECKs that read codes,
	// the refresh and the generated column all see the new copy. Had
	// they read the live schema (the previous copy), the new code would
	// fail valid_code and the counts would be the old ones.
	pgtest.Exec(t, prod, `INSERT INTO codes VALUES ('C900', true)`,
		`INSERT INTO items (id, code, name, tenant_id) SELECT g, 'C900', ' Gadget ' || g, 1 FROM generate_series(301, 330) g`,
		`REFRESH MATERIALIZED VIEW item_stats`)
	if _, err := Clone(ctx, sourceConfig(t, prod), mustConfig(t, staging), opts); err != nil {
		t.Fatal(err)
	}
	sameCatalog(t, src, dst, nil, "public")
	if got, want := queryString(t, dst, `SELECT sum(n)::text || '/' || min(total)::text FROM item_stats`), "330/330"; got != want {
		t.Errorf("item_stats after the re-copy = %s, want %s (read from the previous copy?)", got, want)
	}
	if got := queryString(t, dst, `SELECT name_norm FROM items WHERE id = 301`); got != "gadget 301" {
		t.Errorf("generated name_norm = %q", got)
	}
}

// ticketsSchema adds an enum, a tsvector that a trigger derives from a
// personal text column, and bytea, to the customers of partitionSchema.
var ticketsSchema = []string{
	`CREATE TYPE ticket_state AS ENUM ('open', 'closed')`,
	`CREATE TABLE tickets (id int PRIMARY KEY, customer_id int REFERENCES customers, state ticket_state NOT NULL DEFAULT 'open',
		body text NOT NULL, body_tsv tsvector, attachment bytea)`,
	`CREATE FUNCTION tickets_tsv() RETURNS trigger LANGUAGE plpgsql AS $$ BEGIN NEW.body_tsv := to_tsvector('simple', NEW.body); RETURN NEW; END $$`,
	`CREATE TRIGGER tickets_tsv BEFORE INSERT OR UPDATE ON tickets FOR EACH ROW EXECUTE FUNCTION public.tickets_tsv()`,
	`INSERT INTO tickets SELECT g, 1 + g % 200, 'open', 'Please call me back, I am cust' || g || ' and my mail is cust' || g || '@example.com', NULL, decode('00ff', 'hex')
		FROM generate_series(1, 100) g`,
}

var ticketsRules = []ColumnRule{
	{Table: "tickets", Column: "body", Spec: masking.Spec{Transformer: "text_scramble"}},
	{Table: "tickets", Column: "attachment", Spec: masking.Spec{Transformer: "null"}},
	{Table: "tickets", Column: "body_tsv", Spec: masking.Spec{Transformer: "null"}},
}

// TestClone_everyKind clones a fixture with every kind of object the clone
// copies (objectsSchema, partitionSchema, ticketsSchema) whole and as a
// subset, with rules on every personal column, and proves with the generic
// catalog comparison that staging defines the same objects as production,
// that every foreign key holds, and that a derived tsvector without a rule
// is refused.
func TestClone_everyKind(t *testing.T) {
	ctx := context.Background()
	cluster := pgtest.Require(t)
	prod := cluster.NewDatabase(t)
	pgtest.Exec(t, prod, slices.Concat(objectsSchema, partitionSchema, ticketsSchema)...)
	src := dial(t, prod)
	rules := slices.Concat(objectsRules, partitionRules, ticketsRules)

	// Without a rule, the derived tsvector is refused.
	_, err := Clone(ctx, sourceConfig(t, prod), mustConfig(t, cluster.NewDatabase(t)),
		Options{Rules: slices.Concat(objectsRules, partitionRules, ticketsRules[:2]), Key: testKey(t, "every"), Parallelism: 2})
	var pe *ProblemsError
	if !errors.As(err, &pe) || len(pe.Problems) != 1 || pe.Problems[0].Kind != ProblemDerivedData || pe.Problems[0].Column != "body_tsv" {
		t.Fatalf("without a rule on tickets.body_tsv: %v", err)
	}

	for name, subset := range map[string]SubsetOptions{
		"whole":  {},
		"subset": {Subsets: []Subset{{Table: "customers", Percent: 40}}, NullDangling: true, Seed: "every"},
	} {
		t.Run(name, func(t *testing.T) {
			staging := cluster.NewDatabase(t)
			res, err := Clone(ctx, sourceConfig(t, prod), mustConfig(t, staging), Options{Rules: rules, Key: testKey(t, "every"), Parallelism: 2, Subset: subset})
			if err != nil {
				t.Fatal(err)
			}
			dst := dial(t, staging)
			sameCatalog(t, src, dst, nil, "public")
			if n := queryString(t, dst, `SELECT count(*)::text FROM pg_constraint WHERE contype = 'f' AND NOT convalidated`); n != "0" {
				t.Errorf("%s foreign keys not validated", n)
			}
			if len(res.Skipped) > 0 {
				t.Errorf("skipped: %v", res.Skipped)
			}
			if n := queryString(t, dst, `SELECT count(*)::text FROM tickets WHERE body LIKE '%@example.com%' OR body_tsv IS NOT NULL`); n != "0" {
				t.Errorf("%s tickets still hold production words", n)
			}
			t.Logf("%s: %d tables, objects %v", name, len(res.Tables), res.Objects)
		})
	}
}

// TestDrift: after a copy nothing has drifted; a trigger dropped, an index
// added and a function changed in staging by hand are each named.
func TestDrift(t *testing.T) {
	ctx := context.Background()
	cluster := pgtest.Require(t)
	prod := cluster.NewDatabase(t)
	pgtest.Exec(t, prod, objectsSchema...)
	staging := cluster.NewDatabase(t)
	if _, err := Clone(ctx, sourceConfig(t, prod), mustConfig(t, staging), Options{Rules: objectsRules, Key: testKey(t, "drift"), Parallelism: 2}); err != nil {
		t.Fatal(err)
	}
	dst := dial(t, staging)
	drift, err := Drift(ctx, dst, []string{"public"})
	if err != nil || len(drift) != 0 {
		t.Fatalf("drift right after the copy = %q, %v", drift, err)
	}
	pgtest.Exec(t, staging, `DROP TRIGGER items_touch ON items`, `CREATE INDEX items_tenant ON items (tenant_id)`,
		`CREATE OR REPLACE FUNCTION norm(x text) RETURNS text LANGUAGE sql IMMUTABLE AS $$ SELECT upper(x) $$`)
	drift, err = Drift(ctx, dst, []string{"public"})
	want := []string{"added relation i items_tenant in schema public", "changed function norm(x text) in schema public", "dropped trigger items_touch on items in schema public"}
	if err != nil || !slices.Equal(drift, want) {
		t.Errorf("drift = %q, %v\nwant    %q", drift, err, want)
	}
}

// TestClone_roleMap: grants and policy roles follow role_map; those whose
// role does not exist in the target are left out and listed.
func TestClone_roleMap(t *testing.T) {
	ctx := context.Background()
	cluster := pgtest.Require(t)
	prod := cluster.NewDatabase(t)
	pgtest.Exec(t, prod, `DO $$ BEGIN
			IF NOT EXISTS (SELECT 1 FROM pg_roles WHERE rolname = 'rm_prod app') THEN CREATE ROLE "rm_prod app"; END IF;
			IF NOT EXISTS (SELECT 1 FROM pg_roles WHERE rolname = 'rm_stg_app') THEN CREATE ROLE rm_stg_app; END IF;
			IF NOT EXISTS (SELECT 1 FROM pg_roles WHERE rolname = 'rm_auditor') THEN CREATE ROLE rm_auditor; END IF;
		END $$`,
		`CREATE TABLE notes (id int PRIMARY KEY, tenant int NOT NULL)`,
		`GRANT SELECT, UPDATE ON notes TO "rm_prod app"`,
		`GRANT SELECT ON notes TO rm_auditor WITH GRANT OPTION`,
		`ALTER TABLE notes ENABLE ROW LEVEL SECURITY`,
		`CREATE POLICY app ON notes TO "rm_prod app" USING (tenant = 1)`,
		`CREATE POLICY audit ON notes FOR SELECT TO rm_auditor USING (true)`)
	staging := cluster.NewDatabase(t)
	opts := Options{Key: testKey(t, "roles"), Parallelism: 1, RoleMap: map[string]string{"rm_prod app": "rm_stg_app", "rm_auditor": "rm_no_such_role"}}
	// At plan time: the roles grants and policies name, after the map,
	// and those the target lacks.
	src := dial(t, prod)
	tx, err := src.BeginTx(ctx, pgx.TxOptions{IsoLevel: pgx.RepeatableRead, AccessMode: pgx.ReadOnly})
	if err != nil {
		t.Fatal(err)
	}
	a, err := Analyze(ctx, tx, opts)
	_ = tx.Rollback(ctx)
	if err != nil || !slices.Equal(a.Roles, []string{"rm_no_such_role", "rm_stg_app"}) {
		t.Errorf("Analysis.Roles = %q, %v", a.Roles, err)
	}
	if missing, err := MissingRoles(ctx, dial(t, staging), a.Roles); err != nil || !slices.Equal(missing, []string{"rm_no_such_role"}) {
		t.Errorf("MissingRoles = %q, %v", missing, err)
	}
	res, err := Clone(ctx, sourceConfig(t, prod), mustConfig(t, staging), opts)
	if err != nil {
		t.Fatal(err)
	}
	dst := dial(t, staging)
	if got := queryString(t, dst, `SELECT string_agg(grantee || ':' || privilege_type, ',' ORDER BY grantee, privilege_type) FROM information_schema.role_table_grants
		WHERE table_name = 'notes' AND grantee LIKE 'rm\_%'`); got != "rm_stg_app:SELECT,rm_stg_app:UPDATE" {
		t.Errorf("grants on notes in staging = %s", got)
	}
	if got := queryString(t, dst, `SELECT string_agg(policyname || ':' || roles::text, ',' ORDER BY policyname) FROM pg_policies WHERE tablename = 'notes'`); got != "app:{rm_stg_app}" {
		t.Errorf("policies in staging = %s", got)
	}
	skipped := strings.Join(res.Skipped, "\n")
	for _, want := range []string{"grant of SELECT on TABLE public.notes to rm_no_such_role: the role does not exist in the target",
		"policy audit on public.notes: its roles (rm_no_such_role) do not exist in the target"} {
		if !strings.Contains(skipped, want) {
			t.Errorf("skipped = %s\nwant %s", skipped, want)
		}
	}
}
