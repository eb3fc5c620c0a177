package pgclone

import (
	"context"
	"errors"
	"fmt"
	"sync"
	"time"
)

// The load of a clone is a graph of tasks run by the Parallelism workers
// (each one source transaction in the shared snapshot and one target
// session): copies of tables or of ranges of a table, builds of a table
// tree's keys, checks and indexes, foreign keys added and validated, and
// the checks and indexes that call user functions. A task starts when the
// tasks it needs are done, highest priority first: the one with the
// longest estimated path of work behind it, so that big tables are copied
// first and a tree's indexes are built while other tables still copy.
//
// No task ever waits for another task's lock on a shadow table. Each task
// declares the strongest lock it takes on each shadow table (COPY: ROW
// EXCLUSIVE; ALTER TABLE ADD PRIMARY KEY/UNIQUE/CHECK: ACCESS EXCLUSIVE,
// on every partition and inheritance child too; ADD FOREIGN KEY: SHARE ROW
// EXCLUSIVE on both tables; VALIDATE CONSTRAINT: SHARE UPDATE EXCLUSIVE on
// the referencing table and ROW SHARE on the referenced one), and the
// scheduler never runs two tasks whose locks conflict in PostgreSQL's
// table of lock modes; a task that may run user code reading any table
// (a COPY into a table whose domain checks or generated columns call
// functions, the late checks) counts as ACCESS SHARE on every table. So
// no session of the clone blocks another, and there is no deadlock to
// break. Foreign keys are added NOT VALID, committed, then validated: the
// SHARE ROW EXCLUSIVE of the addition is held for an instant, and
// validations of foreign keys that reference the same table run side by
// side (ROW SHARE does not conflict with itself).

// lockMode is a PostgreSQL table lock mode, weakest first.
type lockMode uint8

const (
	lockAccessShare lockMode = iota + 1
	lockRowShare
	lockRowExclusive
	lockShareUpdateExclusive
	lockShare
	lockShareRowExclusive
	lockExclusive
	lockAccessExclusive
)

// lockConflicts[m] has bit n set when mode m conflicts with mode n
// (PostgreSQL documentation, "Table-Level Lock Modes").
var lockConflicts = func() [9]uint16 {
	bits := func(ms ...lockMode) uint16 {
		var b uint16
		for _, m := range ms {
			b |= 1 << m
		}
		return b
	}
	var t [9]uint16
	t[lockAccessShare] = bits(lockAccessExclusive)
	t[lockRowShare] = bits(lockExclusive, lockAccessExclusive)
	t[lockRowExclusive] = bits(lockShare, lockShareRowExclusive, lockExclusive, lockAccessExclusive)
	t[lockShareUpdateExclusive] = bits(lockShareUpdateExclusive, lockShare, lockShareRowExclusive, lockExclusive, lockAccessExclusive)
	t[lockShare] = bits(lockRowExclusive, lockShareUpdateExclusive, lockShareRowExclusive, lockExclusive, lockAccessExclusive)
	t[lockShareRowExclusive] = bits(lockRowExclusive, lockShareUpdateExclusive, lockShare, lockShareRowExclusive, lockExclusive, lockAccessExclusive)
	t[lockExclusive] = bits(lockRowShare, lockRowExclusive, lockShareUpdateExclusive, lockShare, lockShareRowExclusive, lockExclusive, lockAccessExclusive)
	t[lockAccessExclusive] = bits(lockAccessShare, lockRowShare, lockRowExclusive, lockShareUpdateExclusive, lockShare, lockShareRowExclusive, lockExclusive, lockAccessExclusive)
	return t
}()

func (m lockMode) conflicts(o lockMode) bool { return lockConflicts[m]&(1<<o) != 0 }

// taskKind says what a task does.
type taskKind uint8

const (
	taskCopy     taskKind = iota // copy a table, or one range of it
	taskBuild                    // a table tree's keys, checks and indexes
	taskAddFK                    // add a foreign key (NOT VALID when it can)
	taskValidate                 // validate a foreign key added NOT VALID
	taskLate                     // checks and indexes that call user functions
	numTaskKinds
)

var taskKindNames = [numTaskKinds]string{"copy", "build", "add_fk", "validate", "late"}

func (k taskKind) String() string { return taskKindNames[k] }

// spareAlone is the spare count of a task that runs alone.
const spareAlone = -1

