package masking

import (
	"crypto/cipher"
	"encoding/binary"
	"math/big"
	"math/bits"
	"sync"
	"sync/atomic"
)

// This file implements FF1, the format-preserving encryption mode of NIST
// SP 800-38G (Dworkin, "Recommendation for Block Cipher Modes of Operation:
// Methods for Format-Preserving Encryption", March 2016, section 5.1), with
// AES as CIPH. It is checked against NIST's published FF1 samples 1-9 in
// ff1_test.go.
//
// FF1 only ever uses the halves A and B of the numeral string through their
// values NUM_radix(A) and NUM_radix(B), so the implementation converts the
// two halves to integers once, runs the ten rounds on integers and converts
// back once. When radix^ceil(n/2) fits in 64 bits (every 16-digit decimal
// string, every radix-2 string up to 126 numerals) the rounds use uint64
// arithmetic and no allocation; longer strings use math/big.

// ff1Rounds is the number of Feistel rounds FF1 prescribes.
const ff1Rounds = 10

// ff1MinDomain is the smallest radix^minlen SP 800-38G (as revised in
// 2019, and FF1's original minlen bound for radix 10) accepts: a
// permutation of fewer than a million values is open to enumeration.
const ff1MinDomain = 1_000_000

// ff1ScratchLen is the scratch space ff1's fast path needs: the CBC state
// and Q (a tweak of up to 32 bytes, padding, the round byte and up to 8
// bytes of NUM(B)), with 16 bytes to spare that earlier layouts used.
const ff1ScratchLen = 16 + 16 + 64

// ff1 is FF1 keyed with one AES key.
type ff1 struct {
	b cipher.Block
	// cache, when set, keeps the parameters and CIPH(P) of each (radix,
	// length, tweak length) seen, so that a value costs one AES block
	// less and no division to set up.
	cache *ff1Cache
}

// ff1CacheSlots is the size of ff1Cache's direct-mapped front: a
// transformer meets a handful of (radix, length, tweak length) triples.
const ff1CacheSlots = 64

// ff1Cache maps radix<<40 | n<<8 | tweak length to ff1Params: a
// direct-mapped array of the last parameters used in each slot, checked
// without a lock or a hash of an interface, in front of a sync.Map that
// holds them all. Entries are never modified once published.
type ff1Cache struct {
	slots [ff1CacheSlots]atomic.Pointer[ff1Params]
	m     sync.Map
}

// params returns the FF1 parameters for radix and n with CIPH(P) for a
// tweak of tlen bytes filled in when a cache is set. The result is shared:
// callers must not modify it.
func (f ff1) params(radix uint64, n, tlen int) *ff1Params {
	if f.cache == nil || radix > 1<<16 || tlen > 255 || n >= 1<<32 {
		p := newFF1Params(radix, n)
		return &p
	}
	key := radix<<40 | uint64(n)<<8 | uint64(tlen)
	slot := &f.cache.slots[(key*0x9e3779b97f4a7c15)>>(64-6)]
	if p := slot.Load(); p != nil && p.key == key {
		return p
	}
	if v, ok := f.cache.m.Load(key); ok {
		p := v.(*ff1Params)
		slot.Store(p)
		return p
	}
	p := newFF1Params(radix, n)
	p.key = key
	p.pBlock(p.cp[:], tlen)
	f.b.Encrypt(p.cp[:], p.cp[:])
	p.cpSet = true
	f.cache.m.Store(key, &p)
	slot.Store(&p)
	return &p
}

// ff1Params are the values FF1 derives from radix and n.
type ff1Params struct {
	radix      uint64
	n, u, v    int
	b, d       int
	powU, powV uint64 // radix^u, radix^v (fast path only)
	invU, invV uint64 // floor((2^64-1) / pow), for Barrett reduction
	fast       bool
	cp         [16]byte // CIPH(P), when cpSet (for one tweak length)
	cpSet      bool
	key        uint64 // the cache key, when cached
}

// pow64 returns r^e and whether it fits in a uint64. 2^64 itself is
// returned as 0, which the fast path treats as arithmetic modulo 2^64 (a
// 16-byte IPv6 address is FF1 in radix 256 with halves of 64 bits).
func pow64(r uint64, e int) (uint64, bool) {
	if r&(r-1) == 0 && e*bits.TrailingZeros64(r) == 64 {
		return 0, true
	}
	p := uint64(1)
	for range e {
		hi, lo := bits.Mul64(p, r)
		if hi != 0 {
			return 0, false
		}
		p = lo
	}
	return p, true
}

