package isolation

import (
	"slices"
	"strings"
	"testing"
	"time"
)

// TestRole_expectedAndGrants: a read_only role on one schema expects
// CONNECT, USAGE, SELECT on each relation and default privileges per
// creator, and its grant statements say the same.
func TestRole_expectedAndGrants(t *testing.T) {
	r := Role{Name: "pay-x_app", Preset: PresetReadOnly, Schemas: []string{"app", "missing"}, DefaultFor: []string{"migrator", "pay-x_app"}, ConnectionLimit: -1}
	got, err := r.Expected("shop", []string{"app"}, []Relation{{"app", "orders", false}, {"app", "orders_id_seq", true}, {"other", "t", false}})
	if err != nil {
		t.Fatal(err)
	}
	var s []string
	for _, p := range got {
		s = append(s, p.String())
	}
	want := []string{
		`CONNECT ON DATABASE "shop"`,
		`SELECT ON FUTURE SEQUENCES IN SCHEMA "app" CREATED BY "migrator"`,
		`SELECT ON FUTURE TABLES IN SCHEMA "app" CREATED BY "migrator"`,
		`USAGE ON SCHEMA "app"`,
		`SELECT ON SEQUENCE "app"."orders_id_seq"`,
		`SELECT ON TABLE "app"."orders"`,
	}
	if !slices.Equal(s, want) {
		t.Errorf("expected:\n%s\nwant:\n%s", strings.Join(s, "\n"), strings.Join(want, "\n"))
	}
	g, _ := r.GrantSQL("app")
	wantSQL := []string{
		`GRANT USAGE ON SCHEMA "app" TO "pay-x_app"`,
		`GRANT SELECT ON ALL TABLES IN SCHEMA "app" TO "pay-x_app"`,
		`GRANT SELECT ON ALL SEQUENCES IN SCHEMA "app" TO "pay-x_app"`,
		`ALTER DEFAULT PRIVILEGES FOR ROLE "migrator" IN SCHEMA "app" GRANT SELECT ON TABLES TO "pay-x_app"`,
		`ALTER DEFAULT PRIVILEGES FOR ROLE "migrator" IN SCHEMA "app" GRANT SELECT ON SEQUENCES TO "pay-x_app"`,
	}
	if !slices.Equal(g, wantSQL) {
		t.Errorf("grants:\n%s", strings.Join(g, "\n"))
	}
	if _, err := PrivilegesOf("admin"); err == nil || !strings.Contains(err.Error(), "read_only, read_write, owner") {
		t.Errorf("unknown preset: %v", err)
	}
}

// TestPrivilege_revoke: every kind of privilege renders a REVOKE that
// names it exactly.
func TestPrivilege_revoke(t *testing.T) {
	for _, c := range []struct {
		p    Privilege
		want string
	}{
		{Privilege{Kind: KindTable, Schema: "app", Object: "Orders", Privilege: "INSERT"}, `REVOKE INSERT ON TABLE "app"."Orders" FROM "r"`},
		{Privilege{Kind: KindSchema, Schema: "app", Privilege: "CREATE"}, `REVOKE CREATE ON SCHEMA "app" FROM "r"`},
		{Privilege{Kind: KindDatabase, Object: "shop", Privilege: "TEMPORARY"}, `REVOKE TEMPORARY ON DATABASE "shop" FROM "r"`},
		{Privilege{Kind: KindColumn, Schema: "app", Object: "orders.total", Privilege: "UPDATE"}, `REVOKE UPDATE ("total") ON TABLE "app"."orders" FROM "r"`},
		{Privilege{Kind: KindFunction, Schema: "app", Object: "app.f(integer)", Privilege: "EXECUTE"}, `REVOKE EXECUTE ON FUNCTION app.f(integer) FROM "r"`},
		{Privilege{Kind: KindDefaultTable, Schema: "app", Object: "mig", Privilege: "DELETE"}, `ALTER DEFAULT PRIVILEGES FOR ROLE "mig" IN SCHEMA "app" REVOKE DELETE ON TABLES FROM "r"`},
		{Privilege{Kind: KindDefaultSchema, Object: "mig", Privilege: "USAGE"}, `ALTER DEFAULT PRIVILEGES FOR ROLE "mig" REVOKE USAGE ON SCHEMAS FROM "r"`},
		{Privilege{Kind: KindMembership, Object: "pg_read_server_files"}, `REVOKE "pg_read_server_files" FROM "r"`},
	} {
		if got := c.p.RevokeSQL("r"); got != c.want {
			t.Errorf("%+v: %s, want %s", c.p, got, c.want)
		}
	}
}

// TestRole_sql: create and limits render the least-privileged login, its
// limits and expiry; a registration round-trips through the comment.
func TestRole_sql(t *testing.T) {
	r := Role{Name: "a'b", ConnectionLimit: 3, ValidUntil: time.Date(2026, 12, 1, 9, 0, 0, 0, time.UTC)}
	if got := r.CreateSQL("SCRAM-SHA-256$4096:x$y:z"); got != `CREATE ROLE "a'b" LOGIN NOSUPERUSER NOCREATEDB NOCREATEROLE NOREPLICATION NOBYPASSRLS INHERIT CONNECTION LIMIT 3 VALID UNTIL '2026-12-01T09:00:00Z' PASSWORD 'SCRAM-SHA-256$4096:x$y:z'` {
		t.Errorf("create: %s", got)
	}
	if got := (Role{Name: "r", ConnectionLimit: -1}).LimitsSQL(); got != `ALTER ROLE "r" CONNECTION LIMIT -1 VALID UNTIL 'infinity'` {
		t.Errorf("limits: %s", got)
	}
	if got := redactPassword(r.PasswordSQL("SCRAM-SHA-256$secret")); strings.Contains(got, "secret") {
		t.Errorf("redacted: %s", got)
	}
	c, _ := r.CommentSQL(Registration{Environment: "it's", Preset: PresetOwner, Schemas: []string{"app"}, PasswordWOVersion: 2})
	body := strings.TrimSuffix(strings.SplitN(c, " IS '", 2)[1], "'")
	reg, ok := ParseRegistration(strings.ReplaceAll(body, "''", "'"))
	if !ok || reg.Environment != "it's" || reg.PasswordWOVersion != 2 || reg.Preset != PresetOwner {
		t.Errorf("registration %+v %v from %s", reg, ok, c)
	}
	if _, ok := ParseRegistration("a comment by hand"); ok {
		t.Error("a hand-written comment parsed as a registration")
	}
	if got := FlagDrift(Attributes{Login: true, Superuser: true, Inherit: false}); !slices.Equal(got, []string{"NOSUPERUSER", "INHERIT"}) {
		t.Errorf("flag drift %v", got)
	}
}
