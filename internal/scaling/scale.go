package scaling

import (
	"errors"
	"fmt"
	"math"
	"slices"
	"strings"
)

// Change records one value that a rule changed.
type Change struct {
	Path       string `json:"path"`
	Production any    `json:"production"`
	Staging    any    `json:"staging"`
	Rule       string `json:"rule"`
}

// Result is the outcome of [Scale].
type Result struct {
	// Values is the staging value: production with the rules applied,
	// same shape, sharing no map or list with the input.
	Values any
	// Changes lists the values that differ from production, in path
	// order (map keys sorted, list elements by index).
	Changes []Change
}

type compiledRule struct {
	pattern string
	path    Path
	rule    Rule
	label   string // rule.String(), computed once
}

// node is a trie over concrete paths; nodes that rules target hold the
// candidate rules and, once resolved, the new value.
type node struct {
	children map[string]*node
	target   bool
	value    any // production value (targets only)
	cands    []*compiledRule
	rule     *compiledRule
	newValue any
	changed  bool
}

func (n *node) child(seg string) *node {
	if n.children == nil {
		n.children = map[string]*node{}
	}
	c := n.children[seg]
	if c == nil {
		c = &node{}
		n.children[seg] = c
	}
	return c
}

// Scale applies rules, keyed by path, to production and returns the staging
// value and the changes made.
//
// Values without a rule are kept. When several rules match the same value,
// the one with fewer wildcards wins; a tie is an error, and so is a keep
// rule that another rule overlaps (same value, an ancestor or a
// descendant), or any two non-keep rules on nested paths. A rule that
// matches nothing is an error unless it is Optional. Scaled values never
// exceed production unless the rule allows growth; in particular a min above
// production yields production. Every error is reported, joined and sorted
// by path; each is a [*PathError]. production is not modified.
func Scale(production any, rules map[string]Rule) (Result, error) {
	var errs []*PathError
	compiled := make([]*compiledRule, 0, len(rules))
	for _, pattern := range sortedRuleKeys(rules) {
		r := rules[pattern]
		p, err := ParsePath(pattern)
		if err != nil {
			err = fmt.Errorf("%w: %w", ErrInvalidRule, err)
		} else {
			err = r.Validate()
		}
		if err != nil {
			errs = append(errs, &PathError{Path: pattern, Err: err})
			continue
		}
		compiled = append(compiled, &compiledRule{pattern: pattern, path: p, rule: r, label: r.String()})
	}
	if len(errs) > 0 {
		return Result{}, joinSorted(errs)
	}

	root := &node{}
	for _, c := range compiled {
		found := Find(production, c.path)
		if len(found) == 0 && !c.rule.Optional {
			errs = append(errs, &PathError{Path: c.pattern, Err: fmt.Errorf("%w: matches nothing in production", ErrUnknownPath)})
		}
		for _, f := range found {
			n := root
			for _, s := range f.Segments {
				n = n.child(s)
			}
			n.target, n.value = true, f.Value
			n.cands = append(n.cands, c)
		}
	}
	if len(errs) > 0 {
		return Result{}, joinSorted(errs)
	}
	resolveAll(root, nil, nil, nil, &errs)
	if len(errs) > 0 {
		return Result{}, joinSorted(errs)
	}
	var res Result
	res.Values = rebuild(production, root, nil, &res.Changes)
	return res, nil
}

// lazyPath renders segs only when an error needs it.
func lazyPath(segs []string) func() string {
	return func() string { return JoinPath(segs) }
}

func joinSorted(errs []*PathError) error {
	slices.SortStableFunc(errs, func(a, b *PathError) int { return strings.Compare(a.Path, b.Path) })
	out := make([]error, len(errs))
	for i, e := range errs {
		out[i] = e
	}
	return errors.Join(out...)
}

func sortedRuleKeys(m map[string]Rule) []string {
	keys := make([]string, 0, len(m))
	for k := range m {
		keys = append(keys, k)
	}
	slices.Sort(keys)
	return keys
}

// resolveAll walks the trie, picks the rule of every target, checks it
// against the nearest targeted ancestor and computes the new value.
func resolveAll(n *node, segs []string, anc *node, ancSegs []string, errs *[]*PathError) {
	if n.target {
		path := lazyPath(segs)
		if err := n.resolve(path); err != nil {
			*errs = append(*errs, err)
		} else if anc != nil && anc.rule != nil && !(anc.rule.rule.Kind == KindKeep && n.rule.rule.Kind == KindKeep) {
			*errs = append(*errs, &PathError{Path: path(), Rule: n.rule.pattern, Err: fmt.Errorf(
				"%w: rule %q (%s) also covers it through %q", ErrConflict, anc.rule.pattern, anc.rule.rule, JoinPath(ancSegs))})
		} else if v, err := apply(n.value, n.rule.rule); err != nil {
			*errs = append(*errs, &PathError{Path: path(), Rule: n.rule.pattern, Err: err})
		} else {
			n.newValue = v
			n.changed = n.rule.rule.Kind != KindKeep && !Equal(n.value, v)
		}
		anc, ancSegs = n, segs
	}
	for k, c := range n.children {
		resolveAll(c, append(segs[:len(segs):len(segs)], k), anc, ancSegs, errs)
	}
}

