package masking

import (
	"errors"
	"fmt"
	"math"
	"math/rand/v2"
	"net/mail"
	"net/netip"
	"strconv"
	"strings"
	"testing"
	"time"
	"unicode/utf8"
)

func testKey(t testing.TB, secret string) Key {
	t.Helper()
	k, err := DeriveKey([]byte(secret))
	if err != nil {
		t.Fatal(err)
	}
	return k
}

func mustNew(t testing.TB, spec Spec, k Key) Transformer {
	t.Helper()
	tr, err := New(spec, k)
	if err != nil {
		t.Fatalf("New(%+v): %v", spec, err)
	}
	return tr
}

func luhnDigit(payload string) byte {
	sum, dbl := 0, true
	for i := len(payload) - 1; i >= 0; i-- {
		v := int(payload[i] - '0')
		if dbl {
			v *= 2
			if v > 9 {
				v -= 9
			}
		}
		sum += v
		dbl = !dbl
	}
	return byte('0' + (10-sum%10)%10)
}

func makeIBAN(country, bban string) string {
	check := 98 - ibanMod97([]byte(country+"00"+bban))
	return fmt.Sprintf("%s%02d%s", country, check, bban)
}

// gen produces random valid inputs for each format-preserving transformer.
var gen = map[string]func(r *rand.Rand) string{
	"email": func(r *rand.Rand) string {
		locals := []string{"alice.smith", "bob", "j.doe+news", "Carl_99", "x", "o'neil", "first.middle.last"}
		domains := []string{"example.com", "mail.co.uk", "corp.io"}
		l := locals[r.IntN(len(locals))]
		if r.IntN(2) == 0 {
			l += strconv.Itoa(r.IntN(100000))
		}
		return l + "@" + domains[r.IntN(len(domains))]
	},
	"phone": func(r *rand.Rand) string {
		f := []string{"+1 415-555-%04d", "+44 20 7946 %04d", "(212) 555-%04d", "030 123%04d", "+49 30 1234%04d", "0049 89 12%04d", "+7 495 123-%04d", "5%03d-1234"}
		return fmt.Sprintf(f[r.IntN(len(f))], r.IntN(10000))
	},
	"credit_card": func(r *rand.Rand) string {
		n := 12 + r.IntN(8)
		p := []byte(strconv.Itoa(1 + r.IntN(9)))
		for len(p) < n-1 {
			p = append(p, byte('0'+r.IntN(10)))
		}
		s := string(p) + string(luhnDigit(string(p)))
		if n == 16 && r.IntN(2) == 0 {
			s = s[:4] + " " + s[4:8] + " " + s[8:12] + " " + s[12:]
		}
		return s
	},
	"iban": func(r *rand.Rand) string {
		var b strings.Builder
		for range 18 {
			if r.IntN(4) == 0 {
				b.WriteByte(byte('A' + r.IntN(26)))
			} else {
				b.WriteByte(byte('0' + r.IntN(10)))
			}
		}
		cs := []string{"DE", "FR", "GB", "NL"}
		return makeIBAN(cs[r.IntN(len(cs))], b.String())
	},
	"digits": func(r *rand.Rand) string {
		return fmt.Sprintf("%03d-%02d-%04d", r.IntN(1000), r.IntN(100), r.IntN(10000))
	},
	"date_shift": func(r *rand.Rand) string {
		d := time.Date(1900+r.IntN(200), 1, 1, 0, 0, 0, 0, time.UTC).AddDate(0, 0, r.IntN(366))
		return d.Format("2006-01-02")
	},
	"timestamp_shift": func(r *rand.Rand) string {
		d := time.Unix(r.Int64N(4e9), int64(r.IntN(1e9))).UTC()
		l := []string{"2006-01-02 15:04:05", "2006-01-02 15:04:05.999999-07", "2006-01-02T15:04:05Z07:00"}
		return d.Format(l[r.IntN(len(l))])
	},
	"number_noise": func(r *rand.Rand) string {
		switch r.IntN(3) {
		case 0:
			return strconv.Itoa(r.IntN(2000000) - 1000000)
		case 1:
			return strconv.FormatFloat(r.Float64()*1e6-5e5, 'f', 2, 64)
		}
		return strconv.FormatFloat(r.Float64()*100, 'f', 6, 64)
	},
	"uuid": func(r *rand.Rand) string {
		var b [16]byte
		for i := range b {
			b[i] = byte(r.UintN(256))
		}
		b[6] = b[6]&0x0f | 0x40
		b[8] = b[8]&0x3f | 0x80
		return fmt.Sprintf("%x-%x-%x-%x-%x", b[0:4], b[4:6], b[6:8], b[8:10], b[10:])
	},
	"ip": func(r *rand.Rand) string {
		switch r.IntN(3) {
		case 0:
			return fmt.Sprintf("%d.%d.%d.%d", r.IntN(256), r.IntN(256), r.IntN(256), r.IntN(256))
		case 1:
			return fmt.Sprintf("10.%d.%d.0/24", r.IntN(256), r.IntN(256))
		}
		var b [16]byte
		for i := range b {
			b[i] = byte(r.UintN(256))
		}
		return netip.AddrFrom16(b).String()
	},
	"format_preserving": func(r *rand.Rand) string {
		const a = "0123456789abcdefghijklmnopqrstuvwxyzABCDEFGHIJKLMNOPQRSTUVWXYZ"
		b := []byte("XXXX-XXXX-XX")
		for i := range b {
			if b[i] == 'X' {
				b[i] = a[r.IntN(len(a))]
			}
		}
		return string(b)
	},
	"text_scramble": func(r *rand.Rand) string {
		s := []string{"Hello, World!", "Straße 5 in Köln", "日本語のテキスト 42", "ok"}
		return s[r.IntN(len(s))]
	},
}

