package masking

import (
	"fmt"
	"testing"
)

// TestDetect_ReviewMisses is review item 6: what the detector missed on
// real data, each with a look-alike it must leave alone.
func TestDetect_ReviewMisses(t *testing.T) {
	mixed := func(every int, n int) []string {
		var out []string
		for i := range n {
			if i%every == 0 {
				out = append(out, fmt.Sprintf("user%d@example.com", i))
			} else {
				out = append(out, fmt.Sprintf("REF-%05d", i))
			}
		}
		return out
	}
	for _, c := range []struct {
		name, typ string
		samples   []string
		want      string // "" for nothing
	}{
		{"created_by", "text", []string{"mary.jones", "john.smith", "peter.miller", "linda_brown7"}, KindUsername},
		{"owner", "character varying(64)", []string{"mary.jones", "james.wilson", "susan.taylor"}, KindUsername},
		{"created_by", "text", []string{"system", "cron", "import-job", "admin"}, ""},
		{"notes", "text", []string{"Spoke with Mary Jones about her divorce", "Left a voicemail for the customer", "Asked Peter Miller to call back tomorrow", "Refund approved"}, KindFreeTextPII},
		{"notes", "text", []string{"Customer prefers mornings", "Called twice, no answer", "Refund approved after review"}, ""},
		{"payload", "xml", []string{"<c><email>a@b.com</email></c>", "<c><email>mary@example.org</email></c>"}, KindFreeTextPII},
		{"contact", "text", mixed(2, 200), KindEmail},  // half are e-mail addresses
		{"contact", "text", mixed(16, 400), KindEmail}, // 6%
		{"contact", "text", mixed(1000, 400), ""},      // one stray value in 400 is not a column of them
		{"aliases", "text[]", []string{`{a@b.com,"c@d.com"}`, `{mary@example.org,NULL}`}, KindEmail},
		{"codes", "text[]", []string{`{SKU-1,SKU-2}`, `{SKU-3}`}, ""},
		{"data", "bytea", []string{`\x89504e470d0a1a0a0000000d49484452`, `\x255044462d312e37`}, KindBinaryDocument},
		{"data", "bytea", []string{`\x0001020304`, `\xdeadbeef`}, ""},
	} {
		f := Detect(Column{Name: c.name, SQLType: c.typ, Samples: c.samples})
		got := ""
		if len(f) > 0 {
			got = f[0].Kind
		}
		if got != c.want {
			t.Errorf("%s %s %.60q: got %q, want %q (%v)", c.name, c.typ, c.samples, got, c.want, f)
		}
	}
}
