package masking

import (
	"fmt"
	"strconv"
	"strings"
	"testing"
)

// collisionInputs returns the i-th of at least 1,000,000 distinct valid
// inputs for each bijective transformer.
var collisionInputs = map[string]func(i int) string{
	"uuid": func(i int) string {
		return fmt.Sprintf("%08x-%04x-4%03x-a%03x-%012x", i*2654435761&0xffffffff, i&0xffff, i&0xfff, (i>>12)&0xfff, i)
	},
	"digits": func(i int) string {
		s := fmt.Sprintf("%09d", i*7919%1000000007%1000000000)
		return s[:3] + "-" + s[3:5] + "-" + s[5:]
	},
	"credit_card": func(i int) string {
		p := "4" + fmt.Sprintf("%014d", i*104729)
		return p + string(luhnDigit(p))
	},
	"iban":  func(i int) string { return makeIBAN("DE", fmt.Sprintf("%018d", i*31337)) },
	"phone": func(i int) string { return fmt.Sprintf("+1 415-%03d-%04d", i/10000, i%10000) },
	"email": func(i int) string { return "user" + strconv.Itoa(i) + "@example.com" },
	"format_preserving": func(i int) string {
		s := strconv.FormatInt(int64(i)*2654435761%(36*36*36*36*36*36), 36)
		return strings.Repeat("0", 6-len(s)) + s
	},
	"hash": func(i int) string { return "value-" + strconv.Itoa(i) },
	"ip": func(i int) string {
		v := uint32(i) * 2654435761
		return fmt.Sprintf("%d.%d.%d.%d", v>>24, v>>16&255, v>>8&255, v&255)
	},
}

// TestCollisions masks 1,000,000 distinct inputs per bijective transformer
// and checks that the outputs are distinct.
func TestCollisions(t *testing.T) {
	const n = 1_000_000
	if testing.Short() {
		t.Skip("collision test masks 1,000,000 values per transformer")
	}
	k := testKey(t, "collisions")
	for name, in := range collisionInputs {
		t.Run(name, func(t *testing.T) {
			t.Parallel()
			tr := mustNew(t, Spec{Transformer: name}, k)
			if !tr.Bijective() {
				t.Fatalf("%s is not bijective", name)
			}
			// Inputs are distinct by construction; a sample checks the generator.
			seenIn := make(map[string]struct{}, n/10)
			seenOut := make(map[string]struct{}, n)
			var buf []byte
			for i := range n {
				s := in(i)
				if i%10 == 0 {
					seenIn[s] = struct{}{}
				}
				var err error
				buf, err = tr.Transform(buf[:0], []byte(s))
				if err != nil {
					t.Fatalf("%s(%q): %v", name, s, err)
				}
				seenOut[string(buf)] = struct{}{}
			}
			if len(seenIn) != n/10 {
				t.Fatalf("generator produced %d distinct sampled inputs, want %d", len(seenIn), n/10)
			}
			if len(seenOut) != n {
				t.Fatalf("%d collisions among %d outputs", n-len(seenOut), n)
			}
		})
	}
}
