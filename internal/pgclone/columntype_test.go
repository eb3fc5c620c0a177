package pgclone

import (
	"context"
	"strings"
	"testing"

	"github.com/jackc/pgx/v5"

	"github.com/stagingkit/terraform-provider-staging/internal/masking"
	"github.com/stagingkit/terraform-provider-staging/internal/pgtest"
)

// TestAnalyze_columnEquality checks the review of issue #10, items 2, 3, 4
// and 9: a rule is judged against the column's base type (domains over
// citext, int and varchar(n), nested), against every unique index's key
// over it (a nondeterministic collation on the index, a citext cast, an
// expression the clone cannot judge), against both ends of a foreign key
// (an integer end of a bigint key) and against the type's bounds. Each
// refusal below passed plan and failed at copy before.
func TestAnalyze_columnEquality(t *testing.T) {
	c := pgtest.Require(t)
	prod := c.NewDatabase(t)
	pgtest.Exec(t, prod,
		`CREATE EXTENSION citext`,
		`CREATE DOMAIN ci_text AS citext`,
		`CREATE DOMAIN ci_text2 AS ci_text`,
		`CREATE DOMAIN int_d AS int`,
		`CREATE DOMAIN short_d AS varchar(20)`,
		`CREATE COLLATION ci (provider = icu, locale = 'und-u-ks-level2', deterministic = false)`,
		`CREATE TABLE dom (id int PRIMARY KEY, code ci_text2 UNIQUE, n int_d UNIQUE, h short_d UNIQUE)`,
		`CREATE TABLE idx (id int PRIMARY KEY, a text, b text, c text, d text, e text)`,
		`CREATE UNIQUE INDEX idx_a_citext ON idx ((a::citext))`,
		`CREATE UNIQUE INDEX idx_b_ci ON idx (b COLLATE ci)`,
		`CREATE UNIQUE INDEX idx_c_trim ON idx (lower(trim(c)))`,
		`CREATE UNIQUE INDEX idx_d_lower ON idx (lower(d))`,
		`CREATE UNIQUE INDEX idx_e_text ON idx ((e::text))`,
		`CREATE TABLE big_parent (id bigint PRIMARY KEY)`,
		`CREATE TABLE int_child (id int PRIMARY KEY, pid int REFERENCES big_parent, code varchar(3), amount numeric(5,2))`,
		`CREATE TABLE parted (id int NOT NULL, c text) PARTITION BY RANGE (id)`,
		`CREATE TABLE parted_1 PARTITION OF parted FOR VALUES FROM (0) TO (1000)`,
		`CREATE UNIQUE INDEX parted_1_c_trim ON parted_1 (lower(trim(c)))`,
		`INSERT INTO big_parent SELECT 2000000000 + g FROM generate_series(1, 10) g`,
		`INSERT INTO int_child SELECT g, 2000000000 + g, lpad(g::text, 3, '0'), 999.99 FROM generate_series(1, 10) g`)
	ctx := context.Background()
	conn := dial(t, prod)
	tx, err := conn.BeginTx(ctx, pgx.TxOptions{IsoLevel: pgx.RepeatableRead, AccessMode: pgx.ReadOnly})
	if err != nil {
		t.Fatal(err)
	}
	defer func() { _ = tx.Rollback(ctx) }()
	rule := func(table, column, transformer string, opts map[string]any) ColumnRule {
		return ColumnRule{Table: table, Column: column, Spec: masking.Spec{Transformer: transformer, Options: opts}}
	}
	analyze := func(rules ...ColumnRule) map[string]Problem {
		t.Helper()
		a, err := Analyze(ctx, tx, Options{Key: testKey(t, "equality"), Rules: rules})
		if err != nil {
			t.Fatal(err)
		}
		got := map[string]Problem{}
		for _, p := range a.Problems {
			if p.Kind != ProblemUnmaskedPII {
				if q, ok := got[p.Table+"."+p.Column]; ok {
					p.Detail = q.Detail + "\n" + p.Detail
				}
				got[p.Table+"."+p.Column] = p
			}
		}
		return got
	}
	int4max := map[string]any{"max_value": 2147483647.0}
	got := analyze(
		rule("dom", "code", "format_preserving", nil),
		rule("dom", "n", "phone", nil),
		rule("dom", "h", "hash", nil),
		rule("idx", "a", "format_preserving", nil),
		rule("idx", "b", "format_preserving", nil),
		rule("idx", "c", "email", nil),
		rule("idx", "d", "format_preserving", map[string]any{"alphabet": "0123456789"}),
		rule("idx", "e", "email", nil),
		rule("big_parent", "id", "digits", nil),
		rule("int_child", "pid", "digits", nil),
		rule("int_child", "code", "digits", nil),
		rule("int_child", "amount", "number_noise", nil),
		rule("parted", "c", "email", nil),
	)
	for col, want := range map[string]string{
		"public.dom.code":       "case-insensitive",                     // domain over a domain over citext
		"public.dom.n":          "not an integer",                       // domain over int
		"public.dom.h":          "more than varchar(20)",                // domain over varchar(20)
		"public.idx.a":          "case-insensitive",                     // (a::citext)
		"public.idx.b":          "case-insensitive",                     // b COLLATE ci on the index
		"public.idx.c":          "public.idx_c_trim",                    // lower(trim(c)): not judged, refused
		"public.parted.c":       "public.parted_1_c_trim",               // the same on a partition only
		"public.int_child.pid":  "max_value = 2147483647",               // integer end of a bigint key
		"public.int_child.code": "fewer than 1,000,000 possible values", // varchar(3)
	} {
		if p, ok := got[col]; !ok || !strings.Contains(p.Detail, want) {
			t.Errorf("%s: want a problem with %q, got %+v", col, want, p)
		}
	}
	for _, col := range []string{"public.idx.d", "public.idx.e", "public.big_parent.id", "public.int_child.amount"} {
		if p, ok := got[col]; ok {
			t.Errorf("%s: unexpected problem %+v", col, p)
		}
	}
	if p := got["public.int_child.pid"]; strings.Contains(p.Detail, "no rule") {
		t.Errorf("a refused rule is not also \"no rule\" at its foreign key: %q", p.Detail)
	}
	if p := got["public.idx.c"]; !strings.Contains(p.Detail, "keep") {
		t.Errorf("the refusal of an unjudged index should say the way out: %q", p.Detail)
	}

	// The configuration the refusal asks for: each end's type maximum.
	got = analyze(
		rule("big_parent", "id", "digits", nil),
		rule("int_child", "pid", "digits", int4max),
		rule("int_child", "code", "keep", nil),
	)
	if len(got) != 0 {
		t.Errorf("digits with each end's type maximum should pass: %v", got)
	}
	// Different options otherwise are still named.
	got = analyze(
		rule("big_parent", "id", "digits", map[string]any{"keep_prefix": 1.0, "max_value": "9223372036854775807"}),
		rule("int_child", "pid", "digits", int4max),
	)
	if p, ok := got["public.int_child.pid"]; !ok || p.Kind != ProblemForeignKeyMasking || !strings.Contains(p.Detail, "keep_prefix") {
		t.Errorf("differing keep_prefix on the two ends: %v", got)
	}
}

