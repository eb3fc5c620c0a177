package pgclone

import (
	"context"
	"strings"
	"testing"

	"github.com/jackc/pgx/v5"

	"github.com/stagingkit/terraform-provider-staging/internal/masking"
	"github.com/stagingkit/terraform-provider-staging/internal/pgtest"
)

// TestAnalyze_bijectiveUnderColumnType checks that a rule on a key column
// is judged against the column's type (issue #10): digits on an integer
// primary key must keep integers within integer's range (max_value), and
// on_invalid = "redact" is not bijective.
func TestAnalyze_bijectiveUnderColumnType(t *testing.T) {
	c := pgtest.Require(t)
	prod := c.NewDatabase(t)
	pgtest.Exec(t, prod,
		`CREATE TABLE accounts (id integer PRIMARY KEY, code text UNIQUE, big bigint UNIQUE)`,
		`INSERT INTO accounts SELECT g, 'C' || (1000000 + g), 1000000000 + g FROM generate_series(1, 50) g`)
	ctx := context.Background()
	conn := dial(t, prod)
	tx, err := conn.BeginTx(ctx, pgx.TxOptions{IsoLevel: pgx.RepeatableRead, AccessMode: pgx.ReadOnly})
	if err != nil {
		t.Fatal(err)
	}
	defer func() { _ = tx.Rollback(ctx) }()
	analyze := func(rules ...ColumnRule) map[string]Problem {
		t.Helper()
		a, err := Analyze(ctx, tx, Options{Key: testKey(t, "bijective"), Rules: rules})
		if err != nil {
			t.Fatal(err)
		}
		got := map[string]Problem{}
		for _, p := range a.Problems {
			got[p.Kind+" "+p.Column] = p
		}
		return got
	}
	got := analyze(
		ColumnRule{Table: "accounts", Column: "id", Spec: masking.Spec{Transformer: "digits"}},
		ColumnRule{Table: "accounts", Column: "code", Spec: masking.Spec{Transformer: "digits", OnInvalid: "redact"}},
		ColumnRule{Table: "accounts", Column: "big", Spec: masking.Spec{Transformer: "digits"}},
	)
	if p, ok := got["non_bijective_unique id"]; !ok || !strings.Contains(p.Detail, "max_value = 2147483647") {
		t.Errorf("digits on an integer key without max_value: %v", got)
	}
	if p, ok := got["non_bijective_unique code"]; !ok || !strings.Contains(p.Detail, "on_invalid") {
		t.Errorf("on_invalid = redact on a unique column: %v", got)
	}
	if _, ok := got["non_bijective_unique big"]; ok {
		t.Errorf("digits on a bigint key is bijective: %v", got)
	}
	got = analyze(
		ColumnRule{Table: "accounts", Column: "id", Spec: masking.Spec{Transformer: "digits", Options: map[string]any{"max_value": 2147483647.0}}},
		ColumnRule{Table: "accounts", Column: "code", Spec: masking.Spec{Transformer: "digits"}},
	)
	if len(got) > 0 {
		t.Errorf("bijective rules refused: %v", got)
	}
}

// TestAnalyze_foreignKeyEndsMaskedAlike checks that both ends of a foreign
// key, and of a virtual one, must be masked alike (issue #10), naming both
// columns.
func TestAnalyze_foreignKeyEndsMaskedAlike(t *testing.T) {
	c := pgtest.Require(t)
	prod := c.NewDatabase(t)
	pgtest.Exec(t, prod,
		`CREATE TABLE users (email text PRIMARY KEY, login text UNIQUE)`,
		`CREATE TABLE orders (id int PRIMARY KEY, user_email text REFERENCES users (email), login text)`,
		`INSERT INTO users VALUES ('alice.smith@example.com', 'alice.smith'), ('bob.jones@example.com', 'bob.jones')`,
		`INSERT INTO orders VALUES (1, 'alice.smith@example.com', 'alice.smith')`)
	ctx := context.Background()
	conn := dial(t, prod)
	tx, err := conn.BeginTx(ctx, pgx.TxOptions{IsoLevel: pgx.RepeatableRead, AccessMode: pgx.ReadOnly})
	if err != nil {
		t.Fatal(err)
	}
	defer func() { _ = tx.Rollback(ctx) }()
	email := masking.Spec{Transformer: "email", Domain: "user_email"}
	login := masking.Spec{Transformer: "format_preserving"}
	virtual := []VirtualForeignKey{{Table: "orders", Columns: []string{"login"}, RefTable: "users", RefColumns: []string{"login"}}}
	analyze := func(rules []ColumnRule) []Problem {
		t.Helper()
		a, err := Analyze(ctx, tx, Options{Key: testKey(t, "fk"), Rules: rules, Subset: SubsetOptions{VirtualForeignKeys: virtual}})
		if err != nil {
			t.Fatal(err)
		}
		var out []Problem
		for _, p := range a.Problems {
			if p.Kind == ProblemForeignKeyMasking {
				out = append(out, p)
			}
		}
		return out
	}
	alike := []ColumnRule{
		{Table: "users", Column: "email", Spec: email}, {Table: "orders", Column: "user_email", Spec: email},
		{Table: "users", Column: "login", Spec: login}, {Table: "orders", Column: "login", Spec: login},
	}
	if got := analyze(alike); len(got) > 0 {
		t.Fatalf("ends masked alike refused: %v", got)
	}
	got := analyze([]ColumnRule{
		{Table: "users", Column: "email", Spec: email}, {Table: "orders", Column: "user_email", Spec: masking.Spec{Transformer: "email"}},
		{Table: "users", Column: "login", Spec: login},
	})
	if len(got) != 2 {
		t.Fatalf("want 2 foreign-key masking problems, got %v", got)
	}
	for _, p := range got {
		if !strings.Contains(p.Detail, "public.users.") || !strings.Contains(p.Detail, "public.orders.") {
			t.Errorf("the problem does not name both columns: %s", p)
		}
	}
	if !strings.Contains(got[0].Detail+got[1].Detail, `domain "user_email" differs`) && !strings.Contains(got[0].Detail+got[1].Detail, `domain "email" differs`) {
		t.Errorf("the domain difference is not named: %v", got)
	}
}

