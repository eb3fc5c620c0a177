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
	costPerMasked   = 0.5 // a copy's extra cost per masked column, per page (masking is most of the client's work)
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
	p := &loadPlan{c: c, s: &scheduler{trace: c.opts.trace}, sizes: sizes, block: block, fam: c.families(),
		copies: map[string][]*task{}, builds: map[string]*task{}}
	p.firstWave, p.loaded, p.built = p.barrier(), p.barrier(), p.barrier()
	p.addCopies()
	p.addBuilds(groups)
	p.addLate(late)
	p.addForeignKeys(fks)

	err = p.s.run(ctx, c.workers)
	for _, tr := range c.runs {
		tr.endProgress(false)
	}
	if err != nil {
		return err
	}
	c.startLeakCheck() // when there was nothing to copy
	copySpan := p.s.span(taskCopy)
	c.dataDuration = copySpan.last.Sub(copySpan.first)
	c.addSpan(PhaseCopy, "copy the data", copySpan)
	c.addSpan(PhaseIndexes, "keys, checks and indexes", p.s.span(taskBuild, taskLate))
	c.addSpan(PhaseForeignKeys, "foreign keys", p.s.span(taskAddFK, taskValidate))
	c.phaseStart = time.Now()
	return nil
}

// loadPlan builds the task graph of one load.
type loadPlan struct {
	c     *cloner
	s     *scheduler
	sizes map[string]tableSize
	block int64
	fam   map[string][]string // see families

	copies map[string][]*task // a table's copy tasks (its ranges)
	builds map[string]*task   // a tree's build, by root
	// firstWave is done when the tables whose load runs no user code are
	// loaded and their trees built; loaded when every table is loaded;
	// built when every tree is built.
	firstWave, loaded, built *task
	copiesLeft               atomic.Int64 // for the leak check's start
}

func (p *loadPlan) add(t *task) *task {
	p.s.tasks = append(p.s.tasks, t)
	return t
}

func (p *loadPlan) barrier() *task { return p.add(&task{barrier: true}) }

// family is a relation and the relations below it.
func (p *loadPlan) family(name string) []string {
	if f := p.fam[name]; len(f) > 0 {
		return f
	}
	return []string{name}
}

// locks locks the families of names in mode.
func (p *loadPlan) locks(mode lockMode, names ...string) []tableLock {
	var out []tableLock
	seen := map[string]bool{}
	for _, n := range names {
		for _, m := range p.family(n) {
			if !seen[m] {
				seen[m] = true
				out = append(out, tableLock{m, mode})
			}
		}
	}
	return out
}

// pages is the size of the families of names, at least 1.
func (p *loadPlan) pages(names ...string) float64 {
	var n int64
	for _, name := range names {
		for _, m := range p.family(name) {
			n += p.sizes[m].total
		}
	}
	return float64(max(n, 1))
}

// addCopies adds the copy of every table, in ranges for large ones.
func (p *loadPlan) addCopies() {
	c := p.c
	for _, tp := range c.pol.analysis.Tables {
		rel := c.pol.cat.rels[tp.Name]
		size := p.sizes[tp.Name]
		rs := c.ranges(size, p.block)
		tr := &tableRun{tp: tp, left: len(rs)}
		c.runs = append(c.runs, tr)
		lk := []tableLock{{tp.Name, lockRowExclusive}}
		if c.routesThroughRoot(rel, c.pol.columns[tp.Name]) {
			lk = p.locks(lockRowExclusive, rel.root)
		}
		codeOnLoad := c.objs.codeOnLoad[tp.Name]
		for _, r := range rs {
			name := tp.Name
			if len(rs) > 1 {
				name += " (" + r.String() + ")"
			}
			t := p.add(&task{kind: taskCopy, name: name, locks: lk, readsAll: codeOnLoad,
				cost: max(1, float64(size.total)*(1+costPerMasked*float64(len(tp.Masked)))/float64(len(rs)))})
			t.run = func(ctx context.Context, w *worker) error {
				n, err := c.copyTable(ctx, w, tr, r)
				t.rows = n
				if err == nil && p.copiesLeft.Add(-1) == 0 {
					c.startLeakCheck()
				}
				return err
			}
			p.copiesLeft.Add(1)
			p.copies[tp.Name] = append(p.copies[tp.Name], t)
			if codeOnLoad {
				t.after(p.firstWave)
			} else {
				p.firstWave.after(t)
			}
			p.loaded.after(t)
		}
	}
}

