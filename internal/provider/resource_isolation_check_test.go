package provider

import (
	"context"
	"fmt"
	"net/url"
	"path/filepath"
	"regexp"
	"strings"
	"testing"

	"github.com/hashicorp/terraform-plugin-testing/helper/resource"
	"github.com/hashicorp/terraform-plugin-testing/knownvalue"
	"github.com/hashicorp/terraform-plugin-testing/statecheck"
	"github.com/hashicorp/terraform-plugin-testing/terraform"
	"github.com/hashicorp/terraform-plugin-testing/tfjsonpath"
	"github.com/hashicorp/terraform-plugin-testing/tfversion"

	"github.com/stagingkit/terraform-provider-staging/internal/isolation"
	"github.com/stagingkit/terraform-provider-staging/internal/pgtest"
	"github.com/stagingkit/terraform-provider-staging/internal/registry"
)

// isolationFixture is a production database (read through a read-only
// login), a staging database on another cluster with a login of its own,
// and a registry.
type isolationFixture struct {
	prodSuper, prod, staging, stagingLogin, registry string
	prodPort                                         string
	fingerprint                                      string
}

const (
	isoStagingUser     = "iso_app"
	isoStagingPassword = "staging-only-password-4f1e"
	isoProdSecret      = "prod-db-secret-9c2d7"
	isoMaskingKey      = "5e1f0c9a8b7d6e5f4a3b2c1d0e9f8a7b6c5d4e3f2a1b0c9d8e7f6a5b4c3d2e1f"
)

func newIsolationFixture(t *testing.T) isolationFixture {
	t.Helper()
	prodSuper := pgtest.Require(t).NewDatabase(t)
	staging := pgtest.StartForTest(t).NewDatabase(t)
	pgtest.Exec(t, staging, `CREATE EXTENSION postgres_fdw`)
	u, _ := url.Parse(prodSuper)
	fp, err := isolation.SecretFingerprint(isoProdSecret, "isolation-test-salt")
	if err != nil {
		t.Fatal(err)
	}
	return isolationFixture{
		prodSuper: prodSuper, prod: pgtest.ReaderDSN(t, prodSuper), staging: staging,
		stagingLogin: loginRole(t, staging, isoStagingUser, isoStagingPassword, "").String(),
		registry:     filepath.Join(t.TempDir(), "registry.db"), prodPort: u.Port(), fingerprint: fp,
	}
}

// config is a provider with production, staging and an unreachable
// production, an environment, and a check of cfg (HCL map entries) with
// extra arguments.
func (f isolationFixture) config(cfg, extra string) string {
	return fmt.Sprintf(`
provider "staging" {
  registry    = %q
  actor       = "tester"
  masking_key = %q
  postgres {
    name = "prod"
    dsn  = %q
    role = "production"
  }
  postgres {
    name = "prod_down"
    dsn  = "host=127.0.0.1 port=1 user=x password=y dbname=x connect_timeout=2"
    role = "production"
  }
  postgres {
    name = "staging"
    dsn  = %q
    role = "staging"
  }
}

resource "staging_team" "t" {
  name = "shop"
}

resource "staging_environment" "e" {
  name = "shop-iso"
  team = staging_team.t.name
}

resource "staging_isolation_check" "c" {
  environment      = staging_environment.e.name
  production_hosts = ["db.prod.example.com", "*.prod.internal"]
  production_cidrs = ["10.20.0.0/16"]
  production_secret_fingerprints = {
    orders_db_password = %q
  }
  postgres          = "staging"
  probe_production  = "prod"
  probe_user        = %q
  probe_password_wo = %q
  probe_timeout     = "3s"
  config_wo = {
    DATABASE_URL  = %q
    STRIPE_KEY    = "sk_test_51Hxyz"
    PAYPAL_URL    = "https://api-m.sandbox.paypal.com"
%s
  }
%s
}
`, f.registry, isoMaskingKey, f.prod, f.staging, f.fingerprint, isoStagingUser, isoStagingPassword, f.stagingLogin, cfg, extra)
}

