package isolation

import (
	"crypto/ed25519"
	"crypto/hkdf"
	"crypto/sha256"
	"crypto/x509"
	"encoding/base64"
	"encoding/binary"
	"encoding/hex"
	"encoding/pem"
	"errors"
	"fmt"
	"math"
	"strconv"
	"strings"
)

// MinRootSecretLength is the shortest root secret accepted, in bytes: 32
// hexadecimal digits carry 128 bits.
const MinRootSecretLength = 32

// MinPasswordLength is the shortest password a policy may ask for.
const MinPasswordLength = 16

// MaxPasswordLength is the longest password a policy may ask for.
const MaxPasswordLength = 256

// MinPasswordBits is the least entropy a policy must give, in bits:
// length × log2(alphabet size).
const MinPasswordBits = 64

// Token sizes, in bytes.
const (
	MinTokenBytes = 16
	MaxTokenBytes = 1024
)

// Token encodings.
const (
	EncodingHex       = "hex"
	EncodingBase64URL = "base64url"
)

// Character classes of a password.
const (
	LowerChars = "abcdefghijklmnopqrstuvwxyz"
	UpperChars = "ABCDEFGHIJKLMNOPQRSTUVWXYZ"
	DigitChars = "0123456789"
	// DefaultSpecialChars are the special characters used unless a policy
	// names its own: none that need quoting in a shell, a URL's userinfo
	// or a libpq keyword/value string (no quotes, backslash, space, '@',
	// ':', '/', '?', '#', '%', '&' or '=').
	DefaultSpecialChars = "!*()-_+[]{}<>.,~^"
)

// derivationSalt separates credentials from anything else derived from the
// same root secret (HKDF's salt).
const derivationSalt = "stagingkit/terraform-provider-staging credential v1"

// ErrRootSecretTooShort is returned for a root secret shorter than
// MinRootSecretLength.
var ErrRootSecretTooShort = fmt.Errorf("the root secret must be at least %d bytes long (128 bits as hexadecimal); generate one with `openssl rand -hex 32`", MinRootSecretLength)

// Scope names one credential: the environment it belongs to, its name and
// its version. Another scope gives an unrelated value; the same scope and
// root secret always give the same value.
type Scope struct {
	Environment string
	Name        string
	// Version is bumped to rotate the credential; it must be at least 1.
	Version int64
}

// PolicyError says which setting of a credential policy is wrong and why.
type PolicyError struct {
	// Field is the policy setting at fault, as the provider's attribute
	// names it (length, min_lower, exclude, ...).
	Field string
	Msg   string
}

func (e *PolicyError) Error() string { return e.Field + ": " + e.Msg }

// PasswordPolicy says what a derived password looks like. Classes that are
// allowed contribute their characters (less Exclude) to the alphabet; each
// Min* is how many characters of that class the password holds at least.
type PasswordPolicy struct {
	Length                                    int
	Lower, Upper, Digits, Special             bool
	MinLower, MinUpper, MinDigits, MinSpecial int
	// SpecialChars replaces DefaultSpecialChars when not empty.
	SpecialChars string
	// Exclude lists characters never used.
	Exclude string
}

// DefaultPasswordPolicy is 32 characters of every class, at least one of
// each.
func DefaultPasswordPolicy() PasswordPolicy {
	return PasswordPolicy{Length: 32, Lower: true, Upper: true, Digits: true, Special: true,
		MinLower: 1, MinUpper: 1, MinDigits: 1, MinSpecial: 1}
}

// passwordClass is one character class of a policy after exclusions.
type passwordClass struct {
	name, field, minField string
	allowed               bool
	min                   int
	chars                 string
}

// classes returns the policy's four classes with excluded characters
// removed.
func (p PasswordPolicy) classes() []passwordClass {
	special := p.SpecialChars
	if special == "" {
		special = DefaultSpecialChars
	}
	drop := func(s string) string {
		var b strings.Builder
		for _, r := range s {
			if !strings.ContainsRune(p.Exclude, r) && !strings.ContainsRune(b.String(), r) {
				b.WriteRune(r)
			}
		}
		return b.String()
	}
	return []passwordClass{
		{"lowercase letters", "lower", "min_lower", p.Lower, p.MinLower, drop(LowerChars)},
		{"uppercase letters", "upper", "min_upper", p.Upper, p.MinUpper, drop(UpperChars)},
		{"digits", "numeric", "min_numeric", p.Digits, p.MinDigits, drop(DigitChars)},
		{"special characters", "special", "min_special", p.Special, p.MinSpecial, drop(special)},
	}
}

// Validate reports the first reason the policy cannot be met or is too
// weak, as a *PolicyError.
func (p PasswordPolicy) Validate() error {
	_, err := p.alphabet()
	return err
}

