package pgclone

import (
	"bytes"
	"hash/maphash"

	"github.com/stagingkit/terraform-provider-staging/internal/masking"
)

// Production columns repeat their values: first names, streets, postal
// codes, a customer's name on each of their payments. Masking is
// deterministic, so a COPY stream remembers the masked forms of a column's
// recent values and masks a repeated value once. The memo is 8-way set
// associative (a value's hash picks a set of memoWays slots; a new value
// evicts the set's least recently used one), bounded (memoSlots values of
// at most memoMaxLen bytes per column and stream), and turns itself off on
// a column whose values do not repeat, where it would only cost a hash per
// value.
const (
	memoWays   = 8
	memoSlots  = 128 * memoWays
	memoMaxLen = 64
	// memoTrial values are looked up before the memo judges its hit rate;
	// it stays on with at least memoMinHits of them found.
	memoTrial   = 4096
	memoMinHits = memoTrial / 8
)

// memo is one column's memo in one COPY stream; not safe for concurrent
// use.
type memo struct {
	seed          maphash.Seed
	slots         []memoSlot
	lookups, hits int
	off           bool
	last          uint64 // the hash of the value last missed
}

type memoSlot struct {
	hash    uint64 // of in
	in, out []byte
	outNull bool
	odds    float64 // the value's odds of being left unchanged by chance
	used    int     // the lookup that last used it; 0: empty
}

func newMemo() *memo { return &memo{seed: maphash.MakeSeed(), slots: make([]memoSlot, memoSlots)} }

// slot returns val's slot, and whether it holds val; nil when the memo is
// off or val is too long to remember.
func (m *memo) slot(val []byte) (*memoSlot, bool) {
	if m == nil || m.off || len(val) > memoMaxLen {
		return nil, false
	}
	m.lookups++
	h := maphash.Bytes(m.seed, val)
	set := m.slots[h%(memoSlots/memoWays)*memoWays:][:memoWays]
	lru := &set[0]
	for i := range set {
		s := &set[i]
		if s.used > 0 && s.hash == h && bytes.Equal(s.in, val) {
			m.hits++
			s.used = m.lookups
			return s, true
		}
		if s.used < lru.used {
			lru = s
		}
	}
	if m.lookups == memoTrial && m.hits < memoMinHits {
		m.off, m.slots = true, nil
		return nil, false
	}
	m.last = h
	return lru, false
}

// apply masks one value of the column as masking.Apply does, through the
// memo, and returns with it the value's odds of being left unchanged by
// chance when the column is leak-checked (0 otherwise).
func (cm *columnMask) apply(dst, val []byte, isNull bool) (out []byte, outNull bool, odds float64, err error) {
	if isNull {
		out, outNull, err = masking.Apply(cm.t, dst, val, true)
		return out, outNull, 0, err
	}
	s, hit := cm.memo.slot(val)
	if hit {
		return append(dst, s.out...), s.outNull, s.odds, nil
	}
	out, outNull, err = masking.Apply(cm.t, dst, val, false)
	if err != nil {
		return out, outNull, 0, err
	}
	if cm.leak != nil && len(val) > 0 && !outNull {
		if cm.metered != nil {
			odds = cm.metered.FixedPointOdds()
		} else if cm.leak.meter != nil {
			odds = cm.leak.meter.FixedPointOdds(val)
		}
	}
	if s != nil {
		s.in = append(s.in[:0], val...)
		s.out = append(s.out[:0], out[len(dst):]...)
		s.hash, s.outNull, s.odds, s.used = cm.memo.last, outNull, odds, cm.memo.lookups
	}
	return out, outNull, odds, nil
}
