package masking

import (
	"fmt"
	"maps"
	"reflect"
	"slices"
	"strconv"
	"strings"
)

// Equality is how PostgreSQL decides that two values of a column are the
// same: the equality a primary key, unique index or foreign key on it uses.
type Equality int

const (
	// EqualText compares the text byte for byte: text, varchar, char and
	// other string types under a deterministic collation.
	EqualText Equality = iota
	// EqualCaseInsensitive compares ignoring case: citext, a
	// nondeterministic case-insensitive collation, or an index on
	// lower(col) or upper(col).
	EqualCaseInsensitive
	// EqualInteger compares smallint, integer and bigint values.
	EqualInteger
	// EqualNumeric compares numeric, real and double precision values,
	// which ignore trailing zeros ("1.0" = "1.00").
	EqualNumeric
	// EqualUUID compares uuid values (hex digits in any case).
	EqualUUID
	// EqualInet compares inet and cidr values.
	EqualInet
	// EqualJSONB compares jsonb values.
	EqualJSONB
	// EqualOther is any other type: no transformer but keep is judged
	// bijective under it.
	EqualOther
)

var equalityNames = map[Equality]string{
	EqualText: "text", EqualCaseInsensitive: "case-insensitive text", EqualInteger: "integer",
	EqualNumeric: "numeric", EqualUUID: "uuid", EqualInet: "inet", EqualJSONB: "jsonb", EqualOther: "other",
}

func (e Equality) String() string { return equalityNames[e] }

// ColumnClass describes a column as far as uniqueness is concerned.
type ColumnClass struct {
	Equality Equality
	// MaxLength is n of varchar(n) or char(n); 0 when unbounded.
	MaxLength int
	// IntegerMax is the type's largest value for EqualInteger: 32767,
	// 2147483647 or 9223372036854775807.
	IntegerMax uint64
	// Precision and Scale are p and s of numeric(p, s) (Scale 0 for
	// numeric(p)); Precision is 0 for an unconstrained numeric.
	Precision, Scale int
}

// judgeKey builds transformers only to read their properties; nothing is
// ever masked with it.
var judgeKey = func() Key {
	k, err := DeriveKey([]byte("stagingkit masking: judging specs, never masking"))
	if err != nil {
		panic(err)
	}
	return k
}()

// BijectiveUnder reports whether spec keeps distinct values of a column of
// the given class distinct under that column's equality, and writes values
// the column accepts: whether it may mask a primary-key or unique column or
// either end of a foreign key. When it may not, reason says why and what
// to do instead. err reports a spec that does not build.
func BijectiveUnder(spec Spec, class ColumnClass) (ok bool, reason string, err error) {
	t, err := New(spec, judgeKey)
	if err != nil {
		return false, "", err
	}
	tt := t.(*transformer)
	name := spec.Transformer
	if spec.OnInvalid != "" && spec.OnInvalid != OnInvalidError {
		return false, fmt.Sprintf("on_invalid = %q maps values the format refuses to %s, which can equal each other or a masked value; use on_invalid = \"error\" on unique and key columns",
			spec.OnInvalid, map[string]string{OnInvalidRedact: "one constant", OnInvalidHash: "a hash"}[spec.OnInvalid]), nil
	}
	if name == "keep" {
		return true, "", nil
	}
	if name == "json" {
		if class.Equality == EqualJSONB && tt.bijectiveJSONB {
			return true, "", nil
		}
		if class.Equality == EqualJSONB {
			return false, "a path's transformer is not bijective", nil
		}
		return false, "json keeps the text of JSON apart from the masked paths, and one JSON value has many spellings (\\u escapes, spaces); it is bijective only on jsonb columns", nil
	}
	if spec.Options["small_domain"] == "hash" {
		return false, "small_domain = \"hash\" maps values with fewer than 1,000,000 possible encryptions to a hash, which can equal another value's; leave small_domain unset (\"error\") on unique and key columns", nil
	}
	if !t.Bijective() {
		return false, fmt.Sprintf("%s is not bijective: distinct values can mask to the same value; use a bijective transformer (email, phone, credit_card, iban, digits, uuid, ip, format_preserving, or hash with length >= 32)", name), nil
	}
	refuse := func(why string) (bool, string, error) {
		return false, fmt.Sprintf("%s does not write %s values one to one: %s", name, class.Equality, why), nil
	}
	switch class.Equality {
	case EqualText, EqualCaseInsensitive:
		if name == "email" && class.MaxLength > 0 && class.MaxLength < EmailMaxLength {
			return false, fmt.Sprintf("email writes an address whose local part has fewer than 1,000,000 possible values (such as bob) with up to 7 more characters (bob.NNNNN), keeping outputs within %d characters (RFC 5321's limit) but not within varchar(%d); alter the column to varchar(%d) or text, or mask it with hash", EmailMaxLength, class.MaxLength, EmailMaxLength), nil
		}
		if ok, why := fitsType(spec, class, true); !ok {
			return false, why, nil
		}
		if class.Equality == EqualCaseInsensitive && name == "format_preserving" && alphabetHasCase(spec) {
			return refuse("its alphabet holds letters, which it encrypts case by case; use an alphabet without letters, or email or hash")
		}
		return true, "", nil
	case EqualInteger:
		if name != "digits" {
			return refuse("its output is not an integer; use digits with max_value")
		}
		if ok, why := fitsType(spec, class, true); !ok {
			return false, why, nil
		}
		return true, "", nil
	case EqualNumeric:
		return refuse("numeric equality ignores trailing zeros and the sign of zero, which digits encrypts as written")
	case EqualUUID:
		if name == "uuid" || (name == "hash" && spec.Options["encoding"] != "base32" && spec.Options["length"] == nil) {
			return true, "", nil
		}
		return refuse("use uuid")
	case EqualInet:
		if name == "ip" {
			return true, "", nil
		}
		return refuse("use ip")
	}
	return refuse("no transformer but keep is judged bijective on this type")
}

