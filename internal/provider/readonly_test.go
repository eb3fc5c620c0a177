package provider

import (
	"context"
	"fmt"
	"net/url"
	"os"
	"path/filepath"
	"regexp"
	"strings"
	"testing"
	"time"

	"github.com/hashicorp/terraform-plugin-testing/helper/resource"
	"github.com/jackc/pgx/v5"

	"github.com/stagingkit/terraform-provider-staging/internal/pgtest"
)

// The adversarial read-only suite: every attempt to make a production
// connection write runs through the real data source and the real clone,
// against a real cluster, and production must be unchanged afterwards,
// each part checked with its own query.

// prodVictim is a production database with something to destroy: rows,
// a sequence, a large object, and functions that write or run programs.
type prodVictim struct {
	super  string // superuser DSN, for setting up and checking
	reader string // the least-privileged login the provider uses
	marker string // a file COPY … TO PROGRAM would create
	loOID  uint32
}

func newProdVictim(t *testing.T) *prodVictim {
	t.Helper()
	v := &prodVictim{super: pgtest.Require(t).NewDatabase(t)}
	v.reader = pgtest.ReaderDSN(t, v.super)
	dir := t.TempDir()
	_ = os.Chmod(dir, 0o777) // the server runs as postgres and must be able to write here, were it let
	v.marker = filepath.Join(dir, "program-ran")
	pgtest.Exec(t, v.super,
		`CREATE TABLE users (id serial PRIMARY KEY, email text NOT NULL UNIQUE)`,
		`INSERT INTO users (email) SELECT 'user' || g || '@example.com' FROM generate_series(1, 50) g`,
		`CREATE FUNCTION wipe() RETURNS int LANGUAGE plpgsql AS $$ BEGIN DELETE FROM users; RETURN 1; END $$`,
		fmt.Sprintf(`CREATE FUNCTION shell() RETURNS int LANGUAGE plpgsql AS $f$ BEGIN EXECUTE 'COPY (SELECT 1) TO PROGRAM ''touch %s'''; RETURN 1; END $f$`, v.marker),
		fmt.Sprintf(`CREATE FUNCTION to_file() RETURNS int LANGUAGE plpgsql AS $f$ BEGIN EXECUTE 'COPY users TO ''%s.csv'''; RETURN 1; END $f$`, v.marker),
		`CREATE EXTENSION IF NOT EXISTS dblink`,
	)
	ctx := context.Background()
	conn, err := pgx.Connect(ctx, v.super)
	if err != nil {
		t.Fatal(err)
	}
	defer conn.Close(ctx)
	if err := conn.QueryRow(ctx, `SELECT lo_from_bytea(0, 'kept')`).Scan(&v.loOID); err != nil {
		t.Fatal(err)
	}
	return v
}

