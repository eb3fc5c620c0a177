package pgclone

import (
	"runtime/debug"
	"sync"
)

// cloneMemoryLimit is the Go runtime's soft memory limit while a clone
// runs (bytes). The leak check keeps at most its budget of hashes in RAM
// (see leakcheck.go) and each copy stream a few buffers, but with the
// default GOGC the heap may grow to twice what is live before the garbage
// collector runs: a 7M-row table with two identifier columns reached 306
// MiB of resident memory at parallelism 2 against the documented 256.
// Under the limit the collector runs early instead.
const cloneMemoryLimit = 192 << 20

var memLimit struct {
	sync.Mutex
	clones int   // clones running in this process
	prev   int64 // the limit before the first of them
}

// limitMemory lowers the process's soft memory limit to cloneMemoryLimit
// while at least one clone runs, and never raises a lower limit (such as
// one set with GOMEMLIMIT). The returned function undoes it.
func limitMemory() (restore func()) {
	memLimit.Lock()
	defer memLimit.Unlock()
	if memLimit.clones == 0 {
		memLimit.prev = debug.SetMemoryLimit(-1) // reads it
		if memLimit.prev > cloneMemoryLimit {
			debug.SetMemoryLimit(cloneMemoryLimit)
		}
	}
	memLimit.clones++
	return func() {
		memLimit.Lock()
		defer memLimit.Unlock()
		if memLimit.clones--; memLimit.clones == 0 {
			debug.SetMemoryLimit(memLimit.prev)
		}
	}
}
