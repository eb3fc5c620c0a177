package pgclone

import (
	"bytes"
	"context"
	"strings"
	"testing"

	"github.com/stagingkit/terraform-provider-staging/internal/masking"
)

// TestBinaryRows counts the tuples of a real binary COPY stream fed in
// chunks of every size.
func TestBinaryRows(t *testing.T) {
	conn := dial(t, newProd(t))
	var stream bytes.Buffer
	if _, err := conn.PgConn().CopyTo(context.Background(), &stream,
		`COPY (SELECT id, email, phone, avatar, profile, tags, created_at FROM customers UNION ALL SELECT NULL, '', NULL, '', NULL, '{}', NULL) TO STDOUT (FORMAT binary)`); err != nil {
		t.Fatal(err)
	}
	data := stream.Bytes()
	for _, chunk := range []int{1, 2, 3, 7, 64, 4096, len(data)} {
		var b binaryRows
		var rows int64
		for p := data; len(p) > 0; {
			n := min(chunk, len(p))
			got, err := b.feed(p[:n])
			if err != nil {
				t.Fatalf("chunk %d: %v", chunk, err)
			}
			rows += got
			p = p[n:]
		}
		if rows != 2001 || !b.done {
			t.Errorf("chunk %d: %d rows (trailer seen: %v), want 2001", chunk, rows, b.done)
		}
	}
	var b binaryRows
	if _, err := b.feed([]byte("not a binary copy stream")); err == nil {
		t.Error("a text stream was accepted")
	}
}

func FuzzBinaryRows(f *testing.F) {
	f.Add([]byte("PGCOPY\n\xff\r\n\x00\x00\x00\x00\x00\x00\x00\x00\x00\x00\x01\x00\x00\x00\x01a\xff\xff"))
	f.Fuzz(func(t *testing.T, p []byte) {
		var b binaryRows
		_, _ = b.feed(p) // must not panic or loop
	})
}

// TestBinaryAndTextMaskAlike streams the same rows in text and in binary
// COPY through the maskers, in odd chunk sizes, and checks both paths give
// the same masked values.
func TestBinaryAndTextMaskAlike(t *testing.T) {
	conn := dial(t, newProd(t))
	ctx := context.Background()
	const query = `SELECT email::text, first_name || E'\t\\ ' || last_name, phone FROM customers UNION ALL SELECT 'x@y.z', NULL, ''`
	tr, err := masking.New(masking.Spec{Transformer: "email"}, testKey(t, "alike"))
	if err != nil {
		t.Fatal(err)
	}
	tr2, err := masking.New(masking.Spec{Transformer: "text_scramble"}, testKey(t, "alike"))
	if err != nil {
		t.Fatal(err)
	}
	run := func(format string) [][]string {
		var src, dst bytes.Buffer
		if _, err := conn.PgConn().CopyTo(ctx, &src, "COPY ("+query+") TO STDOUT"+format); err != nil {
			t.Fatal(err)
		}
		m := &rowMasker{ncols: 3, masks: []columnMask{{index: 0, t: tr}, {index: 1, t: tr2}}}
		mw := &maskingWriter{m: m, w: &dst}
		if format != "" {
			mw.binary = &binaryRows{}
		}
		for p := src.Bytes(); len(p) > 0; {
			n := min(777, len(p))
			if _, err := mw.Write(p[:n]); err != nil {
				t.Fatal(err)
			}
			p = p[n:]
		}
		if err := mw.Close(); err != nil {
			t.Fatal(err)
		}
		// Decode the masked stream with the server: load it into a table.
		table := "alike_text"
		if format != "" {
			table = "alike_binary"
		}
		if _, err := conn.Exec(ctx, "CREATE TEMP TABLE "+table+" (a text, b text, c text)"); err != nil {
			t.Fatal(err)
		}
		if _, err := conn.PgConn().CopyFrom(ctx, &dst, "COPY "+table+" FROM STDIN"+format); err != nil {
			t.Fatal(err)
		}
		rows, err := conn.Query(ctx, "SELECT coalesce(a, '<null>'), coalesce(b, '<null>'), coalesce(c, '<null>') FROM "+table)
		if err != nil {
			t.Fatal(err)
		}
		var out [][]string
		for rows.Next() {
			var a, b, c string
			if err := rows.Scan(&a, &b, &c); err != nil {
				t.Fatal(err)
			}
			out = append(out, []string{a, b, c})
		}
		return out
	}
	text, bin := run(""), run(" (FORMAT binary)")
	if len(text) != 2001 || len(bin) != len(text) {
		t.Fatalf("%d text rows, %d binary rows", len(text), len(bin))
	}
	for i := range text {
		if strings.Join(text[i], "|") != strings.Join(bin[i], "|") {
			t.Fatalf("row %d: text path %q, binary path %q", i, text[i], bin[i])
		}
	}
	if text[0][0] == "user1@example.com" {
		t.Error("the e-mail was not masked")
	}
}

