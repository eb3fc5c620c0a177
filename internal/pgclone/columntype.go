package pgclone

import (
	"context"
	"errors"
	"fmt"
	"strings"

	"github.com/jackc/pgx/v5/pgconn"

	"github.com/stagingkit/terraform-provider-staging/internal/masking"
)

// How the clone judges a column's equality: its base type (domains
// resolved, however deeply nested), its collation, and every unique
// index's key over it, read from the catalog rather than matched in the
// index's text.

// ProblemOutputDoesNotFit: a rule writes values the column's type refuses
// (longer than varchar(n), beyond an integer range or numeric(p, s)) or
// that every value of the type is too small to encrypt.
const ProblemOutputDoesNotFit = "output_does_not_fit"

// class is the column's equality class for masking: its base type's
// bounds and equality, case-insensitive when the column's collation, a
// unique index's collation or a unique index's expression compares it
// ignoring case.
func (c *column) class() masking.ColumnClass {
	typ := c.baseTyp
	if typ == "" {
		typ = c.typ
	}
	return masking.ClassOf(typ, c.caseInsensitive)
}

// isArray reports whether the column holds arrays, its own type or the
// base type of its domain: rules mask such a column element by element.
func (c *column) isArray() bool { return isArrayType(c.typ) || isArrayType(c.baseTyp) }

// uniqueIndexKey is one key column or expression of a unique index.
type uniqueIndexKey struct {
	rel           uint32
	index         string // quoted, qualified
	attnum        int    // 0 for an expression
	expr          string // pg_get_indexdef of the key alone
	deterministic bool   // the key's collation (true when it has none)
	// exclusion is set for an exclusion constraint's key (named with its
	// constraint in index); equality when its operator is a btree or hash
	// equality (WITH =), which makes it unique like a unique index's key.
	exclusion, equality bool
	// wholeRow: the index's expressions or predicate read the whole row
	// (key_of(t)), so the index covers every column of the table.
	wholeRow bool
}