func sameShape(in, out string, isVar func(byte) bool) error {
	if len(in) != len(out) {
		return fmt.Errorf("length %d, want %d", len(out), len(in))
	}
	for i := range len(in) {
		if isVar(in[i]) != isVar(out[i]) || (!isVar(in[i]) && in[i] != out[i]) {
			return fmt.Errorf("character %d changed class or separator", i)
		}
	}
	return nil
}

// valid checks that out is a valid output for input in.
var valid = map[string]func(in, out string) error{
	"email": func(in, out string) error {
		a, err := mail.ParseAddress(out)
		if err != nil || a.Address != out {
			return fmt.Errorf("net/mail: %w", err)
		}
		return emailShape(in, out)
	},
	"phone": func(in, out string) error {
		if err := sameShape(in, out, isDigit); err != nil {
			return err
		}
		if in[0] == '+' && in[:3] != out[:3] {
			return fmt.Errorf("country prefix not kept")
		}
		return nil
	},
	"credit_card": func(in, out string) error {
		if !luhnValid([]byte(out)) {
			return fmt.Errorf("Luhn check fails")
		}
		return sameShape(in, out, isDigit)
	},
	"iban": func(in, out string) error {
		if ibanMod97([]byte(out)) != 1 {
			return fmt.Errorf("mod 97 != 1")
		}
		if in[:2] != out[:2] {
			return fmt.Errorf("country changed")
		}
		for i := range len(in) {
			if isDigit(in[i]) != isDigit(out[i]) || isUpper(in[i]) != isUpper(out[i]) {
				return fmt.Errorf("character %d changed class", i)
			}
		}
		return sameShape(in, out, func(c byte) bool { return c != ' ' })
	},
	"digits": func(in, out string) error { return sameShape(in, out, isDigit) },
	"date_shift": func(in, out string) error {
		a, err1 := time.Parse("2006-01-02", in)
		b, err2 := time.Parse("2006-01-02", out)
		if err1 != nil || err2 != nil {
			return fmt.Errorf("not a date: %w", err2)
		}
		if d := b.Sub(a).Hours() / 24; d == 0 || math.Abs(d) > 30 {
			return fmt.Errorf("shift of %v days", d)
		}
		return nil
	},
	"timestamp_shift": func(in, out string) error {
		if len(in) != len(out) || in[10] != out[10] || in[19:] != out[19:] {
			return fmt.Errorf("layout, fraction or zone not kept")
		}
		a, err1 := time.Parse("2006-01-02 15:04:05", strings.Replace(in[:19], "T", " ", 1))
		b, err2 := time.Parse("2006-01-02 15:04:05", strings.Replace(out[:19], "T", " ", 1))
		if err1 != nil || err2 != nil {
			return fmt.Errorf("not a timestamp: %w", err2)
		}
		if d := b.Sub(a); d == 0 || d > 30*24*time.Hour || d < -30*24*time.Hour {
			return fmt.Errorf("shift of %v", d)
		}
		return nil
	},
	"number_noise": func(in, out string) error {
		a, _ := strconv.ParseFloat(in, 64)
		b, err := strconv.ParseFloat(out, 64)
		if err != nil {
			return err
		}
		if (a < 0) != (b < 0) && b != 0 {
			return fmt.Errorf("sign changed")
		}
		ad, bd := strings.IndexByte(in, '.'), strings.IndexByte(out, '.')
		if (ad < 0) != (bd < 0) || (ad >= 0 && len(in)-ad != len(out)-bd) {
			return fmt.Errorf("decimal places changed")
		}
		if math.Abs(b-a) > 0.1*math.Abs(a)+1 {
			return fmt.Errorf("noise above ratio")
		}
		return nil
	},
	"uuid": func(in, out string) error {
		if len(out) != 36 || out[14] != in[14] || strings.IndexByte("89ab", out[19]) < 0 {
			return fmt.Errorf("version or variant changed")
		}
		return sameShape(in, out, func(c byte) bool { return c != '-' })
	},
	"ip": func(in, out string) error {
		ia, ip, _ := strings.Cut(in, "/")
		oa, op, _ := strings.Cut(out, "/")
		a, err1 := netip.ParseAddr(ia)
		b, err2 := netip.ParseAddr(oa)
		if err1 != nil || err2 != nil || a.Is4() != b.Is4() || ip != op {
			return fmt.Errorf("not an address of the same family: %w", err2)
		}
		if ip != "" {
			bits, _ := strconv.Atoi(ip)
			if p, _ := b.Prefix(bits); p.Addr() != b {
				return fmt.Errorf("host bits changed")
			}
		}
		return nil
	},
	"format_preserving": func(in, out string) error {
		return sameShape(in, out, func(c byte) bool { return isDigit(c) || isLower(c) || isUpper(c) })
	},
	"text_scramble": func(in, out string) error {
		if utf8.RuneCountInString(in) != utf8.RuneCountInString(out) {
			return fmt.Errorf("length in characters changed")
		}
		return nil
	},
}