// addBuilds adds the build of each tree's keys, checks and indexes, once
// its tables are loaded.
func (p *loadPlan) addBuilds(groups map[string][]string) {
	c := p.c
	roots := map[string]bool{}
	for root := range groups {
		roots[root] = true
	}
	for _, tp := range c.pol.analysis.Tables {
		roots[c.root(tp.Name)] = true
	}
	for _, root := range sortedStringKeys(roots) {
		stmts := groups[root]
		t := p.add(&task{kind: taskBuild, name: root})
		if len(stmts) == 0 {
			t.barrier = true
		} else {
			t.locks = p.locks(lockAccessExclusive, root)
			t.cost = p.pages(root) * costPerIndex * float64(len(stmts))
			t.run = func(ctx context.Context, w *worker) error {
				c.hold(HoldIndex)
				if err := w.limitParallel(ctx, t.spare); err != nil {
					return err
				}
				if err := execAll(ctx, w.tgt, false, stmts); err != nil {
					return fmt.Errorf("pgclone: creating constraints and indexes: %w", err)
				}
				return nil
			}
		}
		firstWave := true
		for _, m := range p.family(root) {
			t.after(p.copies[m]...)
			firstWave = firstWave && !c.objs.codeOnLoad[m]
		}
		if firstWave {
			p.firstWave.after(t)
		}
		p.built.after(t)
		p.builds[root] = t
	}
}

// addLate adds the checks and indexes that call user functions, once
// every table is loaded and every tree built.
func (p *loadPlan) addLate(late []lateDDL) {
	if len(late) == 0 {
		return
	}
	var tables, stmts []string
	for _, l := range late {
		tables = append(tables, l.table)
		stmts = append(stmts, l.stmt)
	}
	t := p.add(&task{kind: taskLate, name: "checks and indexes that call functions", readsAll: true,
		locks: p.locks(lockAccessExclusive, tables...), cost: p.pages(tables...) * costPerIndex})
	t.run = func(ctx context.Context, w *worker) error {
		if err := w.limitParallel(ctx, t.spare); err != nil {
			return err
		}
		if err := execAll(ctx, w.tgt, false, stmts); err != nil {
			return fmt.Errorf("pgclone: creating checks and indexes that call functions: %w", err)
		}
		return nil
	}
	t.after(p.loaded, p.built)
}

// addForeignKeys adds each foreign key once the referencing table is
// loaded and the referenced keys exist (both trees built), and its
// validation after it.
func (p *loadPlan) addForeignKeys(fks []fkDDL) {
	c := p.c
	for _, fk := range fks {
		a := p.add(&task{kind: taskAddFK, name: fk.name + " on " + fk.table, locks: p.locks(lockShareRowExclusive, fk.table, fk.ref), cost: 1})
		if fk.validate == "" {
			a.cost = p.pages(fk.table) * costPerValidate // checked as it is added
		}
		a.run = func(ctx context.Context, w *worker) error {
			if err := w.limitParallel(ctx, a.spare); err != nil {
				return err
			}
			if _, err := w.tgt.Exec(ctx, fk.add); err != nil {
				return fmt.Errorf("pgclone: creating foreign keys: %w\n%s", err, fk.add)
			}
			return nil
		}
		a.after(p.builds[c.root(fk.table)], p.builds[c.root(fk.ref)])
		if fk.validate == "" {
			continue
		}
		v := p.add(&task{kind: taskValidate, name: fk.name + " on " + fk.table, cost: p.pages(fk.table) * costPerValidate,
			locks: append([]tableLock{{fk.table, lockShareUpdateExclusive}}, p.locks(lockRowShare, fk.ref)...)})
		v.run = func(ctx context.Context, w *worker) error {
			c.hold(HoldValidate)
			if err := w.limitParallel(ctx, v.spare); err != nil {
				return err
			}
			if _, err := w.tgt.Exec(ctx, fk.validate); err != nil {
				return fmt.Errorf("pgclone: validating foreign keys: %w\n%s", err, fk.validate)
			}
			return nil
		}
		v.after(a)
	}
}
