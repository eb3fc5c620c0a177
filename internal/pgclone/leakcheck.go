package pgclone

import (
	"bufio"
	"bytes"
	"container/heap"
	"encoding/binary"
	"errors"
	"fmt"
	"hash/maphash"
	"io"
	"math"
	"os"
	"slices"
	"sync"

	"github.com/stagingkit/terraform-provider-staging/internal/masking"
)

// The leak check compares, for every masked identifier column, 64-bit
// hashes of the production values with hashes of the masked ones: a
// masked value equal to its own production value is a leak unless chance
// explains it, one equal to another row's production value is a
// coincidence (counted and reported). It stays exact in bounded memory:
// all the collectors of a clone (one per column and COPY stream while the
// copy runs, one per column after it) share one budget, leakMemory, and
// when a collector needs more than is left, the largest in-memory set is
// written to a temporary file as a sorted run; the check merge-joins the
// sorted production runs against the sorted masked runs.

// defaultLeakBudget is how many bytes of hashes all the leak-check
// collectors of one clone keep in memory together.
const defaultLeakBudget = 96 << 20

// leakConfidence is the probability that a keyed permutation, by chance
// alone, leaves more values unchanged than the tolerance allows: the leak
// check's false-alarm rate per column.
const leakConfidence = 1e-9

// leakMemory is the in-memory budget the leak-check collectors of one
// clone share: each reserves the capacity of its buffers here before it
// allocates it, and a reservation beyond the budget first spills the
// largest in-memory set: another collector's, which then frees its
// buffers, or the requester's own, which then reuses them. used never
// exceeds limit.
//
// Locking: mu before any collector's mu. A collector's mu alone guards
// its buffers while it adds a value; anything that reserves, releases or
// touches two collectors holds mu first.
type leakMemory struct {
	limit  int    // bytes
	dir    string // where runs go ("": os.TempDir())
	mu     sync.Mutex
	used   int
	peak   int                      // the most used at once
	holds  map[*leakHashes]struct{} // collectors with reserved memory
	spills int                      // sorted runs written (pairs)
}

// newLeakMemory returns a budget of limit bytes (0: defaultLeakBudget)
// spilling into dir.
func newLeakMemory(limit int, dir string) *leakMemory {
	if limit <= 0 {
		limit = defaultLeakBudget
	}
	return &leakMemory{limit: limit, dir: dir, holds: map[*leakHashes]struct{}{}}
}

// collector returns a new collector on this budget.
func (b *leakMemory) collector() *leakHashes {
	return &leakHashes{mem: b}
}

// maxValues is how many values one collector keeps in memory at most.
func (b *leakMemory) maxValues() int {
	return max(b.limit/16, 1)
}

// reserve makes room for delta more bytes of l's buffers (b.mu and l.mu
// held; skip, when not nil, is locked by the caller and left alone): it
// spills the sets holding the most memory until the reservation fits. It
// returns false when that was l's own: l's buffers are then empty, keep
// their capacity, and need no more.
func (b *leakMemory) reserve(l *leakHashes, delta int, skip *leakHashes) (bool, error) {
	for b.used+delta > b.limit {
		var victim *leakHashes
		for o := range b.holds {
			if o != l && o != skip && (victim == nil || o.held > victim.held) {
				victim = o
			}
		}
		if victim == nil || (victim.held <= l.held && len(l.prod) > 0) {
			if len(l.prod) == 0 {
				break // unreachable while a collector's share is at most limit
			}
			b.spills++
			return false, l.spill()
		}
		victim.mu.Lock()
		var err error
		if len(victim.prod) > 0 {
			b.spills++
			err = victim.spill()
		}
		b.releaseLocked(victim)
		victim.prod, victim.masked = nil, nil
		victim.mu.Unlock()
		if err != nil {
			return false, err
		}
	}
	b.used += delta
	b.peak = max(b.peak, b.used)
	l.held += delta
	b.holds[l] = struct{}{}
	return true, nil
}

// releaseLocked returns l's reservation (b.mu and l.mu held); the caller
// drops its buffers.
func (b *leakMemory) releaseLocked(l *leakHashes) {
	b.used -= l.held
	l.held = 0
	delete(b.holds, l)
}