func TestFormat(t *testing.T) {
	k := testKey(t, "format")
	for name, g := range gen {
		t.Run(name, func(t *testing.T) {
			tr := mustNew(t, Spec{Transformer: name}, k)
			r := rand.New(rand.NewPCG(1, uint64(len(name))))
			for range 3000 {
				in := g(r)
				out, err := MaskString(tr, in)
				if err != nil {
					t.Fatalf("%s(%q): %v", name, in, err)
				}
				if err := valid[name](in, out); err != nil {
					t.Fatalf("%s(%q) = %q: %v", name, in, out, err)
				}
			}
		})
	}
}

// sampleInputs holds one realistic value per transformer.
var sampleInputs = map[string]string{
	"keep": "value", "null": "value", "redact": "value", "hash": "value",
	"email": "alice.smith@example.com", "first_name": "Alice", "last_name": "Smith", "full_name": "Alice Smith",
	"phone": "+1 415-555-0134", "credit_card": "4111 1111 1111 1111", "iban": "DE89 3704 0044 0532 0130 00",
	"digits": "123-45-6789", "date_shift": "1985-03-14", "timestamp_shift": "2024-01-02 03:04:05.123456+00",
	"number_noise": "123456.78", "uuid": "123e4567-e89b-42d3-a456-426614174000", "ip": "192.168.1.20",
	"text_scramble": "Call me maybe, Alice!", "address": "12 Main Street, Springfield",
	"json": `{"contact":{"email":"alice@example.com","phone":"+1 415-555-0134"},"n":1}`, "regex_replace": "order 12345",
	"format_preserving": "AB12-cd34",
}

func specFor(name string) Spec {
	s := Spec{Transformer: name}
	switch name {
	case "json":
		s.Options = map[string]any{"paths": map[string]any{
			"$.contact.email": map[string]any{"transformer": "email"},
			"contact.phone":   map[string]any{"transformer": "phone"},
		}}
	case "regex_replace":
		s.Options = map[string]any{"pattern": `\d`, "replacement": "0"}
	}
	return s
}

