package masking

import (
	"bytes"
	"crypto/aes"
	"encoding/hex"
	"fmt"
	"math/rand/v2"
	"runtime"
	"testing"
)

// ff1Samples are NIST's published FF1 examples (SP 800-38G, "FF1 samples",
// csrc.nist.gov examples FF1samples.pdf), samples 1 to 9.
var ff1Samples = []struct {
	key, tweak string
	radix      int
	pt, ct     string
}{
	{"2B7E151628AED2A6ABF7158809CF4F3C", "", 10, "0123456789", "2433477484"},
	{"2B7E151628AED2A6ABF7158809CF4F3C", "39383736353433323130", 10, "0123456789", "6124200773"},
	{"2B7E151628AED2A6ABF7158809CF4F3C", "3737373770717273373737", 36, "0123456789abcdefghi", "a9tv40mll9kdu509eum"},
	{"2B7E151628AED2A6ABF7158809CF4F3CEF4359D8D580AA4F", "", 10, "0123456789", "2830668132"},
	{"2B7E151628AED2A6ABF7158809CF4F3CEF4359D8D580AA4F", "39383736353433323130", 10, "0123456789", "2496655549"},
	{"2B7E151628AED2A6ABF7158809CF4F3CEF4359D8D580AA4F", "3737373770717273373737", 36, "0123456789abcdefghi", "xbj3kv35jrawxv32ysr"},
	{"2B7E151628AED2A6ABF7158809CF4F3CEF4359D8D580AA4F7F036D6F04FC6A94", "", 10, "0123456789", "6657667009"},
	{"2B7E151628AED2A6ABF7158809CF4F3CEF4359D8D580AA4F7F036D6F04FC6A94", "39383736353433323130", 10, "0123456789", "1001623463"},
	{"2B7E151628AED2A6ABF7158809CF4F3CEF4359D8D580AA4F7F036D6F04FC6A94", "3737373770717273373737", 36, "0123456789abcdefghi", "xs8a0azh2avyalyzuwd"},
}

const base36 = "0123456789abcdefghijklmnopqrstuvwxyz"

func toNumerals(s string) []byte {
	x := make([]byte, len(s))
	for i := range s {
		x[i] = byte(bytes.IndexByte([]byte(base36), s[i]))
	}
	return x
}

func fromNumerals(x []byte) string {
	s := make([]byte, len(x))
	for i, c := range x {
		s[i] = base36[c]
	}
	return string(s)
}

func mustFF1(t testing.TB, keyHex string) ff1 {
	t.Helper()
	key, err := hex.DecodeString(keyHex)
	if err != nil {
		t.Fatal(err)
	}
	b, err := aes.NewCipher(key)
	if err != nil {
		t.Fatal(err)
	}
	return ff1{b: b}
}

// TestFF1_NISTSamples checks encryption and decryption against NIST's nine
// FF1 samples, on the 64-bit path and on the math/big path.
func TestFF1_NISTSamples(t *testing.T) {
	for i, s := range ff1Samples {
		t.Run(fmt.Sprintf("sample%d", i+1), func(t *testing.T) {
			f := mustFF1(t, s.key)
			tweak, _ := hex.DecodeString(s.tweak)
			scratch := make([]byte, ff1ScratchLen)
			x := toNumerals(s.pt)
			p := newFF1Params(uint64(s.radix), len(x))
			if !p.fastOK(tweak) {
				t.Fatalf("sample should take the 64-bit path")
			}
			f.encrypt(x, s.radix, tweak, scratch)
			if got := fromNumerals(x); got != s.ct {
				t.Fatalf("encrypt = %s, want %s", got, s.ct)
			}
			f.decrypt(x, s.radix, tweak, scratch)
			if got := fromNumerals(x); got != s.pt {
				t.Fatalf("decrypt = %s, want %s", got, s.pt)
			}
			// The same sample with the parameter cache, twice (a miss, a hit).
			fc := ff1{b: f.b, cache: &ff1Cache{}}
			for range 2 {
				y := toNumerals(s.pt)
				fc.encrypt(y, s.radix, tweak, scratch)
				if got := fromNumerals(y); got != s.ct {
					t.Fatalf("cached encrypt = %s, want %s", got, s.ct)
				}
				fc.decrypt(y, s.radix, tweak, scratch)
				if got := fromNumerals(y); got != s.pt {
					t.Fatalf("cached decrypt = %s, want %s", got, s.pt)
				}
			}
			// The same sample through math/big.
			x = toNumerals(s.pt)
			f.cryptBig(&p, x, tweak, false)
			if got := fromNumerals(x); got != s.ct {
				t.Fatalf("big encrypt = %s, want %s", got, s.ct)
			}
			f.cryptBig(&p, x, tweak, true)
			if got := fromNumerals(x); got != s.pt {
				t.Fatalf("big decrypt = %s, want %s", got, s.pt)
			}
		})
	}
}

