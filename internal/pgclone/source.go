package pgclone

import (
	"context"
	"errors"
	"fmt"
	"strconv"
	"strings"
	"time"

	"github.com/jackc/pgx/v5"
	"github.com/jackc/pgx/v5/pgconn"
)

// DefaultLockTimeout bounds how long a source session waits for a lock:
// a clone or a read never queues behind production DDL for longer.
const DefaultLockTimeout = 5 * time.Second

// SourceSettings say how sessions on a production (source) database are
// opened. The zero value is safe: read-only, row security off, a 5 s lock
// timeout, no statement timeout, privileged logins refused.
type SourceSettings struct {
	// LockTimeout is the session's lock_timeout; zero means
	// DefaultLockTimeout, negative means none.
	LockTimeout time.Duration
	// StatementTimeout is the session's statement_timeout; zero or
	// negative means none.
	StatementTimeout time.Duration
	// AllowPrivilegedLogin accepts a login that is a superuser or a member
	// of pg_execute_server_program or pg_write_server_files, which a READ
	// ONLY transaction does not stop from writing (see [SourceRole]).
	AllowPrivilegedLogin bool
}

// Params are the startup parameters of every source session. They hold
// from the first statement on, so no query of ours or of the user's runs
// before them:
//   - default_transaction_read_only = on: every transaction, even one
//     started after a COMMIT the server was tricked into running, is
//     read-only;
//   - row_security = off: a login subject to row-level security gets an
//     error instead of a silently filtered table (as pg_dump does);
//   - standard_conforming_strings = on: the server lexes string literals
//     as [CheckQuery] and [CheckCondition] do;
//   - lock_timeout and statement_timeout as set.
func (s SourceSettings) Params() map[string]string {
	p := map[string]string{
		"default_transaction_read_only": "on",
		"row_security":                  "off",
		"standard_conforming_strings":   "on",
	}
	lt := s.LockTimeout
	if lt == 0 {
		lt = DefaultLockTimeout
	}
	if lt > 0 {
		p["lock_timeout"] = strconv.FormatInt(max(lt.Milliseconds(), 1), 10)
	} else {
		p["lock_timeout"] = "0"
	}
	if s.StatementTimeout > 0 {
		p["statement_timeout"] = strconv.FormatInt(max(s.StatementTimeout.Milliseconds(), 1), 10)
	} else {
		p["statement_timeout"] = "0"
	}
	return p
}

// SourceRole is what the login of a source session may do beyond reading,
// itself or through a role it can SET ROLE to (any role it is a member
// of, directly or not).
type SourceRole struct {
	Name      string
	Superuser bool
	BypassRLS bool
	// SuperuserVia, ReplicationVia and CreateRoleVia name the roles the
	// login is a member of that have that attribute ("" when none).
	SuperuserVia, ReplicationVia, CreateRoleVia string
	// Replication and CreateRole are the login's own attributes.
	Replication, CreateRole bool
	// ExecuteServerProgram, WriteServerFiles and SignalBackend are
	// memberships of pg_execute_server_program, pg_write_server_files and
	// pg_signal_backend.
	ExecuteServerProgram, WriteServerFiles, SignalBackend bool
}

