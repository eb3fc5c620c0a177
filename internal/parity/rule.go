package parity

import (
	"errors"
	"fmt"
	"math"
	"slices"
	"strconv"
	"strings"
	"time"

	"github.com/stagingkit/terraform-provider-staging/internal/scaling"
)

// Match kinds.
const (
	MatchExact      = "exact"
	MatchSameMajor  = "same_major"
	MatchSameMinor  = "same_minor"
	MatchSameFamily = "same_family"
	MatchScaled     = "scaled"
	MatchIgnore     = "ignore"
	MatchMaxLag     = "max_lag"
)

// PresetTwelveFactor derives rules from key names; see [Evaluate].
const PresetTwelveFactor = "twelve-factor"

// DefaultDeployedAt is the key, next to a max_lag rule's version, that holds
// the time staging deployed it.
const DefaultDeployedAt = "deployed_at"

// Errors wrapped by [RuleError] and [ExceptionError]; test for them with
// errors.Is.
var (
	// ErrUnknownMatch reports a match kind that does not exist.
	ErrUnknownMatch = errors.New("unknown match kind")
	// ErrRatioRange reports min_ratio above max_ratio, or a negative ratio.
	ErrRatioRange = errors.New("invalid ratio range")
	// ErrUnknownPath reports a path that matches nothing in either
	// production or staging.
	ErrUnknownPath = errors.New("unknown path")
	// ErrInvalidRule reports any other malformed rule.
	ErrInvalidRule = errors.New("invalid rule")
	// ErrInvalidException reports a malformed exception.
	ErrInvalidException = errors.New("invalid exception")
	// ErrUnknownPreset reports a preset that does not exist.
	ErrUnknownPreset = errors.New("unknown preset")
	// ErrBadDuration reports a duration that cannot be parsed.
	ErrBadDuration = errors.New("invalid duration")
)

// RuleError is the error of one rule, named by its path.
type RuleError struct {
	Path string
	Err  error
}

func (e *RuleError) Error() string { return fmt.Sprintf("parity rule for path %q: %v", e.Path, e.Err) }
func (e *RuleError) Unwrap() error { return e.Err }

// ExceptionError is the error of one exception, named by its path.
type ExceptionError struct {
	Path string
	Err  error
}

func (e *ExceptionError) Error() string {
	return fmt.Sprintf("parity exception for path %q: %v", e.Path, e.Err)
}
func (e *ExceptionError) Unwrap() error { return e.Err }

// Rule says how the staging facts at Path must relate to production's.
type Rule struct {
	// Path addresses the facts, with "*" wildcards.
	Path string
	// Match is one of exact, same_major, same_minor, same_family, scaled,
	// ignore, max_lag.
	Match string
	// MinRatio and MaxRatio bound staging/production for scaled rules.
	// Without them the ratio must be above 0 and at most 1.
	MinRatio, MaxRatio *float64
	// MaxLag is the longest a max_lag rule lets a release sit in staging
	// without reaching production.
	MaxLag time.Duration
	// DeployedAt locates, for max_lag, when staging deployed its version:
	// a key next to the version (default "deployed_at"), or a path with a
	// dot whose wildcards take the values Path's wildcards matched
	// ("services.*.deployed_at"). The value is an RFC 3339 time, a
	// date (2006-01-02) or Unix seconds.
	DeployedAt string
}

// String describes the rule: "exact", "scaled 0.1..1", "max_lag 14d".
func (r Rule) String() string {
	switch r.Match {
	case MatchScaled:
		if r.MinRatio == nil && r.MaxRatio == nil {
			return MatchScaled
		}
		return MatchScaled + " " + r.ratioRange()
	case MatchMaxLag:
		return MatchMaxLag + " " + FormatDuration(r.MaxLag)
	}
	return r.Match
}

func (r Rule) ratioRange() string {
	lo, hi := "0 < ratio", "ratio <= 1"
	if r.MinRatio != nil {
		lo = strconv.FormatFloat(*r.MinRatio, 'g', -1, 64) + " <= ratio"
	}
	if r.MaxRatio != nil {
		hi = "ratio <= " + strconv.FormatFloat(*r.MaxRatio, 'g', -1, 64)
	}
	return lo + ", " + hi
}

var matches = []string{MatchExact, MatchSameMajor, MatchSameMinor, MatchSameFamily, MatchScaled, MatchIgnore, MatchMaxLag}