// leakHashes collects hashes of one column's production and masked values,
// and counts the values masking left unchanged.
type leakHashes struct {
	mem *leakMemory
	// mu guards the buffers: the budget may spill them from another
	// collector's goroutine.
	mu           sync.Mutex
	prod, masked []uint64 // in memory, unsorted
	held         int      // bytes reserved in mem for prod's and masked's capacity
	unchanged    int      // rows whose value masking left unchanged
	// fixed holds the production hashes of the distinct values masking
	// left unchanged: a keyed permutation fixes values, not rows, so a
	// value repeated on many rows is one chance fixed point (up to
	// maxFixed of them; fixedBeyond counts the rows past that as distinct).
	fixed       map[uint64]struct{}
	fixedBeyond int
	total       int // values added, in memory or spilled
	// expected is how many of the values added a keyed permutation is
	// expected to leave unchanged by chance: the sum over the values of
	// 1/N, N the size of the domain the value is permuted in (see
	// masking.FixedPointMeter and columnMask.apply).
	expected        float64
	prodRuns, mRuns []string // sorted runs on disk
}

// leakTestHook, when a test sets it, wraps the transformer of every
// leak-checked column, so that a test can make masking leave chosen values
// as they were.
var leakTestHook func(masking.Transformer) masking.Transformer

// add records one non-empty production value and its masked form: their
// hashes under seed, whether masking left the value unchanged, and the
// value's odds of being unchanged by chance (see columnMask.apply).
func (l *leakHashes) add(seed maphash.Seed, val, out []byte, odds float64) error {
	return l.addHashes(maphash.Bytes(seed, val), maphash.Bytes(seed, out), bytes.Equal(val, out), odds)
}

// addHashes records one value by its hashes; odds is its chance of being
// unchanged.
func (l *leakHashes) addHashes(prod, masked uint64, unchanged bool, odds float64) error {
	l.mu.Lock()
	for len(l.prod) == cap(l.prod) {
		l.mu.Unlock()
		if err := l.grow(); err != nil {
			return err
		}
		l.mu.Lock()
	}
	l.prod = append(l.prod, prod)
	l.masked = append(l.masked, masked)
	l.total++
	l.expected += odds
	if unchanged {
		l.unchanged++
		l.addFixed(prod)
	}
	l.mu.Unlock()
	return nil
}

// maxFixed bounds the distinct unchanged values a collector remembers:
// far more than any tolerance (which stays below a few thousand for a
// billion values in domains of at least 10^6).
const maxFixed = 1 << 20

// addFixed records that the value hashed prod was left unchanged.
func (l *leakHashes) addFixed(prod uint64) {
	if _, ok := l.fixed[prod]; ok {
		return
	}
	if len(l.fixed) >= maxFixed {
		l.fixedBeyond++
		return
	}
	if l.fixed == nil {
		l.fixed = map[uint64]struct{}{}
	}
	l.fixed[prod] = struct{}{}
}

// fixedValues is how many distinct values masking left unchanged.
func (l *leakHashes) fixedValues() int { return len(l.fixed) + l.fixedBeyond }

// grow makes room in l's full buffers: it doubles them (from 1,024 values
// up to the whole budget) with a reservation, or spills them when they
// hold the whole budget already or are the largest set.
func (l *leakHashes) grow() error {
	b := l.mem
	if b == nil { // a collector outside any clone (tests): no budget
		l.mu.Lock()
		defer l.mu.Unlock()
		l.prod = slices.Grow(l.prod, max(cap(l.prod), 1024))
		l.masked = slices.Grow(l.masked, max(cap(l.masked), 1024))
		return nil
	}
	b.mu.Lock()
	defer b.mu.Unlock()
	l.mu.Lock()
	defer l.mu.Unlock()
	if len(l.prod) < cap(l.prod) {
		return nil
	}
	c := min(max(2*cap(l.prod), 1024), b.maxValues())
	if c <= cap(l.prod) {
		b.spills++
		return l.spill()
	}
	ok, err := b.reserve(l, 16*(c-cap(l.prod)), nil)
	if ok {
		l.prod = slices.Grow(l.prod, c-len(l.prod))
		l.masked = slices.Grow(l.masked, c-len(l.masked))
	}
	return err
}

// spill writes the in-memory hashes as two sorted runs and empties the
// buffers, keeping their capacity (l.mu held).
func (l *leakHashes) spill() error {
	if len(l.prod) > 0 {
		name, err := writeRun(l.mem.dir, l.prod)
		if err != nil {
			return err
		}
		l.prodRuns = append(l.prodRuns, name)
	}
	if len(l.masked) > 0 {
		name, err := writeRun(l.mem.dir, l.masked)
		if err != nil {
			return err
		}
		l.mRuns = append(l.mRuns, name)
	}
	l.prod, l.masked = l.prod[:0], l.masked[:0]
	return nil
}

