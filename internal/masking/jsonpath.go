package masking

import (
	"bytes"
	"encoding/json"
	"fmt"
	"sort"
	"strconv"
	"strings"
	"sync"
	"unicode/utf8"
)

func init() {
	register(entry{
		info: Info{Name: "json",
			Description: "Applies other transformers at paths inside json/jsonb text, keeping everything else byte for byte. A path such as $.contact.email or contact.email names object keys; items[*] or items[0] select array elements, and an array met where a key is expected is searched element by element. A path that names an object or array masks every string and number inside it. One JSON value has many spellings (escapes, spacing), so it is bijective only on jsonb columns, and only if every nested transformer is.",
			Options: []OptionInfo{{Name: "paths", Type: "map", Required: true,
				Description: `Map from path to a nested spec object: {transformer = "email", domain = "...", on_invalid = "...", options = {...}}; other keys are taken as options of the nested transformer.`}}},
		version: 2, validate: true, make: newJSON,
	})
}

// jnode is one step of the compiled path tree.
type jnode struct {
	keys  map[string]*jnode
	index map[int]*jnode
	any   *jnode
	t     Transformer
}

func (n *jnode) child(seg string) *jnode {
	if n.keys == nil {
		n.keys = map[string]*jnode{}
	}
	c := n.keys[seg]
	if c == nil {
		c = &jnode{}
		n.keys[seg] = c
	}
	return c
}

// parsePath splits "$.a.b[*].c[0]" into steps; a step is a key, "[*]" or "[n]".
func parsePath(p string) ([]string, error) {
	p = strings.TrimPrefix(strings.TrimPrefix(p, "$"), ".")
	if p == "" {
		return nil, fmt.Errorf("empty path")
	}
	var steps []string
	for _, part := range strings.Split(p, ".") {
		key, rest, _ := strings.Cut(part, "[")
		if key != "" {
			steps = append(steps, key)
		}
		if rest != "" {
			rest = "[" + rest
			for rest != "" {
				end := strings.IndexByte(rest, ']')
				if rest[0] != '[' || end < 0 {
					return nil, fmt.Errorf("malformed index in %q", part)
				}
				idx := rest[1:end]
				if idx != "*" {
					if _, err := strconv.Atoi(idx); err != nil {
						return nil, fmt.Errorf("index %q must be * or a number", idx)
					}
				}
				steps = append(steps, rest[:end+1])
				rest = rest[end+1:]
			}
		} else if key == "" {
			return nil, fmt.Errorf("empty key in path")
		}
	}
	return steps, nil
}

func newJSON(b *build) (built, error) {
	paths, err := b.opts.object("paths")
	if err != nil {
		return built{}, err
	}
	if len(paths) == 0 {
		return built{}, optionErr("json", "paths", "is required: a map from JSON path (e.g. $.contact.email) to a nested spec such as {transformer = \"email\"}")
	}
	root := &jnode{}
	bij := true
	keys := make([]string, 0, len(paths))
	for k := range paths {
		keys = append(keys, k)
	}
	sort.Strings(keys)
	for _, path := range keys {
		steps, err := parsePath(path)
		if err != nil {
			return built{}, optionErr("json", "paths", "path %q: %v", path, err)
		}
		raw, ok := paths[path].(map[string]any)
		if !ok {
			return built{}, optionErr("json", "paths", "path %q: value must be a spec object such as {transformer = \"email\"}, got %T", path, paths[path])
		}
		spec := Spec{Options: map[string]any{}}
		for k, v := range raw {
			switch k {
			case "transformer", "domain", "on_invalid":
				s, ok := v.(string)
				if !ok && v != nil {
					return built{}, optionErr("json", "paths", "path %q: %s must be a string", path, k)
				}
				switch k {
				case "transformer":
					spec.Transformer = s
				case "domain":
					spec.Domain = s
				default:
					spec.OnInvalid = s
				}
			case "options":
				if v == nil {
					continue
				}
				m, ok := v.(map[string]any)
				if !ok {
					return built{}, optionErr("json", "paths", "path %q: options must be an object", path)
				}
				for ok, ov := range m {
					spec.Options[ok] = ov
				}
			default:
				spec.Options[k] = v
			}
		}
		if spec.Transformer == "" {
			return built{}, optionErr("json", "paths", "path %q: the nested spec needs a transformer", path)
		}
		if spec.Transformer == "json" {
			return built{}, optionErr("json", "paths", "path %q: json cannot be nested in json", path)
		}
		t, err := New(spec, b.key)
		if err != nil {
			return built{}, fmt.Errorf("masking: transformer \"json\": path %q: %w", path, err)
		}
		bij = bij && t.Bijective()
		n := root
		for _, s := range steps {
			switch {
			case s == "[*]":
				if n.any == nil {
					n.any = &jnode{}
				}
				n = n.any
			case strings.HasPrefix(s, "["):
				i, _ := strconv.Atoi(s[1 : len(s)-1])
				if n.index == nil {
					n.index = map[int]*jnode{}
				}
				if n.index[i] == nil {
					n.index[i] = &jnode{}
				}
				n = n.index[i]
			default:
				n = n.child(s)
			}
		}
		if n.t != nil {
			return built{}, optionErr("json", "paths", "path %q is given twice", path)
		}
		n.t = t
	}
	// JSON text has many spellings of one value (escapes, spaces), so the
	// transformer is bijective only where values compare as jsonb.
	return built{bijectiveJSONB: bij, passEmpty: true, body: func(dst, src []byte) ([]byte, error) {
		w := jsonWalker{src: src, dst: dst}
		w.ws()
		if err := w.value(root, 0); err != nil {
			return dst, err
		}
		w.ws()
		if w.pos != len(src) {
			return dst, invalidReason("not valid JSON: trailing data")
		}
		return w.dst, nil
	}}, nil
}

