package pgclone

import (
	"errors"
	"strings"

	"github.com/stagingkit/terraform-provider-staging/internal/masking"
)

// arrayMask applies a transformer to every element of a PostgreSQL array
// in text form ({a,"b c",NULL}, nested for more dimensions, optionally
// prefixed by bounds such as [0:1]=). NULL elements stay NULL and the
// structure is kept; every masked element is written double-quoted, with
// '"' and '\' escaped, so the result is a valid array literal whatever the
// transformer returns (a redacted or hashed value included).
type arrayMask struct{ t masking.Transformer }

var _ masking.Transformer = arrayMask{}

func (a arrayMask) Name() string    { return a.t.Name() }
func (a arrayMask) Version() string { return a.t.Version() + "+array" }
func (a arrayMask) Bijective() bool { return a.t.Bijective() }

// errArrayLiteral reports text that is not an array literal. It never
// holds the value.
var errArrayLiteral = errors.New("masking: value is not a valid array literal")

// Transform masks each element of the array literal src.
func (a arrayMask) Transform(dst, src []byte) ([]byte, error) {
	i := 0
	if len(src) > 0 && src[0] == '[' {
		// Bounds decoration: copied as it is, up to '='.
		eq := strings.IndexByte(string(src), '=')
		if eq < 0 {
			return dst, errArrayLiteral
		}
		dst = append(dst, src[:eq+1]...)
		i = eq + 1
	}
	var elem, out []byte
	depth := 0
	for i < len(src) {
		c := src[i]
		switch {
		case c == '{':
			depth++
			dst = append(dst, c)
			i++
		case c == '}':
			depth--
			if depth < 0 {
				return dst, errArrayLiteral
			}
			dst = append(dst, c)
			i++
		case c == ',':
			dst = append(dst, c)
			i++
		case c == ' ' || c == '\t' || c == '\n' || c == '\r':
			i++ // whitespace around elements is not part of them
		case depth == 0:
			return dst, errArrayLiteral
		default:
			// One element, quoted or not.
			elem = elem[:0]
			quoted := c == '"'
			if quoted {
				i++
				for ; i < len(src) && src[i] != '"'; i++ {
					if src[i] == '\\' && i+1 < len(src) {
						i++
					}
					elem = append(elem, src[i])
				}
				if i >= len(src) {
					return dst, errArrayLiteral
				}
				i++ // closing quote
			} else {
				for ; i < len(src) && src[i] != ',' && src[i] != '}'; i++ {
					if src[i] == '\\' && i+1 < len(src) {
						i++
					}
					elem = append(elem, src[i])
				}
				elem = []byte(strings.TrimRight(string(elem), " \t\r\n"))
				if strings.EqualFold(string(elem), "NULL") {
					dst = append(dst, "NULL"...)
					continue
				}
			}
			var err error
			if out, err = a.t.Transform(out[:0], elem); err != nil {
				return dst, err
			}
			dst = append(dst, '"')
			for _, b := range out {
				if b == '"' || b == '\\' {
					dst = append(dst, '\\')
				}
				dst = append(dst, b)
			}
			dst = append(dst, '"')
		}
	}
	if depth != 0 {
		return dst, errArrayLiteral
	}
	return dst, nil
}

// isArrayType reports whether a format_type name is an array type.
func isArrayType(typ string) bool { return strings.HasSuffix(typ, "[]") }
