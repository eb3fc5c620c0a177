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
	// About 1 in 10,000 random keys reads as letters only in base64 and is
	// refused as passphrase-shaped (TestParseKey_GeneratedBase64 has fixed
	// ones); draw again rather than flake.
	for {
		if _, err := rand.Read(raw); err != nil {
			t.Fatal(err)
		}
		if passphraseShaped(base64.StdEncoding.EncodeToString(raw), raw) == "" && passphraseShaped(base64.URLEncoding.EncodeToString(raw), raw) == "" {
			break
		}
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

// TestParseKey_GeneratedBase64 takes keys as `openssl rand -base64 32`
// (and 48) printed them: generated base64 keeps working.
func TestParseKey_GeneratedBase64(t *testing.T) {
	for _, s := range []string{
		"Z084t4H+T5+SMLb7oMuXOv50O0W9MkJ82tmaubB7x2k=",
		"cK/oSexsCNV6iHIotki81G92jOJmWvVKLTVQIwDl5lY=",
		"sHRGiAypJbvrjEgAOV0VbI53QvzjuvdWQr7mmp3y1vE",
		"qXmHkUOnTBvssZoMMeWxrtfLv57pWA1JYrSlZ6akD4vm8Ys8v5fw6+F2LIHpKTmj",
	} {
		if _, err := ParseKey(s); err != nil {
			t.Errorf("generated key refused: %v", err)
		}
	}
}

// TestParseKey_RefusesPassphrasesThatAreBase64 is review item 10: words and
// typed phrases that happen to decode as base64 are not random bytes.
func TestParseKey_RefusesPassphrasesThatAreBase64(t *testing.T) {
	for name, s := range map[string]string{
		"camel-case words": "ThisIsOurStagingMaskingPassphraseForAllTeams",
		"lower-case words": "ourstagingmaskingpassphraseforalltheteamsok",
		"base64 of text":   "b3VyIHN0YWdpbmcgbWFza2luZyBwYXNzcGhyYXNlIGZvciBhbGwgdGhlIHRlYW1z",
	} {
		_, err := ParseKey(s)
		var ke *KeyError
		if !errors.As(err, &ke) {
			t.Fatalf("%s: want *KeyError, got %v", name, err)
		}
		if !strings.Contains(err.Error(), "openssl rand -hex 32") || strings.Contains(err.Error(), s) {
			t.Errorf("%s: error must say how to generate a key and never hold it: %v", name, err)
		}
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

// TestParseKey_RefusesRecognisableText is second-review item E:
// passphrases with digits that happen to be base64 (words, years,
// repeats) are refused, without the key in the error.
func TestParseKey_RefusesRecognisableText(t *testing.T) {
	for _, s := range []string{
		"Staging2024MaskingKeyForAcmeTeams2025Q4Prod1",
		"Summer2024Winter2025Spring2026Autumn2027Key0",
		"AcmeStagingKey2024AcmeStagingKey2024AcmeStag",
		"ThisIsOurStagingMaskingPassphraseForAllTeams",
		"correcthorsebatterystaple+2024+correcthorse1",
		"Q7xZ9kP2Q7xZ9kP2Q7xZ9kP2Q7xZ9kP2Q7xZ9kP2Q7x=",
	} {
		_, err := ParseKey(s)
		var ke *KeyError
		if !errors.As(err, &ke) {
			t.Errorf("%s: want *KeyError, got %v", s[:6], err)
			continue
		}
		if !strings.Contains(err.Error(), "openssl rand -hex 32") || strings.Contains(err.Error(), s) {
			t.Errorf("error must say how to generate a key and never hold it: %v", err)
		}
	}
}

// TestParseKey_GeneratedKeysAccepted draws 100,000 keys as `openssl rand
// -base64 32` (and 48) would print them, in the four base64 spellings: the
// recognisable-text tests are set to refuse one with probability below
// 1e-7, so none of them may be refused.
func TestParseKey_GeneratedKeysAccepted(t *testing.T) {
	encs := []*base64.Encoding{base64.StdEncoding, base64.RawStdEncoding, base64.URLEncoding, base64.RawURLEncoding}
	for i := range 100000 {
		raw := make([]byte, 32+16*(i%2))
		if _, err := rand.Read(raw); err != nil {
			t.Fatal(err)
		}
		if _, err := ParseKey(encs[i%4].EncodeToString(raw)); err != nil {
			t.Fatalf("generated key %d refused: %v", i, err)
		}
	}
}