// resolve picks the rule that applies to the target n.
func (n *node) resolve(path func() string) *PathError {
	var keep, other *compiledRule
	for _, c := range n.cands {
		if c.rule.Kind == KindKeep {
			keep = c
		} else if other == nil {
			other = c
		}
	}
	if keep != nil && other != nil {
		return &PathError{Path: path(), Rule: keep.pattern, Err: fmt.Errorf(
			"%w: keep conflicts with rule %q (%s)", ErrConflict, other.pattern, other.rule)}
	}
	best := n.cands[0]
	for _, c := range n.cands[1:] {
		if c.path.Wildcards() < best.path.Wildcards() {
			best = c
		}
	}
	for _, c := range n.cands {
		if c != best && c.path.Wildcards() == best.path.Wildcards() && c.rule.Kind != KindKeep {
			return &PathError{Path: path(), Err: fmt.Errorf(
				"%w: rules %q (%s) and %q (%s) are equally specific", ErrConflict, best.pattern, best.rule, c.pattern, c.rule)}
		}
	}
	n.rule = best
	return nil
}

func rebuild(v any, n *node, segs []string, changes *[]Change) any {
	if n == nil {
		return deepCopy(v)
	}
	if n.target {
		if n.changed {
			*changes = append(*changes, Change{
				Path:       JoinPath(segs),
				Production: deepCopy(v),
				Staging:    deepCopy(n.newValue),
				Rule:       n.rule.label,
			})
		}
		return deepCopy(n.newValue)
	}
	switch x := v.(type) {
	case map[string]any:
		m := make(map[string]any, len(x))
		for _, k := range sortedKeys(x) {
			m[k] = rebuild(x[k], n.children[k], append(segs, k), changes)
		}
		return m
	case []any:
		l := make([]any, len(x))
		for i, c := range x {
			k := index(i)
			l[i] = rebuild(c, n.children[k], append(segs, k), changes)
		}
		return l
	}
	return v
}

// apply computes the staging value of one production value.
func apply(v any, r Rule) (any, error) {
	switch r.Kind {
	case KindRatio:
		return applyRatio(v, r)
	case KindQuantity:
		return applyQuantity(v, r)
	case KindLadder:
		return applyLadder(v, r)
	case KindSet:
		return deepCopy(r.Value), nil
	}
	return v, nil // keep
}

func applyRatio(v any, r Rule) (any, error) {
	f, ok := Number(v)
	if !ok {
		return nil, fmt.Errorf("%w: ratio needs a number, got %s (use quantity for strings like \"2000m\")", ErrValue, FormatValue(v))
	}
	if f < 0 {
		return nil, fmt.Errorf("%w: ratio needs a number of 0 or more, got %s", ErrValue, FormatValue(v))
	}
	x := snap(f * r.Ratio)
	mode := r.Round
	if mode == "" {
		mode = RoundNone
		if f == math.Trunc(f) {
			mode = RoundUp
		}
	}
	x = roundTo(x, 1, mode)
	if r.Min != nil {
		x = max(x, *r.Min)
	}
	if r.Max != nil {
		x = min(x, *r.Max)
	}
	if x > f && !r.AllowGrow {
		x = f
	}
	if x == f {
		return v, nil
	}
	return numberLike(v, x), nil
}

func applyQuantity(v any, r Rule) (any, error) {
	var q Quantity
	s, isString := v.(string)
	if isString {
		var err error
		if q, err = ParseQuantity(s); err != nil {
			return nil, fmt.Errorf("%w: %w", ErrValue, err)
		}
	} else if f, ok := Number(v); ok {
		q.Value = f
	} else {
		return nil, fmt.Errorf("%w: quantity needs a string such as \"2000m\" or a number, got %s", ErrValue, FormatValue(v))
	}
	if q.Value < 0 {
		return nil, fmt.Errorf("%w: quantity needs a value of 0 or more, got %s", ErrValue, FormatValue(v))
	}
	lo, _ := optQuantity("min", r.MinQuantity) // validated
	hi, _ := optQuantity("max", r.MaxQuantity)
	step := stepFor(q.Suffix, q.Value)
	x := q.Value * r.Ratio
	if lo != nil {
		x = max(x, *lo)
	}
	if hi != nil {
		x = min(x, *hi)
	}
	x = roundTo(x, step, r.Round)
	if hi != nil && x > *hi*(1+1e-12) {
		x = roundTo(*hi, step, RoundDown)
	}
	if lo != nil && x < *lo*(1-1e-12) {
		x = roundTo(*lo, step, RoundUp)
	}
	if x > q.Value && !r.AllowGrow {
		x = q.Value
	}
	if x == q.Value {
		return v, nil
	}
	if !isString {
		return numberLike(v, x), nil
	}
	return formatQuantity(x, q.Suffix, unitsBelow(q.Suffix, step)), nil
}

func applyLadder(v any, r Rule) (any, error) {
	s, ok := v.(string)
	if !ok {
		return nil, fmt.Errorf("%w: ladder needs an instance size string, got %s", ErrValue, FormatValue(v))
	}
	sz, ok := LookupSize(s)
	if !ok {
		return nil, fmt.Errorf("%s is %w (use set for sizes the tables do not know)", FormatValue(v), ErrNotInLadder)
	}
	i := min(max(sz.Index-r.Steps, 0), len(sz.Ladder)-1)
	if r.MinSize != "" {
		floor, _ := LookupSize(r.MinSize) // validated
		if floor.Family != sz.Family {
			return nil, fmt.Errorf("%w: min %q is in family %s, not in %s of %s", ErrInvalidRule, r.MinSize, floor.Family, sz.Family, FormatValue(v))
		}
		i = max(i, floor.Index)
	}
	if i > sz.Index && !r.AllowGrow {
		i = sz.Index
	}
	if i == sz.Index {
		return v, nil
	}
	return matchCase(s, sz.Ladder[i]), nil
}