// task is one unit of work of the load.
type task struct {
	kind taskKind
	name string // what it works on, for traces and errors
	// cost estimates the task's work (in pages of data it reads or sorts).
	cost float64
	// locks are the locks the task takes on shadow tables; readsAll marks
	// a task that may read any table (ACCESS SHARE on all).
	locks    []tableLock
	readsAll bool
	run      func(ctx context.Context, w *worker) error
	// barrier marks a task that does nothing: it is done as soon as what
	// it waits for is, without a worker.
	barrier bool
	// rows, set by a copy's run, is how many rows it copied.
	rows int64
	// spare, set when the task starts, is how many workers have no task
	// to run beside it then, or spareAlone (see worker.limitParallel).
	spare int

	next    []*task // tasks that need this one
	waiting int     // unfinished tasks this one needs
	prio    float64 // cost of the longest path from here to the end
}

// tableLock is a lock a task takes on one shadow table ("schema.table" of
// the source).
type tableLock struct {
	table string
	mode  lockMode
}

// after makes t wait for deps.
func (t *task) after(deps ...*task) {
	for _, d := range deps {
		if d == nil || d == t {
			continue
		}
		d.next = append(d.next, t)
		t.waiting++
	}
}

// conflicts reports whether t and o may not run at the same time.
func (t *task) conflicts(o *task) bool {
	strong := func(x *task) bool {
		for _, l := range x.locks {
			if l.mode.conflicts(lockAccessShare) {
				return true
			}
		}
		return false
	}
	if (t.readsAll && strong(o)) || (o.readsAll && strong(t)) {
		return true
	}
	for _, a := range t.locks {
		for _, b := range o.locks {
			if a.table == b.table && a.mode.conflicts(b.mode) {
				return true
			}
		}
	}
	return false
}

// taskTrace is one task run, reported to Options.trace.
type taskTrace struct {
	Kind       taskKind
	Name       string
	Worker     int
	Start, End time.Time // End is zero when the task starts
	Rows       int64     // rows copied, for a copy
	Err        error
}

// kindStats is what the tasks of one kind did: the wall interval from the
// first start to the last end, and the time summed over workers.
type kindStats struct {
	first, last time.Time
	busy        time.Duration
	n           int
}

// scheduler runs a task graph on workers.
type scheduler struct {
	tasks []*task
	trace func(taskTrace)

	workers int // how many run the tasks
	mu      sync.Mutex
	cond    *sync.Cond
	ready   []*task
	running []*task
	left    int
	err     error
	stats   [numTaskKinds]kindStats
}

// prioritize computes each task's priority, the estimated cost of the
// longest path of tasks from it to the end, and fails on a cycle.
func (s *scheduler) prioritize() error {
	// Kahn's algorithm gives a topological order; priorities are summed
	// backwards along it.
	indeg := make(map[*task]int, len(s.tasks))
	for _, t := range s.tasks {
		indeg[t] = t.waiting
	}
	order := make([]*task, 0, len(s.tasks))
	for _, t := range s.tasks {
		if t.waiting == 0 {
			order = append(order, t)
		}
	}
	for i := 0; i < len(order); i++ {
		for _, n := range order[i].next {
			if indeg[n]--; indeg[n] == 0 {
				order = append(order, n)
			}
		}
	}
	if len(order) != len(s.tasks) {
		return errors.New("pgclone: the load's tasks depend on each other in a cycle; please report this issue")
	}
	for i := len(order) - 1; i >= 0; i-- {
		t := order[i]
		var tail float64
		for _, n := range t.next {
			tail = max(tail, n.prio)
		}
		t.prio = t.cost + tail
	}
	return nil
}

