package scaling

import (
	"errors"
	"fmt"
	"math"
	"slices"
	"strconv"
	"strings"
)

// Rule kinds.
const (
	KindRatio    = "ratio"
	KindLadder   = "ladder"
	KindQuantity = "quantity"
	KindSet      = "set"
	KindKeep     = "keep"
)

// Rounding modes of ratio and quantity rules.
const (
	RoundUp      = "up"
	RoundDown    = "down"
	RoundNearest = "nearest"
	RoundNone    = "none"
)

// Errors wrapped by [PathError]; test for them with errors.Is.
var (
	// ErrInvalidRule reports a rule that is malformed whatever the input.
	ErrInvalidRule = errors.New("invalid rule")
	// ErrUnknownPath reports a rule whose path matches nothing.
	ErrUnknownPath = errors.New("unknown path")
	// ErrGrow reports a rule that would make staging larger than
	// production without allow_grow.
	ErrGrow = errors.New("staging would be larger than production; set allow_grow = true to allow it")
	// ErrNotInLadder reports an instance size found in no size ladder.
	ErrNotInLadder = errors.New("not in any size ladder")
	// ErrValue reports a production value of the wrong type for its rule.
	ErrValue = errors.New("value does not fit the rule")
	// ErrConflict reports two rules that target the same value, or a keep
	// rule and another rule on overlapping paths.
	ErrConflict = errors.New("conflicting rules")
)

// PathError is the error of one rule, or of one value a rule addresses.
type PathError struct {
	// Path is the concrete path of the value, or the rule path for errors
	// about the rule itself.
	Path string
	// Rule is the rule path when it differs from Path (wildcards).
	Rule string
	// Err describes the problem and wraps one of the Err* sentinels.
	Err error
}

func (e *PathError) Error() string {
	if e.Rule != "" && e.Rule != e.Path {
		return fmt.Sprintf("scaling path %q (rule %q): %v", e.Path, e.Rule, e.Err)
	}
	return fmt.Sprintf("scaling path %q: %v", e.Path, e.Err)
}

func (e *PathError) Unwrap() error { return e.Err }

// Rule says how one path of the production inputs becomes staging's.
// Only the fields of its Kind are used.
type Rule struct {
	// Kind is one of ratio, ladder, quantity, set, keep.
	Kind string
	// Ratio multiplies the value (ratio and quantity).
	Ratio float64
	// Min and Max bound the result of a ratio rule.
	Min, Max *float64
	// MinQuantity and MaxQuantity bound the result of a quantity rule
	// ("250m", "256Mi").
	MinQuantity, MaxQuantity string
	// MinSize is the smallest size a ladder rule may step down to; it
	// must be in the same family as the value.
	MinSize string
	// Round is up, down, nearest or none. The default rounds integer
	// production values up to an integer and leaves fractional ones
	// unrounded (ratio); quantities round up to one unit below the one
	// they are written in (Gi to Mi, G to M, cores to 1m).
	Round string
	// AllowGrow lets the result exceed production (ratio or quantity above
	// 1, negative ladder steps, a min above production).
	AllowGrow bool
	// Steps is the number of sizes a ladder rule steps down.
	Steps int
	// Value is the fixed staging value of a set rule.
	Value any
	// Optional makes a rule whose path matches nothing a no-op instead of
	// an error.
	Optional bool
}

// String describes the rule for humans: "ratio 0.25, min 1", "ladder 2".
func (r Rule) String() string {
	var parts []string
	add := func(s string) { parts = append(parts, s) }
	switch r.Kind {
	case KindRatio, KindQuantity:
		add(r.Kind + " " + formatFloat(r.Ratio))
		if r.Kind == KindRatio {
			if r.Min != nil {
				add("min " + formatFloat(*r.Min))
			}
			if r.Max != nil {
				add("max " + formatFloat(*r.Max))
			}
		} else {
			if r.MinQuantity != "" {
				add("min " + r.MinQuantity)
			}
			if r.MaxQuantity != "" {
				add("max " + r.MaxQuantity)
			}
		}
		if r.Round != "" {
			add("round " + r.Round)
		}
	case KindLadder:
		add("ladder " + strconv.Itoa(r.Steps))
		if r.MinSize != "" {
			add("min " + r.MinSize)
		}
	case KindSet:
		add("set " + FormatValue(r.Value))
	default:
		add(r.Kind)
	}
	if r.AllowGrow {
		add("allow_grow")
	}
	return strings.Join(parts, ", ")
}

