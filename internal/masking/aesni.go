package masking

import "encoding/binary"

// The FF1 rounds encrypt one AES block each, and each depends on the
// last: their cost is the latency of AES plus whatever stands between two
// blocks. Through cipher.Block a block goes to memory and back and through
// the standard library's checks; on amd64 with AES-NI, aesEncBlock takes
// and returns it in registers, with the round keys expanded here once per
// transformer (FIPS-197 section 5.2). TestAESNI_matchesCryptoAES checks
// it against crypto/aes.

// aesRoundKeys is an AES key schedule for aesEncBlock: the nr+1 round keys
// in FIPS-197 byte order.
type aesRoundKeys struct {
	xk []byte
	nr int
}

// expandAESKey returns key's schedule, or nil when aesEncBlock is not
// available here.
func expandAESKey(key []byte) *aesRoundKeys {
	nk := len(key) / 4
	if !hasAESNI || (nk != 4 && nk != 6 && nk != 8) || len(key)%4 != 0 {
		return nil
	}
	nr := nk + 6
	w := make([]uint32, 4*(nr+1))
	for i := range nk {
		w[i] = binary.BigEndian.Uint32(key[4*i:])
	}
	rcon := uint32(1)
	for i := nk; i < len(w); i++ {
		t := w[i-1]
		switch {
		case i%nk == 0:
			t = subWord(t<<8|t>>24) ^ rcon<<24
			rcon = uint32(xtime(byte(rcon)))
		case nk > 6 && i%nk == 4:
			t = subWord(t)
		}
		w[i] = w[i-nk] ^ t
	}
	xk := make([]byte, 4*len(w))
	for i, x := range w {
		binary.BigEndian.PutUint32(xk[4*i:], x)
	}
	return &aesRoundKeys{xk: xk, nr: nr}
}

// xtime multiplies by x in GF(2^8) modulo the AES polynomial.
func xtime(b byte) byte {
	if b&0x80 != 0 {
		return b<<1 ^ 0x1b
	}
	return b << 1
}

func subWord(w uint32) uint32 {
	return uint32(aesSbox[w>>24])<<24 | uint32(aesSbox[w>>16&0xff])<<16 | uint32(aesSbox[w>>8&0xff])<<8 | uint32(aesSbox[w&0xff])
}

// aesSbox is the AES S-box, computed: the multiplicative inverse in
// GF(2^8) followed by the affine map. p runs over the powers of the
// generator 3 and q over those of its inverse, so q = 1/p.
var aesSbox = func() (s [256]byte) {
	rotl := func(x byte, n int) byte { return x<<n | x>>(8-n) }
	p, q := byte(1), byte(1)
	for {
		p ^= xtime(p)
		q ^= q << 1
		q ^= q << 2
		q ^= q << 4
		if q&0x80 != 0 {
			q ^= 0x09
		}
		s[p] = q ^ rotl(q, 1) ^ rotl(q, 2) ^ rotl(q, 3) ^ rotl(q, 4) ^ 0x63
		if p == 1 {
			break
		}
	}
	s[0] = 0x63
	return s
}()