// alphabet checks the policy and returns every character a password may
// hold.
func (p PasswordPolicy) alphabet() (string, error) {
	if p.Length < MinPasswordLength {
		return "", &PolicyError{"length", fmt.Sprintf("is %d; a password must be at least %d characters long", p.Length, MinPasswordLength)}
	}
	if p.Length > MaxPasswordLength {
		return "", &PolicyError{"length", fmt.Sprintf("is %d; a password may be at most %d characters long", p.Length, MaxPasswordLength)}
	}
	for _, r := range p.SpecialChars {
		if r <= ' ' || r > '~' || strings.ContainsRune(LowerChars+UpperChars+DigitChars, r) {
			return "", &PolicyError{"override_special", "may only hold printable ASCII punctuation, without spaces, letters or digits"}
		}
	}
	var alphabet strings.Builder
	mins := 0
	for _, c := range p.classes() {
		if c.min < 0 {
			return "", &PolicyError{c.minField, "must not be negative"}
		}
		if !c.allowed {
			if c.min > 0 {
				return "", &PolicyError{c.minField, fmt.Sprintf("is %d, but %s is false: allow %s or set %s to 0", c.min, c.field, c.name, c.minField)}
			}
			continue
		}
		if c.chars == "" {
			if c.min > 0 {
				return "", &PolicyError{"exclude", fmt.Sprintf("removes every one of the %s, of which %s asks for %d; exclude fewer characters or set %s to 0", c.name, c.minField, c.min, c.minField)}
			}
			continue
		}
		mins += c.min
		alphabet.WriteString(c.chars)
	}
	if alphabet.Len() == 0 {
		return "", &PolicyError{"exclude", "leaves no character to build a password from; allow a class or exclude fewer characters"}
	}
	if mins > p.Length {
		return "", &PolicyError{"length", fmt.Sprintf("is %d, but the min_* settings ask for %d characters; raise length or lower them", p.Length, mins)}
	}
	if bits := float64(p.Length) * math.Log2(float64(alphabet.Len())); bits < MinPasswordBits {
		return "", &PolicyError{"length", fmt.Sprintf("gives about %.0f bits of entropy with %d possible characters, fewer than %d; make the password longer or allow more classes", bits, alphabet.Len(), MinPasswordBits)}
	}
	return alphabet.String(), nil
}

// canonical is the policy as text, part of what the password is derived
// from: two policies that give different passwords never share a stream.
func (p PasswordPolicy) canonical() string {
	var b strings.Builder
	fmt.Fprintf(&b, "length=%d", p.Length)
	for _, c := range p.classes() {
		fmt.Fprintf(&b, ";%s=%t,%d,%q", c.field, c.allowed, c.min, c.chars)
	}
	return b.String()
}

// checkRoot validates the root secret and the scope.
func checkRoot(root []byte, s Scope) error {
	if len(root) < MinRootSecretLength {
		return ErrRootSecretTooShort
	}
	if s.Version < 1 {
		return &PolicyError{"version", fmt.Sprintf("is %d; versions start at 1", s.Version)}
	}
	if s.Name == "" {
		return &PolicyError{"name", "must not be empty"}
	}
	return nil
}

// stream is the HKDF-SHA256 output for one credential, read byte by byte.
// HKDF-Expand gives at most 255 hash blocks per info, so the stream is
// made of chunks whose info ends in a chunk counter.
type stream struct {
	prk   []byte
	info  []byte
	chunk uint32
	buf   []byte
}

// chunkSize is how many bytes one HKDF-Expand call gives the stream.
const chunkSize = 4096

// newStream derives the stream of the credential of kind and scope: HKDF
// with the root secret as input key material, a fixed salt, and info made
// of length-prefixed kind, environment, name, version and parameters.
func newStream(root []byte, kind string, s Scope, params string) (*stream, error) {
	if err := checkRoot(root, s); err != nil {
		return nil, err
	}
	prk, err := hkdf.Extract(sha256.New, root, []byte(derivationSalt))
	if err != nil {
		return nil, fmt.Errorf("isolation: deriving a credential: %w", err)
	}
	var info []byte
	for _, f := range []string{kind, s.Environment, s.Name, strconv.FormatInt(s.Version, 10), params} {
		info = binary.BigEndian.AppendUint32(info, uint32(len(f)))
		info = append(info, f...)
	}
	return &stream{prk: prk, info: info}, nil
}

// read returns the next n bytes of the stream.
func (s *stream) read(n int) ([]byte, error) {
	out := make([]byte, 0, n)
	for len(out) < n {
		if len(s.buf) == 0 {
			info := binary.BigEndian.AppendUint32(append([]byte(nil), s.info...), s.chunk)
			b, err := hkdf.Expand(sha256.New, s.prk, string(info), chunkSize)
			if err != nil {
				return nil, fmt.Errorf("isolation: deriving a credential: %w", err)
			}
			s.buf, s.chunk = b, s.chunk+1
		}
		k := min(n-len(out), len(s.buf))
		out, s.buf = append(out, s.buf[:k]...), s.buf[k:]
	}
	return out, nil
}

