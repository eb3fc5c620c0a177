package scaling

import (
	"errors"
	"fmt"
	"strconv"
	"strings"
)

// ErrBadPath reports a path that cannot be parsed.
var ErrBadPath = errors.New("invalid path")

// Path is a parsed rule path. Segments are separated by dots; a segment of a
// single "*" matches any map key or list index. A backslash escapes a dot, a
// star or a backslash inside a segment ("labels.app\.kubernetes\.io/name").
type Path struct {
	raw  string
	segs []string
	wild []bool
}

// ParsePath parses s as a [Path].
func ParsePath(s string) (Path, error) {
	if s == "" {
		return Path{}, fmt.Errorf("%w: empty path", ErrBadPath)
	}
	p := Path{raw: s}
	var b strings.Builder
	escaped := false // the current segment holds an escaped character
	flush := func() error {
		seg := b.String()
		if seg == "" && !escaped {
			return fmt.Errorf("%w %q: empty segment", ErrBadPath, s)
		}
		p.segs = append(p.segs, seg)
		p.wild = append(p.wild, seg == "*" && !escaped)
		b.Reset()
		escaped = false
		return nil
	}
	for i := 0; i < len(s); i++ {
		switch c := s[i]; c {
		case '\\':
			if i+1 >= len(s) {
				return Path{}, fmt.Errorf("%w %q: trailing backslash", ErrBadPath, s)
			}
			i++
			b.WriteByte(s[i])
			escaped = true
		case '.':
			if err := flush(); err != nil {
				return Path{}, err
			}
		default:
			b.WriteByte(c)
		}
	}
	if err := flush(); err != nil {
		return Path{}, err
	}
	return p, nil
}

// MustParsePath is like [ParsePath] but panics on error. It is meant for
// paths written as constants.
func MustParsePath(s string) Path {
	p, err := ParsePath(s)
	if err != nil {
		panic(err)
	}
	return p
}

// String returns the path as it was written.
func (p Path) String() string { return p.raw }

// Len returns the number of segments.
func (p Path) Len() int { return len(p.segs) }

// Wildcards returns the number of wildcard segments.
func (p Path) Wildcards() int {
	n := 0
	for _, w := range p.wild {
		if w {
			n++
		}
	}
	return n
}

// Segment returns segment i and whether it is a wildcard.
func (p Path) Segment(i int) (string, bool) { return p.segs[i], p.wild[i] }

// Match reports whether the concrete path segs matches p exactly.
func (p Path) Match(segs []string) bool {
	return len(segs) == len(p.segs) && p.MatchPrefix(segs)
}

// MatchPrefix reports whether p matches the first p.Len() segments of segs,
// that is whether segs lies at or under a node that p addresses.
func (p Path) MatchPrefix(segs []string) bool {
	if len(segs) < len(p.segs) {
		return false
	}
	for i, s := range p.segs {
		if !p.wild[i] && s != segs[i] {
			return false
		}
	}
	return true
}

// Bind returns p with its wildcards replaced, in order, by the segments of
// segs that they match. segs must satisfy p.MatchPrefix(segs) for the
// wildcards of the result to be meaningful; extra wildcards stay as they are.
func (p Path) Bind(from Path, segs []string) Path {
	var bound []string
	for i := range from.segs {
		if i < len(segs) && from.wild[i] {
			bound = append(bound, segs[i])
		}
	}
	q := Path{segs: append([]string(nil), p.segs...), wild: append([]bool(nil), p.wild...)}
	for i := range q.segs {
		if q.wild[i] && len(bound) > 0 {
			q.segs[i], q.wild[i] = bound[0], false
			bound = bound[1:]
		}
	}
	q.raw = q.render()
	return q
}

func (p Path) render() string {
	var b strings.Builder
	for i, s := range p.segs {
		if i > 0 {
			b.WriteByte('.')
		}
		if p.wild[i] {
			b.WriteByte('*')
		} else {
			writeSegment(&b, s)
		}
	}
	return b.String()
}

