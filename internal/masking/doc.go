// Package masking turns production values into safe staging values.
//
// It holds the keyed, deterministic transformers that the PostgreSQL clone
// and the provider's mask function run every masked value through, the key
// derivation they share, and a detector that recognises columns that look
// like personal data.
//
// # Keys and determinism
//
// A user-supplied key is parsed by [ParseKey], which requires at least 32
// random bytes written in hex or base64: masking is deterministic, so a
// human-chosen secret could be guessed offline from one production value
// and its masked form. The bytes are the input of HKDF-SHA256 ([DeriveKey]);
// there is no default key. [New] derives an AES-256 subkey for each
// (transformer, domain) pair once, so the output of a transformer is a
// function of the key, the [Spec.Domain] and the input only: equal inputs
// in two columns that share a domain mask equally (joins still work), and
// a different key gives unlinkable output.
//
// # Uniqueness
//
// Transformers that report [Transformer.Bijective] are permutations of their
// input domain: they encrypt with NIST SP 800-38G FF1 (AES, checked against
// NIST's sample vectors), so distinct inputs always give distinct outputs.
// FF1's minimum domain of 1,000,000 values is enforced: smaller domains are
// widened where the format allows it (integers, e-mail local parts, national
// phone numbers) and are invalid input otherwise. [BijectiveUnder] judges a
// spec against a column's equality (its type, citext or lower(), varchar
// length), the test for primary-key, unique and foreign-key columns, and
// [SameMasking] whether both ends of a foreign key mask alike.
//
// Bijective masking is keyed pseudonymisation, not anonymisation: whoever
// holds the key can invert it. The key is a production secret that staging
// users must never hold. Each transformer's [Info.Keeps] says what its
// output keeps from the input.
//
// # Values and NULL
//
// Transformers work on the PostgreSQL text representation of one non-NULL
// value and append the masked text to a caller-owned buffer, so a caller that
// reuses its buffer masks without allocating. NULL is the caller's business:
// [Apply] passes NULL through unchanged and lets the "null" transformer turn
// every value into NULL. Empty strings are passed through unchanged by the
// format-preserving transformers (they hold no data). Input that is not valid
// for a transformer's format follows the [Spec.OnInvalid] policy: fail, emit
// a constant, or emit a keyed hash; masked values never appear in errors.
//
// # PII detection
//
// [Detect] inspects a column's name, SQL type and sample values and reports
// the kinds of personal data it probably holds, with a suggested [Spec].
package masking
