package isolation

import (
	"crypto/ed25519"
	"crypto/hmac"
	"crypto/sha256"
	"crypto/x509"
	"encoding/base64"
	"encoding/binary"
	"encoding/pem"
	"errors"
	"strings"
	"testing"
)

var testRoot = []byte("0123456789abcdef0123456789abcdef-root")

func scope(env, name string, v int64) Scope { return Scope{Environment: env, Name: name, Version: v} }

// TestPassword_deterministic: the same root, scope and policy give the
// same password; another environment, name, version, policy or root give
// another.
func TestPassword_deterministic(t *testing.T) {
	p := DefaultPasswordPolicy()
	base, err := Password(testRoot, scope("pay-x", "db", 1), p)
	if err != nil {
		t.Fatal(err)
	}
	again, _ := Password(testRoot, scope("pay-x", "db", 1), p)
	if again != base {
		t.Fatalf("two derivations differ")
	}
	longer := p
	longer.Length = 33
	otherRoot := append([]byte("x"), testRoot...)
	others := map[string]func() (string, error){
		"environment": func() (string, error) { return Password(testRoot, scope("pay-y", "db", 1), p) },
		"name":        func() (string, error) { return Password(testRoot, scope("pay-x", "api", 1), p) },
		"version":     func() (string, error) { return Password(testRoot, scope("pay-x", "db", 2), p) },
		"policy":      func() (string, error) { return Password(testRoot, scope("pay-x", "db", 1), longer) },
		"root":        func() (string, error) { return Password(otherRoot, scope("pay-x", "db", 1), p) },
		// Length-prefixed fields: moving a character between environment
		// and name is another scope.
		"boundary": func() (string, error) { return Password(testRoot, scope("pay-xd", "b", 1), p) },
	}
	for what, f := range others {
		got, err := f()
		if err != nil {
			t.Fatal(err)
		}
		if got == base || strings.HasPrefix(got, base[:16]) {
			t.Errorf("another %s gives the same password", what)
		}
	}
}

// TestPassword_golden pins the derivation: a change to it would rotate
// every password derived so far.
func TestPassword_golden(t *testing.T) {
	got, err := Password(testRoot, scope("pay-x", "db", 1), DefaultPasswordPolicy())
	if err != nil {
		t.Fatal(err)
	}
	if want := "ut^]*4_6LpkZ]9TNQh8s)2oyB*.[(SOL"; got != want {
		t.Errorf("Password = %q, want %q", got, want)
	}
}

// TestStream_isHKDF recomputes the first block of a credential's stream
// from the definition of HKDF (RFC 5869: PRK = HMAC(salt, IKM), T(1) =
// HMAC(PRK, info || 0x01)) with the documented info encoding.
func TestStream_isHKDF(t *testing.T) {
	mac := func(key, msg []byte) []byte { h := hmac.New(sha256.New, key); h.Write(msg); return h.Sum(nil) }
	prk := mac([]byte(derivationSalt), testRoot)
	var info []byte
	for _, f := range []string{"token", "env", "name", "7", "bytes=32"} {
		info = binary.BigEndian.AppendUint32(info, uint32(len(f)))
		info = append(info, f...)
	}
	info = binary.BigEndian.AppendUint32(info, 0) // chunk 0
	want := mac(prk, append(info, 1))
	st, err := newStream(testRoot, "token", scope("env", "name", 7), "bytes=32")
	if err != nil {
		t.Fatal(err)
	}
	got, _ := st.read(32)
	if string(got) != string(want) {
		t.Fatalf("stream = %x, want %x", got, want)
	}
	tok, _ := Token(testRoot, scope("env", "name", 7), 32, EncodingBase64URL)
	if tok != base64.RawURLEncoding.EncodeToString(want) {
		t.Errorf("the token is not the stream's first 32 bytes")
	}
	// The stream goes on past one HKDF-Expand call.
	if _, err := st.read(3 * chunkSize); err != nil {
		t.Fatal(err)
	}
}

