package pgclone

import (
	"bytes"
	"context"
	"testing"
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
