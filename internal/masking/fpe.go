package masking

import (
	"crypto/cipher"
	"encoding/binary"
)

// fpeRounds is the number of Feistel rounds, as in NIST FF1.
const fpeRounds = 10

// fpeScratch is the scratch space [fpe.encrypt] needs.
const fpeScratch = 48

// fpe is a keyed permutation of mixed-radix digit strings: an unbalanced
// Feistel network in the style of NIST FF1 whose round function is an AES
// CBC-MAC and whose combining operation is digit-wise addition modulo each
// position's radix. Each round adds a pseudo-random function of one half to
// the other half, which is invertible whatever the function, so encrypt is a
// permutation of the digit strings of a given length and radix pattern for
// every key and tweak. Only encryption is needed: masking is one-way.
type fpe struct {
	b cipher.Block
}

// encrypt permutes vals in place. rad[i] holds radix-1 of position i (radix
// 2..256) and vals[i] must be below that radix. tweak separates independent
// permutations (for example per e-mail domain). scratch must hold
// fpeScratch bytes.
func (f fpe) encrypt(vals, rad []byte, tweak uint64, scratch []byte) {
	n := len(vals)
	if n == 0 {
		return
	}
	rad = rad[:n]
	t, y, ks := scratch[0:16], scratch[16:32], scratch[32:48]
	// T = AES(tweak || n): the first CBC-MAC block, shared by all rounds.
	binary.LittleEndian.PutUint64(t[0:], tweak)
	binary.LittleEndian.PutUint64(t[8:], uint64(n)|0xfe<<56)
	f.b.Encrypt(t, t)
	u := n / 2
	for r := 0; r < fpeRounds; r++ {
		var src, dv, dr []byte
		if r&1 == 0 {
			dv, dr, src = vals[:u], rad[:u], vals[u:]
		} else {
			dv, dr, src = vals[u:], rad[u:], vals[:u]
		}
		if len(dv) == 0 {
			continue
		}
		// Y = CBC-MAC continuing from T over (round || src), zero padded.
		copy(y, t)
		y[0] ^= byte(r + 1)
		i := 1
		for _, c := range src {
			if i == 16 {
				f.b.Encrypt(y, y)
				i = 0
			}
			y[i] ^= c
			i++
		}
		f.b.Encrypt(y, y)
		// Add 16-bit keystream words, scaled to each radix, digit-wise.
		blk := y
		for j := range dv {
			k := j & 7
			if k == 0 && j > 0 {
				binary.LittleEndian.PutUint64(ks[0:], binary.LittleEndian.Uint64(y[0:])^uint64(j>>3))
				copy(ks[8:16], y[8:16])
				f.b.Encrypt(ks, ks)
				blk = ks
			}
			radix := uint32(dr[j]) + 1
			d := uint32(binary.LittleEndian.Uint16(blk[2*k:])) * radix >> 16
			v := uint32(dv[j]) + d
			if v >= radix {
				v -= radix
			}
			dv[j] = byte(v)
		}
	}
}
