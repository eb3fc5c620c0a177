package pgclone

import (
	"context"
	"errors"
	"fmt"
	"strings"
	"unicode/utf8"

	"github.com/jackc/pgx/v5/pgconn"

	"github.com/stagingkit/terraform-provider-staging/internal/masking"
)

// A column whose type is a domain with CHECK constraints (at any depth of
// domains over domains) accepts only what the checks accept, and a
// masked value may not pass them (a format_preserving code no longer
// matching the domain's pattern failed the copy with 23514). The plan
// masks the sampled values and casts them to the column's type in the
// source's read-only transaction, inside a savepoint; the checks are
// PostgreSQL's own, whatever functions they call.

// domainCheck is one CHECK constraint of a domain in a column's type.
type domainCheck struct {
	domain, constraint string
}

// readDomainChecks reads the CHECK constraints of the domains of column
// attnum of relation rel: its type and the types it is a domain over, and
// for an array the same of its element type.
func readDomainChecks(ctx context.Context, q Querier, rel uint32, attnum int) ([]domainCheck, error) {
	rows, err := q.Query(ctx, `
		WITH RECURSIVE dt(oid) AS (
		    SELECT t.oid FROM pg_attribute a JOIN pg_type t ON t.oid = a.atttypid
		    WHERE a.attrelid = $1 AND a.attnum = $2
		  UNION
		    SELECT CASE WHEN t.typtype = 'd' THEN t.typbasetype ELSE t.typelem END
		    FROM dt JOIN pg_type t ON t.oid = dt.oid
		    WHERE t.typtype = 'd' OR t.typelem <> 0 AND t.typcategory = 'A')
		SELECT format_type(t.oid, NULL), quote_ident(c.conname)
		FROM dt JOIN pg_type t ON t.oid = dt.oid JOIN pg_constraint c ON c.contypid = t.oid AND c.contype = 'c'
		ORDER BY 1, 2`, rel, attnum)
	if err != nil {
		return nil, fmt.Errorf("reading domain constraints: %w", err)
	}
	defer rows.Close()
	var out []domainCheck
	for rows.Next() {
		var d domainCheck
		if err := rows.Scan(&d.domain, &d.constraint); err != nil {
			return nil, fmt.Errorf("reading domain constraints: %w", err)
		}
		out = append(out, d)
	}
	return out, rows.Err()
}

// exec runs a statement through a Querier.
func exec(ctx context.Context, q Querier, sql string, args ...any) error {
	rows, err := q.Query(ctx, sql, args...)
	if err != nil {
		return err
	}
	rows.Close()
	return rows.Err()
}

// checkDomainSamples masks samples with t and casts them, as one array,
// to an array of the column's type typ (format_type), inside a savepoint
// of the read-only transaction. It returns how many masked values were
// checked and, when the cast fails, why: the constraint PostgreSQL names
// (a check violation's message holds no value) or the SQLSTATE alone,
// never a value. Sampled values the transformer refuses are left to the
// invalid-sample check.
func checkDomainSamples(ctx context.Context, q Querier, typ string, t masking.Transformer, samples []string) (checked int, failed string, err error) {
	var masked []string
	var buf []byte
	for _, s := range samples {
		if utf8.RuneCountInString(s) >= sampleCellChars {
			continue
		}
		out, err := t.Transform(buf[:0], []byte(s))
		if err != nil {
			continue
		}
		buf = out
		masked = append(masked, string(out))
	}
	if len(masked) == 0 {
		return 0, "", nil
	}
	if err := exec(ctx, q, "SAVEPOINT pgclone_domain_check"); err != nil {
		return 0, "", fmt.Errorf("checking domain constraints: %w", err)
	}
	castErr := exec(ctx, q, "SELECT $1::text[]::"+typ+"[]", masked)
	if castErr == nil {
		if err := exec(ctx, q, "RELEASE SAVEPOINT pgclone_domain_check"); err != nil {
			return 0, "", fmt.Errorf("checking domain constraints: %w", err)
		}
		return len(masked), "", nil
	}
	if err := exec(ctx, q, "ROLLBACK TO SAVEPOINT pgclone_domain_check"); err != nil {
		return 0, "", fmt.Errorf("checking domain constraints: %w (after %v)", err, castErr)
	}
	_ = exec(ctx, q, "RELEASE SAVEPOINT pgclone_domain_check")
	var pe *pgconn.PgError
	if !errors.As(castErr, &pe) {
		return 0, "", fmt.Errorf("checking domain constraints: %w", castErr)
	}
	if pe.Code == "23514" {
		return len(masked), fmt.Sprintf("violates check constraint %q of domain %s", pe.ConstraintName, pe.DataTypeName), nil
	}
	return len(masked), fmt.Sprintf("is refused by the column's type (SQLSTATE %s)", pe.Code), nil
}

// domainCheckProblem judges a ruled column against the CHECK constraints
// of its type's domains: detail is the plan refusal when a masked sample
// fails them (or the column holds arrays, which the plan does not check),
// warning the note that they held on the sampled values only.
func domainCheckProblem(ctx context.Context, q Querier, rel *relation, col column, cp *columnPlan, samples []string) (detail, warning string, err error) {
	if col.baseTyp == col.typ && !col.isArray() {
		return "", "", nil // not a domain: no round trip
	}
	checks, err := readDomainChecks(ctx, q, rel.oid, col.num)
	if err != nil || len(checks) == 0 {
		return "", "", err
	}
	var names []string
	for _, c := range checks {
		names = append(names, fmt.Sprintf("domain %s, constraint %s", c.domain, c.constraint))
	}
	what := fmt.Sprintf("its type %s has CHECK constraints (%s)", col.typ, strings.Join(names, "; "))
	wayOut := "use a transformer whose outputs the constraint accepts, transformer \"null\" (if the domain allows NULL) or \"redact\" with a value the constraint accepts, \"keep\" if the column holds nothing personal, or relax the domain's constraint"
	if col.isArray() {
		return fmt.Sprintf("%s, which the plan cannot check masked arrays against, so the copy could fail at the first value they refuse; %s", what, wayOut), "", nil
	}
	n, failed, err := checkDomainSamples(ctx, q, col.typ, cp.t, samples)
	if err != nil {
		return "", "", err
	}
	if failed != "" {
		return fmt.Sprintf("%s, and a masked sampled value %s, so the copy would fail; %s", what, failed, wayOut), "", nil
	}
	if n == 0 {
		return "", fmt.Sprintf("Column %s.%s: %s; no sampled value could be masked to check them against (an empty column, or values the rule refuses), so only the copy checks them, and it fails at the first value they refuse.", rel.qualified(), col.name, what), nil
	}
	return "", fmt.Sprintf("Column %s.%s: %s; the masked values of %d sampled rows pass them, but the other rows are checked only by the copy, which fails at the first value they refuse.", rel.qualified(), col.name, what, n), nil
}