// Dangerous lists the privileges that let a session change production
// although its transaction is READ ONLY: COPY … TO PROGRAM runs a shell
// command, COPY … TO 'file' writes a server file, a superuser can do both
// and open sessions of its own (dblink_connect_u), REPLICATION creates and
// drops replication slots (pg_drop_replication_slot is a function, allowed
// in a read-only transaction), CREATEROLE grants roles (through a session
// dblink opens), and pg_signal_backend ends production sessions. A role the
// login can SET ROLE to counts as the login's own: set_config('role', …)
// is allowed in a read-only transaction.
func (r SourceRole) Dangerous() []string {
	var out []string
	if r.Superuser {
		out = append(out, "is a superuser")
		return out
	}
	if r.SuperuserVia != "" {
		out = append(out, fmt.Sprintf("can SET ROLE to the superuser role(s) %s", r.SuperuserVia))
	}
	if r.ExecuteServerProgram {
		out = append(out, "is a member of pg_execute_server_program (COPY … TO PROGRAM runs shell commands on the server)")
	}
	if r.WriteServerFiles {
		out = append(out, "is a member of pg_write_server_files (COPY … TO 'file' writes files on the server)")
	}
	switch {
	case r.Replication:
		out = append(out, "has REPLICATION (it can create and drop replication slots)")
	case r.ReplicationVia != "":
		out = append(out, fmt.Sprintf("can SET ROLE to %s, which has REPLICATION (it can create and drop replication slots)", r.ReplicationVia))
	}
	switch {
	case r.CreateRole:
		out = append(out, "has CREATEROLE (it can grant itself other roles)")
	case r.CreateRoleVia != "":
		out = append(out, fmt.Sprintf("can SET ROLE to %s, which has CREATEROLE (it can grant itself other roles)", r.CreateRoleVia))
	}
	if r.SignalBackend {
		out = append(out, "is a member of pg_signal_backend (it can cancel and terminate production sessions)")
	}
	return out
}

// InspectSourceRole reads what the session's login may do.
func InspectSourceRole(ctx context.Context, q Querier) (SourceRole, error) {
	var r SourceRole
	err := q.QueryRow(ctx, `
WITH me AS (SELECT oid, rolname, rolsuper, rolbypassrls, rolreplication, rolcreaterole FROM pg_catalog.pg_roles WHERE rolname = current_user),
via AS (
  SELECT s.rolname, s.rolsuper, s.rolreplication, s.rolcreaterole
  FROM pg_catalog.pg_roles s, me
  WHERE s.oid <> me.oid AND pg_catalog.pg_has_role(me.oid, s.oid, 'MEMBER'))
SELECT me.rolname, me.rolsuper, me.rolbypassrls, me.rolreplication, me.rolcreaterole,
       coalesce((SELECT string_agg(rolname, ', ' ORDER BY rolname) FROM via WHERE rolsuper), ''),
       coalesce((SELECT string_agg(rolname, ', ' ORDER BY rolname) FROM via WHERE rolreplication), ''),
       coalesce((SELECT string_agg(rolname, ', ' ORDER BY rolname) FROM via WHERE rolcreaterole), ''),
       EXISTS (SELECT 1 FROM via WHERE rolname = 'pg_execute_server_program'),
       EXISTS (SELECT 1 FROM via WHERE rolname = 'pg_write_server_files'),
       EXISTS (SELECT 1 FROM via WHERE rolname = 'pg_signal_backend')
FROM me`).Scan(&r.Name, &r.Superuser, &r.BypassRLS, &r.Replication, &r.CreateRole,
		&r.SuperuserVia, &r.ReplicationVia, &r.CreateRoleVia, &r.ExecuteServerProgram, &r.WriteServerFiles, &r.SignalBackend)
	if err != nil {
		return r, fmt.Errorf("reading the privileges of the login: %w", err)
	}
	return r, nil
}

// PrivilegedLoginError refuses a source login with [SourceRole.Dangerous]
// privileges.
type PrivilegedLoginError struct {
	Role       string
	Privileges []string
}

func (e *PrivilegedLoginError) Error() string {
	return fmt.Sprintf("the production login %q %s. A READ ONLY transaction does not stop such a login from changing production (COPY … TO PROGRAM, COPY … TO 'file', dblink, replication slots, signals), "+
		"so production would be only read by promise, not by construction. Connect with a login that only reads, for example:\n\n"+
		"  CREATE ROLE staging_reader LOGIN PASSWORD '…' BYPASSRLS;\n  GRANT pg_read_all_data TO staging_reader;  -- PostgreSQL 14+, or GRANT SELECT per schema\n\n"+
		"or, to accept the risk, set allow_privileged_login = true on the connection",
		e.Role, strings.Join(e.Privileges, " and "))
}