// state is everything an attempt could change, each read with its own
// query: the rows, the sequence, large objects, advisory locks, sessions
// of other applications, server files.
func (v *prodVictim) state(t *testing.T) string {
	t.Helper()
	ctx := context.Background()
	conn, err := pgx.Connect(ctx, v.super)
	if err != nil {
		t.Fatal(err)
	}
	defer conn.Close(ctx)
	var b strings.Builder
	for _, q := range []string{
		`SELECT 'rows ' || count(*) || ' ' || md5(coalesce(string_agg(id || ':' || email, ',' ORDER BY id), '')) FROM users`,
		`SELECT 'sequence ' || last_value || ' ' || is_called FROM users_id_seq`,
		`SELECT 'large objects ' || count(*) || ' ' || coalesce(string_agg(oid::text, ',' ORDER BY oid), '') FROM pg_largeobject_metadata`,
		`SELECT 'advisory locks ' || count(*) FROM pg_locks WHERE locktype = 'advisory'`,
		`SELECT 'relation locks ' || count(*) FROM pg_locks l JOIN pg_database d ON d.oid = l.database WHERE d.datname = current_database() AND l.locktype = 'relation' AND l.pid <> pg_backend_pid()`,
		`SELECT 'other sessions ' || count(*) FROM pg_stat_activity WHERE datname = current_database() AND pid <> pg_backend_pid() AND backend_type = 'client backend'`,
		`SELECT 'transaction read only default ' || setting FROM pg_settings WHERE name = 'default_transaction_read_only'`,
		`SELECT 'replication slots ' || count(*) || ' ' || coalesce(string_agg(slot_name, ',' ORDER BY slot_name), '') FROM pg_replication_slots`,
	} {
		var line string
		// Sessions of the provider end just after terraform does: give
		// them a moment before counting.
		for i := 0; ; i++ {
			if err := conn.QueryRow(ctx, q).Scan(&line); err != nil {
				t.Fatalf("%v\n%s", err, q)
			}
			if !strings.HasPrefix(line, "other sessions ") && !strings.HasPrefix(line, "advisory locks ") || strings.HasSuffix(line, " 0") || i == 50 {
				break
			}
			time.Sleep(100 * time.Millisecond)
		}
		b.WriteString(line + "\n")
	}
	for _, f := range []string{v.marker, v.marker + ".csv"} {
		if _, err := os.Stat(f); err == nil {
			fmt.Fprintf(&b, "server file %s exists\n", f)
		}
	}
	return b.String()
}

// hclString renders s as an HCL string literal, escaping template
// sequences.
func hclString(s string) string {
	q := fmt.Sprintf("%q", s)
	q = strings.ReplaceAll(q, "${", "$${")
	return strings.ReplaceAll(q, "%{", "%%{")
}

// maskedRowsConfig reads query through a production connection (extra
// goes into its block), masking email and keeping the columns named in
// keep (computed columns need a rule).
func maskedRowsConfig(reg, prod, query, extra string, keep ...string) string {
	var rules strings.Builder
	for _, k := range keep {
		fmt.Fprintf(&rules, "  rule {\n    column      = %q\n    transformer = \"keep\"\n  }\n", k)
	}
	return fmt.Sprintf(`
provider "staging" {
  registry    = %q
  masking_key = "fce753d08f27a794bee66607af773a243362f276b7606802731e2205e3bcaa05"
  postgres {
    name = "prod"
    dsn  = %q
    role = "production"
%s
  }
}

data "staging_masked_rows" "q" {
  postgres = "prod"
  query    = %s
  rule {
    column      = "email"
    transformer = "email"
  }
%s}
`, reg, prod, extra, hclString(query), rules.String())
}