// absorb moves o's hashes and runs into l (the collector of a table
// tree's column), within their shared budget: o's buffers become l's when
// l has none in use, are copied when l has room or can reserve it, and
// are spilled from where they are otherwise.
func (l *leakHashes) absorb(o *leakHashes) error {
	b := l.mem
	b.mu.Lock()
	defer b.mu.Unlock()
	l.mu.Lock()
	defer l.mu.Unlock()
	o.mu.Lock()
	defer o.mu.Unlock()
	switch {
	case len(o.prod) == 0:
	case len(l.prod) == 0:
		// Take o's buffers and their reservation as they are.
		b.releaseLocked(l)
		l.prod, l.masked, l.held = o.prod, o.masked, o.held
		o.prod, o.masked, o.held = nil, nil, 0
		delete(b.holds, o)
		if l.held > 0 {
			b.holds[l] = struct{}{}
		}
	default:
		need := len(l.prod) + len(o.prod)
		if need > cap(l.prod) && need <= b.maxValues() {
			ok, err := b.reserve(l, 16*(need-cap(l.prod)), o)
			if err != nil {
				return err
			}
			if ok {
				l.prod = slices.Grow(l.prod, need-len(l.prod))
				l.masked = slices.Grow(l.masked, need-len(l.masked))
			}
		}
		if len(l.prod)+len(o.prod) > cap(l.prod) {
			b.spills++
			if err := o.spill(); err != nil {
				return err
			}
			break
		}
		l.prod = append(l.prod, o.prod...)
		l.masked = append(l.masked, o.masked...)
	}
	b.releaseLocked(o)
	o.prod, o.masked = nil, nil
	l.prodRuns = append(l.prodRuns, o.prodRuns...)
	l.mRuns = append(l.mRuns, o.mRuns...)
	l.unchanged += o.unchanged
	for h := range o.fixed {
		l.addFixed(h)
	}
	l.fixedBeyond += o.fixedBeyond
	o.fixed = nil
	l.total += o.total
	l.expected += o.expected
	o.prodRuns, o.mRuns = nil, nil
	return nil
}

// writeRun sorts hs and writes it to a new temporary file.
func writeRun(dir string, hs []uint64) (string, error) {
	slices.Sort(hs)
	f, err := os.CreateTemp(dir, "leak-*.run")
	if err != nil {
		return "", fmt.Errorf("pgclone: leak check: spilling hashes: %w", err)
	}
	w := bufio.NewWriterSize(f, 64<<10)
	for _, h := range hs {
		if w.Available() < 8 {
			if err := w.Flush(); err != nil {
				break
			}
		}
		_, _ = w.Write(binary.LittleEndian.AppendUint64(w.AvailableBuffer(), h))
	}
	err = errors.Join(w.Flush(), f.Close())
	if err != nil {
		_ = os.Remove(f.Name())
		return "", fmt.Errorf("pgclone: leak check: spilling hashes: %w", err)
	}
	return f.Name(), nil
}

// remove deletes l's runs.
func (l *leakHashes) remove() {
	for _, name := range slices.Concat(l.prodRuns, l.mRuns) {
		_ = os.Remove(name)
	}
	l.prodRuns, l.mRuns = nil, nil
}

// matches counts the masked hashes found among the production hashes
// (each masked hash once per occurrence), merging the sorted runs and the
// sorted in-memory rest.
func (l *leakHashes) matches() (int, error) {
	prod, err := openMerge(l.prodRuns, l.prod)
	if err != nil {
		return 0, err
	}
	defer prod.close()
	masked, err := openMerge(l.mRuns, l.masked)
	if err != nil {
		return 0, err
	}
	defer masked.close()
	n := 0
	p, pok := prod.next()
	for m, mok := masked.next(); mok; m, mok = masked.next() {
		for pok && p < m {
			p, pok = prod.next()
		}
		if !pok {
			break
		}
		if p == m {
			n++
		}
	}
	return n, errors.Join(prod.err, masked.err)
}

// runSource is one sorted input of a merge: a file read in blocks of
// runBlock hashes, or a slice.
type runSource struct {
	f     *os.File
	buf   []byte
	block []uint64 // the file's block buffer
	mem   []uint64 // the slice, or what is left of the file's current block
	cur   uint64
}

// runBlock is how many hashes a merge reads from a run at once (32 KiB).
const runBlock = 4096

func (s *runSource) advance() (bool, error) {
	if len(s.mem) == 0 && s.f != nil {
		n, err := io.ReadFull(s.f, s.buf)
		if err != nil && err != io.ErrUnexpectedEOF && err != io.EOF {
			return false, fmt.Errorf("pgclone: leak check: reading spilled hashes: %w", err)
		}
		if n%8 != 0 {
			return false, errors.New("pgclone: leak check: a spilled run was truncated")
		}
		s.mem = s.block[:0]
		for i := 0; i < n; i += 8 {
			s.mem = append(s.mem, binary.LittleEndian.Uint64(s.buf[i:]))
		}
	}
	if len(s.mem) == 0 {
		return false, nil
	}
	s.cur, s.mem = s.mem[0], s.mem[1:]
	return true, nil
}

