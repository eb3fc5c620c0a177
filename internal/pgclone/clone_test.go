package pgclone

import (
	"context"
	"errors"
	"fmt"
	"net/url"
	"sort"
	"strings"
	"sync"
	"sync/atomic"
	"testing"
	"time"

	"github.com/jackc/pgx/v5"

	"github.com/stagingkit/terraform-provider-staging/internal/masking"
	"github.com/stagingkit/terraform-provider-staging/internal/pgtest"
)

// prodSchema has personal data everywhere and most kinds of catalog
// objects: an extension type, enums, a domain, identity, serial and
// generated columns, a standalone sequence, FK chains, a composite FK, a
// self-reference, a cycle, jsonb with embedded e-mails, arrays, bytea, a
// range-partitioned table, views on views and a second schema.
var prodSchema = []string{
	`CREATE EXTENSION citext`,
	`CREATE TYPE tier AS ENUM ('bronze', 'silver', 'gold')`,
	`CREATE TYPE order_status AS ENUM ('new', 'paid', 'shipped')`,
	`CREATE DOMAIN postal_code AS text CONSTRAINT postal_digits CHECK (VALUE ~ '^[0-9]{5}$')`,
	`CREATE SEQUENCE invoice_numbers START 1000`,
	`CREATE TABLE customers (
		id bigint GENERATED ALWAYS AS IDENTITY PRIMARY KEY,
		email citext NOT NULL UNIQUE,
		phone text,
		first_name text NOT NULL,
		last_name text NOT NULL,
		full_name text GENERATED ALWAYS AS (first_name || ' ' || last_name) STORED,
		tier tier NOT NULL DEFAULT 'bronze',
		tags text[] NOT NULL DEFAULT '{}',
		avatar bytea,
		profile jsonb,
		created_at timestamptz NOT NULL DEFAULT now())`,
	`CREATE TABLE addresses (
		id serial PRIMARY KEY,
		customer_id bigint NOT NULL REFERENCES customers (id),
		street text NOT NULL,
		postal postal_code NOT NULL,
		country char(2) NOT NULL)`,
	`CREATE TABLE orders (
		id bigserial PRIMARY KEY,
		customer_id bigint NOT NULL REFERENCES customers (id),
		address_id int REFERENCES addresses (id),
		billing_email text NOT NULL,
		status order_status NOT NULL DEFAULT 'new',
		total numeric(12, 2) NOT NULL CHECK (total >= 0),
		invoice_no bigint NOT NULL DEFAULT nextval('invoice_numbers'),
		UNIQUE (id, customer_id))`,
	`CREATE INDEX orders_billing_email ON orders (lower(billing_email))`,
	`CREATE TABLE order_items (
		order_id bigint NOT NULL,
		customer_id bigint NOT NULL,
		line int NOT NULL,
		sku text NOT NULL,
		qty int NOT NULL CHECK (qty > 0),
		PRIMARY KEY (order_id, line),
		FOREIGN KEY (order_id, customer_id) REFERENCES orders (id, customer_id))`,
	`CREATE SCHEMA hr`,
	`CREATE TABLE hr.employees (
		id int PRIMARY KEY,
		manager_id int REFERENCES hr.employees (id),
		work_email text NOT NULL UNIQUE,
		ssn text NOT NULL,
		salary int NOT NULL)`,
	`CREATE TABLE accounts (id int PRIMARY KEY, company text NOT NULL, primary_contact_id int)`,
	`CREATE TABLE contacts (id int PRIMARY KEY, account_id int NOT NULL REFERENCES accounts (id), contact_name text NOT NULL, mobile text)`,
	`ALTER TABLE accounts ADD FOREIGN KEY (primary_contact_id) REFERENCES contacts (id)`,
	`CREATE TABLE events (
		id bigint NOT NULL,
		occurred_on date NOT NULL,
		customer_id bigint REFERENCES customers (id),
		client_ip inet,
		kind text NOT NULL,
		PRIMARY KEY (id, occurred_on)) PARTITION BY RANGE (occurred_on)`,
	`CREATE TABLE events_2024 PARTITION OF events FOR VALUES FROM ('2024-01-01') TO ('2025-01-01')`,
	`CREATE TABLE events_2025 PARTITION OF events FOR VALUES FROM ('2025-01-01') TO ('2026-01-01')`,
	`CREATE INDEX events_customer ON events (customer_id)`,
	`CREATE VIEW customer_orders AS
		SELECT c.id, c.email, count(o.id) AS orders, sum(o.total) AS total
		FROM customers c LEFT JOIN orders o ON o.customer_id = c.id GROUP BY c.id, c.email`,
	`CREATE VIEW hr.big_spenders AS SELECT email FROM customer_orders WHERE orders >= 3`,

	`INSERT INTO customers (email, phone, first_name, last_name, tier, tags, avatar, profile, created_at)
		SELECT 'user' || g || '@example.com', '+49 30 ' || lpad((1000000 + g * 7)::text, 7, '0'),
		       (ARRAY['Anna', 'Ben', 'Chloé', 'Dmitri', 'Eva'])[1 + g % 5], (ARRAY['Müller', 'Smith', 'García', 'O''Brien'])[1 + g % 4],
		       (ARRAY['bronze', 'silver', 'gold'])[1 + g % 3]::tier, ARRAY['tag' || g % 7, 'tab	and\back'],
		       decode(md5(g::text), 'hex'),
		       jsonb_build_object('contact', jsonb_build_object('email', 'user' || g || '@example.com'), 'note', 'likes tea, line' || E'\n' || 'two'),
		       timestamptz '2024-01-01 00:00:00+00' + g * interval '1 hour'
		FROM generate_series(1, 2000) g`,
	`INSERT INTO addresses (customer_id, street, postal, country)
		SELECT 1 + g % 2000, g || ' Main Street', lpad((g % 99999)::text, 5, '0'), 'DE' FROM generate_series(1, 3000) g`,
	`INSERT INTO orders (customer_id, address_id, billing_email, status, total)
		SELECT 1 + g % 2000, CASE WHEN g % 4 = 0 THEN NULL ELSE 1 + g % 3000 END, 'user' || (1 + g % 2000) || '@example.com',
		       (ARRAY['new', 'paid', 'shipped'])[1 + g % 3]::order_status, (g % 1000) / 10.0
		FROM generate_series(1, 5000) g`,
	`INSERT INTO order_items SELECT o.id, o.customer_id, l, 'SKU-' || (o.id * l) % 97, l FROM orders o, generate_series(1, 2) l`,
	`INSERT INTO hr.employees SELECT g, CASE WHEN g = 1 THEN NULL ELSE g / 2 END, 'emp' || g || '@corp.example.com',
		lpad((100000000 + g * 37)::text, 9, '0'), 50000 + g FROM generate_series(1, 200) g`,
	`INSERT INTO accounts SELECT g, 'Company ' || g, NULL FROM generate_series(1, 100) g`,
	`INSERT INTO contacts SELECT g, 1 + g % 100, (ARRAY['Anna Berg', 'Ben Smith', 'Chloé Durand'])[1 + g % 3], '+1 415 555 ' || lpad(g::text, 4, '0') FROM generate_series(1, 300) g`,
	`UPDATE accounts SET primary_contact_id = 1 + (id * 3) % 300`,
	`INSERT INTO events SELECT g, date '2024-06-01' + (g % 400), 1 + g % 2000, ('10.0.' || (g % 250) || '.' || (g % 200))::inet, 'login'
		FROM generate_series(1, 4000) g`,
	`SELECT nextval('invoice_numbers') FROM generate_series(1, 10)`,
}