// TestAccIsolationCheck_findings: a clean staging passes (the probe is
// refused by production); then each finding type fails the plan, naming
// the key or object and never the value, and passes again when fixed.
func TestAccIsolationCheck_findings(t *testing.T) {
	f := newIsolationFixture(t)
	clock := newTestClock()
	clean := f.config("", "")
	fails := func(cfg, extra, want string) resource.TestStep {
		return resource.TestStep{Config: f.config(cfg, extra), ExpectError: wrapped(want)}
	}
	resource.Test(t, resource.TestCase{
		TerraformVersionChecks:   []tfversion.TerraformVersionCheck{tfversion.SkipBelow(tfversion.Version1_11_0)},
		ProtoV6ProviderFactories: factories(clock),
		Steps: []resource.TestStep{
			{
				Config: clean,
				ConfigStateChecks: []statecheck.StateCheck{
					statecheck.ExpectKnownValue("staging_isolation_check.c", tfjsonpath.New("findings"), knownvalue.ListSizeExact(0)),
					statecheck.ExpectKnownValue("staging_isolation_check.c", tfjsonpath.New("report"),
						knownvalue.StringRegexp(regexp.MustCompile(`"keys":\["DATABASE_URL","PAYPAL_URL","STRIPE_KEY"\],"findings":\[\],"database":"scanned","probe":"refused","passed":true`))),
				},
				Check: func(*terraform.State) error {
					s := openRegistry(t, testBackend{name: "sqlite", location: f.registry}, clock)
					evs, err := s.Events(context.Background(), registry.EventFilter{ObjectType: "isolation_check", Object: "shop-iso"})
					if err != nil || len(evs) != 1 || !strings.Contains(evs[0].After, `"passed":true`) {
						return fmt.Errorf("audit events %+v, %v", evs, err)
					}
					return nil
				},
			},
			// Production DSN (the production connection's host and port).
			fails(`    OTHER_DB = "postgresql://app@127.0.0.1:`+f.prodPort+`/shop"`, "",
				`(?s)Staging Isolation Violation.*production_dsn: OTHER_DB holds a connection string whose host\s+matches production host 127.0.0.1:`+f.prodPort+`\s+\(the host of production connection\s+"prod"\)`),
			fails(`    API = "https://orders.prod.internal/v1"`, "", `(?s)production_url: API holds a URL whose host matches production host\s+\*.prod.internal`),
			fails(`    CACHE = "10.20.3.4:6379"`, "", `(?s)production_ip: CACHE holds an IP address inside production network\s+10.20.0.0/16 \(production_cidrs\[0\]\)`),
			fails(`    DB_PASSWORD = "`+isoProdSecret+`"`, "", `(?s)production_secret: DB_PASSWORD equals production secret\s+"orders_db_password"`),
			fails(`    LIVE_PAYMENTS = "true"`, "", `(?s)forbidden_flag: LIVE_PAYMENTS matches forbidden flag\s+"live_payments"`),
			fails(`    MAIL_MODE = "smtp"`, `
  forbidden_flag {
    name   = "real_mail"
    key    = "MAIL_*"
    values = ["smtp"]
    reason = "staging sends no mail"
  }`, `(?s)forbidden_flag: MAIL_MODE matches forbidden flag "real_mail".*staging sends no\s+mail`),
			fails(`    MASK = "`+isoMaskingKey+`"`, "", `(?s)masking_key: MASK holds the masking key`),
			{
				// Paths back to production inside the staging database.
				PreConfig: func() {
					pgtest.Exec(t, f.staging,
						`CREATE SERVER prod_srv FOREIGN DATA WRAPPER postgres_fdw OPTIONS (host '127.0.0.1', port '`+f.prodPort+`', dbname 'shop')`,
						`CREATE USER MAPPING FOR CURRENT_USER SERVER prod_srv OPTIONS (user 'x', password 'y')`,
						`CREATE VIEW prod_link AS SELECT 'host=127.0.0.1 port=`+f.prodPort+` dbname=shop'::text AS conninfo`,
						`CREATE SUBSCRIPTION prod_sub CONNECTION 'host=127.0.0.1 port=`+f.prodPort+` dbname=shop' PUBLICATION p WITH (connect = false)`)
				},
				Config: clean,
				ExpectError: wrapped(`(?s)foreign_server: foreign server "prod_srv" \(wrapper postgres_fdw\) holds a connection string.*` +
					`subscription: subscription "prod_sub" replicates from production: its connection string's host matches.*` +
					`user_mapping: user mapping for "postgres" on server "prod_srv" gives credentials.*` +
					`dblink: view public.prod_link its text holds a connection string whose host matches production host 127.0.0.1:` + f.prodPort),
			},
			{
				PreConfig: func() {
					pgtest.Exec(t, f.staging, `DROP SERVER prod_srv CASCADE`, `DROP VIEW prod_link`,
						`ALTER SUBSCRIPTION prod_sub SET (slot_name = NONE)`, `DROP SUBSCRIPTION prod_sub`)
				},
				Config: clean,
			},
			{
				// The staging password is valid in production too.
				PreConfig:   func() { loginRole(t, f.prodSuper, isoStagingUser, isoStagingPassword, "") },
				Config:      clean,
				ExpectError: wrapped(`(?s)production_login: live probe of 127.0.0.1:` + f.prodPort + `/\S+ as\s+"iso_app"\s+production accepted staging's login and password`),
			},
			{
				PreConfig: func() { pgtest.Exec(t, f.prodSuper, `DROP ROLE iso_app`) },
				Config:    clean,
			},
			{
				// Unreachable production: inconclusive, a warning kept in
				// state, never a pass.
				Config: strings.Replace(clean, `probe_production  = "prod"`, `probe_production  = "prod_down"`, 1),
				ConfigStateChecks: []statecheck.StateCheck{
					statecheck.ExpectKnownValue("staging_isolation_check.c", tfjsonpath.New("findings"), knownvalue.ListExact([]knownvalue.Check{
						knownvalue.ObjectPartial(map[string]knownvalue.Check{"kind": knownvalue.StringExact("inconclusive"), "inconclusive": knownvalue.Bool(true)}),
					})),
					statecheck.ExpectKnownValue("staging_isolation_check.c", tfjsonpath.New("report"), knownvalue.StringRegexp(regexp.MustCompile(`"probe":"inconclusive","passed":true`))),
				},
			},
			{
				// enforce = false: findings are warnings, kept in state.
				Config: f.config(`    LIVE_PAYMENTS = "on"`, "  enforce = false"),
				ConfigStateChecks: []statecheck.StateCheck{
					statecheck.ExpectKnownValue("staging_isolation_check.c", tfjsonpath.New("findings"), knownvalue.ListExact([]knownvalue.Check{
						knownvalue.ObjectPartial(map[string]knownvalue.Check{"kind": knownvalue.StringExact("forbidden_flag"), "key": knownvalue.StringExact("LIVE_PAYMENTS")}),
					})),
					statecheck.ExpectKnownValue("staging_isolation_check.c", tfjsonpath.New("report"), knownvalue.StringRegexp(regexp.MustCompile(`"passed":false`))),
				},
			},
		},
	})
}

