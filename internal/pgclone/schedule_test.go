package pgclone

import (
	"context"
	"errors"
	"fmt"
	"sync"
	"testing"
	"time"
)

func TestLockModes_conflictTable(t *testing.T) {
	all := []lockMode{lockAccessShare, lockRowShare, lockRowExclusive, lockShareUpdateExclusive, lockShare, lockShareRowExclusive, lockExclusive, lockAccessExclusive}
	for _, a := range all {
		for _, b := range all {
			if a.conflicts(b) != b.conflicts(a) {
				t.Errorf("conflict of %d and %d is not symmetric", a, b)
			}
		}
	}
	for _, c := range []struct {
		a, b lockMode
		want bool
	}{
		{lockRowExclusive, lockRowExclusive, false},                // two COPY streams into one table
		{lockRowShare, lockRowShare, false},                        // two validations referencing one table
		{lockShareUpdateExclusive, lockShareUpdateExclusive, true}, // two validations of one table
		{lockShareRowExclusive, lockRowShare, false},               // adding a foreign key beside a validation that references the same table
		{lockShareRowExclusive, lockRowExclusive, true},            // adding a foreign key to a table being copied into
		{lockShare, lockRowExclusive, true},                        // CREATE INDEX on a table being copied into
		{lockAccessShare, lockShareRowExclusive, false},            // reading a table a foreign key is added to
		{lockAccessShare, lockAccessExclusive, true},               // reading a table whose primary key is built
	} {
		if got := c.a.conflicts(c.b); got != c.want {
			t.Errorf("%d conflicts with %d = %v, want %v", c.a, c.b, got, c.want)
		}
	}
}

func TestSplitPages(t *testing.T) {
	for _, c := range []struct {
		pages, chunk int64
		workers      int
		want         []tidRange
	}{
		{pages: 100, chunk: 64, workers: 2, want: []tidRange{whole}},             // less than two chunks
		{pages: 128, chunk: 64, workers: 2, want: []tidRange{{0, 64}, {64, -1}}}, // two chunks
		{pages: 1000, chunk: 64, workers: 1, want: []tidRange{whole}},            // one worker
		{pages: 1000, chunk: 10, workers: 1, want: []tidRange{whole}},
		{pages: 1000, chunk: 10, workers: 2, want: []tidRange{{0, 125}, {125, 250}, {250, 375}, {375, 500}, {500, 625}, {625, 750}, {750, 875}, {875, -1}}}, // 4 per worker
		{pages: 10, chunk: 3, workers: 2, want: []tidRange{{0, 5}, {5, -1}}},                                                                                // 3 chunks: 2 ranges, one per worker
		{pages: 10, chunk: 3, workers: 3, want: []tidRange{{0, 3}, {3, 6}, {6, -1}}},                                                                        // 3 chunks, 3 workers
		{pages: 10, chunk: 4, workers: 4, want: []tidRange{{0, 5}, {5, -1}}},                                                                                // fewer chunks than workers
		{pages: 0, chunk: 1, workers: 8, want: []tidRange{whole}},
	} {
		got := splitPages(c.pages, c.chunk, c.workers)
		if fmt.Sprint(got) != fmt.Sprint(c.want) {
			t.Errorf("splitPages(%d, %d, %d) = %v, want %v", c.pages, c.chunk, c.workers, got, c.want)
		}
	}
	if got := (tidRange{0, 5}).condition("x"); got != "x.ctid < '(5,0)'::pg_catalog.tid" {
		t.Errorf("first range: %s", got)
	}
	if got := (tidRange{5, -1}).condition("x"); got != "x.ctid >= '(5,0)'::pg_catalog.tid" {
		t.Errorf("last range: %s", got)
	}
	if got := whole.condition("x"); got != "" {
		t.Errorf("whole table: %q", got)
	}
}