// emailDomain is the masking domain that customers.email,
// orders.billing_email and the e-mail inside customers.profile share, so
// that joins on them still match.
const emailDomain = "customer_email"

// prodRules masks every column the detector flags.
var prodRules = []ColumnRule{
	{Table: "customers", Column: "email", Spec: masking.Spec{Transformer: "email", Domain: emailDomain}},
	{Table: "customers", Column: "phone", Spec: masking.Spec{Transformer: "phone"}},
	{Table: "customers", Column: "first_name", Spec: masking.Spec{Transformer: "first_name"}},
	{Table: "customers", Column: "last_name", Spec: masking.Spec{Transformer: "last_name"}},
	{Table: "customers", Column: "profile", Spec: masking.Spec{Transformer: "json", Options: map[string]any{
		"paths": map[string]any{"contact.email": map[string]any{"transformer": "email", "domain": emailDomain}}}}},
	{Table: "public.addresses", Column: "street", Spec: masking.Spec{Transformer: "address"}},
	{Table: "orders", Column: "billing_email", Spec: masking.Spec{Transformer: "email", Domain: emailDomain}},
	{Table: "hr.employees", Column: "work_email", Spec: masking.Spec{Transformer: "email"}},
	{Table: "hr.employees", Column: "ssn", Spec: masking.Spec{Transformer: "digits"}},
	{Table: "contacts", Column: "contact_name", Spec: masking.Spec{Transformer: "full_name"}},
	{Table: "contacts", Column: "mobile", Spec: masking.Spec{Transformer: "phone"}},
	{Table: "events", Column: "client_ip", Spec: masking.Spec{Transformer: "ip"}},
	// Flagged since issue #10 (pictures, postal codes, companies); kept as
	// they are, which the fidelity checks below compare byte for byte.
	{Table: "customers", Column: "avatar", Spec: masking.Spec{Transformer: "keep"}},
	{Table: "addresses", Column: "postal", Spec: masking.Spec{Transformer: "keep"}},
	{Table: "accounts", Column: "company", Spec: masking.Spec{Transformer: "keep"}},
}

var prodTables = []string{"public.customers", "public.addresses", "public.orders", "public.order_items", "hr.employees",
	"public.accounts", "public.contacts", "public.events", "public.events_2024", "public.events_2025"}

func mustConfig(t testing.TB, dsn string) *pgx.ConnConfig {
	t.Helper()
	cfg, err := pgx.ParseConfig(dsn)
	if err != nil {
		t.Fatal(err)
	}
	return cfg
}

func dial(t testing.TB, dsn string) *pgx.Conn {
	t.Helper()
	conn, err := pgx.Connect(context.Background(), dsn)
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { conn.Close(context.Background()) })
	return conn
}

func queryString(t testing.TB, conn *pgx.Conn, sql string, args ...any) string {
	t.Helper()
	var s *string
	if err := conn.QueryRow(context.Background(), sql, args...).Scan(&s); err != nil {
		t.Fatalf("%v\n%s", err, sql)
	}
	if s == nil {
		return "<null>"
	}
	return *s
}

func queryStrings(t testing.TB, conn *pgx.Conn, sql string) []string {
	t.Helper()
	rows, err := conn.Query(context.Background(), sql)
	if err != nil {
		t.Fatalf("%v\n%s", err, sql)
	}
	out, err := pgx.CollectRows(rows, pgx.RowTo[string])
	if err != nil {
		t.Fatalf("%v\n%s", err, sql)
	}
	return out
}

// tableDigests digests the rows of every table, in key order.
func dataDigests(t testing.TB, conn *pgx.Conn) map[string]string {
	t.Helper()
	out := map[string]string{}
	for _, table := range prodTables {
		out[table] = queryString(t, conn, fmt.Sprintf(`SELECT count(*) || ':' || coalesce(md5(string_agg(x::text, '|' ORDER BY x::text)), '') FROM %s x`, table))
	}
	return out
}

func testOptions(t testing.TB, secret string) Options {
	return Options{Rules: prodRules, Key: testKey(t, secret), Parallelism: 3}
}

func newProd(t *testing.T) string {
	t.Helper()
	dsn := pgtest.Require(t).NewDatabase(t)
	pgtest.Exec(t, dsn, prodSchema...)
	return dsn
}