// readUniqueIndexes reads the keys of every unique index of the given
// relations and marks their columns: case-insensitive where a key
// compares the column ignoring case (a nondeterministic collation on the
// index, lower() or upper() of it, a cast to citext), and unsafeIndex
// where an expression over the column is one the clone cannot judge
// (lower(trim(col)), col || other, ...): masking could make distinct
// keys equal there, so a rule on it is refused (fail closed).
func readUniqueIndexes(ctx context.Context, q Querier, oids []uint32, byOID map[uint32]*relation) error {
	rows, err := q.Query(ctx, `
		SELECT i.indrelid, quote_ident(n.nspname) || '.' || quote_ident(ic.relname), i.indkey[k.pos]::int,
		       CASE WHEN i.indkey[k.pos] = 0 THEN pg_get_indexdef(i.indexrelid, k.pos + 1, true) ELSE '' END,
		       coalesce((SELECT co.collisdeterministic FROM pg_collation co WHERE co.oid = i.indcollation[k.pos]), true),
		       i.indisexclusion,
		       coalesce((SELECT EXISTS (SELECT 1 FROM pg_amop am JOIN pg_am a ON a.oid = am.amopmethod
		                                 WHERE am.amopopr = con.conexclop[k.pos + 1]
		                                   AND (a.amname = 'btree' AND am.amopstrategy = 3 OR a.amname = 'hash' AND am.amopstrategy = 1))
		                 FROM pg_constraint con WHERE con.conindid = i.indexrelid AND con.contype = 'x'), false),
		       coalesce(i.indexprs::text ~ ':varattno 0 ', false) OR coalesce(i.indpred::text ~ ':varattno 0 ', false),
		       coalesce((SELECT quote_ident(con.conname) FROM pg_constraint con WHERE con.conindid = i.indexrelid AND con.contype = 'x'), ''),
		       coalesce((SELECT o.oprname FROM pg_constraint con JOIN pg_operator o ON o.oid = con.conexclop[k.pos + 1]
		                 WHERE con.conindid = i.indexrelid AND con.contype = 'x'), '')
		FROM pg_index i
		JOIN pg_class ic ON ic.oid = i.indexrelid JOIN pg_namespace n ON n.oid = ic.relnamespace
		CROSS JOIN LATERAL generate_series(0, i.indnkeyatts - 1) AS k(pos)
		WHERE i.indrelid = ANY ($1::oid[]) AND (i.indisunique OR i.indisexclusion)
		ORDER BY i.indrelid, ic.relname, k.pos`, oids)
	if err != nil {
		return fmt.Errorf("reading unique indexes: %w", err)
	}
	var keys []uniqueIndexKey
	for rows.Next() {
		var k uniqueIndexKey
		var con, op string
		if err := rows.Scan(&k.rel, &k.index, &k.attnum, &k.expr, &k.deterministic, &k.exclusion, &k.equality, &k.wholeRow, &con, &op); err != nil {
			rows.Close()
			return fmt.Errorf("reading unique indexes: %w", err)
		}
		k.index = "unique index " + k.index
		if k.exclusion {
			k.index = fmt.Sprintf("exclusion constraint %s (index %s, operator %s)", con, strings.TrimPrefix(k.index, "unique index "), op)
		}
		keys = append(keys, k)
	}
	if err := rows.Err(); err != nil {
		return fmt.Errorf("reading unique indexes: %w", err)
	}
	for _, k := range keys {
		rel := byOID[k.rel]
		if rel == nil {
			continue
		}
		for i := range rel.columns {
			c := &rel.columns[i]
			unsafe := func(expr string) {
				if c.unsafeIndex == "" {
					c.unsafeIndex, c.unsafeExpr = k.index, expr
				}
			}
			switch {
			case k.wholeRow:
				// The index reads the whole row (through a function of
				// it): no column's masking can be judged against it.
				unsafe(k.expr + " (the whole row)")
			case k.exclusion && !k.equality && (k.attnum == c.num || k.attnum == 0 && exprMentions(k.expr, c.name)):
				// Overlap (&&) and other operators: masking can make
				// values that did not conflict conflict.
				unsafe(c.name + " (its operator is not an equality)")
			case k.attnum == c.num:
				if k.exclusion {
					c.unique = true // WITH =: unique like a unique index
				}
				if !k.deterministic {
					c.caseInsensitive = true
				}
			case k.attnum == 0 && exprMentions(k.expr, c.name):
				ci, known := judgeIndexExpr(k.expr, c.name)
				switch {
				case !known:
					unsafe(k.expr)
				case ci || !k.deterministic:
					c.caseInsensitive = true
				}
				if known && k.exclusion {
					c.uniqueExpr = true
				}
			}
		}
	}
	return nil
}

// judgeIndexExpr judges a unique index's key expression over column col:
// known when it is the column itself, lower() or upper() of it, or a
// cast of it to a text type or citext, in any nesting of those; ci when
// it compares the column ignoring case.
func judgeIndexExpr(expr, col string) (ci, known bool) {
	e := strings.TrimSpace(expr)
	for {
		e = stripParens(e)
		switch {
		case e == col || e == quoteIdent(col) || e == alwaysQuoted(col):
			return ci, true
		case hasCall(e, "lower"), hasCall(e, "upper"):
			ci = true
			e = e[strings.IndexByte(e, '(')+1 : len(e)-1]
			continue
		}
		cast := strings.LastIndex(e, "::")
		if cast < 0 {
			return ci, false
		}
		switch target := strings.Trim(strings.ToLower(e[cast+2:]), `"`); {
		case target == "citext" || strings.HasSuffix(target, ".citext"):
			ci = true
		case target == "text" || target == "character varying" || target == "varchar":
			// Unbounded text: the same equality. A length (varchar(n)
			// truncates), bpchar (trailing spaces) or name (63 bytes)
			// would make distinct masked values equal: not judged.
		default:
			return ci, false
		}
		e = e[:cast]
	}
}

// hasCall reports whether e is one call of fn over all of its arguments.
func hasCall(e, fn string) bool {
	lower := strings.ToLower(e)
	if !strings.HasPrefix(lower, fn+"(") && !strings.HasPrefix(lower, "pg_catalog."+fn+"(") || !strings.HasSuffix(e, ")") {
		return false
	}
	return balanced(e[strings.IndexByte(e, '(')+1 : len(e)-1])
}

