package masking

import (
	"strings"
	"testing"
)

// TestBijectiveUnder checks the judgement pgclone asks for on primary-key,
// unique and foreign-key columns, class by class.
func TestBijectiveUnder(t *testing.T) {
	int4 := ColumnClass{Equality: EqualInteger, IntegerMax: 2147483647}
	int8 := ColumnClass{Equality: EqualInteger, IntegerMax: 9223372036854775807}
	int2 := ColumnClass{Equality: EqualInteger, IntegerMax: 32767}
	text := ColumnClass{Equality: EqualText}
	ci := ColumnClass{Equality: EqualCaseInsensitive}
	for _, c := range []struct {
		spec   Spec
		class  ColumnClass
		ok     bool
		reason string
	}{
		{Spec{Transformer: "keep"}, int4, true, ""},
		{Spec{Transformer: "digits"}, int8, true, ""},
		{Spec{Transformer: "digits"}, int4, false, "max_value = 2147483647"},
		{Spec{Transformer: "digits", Options: map[string]any{"max_value": 2147483647.0}}, int4, true, ""},
		{Spec{Transformer: "digits", Options: map[string]any{"max_value": "2147483647"}}, int4, true, ""},
		{Spec{Transformer: "digits", Options: map[string]any{"max_value": 9999999999.0}}, int4, false, "max_value = 2147483647"},
		{Spec{Transformer: "digits"}, int2, false, "fewer than 10,000,000 values"},
		{Spec{Transformer: "digits"}, ColumnClass{Equality: EqualNumeric}, false, "trailing zeros"},
		{Spec{Transformer: "hash"}, int8, false, "not an integer"},
		{Spec{Transformer: "digits"}, text, true, ""},
		{Spec{Transformer: "digits"}, ci, true, ""},
		{Spec{Transformer: "email"}, ci, true, ""},
		{Spec{Transformer: "email"}, ColumnClass{Equality: EqualText, MaxLength: 100}, false, "varchar(100)"},
		{Spec{Transformer: "email"}, ColumnClass{Equality: EqualText, MaxLength: 255}, true, ""},
		{Spec{Transformer: "email"}, ColumnClass{Equality: EqualText, MaxLength: 254}, true, ""},
		{Spec{Transformer: "email"}, ColumnClass{Equality: EqualText, MaxLength: 253}, false, "varchar(253)"},
		{Spec{Transformer: "email", Options: map[string]any{"domain_mode": "replace"}}, text, false, "not bijective"},
		{Spec{Transformer: "email", OnInvalid: "redact"}, text, false, "one constant"},
		{Spec{Transformer: "format_preserving"}, ci, false, "alphabet"},
		{Spec{Transformer: "format_preserving", Options: map[string]any{"alphabet": "0123456789"}}, ci, true, ""},
		{Spec{Transformer: "uuid"}, ColumnClass{Equality: EqualUUID}, true, ""},
		{Spec{Transformer: "hash"}, ColumnClass{Equality: EqualUUID}, true, ""},
		{Spec{Transformer: "email"}, ColumnClass{Equality: EqualUUID}, false, "use uuid"},
		{Spec{Transformer: "ip"}, ColumnClass{Equality: EqualInet}, true, ""},
		{Spec{Transformer: "full_name"}, text, false, "not bijective"},
		{Spec{Transformer: "phone"}, text, true, ""},
	} {
		ok, reason, err := BijectiveUnder(c.spec, c.class)
		if err != nil {
			t.Fatalf("%+v: %v", c.spec, err)
		}
		if ok != c.ok || !strings.Contains(reason, c.reason) {
			t.Errorf("%+v under %v: got %v %q, want %v %q", c.spec, c.class.Equality, ok, reason, c.ok, c.reason)
		}
	}
	if _, _, err := BijectiveUnder(Spec{Transformer: "emial"}, text); err == nil {
		t.Errorf("an unknown transformer should be an error")
	}
}

// TestSameMasking checks the foreign-key rule: both ends mask alike only
// with the same transformer, domain, options and policy.
func TestSameMasking(t *testing.T) {
	a := Spec{Transformer: "digits", Options: map[string]any{"max_value": 2147483647.0}}
	if ok, why := SameMasking(a, Spec{Transformer: "digits", Domain: "digits", Options: map[string]any{"max_value": 2147483647.0}, OnInvalid: "error"}); !ok {
		t.Errorf("defaults should compare equal: %s", why)
	}
	for _, b := range []Spec{
		{Transformer: "hash"},
		{Transformer: "digits", Domain: "order_id", Options: a.Options},
		{Transformer: "digits"},
		{Transformer: "digits", Options: a.Options, OnInvalid: "hash"},
	} {
		if ok, why := SameMasking(a, b); ok || why == "" {
			t.Errorf("%+v and %+v compare equal", a, b)
		}
	}
}