// CheckSourceRole returns a *PrivilegedLoginError when the login has
// dangerous privileges and s does not allow them.
func (s SourceSettings) CheckSourceRole(ctx context.Context, q Querier) (SourceRole, error) {
	r, err := InspectSourceRole(ctx, q)
	if err != nil {
		return r, err
	}
	if d := r.Dangerous(); len(d) > 0 && !s.AllowPrivilegedLogin {
		return r, &PrivilegedLoginError{Role: r.Name, Privileges: d}
	}
	return r, nil
}

// WritePrivilege is a table the source login could change outside a READ
// ONLY transaction.
type WritePrivilege struct {
	Table      string   // "schema.table"
	Privileges []string // OWNER, INSERT, UPDATE, DELETE, TRUNCATE
}

// WritePrivileges lists the tables among tables ("schema.table"), or
// among all tables of the database when tables is nil, that the login owns
// or may INSERT into, UPDATE, DELETE from or TRUNCATE.
func WritePrivileges(ctx context.Context, q Querier, tables []string) ([]WritePrivilege, error) {
	if tables != nil && len(tables) == 0 {
		return nil, nil
	}
	want := map[string]bool{}
	for _, t := range tables {
		want[t] = true
	}
	rows, err := q.Query(ctx, `
SELECT n.nspname, c.relname,
       pg_catalog.pg_has_role(c.relowner, 'USAGE'),
       pg_catalog.has_table_privilege(c.oid, 'INSERT'),
       pg_catalog.has_table_privilege(c.oid, 'UPDATE'),
       pg_catalog.has_table_privilege(c.oid, 'DELETE'),
       pg_catalog.has_table_privilege(c.oid, 'TRUNCATE')
FROM pg_catalog.pg_class c JOIN pg_catalog.pg_namespace n ON n.oid = c.relnamespace
WHERE c.relkind IN ('r', 'p') AND n.nspname <> 'pg_catalog' AND n.nspname <> 'information_schema'
ORDER BY 1, 2`)
	if err != nil {
		return nil, fmt.Errorf("reading the login's privileges on tables: %w", err)
	}
	defer rows.Close()
	var out []WritePrivilege
	for rows.Next() {
		var schema, name string
		var flags [5]bool
		if err := rows.Scan(&schema, &name, &flags[0], &flags[1], &flags[2], &flags[3], &flags[4]); err != nil {
			return nil, err
		}
		if tables != nil && !want[Name{schema, name}.String()] {
			continue
		}
		w := WritePrivilege{Table: Name{schema, name}.String()}
		for i, p := range []string{"OWNER", "INSERT", "UPDATE", "DELETE", "TRUNCATE"} {
			if flags[i] {
				w.Privileges = append(w.Privileges, p)
			}
		}
		if len(w.Privileges) > 0 {
			out = append(out, w)
		}
	}
	return out, rows.Err()
}

// LockBlocker is a session that holds or waits for a lock that conflicts
// with reading a table (ACCESS EXCLUSIVE: DDL such as ALTER TABLE, DROP,
// TRUNCATE, VACUUM FULL, LOCK TABLE).
type LockBlocker struct {
	PID         int32
	User        string
	Application string
	State       string
	Table       string
	Granted     bool // holds the lock; false: queued for it, ahead of us
	Since       time.Time
}

func (b LockBlocker) String() string {
	what := "holds"
	if !b.Granted {
		what = "waits for"
	}
	s := fmt.Sprintf("pid %d (user %q, application %q, state %q) %s an ACCESS EXCLUSIVE lock on %s", b.PID, b.User, b.Application, b.State, what, b.Table)
	if !b.Since.IsZero() {
		s += " since " + b.Since.UTC().Format(time.RFC3339)
	}
	return s
}