// stripParens removes parentheses around all of e.
func stripParens(e string) string {
	for len(e) >= 2 && e[0] == '(' && e[len(e)-1] == ')' && balanced(e[1:len(e)-1]) {
		e = strings.TrimSpace(e[1 : len(e)-1])
	}
	return e
}

// balanced reports whether s's parentheses (outside quotes) pair up.
func balanced(s string) bool {
	depth, quote := 0, byte(0)
	for i := 0; i < len(s); i++ {
		c := s[i]
		switch {
		case quote != 0:
			if c == quote {
				quote = 0
			}
		case c == '\'' || c == '"':
			quote = c
		case c == '(':
			depth++
		case c == ')':
			depth--
			if depth < 0 {
				return false
			}
		}
	}
	return depth == 0 && quote == 0
}

// exprMentions reports whether expr names column col (bare or quoted).
// It errs towards yes: a function of the same name counts.
func exprMentions(expr, col string) bool {
	if strings.Contains(expr, alwaysQuoted(col)) {
		return true
	}
	isIdent := func(c byte) bool {
		return c == '_' || c == '$' || '0' <= c && c <= '9' || 'a' <= c && c <= 'z' || 'A' <= c && c <= 'Z' || c >= 0x80
	}
	for i := 0; i+len(col) <= len(expr); i++ {
		j := strings.Index(expr[i:], col)
		if j < 0 {
			return false
		}
		i += j
		if (i == 0 || !isIdent(expr[i-1])) && (i+len(col) == len(expr) || !isIdent(expr[i+len(col)])) {
			return true
		}
	}
	return false
}

// quoteIdent quotes a name as PostgreSQL's quote_ident does for a name
// that is not a plain lower-case identifier (keywords aside, which
// exprMentions and judgeIndexExpr also accept bare).
func quoteIdent(name string) string {
	plain := name != ""
	for i := 0; i < len(name); i++ {
		c := name[i]
		if !(c == '_' || 'a' <= c && c <= 'z' || i > 0 && ('0' <= c && c <= '9' || c == '$')) {
			plain = false
		}
	}
	if plain {
		return name
	}
	return `"` + strings.ReplaceAll(name, `"`, `""`) + `"`
}

// alwaysQuoted is name in double quotes, as PostgreSQL prints a keyword
// used as a column name.
func alwaysQuoted(name string) string { return `"` + strings.ReplaceAll(name, `"`, `""`) + `"` }

// withPartitions is column c of rel as the clone judges it: with what the
// unique indexes of the partitions in rel's tree (which may have their
// own) say about the column of the same name.
func (p *policy) withPartitions(rel *relation, c *column) *column {
	m := *c
	for _, r := range p.cat.order {
		if !r.isPartition || r.root != rel.root || r == rel {
			continue
		}
		if pc := r.column(c.name); pc != nil {
			m.caseInsensitive = m.caseInsensitive || pc.caseInsensitive
			m.uniqueExpr = m.uniqueExpr || pc.uniqueExpr
			if m.unsafeIndex == "" {
				m.unsafeIndex, m.unsafeExpr = pc.unsafeIndex, pc.unsafeExpr
			}
		}
	}
	return &m
}

// targetColumn names the column a target's COPY error is about, as
// ", column name", from the error's context ("COPY t, line 3, column c:
// <value>"), without the value; "" when the error does not say.
func targetColumn(err error) string {
	var pe *pgconn.PgError
	if !errors.As(err, &pe) {
		return ""
	}
	if pe.ColumnName != "" {
		return ", column " + pe.ColumnName
	}
	_, rest, ok := strings.Cut(pe.Where, ", column ")
	if !ok {
		return ""
	}
	if name, _, cut := strings.Cut(rest, ": "); cut {
		rest = name
	}
	if i := strings.IndexByte(rest, '\n'); i >= 0 {
		rest = rest[:i]
	}
	return ", column " + rest
}