// TestBinaryDatesMaskAlike checks the binary path's day-number conversion
// against the text path for date_shift, around the epoch, leap days and
// infinity.
func TestBinaryDatesMaskAlike(t *testing.T) {
	conn := dial(t, newProd(t))
	ctx := context.Background()
	const query = `SELECT d::date, d::date FROM generate_series(date '1899-12-25', date '2004-03-05', interval '13 days') d
		UNION ALL SELECT date '2000-01-01', NULL UNION ALL SELECT 'infinity', '-infinity' UNION ALL SELECT NULL, date '9999-12-31'`
	tr, err := masking.New(masking.Spec{Transformer: "date_shift"}, testKey(t, "dates"))
	if err != nil {
		t.Fatal(err)
	}
	run := func(format string) string {
		var src, dst bytes.Buffer
		if _, err := conn.PgConn().CopyTo(ctx, &src, "COPY ("+query+") TO STDOUT"+format); err != nil {
			t.Fatal(err)
		}
		m := &rowMasker{ncols: 2, masks: []columnMask{{index: 0, t: tr, bin: binaryField{kind: binaryDate}}, {index: 1, t: tr, bin: binaryField{kind: binaryDate}}}}
		mw := &maskingWriter{m: m, w: &dst}
		if format != "" {
			mw.binary = &binaryRows{}
		}
		for p := src.Bytes(); len(p) > 0; {
			n := min(333, len(p))
			if _, err := mw.Write(p[:n]); err != nil {
				t.Fatal(err)
			}
			p = p[n:]
		}
		if err := mw.Close(); err != nil {
			t.Fatal(err)
		}
		table := "dates_text"
		if format != "" {
			table = "dates_binary"
		}
		if _, err := conn.Exec(ctx, "CREATE TEMP TABLE "+table+" (n serial, a date, b date)"); err != nil {
			t.Fatal(err)
		}
		if _, err := conn.PgConn().CopyFrom(ctx, &dst, "COPY "+table+" (a, b) FROM STDIN"+format); err != nil {
			t.Fatal(err)
		}
		var s string
		if err := conn.QueryRow(ctx, "SELECT string_agg(coalesce(a::text, '-') || '/' || coalesce(b::text, '-'), ',' ORDER BY n) FROM "+table).Scan(&s); err != nil {
			t.Fatal(err)
		}
		return s
	}
	text, bin := run(""), run(" (FORMAT binary)")
	if text != bin {
		tt, bb := strings.Split(text, ","), strings.Split(bin, ",")
		for i := range tt {
			if i >= len(bb) || tt[i] != bb[i] {
				t.Fatalf("text and binary paths differ at row %d: text %q, binary %q", i, tt[i], bb[min(i, len(bb)-1)])
			}
		}
		t.Fatalf("text and binary paths differ in length: %d vs %d", len(tt), len(bb))
	}
	if !strings.Contains(text, "infinity/-infinity") || strings.HasPrefix(text, "1899-12-25/") {
		t.Errorf("unexpected masked dates: %.200s", text)
	}
}
