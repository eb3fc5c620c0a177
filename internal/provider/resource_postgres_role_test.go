package provider

import (
	"context"
	"errors"
	"fmt"
	"net/url"
	"path/filepath"
	"regexp"
	"strings"
	"testing"
	"time"

	"github.com/hashicorp/terraform-plugin-testing/helper/resource"
	"github.com/hashicorp/terraform-plugin-testing/knownvalue"
	"github.com/hashicorp/terraform-plugin-testing/plancheck"
	"github.com/hashicorp/terraform-plugin-testing/statecheck"
	"github.com/hashicorp/terraform-plugin-testing/terraform"
	"github.com/hashicorp/terraform-plugin-testing/tfjsonpath"
	"github.com/hashicorp/terraform-plugin-testing/tfversion"
	"github.com/jackc/pgx/v5"
	"github.com/jackc/pgx/v5/pgconn"

	"github.com/stagingkit/terraform-provider-staging/internal/isolation"
	"github.com/stagingkit/terraform-provider-staging/internal/pgtest"
)

// nowClock is a test clock at the real time: PostgreSQL checks a role's
// VALID UNTIL against its own clock.
func nowClock() *testClock {
	c := newTestClock()
	c.t = time.Now().UTC().Truncate(time.Second)
	return c
}

// stagingApp creates, in a fresh staging database, schema app with a
// table, a view and a sequence, and returns the database's superuser DSN.
func stagingApp(t *testing.T) string {
	t.Helper()
	dsn := pgtest.Require(t).NewDatabase(t)
	pgtest.Exec(t, dsn,
		`CREATE SCHEMA app`,
		`CREATE TABLE app.orders (id serial PRIMARY KEY, total int NOT NULL)`,
		`INSERT INTO app.orders (total) VALUES (10), (20)`,
		`CREATE VIEW app.big_orders AS SELECT * FROM app.orders WHERE total > 15`,
		`CREATE TABLE public.secrets (v text)`,
	)
	return dsn
}

// loginAs returns dsn with the login user:password.
func loginAs(t *testing.T, dsn, user, password string) string {
	t.Helper()
	u, err := url.Parse(dsn)
	if err != nil {
		t.Fatal(err)
	}
	u.User = url.UserPassword(user, password)
	return u.String()
}

// tryLogin runs sql as user with password and returns the error.
func tryLogin(dsn, user, password, sql string) error {
	u, _ := url.Parse(dsn)
	u.User = url.UserPassword(user, password)
	ctx, cancel := context.WithTimeout(context.Background(), 10*time.Second)
	defer cancel()
	conn, err := pgx.Connect(ctx, u.String())
	if err != nil {
		return err
	}
	defer conn.Close(ctx)
	_, err = conn.Exec(ctx, sql)
	return err
}

// sqlState is the SQLSTATE of err, "" when it is not a server error.
func sqlState(err error) string {
	var pe *pgconn.PgError
	if errors.As(err, &pe) {
		return pe.Code
	}
	return ""
}

// roleConfig is a team, an environment, a credential and a role on the
// staging connection; body holds the role's arguments.
func roleConfig(registry, staging, body string, version int) string {
	return fmt.Sprintf(`
provider "staging" {
  registry               = %q
  actor                  = "tester"
  credential_root_secret = %q
  postgres {
    name = "staging"
    dsn  = %q
    role = "staging"
  }
}

resource "staging_team" "pay" {
  name = "pay"
}

resource "staging_environment" "x" {
  name = "pay-x"
  team = staging_team.pay.name
  ttl  = "72h"
}

ephemeral "staging_credential" "db" {
  environment = staging_environment.x.name
  name        = "app-db"
  version     = %d
}

resource "staging_postgres_role" "app" {
  postgres            = "staging"
  name                = "${staging_environment.x.namespace}_app"
  environment         = staging_environment.x.name
  password_wo         = ephemeral.staging_credential.db.value
  password_wo_version = %d
  schemas             = ["app"]
%s
}
`, registry, testRootSecret, staging, version, version, body)
}