// TestVersionChange checks the explanation a plan gives for a re-copy
// after the FF1 change.
func TestVersionChange(t *testing.T) {
	if v := Version("email"); v != "email/v2" {
		t.Errorf("Version(email) = %q", v)
	}
	if Version("nope") != "" || VersionChange("email/v2") != "" || VersionChange("nope/v1") != "" {
		t.Errorf("no change expected")
	}
	if why := VersionChange("email/v1"); !strings.Contains(why, "email/v2") || !strings.Contains(why, "FF1") {
		t.Errorf("VersionChange(email/v1) = %q", why)
	}
	if why := VersionChange("first_name/v1"); why != "" {
		t.Errorf("first_name did not change: %q", why)
	}
	k := testKey(t, "version")
	for _, name := range TransformerNames() {
		if got := mustNew(t, specFor(name), k).Version(); got != Version(name) {
			t.Errorf("%s: transformer says %q, Version says %q", name, got, Version(name))
		}
	}
}

func TestClassOf(t *testing.T) {
	for typ, want := range map[string]ColumnClass{
		"integer":                {Equality: EqualInteger, IntegerMax: 2147483647},
		"bigint":                 {Equality: EqualInteger, IntegerMax: 9223372036854775807},
		"smallint":               {Equality: EqualInteger, IntegerMax: 32767},
		"numeric(10,2)":          {Equality: EqualNumeric, Precision: 10, Scale: 2},
		"public.citext":          {Equality: EqualCaseInsensitive},
		"character varying(100)": {Equality: EqualText, MaxLength: 100},
		"text":                   {Equality: EqualText},
		"citext":                 {Equality: EqualCaseInsensitive},
		"uuid":                   {Equality: EqualUUID},
		"cidr":                   {Equality: EqualInet},
		"jsonb":                  {Equality: EqualJSONB},
		"json":                   {Equality: EqualOther},
		"bytea":                  {Equality: EqualOther},
	} {
		if got := ClassOf(typ, false); got != want {
			t.Errorf("ClassOf(%q) = %+v, want %+v", typ, got, want)
		}
	}
	if got := ClassOf("text", true); got.Equality != EqualCaseInsensitive {
		t.Errorf("text under lower(): %+v", got)
	}
}

// TestSmallDomainHash checks small_domain = "hash": a value below FF1's
// minimum domain gets a keyed hash in its format instead of an error, and
// the rule stops being bijective.
func TestSmallDomainHash(t *testing.T) {
	k1, k2 := testKey(t, "small-1"), testKey(t, "small-2")
	spec := Spec{Transformer: "digits", Options: map[string]any{"small_domain": "hash"}}
	tr := mustNew(t, spec, k1)
	if tr.Bijective() {
		t.Errorf("small_domain = hash claims to be bijective")
	}
	if ok, reason, _ := BijectiveUnder(spec, ColumnClass{Equality: EqualText}); ok || !strings.Contains(reason, "small_domain") {
		t.Errorf("BijectiveUnder = %v, %q", ok, reason)
	}
	seen := map[string]bool{}
	for _, in := range []string{"007", "12-3", "A1", "00"} {
		out, err := MaskString(tr, in)
		if err != nil {
			t.Fatalf("%q: %v", in, err)
		}
		if len(out) != len(in) || (in[0] < '0' || in[0] > '9') && out[0] != in[0] {
			t.Errorf("%q -> %q: format not kept", in, out)
		}
		again, _ := MaskString(tr, in)
		other, _ := MaskString(mustNew(t, spec, k2), in)
		if again != out {
			t.Errorf("%q: not deterministic", in)
		}
		seen[out+"|"+other] = true
	}
	// Long values are still encrypted with FF1, as without the option.
	plain, _ := MaskString(mustNew(t, Spec{Transformer: "digits"}, k1), "123-45-6789")
	if got, _ := MaskString(tr, "123-45-6789"); got != plain {
		t.Errorf("a long value masks differently with small_domain = hash: %q vs %q", got, plain)
	}
	if _, err := MaskString(mustNew(t, Spec{Transformer: "digits"}, k1), "007"); err == nil {
		t.Errorf("without the option a small domain should be refused")
	}
	if _, err := New(Spec{Transformer: "digits", Options: map[string]any{"small_domain": "skip"}}, k1); err == nil {
		t.Errorf("small_domain = skip should be refused")
	}
}