func TestAnalyze_problems(t *testing.T) {
	prod := newProd(t)
	conn := dial(t, prod)
	ctx := context.Background()
	tx, err := conn.BeginTx(ctx, pgx.TxOptions{IsoLevel: pgx.RepeatableRead, AccessMode: pgx.ReadOnly})
	if err != nil {
		t.Fatal(err)
	}
	defer func() { _ = tx.Rollback(ctx) }()

	// The complete policy has no problem, and plans every table with its
	// exact row count.
	a, err := Analyze(ctx, tx, testOptions(t, "k"))
	if err != nil {
		t.Fatal(err)
	}
	if len(a.Problems) > 0 {
		t.Fatalf("problems with the full policy: %v", a.Problems)
	}
	rows := map[string]int64{}
	for _, tp := range a.Tables {
		rows[tp.Name] = tp.Rows
	}
	want := map[string]int64{"public.customers": 2000, "public.addresses": 3000, "public.orders": 5000, "public.order_items": 10000,
		"hr.employees": 200, "public.accounts": 100, "public.contacts": 300, "public.events_2024": 0, "public.events_2025": 0}
	var events int64
	for name, n := range want {
		if strings.HasPrefix(name, "public.events_") {
			events += rows[name]
			continue
		}
		if rows[name] != n {
			t.Errorf("plan rows of %s = %d, want %d", name, rows[name], n)
		}
	}
	if events != 4000 || len(a.Tables) != len(want) {
		t.Errorf("plan: %+v", a.Tables)
	}

	// Drop the phone rule, make the others wrong in every way.
	var rules []ColumnRule
	for _, r := range prodRules {
		if r.Column != "phone" && r.Column != "work_email" && r.Column != "company" {
			rules = append(rules, r)
		}
	}
	rules = append(rules,
		ColumnRule{Table: "hr.employees", Column: "work_email", Spec: masking.Spec{Transformer: "redact"}},
		ColumnRule{Table: "ghosts", Column: "email", Spec: masking.Spec{Transformer: "email"}},
		ColumnRule{Table: "orders", Column: "nope", Spec: masking.Spec{Transformer: "email"}},
		ColumnRule{Table: "accounts", Column: "company", Spec: masking.Spec{Transformer: "hash", Options: map[string]any{"size": 10.0}}},
		ColumnRule{Table: "customers", Column: "full_name", Spec: masking.Spec{Transformer: "full_name"}},
	)
	opts := testOptions(t, "k")
	opts.Rules = rules
	a, err = Analyze(ctx, tx, opts)
	if err != nil {
		t.Fatal(err)
	}
	got := map[string]Problem{}
	for _, p := range a.Problems {
		got[p.Kind+" "+p.Table+"."+p.Column] = p
	}
	for _, key := range []string{
		"unmasked_pii public.customers.phone",
		"non_bijective_unique hr.employees.work_email",
		"unknown_table public.ghosts.email",
		"unknown_column public.orders.nope",
		"bad_rule public.accounts.company",
		"bad_rule public.customers.full_name",
	} {
		if _, ok := got[key]; !ok {
			t.Errorf("no problem %q in %v", key, a.Problems)
		}
	}
	if p := got["unmasked_pii public.customers.phone"]; p.Suggested == nil || p.Suggested.Transformer != "phone" || !strings.Contains(p.Detail, "phone") {
		t.Errorf("unmasked phone: %+v", p)
	}
	if p := got["bad_rule public.accounts.company"]; !strings.Contains(p.Detail, "size") {
		t.Errorf("bad option: %+v", p)
	}
	if len(a.Problems) != 6 {
		t.Errorf("%d problems, want 6: %v", len(a.Problems), a.Problems)
	}
	// An explicit keep accepts the phone column.
	opts.Rules = nil
	for _, r := range prodRules {
		if r.Table == "customers" && r.Column == "phone" {
			r.Spec = masking.Spec{Transformer: "keep"}
		}
		opts.Rules = append(opts.Rules, r)
	}
	a, err = Analyze(ctx, tx, opts)
	if err != nil || len(a.Problems) != 0 {
		t.Errorf("keep rule: %v %v", err, a.Problems)
	}

	// Clone refuses and writes nothing.
	target := pgtest.Require(t).NewDatabase(t)
	opts = testOptions(t, "k")
	opts.Rules = rules
	_, err = Clone(ctx, sourceConfig(t, prod), mustConfig(t, target), opts)
	var pe *ProblemsError
	if !errors.As(err, &pe) || len(pe.Problems) != 6 || !strings.Contains(err.Error(), "public.customers.phone: unmasked_pii") {
		t.Fatalf("Clone with problems: %v", err)
	}
	if n := queryString(t, dial(t, target), `SELECT count(*)::text FROM pg_namespace WHERE nspname IN ('hr', 'hr__stg_new', 'public__stg_new')`); n != "0" {
		t.Errorf("Clone with problems created %s schemas", n)
	}
}

func slicesClone(r []ColumnRule) []ColumnRule { return append([]ColumnRule(nil), r...) }

func TestClone_refusesSameDatabase(t *testing.T) {
	dsn := pgtest.Require(t).NewDatabase(t)
	pgtest.Exec(t, dsn, `CREATE TABLE t (id int)`)
	_, err := Clone(context.Background(), mustConfig(t, dsn), mustConfig(t, dsn), Options{Key: testKey(t, "k")})
	if !errors.Is(err, ErrSameDatabase) {
		t.Fatalf("err = %v, want ErrSameDatabase", err)
	}
	if _, err := Clone(context.Background(), mustConfig(t, dsn), mustConfig(t, pgtest.Require(t).NewDatabase(t)), Options{}); err == nil {
		t.Error("Clone without a key succeeded")
	}
}

// progressLog collects Progress reports.
type progressLog struct {
	mu   sync.Mutex
	done map[string]TableProgress
	n    int
}

func (p *progressLog) report(tp TableProgress) {
	p.mu.Lock()
	defer p.mu.Unlock()
	p.n++
	if tp.Done {
		if p.done == nil {
			p.done = map[string]TableProgress{}
		}
		p.done[tp.Table] = tp
	}
}

