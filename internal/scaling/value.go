package scaling

import (
	"encoding/json"
	"math"
	"slices"
	"strconv"
	"strings"
)

// Number returns v as a float64 when v is a Go number (float64, float32,
// int, int64, int32 or json.Number). Strings are not numbers.
func Number(v any) (float64, bool) {
	switch n := v.(type) {
	case float64:
		return n, true
	case float32:
		return float64(n), true
	case int:
		return float64(n), true
	case int64:
		return float64(n), true
	case int32:
		return float64(n), true
	case json.Number:
		f, err := n.Float64()
		return f, err == nil
	}
	return 0, false
}

// numberLike returns f in the Go type of orig, so that an int stays an int.
func numberLike(orig any, f float64) any {
	switch orig.(type) {
	case int:
		if f == math.Trunc(f) {
			return int(f)
		}
	case int64:
		if f == math.Trunc(f) {
			return int64(f)
		}
	case json.Number:
		return json.Number(strconv.FormatFloat(f, 'f', -1, 64))
	}
	return f
}

// Equal reports whether two decoded values are identical. Numbers compare by
// value whatever their Go type.
func Equal(a, b any) bool {
	switch x := a.(type) {
	case map[string]any:
		y, ok := b.(map[string]any)
		if !ok || len(x) != len(y) {
			return false
		}
		for k, v := range x {
			w, ok := y[k]
			if !ok || !Equal(v, w) {
				return false
			}
		}
		return true
	case []any:
		y, ok := b.([]any)
		if !ok || len(x) != len(y) {
			return false
		}
		for i := range x {
			if !Equal(x[i], y[i]) {
				return false
			}
		}
		return true
	case string:
		y, ok := b.(string)
		return ok && x == y
	case bool:
		y, ok := b.(bool)
		return ok && x == y
	case nil:
		return b == nil
	}
	if x, ok := Number(a); ok {
		y, ok := Number(b)
		return ok && x == y
	}
	return false
}

// deepCopy copies maps and lists; scalars are immutable and shared.
func deepCopy(v any) any {
	switch t := v.(type) {
	case map[string]any:
		m := make(map[string]any, len(t))
		for k, c := range t {
			m[k] = deepCopy(c)
		}
		return m
	case []any:
		l := make([]any, len(t))
		for i, c := range t {
			l[i] = deepCopy(c)
		}
		return l
	}
	return v
}

func sortedKeys(m map[string]any) []string {
	keys := make([]string, 0, len(m))
	for k := range m {
		keys = append(keys, k)
	}
	slices.Sort(keys)
	return keys
}

// FormatValue renders a decoded value for a human message: strings quoted,
// numbers in shortest form, null for nil, objects and lists as compact JSON
// cut at 80 characters.
func FormatValue(v any) string {
	switch t := v.(type) {
	case nil:
		return "null"
	case string:
		return strconv.Quote(t)
	case bool:
		return strconv.FormatBool(t)
	}
	if f, ok := Number(v); ok {
		return formatFloat(f)
	}
	b, err := json.Marshal(v)
	if err != nil {
		return "<unprintable>"
	}
	s := string(b)
	if len(s) > 80 {
		s = strings.ToValidUTF8(s[:77], "") + "..."
	}
	return s
}

func formatFloat(f float64) string { return strconv.FormatFloat(f, 'g', -1, 64) }

// snap removes floating-point noise: a value within a relative 1e-9 of an
// integer becomes that integer, so that 10*0.3 rounds up to 3, not 4.
func snap(x float64) float64 {
	r := math.Round(x)
	if math.Abs(x-r) <= 1e-9*math.Max(1, math.Abs(x)) {
		return r
	}
	return x
}
