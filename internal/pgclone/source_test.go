package pgclone

import (
	"context"
	"errors"
	"strings"
	"testing"
	"time"

	"github.com/jackc/pgx/v5"

	"github.com/stagingkit/terraform-provider-staging/internal/pgtest"
)

// sourceConfig is the connection configuration of a source database dsn
// (a superuser URL) through the least-privileged reader login, as Clone
// requires by default.
func sourceConfig(t testing.TB, dsn string) *pgx.ConnConfig {
	t.Helper()
	return mustConfig(t, pgtest.ReaderDSN(t, dsn))
}

func TestSourceSettings_params(t *testing.T) {
	p := SourceSettings{}.Params()
	for k, want := range map[string]string{"default_transaction_read_only": "on", "row_security": "off", "standard_conforming_strings": "on", "lock_timeout": "5000", "statement_timeout": "0"} {
		if p[k] != want {
			t.Errorf("default %s = %q, want %q", k, p[k], want)
		}
	}
	p = SourceSettings{LockTimeout: 1500 * time.Millisecond, StatementTimeout: time.Minute}.Params()
	if p["lock_timeout"] != "1500" || p["statement_timeout"] != "60000" {
		t.Errorf("params = %v", p)
	}
	if p := (SourceSettings{LockTimeout: -1}).Params(); p["lock_timeout"] != "0" {
		t.Errorf("negative lock timeout: %v", p)
	}
}

// TestClone_refusesPrivilegedSource: a superuser source login is refused
// before anything is read or written, unless explicitly allowed.
func TestClone_refusesPrivilegedSource(t *testing.T) {
	ctx := context.Background()
	prod := pgtest.Require(t).NewDatabase(t)
	staging := pgtest.Require(t).NewDatabase(t)
	pgtest.Exec(t, prod, `CREATE TABLE t (id int PRIMARY KEY)`, `INSERT INTO t VALUES (1)`)
	opts := Options{Key: testKey(t, "k")}
	_, err := Clone(ctx, mustConfig(t, prod), mustConfig(t, staging), opts)
	var pe *PrivilegedLoginError
	if !errors.As(err, &pe) || !strings.Contains(err.Error(), "is a superuser") || !strings.Contains(err.Error(), "allow_privileged_login") {
		t.Fatalf("Clone with a superuser source = %v, want a *PrivilegedLoginError", err)
	}
	if n := pgCount(t, staging, `SELECT count(*) FROM pg_namespace WHERE nspname LIKE '%stg%'`); n != 0 {
		t.Fatalf("the refused clone wrote %d schemas", n)
	}
	opts.Source.AllowPrivilegedLogin = true
	if _, err := Clone(ctx, mustConfig(t, prod), mustConfig(t, staging), opts); err != nil {
		t.Fatalf("Clone with the opt-out: %v", err)
	}
}

// TestWritePrivileges lists what a login may change among the tables.
func TestWritePrivileges(t *testing.T) {
	ctx := context.Background()
	prod := pgtest.Require(t).NewDatabase(t)
	pgtest.Exec(t, prod, `CREATE TABLE a (id int)`, `CREATE TABLE b (id int)`, `CREATE TABLE c (id int)`,
		`DO $$ BEGIN IF NOT EXISTS (SELECT 1 FROM pg_roles WHERE rolname = 'wp_user') THEN CREATE ROLE wp_user LOGIN PASSWORD 'wp'; END IF; END $$`,
		`GRANT SELECT, UPDATE, TRUNCATE ON a TO wp_user`, `GRANT SELECT ON b, c TO wp_user`, `ALTER TABLE c OWNER TO wp_user`)
	u := strings.Replace(prod, "postgres:"+pgtest.Require(t).Password+"@", "wp_user:wp@", 1)
	conn := dial(t, u)
	got, err := WritePrivileges(ctx, conn, []string{"public.a", "public.b", "public.c"})
	if err != nil {
		t.Fatal(err)
	}
	var lines []string
	for _, w := range got {
		lines = append(lines, w.Table+": "+strings.Join(w.Privileges, ","))
	}
	if g := strings.Join(lines, "; "); g != "public.a: UPDATE,TRUNCATE; public.c: OWNER,INSERT,UPDATE,DELETE,TRUNCATE" {
		t.Fatalf("WritePrivileges = %s", g)
	}
	r, err := InspectSourceRole(ctx, conn)
	if err != nil || len(r.Dangerous()) != 0 || r.Name != "wp_user" {
		t.Fatalf("InspectSourceRole = %+v, %v", r, err)
	}
}