func TestClone_maskedCopy(t *testing.T) {
	ctx := context.Background()
	prod := newProd(t)
	staging := pgtest.Require(t).NewDatabase(t)
	// The target has an older copy with citext in its public schema and a
	// table of its own in public: both are replaced.
	pgtest.Exec(t, staging, `CREATE EXTENSION citext`, `CREATE TABLE public.stale (id int)`)
	src, dst := dial(t, prod), dial(t, staging)

	var prog progressLog
	opts := testOptions(t, "env-secret-1")
	opts.Progress = prog.report
	res, err := Clone(ctx, sourceConfig(t, prod), mustConfig(t, staging), opts)
	if err != nil {
		t.Fatal(err)
	}

	// Row counts, per table and per partition.
	for _, table := range prodTables {
		q := "SELECT count(*)::text FROM " + table
		if a, b := queryString(t, src, q), queryString(t, dst, q); a != b {
			t.Errorf("%s: %s rows in production, %s in staging", table, a, b)
		}
	}
	if n := queryString(t, dst, `SELECT count(*)::text FROM pg_tables WHERE tablename = 'stale'`); n != "0" {
		t.Error("the target's own table in public survived the swap")
	}

	// Every constraint and index is there, valid.
	catalog := `SELECT n.nspname || '.' || c.relname || ' ' || k.conname || ' ' || k.contype::text || ' ' || pg_get_constraintdef(k.oid)
		FROM pg_constraint k JOIN pg_class c ON c.oid = k.conrelid JOIN pg_namespace n ON n.oid = c.relnamespace
		WHERE n.nspname IN ('public', 'hr') ORDER BY 1`
	if a, b := strings.Join(queryStrings(t, src, catalog), "\n"), strings.Join(queryStrings(t, dst, catalog), "\n"); a != b {
		t.Errorf("constraints differ:\nproduction:\n%s\nstaging:\n%s", a, b)
	}
	if n := queryString(t, dst, `SELECT count(*)::text FROM pg_constraint WHERE NOT convalidated`); n != "0" {
		t.Errorf("%s constraints are not validated", n)
	}
	indexes := `SELECT pg_get_indexdef(indexrelid) FROM pg_index i JOIN pg_class c ON c.oid = i.indrelid JOIN pg_namespace n ON n.oid = c.relnamespace
		WHERE n.nspname IN ('public', 'hr') ORDER BY 1`
	if a, b := strings.Join(queryStrings(t, src, indexes), "\n"), strings.Join(queryStrings(t, dst, indexes), "\n"); a != b {
		t.Errorf("indexes differ:\nproduction:\n%s\nstaging:\n%s", a, b)
	}
	if n := queryString(t, dst, `SELECT count(*)::text FROM pg_index WHERE NOT indisvalid`); n != "0" {
		t.Errorf("%s indexes are invalid", n)
	}
	// The schema is the same as production's, by the lead's fingerprint.
	fpa, fpb := fingerprint(t, prod, FingerprintOptions{}), fingerprint(t, staging, FingerprintOptions{})
	for table, d := range fpa.Tables {
		if fpb.Tables[table] != d {
			t.Errorf("schema of %s differs", table)
		}
	}
	if fpa.SchemaDigest != fpb.SchemaDigest {
		t.Errorf("schema digests differ")
	}

	// Unique columns are still unique (and masked).
	for _, q := range []string{`SELECT (count(DISTINCT email) = count(*))::text FROM customers`, `SELECT (count(DISTINCT work_email) = count(*))::text FROM hr.employees`} {
		if queryString(t, dst, q) != "true" {
			t.Errorf("not unique: %s", q)
		}
	}

	// No production identifier appears in staging.
	leaks := map[string]string{
		"customers.email":     `SELECT email::text FROM customers`,
		"customers.phone":     `SELECT phone FROM customers`,
		"orders.billing":      `SELECT billing_email FROM orders`,
		"hr.employees.email":  `SELECT work_email FROM hr.employees`,
		"hr.employees.ssn":    `SELECT ssn FROM hr.employees`,
		"contacts.mobile":     `SELECT mobile FROM contacts`,
		"profile email":       `SELECT profile->'contact'->>'email' FROM customers`,
		"customers.full_name": `SELECT full_name FROM customers`,
	}
	for what, q := range leaks {
		prodVals := map[string]bool{}
		for _, v := range queryStrings(t, src, q) {
			prodVals[v] = true
		}
		same := 0
		for _, v := range queryStrings(t, dst, q) {
			if prodVals[v] {
				same++
			}
		}
		if what == "customers.full_name" {
			// Names come from small dictionaries: some collide by chance,
			// but never row for row.
			q := `SELECT count(*)::text FROM customers WHERE full_name = $1 AND id = $2`
			if queryString(t, dst, q, "Anna Smith", 5) == "1" && queryString(t, src, q, "Anna Smith", 5) == "1" {
				t.Error("full_name of customer 5 unchanged")
			}
			continue
		}
		if same > 0 {
			t.Errorf("%s: %d production values in staging", what, same)
		}
	}

	// Joins on masked e-mails still match.
	join := `SELECT count(*)::text FROM orders o JOIN customers c ON c.email = o.billing_email`
	if a, b := queryString(t, src, join), queryString(t, dst, join); a != b || a == "0" {
		t.Errorf("join on e-mail: %s rows in production, %s in staging", a, b)
	}
	if n := queryString(t, dst, `SELECT count(*)::text FROM customers WHERE profile->'contact'->>'email' <> email::text`); n != "0" {
		t.Errorf("%s profiles hold another e-mail than their customer", n)
	}

	// Unmasked columns are byte for byte production's; generated columns
	// are recomputed from the masked ones.
	same := `SELECT md5(string_agg(id || ':' || tier || ':' || tags::text || ':' || encode(avatar, 'hex') || ':' || (profile->>'note') || created_at, '|' ORDER BY id)) FROM customers`
	if a, b := queryString(t, src, same), queryString(t, dst, same); a != b {
		t.Error("unmasked customer columns changed")
	}
	if n := queryString(t, dst, `SELECT count(*)::text FROM customers WHERE full_name <> first_name || ' ' || last_name`); n != "0" {
		t.Errorf("%s generated full names are stale", n)
	}

	// The views work.
	view := `SELECT count(*) || ':' || sum(orders) FROM customer_orders`
	if a, b := queryString(t, src, view), queryString(t, dst, view); a != b {
		t.Errorf("view: %s vs %s", a, b)
	}
	if n := queryString(t, dst, `SELECT count(*)::text FROM hr.big_spenders`); n == "0" {
		t.Error("view on a view is empty")
	}

	// Sequences and identity columns continue after production's values
	// (invoice_numbers started at 1000 and served 5010 values).
	for q, want := range map[string]string{
		`INSERT INTO customers (email, first_name, last_name) VALUES ('new@staging.test', 'N', 'N') RETURNING id::text`:   "2001",
		`INSERT INTO orders (customer_id, billing_email, total) VALUES (1, 'x@y.z', 1) RETURNING id || ',' || invoice_no`: "5001,6010",
		`INSERT INTO addresses (customer_id, street, postal, country) VALUES (1, 's', '12345', 'DE') RETURNING id::text`:  "3001",
	} {
		if got := queryString(t, dst, q); got != want {
			t.Errorf("%s\ngave %s, want %s", q, got, want)
		}
	}
	// The domain's check still holds.
	if _, err := dst.Exec(ctx, `INSERT INTO addresses (customer_id, street, postal, country) VALUES (1, 's', 'abc', 'DE')`); err == nil {
		t.Error("domain check lost")
	}

	// The result is an audit record.
	if res.PolicyHash != PolicyHash(opts) || len(res.PolicyHash) != 64 || res.SnapshotTime.IsZero() || res.ServerVersion == "" || res.Duration <= 0 {
		t.Errorf("result: %+v", res)
	}
	if !strings.HasPrefix(res.TransformerVersions["public.customers.email"], "email/v") || !strings.HasPrefix(res.TransformerVersions["public.events_2024.client_ip"], "ip/v") {
		t.Errorf("versions: %v", res.TransformerVersions)
	}
	var total int64
	for _, tr := range res.Tables {
		total += tr.Rows
		if tr.Rows > 0 && tr.Bytes == 0 {
			t.Errorf("%s: no bytes", tr.Name)
		}
	}
	if total != 2000+3000+5000+10000+200+100+300+4000 {
		t.Errorf("result rows = %d: %+v", total, res.Tables)
	}
	if len(prog.done) != len(res.Tables) || prog.done["public.orders"].Percent != 100 || prog.done["public.orders"].Rows != 5000 {
		t.Errorf("progress: %+v", prog.done)
	}
}

