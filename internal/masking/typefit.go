package masking

import (
	"fmt"
	"maps"
	"math"
	"net/netip"
	"strconv"
	"strings"
	"unicode/utf8"
)

// Output validity against the column's type: the bounds PostgreSQL
// enforces on what the clone writes (varchar(n)'s length, numeric(p, s),
// integer ranges), judged at plan time so that a rule that would fail at
// copy time is refused first, naming the column.

// notIntegerOutput are the transformers whose outputs PostgreSQL cannot
// read as an integer.
var notIntegerOutput = map[string]bool{
	"hash": true, "email": true, "uuid": true, "ip": true, "iban": true, "first_name": true, "last_name": true,
	"full_name": true, "address": true, "text_scramble": true, "date_shift": true, "timestamp_shift": true, "json": true,
}

// FitsType reports whether every output spec writes for a value of a
// column of the given class is one the column accepts: within varchar(n),
// numeric(p, s) and integer ranges, and not refused as a value too small
// to encrypt when the type's bound makes every value that small. unique
// is true on primary-key, unique and foreign-key columns, where a keyed
// hash of small values (small_domain = "hash") is no way out. When it is
// not, reason says why and what to do. A spec that does not build is
// reported by New, not here.
//
// number_noise is not judged: [WithTypeBounds] keeps it within the type.
func FitsType(spec Spec, class ColumnClass, unique bool) (ok bool, reason string) {
	return fitsType(spec, class, unique)
}

func fitsType(spec Spec, class ColumnClass, unique bool) (bool, string) {
	name := spec.Transformer
	o := &options{t: name, m: spec.Options}
	smallHash := !unique && spec.Options["small_domain"] == "hash"
	intMode := o.m["keep_prefix"] == nil && o.m["keep_suffix"] == nil
	if kp, _ := o.number("keep_prefix", 0); kp != 0 {
		intMode = false
	}
	if ks, _ := o.number("keep_suffix", 0); ks != 0 {
		intMode = false
	}
	if ok, why := constantFits(spec, class); !ok {
		return false, why
	}
	n := class.MaxLength
	switch class.Equality {
	case EqualText, EqualCaseInsensitive:
		if n <= 0 {
			return true, ""
		}
		switch name {
		case "hash":
			if l, _ := o.number("length", 32); int(l) > n {
				return false, fmt.Sprintf("hash writes %.0f characters, more than varchar(%d) holds; set option length = %d or less (at least 32 on a unique or key column), or widen the column", l, n, n)
			}
		case "digits":
			if intMode && n < 8 {
				why := fmt.Sprintf("digits masks a value that reads as an integer (such as 123) as an integer below 10,000,000, up to 8 characters with its sign, which varchar(%d) cannot hold", n)
				if n < 6 {
					why += fmt.Sprintf(", and codes of at most %d digits have fewer than 1,000,000 possible values (FF1's minimum), too few to encrypt", n)
				}
				return false, why + "; widen the column to varchar(8) or more, or use transformer \"keep\" if these codes are not personal data"
			}
			if n < 6 && !smallHash {
				return false, smallDomainReason(fmt.Sprintf("values of varchar(%d) have at most %d digits", n, n), unique)
			}
		case "format_preserving":
			a := 62
			if s, ok := o.m["alphabet"].(string); ok {
				a = len(s)
			}
			if math.Pow(float64(a), float64(n)) < ff1MinDomain && !smallHash {
				return false, smallDomainReason(fmt.Sprintf("values of varchar(%d) over a %d-character alphabet", n, a), unique)
			}
		case "ip":
			if n < 43 {
				return false, fmt.Sprintf("ip writes canonical addresses of up to 43 characters (IPv6 with a /prefix), more than varchar(%d) holds; alter the column to varchar(43), inet or cidr", n)
			}
		}
		if longest, bounded, why := MaxOutputLength(spec, n); !bounded || longest > n {
			what := fmt.Sprintf("up to %d characters", longest)
			// The bound grows with n: widen to the first length that
			// holds what values of that length become, if any.
			widen := "alter the column to text"
			for m := n + 1; m <= 10485760 && bounded; m = max(m+1, m*11/10) {
				if mm, ok, _ := MaxOutputLength(spec, m); ok && mm <= m {
					for l := n + 1; l <= m; l++ { // the smallest one
						if ll, _, _ := MaxOutputLength(spec, l); ll <= l {
							m = l
							break
						}
					}
					widen = fmt.Sprintf("alter the column to varchar(%d) or text", m)
					break
				}
			}
			if !bounded {
				what = "values of no bounded length"
			}
			return false, fmt.Sprintf("%s writes %s (%s) for values of varchar(%d), more than the column holds; %s, use a transformer that keeps the length (format_preserving, text_scramble) or a shorter one, or null, or redact with a value of at most %d characters", name, what, why, n, widen, n)
		}
	case EqualInteger:
		if notIntegerOutput[name] {
			return false, fmt.Sprintf("%s does not write integers, which the column's type requires; use digits with max_value = %d, number_noise, null, or keep", name, class.IntegerMax)
		}
		if name != "digits" {
			return true, ""
		}
		if class.IntegerMax < 9_999_999 {
			return false, "the type has fewer than 10,000,000 values, too few for digits (NIST FF1 needs 1,000,000 in each class); use a wider type, number_noise on a non-unique column, or keep"
		}
		mv, _ := o.number("max_value", 0)
		if mv == 0 && class.IntegerMax < 1<<63-1 || mv > float64(class.IntegerMax) {
			return false, fmt.Sprintf("digits may write integers above the column type's maximum; set option max_value = %d", class.IntegerMax)
		}
		if mv != 0 && mv < float64(class.IntegerMax) {
			return false, fmt.Sprintf("values above max_value = %.0f are refused; set max_value = %d, the type's maximum", mv, class.IntegerMax)
		}
	case EqualNumeric:
		if name == "digits" && intMode && class.Precision > 0 && class.Precision-class.Scale < 7 {
			return false, fmt.Sprintf("digits masks a value that reads as an integer (such as 123) as an integer below 10,000,000, which numeric(%d,%d) cannot hold; use number_noise, or keep", class.Precision, class.Scale)
		}
	}
	return true, ""
}