// rolePassword is the credential roleConfig's role gets.
func rolePassword(t *testing.T, version int64) string {
	return derivedPassword(t, "pay-x", "app-db", version, isolation.DefaultPasswordPolicy())
}

// TestAccPostgresRole_lifecycle: the role logs in with the write-only
// password and has exactly its preset (a forbidden write fails); drift
// put in by hand is detected and repaired; rotation makes the old
// password fail; another preset; import with an empty plan after; and
// destroy terminates its session and reassigns what it owns.
func TestAccPostgresRole_lifecycle(t *testing.T) {
	staging := stagingApp(t)
	registryPath := filepath.Join(t.TempDir(), "registry.db")
	clock := nowClock()
	var name string
	var held *pgx.Conn
	captureName := func(s *terraform.State) error {
		name = s.RootModule().Resources["staging_postgres_role.app"].Primary.Attributes["name"]
		return nil
	}
	expect := func(version int64, sql, state string) resource.TestCheckFunc {
		return func(*terraform.State) error {
			err := tryLogin(staging, name, rolePassword(t, version), sql)
			if got := sqlState(err); got != state || (state == "" && err != nil) {
				return fmt.Errorf("%s as %s with password v%d: SQLSTATE %q (%v), want %q", sql, name, version, got, err, state)
			}
			return nil
		}
	}
	const denied, badPassword = "42501", "28P01"
	resource.Test(t, resource.TestCase{
		TerraformVersionChecks:   []tfversion.TerraformVersionCheck{tfversion.SkipBelow(tfversion.Version1_11_0)},
		ProtoV6ProviderFactories: factories(clock),
		CheckDestroy: func(*terraform.State) error {
			if n := pgCount(t, staging, `SELECT count(*) FROM pg_roles WHERE rolname = $1`, name); n != 0 {
				return fmt.Errorf("role %s still exists", name)
			}
			if held == nil {
				return errors.New("no session of the role was held")
			}
			if err := held.Ping(context.Background()); err == nil {
				return errors.New("the role's session survived its destroy")
			}
			if owner := pgCount(t, staging, `SELECT count(*) FROM pg_tables WHERE tablename = 'made_by_role' AND tableowner = current_user`); owner != 1 {
				return errors.New("the table the role owned was not reassigned to the connection's login")
			}
			return nil
		},
		Steps: []resource.TestStep{
			{
				Config: roleConfig(registryPath, staging, `  preset = "read_only"`, 1),
				Check: resource.ComposeTestCheckFunc(captureName,
					expect(1, `SELECT count(*) FROM app.orders`, ""),
					expect(1, `SELECT count(*) FROM app.big_orders`, ""),
					expect(1, `SELECT nextval('app.orders_id_seq')`, denied),
					expect(1, `INSERT INTO app.orders (total) VALUES (1)`, denied),
					expect(1, `SELECT * FROM public.secrets`, denied),
					expect(1, `CREATE TABLE app.t (x int)`, denied),
					expect(2, `SELECT 1`, badPassword),
					func(s *terraform.State) error {
						env := s.RootModule().Resources["staging_environment.x"].Primary.Attributes
						role := s.RootModule().Resources["staging_postgres_role.app"].Primary.Attributes
						if !strings.HasPrefix(name, env["namespace"]+"_") || role["valid_until"] != env["expires_at"] || role["valid_until"] == "" {
							return fmt.Errorf("role %s valid until %q; environment namespace %s expires %s", name, role["valid_until"], env["namespace"], env["expires_at"])
						}
						if n := pgCount(t, staging, `SELECT count(*) FROM pg_roles WHERE rolname = $1 AND rolvaliduntil = $2::timestamptz`, name, role["valid_until"]); n != 1 {
							return errors.New("the role's VALID UNTIL is not the environment's expiry")
						}
						return nil
					},
				),
				ConfigStateChecks: []statecheck.StateCheck{
					statecheck.ExpectKnownValue("staging_postgres_role.app", tfjsonpath.New("drift"), knownvalue.ListSizeExact(0)),
					statecheck.ExpectKnownValue("staging_postgres_role.app", tfjsonpath.New("password_wo"), knownvalue.Null()),
				},
			},
			{
				// Drift by hand: a write grant, an attribute, a membership, a
				// revoked preset privilege. The plan repairs them all.
				PreConfig: func() {
					pgtest.Exec(t, staging,
						fmt.Sprintf(`GRANT INSERT ON app.orders TO %q`, name),
						fmt.Sprintf(`GRANT SELECT ON public.secrets TO %q`, name),
						fmt.Sprintf(`ALTER ROLE %q CREATEDB`, name),
						fmt.Sprintf(`GRANT pg_read_server_files TO %q`, name),
						fmt.Sprintf(`REVOKE SELECT ON app.big_orders FROM %q`, name))
				},
				Config: roleConfig(registryPath, staging, `  preset = "read_only"`, 1),
				ConfigPlanChecks: resource.ConfigPlanChecks{PreApply: []plancheck.PlanCheck{
					plancheck.ExpectResourceAction("staging_postgres_role.app", plancheck.ResourceActionUpdate),
					plancheck.ExpectKnownValue("staging_postgres_role.app", tfjsonpath.New("drift"), knownvalue.ListSizeExact(0)),
				}},
				Check: resource.ComposeTestCheckFunc(
					expect(1, `INSERT INTO app.orders (total) VALUES (1)`, denied),
					expect(1, `SELECT * FROM public.secrets`, denied),
					expect(1, `SELECT count(*) FROM app.big_orders`, ""),
					func(*terraform.State) error {
						if n := pgCount(t, staging, `SELECT count(*) FROM pg_roles r WHERE rolname = $1 AND (rolcreatedb OR EXISTS (SELECT 1 FROM pg_auth_members WHERE member = r.oid))`, name); n != 0 {
							return errors.New("CREATEDB or the membership survived the repair")
						}
						return nil
					},
				),
			},
			{
				// Rotation: the old password stops working.
				Config: roleConfig(registryPath, staging, `  preset = "read_only"`, 2),
				Check: resource.ComposeTestCheckFunc(
					expect(2, `SELECT count(*) FROM app.orders`, ""),
					expect(1, `SELECT 1`, badPassword),
				),
			},
			{
				// read_write: writes work, TRUNCATE and DDL do not; owner
				// adds them.
				Config: roleConfig(registryPath, staging, `  preset = "read_write"`, 2),
				Check: resource.ComposeTestCheckFunc(
					expect(2, `INSERT INTO app.orders (total) VALUES (5)`, ""),
					expect(2, `TRUNCATE app.orders`, denied),
					expect(2, `CREATE TABLE app.t (x int)`, denied),
				),
			},
			{
				ResourceName:      "staging_postgres_role.app",
				ImportState:       true,
				ImportStateIdFunc: func(*terraform.State) (string, error) { return "staging/" + name, nil },
				ImportStateVerify: true,
				// Write-only: never in state, so there is nothing to compare.
				ImportStateVerifyIgnore: []string{"password_wo"},
			},
			{
				// An import block plans the import with no change after it.
				Config:            roleConfig(registryPath, staging, `  preset = "read_write"`, 2),
				ResourceName:      "staging_postgres_role.app",
				ImportState:       true,
				ImportStateKind:   resource.ImportBlockWithID,
				ImportStateIdFunc: func(*terraform.State) (string, error) { return "staging/" + name, nil },
			},
			{
				Config: roleConfig(registryPath, staging, `  preset = "owner"
  connection_limit = 5`, 2),
				Check: resource.ComposeTestCheckFunc(
					expect(2, `CREATE TABLE app.made_by_role (x int)`, ""),
					func(*terraform.State) error {
						if n := pgCount(t, staging, `SELECT rolconnlimit FROM pg_roles WHERE rolname = $1`, name); n != 5 {
							return fmt.Errorf("connection limit %d", n)
						}
						// A session of the role that destroy must end.
						var err error
						held, err = pgx.Connect(context.Background(), loginAs(t, staging, name, rolePassword(t, 2)))
						return err
					},
				),
			},
			{
				// Without password_wo the password is removed.
				Config: strings.Replace(strings.Replace(roleConfig(registryPath, staging, `  preset = "owner"
  connection_limit = 5`, 2), "  password_wo         = ephemeral.staging_credential.db.value\n", "", 1), "  password_wo_version = 2\n", "", 1),
				Check: expect(2, `SELECT 1`, badPassword),
			},
		},
	})
}