func TestCatalogCovered(t *testing.T) {
	want := strings.Fields("keep null redact hash email first_name last_name full_name phone credit_card iban digits date_shift timestamp_shift number_noise uuid ip text_scramble address json regex_replace format_preserving")
	names := TransformerNames()
	if len(names) != len(want) {
		t.Errorf("catalog has %v", names)
	}
	for _, n := range want {
		if _, ok := sampleInputs[n]; !ok {
			t.Errorf("no sample input for %s", n)
		}
		if _, ok := registry[n]; !ok {
			t.Errorf("transformer %s missing", n)
		}
	}
	for _, info := range Catalog() {
		if info.Description == "" {
			t.Errorf("%s has no description", info.Name)
		}
	}
}

func TestDeterminism(t *testing.T) {
	k1, k2 := testKey(t, "env-1"), testKey(t, "env-2")
	for name, in := range sampleInputs {
		t.Run(name, func(t *testing.T) {
			spec := specFor(name)
			a, err := MaskString(mustNew(t, spec, k1), in)
			if err != nil {
				t.Fatal(err)
			}
			// Another column with the same domain masks equally.
			spec2 := specFor(name)
			spec2.Domain = name
			b, _ := MaskString(mustNew(t, spec2, k1), in)
			if a != b {
				t.Errorf("same key and domain: %q != %q", a, b)
			}
			c, _ := MaskString(mustNew(t, spec, k2), in)
			spec3 := specFor(name)
			spec3.Domain = "other-domain"
			d, _ := MaskString(mustNew(t, spec3, k1), in)
			switch name {
			case "keep", "null", "redact", "regex_replace":
				if a != c {
					t.Errorf("unkeyed transformer differs across keys")
				}
			default:
				if a == c {
					t.Errorf("other key gives the same output %q", a)
				}
				if a == d && name != "json" { // nested specs carry their own domains
					t.Errorf("other domain gives the same output %q", a)
				}
				if a == in && name != "json" {
					t.Errorf("output equals input")
				}
			}
		})
	}
}

func TestEmailNeverContainsInput(t *testing.T) {
	k1 := testKey(t, "k1")
	tr := mustNew(t, Spec{Transformer: "email"}, k1)
	out, err := MaskString(tr, "alice.smith@example.com")
	if err != nil {
		t.Fatal(err)
	}
	if strings.Contains(out, "alice") || !strings.HasSuffix(out, "@example.com") {
		t.Errorf("got %q", out)
	}
	rep := mustNew(t, Spec{Transformer: "email", Options: map[string]any{"domain_mode": "replace", "replacement_domain": "staging.test"}}, k1)
	if out, _ := MaskString(rep, "bob@corp.io"); !strings.HasSuffix(out, "@staging.test") || rep.Bijective() {
		t.Errorf("replace: %q", out)
	}
	mp := mustNew(t, Spec{Transformer: "email", Options: map[string]any{"domain_mode": "map", "domain_map": map[string]any{"corp.io": "corp.test"}}}, k1)
	if out, _ := MaskString(mp, "bob@Corp.io"); !strings.HasSuffix(out, "@corp.test") {
		t.Errorf("map: %q", out)
	}
}

func TestNamesConsistentAcrossTransformers(t *testing.T) {
	k := testKey(t, "names")
	first := mustNew(t, Spec{Transformer: "first_name", Domain: "person"}, k)
	last := mustNew(t, Spec{Transformer: "last_name", Domain: "person"}, k)
	full := mustNew(t, Spec{Transformer: "full_name", Domain: "person"}, k)
	f, _ := MaskString(first, "alice")
	l, _ := MaskString(last, "SMITH")
	n, _ := MaskString(full, "Alice Smith")
	if !strings.EqualFold(n, f+" "+l) {
		t.Errorf("full %q vs first %q last %q", n, f, l)
	}
	if f != strings.ToLower(f) || l != strings.ToUpper(l) {
		t.Errorf("case not kept: %q %q", f, l)
	}
	if len(firstNames) < 1000 || len(lastNames) < 1000 {
		t.Errorf("dictionaries: %d first, %d last names", len(firstNames), len(lastNames))
	}
}

