package masking

// FixedPointMeter tells, value by value, how likely the transformer of a
// spec is to leave a value unchanged by chance: a keyed permutation of N
// values maps a given input to itself with probability 1/N, and so does a
// keyed hash into N values (small_domain = "hash"). The leak check sums
// these odds over a column to know how many unchanged values chance
// explains.
//
// N is the size of the domain FF1 permutes that very value in, after any
// widening: 10^16 for 16 encrypted digits, the local-part domain of an
// e-mail (26^k·10^j for its letters and digits, or the widened domain of a
// short local part), the magnitudes of an integer's class. A value masked
// by several permutations (none today) has the product of their odds.
//
// A meter only measures: it runs the transformer's parsing and decisions
// but no encryption, so it costs a fraction of masking. It is not safe for
// concurrent use.
type FixedPointMeter struct {
	t     *transformer
	m     *fpeMeter
	buf   []byte
	known bool
}

// fpeMeter is what a measuring fpe records for the value being measured.
type fpeMeter struct {
	odds  float64 // the product of 1/N over the domains permuted
	calls int     // how many domains were permuted
	// alongside makes the fpe record and still encrypt (see Metered);
	// without it, the fpe records instead of encrypting.
	alongside bool
}

// permuted records a permutation of the mixed-radix domain rad (radix
// rad[i]+1 at position i).
func (m *fpeMeter) permuted(rad []byte) {
	n := 1.0
	for _, r := range rad {
		n *= float64(r) + 1
	}
	m.odds /= n
	m.calls++
}

// meterKey is the key a meter's transformer is built with: it never
// encrypts, and no decision the transformers take depends on the key.
var meterKey = Key{set: true}

// NewFixedPointMeter returns a meter for the transformer spec describes.
// It fails as New does for a spec New refuses.
func NewFixedPointMeter(spec Spec) (*FixedPointMeter, error) {
	m := &fpeMeter{}
	t, err := newTransformer(spec, meterKey, m)
	if err != nil {
		return nil, err
	}
	return &FixedPointMeter{t: t, m: m, known: fpeTransformers[spec.Transformer]}, nil
}

// FixedPointOdds returns the probability that the transformer maps value
// to itself by chance: 1/N for a value permuted (or hashed) among N
// values. It is 0 when no keyed permutation decides the output, so that an
// unchanged value is never explained by chance: a transformer that is not
// format-preserving encryption (its outputs are drawn from spaces too
// large to matter), or a value it refuses as invalid or keeps as it is.
func (m *FixedPointMeter) FixedPointOdds(value []byte) float64 {
	if !m.known || (len(value) == 0 && m.t.passEmpty) {
		return 0
	}
	m.m.odds, m.m.calls = 1, 0
	out, err := m.t.body(m.buf[:0], value)
	m.buf = out[:0]
	if err != nil || m.m.calls == 0 {
		return 0
	}
	return m.m.odds
}

// Metered is a transformer that also measures, as it masks a value, what a
// [FixedPointMeter] measures of it: the odds that masking left the value
// unchanged by chance. The leak check takes them from the masking itself
// instead of parsing every value a second time. Its outputs are those of
// [New] for the same spec and key. It is not safe for concurrent use: make
// one per goroutine.
type Metered struct {
	*transformer
	m     *fpeMeter
	known bool
	odds  float64
}

// NewMetered returns the transformer of spec under key, metered. It fails
// as [New] does.
func NewMetered(spec Spec, key Key) (*Metered, error) {
	m := &fpeMeter{alongside: true}
	t, err := newTransformer(spec, key, m)
	if err != nil {
		return nil, err
	}
	return &Metered{transformer: t, m: m, known: fpeTransformers[spec.Transformer]}, nil
}

// Transform masks src as the unmetered transformer does and records the
// odds [Metered.FixedPointOdds] returns.
func (t *Metered) Transform(dst, src []byte) ([]byte, error) {
	t.m.odds, t.m.calls = 1, 0
	out, masked, err := t.transform(dst, src)
	t.odds = 0
	if t.known && masked && t.m.calls > 0 {
		t.odds = t.m.odds
	}
	return out, err
}

// FixedPointOdds is what [FixedPointMeter.FixedPointOdds] returns for the
// value the last Transform masked: 0 after a value it refused, replaced
// (on_invalid) or passed through.
func (t *Metered) FixedPointOdds() float64 { return t.odds }
