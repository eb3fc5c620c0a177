// Package masking turns production values into safe staging values.
//
// It holds the keyed, deterministic transformers that the PostgreSQL clone
// and the provider's mask function run every masked value through, the key
// derivation they share, and a detector that recognises columns that look
// like personal data.
//
// # Keys and determinism
//
// A [Key] is derived with HKDF-SHA256 from an environment secret by
// [DeriveKey]; there is no default key. [New] derives an AES-256 subkey for
// each (transformer, domain) pair once, so the output of a transformer is a
// function of the key, the [Spec.Domain] and the input only: equal inputs in
// two columns that share a domain mask equally (joins still work), and a
// different key gives unlinkable output.
//
// # Uniqueness
//
// Transformers that report [Transformer.Bijective] are permutations of their
// input domain: they are built on a keyed Feistel network over mixed-radix
// digit strings with AES as the round function (format-preserving
// encryption), so distinct inputs always give distinct outputs and they can
// be used on primary-key and unique columns.
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