// TestAccPostgresRole_badInput: a production connection, an unknown
// preset, a short password and a name outside the namespace are refused
// at plan, each naming the attribute.
func TestAccPostgresRole_badInput(t *testing.T) {
	staging := stagingApp(t)
	reg := filepath.Join(t.TempDir(), "registry.db")
	prodConfig := fmt.Sprintf(`
provider "staging" {
  registry = %q
  postgres {
    name = "prod"
    dsn  = %q
    role = "production"
  }
}

resource "staging_postgres_role" "app" {
  postgres = "prod"
  name     = "app_ro"
  preset   = "read_only"
}
`, reg, staging)
	steps := []resource.TestStep{{Config: prodConfig, ExpectError: regexp.MustCompile(`(?s)Production Connection Refused.*role "production", and this object\s+writes`)}}
	for _, c := range []struct{ body, want string }{
		{`  preset = "admin"`, `(?s)preset.*value must be one of`},
		{`  preset = "read_only"
  password_wo = "short"
  password_wo_version = 1`, `(?s)password_wo.*at least 16`},
		{`  preset = "owner"
  schemas = ["public", "stagingkit_roles"]`, `(?s)schemas.*value must be none of`},
		{`  preset = "read_only"
  password_wo = "a-password-of-enough-length"`, `(?s)Invalid Attribute Combination.*password_wo_version`},
	} {
		steps = append(steps, resource.TestStep{Config: strings.Replace(strings.Replace(prodConfig, `"production"`, `"staging"`, 1), `  preset   = "read_only"`, c.body, 1), ExpectError: regexp.MustCompile(c.want)})
	}
	steps = append(steps, resource.TestStep{
		Config: roleConfig(reg, staging, `  preset = "read_only"`, 1),
	}, resource.TestStep{
		Config:      strings.Replace(roleConfig(reg, staging, `  preset = "read_only"`, 1), `"${staging_environment.x.namespace}_app"`, `"someone_else"`, 1),
		ExpectError: regexp.MustCompile(`(?s)Role Outside the Environment's Namespace.*must start with`),
	})
	resource.Test(t, resource.TestCase{
		TerraformVersionChecks:   []tfversion.TerraformVersionCheck{tfversion.SkipBelow(tfversion.Version1_11_0)},
		ProtoV6ProviderFactories: factories(nowClock()),
		Steps:                    steps,
	})
}

