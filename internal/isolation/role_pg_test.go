package isolation

import (
	"context"
	"fmt"
	"net/url"
	"os"
	"slices"
	"strings"
	"testing"

	"github.com/jackc/pgx/v5"

	"github.com/stagingkit/terraform-provider-staging/internal/pgtest"
)

func TestMain(m *testing.M) { os.Exit(pgtest.Main(m)) }

// connect opens a session on dsn, closed when t ends.
func connect(t *testing.T, dsn string) *pgx.Conn {
	t.Helper()
	conn, err := pgx.Connect(context.Background(), dsn)
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { conn.Close(context.Background()) })
	return conn
}

func apply(t *testing.T, conn *pgx.Conn, r Role, verifier string) {
	t.Helper()
	pw := PasswordChange{Set: verifier != "", Verifier: verifier}
	err := pgx.BeginFunc(context.Background(), conn, func(tx pgx.Tx) error { return ApplyRole(context.Background(), tx, r, Registration{}, pw) })
	if err != nil {
		t.Fatal(err)
	}
}

func drift(t *testing.T, conn *pgx.Conn, r Role) []string {
	t.Helper()
	st, err := ReadRole(context.Background(), conn, r.Name, r.Schemas)
	if err != nil {
		t.Fatal(err)
	}
	d, err := st.Drift(r)
	if err != nil {
		t.Fatal(err)
	}
	return d
}

// TestRole_driftAndRepair: a role applied has no drift; hand-made changes
// anywhere in the database show up, each named; applying again repairs
// them all; destroy ends the role's session and reassigns what it owns.
func TestRole_driftAndRepair(t *testing.T) {
	dsn := pgtest.Require(t).NewDatabase(t)
	pgtest.Exec(t, dsn,
		`CREATE SCHEMA app`, `CREATE TABLE app.orders (id serial PRIMARY KEY, total int)`,
		`CREATE TABLE public.other (x int, y int)`, `CREATE FUNCTION public.f() RETURNS int LANGUAGE sql AS 'SELECT 1'`)
	conn := connect(t, dsn)
	r := Role{Name: "drift-role", Preset: PresetReadOnly, Schemas: []string{"app"}, DefaultFor: []string{"postgres"}, ConnectionLimit: -1}
	verifier, err := SCRAMVerifier("a-long-enough-password-1")
	if err != nil {
		t.Fatal(err)
	}
	apply(t, conn, r, verifier)
	t.Cleanup(func() {
		pgtest.Exec(t, dsn, `DO $$ BEGIN IF EXISTS (SELECT 1 FROM pg_roles WHERE rolname = 'drift-role') THEN DROP OWNED BY "drift-role"; DROP ROLE "drift-role"; END IF; END $$`)
	})
	if d := drift(t, conn, r); len(d) != 0 {
		t.Fatalf("drift right after apply: %v", d)
	}
	pgtest.Exec(t, dsn,
		`GRANT INSERT ON app.orders TO "drift-role"`,
		`REVOKE SELECT ON app.orders_id_seq FROM "drift-role"`,
		`GRANT UPDATE (y) ON public.other TO "drift-role"`,
		`GRANT CREATE ON SCHEMA public TO "drift-role"`,
		`REVOKE EXECUTE ON FUNCTION public.f() FROM PUBLIC`, `GRANT EXECUTE ON FUNCTION public.f() TO "drift-role"`,
		`ALTER DEFAULT PRIVILEGES FOR ROLE postgres GRANT DELETE ON TABLES TO "drift-role"`,
		`GRANT pg_monitor TO "drift-role"`,
		`ALTER ROLE "drift-role" BYPASSRLS CREATEROLE`)
	want := []string{
		`lacks SELECT ON SEQUENCE "app"."orders_id_seq"`,
		`has UPDATE ("y") ON TABLE "public"."other" beyond its preset`,
		`has DELETE ON FUTURE TABLES CREATED BY "postgres" beyond its preset`,
		`has EXECUTE ON FUNCTION f() beyond its preset`,
		`has MEMBER OF "pg_monitor" beyond its preset`,
		`has CREATE ON SCHEMA "public" beyond its preset`,
		`has INSERT ON TABLE "app"."orders" beyond its preset`,
		`needs NOCREATEROLE`,
		`needs NOBYPASSRLS`,
	}
	got := drift(t, conn, r)
	if !slices.Equal(got, want) {
		t.Errorf("drift:\n%s\nwant:\n%s", strings.Join(got, "\n"), strings.Join(want, "\n"))
	}
	apply(t, conn, r, "")
	if d := drift(t, conn, r); len(d) != 0 {
		t.Fatalf("drift after the repair: %v", d)
	}
	// A preset change revokes what the old preset gave beyond the new.
	rw := r
	rw.Preset = PresetReadWrite
	apply(t, conn, rw, "")
	if d := drift(t, conn, r); len(d) == 0 || !strings.Contains(strings.Join(d, "\n"), `has INSERT ON TABLE "app"."orders"`) {
		t.Fatalf("read_write compared with read_only: %v", d)
	}
	apply(t, conn, r, "")
	if d := drift(t, conn, r); len(d) != 0 {
		t.Fatalf("back to read_only: %v", d)
	}

	// Destroy: a session of the role is ended, what it owns is reassigned.
	pgtest.Exec(t, dsn, `GRANT CREATE ON SCHEMA app TO "drift-role"`)
	u, _ := url.Parse(dsn)
	u.User = url.UserPassword("drift-role", "a-long-enough-password-1")
	held := connect(t, u.String())
	if _, err := held.Exec(context.Background(), `CREATE TABLE app.mine (x int)`); err != nil {
		t.Fatal(err)
	}
	var n int
	err = pgx.BeginFunc(context.Background(), conn, func(tx pgx.Tx) error {
		var err error
		n, err = DropRole(context.Background(), tx, r.Name, false)
		return err
	})
	if err != nil || n != 1 {
		t.Fatalf("drop: %d sessions, %v", n, err)
	}
	if err := held.Ping(context.Background()); err == nil {
		t.Error("the role's session survived")
	}
	var owner string
	if err := conn.QueryRow(context.Background(), `SELECT tableowner FROM pg_tables WHERE schemaname = 'app' AND tablename = 'mine'`).Scan(&owner); err != nil || owner != "postgres" {
		t.Errorf("app.mine owned by %q (%v), want postgres", owner, err)
	}
}