// Validate checks the rule on its own, without input. Errors wrap
// ErrInvalidRule or ErrGrow.
func (r Rule) Validate() error {
	bad := func(format string, args ...any) error {
		return fmt.Errorf("%w: "+format, append([]any{ErrInvalidRule}, args...)...)
	}
	switch r.Kind {
	case KindRatio, KindQuantity:
		if math.IsNaN(r.Ratio) || math.IsInf(r.Ratio, 0) || r.Ratio < 0 {
			return bad("%s %s must be a number of 0 or more", r.Kind, formatFloat(r.Ratio))
		}
		if r.Ratio > 1 && !r.AllowGrow {
			return fmt.Errorf("%s %s is greater than 1: %w", r.Kind, formatFloat(r.Ratio), ErrGrow)
		}
		switch r.Round {
		case "", RoundUp, RoundDown, RoundNearest, RoundNone:
		default:
			return bad("round %q is not one of up, down, nearest, none", r.Round)
		}
		lo, hi := r.Min, r.Max
		if r.Kind == KindQuantity {
			if r.Min != nil || r.Max != nil {
				return bad("quantity bounds go in MinQuantity and MaxQuantity")
			}
			var err error
			if lo, err = optQuantity("min", r.MinQuantity); err != nil {
				return err
			}
			if hi, err = optQuantity("max", r.MaxQuantity); err != nil {
				return err
			}
		}
		if lo != nil && hi != nil && *lo > *hi {
			return bad("min is greater than max")
		}
	case KindLadder:
		if r.Steps < 0 && !r.AllowGrow {
			return fmt.Errorf("ladder %d steps up: %w", r.Steps, ErrGrow)
		}
		if r.MinSize != "" {
			if _, ok := LookupSize(r.MinSize); !ok {
				return fmt.Errorf("%w: min %q is %w", ErrInvalidRule, r.MinSize, ErrNotInLadder)
			}
		}
	case KindSet, KindKeep:
	default:
		return bad("unknown kind %q (want ratio, ladder, quantity, set or keep)", r.Kind)
	}
	return nil
}

func optQuantity(name, s string) (*float64, error) {
	if s == "" {
		return nil, nil
	}
	q, err := ParseQuantity(s)
	if err != nil {
		return nil, fmt.Errorf("%w: %s: %w", ErrInvalidRule, name, err)
	}
	return &q.Value, nil
}

var kinds = []string{KindRatio, KindLadder, KindQuantity, KindSet, KindKeep}

// attributes lists, per attribute of a raw rule object, the kinds it
// applies to.
var attributes = map[string][]string{
	"ratio":      {KindRatio},
	"ladder":     {KindLadder},
	"quantity":   {KindQuantity},
	"set":        {KindSet},
	"keep":       {KindKeep},
	"min":        {KindRatio, KindQuantity, KindLadder},
	"max":        {KindRatio, KindQuantity},
	"round":      {KindRatio, KindQuantity},
	"allow_grow": {KindRatio, KindQuantity, KindLadder},
	"optional":   kinds,
}

// ParseRules converts rules decoded from HCL or JSON, a map from path to an
// object holding only the attributes it needs, into Rules:
//
//	{"replicas": {"ratio": 0.25, "min": 1}, "instance_type": {"ladder": 2},
//	 "cpu": {"quantity": 0.5, "min": "250m"}, "multi_az": {"set": false},
//	 "image": {"keep": true}}
//
// Exactly one of ratio, ladder, quantity, set, keep gives the kind; min,
// max, round, allow_grow and optional refine it. Attributes that are null
// count as absent (typed objects with optional attributes), except that an
// object holding nothing but "set": null sets the value to null. All errors
// are reported, joined, each a [*PathError] naming the path.
func ParseRules(raw map[string]any) (map[string]Rule, error) {
	out := make(map[string]Rule, len(raw))
	var errs []error
	for _, path := range sortedKeys(raw) {
		r, err := parseRule(raw[path])
		if err == nil {
			if _, perr := ParsePath(path); perr != nil {
				err = fmt.Errorf("%w: %w", ErrInvalidRule, perr)
			}
		}
		if err != nil {
			errs = append(errs, &PathError{Path: path, Err: err})
			continue
		}
		out[path] = r
	}
	if len(errs) > 0 {
		return nil, errors.Join(errs...)
	}
	return out, nil
}