func TestAccReadOnly_maskedRowsAttempts(t *testing.T) {
	v := newProdVictim(t)
	before := v.state(t)
	// dblink with the reader's own credentials opens a session that is
	// not read-only: only the login's privileges stop it.
	u := mustParseURL(t, v.reader)
	pw, _ := u.User.Password()
	dblinkInfo := fmt.Sprintf("host=%s port=%s dbname=%s user=%s password=%s", u.Hostname(), u.Port(), strings.TrimPrefix(u.Path, "/"), u.User.Username(), pw)

	cases := []struct {
		name, query string
		err         string // "" when the query may run (and must still change nothing)
		keep        []string
	}{
		{"issue reproduction", "SELECT 1 AS x) AS q0; COMMIT; DELETE FROM users; SELECT * FROM (SELECT 1 AS x", `Invalid Query`, nil},
		{"two statements", "SELECT id FROM users; DELETE FROM users", `Invalid Query(?s).*semicolon`, nil},
		{"commit", "COMMIT", `Invalid Query(?s).*starts with COMMIT`, nil},
		{"rollback", "ROLLBACK", `Invalid Query`, nil},
		{"end", "END", `Invalid Query`, nil},
		{"read write", "SET TRANSACTION READ WRITE", `Invalid Query(?s).*starts with SET`, nil},
		{"delete", "DELETE FROM users RETURNING id, email", `Invalid Query(?s).*starts with DELETE`, nil},
		{"copy to program", "COPY users TO PROGRAM 'true'", `Invalid Query(?s).*starts with COPY`, nil},
		{"semicolon hidden after a comment", "SELECT id /* ; */ FROM users; DELETE FROM users", `Invalid Query(?s).*semicolon`, nil},
		{"semicolon hidden after a dollar quote", "SELECT $a$ $$ $a$ AS x; DELETE FROM users; --", `Invalid Query(?s).*semicolon`, nil},
		{"unterminated dollar quote", "SELECT $x$; DELETE FROM users", `Invalid Query(?s).*unterminated`, nil},
		{"data-modifying WITH", "WITH d AS (DELETE FROM users RETURNING id, email) SELECT * FROM d", `data-modifying`, nil},
		{"a volatile function that writes", "SELECT wipe() AS n", `read-only\s+transaction`, nil},
		{"nextval", "SELECT nextval('users_id_seq') AS n", `read-only\s+transaction|permission\s+denied`, nil},
		{"select for update", "SELECT id, email FROM users FOR UPDATE", `read-only\s+transaction`, nil},
		{"lo_unlink", fmt.Sprintf("SELECT lo_unlink(%d) AS n", v.loOID), `read-only\s+transaction|permission\s+denied|must\s+be\s+owner`, nil},
		{"lo_import", "SELECT lo_import('/etc/hostname') AS n", `read-only\s+transaction|permission\s+denied|must\s+be\s+owner`, nil},
		{"copy to program in a function", "SELECT shell() AS n", `permission\s+denied|must\s+be\s+superuser`, nil},
		{"copy to a server file in a function", "SELECT to_file() AS n", `permission\s+denied|must\s+be\s+superuser`, nil},
		{"dblink opening a session of its own", fmt.Sprintf("SELECT dblink_exec(%s, 'DELETE FROM users') AS n", quoteSQL(dblinkInfo)), `permission\s+denied`, nil},
		// These run, and still change nothing.
		{"set_config turning read-only off", "SELECT set_config('default_transaction_read_only', 'off', false) AS s, id, email FROM users", "", []string{"s"}},
		{"advisory lock", "SELECT pg_advisory_lock(42) AS l, id, email FROM users", "", []string{"l"}},
		{"comments and dollar quotes hiding a semicolon", "/* ; */ SELECT $$;$$ AS s, id, email FROM users -- ;", "", []string{"s"}},
	}
	for _, c := range cases {
		t.Run(c.name, func(t *testing.T) {
			step := resource.TestStep{Config: maskedRowsConfig(t.TempDir()+"/registry.db", v.reader, c.query, "", c.keep...)}
			if c.err != "" {
				step.ExpectError = regexp.MustCompile(c.err)
			}
			resource.Test(t, resource.TestCase{ProtoV6ProviderFactories: factories(newTestClock()), Steps: []resource.TestStep{step}})
			if after := v.state(t); after != before {
				t.Fatalf("production changed:\nbefore:\n%s\nafter:\n%s", before, after)
			}
		})
	}
}

