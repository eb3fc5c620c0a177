package masking

import (
	"fmt"
	"math/rand/v2"
	"runtime"
	"testing"
)

// benchValues returns realistic values for a transformer: the generator's
// when there is one, else variations of the sample input.
func benchValues(name string) [][]byte {
	r := rand.New(rand.NewPCG(7, 7))
	vals := make([][]byte, 256)
	for i := range vals {
		switch {
		case gen[name] != nil:
			vals[i] = []byte(gen[name](r))
		case name == "first_name":
			vals[i] = []byte(sFirst[i%len(sFirst)])
		case name == "last_name":
			vals[i] = []byte(sLast[i%len(sLast)])
		case name == "full_name":
			vals[i] = []byte(sFull[i%len(sFull)])
		case name == "address":
			vals[i] = []byte(fmt.Sprintf("%d %s", i+1, sAddresses[i%len(sAddresses)]))
		case name == "json":
			vals[i] = []byte(fmt.Sprintf(`{"contact":{"email":"user%d@example.com","phone":"+1 415-555-%04d"},"n":%d}`, i, i, i))
		case name == "regex_replace":
			vals[i] = []byte(fmt.Sprintf("order %d shipped", i*7919))
		default:
			vals[i] = []byte(fmt.Sprintf("value-%d", i*7919))
		}
	}
	return vals
}

// reportRates reports values/s (wall clock) and, where the thread's CPU
// time can be read, values/cpu-s: the rate on one core whatever else runs
// on the machine, which is what a regression check should compare. The
// benchmark must have locked its goroutine to its thread and taken cpu0
// from threadCPU after b.ResetTimer.
func reportRates(b *testing.B, cpu0 float64) {
	b.ReportMetric(float64(b.N)/b.Elapsed().Seconds(), "values/s")
	if cpu := threadCPU() - cpu0; cpu0 > 0 && cpu > 0 {
		b.ReportMetric(float64(b.N)/cpu, "values/cpu-s")
	}
}

// BenchmarkTransform masks realistic values per transformer into a reused
// buffer, the way the copy engine does; it reports values/s on one core.
func BenchmarkTransform(b *testing.B) {
	k := testKey(b, "bench")
	for _, name := range TransformerNames() {
		b.Run(name, func(b *testing.B) {
			tr := mustNew(b, specFor(name), k)
			vals := benchValues(name)
			total := 0
			for _, v := range vals {
				total += len(v)
			}
			b.SetBytes(int64(total / len(vals)))
			dst := make([]byte, 0, 4096)
			b.ReportAllocs()
			runtime.LockOSThread()
			defer runtime.UnlockOSThread()
			b.ResetTimer()
			cpu0 := threadCPU()
			for i := 0; i < b.N; i++ {
				var err error
				dst, _, err = Apply(tr, dst[:0], vals[i&255], false)
				if err != nil {
					b.Fatal(err)
				}
			}
			reportRates(b, cpu0)
		})
	}
}
