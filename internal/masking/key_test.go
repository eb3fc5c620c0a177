package masking

import (
	"crypto/rand"
	"encoding/base64"
	"encoding/hex"
	"errors"
	"strings"
	"testing"
)

func TestParseKey_Accepts(t *testing.T) {
	raw := make([]byte, 32)
	if _, err := rand.Read(raw); err != nil {
		t.Fatal(err)
	}
	long := make([]byte, 48)
	if _, err := rand.Read(long); err != nil {
		t.Fatal(err)
	}
	want, err := DeriveKey(raw)
	if err != nil {
		t.Fatal(err)
	}
	for name, s := range map[string]string{
		"hex":                hex.EncodeToString(raw),
		"HEX":                strings.ToUpper(hex.EncodeToString(raw)),
		"base64 padded":      base64.StdEncoding.EncodeToString(raw),
		"base64 unpadded":    base64.RawStdEncoding.EncodeToString(raw),
		"base64url padded":   base64.URLEncoding.EncodeToString(raw),
		"base64url unpadded": base64.RawURLEncoding.EncodeToString(raw),
	} {
		k, err := ParseKey(s)
		if err != nil {
			t.Fatalf("%s: %v", name, err)
		}
		if k != want {
			t.Fatalf("%s: decodes to another key than the raw bytes", name)
		}
	}
	if _, err := ParseKey(hex.EncodeToString(long)); err != nil {
		t.Fatalf("48 bytes in hex: %v", err)
	}
}

func TestParseKey_Refuses(t *testing.T) {
	raw := make([]byte, 31)
	if _, err := rand.Read(raw); err != nil {
		t.Fatal(err)
	}
	for name, s := range map[string]string{
		"passphrase":     "fixture-key",
		"long phrase":    "correct horse battery staple and some more words to pass 32",
		"31 bytes hex":   hex.EncodeToString(raw),
		"31 bytes b64":   base64.StdEncoding.EncodeToString(raw),
		"63 hex chars":   hex.EncodeToString(append(raw, 1))[:63],
		"zeros":          strings.Repeat("0", 64),
		"pattern":        strings.Repeat("0123456789abcdef", 4),
		"hex with space": hex.EncodeToString(append(raw, 1)) + " ",
	} {
		_, err := ParseKey(s)
		var ke *KeyError
		if !errors.As(err, &ke) {
			t.Fatalf("%s: want *KeyError, got %v", name, err)
		}
		if !strings.Contains(err.Error(), "openssl rand -hex 32") {
			t.Errorf("%s: error does not say how to generate a key: %v", name, err)
		}
		if s != "" && strings.Contains(err.Error(), s) {
			t.Errorf("%s: error contains the key", name)
		}
	}
}