func newFF1Params(radix uint64, n int) ff1Params {
	p := ff1Params{radix: radix, n: n, u: n / 2, v: n - n/2}
	var ok1, ok2 bool
	p.powU, ok1 = pow64(radix, p.u)
	p.powV, ok2 = pow64(radix, p.v)
	p.fast = ok1 && ok2
	if p.fast {
		p.invU, p.invV = barrettInv(p.powU), barrettInv(p.powV)
	}
	// b = ceil(ceil(v*log2(radix))/8); ceil(v*log2(radix)) is the bit length
	// of radix^v - 1 (exactly, for powers of two as for other radices).
	var vbits int
	if p.fast {
		vbits = bits.Len64(p.powV - 1)
	} else {
		pv := new(big.Int).Exp(new(big.Int).SetUint64(radix), big.NewInt(int64(p.v)), nil)
		vbits = pv.Sub(pv, big.NewInt(1)).BitLen()
	}
	p.b = (vbits + 7) / 8
	p.d = 4*((p.b+3)/4) + 4
	return p
}

// pBlock writes FF1's P block for these parameters and a tweak of t bytes.
func (p *ff1Params) pBlock(out []byte, t int) {
	out[0], out[1], out[2] = 1, 2, 1
	out[3], out[4], out[5] = byte(p.radix>>16), byte(p.radix>>8), byte(p.radix)
	out[6] = 10
	out[7] = byte(p.u)
	binary.BigEndian.PutUint32(out[8:], uint32(p.n))
	binary.BigEndian.PutUint32(out[12:], uint32(t))
}

// qLen is the length of FF1's Q for a tweak of t bytes.
func (p *ff1Params) qLen(t int) int {
	pad := ((-t-p.b-1)%16 + 16) % 16
	return t + pad + 1 + p.b
}

// prf computes R = PRF(P || Q) (CBC-MAC with a zero IV) into x, given
// x = CIPH(P) on entry, and returns it.
func (f ff1) prf(x, q []byte) {
	for len(q) >= 16 {
		binary.LittleEndian.PutUint64(x[0:], binary.LittleEndian.Uint64(x[0:])^binary.LittleEndian.Uint64(q[0:]))
		binary.LittleEndian.PutUint64(x[8:], binary.LittleEndian.Uint64(x[8:])^binary.LittleEndian.Uint64(q[8:]))
		f.b.Encrypt(x[:16], x[:16])
		q = q[16:]
	}
}

// fastOK reports whether encryptFast can handle the parameters and tweak.
func (p *ff1Params) fastOK(tweak []byte) bool {
	return p.fast && 16+16+p.qLen(len(tweak)) <= ff1ScratchLen
}

// ff1Round is the state of the fast path's rounds for one call: every
// round's PRF input P || Q differs only in the round number and NUM(B),
// which sit in Q's last block when NUM(B) has at most 8 bytes, so the CBC
// chain through P and the blocks before it is the same for the ten rounds.
// w0, w1 hold that chaining value XORed with the constant bytes of Q's
// last block (the tail of the tweak, the padding), as big-endian words; a
// round XORs in its round number and NUM(B) and encrypts one block.
type ff1Round struct {
	w0, w1 uint64
	blk    []byte // 16 bytes of scratch for the block
}

// start computes the rounds' state for a tweak (qLen(len(tweak)) bytes of
// Q, of which all but the last block are constant) from CIPH(P).
func (f ff1) start(p *ff1Params, scratch, tweak []byte) ff1Round {
	x := scratch[0:16]
	if p.cpSet {
		copy(x, p.cp[:])
	} else {
		p.pBlock(x, len(tweak))
		f.b.Encrypt(x, x)
	}
	q := scratch[16 : 16+p.qLen(len(tweak))]
	copy(q, tweak)
	clear(q[len(tweak):])
	f.prf(x, q[:len(q)-16])
	last := q[len(q)-16:]
	return ff1Round{
		w0:  binary.BigEndian.Uint64(x[0:]) ^ binary.BigEndian.Uint64(last[0:]),
		w1:  binary.BigEndian.Uint64(x[8:]) ^ binary.BigEndian.Uint64(last[8:]),
		blk: x,
	}
}