// TestClone_lockTimeoutNamesBlocker: a clone never waits behind production
// DDL for longer than the lock timeout, and says who blocked it.
func TestClone_lockTimeoutNamesBlocker(t *testing.T) {
	ctx := context.Background()
	prod := pgtest.Require(t).NewDatabase(t)
	staging := pgtest.Require(t).NewDatabase(t)
	pgtest.Exec(t, prod, `CREATE TABLE t (id int PRIMARY KEY)`, `INSERT INTO t VALUES (1)`)
	cfg := mustConfig(t, prod)
	cfg.RuntimeParams["application_name"] = "schema-migration"
	blocker, err := pgx.ConnectConfig(ctx, cfg)
	if err != nil {
		t.Fatal(err)
	}
	defer blocker.Close(ctx)
	tx, err := blocker.Begin(ctx)
	if err != nil {
		t.Fatal(err)
	}
	defer tx.Rollback(ctx) //nolint:errcheck // test cleanup
	if _, err := tx.Exec(ctx, `LOCK TABLE t IN ACCESS EXCLUSIVE MODE`); err != nil {
		t.Fatal(err)
	}
	start := time.Now()
	_, err = Clone(ctx, sourceConfig(t, prod), mustConfig(t, staging), Options{Key: testKey(t, "k"), Source: SourceSettings{LockTimeout: 500 * time.Millisecond}})
	var le *SourceLockTimeoutError
	if !errors.As(err, &le) {
		t.Fatalf("Clone = %v, want a *SourceLockTimeoutError", err)
	}
	if took := time.Since(start); took > 20*time.Second {
		t.Errorf("the clone waited %s", took)
	}
	if len(le.Blockers) != 1 || le.Blockers[0].Application != "schema-migration" || le.Blockers[0].Table != "public.t" || !le.Blockers[0].Granted {
		t.Fatalf("blockers = %+v", le.Blockers)
	}
	if !strings.Contains(err.Error(), `application "schema-migration"`) {
		t.Errorf("message does not name the blocker: %v", err)
	}
}

func pgCount(t *testing.T, dsn, q string) int {
	t.Helper()
	conn := dial(t, dsn)
	var n int
	if err := conn.QueryRow(context.Background(), q).Scan(&n); err != nil {
		t.Fatal(err)
	}
	return n
}

// TestCheckSourceRole_privilegesThroughRoles: what a login can reach with
// SET ROLE counts as its own, and replication, CREATEROLE and
// pg_signal_backend change production from a read-only transaction too.
func TestCheckSourceRole_privilegesThroughRoles(t *testing.T) {
	ctx := context.Background()
	db := pgtest.Require(t).NewDatabase(t)
	pgtest.Exec(t, db,
		`DO $$ DECLARE r text; BEGIN
		   IF NOT EXISTS (SELECT 1 FROM pg_roles WHERE rolname = 'src_admin') THEN CREATE ROLE src_admin NOLOGIN SUPERUSER; END IF;
		   IF NOT EXISTS (SELECT 1 FROM pg_roles WHERE rolname = 'src_repl_group') THEN CREATE ROLE src_repl_group NOLOGIN REPLICATION; END IF;
		   IF NOT EXISTS (SELECT 1 FROM pg_roles WHERE rolname = 'src_middle') THEN CREATE ROLE src_middle NOLOGIN; END IF;
		   FOREACH r IN ARRAY ARRAY['src_sneaky', 'src_repl', 'src_replvia', 'src_creator', 'src_signal', 'src_plain'] LOOP
		     IF NOT EXISTS (SELECT 1 FROM pg_roles WHERE rolname = r) THEN EXECUTE format('CREATE ROLE %I LOGIN', r); END IF;
		   END LOOP;
		 END $$`,
		`GRANT src_admin TO src_middle`, `GRANT src_middle TO src_sneaky`, // superuser two steps away
		`ALTER ROLE src_repl REPLICATION`, `GRANT src_repl_group TO src_replvia`,
		`ALTER ROLE src_creator CREATEROLE`, `GRANT pg_signal_backend TO src_signal`,
		`GRANT pg_read_all_data TO src_plain`)
	for login, want := range map[string]string{
		"src_sneaky":  "can SET ROLE to the superuser role(s) src_admin",
		"src_repl":    "has REPLICATION",
		"src_replvia": "can SET ROLE to src_repl_group, which has REPLICATION",
		"src_creator": "has CREATEROLE",
		"src_signal":  "pg_signal_backend",
		"src_plain":   "",
	} {
		conn := dial(t, db)
		if _, err := conn.Exec(ctx, "SET SESSION AUTHORIZATION "+login); err != nil {
			t.Fatal(err)
		}
		_, err := SourceSettings{}.CheckSourceRole(ctx, conn)
		var pe *PrivilegedLoginError
		switch {
		case want == "" && err != nil:
			t.Errorf("%s: %v, want accepted", login, err)
		case want != "" && (!errors.As(err, &pe) || !strings.Contains(err.Error(), want)):
			t.Errorf("%s: %v, want a *PrivilegedLoginError saying %q", login, err, want)
		}
		if _, err := (SourceSettings{AllowPrivilegedLogin: true}).CheckSourceRole(ctx, conn); err != nil {
			t.Errorf("%s with the opt-out: %v", login, err)
		}
	}
}

// TestAnalyze_detectsLateData: personal data that only starts after the
// first rows of a table is still sampled, so the plan fails closed.
func TestAnalyze_detectsLateData(t *testing.T) {
	ctx := context.Background()
	db := pgtest.Require(t).NewDatabase(t)
	pgtest.Exec(t, db, `CREATE TABLE contacts (id int PRIMARY KEY, handle text)`,
		`INSERT INTO contacts SELECT g, 'n/a' FROM generate_series(1, 2000) g`,
		`INSERT INTO contacts SELECT g, 'person' || g || '@example.com' FROM generate_series(2001, 2600) g`)
	conn := dial(t, db)
	tx, err := conn.BeginTx(ctx, pgx.TxOptions{AccessMode: pgx.ReadOnly})
	if err != nil {
		t.Fatal(err)
	}
	defer tx.Rollback(ctx) //nolint:errcheck // read-only
	a, err := Analyze(ctx, tx, Options{})
	if err != nil {
		t.Fatal(err)
	}
	for _, p := range a.Problems {
		if p.Kind == ProblemUnmaskedPII && p.Column == "handle" {
			return
		}
	}
	t.Fatalf("e-mail addresses after the first 2000 rows were not detected: %+v", a.Problems)
}
