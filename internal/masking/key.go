package masking

import (
	"crypto/aes"
	"crypto/cipher"
	"crypto/hkdf"
	"crypto/sha256"
	"encoding/base64"
	"encoding/binary"
	"encoding/hex"
	"fmt"
	"math/bits"
	"strings"
)

// keySalt separates masking keys from anything else derived from the same
// environment secret.
const keySalt = "stagingkit/terraform-provider-staging masking key v1"

// Key is the masking key of one environment: HKDF-SHA256 key material
// derived from an environment secret by [DeriveKey]. The zero Key is not a
// key; [New] refuses it.
type Key struct {
	prk [32]byte
	set bool
}

// DeriveKey derives a masking key from an environment secret with
// HKDF-SHA256. It fails for an empty secret.
func DeriveKey(secret []byte) (Key, error) {
	if len(secret) == 0 {
		return Key{}, ErrEmptySecret
	}
	prk, err := hkdf.Extract(sha256.New, secret, []byte(keySalt))
	if err != nil {
		return Key{}, fmt.Errorf("masking: deriving key: %w", err)
	}
	var k Key
	copy(k.prk[:], prk)
	k.set = true
	return k, nil
}

// MinKeyBytes is the least number of random bytes a user-supplied masking
// key must hold (256 bits).
const MinKeyBytes = 32

// KeyHint says how to make a key that ParseKey accepts.
const KeyHint = "generate one with `openssl rand -hex 32` (or take a random value of 32 bytes or more from an ephemeral resource, such as random_bytes' hex or base64 output) and keep it as a production secret"

// KeyError reports a user-supplied masking key that ParseKey refuses. It
// never contains the key.
type KeyError struct {
	Reason string
}

func (e *KeyError) Error() string {
	return "masking: " + e.Reason + ": a masking key must be at least 32 random bytes, written as 64 or more hex characters or as base64 (padded or not); " + KeyHint
}

// ParseKey turns a user-supplied masking key into a [Key]. The key must be
// at least [MinKeyBytes] random bytes written as hex (64 characters or
// more) or as standard or URL-safe base64, padded or unpadded: a
// passphrase could be guessed offline from one production value and its
// masked form, since masking is deterministic. The decoded bytes are the
// HKDF input keying material of [DeriveKey]. Errors are [ErrEmptySecret] or
// *KeyError and never contain the key.
func ParseKey(s string) (Key, error) {
	if s == "" {
		return Key{}, ErrEmptySecret
	}
	raw, ok := decodeKey(s)
	if !ok {
		return Key{}, &KeyError{Reason: fmt.Sprintf("the masking key (%d characters) is neither hex nor base64", len(s))}
	}
	if reason := passphraseShaped(s, raw); reason != "" {
		return Key{}, &KeyError{Reason: reason}
	}
	if len(raw) < MinKeyBytes {
		return Key{}, &KeyError{Reason: fmt.Sprintf("the masking key holds %d bytes, fewer than %d", len(raw), MinKeyBytes)}
	}
	distinct := map[byte]bool{}
	for _, c := range raw {
		distinct[c] = true
	}
	// 32 random bytes hold about 30 distinct values; fewer than 16 means a
	// pattern ("0000…", "abab…"), not randomness.
	if len(distinct) < 16 {
		return Key{}, &KeyError{Reason: "the masking key's bytes repeat a pattern instead of being random"}
	}
	return DeriveKey(raw)
}

// passphraseShaped reports why a key that decodes as base64 looks written
// by a person rather than generated; "" when it does not. Many words and
// sentences are valid base64 ("ThisIsOurStagingMaskingPassphrase" decodes
// to 24 bytes), so decoding alone proves nothing, and randomness cannot be
// proven either: what is refused is recognisable text (recognisableText:
// words, years, repeats, too few distinct characters) and base64 that
// decodes to text, each test set so that a generated key fails it with
// probability below keyTextOdds. The error says to generate another key.
func passphraseShaped(s string, raw []byte) string {
	hex := true
	for i := range len(s) {
		_, ok := hexVal(s[i])
		hex = hex && ok
	}
	if hex {
		return "" // hex is judged by its bytes' diversity
	}
	if r := recognisableText(strings.TrimRight(s, "=")); r != "" {
		return r
	}
	// The base64 of a typed phrase decodes to printable ASCII; random
	// bytes are printable 97 times in 256.
	printable := 0
	for _, b := range raw {
		if b >= 0x20 && b < 0x7f || b == '\n' || b == '\t' {
			printable++
		}
	}
	minPrintable := keyLimit(2, len(raw), func(n int) int {
		k := 0
		for binomTail(n, k, 97.0/256) >= keyTextOdds {
			k++
		}
		return k
	})
	if printable >= minPrintable {
		return "the masking key decodes to text (the base64 of a phrase), not to random bytes"
	}
	return ""
}

