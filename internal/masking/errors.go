package masking

import (
	"errors"
	"fmt"
	"sort"
	"strings"
)

// ErrNoKey is returned by [New] when it is given the zero [Key]: keys must
// come from [DeriveKey], never from a default.
var ErrNoKey = errors.New("masking: no key: derive one from an environment secret with DeriveKey")

// ErrEmptySecret is returned by [DeriveKey] for an empty secret.
var ErrEmptySecret = errors.New("masking: empty secret: a masking key needs a non-empty environment secret")

// UnknownTransformerError reports a transformer name that is not in the
// [Catalog].
type UnknownTransformerError struct {
	Name string
}

func (e *UnknownTransformerError) Error() string {
	return fmt.Sprintf("masking: unknown transformer %q; valid transformers are: %s",
		e.Name, strings.Join(TransformerNames(), ", "))
}

// OptionError reports an option of a [Spec] that is missing, unknown, of the
// wrong type or out of range.
type OptionError struct {
	Transformer string
	Option      string
	Reason      string
}

func (e *OptionError) Error() string {
	return fmt.Sprintf("masking: transformer %q: option %q: %s", e.Transformer, e.Option, e.Reason)
}

// InvalidInputError reports a value that is not valid for a transformer's
// format (for example a card number that fails the Luhn check) when the
// spec's OnInvalid policy is "error". It never contains the value itself.
type InvalidInputError struct {
	Transformer string
	Reason      string
}

func (e *InvalidInputError) Error() string {
	return fmt.Sprintf("masking: value is not valid for transformer %q: %s (set on_invalid to \"redact\" or \"hash\" to mask such values instead)",
		e.Transformer, e.Reason)
}

// invalidReason is the allocation-free error a transformer body returns for
// invalid input; the policy wrapper turns it into an [InvalidInputError].
type invalidReason string

func (r invalidReason) Error() string { return string(r) }

func optionErr(t, opt, format string, args ...any) error {
	return &OptionError{Transformer: t, Option: opt, Reason: fmt.Sprintf(format, args...)}
}

func sortedKeys[V any](m map[string]V) []string {
	keys := make([]string, 0, len(m))
	for k := range m {
		keys = append(keys, k)
	}
	sort.Strings(keys)
	return keys
}