// round runs FF1 round i's PRF on NUM(B) = bnum and returns
// y mod radix^m, where m is the length of the half being replaced.
func (f ff1) round(p *ff1Params, r *ff1Round, i int, bnum, powM, inv uint64) uint64 {
	w0, w1 := r.w0, r.w1
	if p.b == 8 {
		w0 ^= uint64(i)
		w1 ^= bnum
	} else {
		w1 ^= uint64(i)<<(8*p.b) | bnum
	}
	blk := r.blk[:16]
	binary.BigEndian.PutUint64(blk[0:], w0)
	binary.BigEndian.PutUint64(blk[8:], w1)
	f.b.Encrypt(blk, blk)
	// y = NUM(S) with S the first d <= 12 bytes of R.
	var hi, lo uint64
	switch p.d {
	case 4:
		lo = uint64(binary.BigEndian.Uint32(blk))
	case 8:
		lo = binary.BigEndian.Uint64(blk)
	default: // 12
		hi, lo = uint64(binary.BigEndian.Uint32(blk)), binary.BigEndian.Uint64(blk[4:])
	}
	if powM&(powM-1) == 0 { // a power of two (0 stands for 2^64): radix 2, 4, 16, 256
		return lo & (powM - 1)
	}
	if hi == 0 {
		return mod64(lo, powM, inv)
	}
	return bits.Rem64(hi, lo, powM)
}

// barrettInv is the reciprocal mod64 uses: floor((2^64-1) / m), 0 for the
// modulus 0 (2^64).
func barrettInv(m uint64) uint64 {
	if m == 0 {
		return 0
	}
	return ^uint64(0) / m
}

// mod64 returns y mod m by Barrett reduction with inv = barrettInv(m): a
// multiplication instead of a division, which costs more than the AES
// block of an FF1 round on common CPUs.
func mod64(y, m, inv uint64) uint64 {
	q, _ := bits.Mul64(y, inv)
	r := y - q*m
	for r >= m {
		r -= m
	}
	return r
}

// addMod returns (a + b) mod m for a, b < m; m == 0 stands for 2^64.
func addMod(a, b, m uint64) uint64 {
	s, carry := bits.Add64(a, b, 0)
	if carry != 0 || s >= m {
		s -= m
	}
	return s
}

// encryptInts runs FF1.Encrypt on the halves' values (a = NUM(A), b =
// NUM(B)) on the fast path and returns the halves of the ciphertext.
func (f ff1) encryptInts(p *ff1Params, scratch, tweak []byte, a, b uint64) (uint64, uint64) {
	r := f.start(p, scratch, tweak)
	for i := 0; i < ff1Rounds; i += 2 {
		a = addMod(a, f.round(p, &r, i, b, p.powU, p.invU), p.powU)
		b = addMod(b, f.round(p, &r, i+1, a, p.powV, p.invV), p.powV)
	}
	return a, b
}

// decryptInts inverts encryptInts.
func (f ff1) decryptInts(p *ff1Params, scratch, tweak []byte, a, b uint64) (uint64, uint64) {
	r := f.start(p, scratch, tweak)
	for i := ff1Rounds - 1; i > 0; i -= 2 {
		b = subMod(b, f.round(p, &r, i, a, p.powV, p.invV), p.powV)
		a = subMod(a, f.round(p, &r, i-1, b, p.powU, p.invU), p.powU)
	}
	return a, b
}

// subMod returns (a - b) mod m for a, b < m; m == 0 stands for 2^64.
func subMod(a, b, m uint64) uint64 {
	if a < b {
		return a + (m - b)
	}
	return a - b
}

// numRadix returns NUM_radix(x) of numerals that fit in a uint64.
func numRadix(x []byte, radix uint64) uint64 {
	v := uint64(0)
	for _, c := range x {
		v = v*radix + uint64(c)
	}
	return v
}

// strRadix writes STR^len(x)_radix(v) into x.
func strRadix(x []byte, radix, v uint64) {
	if radix == 10 { // a division by a constant is a multiplication
		for i := len(x) - 1; i >= 0; i-- {
			x[i] = byte(v % 10)
			v /= 10
		}
		return
	}
	for i := len(x) - 1; i >= 0; i-- {
		x[i] = byte(v % radix)
		v /= radix
	}
}