func TestClone_deterministicByKey(t *testing.T) {
	ctx := context.Background()
	prod := newProd(t)
	a, b := pgtest.Require(t).NewDatabase(t), pgtest.Require(t).NewDatabase(t)
	clone := func(target, secret string) map[string]string {
		t.Helper()
		if _, err := Clone(ctx, sourceConfig(t, prod), mustConfig(t, target), testOptions(t, secret)); err != nil {
			t.Fatal(err)
		}
		return dataDigests(t, dial(t, target))
	}
	first, again, other := clone(a, "key-one"), clone(a, "key-one"), clone(b, "key-two")
	for _, table := range prodTables {
		if first[table] != again[table] {
			t.Errorf("%s: the same key gave different data", table)
		}
	}
	for _, table := range []string{"public.customers", "public.orders", "hr.employees", "public.contacts", "public.events"} {
		if first[table] == other[table] {
			t.Errorf("%s: another key gave the same data", table)
		}
	}
	if first["public.order_items"] != other["public.order_items"] {
		t.Error("order_items has no masked column but differs between keys")
	}
}

func shadowSchemas(t testing.TB, conn *pgx.Conn) []string {
	return queryStrings(t, conn, `SELECT nspname::text FROM pg_namespace WHERE nspname LIKE '%\_\_stg\_%' ORDER BY 1`)
}

