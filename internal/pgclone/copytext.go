package pgclone

import (
	"bytes"
	"errors"
	"fmt"
	"hash/maphash"
	"io"
	"sync/atomic"

	"github.com/stagingkit/terraform-provider-staging/internal/masking"
)

// This file holds the text COPY codec: it splits the lines PostgreSQL sends
// for COPY ... TO STDOUT (text format, tab delimiter, \N for NULL) into
// fields, passes unmasked fields through as raw bytes, and unescapes, masks
// and re-escapes only the masked ones.

// copyNull is the text COPY spelling of NULL.
var copyNull = []byte(`\N`)

// splitCopyFields appends the raw (still escaped) fields of one text COPY
// line, without its newline, to fields. Delimiters inside values are always
// escaped, so splitting on tab bytes is exact.
func splitCopyFields(fields [][]byte, line []byte) [][]byte {
	for {
		i := bytes.IndexByte(line, '\t')
		if i < 0 {
			return append(fields, line)
		}
		fields = append(fields, line[:i:i])
		line = line[i+1:]
	}
}

func isOctal(c byte) bool { return '0' <= c && c <= '7' }

func hexVal(c byte) (byte, bool) {
	switch {
	case '0' <= c && c <= '9':
		return c - '0', true
	case 'a' <= c && c <= 'f':
		return c - 'a' + 10, true
	case 'A' <= c && c <= 'F':
		return c - 'A' + 10, true
	}
	return 0, false
}

// appendCopyUnescaped appends the value of the raw, non-NULL text COPY field
// raw to dst, decoding the escapes PostgreSQL's COPY FROM accepts: \b \f \n
// \r \t \v, \ddd (1 to 3 octal digits), \xhh (1 or 2 hex digits), and a
// backslash before any other character, which stands for that character.
func appendCopyUnescaped(dst, raw []byte) []byte {
	i := bytes.IndexByte(raw, '\\')
	if i < 0 {
		return append(dst, raw...)
	}
	dst = append(dst, raw[:i]...)
	for ; i < len(raw); i++ {
		c := raw[i]
		if c != '\\' || i+1 == len(raw) {
			dst = append(dst, c)
			continue
		}
		i++
		c = raw[i]
		switch c {
		case 'b':
			dst = append(dst, '\b')
		case 'f':
			dst = append(dst, '\f')
		case 'n':
			dst = append(dst, '\n')
		case 'r':
			dst = append(dst, '\r')
		case 't':
			dst = append(dst, '\t')
		case 'v':
			dst = append(dst, '\v')
		case '0', '1', '2', '3', '4', '5', '6', '7':
			v := c - '0'
			for n := 1; n < 3 && i+1 < len(raw) && isOctal(raw[i+1]); n++ {
				i++
				v = v<<3 | (raw[i] - '0')
			}
			dst = append(dst, v)
		case 'x':
			h, ok := byte(0), false
			if i+1 < len(raw) {
				h, ok = hexVal(raw[i+1])
			}
			if !ok {
				dst = append(dst, 'x')
				break
			}
			i++
			if i+1 < len(raw) {
				if l, ok := hexVal(raw[i+1]); ok {
					h = h<<4 | l
					i++
				}
			}
			dst = append(dst, h)
		default:
			dst = append(dst, c)
		}
	}
	return dst
}

// copyEscapes maps the bytes that COPY TO escapes to the letter after the
// backslash; 0 means the byte is written as is. It matches PostgreSQL's
// CopyAttributeOutText for the tab delimiter, so values PostgreSQL sent
// round-trip byte for byte.
var copyEscapes = [256]byte{'\b': 'b', '\f': 'f', '\n': 'n', '\r': 'r', '\t': 't', '\v': 'v', '\\': '\\'}

// appendCopyEscaped appends val, a non-NULL value, as a text COPY field.
func appendCopyEscaped(dst, val []byte) []byte {
	start := 0
	for i, c := range val {
		if e := copyEscapes[c]; e != 0 {
			dst = append(dst, val[start:i]...)
			dst = append(dst, '\\', e)
			start = i + 1
		}
	}
	return append(dst, val[start:]...)
}

// columnMask is one masked column of a COPY stream.
type columnMask struct {
	index int // position in the COPY column list
	t     masking.Transformer
	// leak, when not nil, receives 64-bit hashes of the production and
	// masked values of an identifier column for the leak check.
	leak *leakHashes
	// metered, when set, is t (or what leakTestHook wraps): it measures
	// each value's odds of being left unchanged by chance as it masks it;
	// meter measures them apart, for a leak-checked column without one.
	metered *masking.Metered
	meter   *masking.FixedPointMeter
	// memo remembers the masked forms of the column's recent values (see
	// memo); nil: none.
	memo *memo
	// bin says how a binary stream's field is converted to the text
	// the transformer masks and back (see binaryKindOf).
	bin binaryField
}

// rowMasker rewrites text COPY lines, masking some columns. It reuses its
// buffers: after warm-up a line costs no allocation besides what the
// transformers need.
type rowMasker struct {
	ncols  int
	masks  []columnMask // by index, ascending
	seed   maphash.Seed
	fields [][]byte
	val    []byte // unescaped production value
	out    []byte // masked value
}

