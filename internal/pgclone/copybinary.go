package pgclone

import (
	"encoding/binary"
	"errors"
	"fmt"
	"strings"
)

// Tables without masked columns stream in binary COPY: the server skips
// converting every value to text and back, and the client only counts the
// tuples passing through (for progress and the row check).

// binaryHeaderLen is the signature, flags and header-extension length.
const binaryHeaderLen = 11 + 4 + 4

var errBinaryCopy = errors.New("malformed binary COPY stream")

// binaryRows counts the tuples of a binary COPY stream fed to it in chunks
// of any size.
type binaryRows struct {
	state  int // one of the binary* states
	hdr    [binaryHeaderLen]byte
	n      int   // bytes gathered of the current fixed-size item
	skip   int64 // bytes left to skip (header extension, field data)
	fields int   // fields left in the current tuple
	done   bool  // the trailer was seen
}

const (
	binaryHeader = iota
	binaryExtension
	binaryFieldCount
	binaryFieldLength
	binaryFieldData
)

// feed consumes p and returns how many tuples started in it.
func (b *binaryRows) feed(p []byte) (int64, error) {
	var rows int64
	for len(p) > 0 {
		if b.done {
			return rows, errBinaryCopy // bytes after the trailer
		}
		switch b.state {
		case binaryHeader:
			k := copy(b.hdr[b.n:], p)
			b.n += k
			p = p[k:]
			if b.n == binaryHeaderLen {
				if string(b.hdr[:11]) != "PGCOPY\n\xff\r\n\x00" {
					return rows, errBinaryCopy
				}
				b.skip = int64(binary.BigEndian.Uint32(b.hdr[15:]))
				b.n, b.state = 0, binaryExtension
			}
		case binaryExtension, binaryFieldData:
			k := int64(len(p))
			if k > b.skip {
				k = b.skip
			}
			b.skip -= k
			p = p[k:]
			if b.skip == 0 {
				if b.state == binaryFieldData {
					b.fields--
				}
				b.nextField()
			}
		case binaryFieldCount, binaryFieldLength:
			size := 2
			if b.state == binaryFieldLength {
				size = 4
			}
			k := copy(b.hdr[b.n:size], p)
			b.n += k
			p = p[k:]
			if b.n < size {
				continue
			}
			b.n = 0
			if b.state == binaryFieldCount {
				count := int16(binary.BigEndian.Uint16(b.hdr[:2]))
				if count == -1 {
					b.done = true
					continue
				}
				if count < 0 {
					return rows, errBinaryCopy
				}
				rows++
				b.fields = int(count)
				b.nextField()
				continue
			}
			length := int32(binary.BigEndian.Uint32(b.hdr[:4]))
			switch {
			case length == -1: // NULL
				b.fields--
				b.nextField()
			case length < 0:
				return rows, errBinaryCopy
			default:
				b.skip, b.state = int64(length), binaryFieldData
				if length == 0 {
					b.fields--
					b.nextField()
				}
			}
		}
	}
	return rows, nil
}

// nextField moves to the next field of the tuple, or the next tuple.
func (b *binaryRows) nextField() {
	if b.state == binaryExtension || b.fields == 0 {
		b.state = binaryFieldCount
		return
	}
	b.state = binaryFieldLength
}

// Tables whose masked columns are all text-like (text, varchar, citext)
// or of a type copybinary_types.go converts (integers, numeric, dates,
// timestamps, uuid, inet, cidr) also stream in binary COPY. The binary
// form of text-like types is the value's UTF-8 bytes, exactly what the
// text path hands the transformers after unescaping; a converted field is
// turned into the text its type's output function prints, masked, and
// turned back. Both paths mask identically, and the server skips
// converting every other column to text and back.

// binaryTextLike reports whether values of SQL type typ (format_type
// output) are sent in binary COPY as their plain text bytes.
func binaryTextLike(typ string) bool {
	return typ == "text" || strings.HasPrefix(typ, "character varying") || typ == "citext" || strings.HasSuffix(typ, ".citext")
}

// binaryCopyOK reports whether rel can stream in binary COPY: when none
// of its columns is masked, or the binary path can mask every masked one
// (see binaryMaskable), unless the textCopy option forces the text path.
func (c *cloner) binaryCopyOK(rel *relation, masks map[string]*columnPlan) bool {
	if c.opts.textCopy {
		return false
	}
	for _, col := range rel.columns {
		if cp := masks[col.name]; cp != nil && !binaryMaskable(col.binaryType(), cp.spec.Transformer) {
			return false
		}
	}
	return true
}