// wrapped compiles an expected message in which Terraform may break any
// space into a line break.
func wrapped(want string) *regexp.Regexp {
	return regexp.MustCompile(strings.ReplaceAll(strings.ReplaceAll(want, `\s+`, " "), " ", `\s+`))
}

// TestAccIsolationCheck_badInput: a CIDR that does not parse, a host
// pattern that is a URL, a fingerprint that is not one, and a probe
// without a login are refused, naming the attribute.
func TestAccIsolationCheck_badInput(t *testing.T) {
	reg := filepath.Join(t.TempDir(), "registry.db")
	base := `
provider "staging" {
  registry = "` + reg + `"
}

resource "staging_isolation_check" "c" {
%s
}
`
	step := func(body, want string) resource.TestStep {
		return resource.TestStep{Config: fmt.Sprintf(base, body), ExpectError: regexp.MustCompile(want)}
	}
	resource.Test(t, resource.TestCase{
		TerraformVersionChecks:   []tfversion.TerraformVersionCheck{tfversion.SkipBelow(tfversion.Version1_11_0)},
		ProtoV6ProviderFactories: factories(newTestClock()),
		Steps: []resource.TestStep{
			step(`  production_cidrs = ["10.0.0.0/8", "10.300.0.0/16"]`, `(?s)Invalid Production CIDR.*production_cidrs.*"10.300.0.0/16" is neither a CIDR`),
			step(`  production_hosts = ["https://db.prod"]`, `(?s)Invalid Production Host.*production_hosts.*is not a host name`),
			step(`  production_secret_fingerprints = { x = "hunter2" }`, `(?s)Invalid Production Secret Fingerprint.*production_secret_fingerprints.*not an Argon2id\s+fingerprint`),
			step(`  probe_production = "prod"`, `(?s)Missing Probe Login.*probe_user`),
			step(`  probe_timeout = "soon"`, `(?s)probe_timeout.*not a valid duration`),
		},
	})
}

// TestAccIsolationCheck_knownAtApply: a value only known at apply (it
// holds an environment's id) is checked at apply, and its finding fails
// the apply.
func TestAccIsolationCheck_knownAtApply(t *testing.T) {
	reg := filepath.Join(t.TempDir(), "registry.db")
	resource.Test(t, resource.TestCase{
		TerraformVersionChecks:   []tfversion.TerraformVersionCheck{tfversion.SkipBelow(tfversion.Version1_11_0)},
		ProtoV6ProviderFactories: factories(newTestClock()),
		Steps: []resource.TestStep{{
			Config: `
provider "staging" {
  registry = "` + reg + `"
}

resource "staging_team" "t" {
  name = "shop"
}

resource "staging_environment" "e" {
  name = "shop-late"
  team = staging_team.t.name
}

resource "staging_isolation_check" "c" {
  config_wo        = { CALLBACK_URL = "https://${staging_environment.e.id}.prod.internal/hook" }
  production_hosts = ["*.prod.internal"]
}
`,
			ExpectError: wrapped(`(?s)Error running apply.*Error: Staging Isolation Violation.*production_url: CALLBACK_URL holds a URL whose host matches production host \*.prod.internal`),
		}},
	})
}
