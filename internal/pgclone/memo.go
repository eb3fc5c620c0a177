package pgclone

import (
	"bytes"
	"hash/maphash"
	"sync/atomic"
	"unsafe"

	"github.com/stagingkit/terraform-provider-staging/internal/masking"
)

// Production columns repeat their values: first names, streets, postal
// codes, a customer's name on each of their payments. Masking is
// deterministic, so a COPY stream remembers the masked forms of a column's
// recent values and masks a repeated value once. The memo is 8-way set
// associative (a value's hash picks a set of memoWays slots; a new value
// evicts the set's least recently used one), bounded (memoSlots values of
// at most memoMaxLen bytes, masked to at most memoMaxOut, per column and
// stream, and memoBudget bytes for all the memos of a clone at once), and
// turns itself off on a column whose values do not repeat, where it would
// only cost a hash per value.
const (
	memoWays   = 8
	memoSlots  = 128 * memoWays
	memoMaxLen = 64
	memoMaxOut = 128 // an e-mail may grow; redact may write anything
	// memoTrial values are looked up before the memo judges its hit rate;
	// it stays on with at least memoMinHits of them found.
	memoTrial   = 4096
	memoMinHits = memoTrial / 8
	// memoBytes is the most one memo holds: its slots and their values.
	memoBytes = memoSlots * (int64(unsafe.Sizeof(memoSlot{})) + memoMaxLen + memoMaxOut)
	// memoBudget is the memory all the memos of one clone hold at once:
	// a memo that finds no room left stays off.
	memoBudget = 16 << 20
)

// memo is one column's memo in one COPY stream; not safe for concurrent
// use. Its slots are allocated when it first remembers a value.
type memo struct {
	budget        *atomic.Int64 // bytes left to all memos of the clone
	seed          maphash.Seed
	slots         []memoSlot
	lookups, hits int
	off           bool
}

type memoSlot struct {
	hash    uint64 // of in
	in, out []byte
	outNull bool
	odds    float64 // the value's odds of being left unchanged by chance
	used    int     // the lookup that last used it; 0: empty
}

// newMemo returns a memo drawing on budget.
func newMemo(budget *atomic.Int64) *memo { return &memo{budget: budget, seed: maphash.MakeSeed()} }

// slot returns val's slot, val's hash, and whether the slot holds val; a
// nil slot when the memo is off or val is too long to remember.
func (m *memo) slot(val []byte) (*memoSlot, uint64, bool) {
	if m == nil || m.off {
		return nil, 0, false
	}
	if m.lookups >= memoTrial && m.hits < memoMinHits {
		m.release()
		return nil, 0, false
	}
	m.lookups++
	if len(val) > memoMaxLen {
		return nil, 0, false // a miss
	}
	if m.slots == nil {
		if m.budget.Add(-memoBytes) < 0 {
			m.budget.Add(memoBytes)
			m.off = true
			return nil, 0, false
		}
		m.slots = make([]memoSlot, memoSlots)
	}
	h := maphash.Bytes(m.seed, val)
	set := m.slots[h%(memoSlots/memoWays)*memoWays:][:memoWays]
	lru := &set[0]
	for i := range set {
		s := &set[i]
		if s.used > 0 && s.hash == h && bytes.Equal(s.in, val) {
			m.hits++
			s.used = m.lookups
			return s, h, true
		}
		if s.used < lru.used {
			lru = s
		}
	}
	return lru, h, false
}

// release turns the memo off and gives its memory back to the budget.
func (m *memo) release() {
	if m == nil {
		return
	}
	if m.slots != nil {
		m.slots = nil
		m.budget.Add(memoBytes)
	}
	m.off = true
}

// apply masks one value of the column as masking.Apply does, through the
// memo, and returns with it the value's odds of being left unchanged by
// chance when the column is leak-checked (0 otherwise).
func (cm *columnMask) apply(dst, val []byte, isNull bool) (out []byte, outNull bool, odds float64, err error) {
	if isNull {
		out, outNull, err = masking.Apply(cm.t, dst, val, true)
		return out, outNull, 0, err
	}
	s, h, hit := cm.memo.slot(val)
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
		} else if cm.meter != nil {
			odds = cm.meter.FixedPointOdds(val)
		}
	}
	if s != nil && len(out)-len(dst) <= memoMaxOut {
		s.in = append(s.in[:0], val...)
		s.out = append(s.out[:0], out[len(dst):]...)
		s.hash, s.outNull, s.odds, s.used = h, outNull, odds, cm.memo.lookups
	}
	return out, outNull, odds, nil
}
