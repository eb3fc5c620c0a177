package pgclone

import (
	"errors"
	"fmt"
	"strings"
	"unicode/utf8"

	"github.com/stagingkit/terraform-provider-staging/internal/masking"
)

// ProblemInvalidSamples: a rule whose transformer fails (on_invalid =
// "error", the default) on some of the column's sampled values, so the
// copy would fail at the first such row after copying what came before.
const ProblemInvalidSamples = "invalid_samples"

// invalidSamples runs the rule's transformer over the column's sampled
// values and reports how many it refuses as invalid input, and of how
// many it judged. Values the sample cut short (sampleCellChars, the bytea
// prefix) are not judged. It never keeps a value.
func invalidSamples(cp *columnPlan, typ string, samples []string) (invalid, judged int) {
	if cp == nil || cp.t == nil || strings.EqualFold(typ, "bytea") {
		return 0, 0
	}
	t := cp.t
	if a, ok := t.(arrayMask); ok {
		t = a.t // array columns are sampled element by element
	}
	var buf []byte
	for _, s := range samples {
		if utf8.RuneCountInString(s) >= sampleCellChars {
			continue
		}
		judged++
		var err error
		buf, err = t.Transform(buf[:0], []byte(s))
		var ie *masking.InvalidInputError
		if err != nil && errors.As(err, &ie) {
			invalid++
		}
	}
	return invalid, judged
}

// invalidSamplesDetail says how many sampled values the rule refuses and
// the way out, without any value.
func invalidSamplesDetail(spec masking.Spec, unique bool, invalid, judged int) string {
	d := fmt.Sprintf("transformer %q refuses %d of %d sampled values (%.1f%%) as not valid for its format, and with on_invalid = \"error\" (the default) the apply would fail at the first such row, after copying the tables before it; ",
		spec.Transformer, invalid, judged, 100*float64(invalid)/float64(judged))
	if unique {
		return d + "on a primary-key, unique or foreign-key column every masked value must stay distinct, so clean those values in production or use a transformer that accepts them (format_preserving, or hash with length >= 32)"
	}
	return d + "set on_invalid = \"redact\" (a constant) or \"hash\" (a keyed hash) to mask them too, or use a transformer that accepts them"
}