// TestJudgeIndexExpr checks which unique index expressions the clone
// judges, as pg_get_indexdef prints them.
func TestJudgeIndexExpr(t *testing.T) {
	for _, c := range []struct {
		expr, col string
		ci, known bool
	}{
		{"lower(email)", "email", true, true},
		{"upper((code)::text)", "code", true, true},
		{"lower(code::text)", "code", true, true},
		{"(code)::citext", "code", true, true},
		{"code::public.citext", "code", true, true},
		{"(e)::text", "e", false, true},
		{"(e)::character varying", "e", false, true},
		{"(e)::character varying(40)", "e", false, false},
		{"(e)::bpchar", "e", false, false},
		{"(e)::integer", "e", false, false},
		{`lower("Email")`, "Email", true, true},
		{`lower("user")`, "user", true, true},
		{"lower(TRIM(BOTH FROM c))", "c", false, false},
		{"(a || b)", "a", false, false},
		{"lower(email) || ''", "email", false, false},
		{"md5(code)", "code", false, false},
	} {
		ci, known := judgeIndexExpr(c.expr, c.col)
		if known != c.known || known && ci != c.ci {
			t.Errorf("judgeIndexExpr(%q, %q) = %v, %v; want %v, %v", c.expr, c.col, ci, known, c.ci, c.known)
		}
	}
	if !exprMentions("lower(TRIM(BOTH FROM c))", "c") || exprMentions("lower(code)", "c") {
		t.Errorf("exprMentions matches identifiers, not substrings")
	}
}