// Validate checks the rule without facts. The error is a [*RuleError].
func (r Rule) Validate() error {
	fail := func(err error) error { return &RuleError{Path: r.Path, Err: err} }
	if _, err := scaling.ParsePath(r.Path); err != nil {
		return fail(fmt.Errorf("%w: %w", ErrInvalidRule, err))
	}
	if !slices.Contains(matches, r.Match) {
		return fail(fmt.Errorf("%w %q (want one of %s)", ErrUnknownMatch, r.Match, strings.Join(matches, ", ")))
	}
	if r.Match != MatchScaled && (r.MinRatio != nil || r.MaxRatio != nil) {
		return fail(fmt.Errorf("%w: min_ratio and max_ratio apply only to scaled, not %s", ErrInvalidRule, r.Match))
	}
	for _, p := range []*float64{r.MinRatio, r.MaxRatio} {
		if p != nil && (*p < 0 || math.IsNaN(*p) || math.IsInf(*p, 0)) {
			return fail(fmt.Errorf("%w: ratio %g must be a finite number of 0 or more", ErrRatioRange, *p))
		}
	}
	if r.MinRatio != nil && r.MaxRatio != nil && *r.MinRatio > *r.MaxRatio {
		return fail(fmt.Errorf("%w: min_ratio %g is greater than max_ratio %g", ErrRatioRange, *r.MinRatio, *r.MaxRatio))
	}
	if r.Match == MatchMaxLag {
		if r.MaxLag <= 0 {
			return fail(fmt.Errorf("%w: max_lag needs a positive duration such as \"14d\"", ErrInvalidRule))
		}
		if r.DeployedAt != "" {
			if _, err := scaling.ParsePath(r.DeployedAt); err != nil {
				return fail(fmt.Errorf("%w: deployed_at: %w", ErrInvalidRule, err))
			}
		}
	} else if r.MaxLag != 0 || r.DeployedAt != "" {
		return fail(fmt.Errorf("%w: max_lag and deployed_at apply only to match max_lag, not %s", ErrInvalidRule, r.Match))
	}
	return nil
}

// ParseRule converts one rule decoded from HCL or JSON:
//
//	{"path": "services.*.image", "match": "exact"}
//	{"path": "api.replicas", "match": "scaled", "min_ratio": 0.1, "max_ratio": 0.5}
//	{"path": "release.version", "match": "max_lag", "max_lag": "14d", "deployed_at": "deployed_at"}
//
// Null attributes count as absent. The rule is validated.
func ParseRule(raw map[string]any) (Rule, error) {
	path, _ := raw["path"].(string)
	fail := func(format string, args ...any) (Rule, error) {
		return Rule{}, &RuleError{Path: path, Err: fmt.Errorf("%w: "+format, append([]any{ErrInvalidRule}, args...)...)}
	}
	var r Rule
	for _, k := range sortedKeys(raw) {
		v := raw[k]
		if v == nil {
			continue
		}
		switch k {
		case "path", "match", "max_lag", "deployed_at":
			s, ok := v.(string)
			if !ok {
				return fail("%s must be a string, got %s", k, scaling.FormatValue(v))
			}
			switch k {
			case "path":
				r.Path = s
			case "match":
				r.Match = s
			case "deployed_at":
				r.DeployedAt = s
			case "max_lag":
				d, err := ParseDuration(s)
				if err != nil {
					return Rule{}, &RuleError{Path: path, Err: err}
				}
				r.MaxLag = d
			}
		case "min_ratio", "max_ratio":
			f, ok := scaling.Number(v)
			if !ok {
				return fail("%s must be a number, got %s", k, scaling.FormatValue(v))
			}
			if k == "min_ratio" {
				r.MinRatio = &f
			} else {
				r.MaxRatio = &f
			}
		default:
			return fail("unknown attribute %q (allowed: path, match, min_ratio, max_ratio, max_lag, deployed_at)", k)
		}
	}
	if r.Match == "" {
		return fail("match is required")
	}
	return r, r.Validate()
}

