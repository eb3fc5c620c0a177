package masking

import (
	"crypto/cipher"
	"encoding/hex"
	"errors"
	"fmt"
	"math"
	"sort"
	"strconv"
	"strings"
)

// Policies for input that is not valid for a transformer's format.
const (
	OnInvalidError  = "error"  // fail with an *InvalidInputError (default)
	OnInvalidRedact = "redact" // emit the constant option invalid_value (default "REDACTED")
	OnInvalidHash   = "hash"   // emit a keyed 32-character hex hash of the value
)

// Spec says how to mask one column (or one JSON path).
type Spec struct {
	// Transformer is a name from the [Catalog], for example "email".
	Transformer string
	// Domain separates keyed outputs. Values masked with the same
	// transformer, key and domain mask equally in every column; the default
	// is the transformer name.
	Domain string
	// Options are the transformer's options as decoded from Terraform or
	// JSON: string, float64, bool, []any and map[string]any values.
	Options map[string]any
	// OnInvalid is the policy for input that is not valid for the format:
	// "error" (default), "redact" or "hash".
	OnInvalid string
}

// Transformer masks single values. Implementations are safe for concurrent
// use.
type Transformer interface {
	// Name is the catalog name, for example "email".
	Name() string
	// Version identifies the algorithm, for example "email/v1"; it is
	// recorded in audit records and changes whenever outputs would.
	Version() string
	// Bijective reports that distinct inputs always give distinct outputs,
	// so the transformer may be used on primary-key and unique columns.
	Bijective() bool
	// Transform appends the masked form of src, a non-NULL value in
	// PostgreSQL text representation, to dst. When dst has spare capacity
	// it does not allocate.
	Transform(dst, src []byte) ([]byte, error)
}

// Info describes a transformer in the [Catalog].
type Info struct {
	Name        string
	Bijective   bool // with default options
	Description string
	// Keeps says what the output keeps from the input: what someone who
	// compares production and staging rows can still learn.
	Keeps   string
	Options []OptionInfo
}

// OptionInfo describes one option of a transformer.
type OptionInfo struct {
	Name        string
	Type        string // "string", "number", "bool", "map", "object"
	Required    bool
	Description string
}

// body is the format-specific part of a transformer: it appends the masked
// src to dst or returns an invalidReason.
type body func(dst, src []byte) ([]byte, error)

// build is what a constructor gets from [New].
type build struct {
	spec   Spec
	key    Key
	domain string
	opts   *options
	// meter, when set, makes the transformer's FF1 record the domains it
	// would permute instead of encrypting (see FixedPointMeter).
	meter *fpeMeter
	// lossy is set when an option gives up bijectivity (small_domain =
	// "hash").
	lossy bool
}

// block derives the cipher for one role of the transformer being built.
func (b *build) block(role string) (cipher.Block, error) {
	return b.key.block(b.spec.Transformer, b.domain, role)
}

// fpe derives the FF1 cipher of the transformer being built. The role name
// is new with FF1 (the Feistel network before it used "fpe"), so no FF1
// output shares a subkey with an earlier version's.
func (b *build) fpe() (fpe, error) {
	blk, err := b.block("ff1")
	if err != nil {
		return fpe{}, err
	}
	f := fpe{f: ff1{b: blk, cache: &ff1Cache{}}, meter: b.meter}
	mode, err := b.opts.oneOf("small_domain", "error", "error", "hash")
	if err != nil {
		return fpe{}, err
	}
	if mode == "hash" {
		hb, err := b.block("small_domain")
		if err != nil {
			return fpe{}, err
		}
		f.small = &prf{hb}
		b.lossy = true
	}
	return f, nil
}

// fpeTransformers are the transformers built on [fpe]: they take the
// small_domain option.
var fpeTransformers = map[string]bool{
	"digits": true, "phone": true, "credit_card": true, "iban": true,
	"format_preserving": true, "email": true, "uuid": true, "ip": true,
}

// built is what a constructor returns.
type built struct {
	body      body
	bijective bool
	// bijectiveJSONB is set by json: bijective under jsonb equality only.
	bijectiveJSONB bool
	passEmpty      bool // empty input is returned unchanged
	isNull         bool
}

type entry struct {
	info     Info
	version  int  // algorithm version, 1 when unset; bumped whenever outputs change
	validate bool // has a format and thus an OnInvalid policy
	make     func(b *build) (built, error)
}

var registry = map[string]entry{}