// TestAccReadOnly_privilegedLogin: a superuser login is refused at plan
// time by default, naming the way out; with the documented opt-out it
// reads, and a READ ONLY transaction still stops the plain write.
func TestAccReadOnly_privilegedLogin(t *testing.T) {
	v := newProdVictim(t)
	before := v.state(t)
	resource.Test(t, resource.TestCase{
		ProtoV6ProviderFactories: factories(newTestClock()),
		Steps: []resource.TestStep{
			{
				Config:      maskedRowsConfig(t.TempDir()+"/r.db", v.super, "SELECT shell() AS n", ""),
				ExpectError: regexp.MustCompile(`(?s)Privileged Production Login.*is a superuser.*allow_privileged_login`),
			},
			{
				Config:      maskedRowsConfig(t.TempDir()+"/r.db", v.super, "SELECT wipe() AS n", "    allow_privileged_login = true"),
				ExpectError: regexp.MustCompile(`read-only\s+transaction`),
			},
		},
	})
	if after := v.state(t); after != before {
		t.Fatalf("production changed:\nbefore:\n%s\nafter:\n%s", before, after)
	}
	// A member of pg_execute_server_program is refused the same way.
	pgtest.Exec(t, v.super, `DO $$ BEGIN IF NOT EXISTS (SELECT 1 FROM pg_roles WHERE rolname = 'prog_runner') THEN CREATE ROLE prog_runner LOGIN PASSWORD 'prog-runner-pw'; END IF; END $$`,
		`GRANT pg_execute_server_program, pg_read_all_data TO prog_runner`)
	u := mustParseURL(t, v.super)
	u.User = urlUser("prog_runner", "prog-runner-pw")
	resource.Test(t, resource.TestCase{
		ProtoV6ProviderFactories: factories(newTestClock()),
		Steps: []resource.TestStep{{
			Config:      maskedRowsConfig(t.TempDir()+"/r.db", u.String(), "SELECT shell() AS n", ""),
			ExpectError: regexp.MustCompile(`(?s)Privileged Production Login.*pg_execute_server_program`),
		}},
	})
	if _, err := os.Stat(v.marker); err == nil {
		t.Fatal("COPY TO PROGRAM ran")
	}

	// A login that can SET ROLE to a superuser role is a superuser
	// (set_config('role', …) runs in a read-only transaction), and a
	// REPLICATION login drops replication slots from a SELECT: both are
	// refused before the query runs.
	pgtest.Exec(t, v.super,
		`DO $$ BEGIN
		   IF NOT EXISTS (SELECT 1 FROM pg_roles WHERE rolname = 'ro_admin') THEN CREATE ROLE ro_admin NOLOGIN SUPERUSER; END IF;
		   IF NOT EXISTS (SELECT 1 FROM pg_roles WHERE rolname = 'ro_sneaky') THEN CREATE ROLE ro_sneaky LOGIN PASSWORD 'sneaky-pw' BYPASSRLS; END IF;
		   IF NOT EXISTS (SELECT 1 FROM pg_roles WHERE rolname = 'ro_repl') THEN CREATE ROLE ro_repl LOGIN REPLICATION PASSWORD 'repl-pw' BYPASSRLS; END IF;
		 END $$`,
		`GRANT pg_read_all_data, ro_admin TO ro_sneaky`, `GRANT pg_read_all_data TO ro_repl`,
		`SELECT pg_create_physical_replication_slot('ro_standby')`)
	t.Cleanup(func() { pgtest.Exec(t, v.super, `SELECT pg_drop_replication_slot('ro_standby')`) })
	before = v.state(t)
	sneaky, repl := mustParseURL(t, v.super), mustParseURL(t, v.super)
	sneaky.User, repl.User = urlUser("ro_sneaky", "sneaky-pw"), urlUser("ro_repl", "repl-pw")
	resource.Test(t, resource.TestCase{
		ProtoV6ProviderFactories: factories(newTestClock()),
		Steps: []resource.TestStep{
			{
				Config: maskedRowsConfig(t.TempDir()+"/r.db", sneaky.String(),
					"SELECT x.a AS id, shell() AS email FROM (SELECT set_config('role', 'ro_admin', false) AS a) x", ""),
				ExpectError: regexp.MustCompile(`(?s)Privileged Production Login.*SET\s+ROLE\s+to\s+the\s+superuser\s+role\(s\)\s+ro_admin`),
			},
			{
				Config:      maskedRowsConfig(t.TempDir()+"/r.db", repl.String(), "SELECT pg_drop_replication_slot('ro_standby')::text AS email", ""),
				ExpectError: regexp.MustCompile(`(?s)Privileged Production Login.*REPLICATION`),
			},
		},
	})
	if after := v.state(t); after != before {
		t.Fatalf("production changed:\nbefore:\n%s\nafter:\n%s", before, after)
	}
	if _, err := os.Stat(v.marker); err == nil {
		t.Fatal("COPY TO PROGRAM ran")
	}
	if n := pgCount(t, v.super, `SELECT count(*) FROM pg_replication_slots WHERE slot_name = 'ro_standby'`); n != 1 {
		t.Fatal("the replication slot was dropped")
	}
}