func TestKeepYear(t *testing.T) {
	k := testKey(t, "year")
	tr := mustNew(t, Spec{Transformer: "date_shift", Options: map[string]any{"max_days": 200.0, "keep_year": true}}, k)
	for d := time.Date(2023, 1, 1, 0, 0, 0, 0, time.UTC); d.Year() == 2023; d = d.AddDate(0, 0, 1) {
		out, err := MaskString(tr, d.Format("2006-01-02"))
		if err != nil || !strings.HasPrefix(out, "2023-") {
			t.Fatalf("%v -> %q %v", d, out, err)
		}
	}
}

func TestInfinityAndSpecialValues(t *testing.T) {
	k := testKey(t, "x")
	for _, c := range []struct{ tr, in string }{{"date_shift", "infinity"}, {"timestamp_shift", "-infinity"}, {"number_noise", "NaN"}, {"email", ""}} {
		out, err := MaskString(mustNew(t, Spec{Transformer: c.tr}, k), c.in)
		if err != nil || out != c.in {
			t.Errorf("%s(%q) = %q, %v", c.tr, c.in, out, err)
		}
	}
}

func TestOnInvalid(t *testing.T) {
	k := testKey(t, "invalid")
	bad := map[string]string{
		"email": "not an email", "phone": "call me", "credit_card": "4111111111111112", "iban": "DE00370400440532013000",
		"digits": "none", "date_shift": "2023-02-30", "timestamp_shift": "2023-01-01 25:00:00", "number_noise": "12abc",
		"uuid": "123", "ip": "300.1.1.1", "text_scramble": "\xff", "format_preserving": "\xfe",
		"json": `{"a":`,
	}
	for name, in := range bad {
		t.Run(name, func(t *testing.T) {
			spec := specFor(name)
			_, err := MaskString(mustNew(t, spec, k), in)
			var ie *InvalidInputError
			if !errors.As(err, &ie) || ie.Transformer != name {
				t.Fatalf("error policy: got %v", err)
			}
			if strings.Contains(err.Error(), in) && len(in) > 3 {
				t.Errorf("error leaks the value: %v", err)
			}
			spec.OnInvalid = "redact"
			spec.Options = mergeOpts(spec.Options, map[string]any{"invalid_value": "X"})
			if out, err := MaskString(mustNew(t, spec, k), in); err != nil || out != "X" {
				t.Errorf("redact policy: %q %v", out, err)
			}
			spec.OnInvalid = "hash"
			out, err := MaskString(mustNew(t, spec, k), in)
			if err != nil || len(out) != 32 {
				t.Errorf("hash policy: %q %v", out, err)
			}
			out2, _ := MaskString(mustNew(t, spec, testKey(t, "other")), in)
			if out == out2 {
				t.Errorf("hash policy is not keyed")
			}
		})
	}
}

func mergeOpts(a, b map[string]any) map[string]any {
	m := map[string]any{}
	for k, v := range a {
		m[k] = v
	}
	for k, v := range b {
		m[k] = v
	}
	return m
}

func TestNoPanicOnOddInput(t *testing.T) {
	k := testKey(t, "odd")
	odd := []string{"", " ", "é", "日本語", "\xff\xfe", "@", "+", "-", ".", "/", "0", "{}", "[]", `"`, strings.Repeat("9", 300),
		strings.Repeat("a", 70) + "@x.io", "a@b", "::", "1.2.3.4/99", "2024-01-01 12:00:00+99:99:99:99", "1e400", "-"}
	for name := range sampleInputs {
		for _, in := range odd {
			for _, policy := range []string{"error", "redact", "hash"} {
				spec := specFor(name)
				spec.OnInvalid = policy
				tr := mustNew(t, spec, k)
				out, err := MaskString(tr, in)
				if err == nil && in != "" && out == in && name != "keep" && len(in) > 3 && !strings.Contains(in, "infinity") {
					t.Logf("%s(%q) passed through unchanged", name, in)
				}
			}
		}
	}
}