// smallDomainReason is the refusal of a rule whose every value has fewer
// than 1,000,000 possible encryptions.
func smallDomainReason(what string, unique bool) string {
	why := what + " have fewer than 1,000,000 possible values (FF1's minimum), so every value would be refused at copy; "
	if unique {
		return why + "a unique or key column cannot be masked one to one in so few values: widen the column, or use transformer \"keep\" if these codes are not personal data"
	}
	return why + "set small_domain = \"hash\" (a keyed hash, not one to one), widen the column, or use transformer \"keep\" if these codes are not personal data"
}

// WithTypeBounds returns spec with the column type's range added to
// number_noise's min and max (the narrower of the option and the type), so
// that noise never writes a value the column refuses: smallint, integer
// and bigint ranges, and numeric(p, s)'s largest magnitude below
// 10^(p-s). Any other spec is returned as it is.
func WithTypeBounds(spec Spec, class ColumnClass) Spec {
	if spec.Transformer != "number_noise" {
		return spec
	}
	var lo, hi float64
	switch {
	case class.Equality == EqualInteger && class.IntegerMax > 0:
		hi, lo = float64(class.IntegerMax), -float64(class.IntegerMax)-1
		if class.IntegerMax == 1<<63-1 {
			// float64 rounds 2^63-1 up to 2^63; the largest float below it.
			hi, lo = math.Nextafter(float64(1<<63), 0), -float64(1<<63)
		}
	case class.Equality == EqualNumeric && class.Precision > 0:
		hi = math.Nextafter(math.Pow(10, float64(class.Precision-class.Scale)), 0)
		lo = -hi
	default:
		return spec
	}
	o := &options{t: spec.Transformer, m: spec.Options}
	if v, err := o.number("max", math.Inf(1)); err == nil && v < hi {
		hi = v
	}
	if v, err := o.number("min", math.Inf(-1)); err == nil && v > lo {
		lo = v
	}
	if lo > hi {
		return spec // refused by New with the user's own options
	}
	out := spec
	out.Options = maps.Clone(spec.Options)
	if out.Options == nil {
		out.Options = map[string]any{}
	}
	out.Options["min"], out.Options["max"] = lo, hi
	return out
}