// appendBinary parses complete items of a binary COPY stream from buf and
// appends their masked form to dst. It returns the bytes of buf it used
// (the rest is an incomplete item, to be completed by the next chunk) and
// the tuples it completed. st tracks the header and the trailer.
func (m *rowMasker) appendBinary(dst, buf []byte, st *binaryRows) (out []byte, used int, rows int64, err error) {
	for {
		rest := buf[used:]
		if st.done {
			if len(rest) > 0 {
				return dst, used, rows, errBinaryCopy
			}
			return dst, used, rows, nil
		}
		if st.state == binaryHeader {
			if len(rest) < binaryHeaderLen {
				return dst, used, rows, nil
			}
			if string(rest[:11]) != "PGCOPY\n\xff\r\n\x00" {
				return dst, used, rows, errBinaryCopy
			}
			ext := int(binary.BigEndian.Uint32(rest[15:]))
			if len(rest) < binaryHeaderLen+ext {
				return dst, used, rows, nil
			}
			dst = append(dst, rest[:binaryHeaderLen+ext]...)
			used += binaryHeaderLen + ext
			st.state = binaryFieldCount
			continue
		}
		// One tuple, if it is complete.
		if len(rest) < 2 {
			return dst, used, rows, nil
		}
		count := int(int16(binary.BigEndian.Uint16(rest)))
		if count == -1 {
			st.done = true
			dst = append(dst, rest[:2]...)
			used += 2
			continue
		}
		if count != m.ncols {
			return dst, used, rows, fmt.Errorf("%w: %d fields, want %d", errCopyFormat, count, m.ncols)
		}
		end := 2
		for range count {
			if len(rest) < end+4 {
				return dst, used, rows, nil
			}
			l := int(int32(binary.BigEndian.Uint32(rest[end:])))
			end += 4
			if l > 0 {
				end += l
			} else if l < -1 {
				return dst, used, rows, errBinaryCopy
			}
		}
		if len(rest) < end {
			return dst, used, rows, nil
		}
		if dst, err = m.appendBinaryTuple(dst, rest[:end]); err != nil {
			return dst, used, rows, err
		}
		used += end
		rows++
	}
}

// appendBinaryTuple appends the masked form of one complete binary tuple.
func (m *rowMasker) appendBinaryTuple(dst, tuple []byte) ([]byte, error) {
	// Unmasked fields are copied in runs: from the start, between masked
	// fields, and after the last one.
	pos, next, from := 2, 0, 0
	for i := range m.ncols {
		if next == len(m.masks) {
			break
		}
		l := int(int32(binary.BigEndian.Uint32(tuple[pos:])))
		field := tuple[pos : pos+4+max(l, 0)]
		if m.masks[next].index != i {
			pos += len(field)
			continue
		}
		dst = append(dst, tuple[from:pos]...)
		pos += len(field)
		from = pos
		cm := &m.masks[next]
		next++
		isNull := l == -1
		val := field[4:]
		if cm.bin.kind != binaryAsText && !isNull {
			var err error
			if m.val, err = cm.bin.kind.appendText(m.val[:0], val); err != nil {
				return dst, fmt.Errorf("column %s (%s): %w", cm.bin.column, cm.bin.kind, err)
			}
			val = m.val
		}
		out, outNull, odds, err := cm.apply(m.out[:0], val, isNull)
		m.out = out
		if err != nil {
			return dst, fmt.Errorf("column %s: %w", cm.bin.column, err)
		}
		if outNull {
			dst = binary.BigEndian.AppendUint32(dst, 0xFFFFFFFF)
			continue
		}
		if cm.leak != nil && len(val) > 0 && !isNull {
			if err := cm.leak.add(m.seed, val, out, odds); err != nil {
				return dst, err
			}
		}
		at := len(dst)
		dst = append(dst, 0, 0, 0, 0) // the length, known below
		if dst, err = cm.bin.kind.appendBinary(dst, out); err != nil {
			// As the target's input function would refuse it; the
			// value itself is never printed.
			return dst, fmt.Errorf("column %s: the masked value is not a valid %s: %w", cm.bin.column, cm.bin.kind, err)
		}
		binary.BigEndian.PutUint32(dst[at:], uint32(len(dst)-at-4))
	}
	return append(dst, tuple[from:]...), nil
}
