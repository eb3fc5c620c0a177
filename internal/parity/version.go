package parity

import (
	"errors"
	"fmt"
	"strings"
)

// ErrNotVersion reports a string in which no version can be found.
var ErrNotVersion = errors.New("not a version")

// Version is the numeric part of a version string. Missing parts are zero.
type Version struct {
	Major, Minor, Patch int
	// Parts is how many numeric parts were written (1 to 3).
	Parts int
	// Rest is what follows the numbers: "-rc1", "beta1", "-alpine".
	Rest string
}

// String renders the numeric parts that were written, and Rest.
func (v Version) String() string {
	s := fmt.Sprint(v.Major)
	if v.Parts > 1 {
		s += fmt.Sprintf(".%d", v.Minor)
	}
	if v.Parts > 2 {
		s += fmt.Sprintf(".%d", v.Patch)
	}
	return s + v.Rest
}

// Compare orders versions by major, minor and patch (Rest is ignored).
func (v Version) Compare(w Version) int {
	for _, d := range [3]int{v.Major - w.Major, v.Minor - w.Minor, v.Patch - w.Patch} {
		if d != 0 {
			if d < 0 {
				return -1
			}
			return 1
		}
	}
	return 0
}

// ParseVersion finds the version in semantic versions ("1.2.3",
// "v1.2.3-rc1"), PostgreSQL versions ("15.4", "16beta1", "PostgreSQL 15.4
// on x86_64-pc-linux-gnu, compiled by ..."), and image references
// ("app:1.2.3", "postgres:15.4-alpine", "ghcr.io/o/app:v2.1@sha256:...").
// For references it reads the tag; for text it reads the first word that
// starts with a number (or v and a number).
func ParseVersion(s string) (Version, error) {
	t := strings.TrimSpace(s)
	if !strings.ContainsAny(t, " \t\n") {
		if i := strings.IndexByte(t, '@'); i >= 0 {
			t = t[:i]
		}
		if i := strings.LastIndexByte(t, ':'); i >= 0 {
			if strings.IndexByte(t[i:], '/') >= 0 {
				return Version{}, fmt.Errorf("%w: image %q has no tag", ErrNotVersion, s)
			}
			t = t[i+1:]
		}
	}
	for _, word := range strings.FieldsFunc(t, func(r rune) bool { return r == ' ' || r == '\t' || r == '\n' || r == ',' || r == '(' || r == ')' }) {
		if v, ok := parseNumeric(word); ok {
			return v, nil
		}
	}
	return Version{}, fmt.Errorf("%w: %q", ErrNotVersion, s)
}

func parseNumeric(w string) (Version, bool) {
	if len(w) > 1 && (w[0] == 'v' || w[0] == 'V') {
		w = w[1:]
	}
	var v Version
	var nums [3]int
	i := 0
	for v.Parts < 3 {
		start := i
		n := 0
		for i < len(w) && w[i] >= '0' && w[i] <= '9' && i-start < 9 {
			n = n*10 + int(w[i]-'0')
			i++
		}
		if i == start {
			if v.Parts == 0 {
				return Version{}, false
			}
			i-- // give back the dot
			break
		}
		nums[v.Parts] = n
		v.Parts++
		if i < len(w) && w[i] == '.' && v.Parts < 3 {
			i++
			continue
		}
		break
	}
	v.Major, v.Minor, v.Patch = nums[0], nums[1], nums[2]
	v.Rest = w[i:]
	return v, true
}