// TestScheduler_locksDependenciesPriority runs a graph of sleeping tasks
// on three workers: no task starts before what it needs is done, no two
// tasks with conflicting locks run at once, the longest path starts
// first, and a failure stops the rest and is the error returned.
func TestScheduler_locksDependenciesPriority(t *testing.T) {
	var mu sync.Mutex
	for _, workers := range []int{1, 3} {
		running := map[*task]bool{}
		done := map[*task]bool{}
		var order []string
		var violations []string
		s := &scheduler{}
		mk := func(name string, cost float64, locks ...tableLock) *task {
			tk := &task{kind: taskCopy, name: name, cost: cost, locks: locks}
			tk.run = func(ctx context.Context, w *worker) error {
				mu.Lock()
				for r := range running {
					if tk.conflicts(r) {
						violations = append(violations, tk.name+" ran beside "+r.name)
					}
				}
				for _, d := range s.tasks {
					for _, n := range d.next {
						if n == tk && !done[d] {
							violations = append(violations, tk.name+" started before "+d.name)
						}
					}
				}
				running[tk] = true
				order = append(order, tk.name)
				mu.Unlock()
				time.Sleep(time.Duration(cost) * time.Millisecond)
				mu.Lock()
				delete(running, tk)
				done[tk] = true
				mu.Unlock()
				return nil
			}
			s.tasks = append(s.tasks, tk)
			return tk
		}
		big := mk("copy big", 60, tableLock{"big", lockRowExclusive})
		small := mk("copy small", 10, tableLock{"small", lockRowExclusive})
		other := mk("copy other", 25, tableLock{"other", lockRowExclusive})
		buildBig := mk("build big", 20, tableLock{"big", lockAccessExclusive})
		buildSmall := mk("build small", 10, tableLock{"small", lockAccessExclusive})
		buildBig.after(big)
		buildSmall.after(small)
		// Two foreign keys on "other" referencing "small": their additions
		// conflict with each other and with the validations of "other".
		for i := range 2 {
			add := mk(fmt.Sprintf("add fk%d", i), 1, tableLock{"other", lockShareRowExclusive}, tableLock{"small", lockShareRowExclusive})
			add.after(buildSmall, other)
			v := mk(fmt.Sprintf("validate fk%d", i), 15, tableLock{"other", lockShareUpdateExclusive}, tableLock{"small", lockRowShare})
			v.after(add)
		}
		// Readers of everything wait for strong locks to go.
		reader := mk("code on load", 5, tableLock{"late", lockRowExclusive})
		reader.readsAll = true
		reader.after(other)
		if err := s.run(context.Background(), make([]*worker, workers)); err != nil {
			t.Fatal(err)
		}
		if len(violations) > 0 {
			t.Errorf("%d workers: violations: %v", workers, violations)
		}
		if len(order) != len(s.tasks) {
			t.Errorf("%d workers: ran %v", workers, order)
		}
		if workers == 1 {
			// Longest path first: the big copy and its build (80), the
			// foreign keys' chain (25 + 1 + 15), small's (10 + 10 + 1 +
			// 15); then what is ready, the longest first.
			want := "[copy big copy other copy small build small build big add fk0 add fk1 validate fk0 validate fk1 code on load]"
			if got := fmt.Sprint(order); got != want {
				t.Errorf("order %s, want the longest path first (%s)", got, want)
			}
		}
		if st := s.span(taskCopy); st.n != len(s.tasks) || st.busy < 150*time.Millisecond || (workers > 1 && st.last.Sub(st.first) >= st.busy) {
			t.Errorf("%d workers: stats %+v: want all tasks, busy time summed over workers beyond the wall time", workers, st)
		}
	}

	// A failure cancels the tasks that run and starts no other.
	s := &scheduler{}
	boom := errors.New("boom")
	var started []string
	slow := &task{name: "slow", cost: 100, run: func(ctx context.Context, w *worker) error {
		select {
		case <-ctx.Done():
			return fmt.Errorf("slow: %w", ctx.Err())
		case <-time.After(10 * time.Second):
			return nil
		}
	}}
	fail := &task{name: "fail", cost: 1, run: func(ctx context.Context, w *worker) error { return boom }}
	after := &task{name: "after", cost: 1, run: func(ctx context.Context, w *worker) error {
		mu.Lock()
		started = append(started, "after")
		mu.Unlock()
		return nil
	}}
	after.after(fail)
	s.tasks = []*task{slow, fail, after}
	start := time.Now()
	if err := s.run(context.Background(), make([]*worker, 2)); !errors.Is(err, boom) {
		t.Errorf("err = %v, want boom", err)
	}
	if time.Since(start) > 5*time.Second || len(started) > 0 {
		t.Errorf("after a failure: %s, started %v", time.Since(start), started)
	}

	// A cycle is a bug, reported before anything runs.
	s = &scheduler{}
	a, b := &task{name: "a"}, &task{name: "b"}
	a.after(b)
	b.after(a)
	s.tasks = []*task{a, b}
	if err := s.run(context.Background(), make([]*worker, 1)); err == nil {
		t.Error("a cycle ran")
	}
}

// TestScheduler_spare: a task is told how many workers have nothing to do
// beside it when it starts: none while the other workers run or have work
// waiting; a task that runs alone is told so.
func TestScheduler_spare(t *testing.T) {
	s := &scheduler{}
	spare := map[string]int{}
	var mu sync.Mutex
	mk := func(name string, d time.Duration) *task {
		tk := &task{kind: taskBuild, name: name, cost: float64(d)}
		tk.run = func(ctx context.Context, w *worker) error {
			mu.Lock()
			spare[name] = tk.spare
			mu.Unlock()
			time.Sleep(d)
			return nil
		}
		s.tasks = append(s.tasks, tk)
		return tk
	}
	a := mk("a", 40*time.Millisecond)
	b := mk("b", 40*time.Millisecond)
	c := mk("c", 40*time.Millisecond)
	last := mk("last", time.Millisecond)
	last.after(a, b, c)
	if err := s.run(context.Background(), make([]*worker, 3)); err != nil {
		t.Fatal(err)
	}
	want := map[string]int{"a": 0, "b": 0, "c": 0, "last": spareAlone}
	if fmt.Sprint(spare) != fmt.Sprint(want) {
		t.Errorf("spare workers %v, want %v", spare, want)
	}
}
