//go:build !amd64 || purego

package masking

// hasAESNI is false: FF1 encrypts through cipher.Block.
const hasAESNI = false

func aesEncBlock(xk *byte, nr int, w0, w1 uint64) (r0, r1 uint64) {
	panic("masking: aesEncBlock without AES-NI")
}
