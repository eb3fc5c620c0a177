package pgclone

import (
	"context"
	"fmt"
	"strings"
	"sync/atomic"
	"time"

	"github.com/jackc/pgx/v5"
)

// Cost estimates of the load's tasks, in pages of the tables they work on
// (a copy costs its pages): they only order the tasks (see scheduler).
const (
	costPerIndex    = 0.4 // a key, check or index of a tree, per page of the tree
	costPerValidate = 0.3 // a foreign key's validation, per page of the referencing table
)

// lateDDL is a check or index that calls a user function, on table.
type lateDDL struct {
	table, stmt string
}

// fkDDL is a foreign key of table referencing ref: add creates it (NOT
// VALID when validate is set, which validates it).
type fkDDL struct {
	name, table, ref string
	add, validate    string
}

// postDataDDL groups constraints and indexes by partition tree (one group
// is built by one task), and returns apart those that call user functions
// (late: they may read other tables, so they wait for all the data) and
// the foreign keys.
func (c *cloner) postDataDDL() (byRoot map[string][]string, late []lateDDL, fks []fkDDL) {
	byRoot = map[string][]string{}
	add := func(table, stmt string) {
		root := c.root(table)
		byRoot[root] = append(byRoot[root], stmt)
	}
	for _, k := range c.objs.constraints {
		stmt := c.names.rewrite(fmt.Sprintf("ALTER TABLE %s ADD CONSTRAINT %s %s", quoteQualified(k.table), pgx.Identifier{k.name}.Sanitize(), k.def))
		if k.kind == 'f' {
			if ref := c.pol.cat.rels[k.refTable]; ref == nil || !ref.included {
				c.skipped = append(c.skipped, fmt.Sprintf("foreign key %s on %s: %s is not copied", k.name, k.table, k.refTable))
				continue
			}
			// Added NOT VALID (no scan, an instant's locks), then validated
			// under locks that let other validations run (see schedule.go).
			// Partitioned tables do not take NOT VALID foreign keys.
			fk := fkDDL{name: k.name, table: k.table, ref: k.refTable, add: stmt}
			if r := c.pol.cat.rels[k.table]; r != nil && r.kind != 'p' && !strings.HasSuffix(k.def, " NOT VALID") {
				fk.add += " NOT VALID"
				fk.validate = c.names.rewrite(fmt.Sprintf("ALTER TABLE %s VALIDATE CONSTRAINT %s", quoteQualified(k.table), pgx.Identifier{k.name}.Sanitize()))
			}
			fks = append(fks, fk)
			c.count(KindForeignKey)
			continue
		}
		if k.late {
			late = append(late, lateDDL{k.table, stmt})
		} else {
			add(k.table, stmt)
		}
		c.count(KindConstraint)
	}
	for _, ix := range c.objs.indexes {
		if ix.late {
			late = append(late, lateDDL{ix.table, c.names.rewrite(ix.def)})
		} else {
			add(ix.table, c.names.rewrite(ix.def))
		}
		c.count(KindIndex)
	}
	return byRoot, late, fks
}

// families maps each copied relation to itself and every relation below
// it, through partitions and inheritance: what ALTER TABLE on it may
// recurse into.
func (c *cloner) families() map[string][]string {
	children := map[string][]string{}
	for _, r := range c.pol.cat.order {
		if !r.included {
			continue
		}
		if r.isPartition {
			children[r.parent] = append(children[r.parent], r.qualified())
		}
		for _, p := range r.inherits {
			children[p] = append(children[p], r.qualified())
		}
	}
	fam := map[string][]string{}
	for _, r := range c.pol.cat.order {
		if !r.included {
			continue
		}
		seen := map[string]bool{}
		var walk func(string)
		walk = func(n string) {
			if seen[n] {
				return
			}
			seen[n] = true
			fam[r.qualified()] = append(fam[r.qualified()], n)
			for _, ch := range children[n] {
				walk(ch)
			}
		}
		walk(r.qualified())
	}
	return fam
}