func parseRule(v any) (Rule, error) {
	var r Rule
	bad := func(format string, args ...any) (Rule, error) {
		return Rule{}, fmt.Errorf("%w: "+format, append([]any{ErrInvalidRule}, args...)...)
	}
	m, ok := v.(map[string]any)
	if !ok {
		return bad("want an object such as { ratio = 0.25 }, got %s", FormatValue(v))
	}
	for _, k := range sortedKeys(m) {
		if _, ok := attributes[k]; !ok {
			return bad("unknown attribute %q (allowed: ratio, ladder, quantity, set, keep, min, max, round, allow_grow, optional)", k)
		}
	}
	for _, k := range kinds {
		if m[k] == nil {
			continue
		}
		if r.Kind != "" {
			return bad("both %s and %s are set; use one", r.Kind, k)
		}
		r.Kind = k
	}
	if r.Kind == "" {
		if _, ok := m["set"]; ok && len(m) == 1 {
			return Rule{Kind: KindSet}, nil
		}
		return bad("needs one of ratio, ladder, quantity, set or keep")
	}
	for _, k := range sortedKeys(m) {
		if m[k] != nil && !slices.Contains(attributes[k], r.Kind) {
			return bad("%s does not apply to a %s rule", k, r.Kind)
		}
	}
	var err error
	switch r.Kind {
	case KindRatio, KindQuantity:
		if r.Ratio, err = toNumber(r.Kind, m[r.Kind]); err != nil {
			return Rule{}, err
		}
	case KindLadder:
		f, err := toNumber("ladder", m["ladder"])
		if err != nil {
			return Rule{}, err
		}
		if f != math.Trunc(f) || math.Abs(f) > 1000 {
			return bad("ladder %s must be a whole number of steps", formatFloat(f))
		}
		r.Steps = int(f)
	case KindSet:
		r.Value = deepCopy(m["set"])
	case KindKeep:
		if b, ok := m["keep"].(bool); !ok || !b {
			return bad("keep must be true, got %s", FormatValue(m["keep"]))
		}
	}
	for _, k := range []string{"min", "max"} {
		v := m[k]
		if v == nil {
			continue
		}
		switch r.Kind {
		case KindRatio:
			f, err := toNumber(k, v)
			if err != nil {
				return Rule{}, err
			}
			if k == "min" {
				r.Min = &f
			} else {
				r.Max = &f
			}
		case KindQuantity:
			var s string
			if f, ok := Number(v); ok {
				s = formatFloat(f)
			} else if s, ok = v.(string); !ok {
				return bad("%s must be a quantity such as \"250m\", got %s", k, FormatValue(v))
			}
			if k == "min" {
				r.MinQuantity = s
			} else {
				r.MaxQuantity = s
			}
		case KindLadder:
			s, ok := v.(string)
			if !ok {
				return bad("min of a ladder rule must be a size such as \"t3.small\", got %s", FormatValue(v))
			}
			r.MinSize = s
		}
	}
	if v := m["round"]; v != nil {
		s, ok := v.(string)
		if !ok {
			return bad("round must be a string, got %s", FormatValue(v))
		}
		r.Round = s
	}
	for k, dst := range map[string]*bool{"allow_grow": &r.AllowGrow, "optional": &r.Optional} {
		if v := m[k]; v != nil {
			b, ok := v.(bool)
			if !ok {
				return bad("%s must be a bool, got %s", k, FormatValue(v))
			}
			*dst = b
		}
	}
	if err := r.Validate(); err != nil {
		return Rule{}, err
	}
	return r, nil
}

// toNumber accepts numbers and numeric strings (Terraform may convert).
func toNumber(name string, v any) (float64, error) {
	if f, ok := Number(v); ok {
		return f, nil
	}
	if s, ok := v.(string); ok {
		if f, err := strconv.ParseFloat(strings.TrimSpace(s), 64); err == nil {
			return f, nil
		}
	}
	return 0, fmt.Errorf("%w: %s must be a number, got %s", ErrInvalidRule, name, FormatValue(v))
}
