package masking

import (
	"bytes"
	"encoding/json"
	"net/mail"
	"net/netip"
	"strings"
	"testing"
	"time"
	"unicode/utf8"
)

// fuzzTransformers builds one transformer per catalog entry, once.
func fuzzTransformers(f *testing.F) []Transformer {
	k := testKey(f, "fuzz")
	var ts []Transformer
	for _, name := range TransformerNames() {
		spec := specFor(name)
		spec.OnInvalid = "hash"
		ts = append(ts, mustNew(f, spec, k))
	}
	return ts
}

// FuzzTransform runs every transformer on arbitrary input: no panics,
// deterministic output, appending without touching the prefix.
func FuzzTransform(f *testing.F) {
	ts := fuzzTransformers(f)
	for i, name := range TransformerNames() {
		f.Add(uint8(i), sampleInputs[name])
		f.Add(uint8(i), "")
		f.Add(uint8(i), "日本語 \xff")
	}
	f.Fuzz(func(t *testing.T, sel uint8, in string) {
		tr := ts[int(sel)%len(ts)]
		prefix := []byte("prefix")
		a, err1 := tr.Transform(append([]byte(nil), prefix...), []byte(in))
		b, err2 := tr.Transform(make([]byte, 0, 4), []byte(in))
		if (err1 == nil) != (err2 == nil) {
			t.Fatalf("%s: nondeterministic error", tr.Name())
		}
		if err1 != nil {
			return
		}
		if !bytes.HasPrefix(a, prefix) || !bytes.Equal(a[len(prefix):], b) {
			t.Fatalf("%s(%q): nondeterministic or prefix damaged: %q vs %q", tr.Name(), in, a, b)
		}
		if tr.Name() == "text_scramble" && utf8.ValidString(in) && utf8.RuneCount(b) != utf8.RuneCountInString(in) {
			t.Fatalf("text_scramble changed the length")
		}
	})
}

// fuzzFormat checks that every output produced without error from a valid
// input is valid for the format.
func fuzzFormat(f *testing.F, name string, seeds []string, isValidIn func(string) bool, check func(in, out string) string) {
	k := testKey(f, "fuzz-"+name)
	tr := mustNew(f, specFor(name), k)
	for _, s := range seeds {
		f.Add(s)
	}
	f.Fuzz(func(t *testing.T, in string) {
		out, err := MaskString(tr, in)
		if err != nil || in == "" {
			return
		}
		if !isValidIn(in) {
			return
		}
		again, _ := MaskString(tr, in)
		if again != out {
			t.Fatalf("%s(%q) nondeterministic", name, in)
		}
		if msg := check(in, out); msg != "" {
			t.Fatalf("%s(%q) = %q: %s", name, in, out, msg)
		}
	})
}

func FuzzTransformEmail(f *testing.F) {
	fuzzFormat(f, "email", []string{"alice.smith@example.com", "a@b", "X_Y+z@sub.example.co.uk", "a..b@x.io"},
		func(string) bool { return true },
		func(in, out string) string {
			if _, err := mail.ParseAddress(out); err != nil {
				return "net/mail: " + err.Error()
			}
			if err := emailShape(in, out); err != nil {
				return err.Error()
			}
			return ""
		})
}

func FuzzTransformCreditCard(f *testing.F) {
	fuzzFormat(f, "credit_card", []string{"4111111111111111", "5500 0000 0000 0004", "0000000000000"},
		func(string) bool { return true },
		func(in, out string) string {
			if !luhnValid([]byte(out)) || len(in) != len(out) {
				return "Luhn or length"
			}
			return ""
		})
}

func FuzzTransformIBAN(f *testing.F) {
	fuzzFormat(f, "iban", []string{"DE89370400440532013000", "GB82 WEST 1234 5698 7654 32"},
		func(string) bool { return true },
		func(in, out string) string {
			if ibanMod97([]byte(out)) != 1 || len(in) != len(out) || in[:2] != out[:2] {
				return "checksum, length or country"
			}
			return ""
		})
}

func FuzzTransformIP(f *testing.F) {
	fuzzFormat(f, "ip", []string{"192.168.1.1", "10.0.0.0/8", "2001:db8::1", "::ffff:1.2.3.4", "fe80::1%eth0"},
		func(string) bool { return true },
		func(in, out string) string {
			ia, _, _ := strings.Cut(in, "/")
			oa, _, _ := strings.Cut(out, "/")
			a, err1 := netip.ParseAddr(ia)
			b, err2 := netip.ParseAddr(oa)
			if err1 != nil || err2 != nil || a.Is4() != b.Is4() {
				return "family or syntax"
			}
			return ""
		})
}

func FuzzTransformDate(f *testing.F) {
	fuzzFormat(f, "date_shift", []string{"1985-03-14", "0001-01-01", "9999-12-31", "2000-02-29", "infinity"},
		func(string) bool { return true },
		func(in, out string) string {
			if in == "infinity" || in == "-infinity" {
				return ""
			}
			if _, _, _, n, ok := parseISODate([]byte(out)); !ok || n != len(out) {
				return "not a date"
			}
			if len(out) == 10 { // years 1-9999; PostgreSQL also accepts later ones
				if _, err := time.Parse("2006-01-02", out); err != nil {
					return err.Error()
				}
			}
			return ""
		})
}

func FuzzTransformJSON(f *testing.F) {
	fuzzFormat(f, "json", []string{sampleInputs["json"], `[]`, `{"contact":[{"email":"a@b.io"}]}`, `{"contact":{"email":"x\"y@b.io"}}`},
		func(string) bool { return true },
		func(in, out string) string {
			if json.Valid([]byte(in)) && !json.Valid([]byte(out)) {
				return "invalid JSON out"
			}
			return ""
		})
}