func TestClone_atomic(t *testing.T) {
	ctx := context.Background()
	prod := newProd(t)
	staging := pgtest.Require(t).NewDatabase(t)
	if _, err := Clone(ctx, sourceConfig(t, prod), mustConfig(t, staging), testOptions(t, "first")); err != nil {
		t.Fatal(err)
	}
	dst := dial(t, staging)
	before := dataDigests(t, dst)
	schemaBefore := fingerprint(t, staging, FingerprintOptions{}).SchemaDigest

	// Production changes; the next clones break midway, with another key.
	pgtest.Exec(t, prod, `DELETE FROM order_items WHERE line = 2`, `UPDATE customers SET tier = 'gold'`, `ALTER TABLE accounts ADD COLUMN note text`)
	breakers := map[string]func() (context.Context, Options){
		"injected failure": func() (context.Context, Options) {
			o := testOptions(t, "second")
			o.failAfterRows = 9000
			return ctx, o
		},
		"cancelled context": func() (context.Context, Options) {
			cctx, cancel := context.WithCancel(ctx)
			o := testOptions(t, "second")
			o.Progress = func(tp TableProgress) {
				if tp.Done {
					cancel() // after the first table is copied
				}
			}
			return cctx, o
		},
		"leak": func() (context.Context, Options) {
			o := testOptions(t, "second")
			o.Rules = slicesClone(o.Rules)
			for i, r := range o.Rules {
				if r.Column == "mobile" {
					// A pattern that never matches changes nothing.
					o.Rules[i].Spec = masking.Spec{Transformer: "regex_replace", Options: map[string]any{"pattern": "^never$", "replacement": "x"}}
				}
			}
			return ctx, o
		},
		"leak spilled to disk": func() (context.Context, Options) {
			// The same leak, with the leak check's hashes spilled to disk
			// every 8 values: the merge finds what memory found.
			o := testOptions(t, "second")
			o.Rules = slicesClone(o.Rules)
			for i, r := range o.Rules {
				if r.Column == "mobile" {
					o.Rules[i].Spec = masking.Spec{Transformer: "regex_replace", Options: map[string]any{"pattern": "^never$", "replacement": "x"}}
				}
			}
			o.leakBudget = 128
			return ctx, o
		},
	}
	names := make([]string, 0, len(breakers))
	for n := range breakers {
		names = append(names, n)
	}
	sort.Strings(names)
	for _, name := range names {
		cctx, opts := breakers[name]()
		_, err := Clone(cctx, sourceConfig(t, prod), mustConfig(t, staging), opts)
		if err == nil {
			t.Fatalf("%s: the clone succeeded", name)
		}
		t.Logf("%s: %v", name, err)
		switch name {
		case "injected failure":
			if !errors.Is(err, errInjected) {
				t.Errorf("%s: %v", name, err)
			}
		case "cancelled context":
			if !errors.Is(err, context.Canceled) {
				t.Errorf("%s: %v", name, err)
			}
		case "leak", "leak spilled to disk":
			var le *LeakError
			if !errors.As(err, &le) || len(le.Leaks) != 1 || le.Leaks[0].Column != "public.contacts.mobile" || le.Leaks[0].Count != 300 || le.Leaks[0].Total != 300 {
				t.Errorf("%s: %v", name, err)
			}
		}
		after := dataDigests(t, dst)
		for _, table := range prodTables {
			if before[table] != after[table] {
				t.Errorf("%s: %s changed", name, table)
			}
		}
		if fingerprint(t, staging, FingerprintOptions{}).SchemaDigest != schemaBefore {
			t.Errorf("%s: the schema changed", name)
		}
		if s := shadowSchemas(t, dst); len(s) > 0 {
			t.Errorf("%s: shadow schemas left: %v", name, s)
		}
	}

	// A leftover of a killed run is cleaned up by the next clone.
	pgtest.Exec(t, staging, `CREATE SCHEMA public__stg_new`, `CREATE TABLE public__stg_new.half (id int)`)
	if _, err := Clone(ctx, sourceConfig(t, prod), mustConfig(t, staging), testOptions(t, "second")); err != nil {
		t.Fatal(err)
	}
	if s := shadowSchemas(t, dst); len(s) > 0 {
		t.Errorf("shadow schemas left: %v", s)
	}
	if got := queryString(t, dst, `SELECT count(*)::text FROM order_items`); got != "5000" {
		t.Errorf("after a good clone order_items has %s rows", got)
	}
}

func TestNameMap_rewrite(t *testing.T) {
	m := &nameMap{
		schemas: map[string]string{"public": "public__stg_new", "My Schema": "My Schema__stg_new"},
		members: map[string]map[string]string{"public": {"citext": "public", "gen_id": "ext"}},
	}
	cases := map[string]string{
		`nextval('public.orders_id_seq'::regclass)`:      `nextval('"public__stg_new".orders_id_seq'::regclass)`,
		`'new'::public.order_status`:                     `'new'::"public__stg_new".order_status`,
		`FOREIGN KEY (a) REFERENCES "My Schema"."T"(id)`: `FOREIGN KEY (a) REFERENCES "My Schema__stg_new"."T"(id)`,
		`CHECK ((email)::text ~~ '%public.x%'::text)`:    `CHECK ((email)::text ~~ '%public.x%'::text)`,
		`SELECT customers.id FROM public.customers`:      `SELECT customers.id FROM "public__stg_new".customers`,
		`x.public.y`:             `x.public.y`,
		`(email)::public.citext`: `(email)::public.citext`,
		`public.gen_id()`:        `"ext".gen_id()`,
		`E'it''s \' public.x' || $f$public.y$f$ || other.public`:    `E'it''s \' public.x' || $f$public.y$f$ || other.public`,
		`CREATE INDEX i ON public.t USING btree (lower((c)::text))`: `CREATE INDEX i ON "public__stg_new".t USING btree (lower((c)::text))`,
	}
	for in, want := range cases {
		if got := m.rewrite(in); got != want {
			t.Errorf("rewrite(%s)\n got %s\nwant %s", in, got, want)
		}
	}
}

// BenchmarkClone clones a generated table of 100k customers with three
// masked columns (rows/s is for the whole clone: schema, data, keys, swap).
func BenchmarkClone(b *testing.B) {
	c := pgtest.Require(b)
	prod, staging := c.NewDatabase(b), c.NewDatabase(b)
	pgtest.Exec(b, prod,
		`CREATE TABLE customers (id bigint PRIMARY KEY, email text NOT NULL UNIQUE, phone text, full_name text NOT NULL,
			country char(2) NOT NULL, created_at timestamptz NOT NULL, balance numeric(12,2) NOT NULL, notes text)`,
		`INSERT INTO customers SELECT g, 'user' || g || '@example.com', '+49 ' || lpad(((g::bigint * 2654435761) % 100000000000)::text, 11, '0'), 'Anna Müller ' || g,
			'DE', timestamptz '2024-01-01' + g * interval '1 minute', g % 10000 / 100.0, repeat('x', 40)
			FROM generate_series(1, 100000) g`)
	opts := Options{Key: testKey(b, "bench-key"), Rules: []ColumnRule{
		{Table: "customers", Column: "email", Spec: masking.Spec{Transformer: "email"}},
		{Table: "customers", Column: "phone", Spec: masking.Spec{Transformer: "phone"}},
		{Table: "customers", Column: "full_name", Spec: masking.Spec{Transformer: "full_name"}},
	}}
	var copyTime float64
	for b.Loop() {
		res, err := Clone(context.Background(), sourceConfig(b, prod), mustConfig(b, staging), opts)
		if err != nil {
			b.Fatal(err)
		}
		copyTime += res.Tables[0].Duration.Seconds()
	}
	b.ReportMetric(float64(b.N)*100000/b.Elapsed().Seconds(), "rows/s")
	b.ReportMetric(float64(b.N)*100000/copyTime, "copy-rows/s")
}

