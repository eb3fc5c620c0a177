package pgclone

import (
	"encoding/binary"
	"errors"
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