// decodeKey decodes hex (checked first: a hex string is also base64) or
// any of the four base64 alphabets and paddings.
func decodeKey(s string) ([]byte, bool) {
	isHex := true
	for i := range len(s) {
		_, ok := hexVal(s[i])
		isHex = isHex && ok
	}
	if isHex {
		// Meant as hex, even when it would also decode as base64.
		b, err := hex.DecodeString(s)
		return b, err == nil
	}
	for _, enc := range []*base64.Encoding{base64.StdEncoding, base64.RawStdEncoding, base64.URLEncoding, base64.RawURLEncoding} {
		if b, err := enc.Strict().DecodeString(s); err == nil {
			return b, true
		}
	}
	return nil, false
}

// IsZero reports whether k is the zero Key (not derived from a secret).
func (k Key) IsZero() bool { return !k.set }

// block derives the AES-256 cipher for one purpose (transformer, domain and
// role). Derivation happens once per transformer, never per value.
func (k Key) block(purpose ...string) (cipher.Block, error) {
	if !k.set {
		return nil, ErrNoKey
	}
	info := "masking/v1"
	for _, p := range purpose {
		// Length-prefix every part so that the encoding is injective.
		info += fmt.Sprintf("|%d:%s", len(p), p)
	}
	sub, err := hkdf.Expand(sha256.New, k.prk[:], info, 32)
	if err != nil {
		return nil, fmt.Errorf("masking: deriving subkey: %w", err)
	}
	b, err := aes.NewCipher(sub)
	if err != nil {
		return nil, fmt.Errorf("masking: creating cipher: %w", err)
	}
	return b, nil
}

// prf is a keyed pseudo-random function on byte strings built from AES
// (length-prefixed CBC-MAC), several times faster than HMAC-SHA256 with
// hardware AES. Methods take a caller-provided scratch buffer so that the
// interface call to the cipher does not force a heap allocation per value.
type prf struct {
	b cipher.Block
}

// sum returns the 128-bit PRF of (tweak, msg). scratch must hold 16 bytes.
func (p prf) sum(scratch []byte, tweak uint64, msg []byte) (uint64, uint64) {
	x := scratch[:16]
	binary.LittleEndian.PutUint64(x[0:], uint64(len(msg)))
	binary.LittleEndian.PutUint64(x[8:], tweak)
	p.b.Encrypt(x, x)
	for len(msg) >= 16 {
		binary.LittleEndian.PutUint64(x[0:], binary.LittleEndian.Uint64(x[0:])^binary.LittleEndian.Uint64(msg[0:]))
		binary.LittleEndian.PutUint64(x[8:], binary.LittleEndian.Uint64(x[8:])^binary.LittleEndian.Uint64(msg[8:]))
		p.b.Encrypt(x, x)
		msg = msg[16:]
	}
	if len(msg) > 0 {
		for i, c := range msg {
			x[i] ^= c
		}
		p.b.Encrypt(x, x)
	}
	return binary.LittleEndian.Uint64(x[0:]), binary.LittleEndian.Uint64(x[8:])
}

// stream fills the 16-byte block out with keystream block ctr of the seed
// (hi, lo): AES(seed XOR ctr).
func (p prf) stream(out []byte, hi, lo, ctr uint64) {
	binary.LittleEndian.PutUint64(out[0:], hi^ctr)
	binary.LittleEndian.PutUint64(out[8:], lo)
	p.b.Encrypt(out[:16], out[:16])
}

// uniform maps a 64-bit random value to [0, n) by multiply-shift.
func uniform(r uint64, n int) int {
	hi, _ := bits.Mul64(r, uint64(n))
	return int(hi)
}

// grow extends dst by n bytes (reusing spare capacity) and returns it.
func grow(dst []byte, n int) []byte {
	if cap(dst)-len(dst) < n {
		nd := make([]byte, len(dst), 2*cap(dst)+n)
		copy(nd, dst)
		dst = nd
	}
	return dst[:len(dst)+n]
}

// fnv64 hashes s (case-folded ASCII) for use as a tweak.
func fnv64(s []byte) uint64 {
	h := uint64(14695981039346656037)
	for _, c := range s {
		if 'A' <= c && c <= 'Z' {
			c += 'a' - 'A'
		}
		h ^= uint64(c)
		h *= 1099511628211
	}
	return h
}
