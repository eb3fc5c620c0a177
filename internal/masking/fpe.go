package masking

import (
	"encoding/binary"
	"math/big"
	"math/bits"
)

// fpeScratch is the scratch space [fpe.encrypt] needs: FF1's and the tweak.
const fpeScratch = ff1ScratchLen + 8

// errSmallDomain is the reason a value is refused when the part of it that
// would be encrypted has fewer than ff1MinDomain possible values.
const errSmallDomain = invalidReason("too few characters to encrypt: format-preserving encryption (NIST FF1) needs at least 1,000,000 possible values, and a smaller domain could be enumerated")

// fpe is the format-preserving encryption every bijective transformer uses:
// NIST SP 800-38G FF1 over mixed-radix digit strings.
//
// A string whose positions all share one radix is encrypted by FF1 in that
// radix directly. A mixed-radix string (letters and digits at fixed
// positions, a first digit that must stay non-zero, the network bits of an
// address) is read as an integer x below N, the product of its radices, and
// encrypted by FF1 in radix 2 over the bit length of N-1 with cycle walking
// (re-encrypting until the result is below N), which is a permutation of
// [0, N) because FF1 is a permutation of the larger set. Domains below
// ff1MinDomain are refused, as SP 800-38G requires.
type fpe struct {
	f ff1
	// small, when set, replaces the values of a domain below ff1MinDomain
	// by a keyed hash in the same format (small_domain = "hash") instead
	// of refusing them.
	small *prf
	// meter, when set, replaces encryption by measurement: encrypt and
	// permuteInt take the same decisions (refuse, hash, permute) but only
	// record the size of the domain (see FixedPointMeter).
	meter *fpeMeter
}

// encrypt permutes vals in place. rad[i] holds radix-1 of position i (radix
// 2..256) and vals[i] must be below that radix. tweak separates independent
// permutations (for example per e-mail domain). scratch must hold
// fpeScratch bytes. It returns false, leaving vals alone, when the domain
// has fewer than ff1MinDomain values.
func (e fpe) encrypt(vals, rad []byte, tweak uint64, scratch []byte) bool {
	n := len(vals)
	rad = rad[:n]
	t := scratch[ff1ScratchLen : ff1ScratchLen+8]
	binary.BigEndian.PutUint64(t, tweak)
	scratch = scratch[:ff1ScratchLen]
	uniform, pow2 := n > 0, 0      // pow2: the bits of N when every radix is a power of two
	size, small := uint64(1), true // the domain size while it fits
	for _, r := range rad {
		uniform = uniform && r == rad[0]
		if pow2 >= 0 {
			if r&(r+1) == 0 {
				pow2 += bits.OnesCount8(r)
			} else {
				pow2 = -1
			}
		}
		if small {
			hi, lo := bits.Mul64(size, uint64(r)+1)
			size, small = lo, hi == 0 && lo < ff1MinDomain
		}
	}
	if small && e.small == nil {
		return false
	}
	if e.meter != nil {
		e.meter.permuted(rad)
		if !e.meter.alongside {
			return true
		}
	}
	if small {
		e.hashSmall(vals, rad, tweak, scratch)
		return true
	}
	if uniform {
		e.f.encrypt(vals, int(rad[0])+1, t, scratch)
		return true
	}
	if pow2 > 0 && pow2 <= 126 {
		e.encryptBits(vals, rad, pow2, t, scratch)
		return true
	}
	// Mixed radix: x = sum vals[i] * prod_{j>i} radix_j, as 128 bits.
	var nHi, nLo, xHi, xLo uint64 = 0, 1, 0, 0
	fits := true
	for i, v := range vals {
		r := uint64(rad[i]) + 1
		h, l := bits.Mul64(nLo, r)
		nHi, nLo = nHi*r+h, l
		h, l = bits.Mul64(xLo, r)
		xHi, xLo = xHi*r+h, l
		var c uint64
		xLo, c = bits.Add64(xLo, uint64(v), 0)
		xHi += c
		if nHi >= 1<<62 {
			fits = false
			break
		}
	}
	if !fits {
		e.encryptBigInt(vals, rad, t)
		return true
	}
	xHi, xLo = e.permute128(xHi, xLo, nHi, nLo, t, scratch)
	// Back to digits: while x has more than 64 bits, split off the last
	// positions whose radices multiply to at most 2^64-1 with one 128-bit
	// division, and take their digits from the 64-bit remainder.
	i := n - 1
	for xHi != 0 {
		m, j := uint64(1), i
		for ; j >= 0; j-- {
			h, l := bits.Mul64(m, uint64(rad[j])+1)
			if h != 0 {
				break
			}
			m = l
		}
		qHi, rem := xHi/m, xHi%m
		qLo, rem := bits.Div64(rem, xLo, m)
		mixedDigits(vals[j+1:i+1], rad[j+1:i+1], rem)
		xHi, xLo, i = qHi, qLo, j
	}
	mixedDigits(vals[:i+1], rad[:i+1], xLo)
	return true
}

