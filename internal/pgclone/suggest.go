package pgclone

import (
	"context"
	"fmt"
	"maps"
	"strconv"
	"strings"

	"github.com/stagingkit/terraform-provider-staging/internal/masking"
)

// suggestKey masks samples only to check that a suggestion passes on
// them; the masked values are thrown away.
var suggestKey = func() masking.Key {
	k, err := masking.DeriveKey([]byte("pgclone: suggestions are checked on their samples"))
	if err != nil {
		panic(err)
	}
	return k
}()

// Suggestion is the rule proposed for a column the detector flagged, with
// a note for the user when no rule both passes on the sampled values and
// keeps the column's uniqueness.
type Suggestion struct {
	Spec masking.Spec
	Note string
}

// suggestRule turns the detector's finding for a column into the rule the
// clone's plan error and staging_pii_scan propose, so the two cannot
// drift. key is true for a column in a primary key, unique index (or
// unique expression index) or at either end of a foreign key: it needs a
// bijective rule with on_invalid = "error", the same at both ends.
// Elsewhere the rule keeps less: an e-mail's local part is hashed instead
// of keeping its parts' lengths, and values the format refuses are
// redacted (one constant) rather than hashed (which keeps which rows
// share a value). The rule is checked on samples, the values the detector
// saw: when a sampled value is not valid for the format on a key column, no
// on_invalid keeps uniqueness, so the rule becomes format_preserving (which
// accepts any text) when that passes, and the note says so.
func suggestRule(f masking.Finding, samples []string, sqlType string, key bool) Suggestion {
	s := f.Suggested
	s.Options = maps.Clone(s.Options)
	if s.Options == nil {
		s.Options = map[string]any{}
	}
	var note string
	if !key {
		if s.Transformer == "email" {
			if _, set := s.Options["local_part"]; !set {
				s.Options["local_part"] = "hash"
			}
		}
		if s.OnInvalid == masking.OnInvalidHash {
			s.OnInvalid = masking.OnInvalidRedact
			if n := typeLength(sqlType); n > 0 && n < len("REDACTED") {
				s.Options["invalid_value"] = ""
			}
		}
	} else if s.OnInvalid != "" && s.OnInvalid != masking.OnInvalidError {
		invalid := s.Transformer
		s = masking.Spec{Transformer: "format_preserving", Options: map[string]any{}}
		note = "some sampled values are not valid for " + invalid + " and the column is unique or a foreign key, where on_invalid must stay \"error\"; " +
			"format_preserving accepts any text one to one (it keeps each character's class and the length), or clean the invalid values in production"
		if !passes(s, samples) {
			s = f.Suggested
			s.OnInvalid = ""
			note = "some sampled values are not valid for " + invalid + " and the column is unique or a foreign key, where on_invalid must stay \"error\" and no transformer takes them one to one: " +
				"clean the invalid values in production, or mask the column with a rule of your own"
		}
	}
	if len(s.Options) == 0 {
		s.Options = nil
	}
	if n := typeLength(sqlType); n > 0 {
		if fit, fitNote, changed := fitLength(s, samples, sqlType, n, key); changed {
			return Suggestion{Spec: fit, Note: strings.TrimSpace(note + " " + fitNote)}
		}
	}
	if note == "" && !passes(s, samples) {
		// The adjustments must not make a rule fail where the detector's
		// own one passed.
		return Suggestion{Spec: f.Suggested}
	}
	return Suggestion{Spec: s, Note: note}
}

