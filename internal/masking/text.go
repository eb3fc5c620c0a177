package masking

import (
	"encoding/binary"
	"regexp"
	"unicode"
	"unicode/utf8"
)

func init() {
	register(entry{
		info: Info{Name: "text_scramble",
			Description: "Replaces every letter with a pseudo-random letter of the same case and every digit with a digit, keeping length in characters, spaces and punctuation; non-ASCII letters become ASCII letters. Keyed and deterministic per value, not bijective."},
		validate: true, make: newTextScramble,
	})
	register(entry{
		info: Info{Name: "regex_replace",
			Description: "Replaces every match of a regular expression (Go RE2 syntax) with a replacement that may use $1 or ${name}. Deterministic but not keyed.",
			Options: []OptionInfo{
				{Name: "pattern", Type: "string", Required: true, Description: "The regular expression."},
				{Name: "replacement", Type: "string", Description: `The replacement (default "").`},
			}},
		make: newRegexReplace,
	})
}

func newTextScramble(b *build) (built, error) {
	blk, err := b.block("text")
	if err != nil {
		return built{}, err
	}
	p := prf{blk}
	return built{passEmpty: true, body: func(dst, src []byte) ([]byte, error) {
		if !utf8.Valid(src) {
			return dst, invalidReason("the value is not valid UTF-8")
		}
		base := len(dst)
		// Output is at most as long as the input (ASCII replacements).
		all := grow(dst, len(src)+32)
		out, s := all[base:base+len(src)], all[base+len(src):]
		hi, lo := p.sum(s, 0, src)
		o := 0
		word := 8 // index of the next 16-bit word in the keystream block
		ctr := uint64(0)
		next := func() uint32 {
			if word == 8 {
				ctr++
				p.stream(s[16:], hi, lo, ctr)
				word = 0
			}
			w := uint32(binary.LittleEndian.Uint16(s[16+2*word:]))
			word++
			return w
		}
		for i := 0; i < len(src); {
			c := src[i]
			if c < utf8.RuneSelf {
				switch {
				case isLower(c):
					c = 'a' + byte(next()*26>>16)
				case isUpper(c):
					c = 'A' + byte(next()*26>>16)
				case isDigit(c):
					c = '0' + byte(next()*10>>16)
				}
				out[o] = c
				o++
				i++
				continue
			}
			r, size := utf8.DecodeRune(src[i:])
			switch {
			case unicode.IsUpper(r):
				out[o] = 'A' + byte(next()*26>>16)
				o++
			case unicode.IsLetter(r):
				out[o] = 'a' + byte(next()*26>>16)
				o++
			case unicode.IsDigit(r):
				out[o] = '0' + byte(next()*10>>16)
				o++
			default:
				o += copy(out[o:], src[i:i+size])
			}
			i += size
		}
		return all[:base+o], nil
	}}, nil
}

func newRegexReplace(b *build) (built, error) {
	pat, err := b.opts.str("pattern", "")
	if err != nil {
		return built{}, err
	}
	if pat == "" {
		return built{}, optionErr("regex_replace", "pattern", "is required: a regular expression in Go RE2 syntax")
	}
	re, err := regexp.Compile(pat)
	if err != nil {
		return built{}, &OptionError{Transformer: "regex_replace", Option: "pattern", Reason: "is not a valid regular expression: " + err.Error()}
	}
	repl, err := b.opts.str("replacement", "")
	if err != nil {
		return built{}, err
	}
	replB := []byte(repl)
	return built{body: func(dst, src []byte) ([]byte, error) {
		last := 0
		for _, m := range re.FindAllSubmatchIndex(src, -1) {
			dst = append(dst, src[last:m[0]]...)
			dst = re.Expand(dst, replB, src, m)
			last = m[1]
		}
		return append(dst, src[last:]...), nil
	}}, nil
}