// JoinPath renders concrete segments as a path string, escaping dots, stars
// and backslashes so that ParsePath(JoinPath(segs)) matches segs.
func JoinPath(segs []string) string {
	n, plain := len(segs), true
	for _, s := range segs {
		n += len(s)
		if plain && needsEscape(s) {
			plain = false
		}
	}
	if plain {
		return strings.Join(segs, ".")
	}
	var b strings.Builder
	b.Grow(n + 8)
	for i, s := range segs {
		if i > 0 {
			b.WriteByte('.')
		}
		writeSegment(&b, s)
	}
	return b.String()
}

func needsEscape(s string) bool {
	for i := 0; i < len(s); i++ {
		if c := s[i]; c == '.' || c == '*' || c == '\\' {
			return true
		}
	}
	return false
}

func writeSegment(b *strings.Builder, s string) {
	for i := 0; i < len(s); i++ {
		if c := s[i]; c == '.' || c == '*' || c == '\\' {
			b.WriteByte('\\')
		}
		b.WriteByte(s[i])
	}
}

// Node is one value found by [Find], with its concrete path.
type Node struct {
	Segments []string
	Value    any
}

// Find returns every node of v that p addresses, in no particular order.
// Map keys are matched as strings, list elements by their decimal index.
func Find(v any, p Path) []Node {
	var out []Node
	find(v, p, 0, make([]string, 0, len(p.segs)), &out)
	return out
}

func find(v any, p Path, depth int, prefix []string, out *[]Node) {
	if depth == len(p.segs) {
		*out = append(*out, Node{Segments: append([]string(nil), prefix...), Value: v})
		return
	}
	seg, wild := p.segs[depth], p.wild[depth]
	switch t := v.(type) {
	case map[string]any:
		if wild {
			for k, c := range t {
				find(c, p, depth+1, append(prefix, k), out)
			}
		} else if c, ok := t[seg]; ok {
			find(c, p, depth+1, append(prefix, seg), out)
		}
	case []any:
		if wild {
			for i, c := range t {
				find(c, p, depth+1, append(prefix, index(i)), out)
			}
		} else if i, ok := parseIndex(seg); ok && i < len(t) {
			find(t[i], p, depth+1, append(prefix, seg), out)
		}
	}
}

// Lookup returns the value at the concrete path segs of v.
func Lookup(v any, segs []string) (any, bool) {
	for _, s := range segs {
		switch t := v.(type) {
		case map[string]any:
			c, ok := t[s]
			if !ok {
				return nil, false
			}
			v = c
		case []any:
			i, ok := parseIndex(s)
			if !ok || i >= len(t) {
				return nil, false
			}
			v = t[i]
		default:
			return nil, false
		}
	}
	return v, true
}

var smallIndexes = func() []string {
	s := make([]string, 256)
	for i := range s {
		s[i] = strconv.Itoa(i)
	}
	return s
}()

// index renders a list index as a path segment.
func index(i int) string {
	if i < len(smallIndexes) {
		return smallIndexes[i]
	}
	return strconv.Itoa(i)
}

// parseIndex parses a canonical non-negative decimal list index.
func parseIndex(s string) (int, bool) {
	if s == "" || len(s) > 9 || (len(s) > 1 && s[0] == '0') {
		return 0, false
	}
	n := 0
	for i := 0; i < len(s); i++ {
		c := s[i]
		if c < '0' || c > '9' {
			return 0, false
		}
		n = n*10 + int(c-'0')
	}
	return n, true
}

// Leaf is a scalar, or an empty map or list, found by [Walk].
type Leaf struct {
	Segments []string
	// Key is the last map key on the way to the leaf: for "disks.0" it is
	// "disks". It is empty when the leaf is reached through list indexes only.
	Key   string
	Value any
}

// Walk calls fn for every leaf of v in a deterministic order: map keys
// sorted, list elements by index. The Segments slice passed to fn is reused;
// copy it to keep it.
func Walk(v any, fn func(Leaf)) {
	walk(v, nil, "", fn)
}

func walk(v any, prefix []string, key string, fn func(Leaf)) {
	switch t := v.(type) {
	case map[string]any:
		if len(t) == 0 {
			break
		}
		for _, k := range sortedKeys(t) {
			walk(t[k], append(prefix, k), k, fn)
		}
		return
	case []any:
		if len(t) == 0 {
			break
		}
		for i, c := range t {
			walk(c, append(prefix, index(i)), key, fn)
		}
		return
	}
	fn(Leaf{Segments: prefix, Key: key, Value: v})
}
