package pgclone

import (
	"context"
	"fmt"

	"github.com/stagingkit/terraform-provider-staging/internal/masking"
)

// ColumnFinding is a column that looks like personal data.
type ColumnFinding struct {
	Table, Column, SQLType string
	// Findings are the detector's, most confident first.
	Findings []masking.Finding
}

// ScanPII runs the PII detector over every included column of the source
// (name, SQL type, and up to 1,000 non-NULL values sampled across the table), the way Analyze
// does, and returns the columns that look personal: the starting point of
// a masking policy. q should be a REPEATABLE READ READ ONLY transaction.
// Only the schema and table filters of opts are used.
func ScanPII(ctx context.Context, q Querier, opts Options) ([]ColumnFinding, error) {
	if err := opts.validate(); err != nil {
		return nil, err
	}
	cat, err := readCatalog(ctx, q, &opts)
	if err != nil {
		return nil, err
	}
	keys, err := readKeyColumns(ctx, q, cat, nil)
	if err != nil {
		return nil, err
	}
	suggested := map[string]*masking.Spec{}
	var out []ColumnFinding
	for _, rel := range cat.order {
		if !rel.included || rel.isPartition {
			continue
		}
		samples, err := sampleColumns(ctx, q, rel)
		if err != nil {
			return nil, fmt.Errorf("sampling %s: %w", rel.qualified(), err)
		}
		for i, col := range rel.columns {
			if col.generated != 0 {
				continue
			}
			f := masking.Detect(masking.Column{Name: col.name, SQLType: col.typ, Samples: samples[i]})
			if len(f) == 0 {
				continue
			}
			// The same rule the clone's plan error proposes.
			key := keys.key[rel.qualified()+"."+col.name]
			for j := range f {
				sg := suggestRule(f[j], samples[i], col.baseType(), key)
				f[j].Suggested = sg.Spec
				if sg.Note != "" {
					f[j].Reason += "; " + sg.Note
				}
			}
			suggested[rel.qualified()+"."+col.name] = &f[0].Suggested
			out = append(out, ColumnFinding{Table: rel.qualified(), Column: col.name, SQLType: col.typ, Findings: f})
		}
	}
	keys.align(suggested)
	return out, nil
}