// TestClone_maskingErrorNamesColumn checks that a value a rule refuses at
// copy time is reported with its table, its column and the reason, and
// never with the value (review of issue #10, item 16: the column was
// missing).
func TestClone_maskingErrorNamesColumn(t *testing.T) {
	c := pgtest.Require(t)
	prod, staging := c.NewDatabase(t), c.NewDatabase(t)
	pgtest.Exec(t, prod,
		`CREATE TABLE contacts (id int PRIMARY KEY, reach text)`,
		`INSERT INTO contacts SELECT g, 'person' || g || '@example.com' FROM generate_series(1, 50) g`,
		// Longer than the sample keeps of a value (sampleCellChars), so the
		// plan's check of sampled values (invalidSamples) cannot judge it
		// and the copy meets it.
		`INSERT INTO contacts VALUES (51, 'SECRET-VALUE-not-an-address' || repeat('x', 5000))`)
	_, err := Clone(context.Background(), sourceConfig(t, prod), mustConfig(t, staging), Options{Key: testKey(t, "k"), Rules: []ColumnRule{
		{Table: "contacts", Column: "reach", Spec: masking.Spec{Transformer: "email"}},
	}})
	if err == nil {
		t.Fatal("an invalid e-mail address with on_invalid = error was copied")
	}
	for _, want := range []string{"public.contacts", "column reach", "not an e-mail address"} {
		if !strings.Contains(err.Error(), want) {
			t.Errorf("error %q does not say %q", err, want)
		}
	}
	if strings.Contains(err.Error(), "SECRET") {
		t.Errorf("error %q holds the value", err)
	}
}

// TestClone_domainOverArray checks that a column whose type is a domain
// over an array is masked element by element, as its base type says
// (review of issue #10, item 2: domains judged as their base type).
func TestClone_domainOverArray(t *testing.T) {
	c := pgtest.Require(t)
	prod, staging := c.NewDatabase(t), c.NewDatabase(t)
	pgtest.Exec(t, prod,
		`CREATE DOMAIN address_list AS text[]`,
		`CREATE TABLE mailing (id int PRIMARY KEY, recipients address_list)`,
		`INSERT INTO mailing SELECT g, ARRAY['first' || g || '@example.com', 'second' || g || '@example.org'] FROM generate_series(1, 20) g`)
	_, err := Clone(context.Background(), sourceConfig(t, prod), mustConfig(t, staging), Options{Key: testKey(t, "k"), Rules: []ColumnRule{
		{Table: "mailing", Column: "recipients", Spec: masking.Spec{Transformer: "email"}},
	}})
	if err != nil {
		t.Fatal(err)
	}
	conn := dial(t, staging)
	got := queryString(t, conn, `SELECT count(*) FILTER (WHERE cardinality(recipients) = 2 AND recipients[1] NOT LIKE 'first%'
		AND recipients[1] LIKE '%@example.com' AND recipients[2] LIKE '%@example.org') || '/' || count(*) FROM mailing`)
	if got != "20/20" {
		t.Errorf("masked element by element: %s rows of 20", got)
	}
}

// TestClone_targetErrorNamesColumn checks that a value the target refuses
// (a domain's CHECK) is reported with its table and column, and not with
// the value (review of issue #10, item 16).
func TestClone_targetErrorNamesColumn(t *testing.T) {
	c := pgtest.Require(t)
	prod, staging := c.NewDatabase(t), c.NewDatabase(t)
	pgtest.Exec(t, prod, targetOnlyCheck(prod, "badge_code"),
		`CREATE TABLE badges (id int PRIMARY KEY, badge badge_code)`,
		`INSERT INTO badges SELECT g, g::text FROM generate_series(1, 20) g`)
	_, err := Clone(context.Background(), sourceConfig(t, prod), mustConfig(t, staging), Options{Key: testKey(t, "k"), Rules: []ColumnRule{
		{Table: "badges", Column: "badge", Spec: masking.Spec{Transformer: "redact", Options: map[string]any{"value": "SECRETX"}}},
	}})
	if err == nil || !strings.Contains(err.Error(), "public.badges into the target, column badge") || strings.Contains(err.Error(), "SECRETX") {
		t.Fatalf("err = %v, want the table and the column, without the value", err)
	}
}