// alphabetHasCase reports whether a format_preserving spec's alphabet
// holds cased letters.
func alphabetHasCase(spec Spec) bool {
	a, ok := spec.Options["alphabet"].(string)
	if !ok {
		return true // the default alphabet 0-9a-zA-Z
	}
	for _, c := range []byte(a) {
		if isLower(c) || isUpper(c) {
			return true
		}
	}
	return false
}

// SameMasking reports whether two specs mask equally: the same
// transformer, domain (after defaulting), options and on_invalid policy.
// Both ends of a foreign key must, or references stop matching; reason
// names the first difference.
func SameMasking(a, b Spec) (ok bool, reason string) {
	da, db := a.Domain, b.Domain
	if da == "" {
		da = a.Transformer
	}
	if db == "" {
		db = b.Transformer
	}
	pa, pb := a.OnInvalid, b.OnInvalid
	if pa == "" {
		pa = OnInvalidError
	}
	if pb == "" {
		pb = OnInvalidError
	}
	switch {
	case a.Transformer != b.Transformer:
		return false, fmt.Sprintf("transformer %q differs from %q", a.Transformer, b.Transformer)
	case da != db:
		return false, fmt.Sprintf("domain %q differs from %q", da, db)
	case pa != pb:
		return false, fmt.Sprintf("on_invalid %q differs from %q", pa, pb)
	}
	for _, k := range slices.Sorted(maps.Keys(mergeKeys(a.Options, b.Options))) {
		if !reflect.DeepEqual(a.Options[k], b.Options[k]) {
			return false, fmt.Sprintf("option %q differs", k)
		}
	}
	return true, ""
}

func mergeKeys(a, b map[string]any) map[string]bool {
	m := map[string]bool{}
	for k := range a {
		m[k] = true
	}
	for k := range b {
		m[k] = true
	}
	return m
}

// ClassOf maps a column's type as PostgreSQL's format_type names it
// ("integer", "character varying(40)", "citext", "uuid", ...) to its
// [ColumnClass]. caseInsensitive is true when the column's collation is
// nondeterministic and case-insensitive, or a unique index or foreign key
// compares lower(col) or upper(col); the caller reads those from the
// catalog. A domain should be resolved to its base type first.
func ClassOf(sqlType string, caseInsensitive bool) ColumnClass {
	t := strings.ToLower(strings.TrimSpace(sqlType))
	base := t
	if i := strings.IndexByte(base, '('); i >= 0 {
		base = strings.TrimSpace(base[:i])
	}
	base = strings.TrimSuffix(base, "[]")
	if i := strings.LastIndexByte(base, '.'); i >= 0 {
		// format_type qualifies a type outside the search path
		// (public.citext).
		base = strings.Trim(base[i+1:], `"`)
	}
	switch base {
	case "smallint", "int2", "smallserial":
		return ColumnClass{Equality: EqualInteger, IntegerMax: 32767}
	case "integer", "int", "int4", "serial":
		return ColumnClass{Equality: EqualInteger, IntegerMax: 2147483647}
	case "bigint", "int8", "bigserial":
		return ColumnClass{Equality: EqualInteger, IntegerMax: 9223372036854775807}
	case "numeric", "decimal":
		c := ColumnClass{Equality: EqualNumeric}
		if i, j := strings.IndexByte(t, '('), strings.IndexByte(t, ')'); i >= 0 && j > i {
			ps := strings.Split(t[i+1:j], ",")
			c.Precision, _ = strconv.Atoi(strings.TrimSpace(ps[0]))
			if len(ps) > 1 {
				c.Scale, _ = strconv.Atoi(strings.TrimSpace(ps[1]))
			}
		}
		return c
	case "real", "double precision", "float4", "float8", "money":
		return ColumnClass{Equality: EqualNumeric}
	case "uuid":
		return ColumnClass{Equality: EqualUUID}
	case "inet", "cidr":
		return ColumnClass{Equality: EqualInet}
	case "jsonb":
		return ColumnClass{Equality: EqualJSONB}
	case "citext":
		return ColumnClass{Equality: EqualCaseInsensitive}
	case "text", "character varying", "varchar", "character", "char", "bpchar", "name":
		c := ColumnClass{Equality: EqualText, MaxLength: varcharLen(t)}
		if caseInsensitive {
			c.Equality = EqualCaseInsensitive
		}
		return c
	}
	return ColumnClass{Equality: EqualOther}
}