// uniform returns a uniformly distributed integer in [0, n), 0 < n <= 256,
// by rejection sampling: bytes at or above the largest multiple of n are
// drawn again, so no value is more likely than another.
func (s *stream) uniform(n int) (int, error) {
	if n <= 0 || n > 256 {
		return 0, errors.New("isolation: uniform draw out of range")
	}
	limit := 256 - 256%n
	for {
		b, err := s.read(1)
		if err != nil {
			return 0, err
		}
		if int(b[0]) < limit {
			return int(b[0]) % n, nil
		}
	}
}

// Password derives the password of scope s under policy p: first each
// class's minimum, drawn from that class, then the rest drawn from the
// whole alphabet, then a Fisher–Yates shuffle; every draw is uniform
// (rejection sampling over the HKDF stream).
func Password(root []byte, s Scope, p PasswordPolicy) (string, error) {
	alphabet, err := p.alphabet()
	if err != nil {
		return "", err
	}
	st, err := newStream(root, "password", s, p.canonical())
	if err != nil {
		return "", err
	}
	out := make([]byte, 0, p.Length)
	draw := func(from string) error {
		i, err := st.uniform(len(from))
		if err == nil {
			out = append(out, from[i])
		}
		return err
	}
	for _, c := range p.classes() {
		for range c.min {
			if c.allowed && c.chars != "" {
				if err := draw(c.chars); err != nil {
					return "", err
				}
			}
		}
	}
	for len(out) < p.Length {
		if err := draw(alphabet); err != nil {
			return "", err
		}
	}
	for i := len(out) - 1; i > 0; i-- {
		j, err := st.uniform(i + 1)
		if err != nil {
			return "", err
		}
		out[i], out[j] = out[j], out[i]
	}
	return string(out), nil
}

// Token derives n random bytes for scope s, encoded as hex or base64url
// (unpadded).
func Token(root []byte, s Scope, n int, encoding string) (string, error) {
	if n < MinTokenBytes || n > MaxTokenBytes {
		return "", &PolicyError{"bytes", fmt.Sprintf("is %d; a token must be %d to %d bytes long", n, MinTokenBytes, MaxTokenBytes)}
	}
	if encoding != EncodingHex && encoding != EncodingBase64URL {
		return "", &PolicyError{"encoding", fmt.Sprintf("is %q; use %q or %q", encoding, EncodingHex, EncodingBase64URL)}
	}
	st, err := newStream(root, "token", s, fmt.Sprintf("bytes=%d", n))
	if err != nil {
		return "", err
	}
	b, err := st.read(n)
	if err != nil {
		return "", err
	}
	if encoding == EncodingHex {
		return hex.EncodeToString(b), nil
	}
	return base64.RawURLEncoding.EncodeToString(b), nil
}

// KeyPair is a derived ed25519 key pair in the usual encodings.
type KeyPair struct {
	// PrivateKeyPEM is the private key as a PKCS #8 "PRIVATE KEY" PEM block.
	PrivateKeyPEM string
	// PublicKeyPEM is the public key as a PKIX "PUBLIC KEY" PEM block.
	PublicKeyPEM string
	// PublicKeyOpenSSH is the public key in authorized_keys format.
	PublicKeyOpenSSH string
	// Private is the key itself.
	Private ed25519.PrivateKey
}

// Ed25519 derives the ed25519 key pair of scope s from a 32-byte seed
// read from the HKDF stream (RFC 8032 private key).
func Ed25519(root []byte, s Scope) (KeyPair, error) {
	st, err := newStream(root, "ed25519", s, "")
	if err != nil {
		return KeyPair{}, err
	}
	seed, err := st.read(ed25519.SeedSize)
	if err != nil {
		return KeyPair{}, err
	}
	priv := ed25519.NewKeyFromSeed(seed)
	pub := priv.Public().(ed25519.PublicKey)
	der, err := x509.MarshalPKCS8PrivateKey(priv)
	if err != nil {
		return KeyPair{}, fmt.Errorf("isolation: encoding the private key: %w", err)
	}
	pubDER, err := x509.MarshalPKIXPublicKey(pub)
	if err != nil {
		return KeyPair{}, fmt.Errorf("isolation: encoding the public key: %w", err)
	}
	return KeyPair{
		PrivateKeyPEM:    string(pem.EncodeToMemory(&pem.Block{Type: "PRIVATE KEY", Bytes: der})),
		PublicKeyPEM:     string(pem.EncodeToMemory(&pem.Block{Type: "PUBLIC KEY", Bytes: pubDER})),
		PublicKeyOpenSSH: OpenSSHPublicKey(pub),
		Private:          priv,
	}, nil
}

// OpenSSHPublicKey encodes an ed25519 public key as an authorized_keys
// line (RFC 8709 wire format: string "ssh-ed25519", string key).
func OpenSSHPublicKey(pub ed25519.PublicKey) string {
	const algo = "ssh-ed25519"
	var wire []byte
	wire = binary.BigEndian.AppendUint32(wire, uint32(len(algo)))
	wire = append(wire, algo...)
	wire = binary.BigEndian.AppendUint32(wire, uint32(len(pub)))
	wire = append(wire, pub...)
	return algo + " " + base64.StdEncoding.EncodeToString(wire)
}