// TestAccReadOnly_rowSecurity: a login subject to row-level security fails
// loudly instead of reading a filtered table, and is told what it needs.
func TestAccReadOnly_rowSecurity(t *testing.T) {
	v := newProdVictim(t)
	pgtest.Exec(t, v.super,
		`DO $$ BEGIN IF NOT EXISTS (SELECT 1 FROM pg_roles WHERE rolname = 'rls_reader') THEN CREATE ROLE rls_reader LOGIN PASSWORD 'rls-reader-pw'; END IF; END $$`,
		`GRANT SELECT ON users TO rls_reader`,
		`ALTER TABLE users ENABLE ROW LEVEL SECURITY`,
		`CREATE POLICY only_one ON users USING (id = 1)`)
	u := mustParseURL(t, v.super)
	u.User = urlUser("rls_reader", "rls-reader-pw")
	resource.Test(t, resource.TestCase{
		ProtoV6ProviderFactories: factories(newTestClock()),
		Steps: []resource.TestStep{{
			Config:      maskedRowsConfig(t.TempDir()+"/r.db", u.String(), "SELECT id, email FROM users", ""),
			ExpectError: regexp.MustCompile(`(?s)row-level security.*BYPASSRLS`),
		}},
	})
}

// TestAccReadOnly_lockTimeout: a read queued behind production DDL gives
// up after lock_timeout and names the session that blocks it.
func TestAccReadOnly_lockTimeout(t *testing.T) {
	v := newProdVictim(t)
	ctx := context.Background()
	cfg, err := pgx.ParseConfig(v.super)
	if err != nil {
		t.Fatal(err)
	}
	cfg.RuntimeParams["application_name"] = "nightly-migration"
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
	if _, err := tx.Exec(ctx, `LOCK TABLE users IN ACCESS EXCLUSIVE MODE`); err != nil {
		t.Fatal(err)
	}
	start := time.Now()
	resource.Test(t, resource.TestCase{
		ProtoV6ProviderFactories: factories(newTestClock()),
		Steps: []resource.TestStep{{
			Config:      maskedRowsConfig(t.TempDir()+"/r.db", v.reader, "SELECT id, email FROM users", `    lock_timeout = "1s"`),
			ExpectError: regexp.MustCompile(`(?s)lock_timeout \(1s\).*pid [0-9]+ \(user "postgres", application\s+"nightly-migration".*holds an ACCESS EXCLUSIVE lock on\s+public\.users`),
		}},
	})
	if took := time.Since(start); took > 30*time.Second {
		t.Errorf("the read waited %s behind the lock", took)
	}
}

// TestAccReadOnly_cloneSubsetWhere: the clone's subset conditions are user
// SQL too: one that hides a statement is refused at plan time, one that
// calls a writing function fails in the read-only snapshot, and production
// is unchanged either way.
func TestAccReadOnly_cloneSubsetWhere(t *testing.T) {
	v := newProdVictim(t)
	staging := pgtest.StartForTest(t).NewDatabase(t)
	before := v.state(t)
	cfg := func(where string) string {
		return connectionsConfig(t.TempDir()+"/r.db", v.reader, staging) + fmt.Sprintf(`
resource "staging_postgres_clone" "c" {
  source = "prod"
  target = "staging"
  key    = "fce753d08f27a794bee66607af773a243362f276b7606802731e2205e3bcaa05"
  rule {
    table       = "users"
    column      = "email"
    transformer = "email"
  }
  subset {
    table = "users"
    where = %s
  }
}
`, hclString(where))
	}
	for _, c := range []struct{ name, where, err string }{
		{"statement hidden in where", "true) TO STDOUT; COMMIT; DELETE FROM users; COPY (SELECT 1", `(?s)Invalid Subset.*one SQL condition`},
		{"parenthesis escaping where", "true) OR (true", `(?s)Invalid Subset.*one SQL condition`},
		{"writing function in where", "wipe() = 1", `read-only\s+transaction`},
		{"nextval in where", "nextval('users_id_seq') > 0", `read-only\s+transaction|permission\s+denied`},
	} {
		t.Run(c.name, func(t *testing.T) {
			resource.Test(t, resource.TestCase{
				ProtoV6ProviderFactories: factories(newTestClock()),
				Steps:                    []resource.TestStep{{Config: cfg(c.where), ExpectError: regexp.MustCompile(c.err)}},
			})
			if after := v.state(t); after != before {
				t.Fatalf("production changed:\nbefore:\n%s\nafter:\n%s", before, after)
			}
		})
	}
}