func TestNewErrors(t *testing.T) {
	k := testKey(t, "errors")
	var ute *UnknownTransformerError
	if _, err := New(Spec{Transformer: "emial"}, k); !errors.As(err, &ute) || !strings.Contains(err.Error(), "email") {
		t.Errorf("unknown transformer: %v", err)
	}
	cases := []struct {
		spec   Spec
		option string
	}{
		{Spec{Transformer: "hash", Options: map[string]any{"encoding": "b64"}}, "encoding"},
		{Spec{Transformer: "hash", Options: map[string]any{"length": 0.0}}, "length"},
		{Spec{Transformer: "hash", Options: map[string]any{"lenght": 8.0}}, "lenght"}, //nolint:misspell // an unknown option on purpose
		{Spec{Transformer: "email", Options: map[string]any{"domain_mode": "drop"}}, "domain_mode"},
		{Spec{Transformer: "email", Options: map[string]any{"domain_mode": "map"}}, "domain_map"},
		{Spec{Transformer: "regex_replace", Options: map[string]any{"pattern": "("}}, "pattern"},
		{Spec{Transformer: "regex_replace"}, "pattern"},
		{Spec{Transformer: "number_noise", Options: map[string]any{"ratio": 2.0}}, "ratio"},
		{Spec{Transformer: "format_preserving", Options: map[string]any{"alphabet": "aa"}}, "alphabet"},
		{Spec{Transformer: "json"}, "paths"},
		{Spec{Transformer: "email", OnInvalid: "ignore"}, "on_invalid"},
		{Spec{Transformer: "date_shift", Options: map[string]any{"max_days": "many"}}, "max_days"},
	}
	for _, c := range cases {
		_, err := New(c.spec, k)
		var oe *OptionError
		if !errors.As(err, &oe) || oe.Option != c.option {
			t.Errorf("%+v: got %v, want OptionError on %s", c.spec, err, c.option)
		}
	}
	if _, err := New(Spec{Transformer: "json", Options: map[string]any{"paths": map[string]any{"a": map[string]any{"transformer": "nope"}}}}, k); !errors.As(err, &ute) {
		t.Errorf("nested unknown transformer: %v", err)
	}
	if _, err := New(Spec{Transformer: "email"}, Key{}); !errors.Is(err, ErrNoKey) {
		t.Errorf("zero key: %v", err)
	}
	if _, err := DeriveKey(nil); !errors.Is(err, ErrEmptySecret) {
		t.Errorf("empty secret: %v", err)
	}
}

func TestApplyNull(t *testing.T) {
	k := testKey(t, "null")
	email := mustNew(t, Spec{Transformer: "email"}, k)
	null := mustNew(t, Spec{Transformer: "null"}, k)
	if out, isNull, err := Apply(email, nil, nil, true); !isNull || err != nil || len(out) != 0 {
		t.Errorf("NULL through email: %q %v %v", out, isNull, err)
	}
	if _, isNull, _ := Apply(null, nil, []byte("x"), false); !isNull {
		t.Errorf("null transformer did not produce NULL")
	}
	if out, isNull, _ := Apply(email, []byte("prefix|"), []byte("a@b.io"), false); isNull || !strings.HasPrefix(string(out), "prefix|") {
		t.Errorf("Apply does not append: %q", out)
	}
}

func TestJSONPaths(t *testing.T) {
	k := testKey(t, "json")
	tr := mustNew(t, Spec{Transformer: "json", Options: map[string]any{"paths": map[string]any{
		"$.contact.email":  map[string]any{"transformer": "email", "domain": "customer_email"},
		"items[*].card":    map[string]any{"transformer": "credit_card"},
		"$.notes":          map[string]any{"transformer": "null"},
		"$.tags":           map[string]any{"transformer": "redact", "value": "x"},
		"people.name":      map[string]any{"transformer": "full_name"},
		"amount":           map[string]any{"transformer": "number_noise", "options": map[string]any{"ratio": 0.5}},
		"$.contact.phones": map[string]any{"transformer": "phone"},
	}}}, k)
	in := `{ "contact": {"email": "al\u0069ce@example.com", "phones": ["+1 415-555-0134"]}, "items": [{"card": "4111111111111111"}],
	"notes": "secret", "tags": ["a", "b"], "people": [{"name": "Alice Smith"}, {"name": "Bob Jones"}], "amount": 100, "other": [1, true, null] }`
	out, err := MaskString(tr, in)
	if err != nil {
		t.Fatal(err)
	}
	for _, leak := range []string{"alice", "alĩce", "4111111111111111", "secret", "Smith", "Jones", "0134"} {
		if strings.Contains(out, leak) {
			t.Errorf("output contains %q: %s", leak, out)
		}
	}
	email := mustNew(t, Spec{Transformer: "email", Domain: "customer_email"}, k)
	want, _ := MaskString(email, "alice@example.com")
	if !strings.Contains(out, `"email": "`+want+`"`) || !strings.Contains(out, `"notes": null`) || !strings.Contains(out, `"tags": ["x", "x"]`) ||
		!strings.Contains(out, `"other": [1, true, null]`) {
		t.Errorf("unexpected output %s (email %s)", out, want)
	}
}