func TestPolicyHash(t *testing.T) {
	a := Options{Rules: prodRules, IncludeSchemas: []string{"public", "hr"}, Key: testKey(t, "one")}
	reordered := Options{Rules: append([]ColumnRule{prodRules[len(prodRules)-1]}, prodRules[:len(prodRules)-1]...),
		IncludeSchemas: []string{"hr", "public"}, DefaultAction: ActionKeep, Key: testKey(t, "two"), Parallelism: 7}
	if PolicyHash(a) != PolicyHash(reordered) {
		t.Error("order, key, parallelism or an explicit default change the policy hash")
	}
	changed := slicesClone(prodRules)
	changed[0].Spec.Domain = "other"
	if PolicyHash(a) == PolicyHash(Options{Rules: changed, IncludeSchemas: a.IncludeSchemas}) {
		t.Error("another domain gives the same policy hash")
	}
	if PolicyHash(a) == PolicyHash(Options{Rules: prodRules, IncludeSchemas: a.IncludeSchemas, ExcludeTables: []string{"public.events"}}) {
		t.Error("another filter gives the same policy hash")
	}
}

// A failure on the target side (here a domain CHECK that the masked
// values violate in staging only, so the plan's check of masked samples in
// production passes) is reported as such, and leaves nothing behind; a
// "null" rule on a NOT NULL column is refused before.
func TestClone_targetFailure(t *testing.T) {
	c := pgtest.Require(t)
	prod, staging := c.NewDatabase(t), c.NewDatabase(t)
	pgtest.Exec(t, prod, targetOnlyCheck(prod, "code"),
		`CREATE TABLE people (id int PRIMARY KEY, nickname text NOT NULL, badge code)`,
		`INSERT INTO people SELECT g, 'n' || g, g::text FROM generate_series(1, 100) g`)
	clone := func(rule ColumnRule) error {
		rules := []ColumnRule{rule}
		if rule.Column != "nickname" { // flagged as a username since issue #10
			rules = append(rules, ColumnRule{Table: "people", Column: "nickname", Spec: masking.Spec{Transformer: "keep"}})
		}
		_, err := Clone(context.Background(), sourceConfig(t, prod), mustConfig(t, staging), Options{Key: testKey(t, "k"), Rules: rules})
		return err
	}
	err := clone(ColumnRule{Table: "people", Column: "badge", Spec: masking.Spec{Transformer: "redact"}})
	if err == nil || !strings.Contains(err.Error(), "into the target") || !strings.Contains(err.Error(), "23514") {
		t.Fatalf("err = %v, want the target's check violation", err)
	}
	if s := shadowSchemas(t, dial(t, staging)); len(s) > 0 {
		t.Errorf("shadow schemas left: %v", s)
	}
	var pe *ProblemsError
	if err := clone(ColumnRule{Table: "people", Column: "nickname", Spec: masking.Spec{Transformer: "null"}}); !errors.As(err, &pe) || pe.Problems[0].Kind != ProblemBadRule {
		t.Errorf("null on NOT NULL: %v", err)
	}
}

func TestCloneProgress_periodic(t *testing.T) {
	var mu sync.Mutex
	var reports []TableProgress
	c := &cloner{opts: &Options{progressInterval: 5 * time.Millisecond, Progress: func(p TableProgress) {
		mu.Lock()
		defer mu.Unlock()
		reports = append(reports, p)
	}}}
	var rows atomic.Int64
	rows.Store(250)
	stop := c.progress(TablePlan{Name: "public.t", Rows: 1000}, time.Now().Add(-time.Second), &rows)
	time.Sleep(40 * time.Millisecond)
	rows.Store(1000)
	stop(true)
	mu.Lock()
	defer mu.Unlock()
	if len(reports) < 3 {
		t.Fatalf("%d reports", len(reports))
	}
	first, last := reports[0], reports[len(reports)-1]
	if first.Done || first.Percent != 25 || first.RowsPerSecond <= 0 || first.RowsPerSecond > 250 || first.TotalRows != 1000 {
		t.Errorf("first report: %+v", first)
	}
	if !last.Done || last.Percent != 100 || last.Rows != 1000 {
		t.Errorf("last report: %+v", last)
	}
}

// TestLeakCheck_unchangedVersusCoincidental: a value masking left as it was
// fails the clone; a masked value that happens to equal another row's
// production value (unavoidable for a permutation of a dense space) is
// counted and reported.
func TestLeakCheck_unchangedVersusCoincidental(t *testing.T) {
	// 2,000 values of which one is a fixed point (0.05%: chance) and one
	// equals another row's value; and a column where most values survive.
	chance := &leakHashes{unchanged: 1, fixed: map[uint64]struct{}{0: {}}, total: 2000, expected: 2000 / 1e6}
	for i := uint64(0); i < 2000; i++ {
		chance.prod = append(chance.prod, i)
		chance.masked = append(chance.masked, 10000+i)
	}
	chance.masked[0], chance.masked[1] = 0, 5 // own value, another row's value
	c := &cloner{leaks: map[string]*leakHashes{
		"public.a.phone": chance,
		"public.b.email": {prod: []uint64{5, 6, 7}, masked: []uint64{5, 6, 11}, unchanged: 2, fixed: map[uint64]struct{}{5: {}, 6: {}}, total: 3, expected: 3 / 1e6},
	}}
	err := c.leakCheck()
	var le *LeakError
	if !errors.As(err, &le) || len(le.Leaks) != 1 || le.Leaks[0].Column != "public.b.email" || le.Leaks[0].Count != 2 || le.Leaks[0].Total != 3 {
		t.Fatalf("leakCheck = %v; want one leak of public.b.email (2 of 3)", err)
	}
	if got := c.coincidental; len(got) != 1 || got["public.a.phone"] != 2 {
		t.Errorf("coincidental = %v, want public.a.phone: 2", got)
	}
}