// LockBlockers lists the other sessions of the current database that hold
// or wait for ACCESS EXCLUSIVE locks on tables, the only lock that blocks
// a read. Run it on a fresh session after a lock timeout.
func LockBlockers(ctx context.Context, q Querier) ([]LockBlocker, error) {
	rows, err := q.Query(ctx, `
SELECT l.pid, coalesce(a.usename, ''), coalesce(a.application_name, ''), coalesce(a.state, ''),
       coalesce(n.nspname || '.' || c.relname, l.relation::text), l.granted, coalesce(a.xact_start, a.backend_start)
FROM pg_catalog.pg_locks l
LEFT JOIN pg_catalog.pg_stat_activity a ON a.pid = l.pid
LEFT JOIN pg_catalog.pg_class c ON c.oid = l.relation
LEFT JOIN pg_catalog.pg_namespace n ON n.oid = c.relnamespace
WHERE l.locktype = 'relation' AND l.mode = 'AccessExclusiveLock' AND l.pid <> pg_backend_pid()
  AND l.database = (SELECT oid FROM pg_catalog.pg_database WHERE datname = current_database())
  AND (n.nspname IS NULL OR n.nspname NOT IN ('pg_catalog', 'pg_toast'))
ORDER BY l.granted DESC, 1`)
	if err != nil {
		return nil, err
	}
	return pgx.CollectRows(rows, func(r pgx.CollectableRow) (LockBlocker, error) {
		var b LockBlocker
		var since *time.Time
		err := r.Scan(&b.PID, &b.User, &b.Application, &b.State, &b.Table, &b.Granted, &since)
		if since != nil {
			b.Since = *since
		}
		return b, err
	})
}

// SourceLockTimeoutError is a source read that gave up waiting for a lock, with
// the sessions that blocked it.
type SourceLockTimeoutError struct {
	Timeout  time.Duration
	Blockers []LockBlocker
	Err      error
}

func (e *SourceLockTimeoutError) Error() string {
	var b strings.Builder
	fmt.Fprintf(&b, "a production table stayed locked for longer than lock_timeout (%s): reading waits behind DDL (ALTER TABLE, a migration, VACUUM FULL, LOCK TABLE), "+
		"and production traffic would queue behind the read, so the read gave up instead", e.Timeout)
	if len(e.Blockers) > 0 {
		b.WriteString(". Blocking sessions:")
		for _, bl := range e.Blockers {
			b.WriteString("\n  - " + bl.String())
		}
	} else {
		b.WriteString(" (the blocking session has gone since)")
	}
	b.WriteString("\nRetry when the migration is done, or raise lock_timeout on the connection.")
	return b.String()
}

func (e *SourceLockTimeoutError) Unwrap() error { return e.Err }

// IsLockTimeout reports whether err is PostgreSQL's lock_not_available
// (SQLSTATE 55P03), what lock_timeout raises.
func IsLockTimeout(err error) bool {
	var pe *pgconn.PgError
	return errors.As(err, &pe) && pe.Code == "55P03"
}

// SourceHint explains a source error a user can act on, or returns "".
// It covers row-level security (the login needs BYPASSRLS or ownership),
// missing SELECT privileges and statement_timeout.
func SourceHint(err error) string {
	var pe *pgconn.PgError
	if !errors.As(err, &pe) {
		return ""
	}
	switch {
	case pe.Code == "42501" && strings.Contains(pe.Message, "row-level security"):
		return "The production login is subject to row-level security on this table. Sessions read with row_security = off, so that a policy fails loudly " +
			"instead of silently filtering the copy (as pg_dump does). Give the login BYPASSRLS (ALTER ROLE … BYPASSRLS) or read as the table's owner."
	case pe.Code == "42501" && (strings.HasPrefix(pe.Message, "permission denied for table") || strings.HasPrefix(pe.Message, "permission denied for schema")):
		return "The production login lacks a privilege it needs to read: grant it SELECT on the copied tables and USAGE on their schemas (or pg_read_all_data on PostgreSQL 14+)."
	case pe.Code == "57014" && strings.Contains(pe.Message, "statement timeout"):
		return "A statement ran longer than the connection's statement_timeout: raise it or read less."
	}
	return ""
}