// errCopyFormat reports a line with the wrong number of fields.
var errCopyFormat = errors.New("malformed text COPY line")

// appendLine appends the masked form of line (without its newline) and a
// newline to dst.
func (m *rowMasker) appendLine(dst, line []byte) ([]byte, error) {
	m.fields = splitCopyFields(m.fields[:0], line)
	if len(m.fields) != m.ncols {
		return dst, fmt.Errorf("%w: %d fields, want %d", errCopyFormat, len(m.fields), m.ncols)
	}
	next := 0 // index into m.masks
	for i, raw := range m.fields {
		if i > 0 {
			dst = append(dst, '\t')
		}
		if next == len(m.masks) || m.masks[next].index != i {
			dst = append(dst, raw...)
			continue
		}
		cm := &m.masks[next]
		next++
		isNull := bytes.Equal(raw, copyNull)
		if !isNull {
			m.val = appendCopyUnescaped(m.val[:0], raw)
		}
		out, outNull, odds, err := cm.apply(m.out[:0], m.val, isNull)
		m.out = out
		if err != nil {
			// The caller names the table; masking errors never hold values.
			return dst, fmt.Errorf("column %s: %w", cm.bin.column, err)
		}
		if outNull {
			dst = append(dst, copyNull...)
			continue
		}
		if cm.leak != nil && len(m.val) > 0 && !isNull {
			if err := cm.leak.add(m.seed, m.val, out, odds); err != nil {
				return dst, err
			}
		}
		dst = appendCopyEscaped(dst, out)
	}
	return append(dst, '\n'), nil
}

// flushSize is how much masked output a maskingWriter gathers before it
// writes to the target.
const flushSize = 64 << 10

// maskingWriter is the io.Writer a source COPY TO writes into: it cuts the
// stream into lines, masks them and writes the result to w in chunks of
// about flushSize bytes. Memory stays bounded by the longest row plus
// flushSize whatever the table size.
type maskingWriter struct {
	m            *rowMasker  // nil: pass through
	binary       *binaryRows // set: a binary COPY stream (masked by m when m is set)
	w            io.Writer
	partial      []byte // an incomplete line carried to the next Write
	out          []byte
	rows         atomic.Int64 // complete lines seen
	in, outBytes int64
	// onRows, when set, is called after every Write with the number of
	// lines it completed; an error stops the copy (failure injection).
	onRows func(n int64) error
}

func (mw *maskingWriter) Write(p []byte) (int, error) {
	n := len(p)
	mw.in += int64(n)
	var lines int64
	if mw.binary != nil && mw.m != nil {
		// Binary with masked text-like columns: whole tuples are masked;
		// an incomplete one waits in partial for the next chunk.
		buf := p
		if len(mw.partial) > 0 {
			mw.partial = append(mw.partial, p...)
			buf = mw.partial
		}
		out, used, rows, err := mw.m.appendBinary(mw.out, buf, mw.binary)
		mw.out = out
		if err != nil {
			return 0, err
		}
		lines = rows
		mw.partial = append(mw.partial[:0], buf[used:]...)
	} else if mw.binary != nil {
		var err error
		if lines, err = mw.binary.feed(p); err != nil {
			return 0, err
		}
		mw.out = append(mw.out, p...)
	} else if mw.m == nil {
		// No masked column: forward the bytes, count the lines.
		lines = int64(bytes.Count(p, []byte{'\n'}))
		mw.out = append(mw.out, p...)
	} else {
		if len(mw.partial) > 0 {
			i := bytes.IndexByte(p, '\n')
			if i < 0 {
				mw.partial = append(mw.partial, p...)
				return n, nil
			}
			mw.partial = append(mw.partial, p[:i]...)
			var err error
			if mw.out, err = mw.m.appendLine(mw.out, mw.partial); err != nil {
				return 0, err
			}
			mw.partial = mw.partial[:0]
			lines++
			p = p[i+1:]
		}
		for {
			i := bytes.IndexByte(p, '\n')
			if i < 0 {
				break
			}
			var err error
			if mw.out, err = mw.m.appendLine(mw.out, p[:i]); err != nil {
				return 0, err
			}
			lines++
			p = p[i+1:]
			if len(mw.out) >= flushSize {
				if err := mw.flush(); err != nil {
					return 0, err
				}
			}
		}
		mw.partial = append(mw.partial, p...)
	}
	mw.rows.Add(lines)
	if mw.onRows != nil && lines > 0 {
		if err := mw.onRows(lines); err != nil {
			return 0, err
		}
	}
	if len(mw.out) >= flushSize {
		if err := mw.flush(); err != nil {
			return 0, err
		}
	}
	return n, nil
}

func (mw *maskingWriter) flush() error {
	if len(mw.out) == 0 {
		return nil
	}
	_, err := mw.w.Write(mw.out)
	mw.outBytes += int64(len(mw.out))
	mw.out = mw.out[:0]
	return err
}

// Close writes what is left; a stream that ends inside a line is an error.
func (mw *maskingWriter) Close() error {
	if len(mw.partial) > 0 {
		return fmt.Errorf("%w: the stream ends inside a line", errCopyFormat)
	}
	return mw.flush()
}
