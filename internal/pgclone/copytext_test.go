package pgclone

import (
	"bytes"
	"fmt"
	"hash/maphash"
	"io"
	"strings"
	"testing"

	"github.com/stagingkit/terraform-provider-staging/internal/masking"
)

func testKey(t testing.TB, secret string) masking.Key {
	t.Helper()
	k, err := masking.DeriveKey([]byte(secret))
	if err != nil {
		t.Fatal(err)
	}
	return k
}

func mustTransformer(t testing.TB, spec masking.Spec, key masking.Key) masking.Transformer {
	t.Helper()
	tr, err := masking.New(spec, key)
	if err != nil {
		t.Fatal(err)
	}
	return tr
}

func TestCopyEscape_roundTrip(t *testing.T) {
	cases := map[string]string{
		"plain":     "hello",
		"tab":       "a\tb",
		"newline":   "line1\nline2\r\n",
		"backslash": `C:\path\to\N`,
		"controls":  "\b\f\v\x00\x01\x1f",
		"unicode":   "Zoë 🙂 — 東京",
		"null text": `\N`,
		"empty":     "",
	}
	for name, v := range cases {
		esc := appendCopyEscaped(nil, []byte(v))
		if bytes.ContainsAny(esc, "\t\n\r") {
			t.Errorf("%s: escaped form %q holds a raw delimiter", name, esc)
		}
		if got := appendCopyUnescaped(nil, esc); string(got) != v {
			t.Errorf("%s: unescape(escape(%q)) = %q", name, v, got)
		}
	}
	// The escapes PostgreSQL accepts but never sends.
	decode := map[string]string{
		`\101\x41\x4a\x4`: "AAJ\x04",
		`\7\78\1234`:      "\x07\x078S4",
		`\q\xg\`:          `qxg\`,
		`\\\t\n`:          "\\\t\n",
	}
	for raw, want := range decode {
		if got := appendCopyUnescaped(nil, []byte(raw)); string(got) != want {
			t.Errorf("unescape(%q) = %q, want %q", raw, got, want)
		}
	}
}

func TestRowMasker_masksOnlyMaskedFields(t *testing.T) {
	key := testKey(t, "codec")
	email := mustTransformer(t, masking.Spec{Transformer: "hash"}, key)
	redact := mustTransformer(t, masking.Spec{Transformer: "redact", Options: map[string]any{"value": "a\tb\\c\nd"}}, key)
	nul := mustTransformer(t, masking.Spec{Transformer: "null"}, key)
	leak := &leakHashes{}
	m := &rowMasker{ncols: 5, seed: maphash.MakeSeed(), masks: []columnMask{
		{index: 1, t: email, leak: leak}, {index: 2, t: redact}, {index: 4, t: nul},
	}}
	// Column 0 keeps its raw escapes byte for byte, even non-canonical ones.
	line := []byte("1\\x41\\t\tzo\\\\e\\t@example.com\tsecret\t\\N\tx")
	out, err := m.appendLine(nil, line)
	if err != nil {
		t.Fatal(err)
	}
	fields := splitCopyFields(nil, bytes.TrimSuffix(out, []byte{'\n'}))
	if len(fields) != 5 {
		t.Fatalf("%q has %d fields", out, len(fields))
	}
	if string(fields[0]) != `1\x41\t` {
		t.Errorf("unmasked field changed: %q", fields[0])
	}
	wantEmail, _ := masking.MaskString(email, "zo\\e\t@example.com")
	if got := string(appendCopyUnescaped(nil, fields[1])); got != wantEmail {
		t.Errorf("hashed field = %q, want the unescaped value masked: %q", got, wantEmail)
	}
	if string(fields[2]) != `a\tb\\c\nd` {
		t.Errorf("masked output not re-escaped: %q", fields[2])
	}
	if string(fields[3]) != `\N` || string(fields[4]) != `\N` {
		t.Errorf("NULL handling: %q %q", fields[3], fields[4])
	}
	if len(leak.prod) != 1 || len(leak.masked) != 1 || leak.prod[0] == leak.masked[0] {
		t.Errorf("leak hashes = %+v", leak)
	}
	if _, err := m.appendLine(nil, []byte("1\t2")); err == nil {
		t.Error("a line with too few fields was accepted")
	}
}

func TestMaskingWriter_splitsStreamAnywhere(t *testing.T) {
	key := testKey(t, "codec")
	tr := mustTransformer(t, masking.Spec{Transformer: "email"}, key)
	var in bytes.Buffer
	for i := range 500 {
		fmt.Fprintf(&in, "%d\tuser%d@example.com\tnote with \\t tab %d\n", i, i, i)
	}
	mask := func(chunk int) string {
		var out bytes.Buffer
		mw := &maskingWriter{m: &rowMasker{ncols: 3, masks: []columnMask{{index: 1, t: tr}}}, w: &out}
		data := in.Bytes()
		for len(data) > 0 {
			n := min(chunk, len(data))
			if _, err := mw.Write(data[:n]); err != nil {
				t.Fatal(err)
			}
			data = data[n:]
		}
		if err := mw.Close(); err != nil {
			t.Fatal(err)
		}
		if mw.rows.Load() != 500 {
			t.Errorf("chunk %d: %d rows", chunk, mw.rows.Load())
		}
		return out.String()
	}
	whole := mask(1 << 20)
	for _, chunk := range []int{1, 7, 100, 4096} {
		if got := mask(chunk); got != whole {
			t.Errorf("chunk %d gives a different output", chunk)
		}
	}
	if strings.Contains(whole, "user1@example.com") || !strings.Contains(whole, "note with \\t tab 499\n") {
		t.Errorf("output: %.200q", whole)
	}
	// Pass-through counts lines and keeps bytes.
	var out bytes.Buffer
	mw := &maskingWriter{w: &out}
	_, _ = mw.Write(in.Bytes())
	_ = mw.Close()
	if out.String() != in.String() || mw.rows.Load() != 500 {
		t.Error("pass-through changed the stream")
	}
	if err := (&maskingWriter{m: &rowMasker{ncols: 1}, w: io.Discard, partial: []byte("x")}).Close(); err == nil {
		t.Error("a stream ending inside a line was accepted")
	}
}

func FuzzCopyCodec(f *testing.F) {
	f.Add("plain", "a\tb\nc\\d", []byte("1\t\\N\tx\\y"))
	f.Add("", "Zoë 🙂\r\n", []byte(`\x41\101\\`))
	f.Add(`\N`, "\x00\b\f\v", []byte("\t\t"))
	key := testKey(f, "fuzz")
	keep := mustTransformer(f, masking.Spec{Transformer: "keep"}, key)
	f.Fuzz(func(t *testing.T, a, b string, line []byte) {
		// Values survive escape + unescape exactly.
		for _, v := range []string{a, b} {
			if got := appendCopyUnescaped(nil, appendCopyEscaped(nil, []byte(v))); string(got) != v {
				t.Fatalf("unescape(escape(%q)) = %q", v, got)
			}
		}
		// A line of canonical fields re-encodes byte for byte, masked
		// (through keep) or not.
		enc := append(appendCopyEscaped(nil, []byte(a)), '\t')
		enc = appendCopyEscaped(enc, []byte(b))
		m := &rowMasker{ncols: 2, masks: []columnMask{{index: 1, t: keep}}}
		out, err := m.appendLine(nil, enc)
		if err != nil || string(out) != string(enc)+"\n" {
			t.Fatalf("re-encoding %q gave %q, %v", enc, out, err)
		}
		// Any line without a newline passes unmasked fields through.
		line = bytes.ReplaceAll(line, []byte{'\n'}, nil)
		n := len(splitCopyFields(nil, line))
		out, err = (&rowMasker{ncols: n}).appendLine(nil, line)
		if err != nil || string(out) != string(line)+"\n" {
			t.Fatalf("pass-through of %q gave %q, %v", line, out, err)
		}
	})
}

// BenchmarkCopyCodec measures the masking writer on a customers-like row
// with two masked columns of six.
func BenchmarkCopyCodec(b *testing.B) {
	key := testKey(b, "bench")
	email := mustTransformer(b, masking.Spec{Transformer: "email"}, key)
	phone := mustTransformer(b, masking.Spec{Transformer: "phone"}, key)
	var in bytes.Buffer
	const rows = 1000
	for i := range rows {
		fmt.Fprintf(&in, "%d\tuser%d@example.com\t+49 30 %07d\tFirst\\tLast %d\t2024-01-02 03:04:05+00\t{\"note\": \"x\"}\n", i, i, i, i)
	}
	for _, bc := range []struct {
		name string
		m    func() *rowMasker
	}{
		{"passthrough", func() *rowMasker { return nil }},
		{"unmasked-parse", func() *rowMasker { return &rowMasker{ncols: 6} }},
		{"two-masked", func() *rowMasker {
			return &rowMasker{ncols: 6, seed: maphash.MakeSeed(), masks: []columnMask{{index: 1, t: email, leak: &leakHashes{}}, {index: 2, t: phone}}}
		}},
	} {
		b.Run(bc.name, func(b *testing.B) {
			mw := &maskingWriter{m: bc.m(), w: io.Discard}
			b.SetBytes(int64(in.Len()))
			b.ReportAllocs()
			for b.Loop() {
				if _, err := mw.Write(in.Bytes()); err != nil {
					b.Fatal(err)
				}
				if mw.m != nil {
					for i := range mw.m.masks {
						if l := mw.m.masks[i].leak; l != nil {
							l.prod, l.masked = l.prod[:0], l.masked[:0]
						}
					}
				}
			}
			b.ReportMetric(float64(b.N)*rows/b.Elapsed().Seconds(), "rows/s")
		})
	}
}