// fitLength replaces a suggestion whose outputs varchar(n) cannot hold
// (the plan refuses it: an e-mail widened or hashed, a dictionary name)
// by format_preserving, which keeps the length (with small_domain =
// "hash" off key columns, for values too short to encrypt), or off key
// columns by text_scramble; changed is false when s fits. When nothing
// that fits passes on the samples, s is kept and the note says how to
// make room.
func fitLength(s masking.Spec, samples []string, sqlType string, n int, key bool) (masking.Spec, string, bool) {
	class := masking.ClassOf(sqlType, false)
	ok, why := masking.FitsType(s, class, key)
	if ok {
		return s, "", false
	}
	tries := []masking.Spec{{Transformer: "format_preserving"}}
	if !key {
		tries = append(tries,
			masking.Spec{Transformer: "format_preserving", Options: map[string]any{"small_domain": "hash"}},
			masking.Spec{Transformer: "text_scramble"})
	}
	for _, t := range tries {
		if fits, _ := masking.FitsType(t, class, key); fits && passes(t, samples) {
			return t, fmt.Sprintf("%s is not suggested: the column is %s and %s; %s keeps each value's length", s.Transformer, sqlType, why, t.Transformer), true
		}
	}
	return s, fmt.Sprintf("the column is %s and %s; no length-keeping transformer passes on the sampled values", sqlType, why), true
}

// passes reports whether spec masks every sample without an error.
func passes(spec masking.Spec, samples []string) bool {
	t, err := masking.New(spec, suggestKey)
	if err != nil {
		return false
	}
	for _, v := range samples {
		if _, err := masking.MaskString(t, v); err != nil {
			return false
		}
	}
	return true
}

// typeLength is n of varchar(n), character varying(n) or character(n); 0
// otherwise.
func typeLength(sqlType string) int {
	t := strings.ToLower(sqlType)
	i, j := strings.IndexByte(t, '('), strings.IndexByte(t, ')')
	if i < 0 || j < i || !strings.HasPrefix(t, "char") && !strings.HasPrefix(t, "varchar") {
		return 0
	}
	n, _ := strconv.Atoi(t[i+1 : j])
	return n
}

// keyColumns describes the columns whose masking shapes keys: in key,
// "schema.table.column" of every column of the included relations in a
// primary key or unique index (its own or a partition's) or at either end
// of a foreign key or virtual foreign key; in refOf, each referencing
// column's referenced column.
type keyColumns struct {
	key   map[string]bool
	refOf map[string]string
}

// readKeyColumns reads the keyColumns of cat's included relations.
func readKeyColumns(ctx context.Context, q Querier, cat *catalogState, virtual []VirtualForeignKey) (keyColumns, error) {
	k := keyColumns{key: map[string]bool{}, refOf: map[string]string{}}
	var tables []string
	for _, rel := range cat.order {
		if !rel.included {
			continue
		}
		tables = append(tables, rel.qualified())
		for _, c := range rel.columns {
			if c.unique || c.uniqueExpr {
				k.key[rel.root+"."+c.name] = true
				k.key[rel.qualified()+"."+c.name] = true
			}
		}
	}
	fks, err := ReadForeignKeys(ctx, q, tables)
	if err != nil {
		return k, err
	}
	for _, v := range virtual {
		fks = append(fks, ForeignKey{Table: Qualify(v.Table), Columns: v.Columns, RefTable: Qualify(v.RefTable), RefColumns: v.RefColumns})
	}
	for _, fk := range fks {
		for i := range min(len(fk.Columns), len(fk.RefColumns)) {
			child, parent := fk.Table+"."+fk.Columns[i], fk.RefTable+"."+fk.RefColumns[i]
			k.key[child], k.key[parent] = true, true
			k.refOf[child] = parent
		}
	}
	return k, nil
}

// align gives every referencing column with a suggestion the suggestion of
// the column it references, when that has one: both ends of a foreign key
// must be masked alike, and the referenced column's samples are the wider
// set (its rule passes on every value a reference can hold).
func (k keyColumns) align(specs map[string]*masking.Spec) {
	for child, s := range specs {
		parent := child
		for range 8 { // chains of references, never a cycle forever
			next, ok := k.refOf[parent]
			if !ok || specs[next] == nil {
				break
			}
			parent = next
		}
		if parent != child {
			*s = *specs[parent]
		}
	}
}

// baseType is the column's type with its domains resolved (format_type of
// the base type, with the domain's length), the type whose bounds its
// values keep: suggestions are fitted to it.
func (c *column) baseType() string {
	if c.baseTyp != "" {
		return c.baseTyp
	}
	return c.typ
}
