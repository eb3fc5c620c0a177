package isolation

import (
	"context"
	"errors"
	"fmt"
	"slices"
	"strings"

	"github.com/jackc/pgx/v5"
	"github.com/jackc/pgx/v5/pgconn"
	"github.com/jackc/pgx/v5/pgtype"
)

// DB is what the role functions need of a session or transaction.
type DB interface {
	Exec(ctx context.Context, sql string, args ...any) (pgconn.CommandTag, error)
	Query(ctx context.Context, sql string, args ...any) (pgx.Rows, error)
	QueryRow(ctx context.Context, sql string, args ...any) pgx.Row
}

// RoleLockKey is the transaction-level advisory lock that serialises
// changes to staging roles' grants in one database. Concurrent GRANTs on
// one object (a schema's ACL, a default ACL row) otherwise fail with
// "tuple concurrently updated".
const RoleLockKey int64 = 0x7374675f726f6c65 // "stg_role"

// LockRoles takes RoleLockKey until the transaction ends.
func LockRoles(ctx context.Context, tx DB) error {
	_, err := tx.Exec(ctx, "SELECT pg_advisory_xact_lock($1)", RoleLockKey)
	return err
}

// RoleState is what the database holds of a role.
type RoleState struct {
	Exists       bool
	Attributes   Attributes
	Registration Registration
	Registered   bool
	// Database is the current database's name.
	Database string
	// Privileges are those held directly in the current database, with its
	// memberships, sorted.
	Privileges []Privilege
	// Schemas are the listed schemas that exist.
	Schemas []string
	// Relations are the relations of the listed schemas the role does not
	// own.
	Relations []Relation
}

// ReadRole reads role name and its privileges in the current database;
// schemas are the schemas its preset covers.
func ReadRole(ctx context.Context, db DB, name string, schemas []string) (RoleState, error) {
	var st RoleState
	if err := db.QueryRow(ctx, "SELECT current_database()").Scan(&st.Database); err != nil {
		return st, err
	}
	var oid uint32
	var until pgtype.Timestamptz
	var comment string
	a := &st.Attributes
	err := db.QueryRow(ctx, `SELECT oid, rolcanlogin, rolsuper, rolcreatedb, rolcreaterole, rolreplication, rolbypassrls, rolinherit,
			rolconnlimit, rolvaliduntil, coalesce(shobj_description(oid, 'pg_authid'), '')
		FROM pg_roles WHERE rolname = $1`, name).Scan(&oid, &a.Login, &a.Superuser, &a.CreateDB, &a.CreateRole, &a.Replication, &a.BypassRLS, &a.Inherit,
		&a.ConnectionLimit, &until, &comment)
	switch {
	case errors.Is(err, pgx.ErrNoRows):
		// A role to create: the schemas and relations are still read.
	case err != nil:
		return st, fmt.Errorf("reading role %q: %w", name, err)
	default:
		st.Exists = true
		if until.Valid && until.InfinityModifier == pgtype.Finite {
			a.ValidUntil = until.Time.UTC()
		}
		st.Registration, st.Registered = ParseRegistration(comment)
		if st.Privileges, err = readPrivileges(ctx, db, oid); err != nil {
			return st, fmt.Errorf("reading the privileges of role %q: %w", name, err)
		}
	}
	if len(schemas) == 0 && st.Registered {
		schemas = st.Registration.Schemas
	}
	rows, err := db.Query(ctx, `SELECT nspname FROM pg_namespace WHERE nspname = ANY($1) ORDER BY 1`, schemas)
	if err != nil {
		return st, err
	}
	if st.Schemas, err = pgx.CollectRows(rows, pgx.RowTo[string]); err != nil {
		return st, err
	}
	rows, err = db.Query(ctx, `SELECT n.nspname, c.relname, c.relkind = 'S'
		FROM pg_class c JOIN pg_namespace n ON n.oid = c.relnamespace
		WHERE n.nspname = ANY($1) AND c.relkind IN ('r', 'p', 'v', 'm', 'f', 'S') AND c.relowner <> $2
		ORDER BY 1, 2`, schemas, oid)
	if err != nil {
		return st, err
	}
	st.Relations, err = pgx.CollectRows(rows, func(r pgx.CollectableRow) (Relation, error) {
		var rel Relation
		err := r.Scan(&rel.Schema, &rel.Name, &rel.Sequence)
		return rel, err
	})
	return st, err
}