// TestClone_subset clones 30% of customers (and 50% of employees, across
// the self-reference) of the full schema: every foreign key is created on
// the target, which validates that the subset is closed; counts match the
// plan; the same key picks the same rows and another key other rows.
func TestClone_subset(t *testing.T) {
	prod := newProd(t)
	staging := pgtest.Require(t).NewDatabase(t)
	ctx := context.Background()
	opts := testOptions(t, "subset")
	opts.Subset = SubsetOptions{
		Subsets:      []Subset{{Table: "customers", Percent: 30}, {Table: "hr.employees", Where: "salary > 50050"}},
		NullDangling: true,
		Seed:         "seed-a",
	}
	src := dial(t, prod)
	tx, err := src.BeginTx(ctx, pgx.TxOptions{IsoLevel: pgx.RepeatableRead, AccessMode: pgx.ReadOnly})
	if err != nil {
		t.Fatal(err)
	}
	a, err := Analyze(ctx, tx, opts)
	_ = tx.Rollback(ctx)
	if err != nil || len(a.Problems) > 0 {
		t.Fatalf("Analyze: %v %v", err, a.Problems)
	}
	planned := map[string]int64{}
	for _, tp := range a.Tables {
		planned[tp.Name] = tp.Rows
	}
	if c := planned["public.customers"]; c < 450 || c > 750 {
		t.Errorf("30%% of 2000 customers planned as %d", c)
	}
	if planned["hr.employees"] != 150 || planned["public.accounts"] != 100 {
		t.Errorf("planned = %v", planned)
	}
	res, err := Clone(ctx, sourceConfig(t, prod), mustConfig(t, staging), opts)
	if err != nil {
		t.Fatal(err)
	}
	for _, tr := range res.Tables {
		if tr.Rows != planned[tr.Name] {
			t.Errorf("%s: copied %d rows, planned %d", tr.Name, tr.Rows, planned[tr.Name])
		}
	}
	dst := dial(t, staging)
	// Every foreign key of production exists and is valid in staging.
	fks := queryString(t, dst, `SELECT count(*)::text || '/' || count(*) FILTER (WHERE convalidated)::text FROM pg_constraint WHERE contype = 'f'`)
	if want := queryString(t, src, `SELECT count(*)::text || '/' || count(*)::text FROM pg_constraint WHERE contype = 'f'`); fks != want {
		t.Errorf("foreign keys in staging (all/valid) = %s, want %s", fks, want)
	}
	// Managers outside the subset are nulled, not dangling.
	if n := queryString(t, dst, `SELECT count(*)::text FROM hr.employees e WHERE manager_id IS NOT NULL AND NOT EXISTS (SELECT 1 FROM hr.employees m WHERE m.id = e.manager_id)`); n != "0" {
		t.Errorf("%s employees reference managers that were not copied", n)
	}
	ids := func(conn *pgx.Conn) string {
		return queryString(t, conn, `SELECT md5(string_agg(id::text, ',' ORDER BY id)) FROM customers`)
	}
	first := ids(dst)
	if _, err := Clone(ctx, sourceConfig(t, prod), mustConfig(t, staging), opts); err != nil {
		t.Fatal(err)
	}
	if ids(dst) != first {
		t.Error("the same seed picked other customers")
	}
	opts.Subset.Seed = "seed-b"
	if _, err := Clone(ctx, sourceConfig(t, prod), mustConfig(t, staging), opts); err != nil {
		t.Fatal(err)
	}
	if ids(dst) == first {
		t.Error("another seed picked the same customers")
	}
	// A cycle without NullDangling cannot be cut.
	opts.Subset = SubsetOptions{Subsets: []Subset{{Table: "accounts", Percent: 50}}, Seed: "x"}
	var se *SubsetError
	if _, err := Clone(ctx, sourceConfig(t, prod), mustConfig(t, staging), opts); !errors.As(err, &se) {
		t.Errorf("a cycle without null_dangling_references: %v, want *SubsetError", err)
	}
}

func TestDrop(t *testing.T) {
	prod := newProd(t)
	staging := pgtest.Require(t).NewDatabase(t)
	ctx := context.Background()
	if _, err := Clone(ctx, sourceConfig(t, prod), mustConfig(t, staging), testOptions(t, "drop")); err != nil {
		t.Fatal(err)
	}
	if _, err := Drop(ctx, mustConfig(t, staging), "", []string{"hr", "public"}); err != nil {
		t.Fatal(err)
	}
	dst := dial(t, staging)
	if n := queryString(t, dst, `SELECT count(*)::text FROM pg_class c JOIN pg_namespace n ON n.oid = c.relnamespace WHERE n.nspname IN ('public', 'hr')`); n != "0" {
		t.Errorf("%s relations left after Drop", n)
	}
	if s := queryString(t, dst, `SELECT coalesce(to_regnamespace('public')::text, '<none>')`); s != "public" {
		t.Errorf("public schema after Drop: %s", s)
	}
}

// targetOnlyCheck returns statements creating domain name over text whose
// CHECK (digits only) holds in every database but the one of dsn, where a
// database setting waives it: the plan judges masked samples against
// domain checks in production, so only a check that differs in staging
// can fail the copy on the target's side.
func targetOnlyCheck(dsn, name string) string {
	u, err := url.Parse(dsn)
	if err != nil {
		panic(err)
	}
	db := strings.TrimPrefix(u.Path, "/")
	return fmt.Sprintf(`ALTER DATABASE %[1]s SET stagingkit.test_waive_checks = 'on';
CREATE FUNCTION %[2]s_ok(v text) RETURNS boolean LANGUAGE sql STABLE AS $$ SELECT v ~ '^[0-9]+$' OR coalesce(current_setting('stagingkit.test_waive_checks', true), '') = 'on' $$;
CREATE DOMAIN %[2]s AS text CHECK (%[2]s_ok(VALUE))`, pgx.Identifier{db}.Sanitize(), name)
}
