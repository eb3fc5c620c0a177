package masking

func init() {
	register(entry{
		info: Info{Name: "keep", Bijective: true,
			Description: "Copies the value unchanged. Use it to declare that a column detected as personal data is safe to copy."},
		make: func(*build) (built, error) {
			return built{bijective: true, body: func(dst, src []byte) ([]byte, error) { return append(dst, src...), nil }}, nil
		},
	})
	register(entry{
		info: Info{Name: "null",
			Description: "Turns every value into NULL (through Apply); the column must be nullable."},
		make: func(*build) (built, error) {
			return built{isNull: true, body: func(dst, _ []byte) ([]byte, error) { return dst, nil }}, nil
		},
	})
	register(entry{
		info: Info{Name: "redact",
			Description: "Replaces every value with a constant.",
			Options: []OptionInfo{{Name: "value", Type: "string",
				Description: `The constant (default "REDACTED").`}}},
		make: func(b *build) (built, error) {
			v, err := b.opts.str("value", "REDACTED")
			if err != nil {
				return built{}, err
			}
			c := []byte(v)
			return built{body: func(dst, _ []byte) ([]byte, error) { return append(dst, c...), nil }}, nil
		},
	})
	register(entry{
		info: Info{Name: "hash", Bijective: true,
			Description: "Keyed hash (AES-based PRF) of the value, hex or base32 encoded. Bijective (collision-free with overwhelming probability) when the output carries at least 128 bits: length >= 32 in hex, >= 26 in base32. Not invertible, even with the key.",
			Options: []OptionInfo{
				{Name: "encoding", Type: "string", Description: `"hex" (default) or "base32" (lower case, no padding).`},
				{Name: "length", Type: "number", Description: "Output length in characters, 1 to 128 (default 32)."},
			}},
		make: newHash,
	})
}

const base32Alphabet = "abcdefghijklmnopqrstuvwxyz234567"
const hexAlphabet = "0123456789abcdef"

func newHash(b *build) (built, error) {
	enc, err := b.opts.oneOf("encoding", "hex", "hex", "base32")
	if err != nil {
		return built{}, err
	}
	length, err := b.opts.integer("length", 32, 1, 128)
	if err != nil {
		return built{}, err
	}
	blk, err := b.block("hash")
	if err != nil {
		return built{}, err
	}
	p := prf{blk}
	bitsPerChar, alphabet := 4, hexAlphabet
	if enc == "base32" {
		bitsPerChar, alphabet = 5, base32Alphabet
	}
	// Each 16-byte keystream block yields 120 usable bits (24 base32 or 30
	// hex characters would waste fewer, but this keeps both encodings simple).
	perBlock := 128 / bitsPerChar
	mask := uint64(1)<<bitsPerChar - 1
	return built{
		bijective: length*bitsPerChar >= 128,
		body: func(dst, src []byte) ([]byte, error) {
			n := len(dst)
			dst = grow(dst, length+32)
			out, s := dst[n:n+length], dst[n+length:]
			hi, lo := p.sum(s, 0, src)
			for i := 0; i < length; i += perBlock {
				h, l := hi, lo
				if i > 0 {
					p.stream(s[16:], hi, lo, uint64(i/perBlock))
					h, l = le64(s[16:]), le64(s[24:])
				}
				for j := 0; j < perBlock && i+j < length; j++ {
					out[i+j] = alphabet[h&mask]
					// Shift the 128-bit value right by bitsPerChar.
					h = h>>bitsPerChar | l<<(64-bitsPerChar)
					l >>= bitsPerChar
				}
			}
			return dst[:n+length], nil
		},
	}, nil
}

func le64(b []byte) uint64 {
	_ = b[7]
	return uint64(b[0]) | uint64(b[1])<<8 | uint64(b[2])<<16 | uint64(b[3])<<24 |
		uint64(b[4])<<32 | uint64(b[5])<<40 | uint64(b[6])<<48 | uint64(b[7])<<56
}