var jsonBufs = sync.Pool{New: func() any { return &[2][]byte{} }}

const maxJSONDepth = 512

type jsonWalker struct {
	src []byte
	pos int
	dst []byte
}

var errBadJSON = invalidReason("not valid JSON")

func (w *jsonWalker) ws() {
	for w.pos < len(w.src) {
		switch w.src[w.pos] {
		case ' ', '\t', '\n', '\r':
			w.pos++
		default:
			return
		}
	}
}

// copyTo appends the source from start to the current position.
func (w *jsonWalker) copyFrom(start int) { w.dst = append(w.dst, w.src[start:w.pos]...) }

// value walks one value. A nil node copies it; a node with a transformer
// masks every scalar in it.
func (w *jsonWalker) value(n *jnode, depth int) error {
	if depth > maxJSONDepth {
		return invalidReason("not valid JSON: nested too deeply")
	}
	if w.pos >= len(w.src) {
		return errBadJSON
	}
	start := w.pos
	switch c := w.src[w.pos]; {
	case c == '{':
		w.pos++
		w.dst = append(w.dst, '{')
		s := w.pos
		w.ws()
		if w.pos < len(w.src) && w.src[w.pos] == '}' {
			w.pos++
			w.copyFrom(s)
			return nil
		}
		w.copyFrom(s)
		for {
			s = w.pos
			w.ws()
			w.copyFrom(s)
			ks := w.pos
			key, esc, err := w.str()
			if err != nil {
				return err
			}
			w.copyFrom(ks)
			var child *jnode
			if n != nil {
				if n.t != nil {
					child = n
				} else if n.keys != nil {
					k := key
					if esc {
						var u []byte
						if u, err = unescape(nil, key); err != nil {
							return err
						}
						k = u
					}
					child = n.keys[string(k)]
				}
			}
			s = w.pos
			w.ws()
			if w.pos >= len(w.src) || w.src[w.pos] != ':' {
				return errBadJSON
			}
			w.pos++
			w.ws()
			w.copyFrom(s)
			if err := w.value(child, depth+1); err != nil {
				return err
			}
			s = w.pos
			w.ws()
			if w.pos >= len(w.src) {
				return errBadJSON
			}
			switch w.src[w.pos] {
			case ',':
				w.pos++
				w.copyFrom(s)
			case '}':
				w.pos++
				w.copyFrom(s)
				return nil
			default:
				return errBadJSON
			}
		}
	case c == '[':
		w.pos++
		w.dst = append(w.dst, '[')
		s := w.pos
		w.ws()
		if w.pos < len(w.src) && w.src[w.pos] == ']' {
			w.pos++
			w.copyFrom(s)
			return nil
		}
		w.copyFrom(s)
		for i := 0; ; i++ {
			var child *jnode
			if n != nil {
				switch {
				case n.t != nil:
					child = n
				case n.index != nil && n.index[i] != nil:
					child = n.index[i]
				case n.any != nil:
					child = n.any
				case n.index == nil:
					child = n // an array where keys are expected: search each element
				}
			}
			if err := w.value(child, depth+1); err != nil {
				return err
			}
			s = w.pos
			w.ws()
			if w.pos >= len(w.src) {
				return errBadJSON
			}
			switch w.src[w.pos] {
			case ',':
				w.pos++
				w.ws()
				w.copyFrom(s)
			case ']':
				w.pos++
				w.copyFrom(s)
				return nil
			default:
				return errBadJSON
			}
		}
	case c == '"':
		raw, esc, err := w.str()
		if err != nil {
			return err
		}
		if n == nil || n.t == nil {
			w.copyFrom(start)
			return nil
		}
		return w.mask(n.t, raw, esc, true)
	case c == '-' || isDigit(c):
		w.pos++
		for w.pos < len(w.src) && strings.IndexByte("0123456789.eE+-", w.src[w.pos]) >= 0 {
			w.pos++
		}
		raw := w.src[start:w.pos]
		if !json.Valid(raw) {
			return errBadJSON
		}
		if n == nil || n.t == nil {
			w.copyFrom(start)
			return nil
		}
		return w.mask(n.t, raw, false, false)
	default:
		for _, lit := range []string{"true", "false", "null"} {
			if bytes.HasPrefix(w.src[w.pos:], []byte(lit)) {
				w.pos += len(lit)
				w.copyFrom(start)
				return nil
			}
		}
		return errBadJSON
	}
}

