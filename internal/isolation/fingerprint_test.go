package isolation

import (
	"crypto/hmac"
	"crypto/sha256"
	"encoding/base64"
	"encoding/hex"
	"errors"
	"strings"
	"testing"
)

// TestArgon2id_vector: the Argon2id reference implementation's vector
// (password "password", salt "somesalt", t=2, m=64 KiB, p=1, 24 bytes)
// through Fingerprint's hash.
func TestArgon2id_vector(t *testing.T) {
	f := Fingerprint{Params: FingerprintParams{Time: 2, MemoryKiB: 64, Threads: 1, KeyLen: 24}, Salt: []byte("somesalt")}
	if got := hex.EncodeToString(f.hash("password")); got != "068d62b26455936aa6ebe60060b0a65870dbfa3ddf8d41f7" {
		t.Fatalf("hash = %s", got)
	}
}

// TestSecretFingerprint: the fingerprint is a PHC string with the
// documented parameters that parses back and matches only its value; the
// salt is required.
func TestSecretFingerprint(t *testing.T) {
	fp, err := SecretFingerprint("prod-db-password", "salt-of-prod-2026")
	if err != nil {
		t.Fatal(err)
	}
	if !strings.HasPrefix(fp, "$argon2id$v=19$m=19456,t=2,p=1$") || strings.Contains(fp, "prod-db-password") {
		t.Fatalf("fingerprint %s", fp)
	}
	f, err := ParseFingerprint(fp)
	if err != nil {
		t.Fatal(err)
	}
	if !f.Matches("prod-db-password") || f.Matches("prod-db-password ") || f.Matches("") {
		t.Error("Matches is wrong")
	}
	if f.String() != fp {
		t.Errorf("round trip: %s", f.String())
	}
	other, _ := SecretFingerprint("prod-db-password", "another-salt-2026")
	if other == fp {
		t.Error("the salt does not change the fingerprint")
	}
	if _, err := SecretFingerprint("x", ""); !errors.Is(err, ErrEmptySalt) {
		t.Errorf("empty salt: %v", err)
	}
	if _, err := SecretFingerprint("x", "short"); !errors.Is(err, ErrShortSalt) {
		t.Errorf("short salt: %v", err)
	}
}

// TestParseFingerprint_refused: other algorithms, versions, unbounded
// parameters and bad encodings are refused without echoing the input.
func TestParseFingerprint_refused(t *testing.T) {
	salt := base64.RawStdEncoding.EncodeToString([]byte("saltsalt"))
	hash := base64.RawStdEncoding.EncodeToString(make([]byte, 32))
	for _, s := range []string{
		"", "plain-secret-value",
		"$argon2i$v=19$m=64,t=2,p=1$" + salt + "$" + hash,
		"$argon2id$v=16$m=64,t=2,p=1$" + salt + "$" + hash,
		"$argon2id$v=19$m=4194304,t=2,p=1$" + salt + "$" + hash,
		"$argon2id$v=19$m=64,t=99,p=1$" + salt + "$" + hash,
		"$argon2id$v=19$m=64,t=2$" + salt + "$" + hash,
		"$argon2id$v=19$m=64,t=2,p=1$c2hvcnQ$" + hash,
		"$argon2id$v=19$m=64,t=2,p=1$" + salt + "$AAAA",
	} {
		_, err := ParseFingerprint(s)
		if err == nil {
			t.Errorf("%q accepted", s)
		} else if s != "" && strings.Contains(err.Error(), s) {
			t.Errorf("error echoes the input: %v", err)
		}
	}
}

// TestSCRAMVerifier_RFC7677 checks the keys against the exchange of RFC
// 7677 section 3 (user "user", password "pencil"): the client proof it
// shows recovers our ClientKey, and our ServerKey gives its server
// signature.
func TestSCRAMVerifier_RFC7677(t *testing.T) {
	salt, _ := base64.StdEncoding.DecodeString("W22ZaJ0SNY7soEsUEjb6gQ==")
	serverKey, storedKey, err := scramKeys("pencil", salt, 4096)
	if err != nil {
		t.Fatal(err)
	}
	const nonce = "rOprNGfwEbeRWgbNEkqO%hvYDpWUa2RaTCAfuxFIlj)hNlF$k0"
	auth := "n=user,r=rOprNGfwEbeRWgbNEkqO," + "r=" + nonce + ",s=W22ZaJ0SNY7soEsUEjb6gQ==,i=4096," + "c=biws,r=" + nonce
	mac := func(key []byte) []byte { h := hmac.New(sha256.New, key); h.Write([]byte(auth)); return h.Sum(nil) }
	if got := base64.StdEncoding.EncodeToString(mac(serverKey)); got != "6rriTRBi23WpRR/wtup+mMhUZUn/dB5nLTJRsjl95G4=" {
		t.Errorf("server signature %s", got)
	}
	proof, _ := base64.StdEncoding.DecodeString("dHzbZapWIk4jUhN+Ute9ytag9zjfMHgsqmmiz7AndVQ=")
	sig := mac(storedKey)
	for i := range proof {
		proof[i] ^= sig[i]
	}
	if sum := sha256.Sum256(proof); string(sum[:]) != string(storedKey) {
		t.Error("the RFC's client proof does not match our StoredKey")
	}
	v, err := scramVerifier("pencil", salt, 4096)
	if err != nil || !strings.HasPrefix(v, "SCRAM-SHA-256$4096:W22ZaJ0SNY7soEsUEjb6gQ==$") {
		t.Errorf("verifier %s, %v", v, err)
	}
	if _, err := SCRAMVerifier("pässword-long-enough"); !errors.Is(err, ErrNonASCIIPassword) {
		t.Errorf("non-ASCII: %v", err)
	}
	a, _ := SCRAMVerifier("pencil")
	b, _ := SCRAMVerifier("pencil")
	if a == b || strings.Contains(a, "pencil") {
		t.Error("verifiers must use a fresh salt and not hold the password")
	}
}

// BenchmarkSecretFingerprint measures one fingerprint at the default
// parameters: the cost of one guess to whoever holds a leaked fingerprint,
// and what the check pays per staging value and salt.
func BenchmarkSecretFingerprint(b *testing.B) {
	for b.Loop() {
		if _, err := SecretFingerprint("a production secret", "a-published-salt"); err != nil {
			b.Fatal(err)
		}
	}
}