// TestAnalyze_uniqueIgnoringCase checks that a unique index on lower(col)
// makes the column a key compared ignoring case: a transformer that is
// bijective only on exact text is refused there (issue #10).
func TestAnalyze_uniqueIgnoringCase(t *testing.T) {
	c := pgtest.Require(t)
	prod := c.NewDatabase(t)
	pgtest.Exec(t, prod,
		`CREATE TABLE users (id int PRIMARY KEY, email text NOT NULL, code text NOT NULL)`,
		`CREATE UNIQUE INDEX users_email_ci ON users (lower(email))`,
		`CREATE UNIQUE INDEX users_code_ci ON users (upper(code))`,
		`INSERT INTO users SELECT g, 'user.number' || g || '@example.com', 'CODE' || (100000 + g) FROM generate_series(1, 20) g`)
	ctx := context.Background()
	conn := dial(t, prod)
	tx, err := conn.BeginTx(ctx, pgx.TxOptions{IsoLevel: pgx.RepeatableRead, AccessMode: pgx.ReadOnly})
	if err != nil {
		t.Fatal(err)
	}
	defer func() { _ = tx.Rollback(ctx) }()
	a, err := Analyze(ctx, tx, Options{Key: testKey(t, "ci"), Rules: []ColumnRule{
		{Table: "users", Column: "email", Spec: masking.Spec{Transformer: "email"}},
		{Table: "users", Column: "code", Spec: masking.Spec{Transformer: "format_preserving"}},
	}})
	if err != nil {
		t.Fatal(err)
	}
	got := map[string]Problem{}
	for _, p := range a.Problems {
		got[p.Kind+" "+p.Column] = p
	}
	if p, ok := got["non_bijective_unique code"]; !ok || !strings.Contains(p.Detail, "case-insensitive") {
		t.Errorf("format_preserving with letters under upper(code): %v", a.Problems)
	}
	if _, ok := got["non_bijective_unique email"]; ok {
		t.Errorf("email is bijective ignoring case: %v", a.Problems)
	}
	a, err = Analyze(ctx, tx, Options{Key: testKey(t, "ci"), Rules: []ColumnRule{
		{Table: "users", Column: "email", Spec: masking.Spec{Transformer: "text_scramble"}},
		{Table: "users", Column: "code", Spec: masking.Spec{Transformer: "keep"}},
	}})
	if err != nil {
		t.Fatal(err)
	}
	if len(a.Problems) != 1 || a.Problems[0].Kind != ProblemNonBijectiveUnique || a.Problems[0].Column != "email" {
		t.Errorf("text_scramble on a column under a unique lower() index: %v", a.Problems)
	}
}

// TestAnalyze_suggestionsKeepLess checks that a suggested e-mail rule keeps
// the address's shape only where uniqueness needs it.
func TestAnalyze_suggestionsKeepLess(t *testing.T) {
	c := pgtest.Require(t)
	prod := c.NewDatabase(t)
	pgtest.Exec(t, prod,
		`CREATE TABLE users (email text PRIMARY KEY, backup_email text)`,
		`INSERT INTO users SELECT 'user.number' || g || '@example.com', 'other.number' || g || '@example.org' FROM generate_series(1, 20) g`)
	ctx := context.Background()
	conn := dial(t, prod)
	tx, err := conn.BeginTx(ctx, pgx.TxOptions{IsoLevel: pgx.RepeatableRead, AccessMode: pgx.ReadOnly})
	if err != nil {
		t.Fatal(err)
	}
	defer func() { _ = tx.Rollback(ctx) }()
	a, err := Analyze(ctx, tx, Options{Key: testKey(t, "suggest")})
	if err != nil {
		t.Fatal(err)
	}
	got := map[string]*masking.Spec{}
	for _, p := range a.Problems {
		if p.Kind == ProblemUnmaskedPII {
			got[p.Column] = p.Suggested
			// The evidence only: the provider says "no rule" and the keep
			// advice itself, once.
			if strings.Contains(p.Detail, "rule") || strings.Contains(p.Detail, "keep") {
				t.Errorf("%s: detail %q repeats what the diagnostic says", p.Column, p.Detail)
			}
		}
	}
	if s := got["email"]; s == nil || s.Transformer != "email" || s.Options["local_part"] != nil {
		t.Errorf("unique e-mail column: suggested %+v, want email keeping its shape", s)
	}
	if s := got["backup_email"]; s == nil || s.Transformer != "email" || s.Options["local_part"] != "hash" {
		t.Errorf("non-unique e-mail column: suggested %+v, want email with local_part = hash", s)
	}
}