// load copies the data and builds keys, checks, indexes and foreign keys
// as one graph of tasks on the workers (see schedule.go): a tree's keys
// and indexes as soon as its tables are loaded, a foreign key as soon as
// both its tables are loaded and the referenced tree's keys exist, while
// other tables still copy. Tables whose load runs user code (a domain
// CHECK or a generated column calling a function, which may read other
// tables) are copied after all the other tables are loaded and indexed,
// and the checks and indexes that call user functions are built once all
// the data is in. The leak check starts as soon as the last copy ends.
func (c *cloner) load(ctx context.Context) error {
	sizes, block, err := c.tableSizes(ctx)
	if err != nil {
		return c.sourceError(ctx, err)
	}
	groups, late, fks := c.postDataDDL()
	fam := c.families()
	family := func(name string) []string {
		if f := fam[name]; len(f) > 0 {
			return f
		}
		return []string{name}
	}
	locks := func(mode lockMode, names ...string) []tableLock {
		var out []tableLock
		seen := map[string]bool{}
		for _, n := range names {
			for _, m := range family(n) {
				if !seen[m] {
					seen[m] = true
					out = append(out, tableLock{m, mode})
				}
			}
		}
		return out
	}
	pages := func(names ...string) float64 {
		var p int64
		for _, n := range names {
			for _, m := range family(n) {
				p += sizes[m].total
			}
		}
		return float64(max(p, 1))
	}

	s := &scheduler{trace: c.opts.trace}
	add := func(t *task) *task {
		s.tasks = append(s.tasks, t)
		return t
	}
	barrier := func(name string) *task { return add(&task{name: name, barrier: true}) }

	// Copies, in ranges for large tables.
	var copiesLeft atomic.Int64
	copies := map[string][]*task{}
	firstWave, secondWave := barrier("first wave loaded"), barrier("all tables loaded")
	for _, tp := range c.pol.analysis.Tables {
		rel := c.pol.cat.rels[tp.Name]
		size := sizes[tp.Name]
		rs := c.ranges(size, block)
		tr := &tableRun{tp: tp, left: len(rs)}
		c.runs = append(c.runs, tr)
		lk := []tableLock{{tp.Name, lockRowExclusive}}
		if c.routesThroughRoot(rel, c.pol.columns[tp.Name]) {
			lk = locks(lockRowExclusive, rel.root)
		}
		for _, r := range rs {
			name := tp.Name
			if len(rs) > 1 {
				name += " (" + r.String() + ")"
			}
			t := add(&task{kind: taskCopy, name: name, locks: lk, readsAll: c.objs.codeOnLoad[tp.Name],
				cost: max(1, float64(size.total)/float64(len(rs)))})
			t.run = func(ctx context.Context, w *worker) error {
				n, err := c.copyTable(ctx, w, tr, r)
				t.rows = n
				if err == nil && copiesLeft.Add(-1) == 0 {
					c.startLeakCheck()
				}
				return err
			}
			copiesLeft.Add(1)
			copies[tp.Name] = append(copies[tp.Name], t)
			if c.objs.codeOnLoad[tp.Name] {
				t.after(firstWave)
			} else {
				firstWave.after(t)
			}
			secondWave.after(t)
		}
	}

	// Keys, checks and indexes of each tree, once its tables are loaded.
	roots := map[string]bool{}
	for root := range groups {
		roots[root] = true
	}
	for _, tp := range c.pol.analysis.Tables {
		roots[c.root(tp.Name)] = true
	}
	builds := map[string]*task{}
	allBuilt := barrier("all trees built")
	for _, root := range sortedStringKeys(roots) {
		stmts := groups[root]
		t := add(&task{kind: taskBuild, name: root})
		if len(stmts) == 0 {
			t.barrier = true
		} else {
			t.locks = locks(lockAccessExclusive, root)
			t.cost = pages(root) * costPerIndex * float64(len(stmts))
			t.run = func(ctx context.Context, w *worker) error {
				c.hold(HoldIndex)
				if err := execAll(ctx, w.tgt, false, stmts); err != nil {
					return fmt.Errorf("pgclone: creating constraints and indexes: %w", err)
				}
				return nil
			}
		}
		wave1 := true
		for _, m := range family(root) {
			t.after(copies[m]...)
			if c.objs.codeOnLoad[m] {
				wave1 = false
			}
		}
		if wave1 {
			firstWave.after(t)
		}
		allBuilt.after(t)
		builds[root] = t
	}
	// Checks and indexes that call user functions, once every table is
	// loaded and indexed.
	if len(late) > 0 {
		var tables, stmts []string
		for _, l := range late {
			tables = append(tables, l.table)
			stmts = append(stmts, l.stmt)
		}
		t := add(&task{kind: taskLate, name: "checks and indexes that call functions", readsAll: true,
			locks: locks(lockAccessExclusive, tables...), cost: pages(tables...) * costPerIndex})
		t.run = func(ctx context.Context, w *worker) error {
			if err := execAll(ctx, w.tgt, false, stmts); err != nil {
				return fmt.Errorf("pgclone: creating checks and indexes that call functions: %w", err)
			}
			return nil
		}
		t.after(secondWave, allBuilt)
	}

	// Foreign keys: added once the referencing table is loaded and the
	// referenced keys exist, then validated.
	for _, fk := range fks {
		a := add(&task{kind: taskAddFK, name: fk.name + " on " + fk.table, locks: locks(lockShareRowExclusive, fk.table, fk.ref), cost: 1})
		if fk.validate == "" {
			a.cost = pages(fk.table) * costPerValidate // checked as it is added
		}
		a.run = func(ctx context.Context, w *worker) error {
			if _, err := w.tgt.Exec(ctx, fk.add); err != nil {
				return fmt.Errorf("pgclone: creating foreign keys: %w\n%s", err, fk.add)
			}
			return nil
		}
		a.after(builds[c.root(fk.table)], builds[c.root(fk.ref)])
		if fk.validate == "" {
			continue
		}
		v := add(&task{kind: taskValidate, name: fk.name + " on " + fk.table, cost: pages(fk.table) * costPerValidate,
			locks: append([]tableLock{{fk.table, lockShareUpdateExclusive}}, locks(lockRowShare, fk.ref)...)})
		v.run = func(ctx context.Context, w *worker) error {
			c.hold(HoldValidate)
			if _, err := w.tgt.Exec(ctx, fk.validate); err != nil {
				return fmt.Errorf("pgclone: validating foreign keys: %w\n%s", err, fk.validate)
			}
			return nil
		}
		v.after(a)
	}

	err = s.run(ctx, c.workers)
	for _, tr := range c.runs {
		tr.endProgress(false)
	}
	if err != nil {
		return err
	}
	c.startLeakCheck() // when there was nothing to copy
	copySpan := s.span(taskCopy)
	c.dataDuration = copySpan.last.Sub(copySpan.first)
	c.addSpan(PhaseCopy, "copy the data", copySpan)
	c.addSpan(PhaseIndexes, "keys, checks and indexes", s.span(taskBuild, taskLate))
	c.addSpan(PhaseForeignKeys, "foreign keys", s.span(taskAddFK, taskValidate))
	c.phaseStart = time.Now()
	return nil
}