// TestAccReadOnly_cloneWarnsOfWritePrivileges: a production login that may
// write the copied tables gets a plan warning naming the privilege; a
// superuser one is refused.
func TestAccReadOnly_cloneLogins(t *testing.T) {
	v := newProdVictim(t)
	staging := pgtest.StartForTest(t).NewDatabase(t)
	pgtest.Exec(t, v.super,
		`DO $$ BEGIN IF NOT EXISTS (SELECT 1 FROM pg_roles WHERE rolname = 'app_writer') THEN CREATE ROLE app_writer LOGIN PASSWORD 'app-writer-pw' BYPASSRLS; END IF; END $$`,
		`GRANT SELECT, INSERT, DELETE ON users TO app_writer`, `GRANT SELECT ON ALL TABLES IN SCHEMA public TO app_writer`)
	u := mustParseURL(t, v.super)
	u.User = urlUser("app_writer", "app-writer-pw")
	cfg := func(prod string) string {
		return connectionsConfig(t.TempDir()+"/r.db", prod, staging) + `
resource "staging_postgres_clone" "c" {
  source = "prod"
  target = "staging"
  key    = "fce753d08f27a794bee66607af773a243362f276b7606802731e2205e3bcaa05"
  rule {
    table       = "users"
    column      = "email"
    transformer = "email"
  }
}
`
	}
	resource.Test(t, resource.TestCase{
		ProtoV6ProviderFactories: factories(newTestClock()),
		Steps: []resource.TestStep{
			{Config: cfg(v.super), ExpectError: regexp.MustCompile(`(?s)Privileged Production Login.*superuser`)},
		},
	})
	// The warning shows in the plan of a login that may write.
	warnings := planWarnings(t, cfg(u.String()))
	if !regexp.MustCompile(`(?s)Production Login Can Write.*public\.users: INSERT, DELETE`).MatchString(warnings) {
		t.Fatalf("no write-privilege warning in the plan:\n%s", warnings)
	}
	// So does every other read through that login: a masked_rows query
	// could reach the tables through dblink with the login's credentials.
	warnings = planWarnings(t, maskedRowsConfig(t.TempDir()+"/r.db", u.String(), "SELECT id, email FROM users", ""))
	if !regexp.MustCompile(`(?s)Production Login Can Write.*public\.users: INSERT, DELETE.*dblink`).MatchString(warnings) {
		t.Fatalf("no write-privilege warning in the masked_rows plan:\n%s", warnings)
	}
}

func mustParseURL(t *testing.T, s string) *url.URL {
	t.Helper()
	u, err := url.Parse(s)
	if err != nil {
		t.Fatal(err)
	}
	return u
}

func urlUser(name, password string) *url.Userinfo { return url.UserPassword(name, password) }

// quoteSQL is a SQL string literal.
func quoteSQL(s string) string { return "'" + strings.ReplaceAll(s, "'", "''") + "'" }

// planWarnings runs a real `terraform plan` of config with a built provider
// and returns its output, where warnings show.
func planWarnings(t *testing.T, config string) string {
	t.Helper()
	requireTerraform(t)
	return newTFDir(t, buildProvider(t), config).run("plan")
}