// privilegesSQL lists the privileges granted directly to one role ($1)
// in the current database, and its memberships; objects the role owns are
// left out (an owner's privileges are implicit).
const privilegesSQL = `
SELECT 'database', '', d.datname, a.privilege_type
  FROM pg_database d, aclexplode(d.datacl) a WHERE d.datname = current_database() AND a.grantee = $1
UNION ALL
SELECT 'schema', n.nspname, '', a.privilege_type
  FROM pg_namespace n, aclexplode(n.nspacl) a WHERE a.grantee = $1 AND n.nspowner <> $1
UNION ALL
SELECT CASE WHEN c.relkind = 'S' THEN 'sequence' ELSE 'table' END, n.nspname, c.relname, a.privilege_type
  FROM pg_class c JOIN pg_namespace n ON n.oid = c.relnamespace, aclexplode(c.relacl) a
 WHERE a.grantee = $1 AND c.relowner <> $1
UNION ALL
SELECT 'column', n.nspname, c.relname || '.' || t.attname, a.privilege_type
  FROM pg_attribute t JOIN pg_class c ON c.oid = t.attrelid JOIN pg_namespace n ON n.oid = c.relnamespace, aclexplode(t.attacl) a
 WHERE a.grantee = $1 AND c.relowner <> $1
UNION ALL
SELECT 'function', n.nspname, p.oid::regprocedure::text, a.privilege_type
  FROM pg_proc p JOIN pg_namespace n ON n.oid = p.pronamespace, aclexplode(p.proacl) a
 WHERE a.grantee = $1 AND p.proowner <> $1
UNION ALL
SELECT 'default_' || CASE d.defaclobjtype WHEN 'r' THEN 'table' WHEN 'S' THEN 'sequence' WHEN 'f' THEN 'function' WHEN 'T' THEN 'type' ELSE 'schema' END,
       coalesce(n.nspname, ''), pg_get_userbyid(d.defaclrole), a.privilege_type
  FROM pg_default_acl d LEFT JOIN pg_namespace n ON n.oid = d.defaclnamespace, aclexplode(d.defaclacl) a
 WHERE a.grantee = $1 AND d.defaclrole <> $1
UNION ALL
SELECT 'membership', '', g.rolname, ''
  FROM pg_auth_members m JOIN pg_roles g ON g.oid = m.roleid WHERE m.member = $1`

func readPrivileges(ctx context.Context, db DB, oid uint32) ([]Privilege, error) {
	rows, err := db.Query(ctx, privilegesSQL, oid)
	if err != nil {
		return nil, err
	}
	ps, err := pgx.CollectRows(rows, func(r pgx.CollectableRow) (Privilege, error) {
		var p Privilege
		err := r.Scan(&p.Kind, &p.Schema, &p.Object, &p.Privilege)
		return p, err
	})
	SortPrivileges(ps)
	return ps, err
}

// Drift compares a role's state with r: what it lacks, what it has beyond
// its preset (privileges anywhere in the database, memberships) and the
// attribute flags that differ, each as a sentence. Connection limit and
// expiry are left to the caller, which shows them as attributes.
func (st RoleState) Drift(r Role) ([]string, error) {
	expected, err := r.Expected(st.Database, st.Schemas, st.Relations)
	if err != nil {
		return nil, err
	}
	missing, extra := Diff(expected, st.Privileges)
	var out []string
	for _, p := range missing {
		out = append(out, "lacks "+p.String())
	}
	for _, p := range extra {
		out = append(out, "has "+p.String()+" beyond its preset")
	}
	for _, f := range FlagDrift(st.Attributes) {
		out = append(out, "needs "+f)
	}
	return out, nil
}

