//go:build amd64 && !purego

package masking

// hasAESNI reports AES-NI and SSE4.1 (for PINSRQ and PEXTRQ).
var hasAESNI = cpuHasAESNI()

func cpuHasAESNI() bool

// aesEncBlock encrypts the block whose bytes are w0 and w1 big-endian
// with the nr-round schedule at xk and returns it the same way.
//
//go:noescape
func aesEncBlock(xk *byte, nr int, w0, w1 uint64) (r0, r1 uint64)
