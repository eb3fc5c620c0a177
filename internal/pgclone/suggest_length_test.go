package pgclone

import (
	"context"
	"strings"
	"testing"

	"github.com/jackc/pgx/v5"

	"github.com/stagingkit/terraform-provider-staging/internal/masking"
	"github.com/stagingkit/terraform-provider-staging/internal/pgtest"
)

// Review #10 (second review, B): a suggestion must fit the column's
// varchar(n). The scan suggested email with local_part = "hash" (16
// characters) for a varchar(20) column holding a1@x.io; the copy failed
// with "value too long". Each suggestion here passes FitsType (what the
// plan checks) and masks its samples.
func TestSuggestRuleFitsVarcharLength(t *testing.T) {
	email := masking.Finding{Kind: "email", Suggested: masking.Spec{Transformer: "email"}}
	name := masking.Finding{Kind: "name", Suggested: masking.Spec{Transformer: "full_name"}}
	for _, c := range []struct {
		f       masking.Finding
		samples []string
		typ     string
		key     bool
		want    string
	}{
		{email, []string{"a1@x.io", "bob.smith@example.org"}, "character varying(20)", false, "format_preserving"},
		{email, []string{"a1@x.io", "bob.smith@example.org"}, "character varying(30)", true, "format_preserving"},
		{email, []string{"a1@x.io"}, "character varying(254)", false, "email"},
		{name, []string{"Mary Jones", "Al Bo"}, "character varying(12)", false, "format_preserving"},
		{name, []string{"Mary Jones"}, "text", false, "full_name"},
	} {
		sg := suggestRule(c.f, c.samples, c.typ, c.key)
		if sg.Spec.Transformer != c.want {
			t.Errorf("%s on %s (key %v): suggested %+v (%s), want %s", c.f.Kind, c.typ, c.key, sg.Spec, sg.Note, c.want)
			continue
		}
		if n := typeLength(c.typ); n > 0 {
			if ok, why := masking.FitsType(sg.Spec, masking.ClassOf(c.typ, false), c.key); !ok {
				t.Errorf("%s on %s: suggestion %+v does not fit: %s", c.f.Kind, c.typ, sg.Spec, why)
			}
			if c.want != c.f.Suggested.Transformer && !strings.Contains(sg.Note, "keeps each value's length") {
				t.Errorf("note %q", sg.Note)
			}
		}
		if !passes(sg.Spec, c.samples) {
			t.Errorf("%s on %s: suggestion %+v fails its samples", c.f.Kind, c.typ, sg.Spec)
		}
	}
}

// TestAnalyze_suggestionFitsDomainLength: the clone's suggestion for an
// e-mail column whose type is a domain over varchar(20) fits the domain's
// base type (email, and email with local_part = "hash", write longer
// addresses), so the rule it proposes passes its own plan.
func TestAnalyze_suggestionFitsDomainLength(t *testing.T) {
	c := pgtest.Require(t)
	prod := c.NewDatabase(t)
	pgtest.Exec(t, prod,
		`CREATE DOMAIN short_mail AS varchar(20)`,
		`CREATE TABLE people (id int PRIMARY KEY, email short_mail)`,
		`INSERT INTO people SELECT g, 'u' || g || '@x.io' FROM generate_series(1, 60) g`)
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
	for _, p := range a.Problems {
		if p.Column == "email" && p.Kind == ProblemUnmaskedPII {
			if p.Suggested == nil || p.Suggested.Transformer != "format_preserving" {
				t.Fatalf("suggested %+v for an e-mail column of a domain over varchar(20)", p.Suggested)
			}
			if ok, why := masking.FitsType(*p.Suggested, masking.ClassOf("character varying(20)", false), false); !ok {
				t.Fatalf("the suggestion does not fit: %s", why)
			}
			return
		}
	}
	t.Fatalf("no unmasked-PII problem for people.email: %+v", a.Problems)
}
