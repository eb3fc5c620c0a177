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
// to NULL references nothing and is fine; a column whose rule was refused,
// given by specOf as ruled with an empty spec, is reported on its own). A problem names both columns,
// on the referencing side.
//
// Each masked end is also judged against its own column (classOf): the
// masking must be bijective under that column's equality and write
// values its type holds (an integer end of a bigint key takes integer's
// max_value), as on a unique column; ends already judged as unique
// columns (judged true) are not reported twice. Digits with each end's
// type maximum counts as the same masking (masking.SameMaskingOn).
func foreignKeyMaskingProblems(ctx context.Context, q Querier, tables []string, virtual []VirtualForeignKey, specOf func(table, column string) (masking.Spec, bool),
	classOf func(table, column string) (class masking.ColumnClass, judged, ok bool)) ([]Problem, error) {
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
	reported := map[string]bool{}
	judge := func(fk ForeignKey, table, column string, s masking.Spec, ruled bool, other string) {
		class, judged, ok := classOf(table, column)
		if !ruled || !ok || judged || reported[table+"."+column] || s.Transformer == "keep" {
			return
		}
		if bij, why, err := masking.BijectiveUnder(s, class); err == nil && !bij {
			reported[table+"."+column] = true
			out = append(out, Problem{Kind: ProblemNonBijectiveUnique, Table: table, Column: column, Detail: fmt.Sprintf(
				"it is an end of foreign key %s (with %s), whose masked references must stay distinct and valid, but %s", fk.Name, other, why)})
		}
	}
	for _, fk := range fks {
		for i := range min(len(fk.Columns), len(fk.RefColumns)) {
			a, aRuled := specOf(fk.Table, fk.Columns[i])
			b, bRuled := specOf(fk.RefTable, fk.RefColumns[i])
			if aRuled && a.Transformer == "null" {
				continue // a NULL reference references nothing
			}
			if aRuled && a.Transformer == "" || bRuled && b.Transformer == "" {
				continue // a refused rule, reported on its own
			}
			if !aRuled {
				a = keep
			}
			if !bRuled {
				b = keep
			}
			judge(fk, fk.Table, fk.Columns[i], a, aRuled, fk.RefTable+"."+fk.RefColumns[i])
			judge(fk, fk.RefTable, fk.RefColumns[i], b, bRuled, fk.Table+"."+fk.Columns[i])
			ca, _, _ := classOf(fk.Table, fk.Columns[i])
			cb, _, _ := classOf(fk.RefTable, fk.RefColumns[i])
			if ok, why := masking.SameMaskingOn(a, b, ca, cb); !ok {
				out = append(out, Problem{Kind: ProblemForeignKeyMasking, Table: fk.Table, Column: fk.Columns[i], Detail: fmt.Sprintf(
					"foreign key %s references %s.%s, which is masked differently (%s): %s.%s has %s and %s.%s has %s; give both ends the same transformer, domain, options and on_invalid, or masked references stop matching",
					fk.Name, fk.RefTable, fk.RefColumns[i], why, fk.Table, fk.Columns[i], describe(a, aRuled), fk.RefTable, fk.RefColumns[i], describe(b, bRuled))})
			}
		}
	}
	return out, nil
}