// TestFF1_FastAndBigAgree runs random strings of every length the 64-bit
// path takes through both paths, for several radices and tweak lengths.
func TestFF1_FastAndBigAgree(t *testing.T) {
	f := mustFF1(t, "2B7E151628AED2A6ABF7158809CF4F3CEF4359D8D580AA4F7F036D6F04FC6A94")
	r := rand.New(rand.NewPCG(1, 2))
	scratch := make([]byte, ff1ScratchLen)
	for _, radix := range []int{2, 7, 10, 16, 26, 36, 62, 255, 256} {
		for n := 2; n <= 130; n++ {
			p := newFF1Params(uint64(radix), n)
			for _, tl := range []int{0, 8, 11, 20} {
				tweak := make([]byte, tl)
				for i := range tweak {
					tweak[i] = byte(r.Uint32())
				}
				if !p.fastOK(tweak) {
					continue
				}
				x := make([]byte, n)
				for i := range x {
					x[i] = byte(r.IntN(radix))
				}
				a := append([]byte(nil), x...)
				b := append([]byte(nil), x...)
				f.encrypt(a, radix, tweak, scratch)
				f.cryptBig(&p, b, tweak, false)
				if !bytes.Equal(a, b) {
					t.Fatalf("radix %d n %d tweak %d: fast %v, big %v", radix, n, tl, a, b)
				}
				f.decrypt(a, radix, tweak, scratch)
				if !bytes.Equal(a, x) {
					t.Fatalf("radix %d n %d: decrypt does not invert encrypt", radix, n)
				}
			}
		}
	}
}

// TestFF1_Permutation encrypts every 6-digit string and checks that FF1 is
// a permutation of them.
func TestFF1_Permutation(t *testing.T) {
	f := mustFF1(t, "2B7E151628AED2A6ABF7158809CF4F3C")
	scratch := make([]byte, ff1ScratchLen)
	seen := make([]bool, 1_000_000)
	x := make([]byte, 6)
	for v := range 1_000_000 {
		strRadix(x, 10, uint64(v))
		f.encrypt(x, 10, []byte("tweak"), scratch)
		w := numRadix(x, 10)
		if seen[w] {
			t.Fatalf("two inputs encrypt to %06d", w)
		}
		seen[w] = true
	}
}

// BenchmarkFF1_16Digits measures FF1 on 16-digit decimal strings, the
// clone's card-number workload: the target is >= 1,000,000 values/s/core.
func BenchmarkFF1_16Digits(b *testing.B) {
	f := mustFF1(b, "2B7E151628AED2A6ABF7158809CF4F3CEF4359D8D580AA4F7F036D6F04FC6A94")
	f.cache = &ff1Cache{} // as the transformers build it
	scratch := make([]byte, ff1ScratchLen)
	x := toNumerals("4111111111111111")
	tweak := []byte("8 bytes!")
	b.ReportAllocs()
	runtime.LockOSThread()
	defer runtime.UnlockOSThread()
	b.ResetTimer()
	cpu0 := threadCPU()
	for range b.N {
		f.encrypt(x, 10, tweak, scratch)
	}
	reportRates(b, cpu0)
}

// FuzzFF1 checks that decryption inverts encryption and that the 64-bit and
// math/big paths agree, for any radix, numeral string and tweak.
func FuzzFF1(f *testing.F) {
	f.Add(uint8(10), []byte{0, 1, 2, 3, 4, 5, 6, 7, 8, 9}, []byte{})
	f.Add(uint8(36), []byte("0123456789abcdefghi"), []byte("tweak"))
	f.Add(uint8(2), make([]byte, 130), []byte{1, 2, 3})
	ff := mustFF1(f, "2B7E151628AED2A6ABF7158809CF4F3C")
	f.Fuzz(func(t *testing.T, r uint8, in, tweak []byte) {
		radix := int(r)%255 + 2
		if len(in) < 2 || len(in) > 300 || len(tweak) > 64 {
			return
		}
		x := make([]byte, len(in))
		for i, c := range in {
			x[i] = byte(int(c) % radix)
		}
		a := append([]byte(nil), x...)
		scratch := make([]byte, ff1ScratchLen)
		ff.encrypt(a, radix, tweak, scratch)
		p := newFF1Params(uint64(radix), len(x))
		b := append([]byte(nil), x...)
		ff.cryptBig(&p, b, tweak, false)
		if !bytes.Equal(a, b) {
			t.Fatalf("radix %d: fast and big paths disagree", radix)
		}
		for _, c := range a {
			if int(c) >= radix {
				t.Fatalf("numeral %d out of radix %d", c, radix)
			}
		}
		ff.decrypt(a, radix, tweak, scratch)
		if !bytes.Equal(a, x) {
			t.Fatalf("radix %d: decrypt does not invert encrypt", radix)
		}
	})
}
