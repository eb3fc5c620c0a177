package parity

import (
	"strings"
	"unicode"

	"github.com/stagingkit/terraform-provider-staging/internal/scaling"
)

// presetKind classifies a key name for the twelve-factor preset.
type presetKind uint8

const (
	presetNone    presetKind = iota
	presetVersion            // same_minor
	presetExact              // images, engines, brands
	presetSize               // scaled or same_family, by value
)

// classifyKey implements the twelve-factor preset's key rules on the words
// of a key ("engine_version", "instanceType" and "db-class" split into
// words): a word "version" gives same_minor; "image", "engine" or "brand"
// gives exact; "replicas", "count", "size", "class", or the keys
// instance_type, machine_type, node_type, vm_size give a size.
func classifyKey(key string) presetKind {
	words := keyWords(key)
	has := func(ws ...string) bool {
		for _, w := range words {
			for _, x := range ws {
				if w == x {
					return true
				}
			}
		}
		return false
	}
	switch {
	case has("version", "versions"):
		return presetVersion
	case has("image", "images", "engine", "brand"):
		return presetExact
	case has("replicas", "count", "size", "class"):
		return presetSize
	}
	switch strings.Join(words, "_") {
	case "instance_type", "machine_type", "node_type", "vm_type":
		return presetSize
	}
	return presetNone
}

func keyWords(key string) []string {
	var words []string
	var b strings.Builder
	prevLower := false
	flush := func() {
		if b.Len() > 0 {
			words = append(words, b.String())
			b.Reset()
		}
	}
	for _, r := range key {
		switch {
		case unicode.IsUpper(r):
			if prevLower {
				flush()
			}
			b.WriteRune(unicode.ToLower(r))
			prevLower = false
		case unicode.IsLetter(r) || unicode.IsDigit(r):
			b.WriteRune(r)
			prevLower = true
		default:
			flush()
			prevLower = false
		}
	}
	flush()
	return words
}

// presetRule returns the preset rule for a leaf, or false when the preset
// has nothing to say about it. Size keys become same_family when the values
// are instance classes, scaled when they are numbers or quantities.
func presetRule(kind presetKind, prod, stag any) (Rule, bool) {
	switch kind {
	case presetVersion:
		return Rule{Match: MatchSameMinor}, true
	case presetExact:
		return Rule{Match: MatchExact}, true
	case presetSize:
		for _, v := range []any{prod, stag} {
			if s, ok := v.(string); ok {
				if _, ok := scaling.Family(s); ok {
					return Rule{Match: MatchSameFamily}, true
				}
			}
		}
		for _, v := range []any{prod, stag} {
			if _, ok := magnitude(v); ok {
				return Rule{Match: MatchScaled}, true
			}
		}
	}
	return Rule{}, false
}