// ApplyRole makes the database hold r exactly, in tx, under the role lock:
// it creates the role or fixes its attributes, sets its password when
// password says so (see PasswordChange), revokes every privilege and membership beyond the
// preset, grants the preset on each listed schema that exists, and
// records reg in the role's comment and, for the re-grant after a schema
// is replaced, in the grant catalog (see EnsureRegrant).
func ApplyRole(ctx context.Context, tx DB, r Role, reg Registration, password PasswordChange) error {
	if err := LockRoles(ctx, tx); err != nil {
		return err
	}
	st, err := ReadRole(ctx, tx, r.Name, r.Schemas)
	if err != nil {
		return err
	}
	var stmts []string
	if !st.Exists {
		stmts = append(stmts, r.CreateSQL(password.Verifier))
	} else {
		if s := r.AlterSQL(FlagDrift(st.Attributes)); s != "" {
			stmts = append(stmts, s)
		}
		stmts = append(stmts, r.LimitsSQL())
		if password.Set {
			stmts = append(stmts, r.PasswordSQL(password.Verifier))
		}
		expected, err := r.Expected(st.Database, st.Schemas, st.Relations)
		if err != nil {
			return err
		}
		_, extra := Diff(expected, st.Privileges)
		for _, p := range extra {
			stmts = append(stmts, p.RevokeSQL(r.Name))
		}
	}
	stmts = append(stmts, fmt.Sprintf("GRANT CONNECT ON DATABASE %s TO %s", pgx.Identifier{st.Database}.Sanitize(), pgx.Identifier{r.Name}.Sanitize()))
	for _, s := range r.Schemas {
		if !slices.Contains(st.Schemas, s) {
			continue
		}
		g, err := r.GrantSQL(s)
		if err != nil {
			return err
		}
		stmts = append(stmts, g...)
	}
	reg.Database, reg.Preset, reg.Schemas, reg.DefaultFor = st.Database, r.Preset, r.Schemas, r.DefaultFor
	comment, err := r.CommentSQL(reg)
	if err != nil {
		return err
	}
	stmts = append(stmts, comment)
	for _, s := range stmts {
		if _, err := tx.Exec(ctx, s); err != nil {
			return fmt.Errorf("%s: %w", redactPassword(s), err)
		}
	}
	return registerGrants(ctx, tx, r)
}

// PasswordChange says what ApplyRole does with an existing role's
// password: nothing unless Set; with Set, Verifier (a SCRAM verifier) is
// the new password, or "" to remove it (PASSWORD NULL). A new role gets
// Verifier when it is not "".
type PasswordChange struct {
	Set      bool
	Verifier string
}

// redactPassword removes a password verifier from a statement before it
// goes into an error.
func redactPassword(stmt string) string {
	if i := strings.Index(stmt, " PASSWORD '"); i >= 0 {
		return stmt[:i] + " PASSWORD '…'"
	}
	return stmt
}

// ErrRoleOwnsObjectsElsewhere explains a DROP ROLE that fails because the
// role still owns objects or holds privileges in another database.
var ErrRoleOwnsObjectsElsewhere = errors.New("the role still owns objects or holds privileges in another database of the cluster " +
	"(REASSIGN OWNED and DROP OWNED only reach the current one): run DROP OWNED BY the role in those databases, then destroy again")

// DropRole removes role name from the cluster in tx, under the role lock:
// it can no longer log in, its sessions are terminated, what it owns in
// this database is reassigned to the current user (or dropped when
// dropOwned), its privileges are revoked, it leaves the grant catalog and
// is dropped. It returns how many sessions it terminated.
func DropRole(ctx context.Context, tx DB, name string, dropOwned bool) (terminated int, err error) {
	if err := LockRoles(ctx, tx); err != nil {
		return 0, err
	}
	var exists bool
	if err := tx.QueryRow(ctx, "SELECT EXISTS (SELECT 1 FROM pg_roles WHERE rolname = $1)", name).Scan(&exists); err != nil || !exists {
		return 0, err
	}
	r := pgx.Identifier{name}.Sanitize()
	if _, err := tx.Exec(ctx, "ALTER ROLE "+r+" NOLOGIN"); err != nil {
		return 0, err
	}
	if err := tx.QueryRow(ctx, `SELECT count(*) FILTER (WHERE pg_terminate_backend(pid)) FROM pg_stat_activity WHERE usename = $1 AND pid <> pg_backend_pid()`, name).Scan(&terminated); err != nil {
		return 0, fmt.Errorf("terminating the sessions of role %q: %w", name, err)
	}
	stmts := []string{"DROP OWNED BY " + r}
	if !dropOwned {
		stmts = append([]string{"REASSIGN OWNED BY " + r + " TO CURRENT_USER"}, stmts...)
	}
	if err := unregisterGrants(ctx, tx, name); err != nil {
		return terminated, err
	}
	stmts = append(stmts, "DROP ROLE "+r)
	for _, s := range stmts {
		if _, err := tx.Exec(ctx, s); err != nil {
			var pe *pgconn.PgError
			if errors.As(err, &pe) && pe.Code == "2BP01" {
				return terminated, fmt.Errorf("%s: %w: %w", s, ErrRoleOwnsObjectsElsewhere, err)
			}
			return terminated, fmt.Errorf("%s: %w", s, err)
		}
	}
	return terminated, nil
}
