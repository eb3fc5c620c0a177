//go:build !linux

package masking

// threadCPU is not available here: benchmarks report wall-clock rates only.
func threadCPU() float64 { return 0 }