// SameMaskingOn is [SameMasking] for the two ends of a foreign key of the
// given classes: digits with max_value set to each end's type maximum
// (an integer column referencing a bigint one) masks the integers both
// hold alike, since its classes split at integer's maximum, and counts as
// the same. Otherwise the reason says what both ends must share.
func SameMaskingOn(a, b Spec, ca, cb ColumnClass) (ok bool, reason string) {
	ok, reason = SameMasking(a, b)
	if ok || a.Transformer != "digits" || b.Transformer != "digits" || ca.Equality != EqualInteger || cb.Equality != EqualInteger {
		return ok, reason
	}
	a2, b2 := a, b
	a2.Options, b2.Options = maps.Clone(a.Options), maps.Clone(b.Options)
	delete(a2.Options, "max_value")
	delete(b2.Options, "max_value")
	if same, _ := SameMasking(a2, b2); !same {
		return ok, reason
	}
	maxOf := func(s Spec) float64 {
		v, _ := (&options{t: "digits", m: s.Options}).number("max_value", 0)
		if v == 0 {
			return float64(1<<63 - 1)
		}
		return v
	}
	narrow := min(ca.IntegerMax, cb.IntegerMax)
	if maxOf(a) == float64(ca.IntegerMax) && maxOf(b) == float64(cb.IntegerMax) && (narrow == 1<<31-1 || narrow == 1<<63-1) {
		return true, ""
	}
	return false, strings.TrimSpace(fmt.Sprintf("option \"max_value\" differs; set max_value to each column type's maximum (%d and %d): digits then masks the integers both ends hold alike", ca.IntegerMax, cb.IntegerMax))
}

// constantFits checks the constant a spec may write (redact's value, the
// invalid_value of on_invalid = "redact") against the column's type.
func constantFits(spec Spec, class ColumnClass) (bool, string) {
	o := &options{t: spec.Transformer, m: spec.Options}
	opt := ""
	switch {
	case spec.Transformer == "redact":
		opt = "value"
	case spec.OnInvalid == OnInvalidRedact:
		opt = "invalid_value"
	default:
		return true, ""
	}
	v, err := o.str(opt, "REDACTED")
	if err != nil {
		return true, "" // reported by New
	}
	bad := func(what string) (bool, string) {
		return false, fmt.Sprintf("the constant %q (option %s) %s; set option %s to a value the column holds", v, opt, what, opt)
	}
	switch class.Equality {
	case EqualText, EqualCaseInsensitive:
		if n := class.MaxLength; n > 0 && utf8.RuneCountInString(v) > n {
			return bad(fmt.Sprintf("is longer than varchar(%d)", n))
		}
	case EqualInteger:
		x, err := strconv.ParseInt(strings.TrimSpace(v), 10, 64)
		if err != nil || x > int64(class.IntegerMax) || x < -int64(class.IntegerMax)-1 {
			return bad("is not an integer within the column's type")
		}
	case EqualNumeric:
		if _, err := strconv.ParseFloat(strings.TrimSpace(v), 64); err != nil {
			return bad("is not a number")
		}
	case EqualUUID:
		if _, ok := parseUUIDText(v); !ok {
			return bad("is not a uuid")
		}
	case EqualInet:
		if _, err := netip.ParsePrefix(v); err != nil {
			if _, err := netip.ParseAddr(v); err != nil {
				return bad("is not an address")
			}
		}
	}
	return true, ""
}

// parseUUIDText reports whether s is a uuid in its 8-4-4-4-12 form.
func parseUUIDText(s string) (string, bool) {
	if len(s) != 36 {
		return "", false
	}
	for i := 0; i < len(s); i++ {
		c := s[i]
		if i == 8 || i == 13 || i == 18 || i == 23 {
			if c != '-' {
				return "", false
			}
			continue
		}
		if !('0' <= c && c <= '9' || 'a' <= c && c <= 'f' || 'A' <= c && c <= 'F') {
			return "", false
		}
	}
	return s, true
}