// encrypt applies FF1.Encrypt(K, tweak, x) in place to the numeral string x
// (each numeral below radix, 2 <= radix <= 256, len(x) >= 2). scratch must
// hold ff1ScratchLen bytes.
func (f ff1) encrypt(x []byte, radix int, tweak, scratch []byte) {
	f.crypt(x, radix, tweak, scratch, false)
}

// decrypt is FF1.Decrypt, the inverse of encrypt. Masking never needs it;
// it shows that the masking is a keyed permutation (keyed pseudonymisation:
// whoever holds the key can invert it).
func (f ff1) decrypt(x []byte, radix int, tweak, scratch []byte) {
	f.crypt(x, radix, tweak, scratch, true)
}

func (f ff1) crypt(x []byte, radix int, tweak, scratch []byte, inverse bool) {
	p := f.params(uint64(radix), len(x), len(tweak))
	if !p.fastOK(tweak) {
		f.cryptBig(p, x, tweak, inverse)
		return
	}
	a, b := numRadix(x[:p.u], p.radix), numRadix(x[p.u:], p.radix)
	if inverse {
		a, b = f.decryptInts(p, scratch, tweak, a, b)
	} else {
		a, b = f.encryptInts(p, scratch, tweak, a, b)
	}
	strRadix(x[:p.u], p.radix, a)
	strRadix(x[p.u:], p.radix, b)
}

// cryptBig is FF1 with math/big, for strings whose halves exceed 64 bits.
func (f ff1) cryptBig(p *ff1Params, x []byte, tweak []byte, inverse bool) {
	radix := new(big.Int).SetUint64(p.radix)
	num := func(s []byte) *big.Int {
		v := new(big.Int)
		for _, c := range s {
			v.Mul(v, radix)
			v.Add(v, big.NewInt(int64(c)))
		}
		return v
	}
	powU := new(big.Int).Exp(radix, big.NewInt(int64(p.u)), nil)
	powV := new(big.Int).Exp(radix, big.NewInt(int64(p.v)), nil)
	a, b := num(x[:p.u]), num(x[p.u:])
	var pb [16]byte
	p.pBlock(pb[:], len(tweak))
	f.b.Encrypt(pb[:], pb[:])
	q := make([]byte, p.qLen(len(tweak)))
	sBuf := make([]byte, ((p.d+15)/16)*16)
	y := new(big.Int)
	round := func(i int, bn *big.Int, powM *big.Int) *big.Int {
		copy(q, tweak)
		clear(q[len(tweak):])
		q[len(q)-p.b-1] = byte(i)
		bn.FillBytes(q[len(q)-p.b:])
		var r [16]byte
		copy(r[:], pb[:])
		f.prf(r[:], q)
		// S = R || CIPH(R xor [1]^16) || CIPH(R xor [2]^16) ..., first d bytes.
		copy(sBuf, r[:])
		for j := 1; 16*j < p.d; j++ {
			blk := sBuf[16*j : 16*j+16]
			copy(blk, r[:])
			binary.BigEndian.PutUint64(blk[8:], binary.BigEndian.Uint64(r[8:])^uint64(j))
			f.b.Encrypt(blk, blk)
		}
		y.SetBytes(sBuf[:p.d])
		return y.Mod(y, powM)
	}
	for k := range ff1Rounds {
		i := k
		if inverse {
			i = ff1Rounds - 1 - k
		}
		powM := powU
		if i&1 == 1 {
			powM = powV
		}
		if !inverse {
			yv := round(i, b, powM)
			c := new(big.Int).Add(a, yv)
			c.Mod(c, powM)
			a, b = b, c
		} else {
			yv := round(i, a, powM)
			c := new(big.Int).Sub(b, yv)
			c.Mod(c, powM)
			a, b = c, a
		}
	}
	str := func(s []byte, v *big.Int) {
		v = new(big.Int).Set(v)
		m := new(big.Int)
		for i := len(s) - 1; i >= 0; i-- {
			v.DivMod(v, radix, m)
			s[i] = byte(m.Uint64())
		}
	}
	str(x[:p.u], a)
	str(x[p.u:], b)
}