func register(e entry) {
	if fpeTransformers[e.info.Name] {
		e.info.Options = append(e.info.Options, OptionInfo{
			Name: "small_domain", Type: "string",
			Description: `What happens to a value with fewer than 1,000,000 possible encryptions (NIST FF1's minimum domain), such as a 3-digit code: "error" (the default) treats it as invalid (see on_invalid); "hash" replaces it by a keyed hash in the same format (same length and character classes), which is not bijective, so the rule is refused on primary-key, unique and foreign-key columns.`,
		})
	}
	if e.validate {
		e.info.Options = append(e.info.Options, OptionInfo{
			Name: "invalid_value", Type: "string",
			Description: `Constant emitted for invalid input when on_invalid is "redact" (default "REDACTED").`,
		})
	}
	registry[e.info.Name] = e
}

// Catalog lists every transformer with its options, sorted by name.
func Catalog() []Info {
	out := make([]Info, 0, len(registry))
	for _, name := range TransformerNames() {
		info := registry[name].info
		info.Keeps = keeps[name]
		info.Options = append([]OptionInfo(nil), info.Options...)
		out = append(out, info)
	}
	return out
}

// TransformerNames returns the catalog names, sorted.
func TransformerNames() []string { return sortedKeys(registry) }

// New builds the transformer a spec describes, deriving its subkeys from key
// once. It fails with *UnknownTransformerError, *OptionError or ErrNoKey.
func New(spec Spec, key Key) (Transformer, error) {
	t, err := newTransformer(spec, key, nil)
	if err != nil {
		return nil, err
	}
	return t, nil
}

func newTransformer(spec Spec, key Key, meter *fpeMeter) (*transformer, error) {
	e, ok := registry[spec.Transformer]
	if !ok {
		return nil, &UnknownTransformerError{Name: spec.Transformer}
	}
	if key.IsZero() {
		return nil, ErrNoKey
	}
	policy := spec.OnInvalid
	switch policy {
	case "":
		policy = OnInvalidError
	case OnInvalidError, OnInvalidRedact, OnInvalidHash:
	default:
		return nil, &OptionError{Transformer: spec.Transformer, Option: "on_invalid",
			Reason: fmt.Sprintf("must be one of error, redact, hash; got %q", spec.OnInvalid)}
	}
	domain := spec.Domain
	if domain == "" {
		domain = spec.Transformer
	}
	b := &build{spec: spec, key: key, domain: domain, opts: &options{t: spec.Transformer, m: spec.Options}, meter: meter}
	res, err := e.make(b)
	if err != nil {
		return nil, err
	}
	t := &transformer{
		name:    spec.Transformer,
		version: versionString(spec.Transformer, e.version),
		// A policy that maps invalid values to a constant or a hash can
		// make two values equal: only "error" keeps a bijection one.
		bijective:      res.bijective && policy == OnInvalidError && !b.lossy,
		bijectiveJSONB: res.bijectiveJSONB && policy == OnInvalidError && !b.lossy,
		passEmpty:      res.passEmpty,
		isNull:         res.isNull,
		body:           res.body,
		policy:         policy,
	}
	if e.validate {
		iv, err := b.opts.str("invalid_value", "REDACTED")
		if err != nil {
			return nil, err
		}
		t.invalidValue = []byte(iv)
		fb, err := b.block("on_invalid")
		if err != nil {
			return nil, err
		}
		t.fallback = prf{fb}
	}
	if err := b.opts.finish(e.info.Options); err != nil {
		return nil, err
	}
	return t, nil
}

// versionString is the version name of a transformer at algorithm
// version v (0 meaning 1).
func versionString(name string, v int) string {
	return fmt.Sprintf("%s/v%d", name, max(v, 1))
}

// transformer wraps a body with the empty-string and OnInvalid policies.
type transformer struct {
	name, version  string
	bijective      bool
	bijectiveJSONB bool
	passEmpty      bool
	isNull         bool
	body           body
	policy         string
	invalidValue   []byte
	fallback       prf
}

func (t *transformer) Name() string    { return t.name }
func (t *transformer) Version() string { return t.version }
func (t *transformer) Bijective() bool { return t.bijective }

func (t *transformer) Transform(dst, src []byte) ([]byte, error) {
	out, _, err := t.transform(dst, src)
	return out, err
}

// transform is Transform; masked reports that the transformer's body
// masked src (it was neither passed through as empty nor replaced by the
// on_invalid policy).
func (t *transformer) transform(dst, src []byte) (out []byte, masked bool, err error) {
	if len(src) == 0 && t.passEmpty {
		return dst, false, nil
	}
	n := len(dst)
	out, err = t.body(dst, src)
	if err == nil {
		return out, true, nil
	}
	var reason invalidReason
	if !errors.As(err, &reason) {
		return dst[:n], false, fmt.Errorf("masking: transformer %q: %w", t.name, err)
	}
	switch t.policy {
	case OnInvalidRedact:
		return append(dst[:n], t.invalidValue...), false, nil
	case OnInvalidHash:
		if t.fallback.b == nil {
			break
		}
		out = grow(dst[:n], 32+16)
		hi, lo := t.fallback.sum(out[n+32:], 0, src)
		var h [16]byte
		putBE(h[:], hi, lo)
		hex.Encode(out[n:n+32], h[:])
		return out[:n+32], false, nil
	}
	return dst[:n], false, &InvalidInputError{Transformer: t.name, Reason: string(reason)}
}