// MaxOutputLength is the most characters spec writes for a value of at
// most n characters (varchar(n) or char(n)), with why in words; bounded
// is false when no bound can be proven (the rule is then refused on a
// bounded column). Lengths are in characters, as varchar counts them.
func MaxOutputLength(spec Spec, n int) (max int, bounded bool, why string) {
	o := &options{t: spec.Transformer, m: spec.Options}
	max, bounded, why = transformerMaxLength(spec, o, n)
	if spec.OnInvalid == OnInvalidHash && bounded && max < 32 {
		max, why = 32, "on_invalid = \"hash\" writes 32 hex characters"
	}
	return max, bounded, why
}

func transformerMaxLength(spec Spec, o *options, n int) (int, bool, string) {
	switch spec.Transformer {
	case "keep", "format_preserving", "phone", "credit_card", "iban", "uuid", "text_scramble":
		return n, true, "it keeps the length"
	case "null":
		return 0, true, "null"
	case "redact":
		v, _ := o.str("value", "REDACTED")
		return utf8.RuneCountInString(v), true, "its constant"
	case "hash":
		l, _ := o.number("length", 32)
		return int(l), true, "its length option"
	case "digits":
		if o.m["keep_prefix"] != nil || o.m["keep_suffix"] != nil {
			return n, true, "it keeps the length"
		}
		// Integers below 10,000,000 stay below it (8 characters with a
		// sign); every other value keeps its length.
		return max(n, 8), true, "an integer below 10,000,000 may gain digits"
	case "ip":
		return max(n, 43), true, "an IPv6 address with a /prefix in canonical form"
	case "first_name":
		return longestName(firstNames), true, "the longest name of its dictionary"
	case "last_name":
		return longestName(lastNames), true, "the longest name of its dictionary"
	case "address":
		l := 4 + 1 + longestName(lastNames) + 1 + longestWord(streetTypes) + 2 + longestName(lastNames) + 2 + 5
		return l, true, "the longest address it generates"
	case "date_shift", "timestamp_shift":
		// A shift of up to 100 years may add a digit to the year.
		return n + 1, true, "a shifted year may gain a digit"
	case "number_noise":
		// Up to 1+ratio times larger (one more digit), or a float in
		// exponent notation of up to 24 characters.
		return max(n+1, 24), true, "a noisy number may gain a digit"
	case "email":
		local := 7 // a dot and up to 6 digits widen a short local part
		what := "a short local part is widened by up to 7 characters"
		if v, _ := o.str("local_part", "shape"); v == "hash" {
			local, what = 16, "local_part = \"hash\" writes 16 characters for a local part of 1 or more"
		}
		grow := 0
		switch v, _ := o.str("domain_mode", "keep"); v {
		case "replace":
			r, _ := o.str("replacement_domain", "example.com")
			grow, what = len(r), what+", and the replacement domain may be longer than the original"
		case "map":
			m, _ := o.object("domain_map")
			for _, d := range m {
				if s, ok := d.(string); ok && len(s) > grow {
					grow = len(s)
				}
			}
			what += ", and a mapped domain may be longer than the original"
		}
		// Addresses beyond 254 characters are refused unless no longer
		// than the input.
		return min(n+local+grow, max(n, EmailMaxLength)), true, what
	case "full_name":
		return 0, false, "every word becomes a dictionary name, so a name of many short words grows without a bound"
	case "json":
		return 0, false, "masked values inside the JSON may be longer than the originals"
	case "regex_replace":
		return 0, false, "the replacement may be longer than each match"
	}
	return 0, false, "its output length is not known"
}

func longestName(dict [][]byte) int {
	m := 0
	for _, w := range dict {
		m = max(m, len(w))
	}
	return m
}

func longestWord(ws []string) int {
	m := 0
	for _, w := range ws {
		m = max(m, len(w))
	}
	return m
}
