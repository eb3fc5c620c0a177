package masking

import (
	"fmt"
	"strings"
)

// keeps says, per transformer, what its output keeps from its input: what
// someone comparing production and staging rows can still learn. It is
// surfaced as [Info.Keeps] in the catalog and the mask function's docs.
var keeps = map[string]string{
	"keep":              "Everything: the value is copied.",
	"null":              "Nothing: every value becomes NULL.",
	"redact":            "Nothing: every value becomes one constant.",
	"hash":              "Nothing of the value; equal values (in one domain) give equal hashes.",
	"email":             "The domain (with domain_mode keep), and which characters of the local part are letters (in their case), digits or punctuation, so the length of each dot-separated part; a local part with fewer than 1,000,000 possible values may gain or lose a .digits suffix. With local_part = \"hash\" only the domain is kept.",
	"first_name":        "Upper- or lower-case style; one name always gives the same name in a domain (and in last_name and full_name).",
	"last_name":         "Upper- or lower-case style; one name always gives the same name in a domain.",
	"full_name":         "The number of words, the \"Last, First\" order and the case style.",
	"address":           "Whether the address has comma-separated parts (a city and a postcode are then generated).",
	"phone":             "Length, separators, a leading + or 00 with its country code, keep_prefix digits and, after a country code, whether the first national digit is zero.",
	"credit_card":       "Length, spaces and dashes, a valid Luhn check digit and, with keep_issuer (the default), the issuer prefix (IIN: card brand and issuing bank).",
	"iban":              "Country code, length, spaces, the letter and digit pattern of the BBAN and valid check digits.",
	"digits":            "Every non-digit character and its position, the number of digits, the sign, kept prefix and suffix digits, a leading zero, and for integers their size class (below 10,000,000, else the number of digits).",
	"format_preserving": "Length in characters and every character outside the alphabet (separators) in its place.",
	"date_shift":        "The date to within max_days, so often its year (keep_year keeps it always); infinity.",
	"timestamp_shift":   "The timestamp to within max_days, so often its year (keep_year keeps it always); the layout, fractional seconds and time zone suffix.",
	"number_noise":      "The sign, the number of decimal places and the magnitude to within ratio; NaN and infinities.",
	"uuid":              "The version, the variant, dashes and letter case.",
	"ip":                "The family (IPv4 or IPv6), a network's prefix length and host bits, and an IPv6 zone.",
	"text_scramble":     "Length in characters, spaces and punctuation, letter case, and which characters are letters or digits.",
	"json":              "Everything outside the masked paths, byte for byte (keys, structure, spacing); each path keeps what its transformer keeps.",
	"regex_replace":     "Everything the pattern does not match.",
}

// versionNotes says why a transformer's version changed, for a plan that
// explains why a copy made with an older version is due to be re-masked.
var versionNotes = map[string]string{
	"v2": "format-preserving encryption is NIST SP 800-38G FF1 with its 1,000,000-value minimum domain (it replaced a home-made Feistel network), so every masked value changes",
}

// Version returns the current version of a transformer ("email/v2"), as
// [Transformer.Version] reports it, and "" for a name not in the catalog.
func Version(transformer string) string {
	e, ok := registry[transformer]
	if !ok {
		return ""
	}
	return versionString(transformer, e.version)
}

// VersionChange explains why a value masked by transformer version old
// ("email/v1") would mask differently now; "" when old is current. A
// decoration after "+" (an array column's "email/v2+array") is how the
// transformer was applied, not its version.
func VersionChange(old string) string {
	name, _, _ := strings.Cut(old, "/")
	cur := Version(name)
	if base, _, _ := strings.Cut(old, "+"); cur == "" || cur == base {
		return ""
	}
	_, v, _ := strings.Cut(cur, "/")
	why := versionNotes[v]
	if name == "number_noise" {
		why = "bigint values of 10^18 and more are written without an exponent"
	}
	if name == "date_shift" || name == "timestamp_shift" {
		why = "shifts stay within years 1 to 9999 and keep_year never returns the input"
	}
	if why == "" {
		why = "its algorithm changed"
	}
	return fmt.Sprintf("%s is now %s: %s", old, cur, why)
}