// mergeHeap is a k-way merge of sorted sources, smallest current first.
type mergeHeap struct {
	srcs []*runSource
	err  error
}

func (h *mergeHeap) Len() int           { return len(h.srcs) }
func (h *mergeHeap) Less(i, j int) bool { return h.srcs[i].cur < h.srcs[j].cur }
func (h *mergeHeap) Swap(i, j int)      { h.srcs[i], h.srcs[j] = h.srcs[j], h.srcs[i] }
func (h *mergeHeap) Push(x any)         { h.srcs = append(h.srcs, x.(*runSource)) }
func (h *mergeHeap) Pop() any {
	s := h.srcs[len(h.srcs)-1]
	h.srcs = h.srcs[:len(h.srcs)-1]
	return s
}

func openMerge(runs []string, mem []uint64) (*mergeHeap, error) {
	h := &mergeHeap{}
	all := make([]*runSource, 0, len(runs)+1)
	for _, name := range runs {
		f, err := os.Open(name)
		if err != nil {
			for _, s := range all {
				_ = s.f.Close()
			}
			return nil, fmt.Errorf("pgclone: leak check: reading spilled hashes: %w", err)
		}
		all = append(all, &runSource{f: f, buf: make([]byte, 8*runBlock), block: make([]uint64, 0, runBlock)})
	}
	slices.Sort(mem)
	all = append(all, &runSource{mem: mem})
	for _, s := range all {
		ok, err := s.advance()
		if err != nil {
			h.srcs = all
			h.close()
			return nil, err
		}
		if ok {
			h.srcs = append(h.srcs, s)
		} else if s.f != nil {
			_ = s.f.Close()
		}
	}
	heap.Init(h)
	return h, nil
}

// next returns the smallest remaining hash.
func (h *mergeHeap) next() (uint64, bool) {
	if len(h.srcs) == 0 || h.err != nil {
		return 0, false
	}
	s := h.srcs[0]
	v := s.cur
	ok, err := s.advance()
	switch {
	case err != nil:
		h.err = err
	case ok:
		heap.Fix(h, 0)
	default:
		if s.f != nil {
			_ = s.f.Close()
		}
		heap.Pop(h)
	}
	return v, true
}

func (h *mergeHeap) close() {
	for _, s := range h.srcs {
		if s.f != nil {
			_ = s.f.Close()
		}
	}
	h.srcs = nil
}

// unchangedTolerance is how many values a keyed permutation may leave
// unchanged by chance when lambda are expected to be: the number of such
// fixed points is (very nearly) Poisson with mean lambda, the sum of 1/N
// over the values, and the tolerance is the smallest k it exceeds with
// probability below leakConfidence. It is 0 while P(X > 0) = 1 - e^-λ is
// below leakConfidence (λ < 1e-9): always for e-mails, whose local parts
// are permuted among 26^k values and more.
func unchangedTolerance(lambda float64) int {
	if lambda <= 0 || -math.Expm1(-lambda) < leakConfidence { // P(X > 0)
		return 0
	}
	// cdf(k) summed in log space: e^-λ underflows for large λ.
	cdf := 0.0
	for k := 0; ; k++ {
		lg, _ := math.Lgamma(float64(k + 1))
		cdf += math.Exp(-lambda + float64(k)*math.Log(lambda) - lg)
		if 1-cdf < leakConfidence || float64(k) > lambda+40*math.Sqrt(lambda)+60 {
			return k
		}
	}
}

// leakCheck fails when masking left the production value of a masked
// identifier column unchanged more often than chance explains for the
// domains its values were permuted in (see unchangedTolerance), and counts masked values that
// equal another row's production value (over all partitions of a table)
// as coincidental matches. It removes the spilled runs.
func (c *cloner) leakCheck() error {
	var leaks []Leak
	c.coincidental = map[string]int{}
	defer func() {
		for _, l := range c.leaks {
			l.remove()
		}
		c.leaks = nil
	}()
	for _, key := range sortedStringKeys(c.leaks) {
		l := c.leaks[key]
		n, err := l.matches()
		if err != nil {
			return err
		}
		// Distinct values against the chance fixed points: λ sums the
		// odds over rows, at least their sum over distinct values, so a
		// repeated value never makes the tolerance stricter.
		if l.fixedValues() > unchangedTolerance(l.expected) {
			leaks = append(leaks, Leak{Column: key, Count: l.unchanged, Total: l.total})
			n -= l.unchanged
		}
		if n > 0 {
			c.coincidental[key] = n
		}
	}
	if len(leaks) > 0 {
		return &LeakError{Leaks: leaks}
	}
	return nil
}