// ParseRules converts rules decoded from HCL or JSON: either a list of
// objects as [ParseRule] takes, or a map from path to an object without
// "path" or to a match kind string ({"image": "exact"}). Every error is
// reported, joined.
func ParseRules(raw any) ([]Rule, error) {
	var objs []map[string]any
	var errs []error
	switch t := raw.(type) {
	case nil:
		return nil, nil
	case []any:
		for i, v := range t {
			m, ok := v.(map[string]any)
			if !ok {
				errs = append(errs, fmt.Errorf("parity rule %d: %w: want an object with path and match, got %s", i, ErrInvalidRule, scaling.FormatValue(v)))
				continue
			}
			objs = append(objs, m)
		}
	case map[string]any:
		for _, path := range sortedKeys(t) {
			switch v := t[path].(type) {
			case string:
				objs = append(objs, map[string]any{"path": path, "match": v})
			case map[string]any:
				m := make(map[string]any, len(v)+1)
				for k, x := range v {
					m[k] = x
				}
				if p, ok := m["path"]; ok && p != nil && p != path {
					errs = append(errs, &RuleError{Path: path, Err: fmt.Errorf("%w: path %s differs from its key", ErrInvalidRule, scaling.FormatValue(p))})
					continue
				}
				m["path"] = path
				objs = append(objs, m)
			default:
				errs = append(errs, &RuleError{Path: path, Err: fmt.Errorf("%w: want a match kind or an object, got %s", ErrInvalidRule, scaling.FormatValue(v))})
			}
		}
	default:
		return nil, fmt.Errorf("%w: want a list of rule objects or a map from path to rule, got %s", ErrInvalidRule, scaling.FormatValue(raw))
	}
	rules := make([]Rule, 0, len(objs))
	for _, m := range objs {
		r, err := ParseRule(m)
		if err != nil {
			errs = append(errs, err)
			continue
		}
		rules = append(rules, r)
	}
	if len(errs) > 0 {
		return nil, errors.Join(errs...)
	}
	return rules, nil
}

// Exception excuses violations at or under Path (wildcards allowed) until
// Expires. A zero Expires never expires.
type Exception struct {
	Path    string
	Reason  string
	Expires time.Time
}

// Validate checks the exception. The error is an [*ExceptionError].
func (e Exception) Validate() error {
	if _, err := scaling.ParsePath(e.Path); err != nil {
		return &ExceptionError{Path: e.Path, Err: fmt.Errorf("%w: %w", ErrInvalidException, err)}
	}
	if strings.TrimSpace(e.Reason) == "" {
		return &ExceptionError{Path: e.Path, Err: fmt.Errorf("%w: a reason is required", ErrInvalidException)}
	}
	return nil
}

// ParseDuration parses durations such as "14d", "2w", "336h", "1d12h" or
// "90m": a sequence of numbers each followed by a unit, w (7 days), d (24
// hours), or any unit of time.ParseDuration.
func ParseDuration(s string) (time.Duration, error) {
	t := strings.TrimSpace(s)
	if t == "" {
		return 0, fmt.Errorf("%w %q: empty", ErrBadDuration, s)
	}
	var total time.Duration
	for t != "" {
		i := 0
		for i < len(t) && (t[i] >= '0' && t[i] <= '9' || t[i] == '.') {
			i++
		}
		j := i
		for j < len(t) && !(t[j] >= '0' && t[j] <= '9' || t[j] == '.') {
			j++
		}
		if i == 0 || j == i {
			return 0, fmt.Errorf("%w %q: want numbers with units, such as \"14d\" or \"336h\"", ErrBadDuration, s)
		}
		num, unit := t[:i], t[i:j]
		var d time.Duration
		switch unit {
		case "d", "w":
			f, err := strconv.ParseFloat(num, 64)
			if err != nil {
				return 0, fmt.Errorf("%w %q: %w", ErrBadDuration, s, err)
			}
			day := 24 * time.Hour
			if unit == "w" {
				day *= 7
			}
			d = time.Duration(f * float64(day))
		default:
			var err error
			if d, err = time.ParseDuration(num + unit); err != nil {
				return 0, fmt.Errorf("%w %q: unknown unit %q", ErrBadDuration, s, unit)
			}
		}
		total += d
		t = t[j:]
	}
	return total, nil
}

// FormatDuration renders d in days when it is a whole number of days
// ("14d"), otherwise as time.Duration does ("36h0m0s").
func FormatDuration(d time.Duration) string {
	if d > 0 && d%(24*time.Hour) == 0 {
		return strconv.FormatInt(int64(d/(24*time.Hour)), 10) + "d"
	}
	return d.String()
}

// ParseTime parses an RFC 3339 time or a date (2006-01-02, midnight UTC),
// the forms accepted for deployed_at and exception expiry.
func ParseTime(s string) (time.Time, error) {
	s = strings.TrimSpace(s)
	if t, err := time.Parse(time.RFC3339Nano, s); err == nil {
		return t, nil
	}
	if t, err := time.Parse(time.DateOnly, s); err == nil {
		return t, nil
	}
	return time.Time{}, fmt.Errorf("time %q is neither RFC 3339 (2026-11-01T00:00:00Z) nor a date (2026-11-01)", s)
}

func sortedKeys(m map[string]any) []string {
	keys := make([]string, 0, len(m))
	for k := range m {
		keys = append(keys, k)
	}
	slices.Sort(keys)
	return keys
}