// TestScanDatabase: a foreign server and user mapping, a function holding
// a dblink connection string, and a view, pointing at production, are
// found and named; objects pointing elsewhere are not.
func TestScanDatabase(t *testing.T) {
	dsn := pgtest.Require(t).NewDatabase(t)
	pgtest.Exec(t, dsn,
		`CREATE EXTENSION postgres_fdw`,
		`CREATE SERVER prod FOREIGN DATA WRAPPER postgres_fdw OPTIONS (host 'db.prod.internal', dbname 'shop')`,
		`CREATE SERVER other FOREIGN DATA WRAPPER postgres_fdw OPTIONS (host 'db.staging.internal', dbname 'shop')`,
		`CREATE USER MAPPING FOR postgres SERVER prod OPTIONS (user 'x', password 'y')`,
		`CREATE USER MAPPING FOR postgres SERVER other OPTIONS (user 'x', password 'y')`,
		`CREATE FUNCTION pull() RETURNS text LANGUAGE plpgsql AS $$ BEGIN RETURN 'dbname=shop host=10.20.1.2'; END $$`,
		`CREATE VIEW safe AS SELECT 'host=db.staging.internal'::text AS c`)
	conn := connect(t, dsn)
	hp, _ := ParseHostPattern("*.prod.internal", "production_hosts[0]")
	c, _ := ParseCIDR("10.20.0.0/16")
	fs, err := ScanDatabase(context.Background(), conn, Production{Hosts: []HostPattern{hp}, CIDRs: []CIDR{{c, "production_cidrs[0]"}}})
	if err != nil {
		t.Fatal(err)
	}
	var got []string
	for _, f := range fs {
		got = append(got, fmt.Sprintf("%s|%s", f.Kind, f.Key))
	}
	want := []string{`foreign_server|foreign server "prod"`, `dblink|function pull()`, `user_mapping|user mapping for "postgres" on server "prod"`}
	slices.Sort(want)
	slices.Sort(got)
	if !slices.Equal(got, want) {
		t.Errorf("findings %v, want %v", got, want)
	}
}

// TestScanDatabase_subscriptionsHidden: a login that may not read
// subscriptions' connection strings gets an inconclusive finding, not a
// pass, and the other checks still run.
func TestScanDatabase_subscriptionsHidden(t *testing.T) {
	dsn := pgtest.Require(t).NewDatabase(t)
	pgtest.Exec(t, dsn,
		`DO $$ BEGIN IF NOT EXISTS (SELECT 1 FROM pg_roles WHERE rolname = 'scan_plain') THEN CREATE ROLE scan_plain LOGIN PASSWORD 'scan-plain-password'; END IF; END $$`,
		`CREATE VIEW v AS SELECT 'host=db.prod.internal'::text AS c`)
	u, _ := url.Parse(dsn)
	u.User = url.UserPassword("scan_plain", "scan-plain-password")
	conn := connect(t, u.String())
	hp, _ := ParseHostPattern("*.prod.internal", "production_hosts[0]")
	fs, err := ScanDatabase(context.Background(), conn, Production{Hosts: []HostPattern{hp}})
	if err != nil {
		t.Fatal(err)
	}
	var kinds []string
	for _, f := range fs {
		kinds = append(kinds, f.Kind+"|"+f.Key)
	}
	if want := []string{"inconclusive|subscriptions", "dblink|view public.v"}; !slices.Equal(kinds, want) {
		t.Errorf("findings %v, want %v", kinds, want)
	}
}
