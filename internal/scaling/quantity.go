package scaling

import (
	"errors"
	"fmt"
	"math"
	"strconv"
	"strings"
)

// ErrBadQuantity reports a string that is not a Kubernetes quantity.
var ErrBadQuantity = errors.New("invalid quantity")

// Quantity is a parsed Kubernetes resource quantity ("2000m", "4Gi", "1.5",
// "1e3"). Value is in base units (cores, bytes); Suffix is the suffix it was
// written with ("" for plain numbers and exponent forms).
type Quantity struct {
	Value  float64
	Suffix string
}

type unit struct {
	suffix string
	factor float64
}

// Units from largest to smallest; binary units stop at bytes.
var (
	binaryUnits = []unit{
		{"Ei", 1 << 60}, {"Pi", 1 << 50}, {"Ti", 1 << 40}, {"Gi", 1 << 30},
		{"Mi", 1 << 20}, {"Ki", 1 << 10}, {"", 1},
	}
	decimalUnits = []unit{
		{"E", 1e18}, {"P", 1e15}, {"T", 1e12}, {"G", 1e9}, {"M", 1e6},
		{"k", 1e3}, {"", 1}, {"m", 1e-3}, {"u", 1e-6}, {"n", 1e-9},
	}
)

// ParseQuantity parses s with the Kubernetes quantity grammar: a signed
// decimal number followed by a binary suffix (Ki, Mi, Gi, Ti, Pi, Ei), a
// decimal suffix (n, u, m, k, M, G, T, P, E), an exponent (e3, E-2) or
// nothing.
func ParseQuantity(s string) (Quantity, error) {
	t := strings.TrimSpace(s)
	i := 0
	if i < len(t) && (t[i] == '+' || t[i] == '-') {
		i++
	}
	digits := 0
	for i < len(t) && (t[i] >= '0' && t[i] <= '9' || t[i] == '.') {
		if t[i] != '.' {
			digits++
		}
		i++
	}
	if digits == 0 {
		return Quantity{}, fmt.Errorf("%w %q: no number", ErrBadQuantity, s)
	}
	num, err := strconv.ParseFloat(t[:i], 64)
	if err != nil {
		return Quantity{}, fmt.Errorf("%w %q: bad number", ErrBadQuantity, s)
	}
	suffix := t[i:]
	for _, u := range binaryUnits[:len(binaryUnits)-1] {
		if suffix == u.suffix {
			return Quantity{Value: num * u.factor, Suffix: suffix}, nil
		}
	}
	for _, u := range decimalUnits {
		if suffix == u.suffix {
			return Quantity{Value: num * u.factor, Suffix: suffix}, nil
		}
	}
	if len(suffix) > 1 && (suffix[0] == 'e' || suffix[0] == 'E') {
		exp, err := strconv.Atoi(suffix[1:])
		if err == nil && suffix[1] != ' ' {
			return Quantity{Value: num * math.Pow10(exp), Suffix: ""}, nil
		}
	}
	return Quantity{}, fmt.Errorf("%w %q: unknown suffix %q", ErrBadQuantity, s, suffix)
}

// String formats q with its own suffix when the value is a whole number of
// that unit, otherwise with the largest smaller unit of the same kind that
// gives a whole number.
func (q Quantity) String() string {
	return formatQuantity(q.Value, q.Suffix, unitsBelow(q.Suffix, 0))
}

func isBinary(suffix string) bool { return strings.HasSuffix(suffix, "i") }

func factorOf(suffix string) float64 {
	if suffix == "" {
		return 1
	}
	for _, u := range binaryUnits {
		if u.suffix == suffix {
			return u.factor
		}
	}
	for _, u := range decimalUnits {
		if u.suffix == suffix {
			return u.factor
		}
	}
	return 1
}

// unitsBelow lists the units from suffix's own down to the smallest unit
// not finer than step (0 means down to the smallest unit of the kind).
func unitsBelow(suffix string, step float64) []unit {
	units := decimalUnits
	if isBinary(suffix) {
		units = binaryUnits
	}
	f := factorOf(suffix)
	var out []unit
	for _, u := range units {
		if u.factor > f {
			continue
		}
		if step > 0 && u.factor < step*(1-1e-12) {
			break
		}
		out = append(out, u)
	}
	return out
}

// formatQuantity renders x (base units) with the largest of units that
// gives a whole number, falling back to a decimal in the first unit.
func formatQuantity(x float64, suffix string, units []unit) string {
	if x == 0 {
		return "0"
	}
	for _, u := range units {
		n := snap(x / u.factor)
		if n == math.Trunc(n) && math.Abs(n) < 1e15 {
			return strconv.FormatFloat(n, 'f', -1, 64) + u.suffix
		}
	}
	return strconv.FormatFloat(x/factorOf(suffix), 'f', -1, 64) + suffix
}

// stepFor returns the rounding granularity, in base units, for a quantity
// written with suffix and worth production base units: one unit below the
// written unit (Gi rounds to Mi, G to M), never finer than 1m for decimal
// quantities; plain numbers of 1000 or more are counts (bytes) and round to
// whole numbers, smaller ones are cores and round to 1m.
func stepFor(suffix string, production float64) float64 {
	f := factorOf(suffix)
	switch {
	case isBinary(suffix):
		return f / 1024
	case suffix == "":
		if math.Abs(production) >= 1000 {
			return 1
		}
		return 1e-3
	case f > 1:
		return f / 1000
	default:
		return f
	}
}

// roundTo rounds x to a multiple of step in the given mode ("" is up).
func roundTo(x, step float64, mode string) float64 {
	n := snap(x / step)
	switch mode {
	case RoundDown:
		n = math.Floor(n)
	case RoundNearest:
		n = math.Round(n)
	case RoundNone:
		return x
	default:
		n = math.Ceil(n)
	}
	return n * step
}