// TestAccPostgresRole_parallel applies ten roles on one database at
// -parallelism=10 (Terraform's default): without the per-database lock,
// concurrent GRANTs on one schema fail with "tuple concurrently updated".
func TestAccPostgresRole_parallel(t *testing.T) {
	staging := stagingApp(t)
	var b strings.Builder
	fmt.Fprintf(&b, "provider \"staging\" {\n  registry = %q\n  postgres {\n    name = \"staging\"\n    dsn  = %q\n    role = \"staging\"\n  }\n}\n",
		filepath.Join(t.TempDir(), "registry.db"), staging)
	for i := range 10 {
		preset := isolation.Presets[i%3]
		fmt.Fprintf(&b, "\nresource \"staging_postgres_role\" \"r%d\" {\n  postgres = \"staging\"\n  name     = \"par_%d\"\n  preset   = %q\n  schemas  = [\"app\", \"public\"]\n}\n", i, i, preset)
	}
	resource.Test(t, resource.TestCase{
		TerraformVersionChecks:   []tfversion.TerraformVersionCheck{tfversion.SkipBelow(tfversion.Version1_11_0)},
		ProtoV6ProviderFactories: factories(nowClock()),
		Steps: []resource.TestStep{{
			Config: b.String(),
			Check: func(*terraform.State) error {
				if n := pgCount(t, staging, `SELECT count(*) FROM pg_namespace n, aclexplode(n.nspacl) a JOIN pg_roles r ON r.oid = a.grantee
					WHERE n.nspname = 'app' AND r.rolname LIKE 'par\_%' AND a.privilege_type = 'USAGE'`); n != 10 {
					return fmt.Errorf("%d of 10 roles have USAGE on app", n)
				}
				return nil
			},
		}},
	})
}