func TestBijectiveFlags(t *testing.T) {
	k := testKey(t, "flags")
	for _, name := range strings.Fields("uuid digits credit_card iban phone email format_preserving hash") {
		if !mustNew(t, Spec{Transformer: name}, k).Bijective() {
			t.Errorf("%s should be bijective", name)
		}
	}
	if mustNew(t, Spec{Transformer: "hash", Options: map[string]any{"length": 16.0}}, k).Bijective() {
		t.Errorf("hash with 64 bits should not claim bijectivity")
	}
	for _, name := range strings.Fields("first_name text_scramble address number_noise redact") {
		if mustNew(t, specFor(name), k).Bijective() {
			t.Errorf("%s should not be bijective", name)
		}
	}
}

// emailShape checks that out keeps in's domain and its local part's
// pattern: letters where letters were (in the same case), digits where
// digits were, punctuation kept; a local part with fewer than a million
// values may gain, or its ".digits" form lose, a numeric suffix.
func emailShape(in, out string) error {
	il, id, _ := strings.Cut(in, "@")
	ol, od, _ := strings.Cut(out, "@")
	if id != od {
		return fmt.Errorf("domain changed")
	}
	short, long := il, ol
	if len(short) > len(long) {
		short, long = long, short
	}
	if len(short) != len(long) {
		rest := long[len(short):]
		if len(rest) < 2 || rest[0] != '.' || !allDigits([]byte(rest[1:])) {
			return fmt.Errorf("local part changed length other than by a numeric suffix")
		}
	}
	for i := range len(short) {
		a, b := il[i], ol[i]
		switch {
		case isLower(a) && isLower(b), isUpper(a) && isUpper(b), isDigit(a) && isDigit(b), a == b:
		default:
			return fmt.Errorf("pattern changed at %d", i)
		}
	}
	return nil
}

// TestCatalogSaysWhatSurvives checks that every transformer states what its
// output keeps from its input.
func TestCatalogSaysWhatSurvives(t *testing.T) {
	for _, info := range Catalog() {
		if len(info.Keeps) < 10 || !strings.HasSuffix(info.Keeps, ".") {
			t.Errorf("%s: Keeps is %q, want a sentence", info.Name, info.Keeps)
		}
	}
	if len(keeps) != len(Catalog()) {
		t.Errorf("keeps describes %d transformers, the catalog has %d", len(keeps), len(Catalog()))
	}
}

// TestEmailLocalPartHash checks local_part = "hash": a local part of fixed
// length that keeps nothing of the input, case-insensitive, not bijective.
func TestEmailLocalPartHash(t *testing.T) {
	k := testKey(t, "local-hash")
	tr := mustNew(t, Spec{Transformer: "email", Options: map[string]any{"local_part": "hash"}}, k)
	if tr.Bijective() {
		t.Errorf("local_part = hash claims to be bijective")
	}
	a, _ := MaskString(tr, "Alice.Smith@example.com")
	b, _ := MaskString(tr, "alice.smith@example.com")
	c, _ := MaskString(tr, "bo@example.com")
	for _, out := range []string{a, c} {
		local, domain, _ := strings.Cut(out, "@")
		if len(local) != 16 || domain != "example.com" {
			t.Errorf("%q: want 16 characters @example.com", out)
		}
		if _, err := mail.ParseAddress(out); err != nil {
			t.Errorf("%q: %v", out, err)
		}
	}
	if a != b || a == c {
		t.Errorf("case variants should agree and other addresses differ: %q %q %q", a, b, c)
	}
}
