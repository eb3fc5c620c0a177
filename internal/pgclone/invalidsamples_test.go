package pgclone

import (
	"context"
	"strings"
	"testing"

	"github.com/jackc/pgx/v5"

	"github.com/stagingkit/terraform-provider-staging/internal/masking"
	"github.com/stagingkit/terraform-provider-staging/internal/pgtest"
)

// TestAnalyze_invalidSamples is second-review item G: a user-written rule
// whose transformer refuses some sampled values (on_invalid = "error", the
// default) is refused at plan, with the share of sampled values and the
// way out, never a value; with on_invalid = "redact" it is not.
func TestAnalyze_invalidSamples(t *testing.T) {
	c := pgtest.Require(t)
	prod := c.NewDatabase(t)
	pgtest.Exec(t, prod,
		`CREATE TABLE people (id integer PRIMARY KEY, email text, login text UNIQUE, tags text[])`,
		`INSERT INTO people SELECT g, CASE WHEN g % 10 = 0 THEN 'SECRET-' || g ELSE 'p' || g || '@example.com' END,
			CASE WHEN g = 7 THEN 'SECRET-login' ELSE 'u' || g || '@example.com' END,
			ARRAY['a' || g || '@example.com', CASE WHEN g = 3 THEN 'SECRET-tag' ELSE 'b' || g || '@example.com' END]
		 FROM generate_series(1, 100) g`)
	ctx := context.Background()
	conn := dial(t, prod)
	tx, err := conn.BeginTx(ctx, pgx.TxOptions{IsoLevel: pgx.RepeatableRead, AccessMode: pgx.ReadOnly})
	if err != nil {
		t.Fatal(err)
	}
	defer func() { _ = tx.Rollback(ctx) }()
	analyze := func(onInvalid string) map[string]Problem {
		t.Helper()
		a, err := Analyze(ctx, tx, Options{Key: testKey(t, "invalid"), Rules: []ColumnRule{
			{Table: "people", Column: "email", Spec: masking.Spec{Transformer: "email", OnInvalid: onInvalid}},
			{Table: "people", Column: "login", Spec: masking.Spec{Transformer: "email"}},
			{Table: "people", Column: "tags", Spec: masking.Spec{Transformer: "email", OnInvalid: onInvalid}},
		}})
		if err != nil {
			t.Fatal(err)
		}
		got := map[string]Problem{}
		for _, p := range a.Problems {
			got[p.Kind+" "+p.Column] = p
			if strings.Contains(p.String(), "SECRET") {
				t.Errorf("problem holds a value: %s", p)
			}
		}
		return got
	}
	got := analyze("")
	if p, ok := got[ProblemInvalidSamples+" email"]; !ok || !strings.Contains(p.Detail, "10 of 100 sampled values (10.0%)") || !strings.Contains(p.Detail, `on_invalid = "redact"`) {
		t.Errorf("email rule refusing 10%% of samples: %v", got)
	}
	if p, ok := got[ProblemInvalidSamples+" login"]; !ok || !strings.Contains(p.Detail, "1 of 100") || !strings.Contains(p.Detail, "unique") {
		t.Errorf("email rule on a unique column refusing a sample: %v", got)
	}
	if p, ok := got[ProblemInvalidSamples+" tags"]; !ok || !strings.Contains(p.Detail, "1 of 200") {
		t.Errorf("email rule on text[] refusing an element: %v", got)
	}
	got = analyze("redact")
	if _, ok := got[ProblemInvalidSamples+" email"]; ok {
		t.Errorf("on_invalid = redact masks invalid values, nothing fails: %v", got)
	}
	if _, ok := got[ProblemInvalidSamples+" tags"]; ok {
		t.Errorf("on_invalid = redact on text[]: %v", got)
	}
}