// TestAccPostgresRole_keptAcrossRecopy is the contract between clones and
// roles: a re-copy replaces the copied schemas, and with them every grant
// on them; the grant catalog's event trigger gives every registered role
// its preset again inside the swap. The role logs in and reads before and
// after a re-copy, cannot write either time, and the plan after the
// re-copy is empty (no drift).
func TestAccPostgresRole_keptAcrossRecopy(t *testing.T) {
	prodSuper := pgtest.Require(t).NewDatabase(t)
	pgtest.Exec(t, prodSuper,
		`CREATE TABLE widgets (id int PRIMARY KEY, sku int NOT NULL, qty int NOT NULL)`,
		`INSERT INTO widgets SELECT g, g * 7, g % 13 FROM generate_series(1, 500) g`)
	prod := pgtest.ReaderDSN(t, prodSuper)
	staging := pgtest.StartForTest(t).NewDatabase(t)
	registryPath := filepath.Join(t.TempDir(), "registry.db")
	config := func(keyVersion int) string {
		return fmt.Sprintf(`
provider "staging" {
  registry               = %q
  actor                  = "tester"
  credential_root_secret = %q
  postgres {
    name = "prod"
    dsn  = %q
    role = "production"
  }
  postgres {
    name = "staging"
    dsn  = %q
    role = "staging"
  }
}

resource "staging_team" "shop" {
  name = "shop"
}

resource "staging_environment" "demo" {
  name = "shop-demo"
  team = staging_team.shop.name
}

resource "staging_postgres_clone" "shop" {
  source      = "prod"
  target      = "staging"
  environment = staging_environment.demo.name
  key         = "9f86d081884c7d659a2feaa0c55ad015a3bf4f1b2b0b822cd15d6c15b0f00a08"
  key_version = %d
}

ephemeral "staging_credential" "db" {
  environment = staging_environment.demo.name
  name        = "reader"
}

resource "staging_postgres_role" "reader" {
  postgres            = "staging"
  name                = "${staging_environment.demo.namespace}_reader"
  environment         = staging_environment.demo.name
  preset              = "read_only"
  password_wo         = ephemeral.staging_credential.db.value
  password_wo_version = 1
}
`, registryPath, testRootSecret, prod, staging, keyVersion)
	}
	var name string
	var rows []int64
	login := func(s *terraform.State) error {
		name = s.RootModule().Resources["staging_postgres_role.reader"].Primary.Attributes["name"]
		pw := derivedPassword(t, "shop-demo", "reader", 1, isolation.DefaultPasswordPolicy())
		u := loginAs(t, staging, name, pw)
		rows = append(rows, pgCount(t, u, `SELECT count(*) FROM widgets`))
		if err := tryLogin(staging, name, pw, `DELETE FROM widgets`); sqlState(err) != "42501" {
			return fmt.Errorf("DELETE as the read_only role: %v, want permission denied", err)
		}
		return nil
	}
	cfg := config
	resource.Test(t, resource.TestCase{
		TerraformVersionChecks:   []tfversion.TerraformVersionCheck{tfversion.SkipBelow(tfversion.Version1_11_0)},
		ProtoV6ProviderFactories: factories(nowClock()),
		Steps: []resource.TestStep{
			{Config: cfg(1), Check: login},
			{
				// A re-copy: the clone swaps new schemas in; the role is not
				// touched by this apply.
				Config: cfg(2),
				ConfigPlanChecks: resource.ConfigPlanChecks{PreApply: []plancheck.PlanCheck{
					plancheck.ExpectResourceAction("staging_postgres_clone.shop", plancheck.ResourceActionUpdate),
					plancheck.ExpectResourceAction("staging_postgres_role.reader", plancheck.ResourceActionNoop),
				}},
				Check: login,
			},
		},
	})
	if len(rows) != 2 || rows[0] == 0 || rows[1] == 0 {
		t.Errorf("widgets read by the role before and after the re-copy: %v", rows)
	}
}
