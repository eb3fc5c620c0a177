package masking

import "syscall"

// threadCPU returns the CPU time the calling OS thread has used, in
// seconds (user and system), or 0 when it cannot be read. Benchmarks lock
// their goroutine to its thread and divide by it, so that values per
// CPU-second stay comparable while other processes share the cores.
func threadCPU() float64 {
	var ru syscall.Rusage
	if err := syscall.Getrusage(syscall.RUSAGE_THREAD, &ru); err != nil {
		return 0
	}
	return float64(ru.Utime.Nano()+ru.Stime.Nano()) / 1e9
}