func putBE(b []byte, hi, lo uint64) {
	for i := 0; i < 8; i++ {
		b[i] = byte(hi >> (56 - 8*i))
		b[8+i] = byte(lo >> (56 - 8*i))
	}
}

// Apply masks one value including NULL handling: NULL stays NULL, and the
// "null" transformer turns every value into NULL. When outNull is true, out
// is dst unchanged.
func Apply(t Transformer, dst, src []byte, isNull bool) (out []byte, outNull bool, err error) {
	if isNull {
		return dst, true, nil
	}
	if tt, ok := t.(*transformer); ok && tt.isNull {
		return dst, true, nil
	}
	if tt, ok := t.(*Metered); ok && tt.isNull {
		return dst, true, nil
	}
	out, err = t.Transform(dst, src)
	return out, false, err
}

// MaskString masks one string value; a convenience for tests and the
// provider's mask function. For the "null" transformer it returns "" and no
// error; use [Apply] to observe NULL.
func MaskString(t Transformer, v string) (string, error) {
	out, _, err := Apply(t, nil, []byte(v), false)
	if err != nil {
		return "", err
	}
	return string(out), nil
}

// options reads a spec's options and remembers which were used.
type options struct {
	t    string
	m    map[string]any
	used map[string]bool
}

func (o *options) get(name string) (any, bool) {
	v, ok := o.m[name]
	if ok {
		if o.used == nil {
			o.used = map[string]bool{}
		}
		o.used[name] = true
	}
	if v == nil {
		return nil, false
	}
	return v, ok
}

func (o *options) str(name, def string) (string, error) {
	v, ok := o.get(name)
	if !ok {
		return def, nil
	}
	s, ok := v.(string)
	if !ok {
		return "", optionErr(o.t, name, "must be a string, got %T", v)
	}
	return s, nil
}

func (o *options) oneOf(name, def string, valid ...string) (string, error) {
	s, err := o.str(name, def)
	if err != nil {
		return "", err
	}
	for _, v := range valid {
		if s == v {
			return s, nil
		}
	}
	return "", optionErr(o.t, name, "must be one of %s; got %q", strings.Join(valid, ", "), s)
}

func (o *options) number(name string, def float64) (float64, error) {
	v, ok := o.get(name)
	if !ok {
		return def, nil
	}
	switch x := v.(type) {
	case float64:
		return x, nil
	case float32:
		return float64(x), nil
	case int:
		return float64(x), nil
	case int64:
		return float64(x), nil
	case string:
		f, err := strconv.ParseFloat(x, 64)
		if err == nil {
			return f, nil
		}
	}
	return 0, optionErr(o.t, name, "must be a number, got %v", v)
}

func (o *options) integer(name string, def, min, max int) (int, error) {
	f, err := o.number(name, float64(def))
	if err != nil {
		return 0, err
	}
	if f != math.Trunc(f) || f < float64(min) || f > float64(max) {
		return 0, optionErr(o.t, name, "must be a whole number from %d to %d; got %v", min, max, f)
	}
	return int(f), nil
}

func (o *options) boolean(name string, def bool) (bool, error) {
	v, ok := o.get(name)
	if !ok {
		return def, nil
	}
	switch x := v.(type) {
	case bool:
		return x, nil
	case string:
		if b, err := strconv.ParseBool(x); err == nil {
			return b, nil
		}
	}
	return false, optionErr(o.t, name, "must be true or false, got %v", v)
}

func (o *options) object(name string) (map[string]any, error) {
	v, ok := o.get(name)
	if !ok {
		return nil, nil
	}
	m, ok := v.(map[string]any)
	if !ok {
		return nil, optionErr(o.t, name, "must be a map, got %T", v)
	}
	return m, nil
}

// finish rejects options the transformer does not know, naming the valid ones.
func (o *options) finish(valid []OptionInfo) error {
	for _, k := range sortedKeys(o.m) {
		if o.used[k] {
			continue
		}
		known := false
		names := make([]string, 0, len(valid))
		for _, v := range valid {
			names = append(names, v.Name)
			known = known || v.Name == k
		}
		if known {
			continue
		}
		sort.Strings(names)
		valid := "none"
		if len(names) > 0 {
			valid = strings.Join(names, ", ")
		}
		return optionErr(o.t, k, "unknown option; valid options are: %s", valid)
	}
	return nil
}
