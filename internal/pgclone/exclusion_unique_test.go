package pgclone

import (
	"context"
	"strings"
	"testing"

	"github.com/jackc/pgx/v5"

	"github.com/stagingkit/terraform-provider-staging/internal/masking"
	"github.com/stagingkit/terraform-provider-staging/internal/pgtest"
)

// TestAnalyze_exclusionAndWholeRowIndexes is review #10's second review
// C: an exclusion constraint WITH = makes its column unique (redact passed
// plan and failed the copy with 23P01), an exclusion constraint with
// another operator (&&) cannot be judged, and a unique index on a
// function of the whole row (key_of(t)) covers every column (redact passed
// plan and failed with 23505).
func TestAnalyze_exclusionAndWholeRowIndexes(t *testing.T) {
	c := pgtest.Require(t)
	prod := c.NewDatabase(t)
	pgtest.Exec(t, prod,
		`CREATE TABLE excl (id int PRIMARY KEY, code text, bcode text, during tstzrange, note text)`,
		`ALTER TABLE excl ADD CONSTRAINT excl_code EXCLUDE USING hash (code WITH =)`,
		`ALTER TABLE excl ADD CONSTRAINT excl_bcode EXCLUDE USING btree (bcode WITH =)`,
		`ALTER TABLE excl ADD CONSTRAINT excl_during EXCLUDE USING gist (during WITH &&)`,
		`CREATE TABLE wr (id int PRIMARY KEY, code text, other text)`,
		`CREATE FUNCTION key_of(r wr) RETURNS text LANGUAGE sql IMMUTABLE AS 'SELECT lower(r.code)'`,
		`CREATE UNIQUE INDEX wr_key ON wr ((key_of(wr)))`,
		`INSERT INTO excl SELECT g, 'code' || (100000 + g), 'bcode' || (100000 + g), tstzrange(now() + g * interval '1 day', now() + (g + 1) * interval '1 day'), 'n' FROM generate_series(1, 20) g`,
		`INSERT INTO wr SELECT g, 'Code' || g, 'o' FROM generate_series(1, 20) g`)
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
		a, err := Analyze(ctx, tx, Options{Key: testKey(t, "exclusion"), Rules: rules})
		if err != nil {
			t.Fatal(err)
		}
		got := map[string]Problem{}
		for _, p := range a.Problems {
			if p.Kind != ProblemUnmaskedPII {
				got[p.Table+"."+p.Column] = p
			}
		}
		return got
	}
	x := map[string]any{"value": "x"}
	got := analyze(
		rule("excl", "code", "redact", x),
		rule("excl", "bcode", "redact", x),
		rule("excl", "during", "redact", map[string]any{"value": "empty"}),
		rule("wr", "code", "format_preserving", nil),
		rule("wr", "other", "redact", x),
	)
	for col, want := range map[string]string{
		"public.excl.code":   "not bijective",
		"public.excl.bcode":  "not bijective",
		"public.excl.during": "exclusion constraint excl_during",
		"public.wr.code":     "unique index public.wr_key",
		"public.wr.other":    "unique index public.wr_key",
	} {
		if p, ok := got[col]; !ok || !strings.Contains(p.Detail, want) {
			t.Errorf("%s: want a problem with %q, got %+v", col, want, p)
		}
	}
	// Bijective rules on WITH = columns pass; so do columns no index or
	// constraint covers.
	got = analyze(
		rule("excl", "code", "format_preserving", nil),
		rule("excl", "bcode", "format_preserving", nil),
		rule("excl", "note", "redact", x),
		rule("wr", "code", "keep", nil),
	)
	if len(got) != 0 {
		t.Errorf("bijective rules on exclusion constraints WITH = should pass: %v", got)
	}
}