// TestPassword_policyMet: over many versions every password has the
// length, the minimum of each class and no excluded or foreign character.
func TestPassword_policyMet(t *testing.T) {
	p := PasswordPolicy{Length: 20, Lower: true, Upper: true, Digits: true, Special: true,
		MinLower: 2, MinUpper: 3, MinDigits: 4, MinSpecial: 5, Exclude: "0O1lI|", SpecialChars: "!#-_|"}
	for v := int64(1); v <= 300; v++ {
		pw, err := Password(testRoot, scope("e", "n", v), p)
		if err != nil {
			t.Fatal(err)
		}
		if len(pw) != 20 {
			t.Fatalf("length %d", len(pw))
		}
		count := map[string]int{}
		for _, r := range pw {
			switch {
			case strings.ContainsRune(p.Exclude, r):
				t.Fatalf("version %d holds excluded %q", v, r)
			case strings.ContainsRune(LowerChars, r):
				count["lower"]++
			case strings.ContainsRune(UpperChars, r):
				count["upper"]++
			case strings.ContainsRune(DigitChars, r):
				count["digit"]++
			case strings.ContainsRune("!#-_", r):
				count["special"]++
			default:
				t.Fatalf("version %d holds %q, outside the alphabet", v, r)
			}
		}
		if count["lower"] < 2 || count["upper"] < 3 || count["digit"] < 4 || count["special"] < 5 {
			t.Fatalf("version %d misses a minimum: %v", v, count)
		}
	}
}

// TestPolicy_refused: each impossible or weak policy names the setting at
// fault.
func TestPolicy_refused(t *testing.T) {
	def := DefaultPasswordPolicy()
	with := func(f func(*PasswordPolicy)) PasswordPolicy { p := def; f(&p); return p }
	cases := map[string]struct {
		p     PasswordPolicy
		field string
		msg   string
	}{
		"too short":          {with(func(p *PasswordPolicy) { p.Length = 15 }), "length", "at least 16"},
		"too long":           {with(func(p *PasswordPolicy) { p.Length = 257 }), "length", "at most 256"},
		"mins exceed length": {with(func(p *PasswordPolicy) { p.Length = 16; p.MinDigits = 15 }), "length", "ask for 18"},
		"disabled class min": {with(func(p *PasswordPolicy) { p.Special = false }), "min_special", "special is false"},
		"class excluded":     {with(func(p *PasswordPolicy) { p.Exclude = DigitChars }), "exclude", "digits"},
		"nothing left": {PasswordPolicy{Length: 16, Digits: true, Exclude: DigitChars},
			"exclude", "no character"},
		"weak":            {PasswordPolicy{Length: 16, Digits: true}, "length", "bits of entropy"},
		"negative":        {with(func(p *PasswordPolicy) { p.MinUpper = -1 }), "min_upper", "negative"},
		"special letters": {with(func(p *PasswordPolicy) { p.SpecialChars = "!a" }), "override_special", "punctuation"},
	}
	for name, c := range cases {
		_, err := Password(testRoot, scope("e", "n", 1), c.p)
		var pe *PolicyError
		if !errors.As(err, &pe) || pe.Field != c.field || !strings.Contains(pe.Msg, c.msg) {
			t.Errorf("%s: error %v, want %s: …%s…", name, err, c.field, c.msg)
		}
	}
	// A class excluded entirely is fine when nothing asks for it.
	ok := with(func(p *PasswordPolicy) { p.Exclude = DigitChars; p.MinDigits = 0 })
	pw, err := Password(testRoot, scope("e", "n", 1), ok)
	if err != nil || strings.ContainsAny(pw, DigitChars) {
		t.Errorf("digits excluded: %q, %v", pw, err)
	}
}