// str scans a string literal and returns its raw content (without quotes).
func (w *jsonWalker) str() (raw []byte, esc bool, err error) {
	if w.pos >= len(w.src) || w.src[w.pos] != '"' {
		return nil, false, errBadJSON
	}
	i := w.pos + 1
	for i < len(w.src) {
		switch c := w.src[i]; {
		case c == '"':
			raw = w.src[w.pos+1 : i]
			w.pos = i + 1
			return raw, esc, nil
		case c == '\\':
			esc = true
			i += 2
		case c < 0x20:
			return nil, false, errBadJSON
		default:
			i++
		}
	}
	return nil, false, errBadJSON
}

// mask transforms one scalar and writes it as JSON.
func (w *jsonWalker) mask(t Transformer, raw []byte, esc, isString bool) error {
	bufs := jsonBufs.Get().(*[2][]byte)
	defer jsonBufs.Put(bufs)
	val := raw
	if esc {
		u, err := unescape(bufs[0][:0], raw)
		if err != nil {
			return err
		}
		bufs[0] = u
		val = u
	}
	out, isNull, err := Apply(t, bufs[1][:0], val, false)
	if err != nil {
		return err
	}
	bufs[1] = out
	switch {
	case isNull:
		w.dst = append(w.dst, "null"...)
	case !isString && json.Valid(out) && len(out) > 0 && (out[0] == '-' || isDigit(out[0])):
		w.dst = append(w.dst, out...)
	default:
		w.dst = appendJSONString(w.dst, out)
	}
	return nil
}

func unescape(dst, raw []byte) ([]byte, error) {
	for i := 0; i < len(raw); i++ {
		c := raw[i]
		if c != '\\' {
			dst = append(dst, c)
			continue
		}
		i++
		if i >= len(raw) {
			return nil, errBadJSON
		}
		switch raw[i] {
		case '"', '\\', '/':
			dst = append(dst, raw[i])
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
		case 'u':
			if i+4 >= len(raw) {
				return nil, errBadJSON
			}
			r, err := strconv.ParseUint(string(raw[i+1:i+5]), 16, 32)
			if err != nil {
				return nil, errBadJSON
			}
			i += 4
			ru := rune(r)
			if 0xD800 <= ru && ru < 0xDC00 && i+6 < len(raw) && raw[i+1] == '\\' && raw[i+2] == 'u' {
				if r2, err := strconv.ParseUint(string(raw[i+3:i+7]), 16, 32); err == nil && 0xDC00 <= r2 && r2 < 0xE000 {
					ru = (ru-0xD800)<<10 + (rune(r2) - 0xDC00) + 0x10000
					i += 6
				}
			}
			dst = utf8.AppendRune(dst, ru)
		default:
			return nil, errBadJSON
		}
	}
	return dst, nil
}

func appendJSONString(dst, s []byte) []byte {
	dst = append(dst, '"')
	for _, c := range s {
		switch {
		case c == '"' || c == '\\':
			dst = append(dst, '\\', c)
		case c < 0x20:
			dst = append(dst, '\\', 'u', '0', '0', hexAlphabet[c>>4], hexAlphabet[c&15])
		default:
			dst = append(dst, c)
		}
	}
	return append(dst, '"')
}
