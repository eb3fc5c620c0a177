package pgclone

import (
	"context"
	"fmt"

	"github.com/stagingkit/terraform-provider-staging/internal/masking"
)

// ProblemForeignKeyMasking: the two ends of a foreign key (or a virtual
// one) are not masked alike, so masked references would stop matching.
const ProblemForeignKeyMasking = "foreign_key_masking"

// foreignKeyMaskingProblems checks every foreign key among tables, and
// every virtual foreign key, column pair by column pair: both ends must be
// masked with the same transformer, domain, options and on_invalid policy
// (a column without a rule counts as "keep"; a referencing column masked
// to NULL references nothing and is fine). A problem names both columns,
// on the referencing side.
func foreignKeyMaskingProblems(ctx context.Context, q Querier, tables []string, virtual []VirtualForeignKey, specOf func(table, column string) (masking.Spec, bool)) ([]Problem, error) {
	fks, err := ReadForeignKeys(ctx, q, tables)
	if err != nil {
		return nil, err
	}
	for _, v := range virtual {
		fks = append(fks, ForeignKey{Name: "virtual", Table: Qualify(v.Table), Columns: v.Columns, RefTable: Qualify(v.RefTable), RefColumns: v.RefColumns})
	}
	keep := masking.Spec{Transformer: "keep"}
	describe := func(s masking.Spec, ruled bool) string {
		if !ruled {
			return "no rule (copied as it is)"
		}
		d := fmt.Sprintf("transformer %q", s.Transformer)
		if s.Domain != "" {
			d += fmt.Sprintf(" in domain %q", s.Domain)
		}
		return d
	}
	var out []Problem
	for _, fk := range fks {
		for i := range min(len(fk.Columns), len(fk.RefColumns)) {
			a, aRuled := specOf(fk.Table, fk.Columns[i])
			b, bRuled := specOf(fk.RefTable, fk.RefColumns[i])
			if aRuled && a.Transformer == "null" {
				continue // a NULL reference references nothing
			}
			if !aRuled {
				a = keep
			}
			if !bRuled {
				b = keep
			}
			if ok, why := masking.SameMasking(a, b); !ok {
				out = append(out, Problem{Kind: ProblemForeignKeyMasking, Table: fk.Table, Column: fk.Columns[i], Detail: fmt.Sprintf(
					"foreign key %s references %s.%s, which is masked differently (%s): %s.%s has %s and %s.%s has %s; give both ends the same transformer, domain, options and on_invalid, or masked references stop matching",
					fk.Name, fk.RefTable, fk.RefColumns[i], why, fk.Table, fk.Columns[i], describe(a, aRuled), fk.RefTable, fk.RefColumns[i], describe(b, bRuled))})
			}
		}
	}
	return out, nil
}