// TestDerive_rootAndScope: a short root secret, version 0 and an empty name
// are refused.
func TestDerive_rootAndScope(t *testing.T) {
	if _, err := Token([]byte("short"), scope("e", "n", 1), 32, EncodingHex); !errors.Is(err, ErrRootSecretTooShort) {
		t.Errorf("short root: %v", err)
	}
	var pe *PolicyError
	if _, err := Token(testRoot, scope("e", "n", 0), 32, EncodingHex); !errors.As(err, &pe) || pe.Field != "version" {
		t.Errorf("version 0: %v", err)
	}
	if _, err := Token(testRoot, scope("e", "", 1), 32, EncodingHex); !errors.As(err, &pe) || pe.Field != "name" {
		t.Errorf("empty name: %v", err)
	}
	for _, n := range []int{15, 1025} {
		if _, err := Token(testRoot, scope("e", "n", 1), n, EncodingHex); !errors.As(err, &pe) || pe.Field != "bytes" {
			t.Errorf("%d bytes: %v", n, err)
		}
	}
	if _, err := Token(testRoot, scope("e", "n", 1), 32, "base32"); !errors.As(err, &pe) || pe.Field != "encoding" {
		t.Errorf("base32: %v", err)
	}
	h, _ := Token(testRoot, scope("e", "n", 1), 20, EncodingHex)
	if len(h) != 40 {
		t.Errorf("hex token of 20 bytes has %d characters", len(h))
	}
}

// TestEd25519_valid: the derived key pair signs and verifies, its PEM
// blocks parse back to the same keys, the OpenSSH line holds the public
// key, and it is deterministic per scope.
func TestEd25519_valid(t *testing.T) {
	kp, err := Ed25519(testRoot, scope("e", "deploy", 1))
	if err != nil {
		t.Fatal(err)
	}
	msg := []byte("staging")
	pub := kp.Private.Public().(ed25519.PublicKey)
	if !ed25519.Verify(pub, msg, ed25519.Sign(kp.Private, msg)) {
		t.Fatal("signature does not verify")
	}
	blk, _ := pem.Decode([]byte(kp.PrivateKeyPEM))
	priv, err := x509.ParsePKCS8PrivateKey(blk.Bytes)
	if err != nil || !priv.(ed25519.PrivateKey).Equal(kp.Private) {
		t.Fatalf("private PEM: %v", err)
	}
	blk, _ = pem.Decode([]byte(kp.PublicKeyPEM))
	p, err := x509.ParsePKIXPublicKey(blk.Bytes)
	if err != nil || !p.(ed25519.PublicKey).Equal(pub) {
		t.Fatalf("public PEM: %v", err)
	}
	f := strings.Fields(kp.PublicKeyOpenSSH)
	wire, err := base64.StdEncoding.DecodeString(f[1])
	if f[0] != "ssh-ed25519" || err != nil || string(wire[len(wire)-32:]) != string(pub) || binary.BigEndian.Uint32(wire) != 11 {
		t.Fatalf("OpenSSH line %q", kp.PublicKeyOpenSSH)
	}
	again, _ := Ed25519(testRoot, scope("e", "deploy", 1))
	other, _ := Ed25519(testRoot, scope("e", "deploy", 2))
	if again.PrivateKeyPEM != kp.PrivateKeyPEM || other.PublicKeyOpenSSH == kp.PublicKeyOpenSSH {
		t.Error("key pairs are not deterministic per scope")
	}
}

// TestUniform_unbiased: rejection sampling spreads draws evenly over an
// alphabet whose size does not divide 256.
func TestUniform_unbiased(t *testing.T) {
	st, _ := newStream(testRoot, "test", scope("e", "n", 1), "")
	const n, draws = 94, 94 * 2000
	counts := make([]int, n)
	for range draws {
		i, err := st.uniform(n)
		if err != nil {
			t.Fatal(err)
		}
		counts[i]++
	}
	// Chi-square with 93 degrees of freedom: above 150 happens with
	// probability below 1e-4. Without rejection the first 68 values would
	// be drawn 3/2 as often as the others (chi-square in the thousands).
	chi := 0.0
	for _, c := range counts {
		d := float64(c - draws/n)
		chi += d * d / float64(draws/n)
	}
	if chi > 150 {
		t.Errorf("chi-square %.0f: draws are biased", chi)
	}
}

func BenchmarkPassword(b *testing.B) {
	p := DefaultPasswordPolicy()
	for i := range b.N {
		if _, err := Password(testRoot, scope("e", "n", int64(i+1)), p); err != nil {
			b.Fatal(err)
		}
	}
}
