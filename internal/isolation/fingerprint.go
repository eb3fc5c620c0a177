package isolation

import (
	"crypto/subtle"
	"encoding/base64"
	"errors"
	"fmt"
	"strings"

	"golang.org/x/crypto/argon2"
)

// FingerprintParams are the Argon2id cost parameters of a fingerprint.
type FingerprintParams struct {
	Time      uint32 // passes over memory
	MemoryKiB uint32
	Threads   uint8
	KeyLen    uint32 // bytes of output
}

// DefaultFingerprintParams are the parameters secret_fingerprint uses:
// OWASP's first recommended Argon2id configuration (19 MiB of memory, two
// passes, one lane), 32 bytes of output.
var DefaultFingerprintParams = FingerprintParams{Time: 2, MemoryKiB: 19 * 1024, Threads: 1, KeyLen: 32}

// Bounds on parameters read from a published fingerprint, so that a
// fingerprint cannot make a check allocate or compute without limit.
const (
	MinSaltLength      = 8
	maxFingerprintMem  = 256 * 1024
	maxFingerprintTime = 16
	maxFingerprintKey  = 64
	minFingerprintKey  = 16
)

// Errors of Fingerprint and ParseFingerprint.
var (
	ErrEmptySalt = errors.New("the salt is empty: give a random salt of at least 16 bytes, the same for every secret the production side publishes")
	ErrShortSalt = fmt.Errorf("the salt is shorter than %d bytes: give a random salt of at least 16 bytes", MinSaltLength)
)

// Fingerprint is a parsed Argon2id fingerprint in PHC string format:
// $argon2id$v=19$m=<KiB>,t=<passes>,p=<lanes>$<salt>$<hash>, salt and
// hash in unpadded standard base64.
type Fingerprint struct {
	Params FingerprintParams
	Salt   []byte
	Hash   []byte
}

// String renders f in PHC string format.
func (f Fingerprint) String() string {
	enc := base64.RawStdEncoding
	return fmt.Sprintf("$argon2id$v=%d$m=%d,t=%d,p=%d$%s$%s", argon2.Version, f.Params.MemoryKiB, f.Params.Time, f.Params.Threads,
		enc.EncodeToString(f.Salt), enc.EncodeToString(f.Hash))
}

// SecretFingerprint computes the fingerprint of value with salt and the
// default parameters, as the production side publishes it.
func SecretFingerprint(value, salt string) (string, error) {
	if salt == "" {
		return "", ErrEmptySalt
	}
	if len(salt) < MinSaltLength {
		return "", ErrShortSalt
	}
	p := DefaultFingerprintParams
	f := Fingerprint{Params: p, Salt: []byte(salt)}
	f.Hash = argon2.IDKey([]byte(value), f.Salt, p.Time, p.MemoryKiB, p.Threads, p.KeyLen)
	return f.String(), nil
}

// ParseFingerprint reads a PHC-format Argon2id fingerprint, refusing other
// algorithms, versions and parameters beyond sane bounds. Errors do not
// repeat the input.
func ParseFingerprint(s string) (Fingerprint, error) {
	parts := strings.Split(s, "$")
	if len(parts) != 6 || parts[0] != "" || parts[1] != "argon2id" {
		return Fingerprint{}, errors.New("not an Argon2id fingerprint: expected $argon2id$v=19$m=…,t=…,p=…$<salt>$<hash>, as provider::staging::secret_fingerprint returns")
	}
	if parts[2] != fmt.Sprintf("v=%d", argon2.Version) {
		return Fingerprint{}, fmt.Errorf("unsupported Argon2 version: only v=%d is understood", argon2.Version)
	}
	var f Fingerprint
	var threads uint32
	if n, err := fmt.Sscanf(parts[3], "m=%d,t=%d,p=%d", &f.Params.MemoryKiB, &f.Params.Time, &threads); err != nil || n != 3 {
		return Fingerprint{}, errors.New("unreadable Argon2id parameters: expected m=<KiB>,t=<passes>,p=<lanes>")
	}
	if f.Params.Time < 1 || f.Params.Time > maxFingerprintTime || threads < 1 || threads > 255 ||
		f.Params.MemoryKiB < 8*threads || f.Params.MemoryKiB > maxFingerprintMem {
		return Fingerprint{}, fmt.Errorf("Argon2id parameters out of bounds: t must be 1..%d, p 1..255 and m 8·p..%d KiB", maxFingerprintTime, maxFingerprintMem)
	}
	f.Params.Threads = uint8(threads)
	var err error
	if f.Salt, err = base64.RawStdEncoding.DecodeString(parts[4]); err != nil || len(f.Salt) < MinSaltLength {
		return Fingerprint{}, fmt.Errorf("the salt must be unpadded base64 of at least %d bytes", MinSaltLength)
	}
	if f.Hash, err = base64.RawStdEncoding.DecodeString(parts[5]); err != nil || len(f.Hash) < minFingerprintKey || len(f.Hash) > maxFingerprintKey {
		return Fingerprint{}, fmt.Errorf("the hash must be unpadded base64 of %d to %d bytes", minFingerprintKey, maxFingerprintKey)
	}
	f.Params.KeyLen = uint32(len(f.Hash))
	return f, nil
}

// sameSetting reports whether g uses f's salt and parameters, so that one
// computation serves both.
func (f Fingerprint) sameSetting(g Fingerprint) bool {
	return f.Params == g.Params && string(f.Salt) == string(g.Salt)
}

// hash computes value's hash under f's salt and parameters.
func (f Fingerprint) hash(value string) []byte {
	return argon2.IDKey([]byte(value), f.Salt, f.Params.Time, f.Params.MemoryKiB, f.Params.Threads, f.Params.KeyLen)
}

// Matches reports, in constant time for equal lengths, whether value has
// fingerprint f.
func (f Fingerprint) Matches(value string) bool {
	return subtle.ConstantTimeCompare(f.hash(value), f.Hash) == 1
}