// run runs every task on the workers and returns the first error; a
// failed task cancels the others.
func (s *scheduler) run(ctx context.Context, workers []*worker) error {
	if err := s.prioritize(); err != nil {
		return err
	}
	s.cond = sync.NewCond(&s.mu)
	s.left = len(s.tasks)
	s.workers = len(workers)
	// The tasks that wait for nothing, gathered before any is released:
	// releasing a barrier finishes it and may release tasks further on
	// in s.tasks, which the same loop would then release a second time
	// (two workers then copied one table twice).
	var initial []*task
	for _, t := range s.tasks {
		if t.waiting == 0 {
			initial = append(initial, t)
		}
	}
	for _, t := range initial {
		s.release(t)
	}
	ctx, cancel := context.WithCancelCause(ctx)
	defer cancel(nil)
	stop := context.AfterFunc(ctx, func() {
		s.mu.Lock()
		defer s.mu.Unlock()
		if s.err == nil {
			s.err = context.Cause(ctx)
		}
		s.cond.Broadcast()
	})
	defer stop()
	var wg sync.WaitGroup
	for i, w := range workers {
		wg.Add(1)
		go func() {
			defer wg.Done()
			for {
				t := s.take()
				if t == nil {
					return
				}
				start := time.Now()
				if s.trace != nil {
					s.trace(taskTrace{Kind: t.kind, Name: t.name, Worker: i, Start: start})
				}
				err := t.run(ctx, w)
				end := time.Now()
				if s.trace != nil {
					s.trace(taskTrace{Kind: t.kind, Name: t.name, Worker: i, Start: start, End: end, Rows: t.rows, Err: err})
				}
				if err != nil && ctx.Err() != nil {
					// Stopped because another task failed or the clone
					// was cancelled: say so first.
					if cause := context.Cause(ctx); !errors.Is(err, cause) {
						err = fmt.Errorf("%w: %w", cause, err)
					}
				}
				// The first error is recorded before the others are
				// cancelled, so that it is the one returned.
				s.done(t, start, end, err)
				if err != nil {
					cancel(err)
				}
			}
		}()
	}
	wg.Wait()
	return s.err
}

// take waits for a task that can start and marks it running; nil when the
// work is done or failed.
func (s *scheduler) take() *task {
	s.mu.Lock()
	defer s.mu.Unlock()
	for {
		if s.err != nil || s.left == 0 {
			return nil
		}
		best := -1
		for i, t := range s.ready {
			if (best < 0 || t.prio > s.ready[best].prio) && !s.blocked(t) {
				best = i
			}
		}
		if best >= 0 {
			t := s.ready[best]
			s.ready = append(s.ready[:best], s.ready[best+1:]...)
			s.running = append(s.running, t)
			// Ready tasks are counted as busy workers even when a lock
			// holds them back for now: they soon will be. A task alone
			// (with parallelism 1, or the last ones) keeps the server's
			// own settings: nothing of the clone competes with it.
			t.spare = max(0, s.workers-len(s.running)-len(s.ready))
			if len(s.running) == 1 && len(s.ready) == 0 {
				t.spare = spareAlone
			}
			return t
		}
		if len(s.running) == 0 {
			// Nothing runs, nothing can start: a bug in the graph.
			s.err = fmt.Errorf("pgclone: %d tasks of the load can never start; please report this issue", s.left)
			s.cond.Broadcast()
			return nil
		}
		s.cond.Wait()
	}
}

// blocked reports whether t conflicts with a running task.
func (s *scheduler) blocked(t *task) bool {
	for _, r := range s.running {
		if t.conflicts(r) {
			return true
		}
	}
	return false
}

// done records the end of t and releases the tasks that waited for it.
func (s *scheduler) done(t *task, start, end time.Time, err error) {
	s.mu.Lock()
	defer s.mu.Unlock()
	for i, r := range s.running {
		if r == t {
			s.running = append(s.running[:i], s.running[i+1:]...)
			break
		}
	}
	st := &s.stats[t.kind]
	if st.n == 0 || start.Before(st.first) {
		st.first = start
	}
	if end.After(st.last) {
		st.last = end
	}
	st.busy += end.Sub(start)
	st.n++
	if err != nil {
		if s.err == nil {
			s.err = err
		}
	} else {
		s.finish(t)
	}
	s.cond.Broadcast()
}

// release makes t ready, or done when it is a barrier.
func (s *scheduler) release(t *task) {
	if t.barrier {
		s.finish(t)
		return
	}
	s.ready = append(s.ready, t)
}

// finish counts t done and releases the tasks that waited only for it.
func (s *scheduler) finish(t *task) {
	s.left--
	for _, n := range t.next {
		if n.waiting--; n.waiting == 0 {
			s.release(n)
		}
	}
}

// span merges the stats of kinds into one wall interval and busy time.
func (s *scheduler) span(kinds ...taskKind) kindStats {
	var out kindStats
	for _, k := range kinds {
		st := s.stats[k]
		if st.n == 0 {
			continue
		}
		if out.n == 0 || st.first.Before(out.first) {
			out.first = st.first
		}
		if st.last.After(out.last) {
			out.last = st.last
		}
		out.busy += st.busy
		out.n += st.n
	}
	return out
}
