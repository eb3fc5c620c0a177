package masking

import (
	"crypto/aes"
	"encoding/binary"
	"math/rand/v2"
	"testing"
)

// TestAESNI_matchesCryptoAES compares aesEncBlock with crypto/aes for
// random keys of the three sizes and random blocks, and the S-box with
// FIPS-197's first entries.
func TestAESNI_matchesCryptoAES(t *testing.T) {
	if aesSbox[0x00] != 0x63 || aesSbox[0x01] != 0x7c || aesSbox[0x53] != 0xed || aesSbox[0xff] != 0x16 {
		t.Fatalf("S-box: %x %x %x %x", aesSbox[0], aesSbox[1], aesSbox[0x53], aesSbox[0xff])
	}
	if !hasAESNI {
		t.Skip("no AES-NI here: FF1 uses cipher.Block")
	}
	r := rand.New(rand.NewPCG(5, 6))
	for _, size := range []int{16, 24, 32} {
		for range 200 {
			key := make([]byte, size)
			for i := range key {
				key[i] = byte(r.Uint32())
			}
			blk, err := aes.NewCipher(key)
			if err != nil {
				t.Fatal(err)
			}
			rk := expandAESKey(key)
			var in, want [16]byte
			binary.BigEndian.PutUint64(in[:], r.Uint64())
			binary.BigEndian.PutUint64(in[8:], r.Uint64())
			blk.Encrypt(want[:], in[:])
			r0, r1 := aesEncBlock(&rk.xk[0], rk.nr, binary.BigEndian.Uint64(in[:]), binary.BigEndian.Uint64(in[8:]))
			if r0 != binary.BigEndian.Uint64(want[:]) || r1 != binary.BigEndian.Uint64(want[8:]) {
				t.Fatalf("AES-%d: %016x%016x, want %x", 8*size, r0, r1, want)
			}
		}
	}
}
