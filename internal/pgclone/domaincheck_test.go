package pgclone

import (
	"context"
	"strings"
	"testing"

	"github.com/jackc/pgx/v5"

	"github.com/stagingkit/terraform-provider-staging/internal/masking"
	"github.com/stagingkit/terraform-provider-staging/internal/pgtest"
)

// TestAnalyze_domainCheckOnMaskedSamples is review #10's second review D:
// a domain's CHECK constraint (here a pattern) refused format_preserving's
// outputs at copy (23514) after plan passed. The plan now casts the masked
// samples to the column's type in the read-only source transaction and
// refuses naming the domain and the constraint, through a domain over a
// domain too; when they pass, it warns that only samples were checked.
func TestAnalyze_domainCheckOnMaskedSamples(t *testing.T) {
	c := pgtest.Require(t)
	prod := c.NewDatabase(t)
	pgtest.Exec(t, prod,
		`CREATE DOMAIN zip_d AS text CONSTRAINT zip_shape CHECK (VALUE ~ '^[A-Z]{3}-[0-9]{4}$')`,
		`CREATE DOMAIN zip_d2 AS zip_d`,
		`CREATE TABLE z (id int PRIMARY KEY, zip zip_d, zip2 zip_d2, zip3 zip_d, plain text, zips zip_d[])`,
		`INSERT INTO z SELECT g, 'ABC-' || (1000 + g), 'XYZ-' || (2000 + g), 'QRS-' || (3000 + g), 'p' || g, ARRAY['DEF-' || (4000 + g)]::zip_d[] FROM generate_series(1, 50) g`)
	ctx := context.Background()
	conn := dial(t, prod)
	tx, err := conn.BeginTx(ctx, pgx.TxOptions{IsoLevel: pgx.RepeatableRead, AccessMode: pgx.ReadOnly})
	if err != nil {
		t.Fatal(err)
	}
	defer func() { _ = tx.Rollback(ctx) }()
	rule := func(column, transformer string, opts map[string]any) ColumnRule {
		return ColumnRule{Table: "z", Column: column, Spec: masking.Spec{Transformer: transformer, Options: opts}}
	}
	a, err := Analyze(ctx, tx, Options{Key: testKey(t, "domain"), Rules: []ColumnRule{
		rule("zip", "format_preserving", nil),
		rule("zip2", "format_preserving", nil),
		rule("zip3", "redact", map[string]any{"value": "AAA-0000"}),
		rule("plain", "format_preserving", nil),
		rule("zips", "format_preserving", nil),
	}})
	if err != nil {
		t.Fatal(err)
	}
	got := map[string]string{}
	for _, p := range a.Problems {
		if p.Kind == ProblemOutputDoesNotFit {
			got[p.Column] = p.Detail
		}
	}
	for _, col := range []string{"zip", "zip2"} {
		if d := got[col]; !strings.Contains(d, "zip_shape") || !strings.Contains(d, "domain zip_d") || !strings.Contains(d, "keep") {
			t.Errorf("%s: want a refusal naming domain zip_d and constraint zip_shape with the way out, got %q", col, d)
		}
		if strings.Contains(got[col], "ABC-") || strings.Contains(got[col], "XYZ-") {
			t.Errorf("%s: the refusal holds a value: %q", col, got[col])
		}
	}
	if d := got["zips"]; !strings.Contains(d, "zip_shape") || !strings.Contains(d, "arrays") {
		t.Errorf("zips: an array of a CHECK domain is refused unless keep or null, got %q", d)
	}
	for _, col := range []string{"zip3", "plain"} {
		if d, ok := got[col]; ok {
			t.Errorf("%s: unexpected refusal %q", col, d)
		}
	}
	if len(a.Warnings) != 1 || !strings.Contains(a.Warnings[0], "public.z.zip3") || !strings.Contains(a.Warnings[0], "sampled rows pass them") {
		t.Errorf("want one warning that zip3's check held on 50 samples only, got %q", a.Warnings)
	}
	// The transaction is still usable after the failed casts.
	var one int
	if err := tx.QueryRow(ctx, "SELECT 1").Scan(&one); err != nil {
		t.Errorf("transaction after the checks: %v", err)
	}
}