// encryptBits is encrypt's mixed-radix case when every radix is a power of
// two (N = 2^nbits, nbits <= 126, as for a UUID's hex digits and variant
// bits): x is the concatenation of the digits' bits, and since FF1 in
// radix 2 over nbits bits permutes [0, N) itself, there is no cycle
// walking. The result is the one of the general case: shifts instead of
// multiplications and divisions.
func (e fpe) encryptBits(vals, rad []byte, nbits int, tweak, scratch []byte) {
	var xHi, xLo uint64
	for i, v := range vals {
		k := uint(bits.OnesCount8(rad[i]))
		xHi = xHi<<k | xLo>>(64-k)
		xLo = xLo<<k | uint64(v)
	}
	p := e.f.params(2, nbits, len(tweak))
	a, b := shr128(xHi, xLo, p.v), xLo&(1<<p.v-1)
	a, b = e.f.encryptInts(p, scratch, tweak, a, b)
	xHi, xLo = a>>(64-p.v), a<<p.v|b
	for i := len(vals) - 1; i >= 0; i-- {
		k := uint(bits.OnesCount8(rad[i]))
		vals[i] = byte(xLo) & rad[i]
		xLo = xLo>>k | xHi<<(64-k)
		xHi >>= k
	}
}

// mixedDigits writes the mixed-radix digits of x (radix rad[i]+1 at
// position i, the last position least significant) into vals, dividing
// by constants for the common radices.
func mixedDigits(vals, rad []byte, x uint64) {
	for i := len(vals) - 1; i >= 0; i-- {
		switch r := uint64(rad[i]) + 1; r {
		case 10:
			vals[i], x = byte(x%10), x/10
		case 9:
			vals[i], x = byte(x%9), x/9
		case 16:
			vals[i], x = byte(x&15), x>>4
		case 26:
			vals[i], x = byte(x%26), x/26
		default:
			vals[i], x = byte(x%r), x/r
		}
	}
}

// permute128 is FF1 in radix 2 over the bit length of N-1 (at most 126
// bits), cycle-walking until the result is below N = (nHi, nLo).
func (e fpe) permute128(xHi, xLo, nHi, nLo uint64, tweak, scratch []byte) (uint64, uint64) {
	mHi, mLo := nHi, nLo-1
	if nLo == 0 {
		mHi--
	}
	nbits := bits.Len64(mLo)
	if mHi != 0 {
		nbits = 64 + bits.Len64(mHi)
	}
	// nbits <= 126, so both halves have at most 63 bits: FF1's fast path.
	p := e.f.params(2, nbits, len(tweak))
	for {
		// A is the first u bits (the most significant), B the last v.
		a, b := shr128(xHi, xLo, p.v), xLo&(1<<p.v-1)
		a, b = e.f.encryptInts(p, scratch, tweak, a, b)
		xHi, xLo = a>>(64-p.v), a<<p.v|b
		if xHi < nHi || (xHi == nHi && xLo < nLo) {
			return xHi, xLo
		}
	}
}

func shr128(hi, lo uint64, s int) uint64 {
	if s >= 64 {
		return hi >> (s - 64)
	}
	return lo>>s | hi<<(64-s)
}

// encryptBigInt is encrypt's mixed-radix case for domains beyond 2^126
// (long e-mail local parts and IBANs), with math/big and FF1's big path.
func (e fpe) encryptBigInt(vals, rad, tweak []byte) {
	n, x := big.NewInt(1), new(big.Int)
	for i, v := range vals {
		r := big.NewInt(int64(rad[i]) + 1)
		n.Mul(n, r)
		x.Mul(x, r)
		x.Add(x, big.NewInt(int64(v)))
	}
	m := new(big.Int).Sub(n, big.NewInt(1))
	nbits := m.BitLen()
	p := newFF1Params(2, nbits)
	bitsBuf := make([]byte, nbits)
	for {
		for i := range nbits {
			bitsBuf[i] = byte(x.Bit(nbits - 1 - i))
		}
		e.f.cryptBig(&p, bitsBuf, tweak, false)
		x.SetInt64(0)
		for _, c := range bitsBuf {
			x.Lsh(x, 1)
			x.SetBit(x, 0, uint(c))
		}
		if x.Cmp(n) < 0 {
			break
		}
	}
	rem := new(big.Int)
	for i := len(vals) - 1; i >= 0; i-- {
		x.DivMod(x, big.NewInt(int64(rad[i])+1), rem)
		vals[i] = byte(rem.Int64())
	}
}

// permuteInt permutes [0, n) for ff1MinDomain <= n < 2^64 with FF1 in
// radix 2 and cycle walking; it is fpe.encrypt for an integer domain.
func (e fpe) permuteInt(x, n, tweak uint64, scratch []byte) uint64 {
	if e.meter != nil {
		e.meter.odds /= float64(n)
		e.meter.calls++
		if !e.meter.alongside {
			return x
		}
	}
	t := scratch[ff1ScratchLen : ff1ScratchLen+8]
	binary.BigEndian.PutUint64(t, tweak)
	_, lo := e.permute128(0, x, 0, n, t, scratch[:ff1ScratchLen])
	return lo
}

// hashSmall replaces vals by keyed pseudo-random numerals of the same
// radices, a function of the key, the tweak and vals: deterministic and in
// format, but not one to one.
func (e fpe) hashSmall(vals, rad []byte, tweak uint64, scratch []byte) {
	hi, lo := e.small.sum(scratch[:16], tweak, vals)
	blk := scratch[16:32]
	for i := range vals {
		if i%2 == 0 {
			e.small.stream(blk, hi, lo, uint64(i/2))
		}
		r := binary.LittleEndian.Uint64(blk[8*(i%2):])
		vals[i] = byte(uniform(r, int(rad[i])+1))
	}
}
