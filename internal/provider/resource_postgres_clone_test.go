package provider

import (
	"context"
	"errors"
	"fmt"
	"regexp"
	"slices"
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

	"github.com/stagingkit/terraform-provider-staging/internal/pgtest"
	"github.com/stagingkit/terraform-provider-staging/internal/registry"
	"github.com/stagingkit/terraform-provider-staging/internal/shopdata"
)

// seededShop returns a production database holding the sample shop (the
// DSN of a read-only login) and an empty staging database on another
// cluster.
func seededShop(t *testing.T) (prod, staging string) {
	t.Helper()
	_, prod, staging = seededShopWithAdmin(t)
	return prod, staging
}

// seededShopWithAdmin is seededShop that also returns production's
// superuser DSN, for tests that change production between steps.
func seededShopWithAdmin(t *testing.T) (admin, prod, staging string) {
	t.Helper()
	prod = pgtest.Require(t).NewDatabase(t)
	staging = pgtest.StartForTest(t).NewDatabase(t)
	ctx := context.Background()
	conn, err := pgx.Connect(ctx, prod)
	if err != nil {
		t.Fatal(err)
	}
	defer conn.Close(ctx)
	if err := shopdata.Create(ctx, conn); err != nil {
		t.Fatal(err)
	}
	if _, err := shopdata.Seed(ctx, conn, 0.001); err != nil {
		t.Fatal(err)
	}
	// Production is read through a login that can only read, as the
	// provider requires by default.
	return prod, pgtest.ReaderDSN(t, prod), staging
}

// shopRules masks every personal column of the sample shop; skip leaves
// the named "table.column" out.
func shopRules(skip ...string) string {
	rules := []struct{ table, column, transformer, extra string }{
		{"customers", "email", "email", `domain = "customer_email"`},
		{"customers", "first_name", "first_name", ""},
		{"customers", "last_name", "last_name", ""},
		{"customers", "phone", "phone", ""},
		{"customers", "birth_date", "date_shift", `options = { max_days = "60" }`},
		{"addresses", "street", "address", ""},
		{"addresses", "postal_code", "text_scramble", ""},
		{"payments", "card_number", "credit_card", ""},
		{"payments", "card_holder", "full_name", ""},
		{"support_tickets", "body", "text_scramble", ""},
	}
	var b strings.Builder
	for _, r := range rules {
		if slices.Contains(skip, r.table+"."+r.column) {
			continue
		}
		fmt.Fprintf(&b, "  rule {\n    table       = %q\n    column      = %q\n    transformer = %q\n    %s\n  }\n", r.table, r.column, r.transformer, r.extra)
	}
	return b.String()
}

// cloneConfig is a team, an environment and a clone of the shop, with a
// production and a staging connection.
func cloneConfig(registryPath, prod, staging, body string) string {
	return cloneConfigWith(registryPath, [][3]string{{"prod", prod, "production"}, {"staging", staging, "staging"}}, body)
}

// cloneConfigWith is cloneConfig with the given connections (name, dsn,
// role).
func cloneConfigWith(registryPath string, conns [][3]string, body string) string {
	var p strings.Builder
	fmt.Fprintf(&p, "provider \"staging\" {\n  registry = %q\n  actor    = \"tester\"\n", registryPath)
	for _, c := range conns {
		fmt.Fprintf(&p, "  postgres {\n    name = %q\n    dsn  = %q\n    role = %q\n  }\n", c[0], c[1], c[2])
	}
	p.WriteString("}\n")
	return p.String() + `
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
  key         = "dfe8af7adc8d73117180079bfd5454fc0b3ec67e517b53f1313a1c3889ac1099"
` + body + `
}
`
}

// noSecretsInState fails when any state attribute holds the masking key or
// a database password.
func noSecretsInState(secrets ...string) resource.TestCheckFunc {
	return func(s *terraform.State) error {
		for addr, rs := range s.RootModule().Resources {
			for k, v := range rs.Primary.Attributes {
				for _, secret := range secrets {
					if secret != "" && strings.Contains(v, secret) {
						return fmt.Errorf("%s.%s holds a secret", addr, k)
					}
				}
			}
		}
		return nil
	}
}

func pgCount(t *testing.T, dsn, sql string, args ...any) int64 {
	t.Helper()
	ctx := context.Background()
	conn, err := pgx.Connect(ctx, dsn)
	if err != nil {
		t.Fatal(err)
	}
	defer conn.Close(ctx)
	var n int64
	if err := conn.QueryRow(ctx, sql, args...).Scan(&n); err != nil {
		t.Fatalf("%v\n%s", err, sql)
	}
	return n
}

func pgStrings(t *testing.T, dsn, sql string) []string {
	t.Helper()
	ctx := context.Background()
	conn, err := pgx.Connect(ctx, dsn)
	if err != nil {
		t.Fatal(err)
	}
	defer conn.Close(ctx)
	rows, err := conn.Query(ctx, sql)
	if err != nil {
		t.Fatalf("%v\n%s", err, sql)
	}
	out, err := pgx.CollectRows(rows, pgx.RowTo[string])
	if err != nil {
		t.Fatal(err)
	}
	return out
}

func TestAccPostgresClone_lifecycle(t *testing.T) {
	prod, staging := seededShop(t)
	clock := newTestClock()
	reg := t.TempDir() + "/registry.db"
	body := shopRules() + `
  subset {
    table   = "customers"
    percent = 20
  }
  null_dangling_references = true
  refresh_after            = "7d"
`
	cfg := cloneConfig(reg, prod, staging, body)
	const addr = "staging_postgres_clone.shop"
	prodPassword := strings.Split(strings.Split(prod, ":")[2], "@")[0]
	var firstEmails string
	resource.Test(t, resource.TestCase{
		TerraformVersionChecks:   []tfversion.TerraformVersionCheck{tfversion.SkipBelow(tfversion.Version1_11_0)},
		ProtoV6ProviderFactories: factories(clock),
		CheckDestroy: func(*terraform.State) error {
			if n := pgCount(t, staging, `SELECT count(*) FROM pg_class WHERE relname = 'customers'`); n != 0 {
				return errors.New("the cloned tables are still in staging after destroy")
			}
			return nil
		},
		Steps: []resource.TestStep{
			{
				Config: cfg,
				ConfigPlanChecks: resource.ConfigPlanChecks{PreApply: []plancheck.PlanCheck{
					// The plan shows the rows each table will hold.
					plancheck.ExpectKnownValue(addr, tfjsonpath.New("planned_rows").AtMapKey("public.customers"), knownvalue.Int64Func(func(n int64) error {
						if n < 120 || n > 280 {
							return fmt.Errorf("20%% of 1000 customers planned as %d", n)
						}
						return nil
					})),
				}},
				ConfigStateChecks: []statecheck.StateCheck{
					statecheck.ExpectKnownValue(addr, tfjsonpath.New("policy_hash"), knownvalue.StringRegexp(regexp.MustCompile(`^[0-9a-f]{64}$`))),
					statecheck.ExpectKnownValue(addr, tfjsonpath.New("transformer_versions").AtMapKey("public.customers.email"), knownvalue.StringRegexp(regexp.MustCompile(`^email/`))),
					statecheck.ExpectKnownValue(addr, tfjsonpath.New("key"), knownvalue.Null()),
					// Where the time went, step by step: each step the copy ran.
					statecheck.ExpectKnownValue(addr, tfjsonpath.New("phases"), knownvalue.MapPartial(map[string]knownvalue.Check{
						"analysis": phaseCheck(), "schema": phaseCheck(), "copy": phaseCheck(), "indexes": phaseCheck(),
						"foreign_keys": phaseCheck(), "leak_check": phaseCheck(), "swap": phaseCheck(),
					})),
				},
				Check: resource.ComposeTestCheckFunc(
					noSecretsInState("dfe8af7adc8d73117180079bfd5454fc0b3ec67e517b53f1313a1c3889ac1099", prodPassword),
					func(s *terraform.State) error {
						attrs := s.RootModule().Resources[addr].Primary.Attributes
						// The copy holds what the plan said, and is closed under
						// foreign keys: every constraint was created and validated.
						if got, want := pgCount(t, staging, `SELECT count(*) FROM customers`), attrs["planned_rows.public.customers"]; fmt.Sprint(got) != want {
							return fmt.Errorf("staging has %d customers, plan said %s", got, want)
						}
						if n := pgCount(t, staging, `SELECT count(*) FROM pg_constraint WHERE contype = 'f' AND convalidated`); n != 5 {
							return fmt.Errorf("%d valid foreign keys in staging, want 5", n)
						}
						// No production e-mail, phone or card number reached staging.
						for col, sql := range map[string]string{
							"email": `SELECT email FROM customers`, "phone": `SELECT phone FROM customers WHERE phone IS NOT NULL`,
							"card": `SELECT card_number FROM payments`,
						} {
							prodValues := map[string]bool{}
							for _, v := range pgStrings(t, prod, sql) {
								prodValues[v] = true
							}
							if col != "phone" { // phones: a dense space, see the coincidental-match rule
								for _, v := range pgStrings(t, staging, sql) {
									if prodValues[v] {
										return fmt.Errorf("a production %s reached staging", col)
									}
								}
							}
						}
						// Ticket texts no longer hold the customers' addresses.
						if n := pgCount(t, staging, `SELECT count(*) FROM support_tickets WHERE body LIKE '%@shop.example%' OR body LIKE '%@example.com%'`); n != 0 {
							return fmt.Errorf("%d tickets still hold e-mail addresses", n)
						}
						// Unique columns stay unique.
						if n := pgCount(t, staging, `SELECT count(*) - count(DISTINCT email) FROM customers`); n != 0 {
							return fmt.Errorf("%d duplicate masked e-mails", n)
						}
						firstEmails = pgStrings(t, staging, `SELECT string_agg(email, ',' ORDER BY id) FROM customers`)[0]
						// The copy is in the environment's audit log.
						evs, err := openRegistry(t, testBackend{name: "sqlite", location: reg}, clock).Events(context.Background(),
							registry.EventFilter{ObjectType: "postgres_clone", Object: "shop-demo"})
						if err != nil || len(evs) != 1 || !strings.Contains(evs[0].After, attrs["policy_hash"]) {
							return fmt.Errorf("audit events = %+v, %w", evs, err)
						}
						return nil
					},
				),
			},
			{
				// Nothing changed: no new copy.
				Config: cfg,
				ConfigPlanChecks: resource.ConfigPlanChecks{PreApply: []plancheck.PlanCheck{
					plancheck.ExpectEmptyPlan(),
				}},
			},
			{
				// A week later the copy is stale: the plan makes a fresh copy in
				// place, and the same key masks the same rows the same way.
				PreConfig: func() { clock.Advance(8 * 24 * time.Hour) },
				Config:    cfg,
				ConfigPlanChecks: resource.ConfigPlanChecks{PreApply: []plancheck.PlanCheck{
					plancheck.ExpectResourceAction(addr, plancheck.ResourceActionUpdate),
					plancheck.ExpectUnknownValue(addr, tfjsonpath.New("cloned_at")),
				}},
				Check: func(*terraform.State) error {
					if got := pgStrings(t, staging, `SELECT string_agg(email, ',' ORDER BY id) FROM customers`)[0]; got != firstEmails {
						return errors.New("the same key and rows gave different masked e-mails")
					}
					return nil
				},
			},
			{
				// A new key (key_version marks it) gives unlinkable output, in
				// place.
				Config: strings.Replace(strings.Replace(cfg, "dfe8af7adc8d73117180079bfd5454fc0b3ec67e517b53f1313a1c3889ac1099", "6d4ca71023ccc18e42f58a170358f9774d0c854377c593eb233ea089312e9e65", 1),
					"refresh_after", "key_version = 2\n  refresh_after", 1),
				ConfigPlanChecks: resource.ConfigPlanChecks{PreApply: []plancheck.PlanCheck{
					plancheck.ExpectResourceAction(addr, plancheck.ResourceActionUpdate),
				}},
				Check: func(*terraform.State) error {
					if got := pgStrings(t, staging, `SELECT string_agg(email, ',' ORDER BY id) FROM customers`)[0]; got == firstEmails {
						return errors.New("another key gave the same masked e-mails")
					}
					return nil
				},
			},
			{
				// Someone drops the copied tables: the next plan copies again.
				PreConfig: func() { pgtest.Exec(t, staging, `DROP TABLE payments`) },
				Config: strings.Replace(strings.Replace(cfg, "dfe8af7adc8d73117180079bfd5454fc0b3ec67e517b53f1313a1c3889ac1099", "6d4ca71023ccc18e42f58a170358f9774d0c854377c593eb233ea089312e9e65", 1),
					"refresh_after", "key_version = 2\n  refresh_after", 1),
				ConfigPlanChecks: resource.ConfigPlanChecks{PreApply: []plancheck.PlanCheck{
					plancheck.ExpectResourceAction(addr, plancheck.ResourceActionCreate),
				}},
			},
		},
	})
}

func TestAccPostgresClone_failClosed(t *testing.T) {
	prod, staging := seededShop(t)
	reg := t.TempDir() + "/registry.db"
	resource.Test(t, resource.TestCase{
		TerraformVersionChecks:   []tfversion.TerraformVersionCheck{tfversion.SkipBelow(tfversion.Version1_11_0)},
		ProtoV6ProviderFactories: factories(newTestClock()),
		Steps: []resource.TestStep{
			{
				// A personal column without a rule stops the plan, naming it,
				// its kind and a rule to add. Each thing is said once: the
				// missing rule, the evidence in one pair of parentheses, then
				// the rule to add or keep.
				Config:      cloneConfig(reg, prod, staging, shopRules("customers.phone")),
				ExpectError: regexp.MustCompile(`(?s)Unmasked Personal Data.*Column\s+public\.customers\.phone\s+has\s+no\s+masking\s+rule\s+and\s+looks\s+like\s+phone\s+\(confidence\s+[0-9.]+:[^()]*\),\s+so\s+it\s+would\s+reach\s+staging\s+unmasked\.\s+Add\s+a\s+rule\s+such\s+as:.*transformer\s+=\s+"phone"\s+}\s+or,\s+if\s+the\s+column\s+is\s+safe\s+to\s+copy\s+as\s+it\s+is,\s+a\s+rule\s+with\s+transformer\s+=\s+"keep"\.\s*$`),
			},
			{
				// A non-bijective transformer on a unique column.
				Config: cloneConfig(reg, prod, staging, shopRules("customers.email")+`
  rule {
    table       = "customers"
    column      = "email"
    transformer = "text_scramble"
  }`),
				ExpectError: regexp.MustCompile(`(?s)Masking Rule Breaks Uniqueness.*public\.customers\.email`),
			},
			{
				Config: cloneConfig(reg, prod, staging, shopRules()+`
  rule {
    table       = "customers"
    column      = "shoe_size"
    transformer = "number_noise"
  }`),
				ExpectError: regexp.MustCompile(`(?s)Masking Rule Names Nothing.*public\.customers\.shoe_size`),
			},
			{
				Config: cloneConfig(reg, prod, staging, shopRules()+`
  rule {
    table       = "invoices"
    column      = "email"
    transformer = "email"
  }`),
				ExpectError: regexp.MustCompile(`(?s)Masking Rule Names Nothing.*public\.invoices`),
			},
			{
				Config:      cloneConfig(reg, prod, staging, strings.Replace(shopRules(), `options = { max_days = "60" }`, `options = { max_days = "sixty" }`, 1)),
				ExpectError: regexp.MustCompile(`(?s)Invalid Masking Rule.*option\s+"max_days"\s+of\s+transformer\s+"date_shift"\s+must\s+be\s+a\s+number`),
			},
			{
				Config:      cloneConfig(reg, prod, staging, shopRules()+"\n  subset {\n    table = \"customers\"\n  }"),
				ExpectError: regexp.MustCompile(`(?s)Invalid Subset.*needs\s+where,\s+percent,\s+or\s+both`),
			},
			{
				// A subset across the accounts/contacts-style cycle needs
				// null_dangling_references; here: a subset of a table that is
				// not copied.
				Config:      cloneConfig(reg, prod, staging, shopRules()+"\n  subset {\n    table   = \"ghosts\"\n    percent = 10\n  }"),
				ExpectError: regexp.MustCompile(`(?s)Invalid Subset.*ghosts`),
			},
			{
				// Writing into production is refused.
				Config: strings.Replace(cloneConfigWith(reg, [][3]string{{"prod", prod, "production"}, {"staging", staging, "staging"}, {"other", staging, "production"}}, shopRules()),
					`target      = "staging"`, `target      = "other"`, 1),
				ExpectError: regexp.MustCompile(`(?s)Production Connection Refused.*Connection\s+"other"\s+has\s+role\s+"production"`),
			},
			{
				Config:      strings.Replace(cloneConfig(reg, prod, staging, shopRules()), `target      = "staging"`, `target      = "prod"`, 1),
				ExpectError: regexp.MustCompile(`(?s)Invalid Clone Target.*source\s+and\s+target\s+are\s+both\s+the\s+connection\s+"prod"`),
			},
			{
				// Two names for one database.
				Config: strings.Replace(cloneConfigWith(reg, [][3]string{{"prod", prod, "production"}, {"staging", staging, "staging"}, {"alias", prod, "staging"}}, shopRules()),
					`target      = "staging"`, `target      = "alias"`, 1),
				ExpectError: regexp.MustCompile(`(?s)Connections\s+"prod"\s+and\s+"alias"\s+point\s+at\s+the\s+same\s+database`),
			},
			{
				Config:      strings.Replace(cloneConfig(reg, prod, staging, shopRules()), `key         = "dfe8af7adc8d73117180079bfd5454fc0b3ec67e517b53f1313a1c3889ac1099"`, `key         = ""`, 1),
				ExpectError: regexp.MustCompile(`(?s)Missing Masking Key.*There\s+is\s+no\s+default\s+key`),
			},
			{
				// A passphrase is refused at plan time, before any server is asked.
				Config:      strings.Replace(cloneConfig(reg, prod, staging, shopRules()), `key         = "dfe8af7adc8d73117180079bfd5454fc0b3ec67e517b53f1313a1c3889ac1099"`, `key         = "test-masking-secret-1"`, 1),
				ExpectError: regexp.MustCompile(`(?s)Invalid Masking Key.*key\s+is\s+not\s+a\s+usable\s+masking\s+key.*openssl\s+rand\s+-hex\s+32`),
			},
			{
				Config:      cloneConfig(reg, strings.Replace(prod, pgtest.Require(t).Password, "wrong-pw-31337", 1), staging, shopRules()),
				ExpectError: regexp.MustCompile(`(?s)Error Reading Clone Source.*password\s+authentication\s+failed`),
			},
			{
				Config:      cloneConfig(reg, "postgres://u:never-shown@127.0.0.1:1/prod?sslmode=disable", staging, shopRules()),
				ExpectError: regexp.MustCompile(`(?s)Error Reading Clone Source.*127\.0\.0\.1:1/prod\s+as\s+u`),
			},
		},
	})
	// Nothing was written to staging by any refused configuration.
	if n := pgCount(t, staging, `SELECT count(*) FROM pg_class c JOIN pg_namespace n ON n.oid = c.relnamespace WHERE n.nspname NOT IN ('pg_catalog', 'information_schema', 'pg_toast')`); n != 0 {
		t.Errorf("refused configurations left %d relations in staging", n)
	}
}

// scanRules generates the clone's rule blocks from the PII scan with
// dynamic: the list is unknown when the configuration is validated (and,
// when the scan waits for a resource, at plan time too).
const scanRules = `
  dynamic "rule" {
    for_each = data.staging_pii_scan.prod.columns
    content {
      table       = rule.value.table
      column      = rule.value.column
      transformer = rule.value.suggested_transformer
      domain      = rule.value.suggested_domain
      options     = { for k, v in jsondecode(rule.value.suggested_options_json) : k => can(tostring(v)) ? tostring(v) : jsonencode(v) }
    }
  }
  dynamic "subset" {
    for_each = var.subsets
    content {
      table   = subset.key
      percent = subset.value
    }
  }
  null_dangling_references = true
}

variable "subsets" {
  type    = map(number)
  default = { customers = 20 }
}

data "staging_pii_scan" "prod" {
  postgres   = "prod"
  depends_on = [%s]
`

func TestAccPostgresClone_dynamicRulesFromScan(t *testing.T) {
	prod, staging := seededShop(t)
	clock := newTestClock()
	reg := t.TempDir() + "/registry.db"
	const addr = "staging_postgres_clone.shop"
	masked := func(*terraform.State) error {
		// Every column the scan found was masked: no production e-mail or
		// card number reached staging, and the subset was applied.
		for col, sql := range map[string]string{"email": `SELECT email FROM customers`, "card": `SELECT card_number FROM payments`} {
			prodValues := map[string]bool{}
			for _, v := range pgStrings(t, prod, sql) {
				prodValues[v] = true
			}
			for _, v := range pgStrings(t, staging, sql) {
				if prodValues[v] {
					return fmt.Errorf("a production %s reached staging", col)
				}
			}
		}
		if a, b := pgCount(t, staging, `SELECT count(*) FROM customers`), pgCount(t, prod, `SELECT count(*) FROM customers`); a*3 > b {
			return fmt.Errorf("staging has %d of %d customers, want about 20%%", a, b)
		}
		return nil
	}
	resource.Test(t, resource.TestCase{
		TerraformVersionChecks:   []tfversion.TerraformVersionCheck{tfversion.SkipBelow(tfversion.Version1_11_0)},
		ProtoV6ProviderFactories: factories(clock),
		Steps: []resource.TestStep{
			{
				// The scan reads at plan time: the rules are unknown only
				// while the configuration is validated.
				Config: cloneConfig(reg, prod, staging, fmt.Sprintf(scanRules, "")),
				ConfigPlanChecks: resource.ConfigPlanChecks{PreApply: []plancheck.PlanCheck{
					plancheck.ExpectKnownValue(addr, tfjsonpath.New("rule"), knownvalue.ListPartial(map[int]knownvalue.Check{
						0: knownvalue.ObjectPartial(map[string]knownvalue.Check{"table": knownvalue.NotNull()}),
					})),
				}},
				Check: masked,
			},
			{
				// The scan waits for a resource created in the same apply:
				// the rules are unknown at plan time too, and are checked
				// at apply before anything is copied.
				Config: cloneConfig(reg, prod, staging, fmt.Sprintf(scanRules, "staging_team.other")+`}

resource "staging_team" "other" {
  name = "other"
`),
				ConfigPlanChecks: resource.ConfigPlanChecks{PreApply: []plancheck.PlanCheck{
					plancheck.ExpectUnknownValue(addr, tfjsonpath.New("rule")),
				}},
				Check: masked,
			},
		},
	})
}

// TestAccPostgresClone_exclusionsAndSkipped: excluding a table that a
// foreign key references and a view reads fails the plan, naming both and
// the way out; with allow_dropped_dependents the copy leaves them out and
// the computed skipped and objects attributes say what was and was not
// copied, objects never copied by design (a publication) included.
func TestAccPostgresClone_exclusionsAndSkipped(t *testing.T) {
	su := pgtest.Require(t).NewDatabase(t)
	pgtest.Exec(t, su,
		`CREATE TABLE customers (id int PRIMARY KEY, segment text NOT NULL)`,
		`CREATE TABLE orders (id int PRIMARY KEY, customer_id int NOT NULL REFERENCES customers, total numeric NOT NULL)`,
		`CREATE VIEW segment_totals AS SELECT c.segment, sum(o.total) AS total FROM orders o JOIN customers c ON c.id = o.customer_id GROUP BY 1`,
		`CREATE FUNCTION order_total(int) RETURNS numeric LANGUAGE sql STABLE AS $$ SELECT total FROM public.orders WHERE id = $1 $$`,
		`CREATE PUBLICATION orders_pub FOR TABLE orders`,
		`INSERT INTO customers SELECT g, 'segment ' || g % 3 FROM generate_series(1, 20) g`,
		`INSERT INTO orders SELECT g, 1 + g % 20, g FROM generate_series(1, 50) g`)
	prod := pgtest.ReaderDSN(t, su)
	staging := pgtest.StartForTest(t).NewDatabase(t)
	reg := t.TempDir() + "/registry.db"
	const addr = "staging_postgres_clone.shop"
	body := `  exclude_tables = ["public.customers"]
`
	resource.Test(t, resource.TestCase{
		TerraformVersionChecks:   []tfversion.TerraformVersionCheck{tfversion.SkipBelow(tfversion.Version1_11_0)},
		ProtoV6ProviderFactories: factories(newTestClock()),
		Steps: []resource.TestStep{
			{
				Config:      cloneConfig(reg, prod, staging, body),
				ExpectError: regexp.MustCompile(`(?s)Copy Would Drop Objects.*orders_customer_id_fkey references\s+public.customers.*allow_dropped_dependents`),
			},
			{
				Config:      cloneConfig(reg, prod, staging, body),
				ExpectError: regexp.MustCompile(`(?s)public.segment_totals: this view reads\s+public.customers`),
			},
			{
				Config: cloneConfig(reg, prod, staging, body+"  allow_dropped_dependents = true\n"),
				ConfigStateChecks: []statecheck.StateCheck{
					statecheck.ExpectKnownValue(addr, tfjsonpath.New("skipped"), knownvalue.ListExact([]knownvalue.Check{
						knownvalue.StringExact("publication orders_pub: logical replication from staging is not wanted; create publications in staging yourself"),
						knownvalue.StringExact("view public.segment_totals: it reads public.customers, which is not copied"),
						knownvalue.StringExact("foreign key orders_customer_id_fkey on public.orders: public.customers is not copied"),
					})),
					statecheck.ExpectKnownValue(addr, tfjsonpath.New("objects"), knownvalue.MapPartial(map[string]knownvalue.Check{
						"table": knownvalue.Int64Exact(1), "function": knownvalue.Int64Exact(1), "constraint": knownvalue.Int64Exact(1),
					})),
				},
				Check: func(*terraform.State) error {
					if n := pgCount(t, staging, `SELECT count(*) FROM pg_class WHERE relname IN ('orders', 'segment_totals', 'customers')`); n != 1 {
						return fmt.Errorf("%d of orders, segment_totals and customers in staging, want orders alone", n)
					}
					if n := pgCount(t, staging, `SELECT order_total(7)::int`); n != 7 {
						return fmt.Errorf("order_total(7) = %d in staging", n)
					}
					return nil
				},
			},
		},
	})
}

// TestAccPostgresClone_drift: an object dropped in staging by hand shows
// in drift after a refresh, with a warning and no new copy; with
// on_drift = "recopy" the plan makes a fresh copy that puts it back.
func TestAccPostgresClone_drift(t *testing.T) {
	su := pgtest.Require(t).NewDatabase(t)
	pgtest.Exec(t, su,
		`CREATE TABLE orders (id int PRIMARY KEY, total numeric NOT NULL, updated_at timestamptz NOT NULL DEFAULT now())`,
		`CREATE FUNCTION touch() RETURNS trigger LANGUAGE plpgsql AS $$ BEGIN NEW.updated_at := now(); RETURN NEW; END $$`,
		`CREATE TRIGGER orders_touch BEFORE UPDATE ON orders FOR EACH ROW EXECUTE FUNCTION touch()`,
		`INSERT INTO orders SELECT g, g FROM generate_series(1, 20) g`)
	prod := pgtest.ReaderDSN(t, su)
	staging := pgtest.StartForTest(t).NewDatabase(t)
	reg := t.TempDir() + "/registry.db"
	const addr = "staging_postgres_clone.shop"
	triggers := func() int64 {
		return pgCount(t, staging, `SELECT count(*) FROM pg_trigger WHERE tgname = 'orders_touch'`)
	}
	resource.Test(t, resource.TestCase{
		TerraformVersionChecks:   []tfversion.TerraformVersionCheck{tfversion.SkipBelow(tfversion.Version1_11_0)},
		ProtoV6ProviderFactories: factories(newTestClock()),
		Steps: []resource.TestStep{
			{
				Config: cloneConfig(reg, prod, staging, ""),
				ConfigStateChecks: []statecheck.StateCheck{
					statecheck.ExpectKnownValue(addr, tfjsonpath.New("drift"), knownvalue.ListExact([]knownvalue.Check{})),
				},
			},
			{
				// Dropped by hand: the refresh finds it, the plan keeps it.
				PreConfig:    func() { pgtest.Exec(t, staging, `DROP TRIGGER orders_touch ON orders`) },
				RefreshState: true,
				Check:        resource.TestCheckResourceAttr(addr, "drift.0", "dropped trigger orders_touch on orders in schema public"),
			},
			{
				Config:   cloneConfig(reg, prod, staging, ""),
				PlanOnly: true,
			},
			{
				Config: cloneConfig(reg, prod, staging, `  on_drift = "recopy"`+"\n"),
				ConfigPlanChecks: resource.ConfigPlanChecks{PreApply: []plancheck.PlanCheck{
					plancheck.ExpectResourceAction(addr, plancheck.ResourceActionUpdate),
					plancheck.ExpectUnknownValue(addr, tfjsonpath.New("cloned_at")),
				}},
				ConfigStateChecks: []statecheck.StateCheck{
					statecheck.ExpectKnownValue(addr, tfjsonpath.New("drift"), knownvalue.ListExact([]knownvalue.Check{})),
				},
				Check: func(*terraform.State) error {
					if n := triggers(); n != 1 {
						return fmt.Errorf("%d orders_touch triggers in staging after the re-copy, want 1", n)
					}
					return nil
				},
			},
		},
	})
}

// phaseCheck checks one element of phases: a start, a duration and busy
// time, none negative.
func phaseCheck() knownvalue.Check {
	nonNegative := knownvalue.Float64Func(func(v float64) error {
		if v < 0 {
			return fmt.Errorf("negative seconds %g", v)
		}
		return nil
	})
	return knownvalue.ObjectExact(map[string]knownvalue.Check{"start_seconds": nonNegative, "seconds": nonNegative, "busy_seconds": nonNegative})
}

// TestAccPostgresClone_storageParameters: through terraform, staging's
// tables carry production's storage parameters, autovacuum (off while the
// tables load) is as production has it after the apply, a schema named
// toast is copied, TOAST parameters staging cannot keep are named in
// skipped, and the next plan is empty.
func TestAccPostgresClone_storageParameters(t *testing.T) {
	su := pgtest.Require(t).NewDatabase(t)
	pgtest.Exec(t, su,
		`CREATE SCHEMA toast`,
		`CREATE TABLE toast.menu (id int PRIMARY KEY, name text) WITH (fillfactor = 80, toast.autovacuum_enabled = false)`,
		`CREATE TABLE public.ledger (id int PRIMARY KEY, note text) WITH (autovacuum_enabled = false, autovacuum_vacuum_scale_factor = 0.01)`,
		`CREATE TABLE public.dropped (id int PRIMARY KEY, note text) WITH (toast.autovacuum_vacuum_cost_delay = 5)`,
		`ALTER TABLE public.dropped DROP COLUMN note`,
		`INSERT INTO toast.menu SELECT g, 'dish ' || g FROM generate_series(1, 50) g`,
		`INSERT INTO public.ledger SELECT g, 'entry ' || g FROM generate_series(1, 50) g`)
	prod := pgtest.ReaderDSN(t, su)
	staging := pgtest.StartForTest(t).NewDatabase(t)
	reg := t.TempDir() + "/registry.db"
	const addr = "staging_postgres_clone.shop"
	const q = `SELECT string_agg(x, '; ' ORDER BY x) FROM (
	             SELECT c.relnamespace::regnamespace || '.' || c.relname || ' ' || coalesce(array_to_string(c.reloptions, ','), '-') || ' toast:' ||
	                    coalesce((SELECT array_to_string(t.reloptions, ',') FROM pg_class t WHERE t.oid = c.reltoastrelid), '-') AS x
	             FROM pg_class c WHERE c.relnamespace IN ('public'::regnamespace, 'toast'::regnamespace) AND c.relkind = 'r') s`
	want := "public.dropped - toast:-; public.ledger autovacuum_enabled=false,autovacuum_vacuum_scale_factor=0.01 toast:-; toast.menu fillfactor=80 toast:autovacuum_enabled=false"
	resource.Test(t, resource.TestCase{
		TerraformVersionChecks:   []tfversion.TerraformVersionCheck{tfversion.SkipBelow(tfversion.Version1_11_0)},
		ProtoV6ProviderFactories: factories(newTestClock()),
		Steps: []resource.TestStep{
			{
				Config: cloneConfig(reg, prod, staging, ""),
				ConfigStateChecks: []statecheck.StateCheck{
					statecheck.ExpectKnownValue(addr, tfjsonpath.New("skipped"), knownvalue.ListExact([]knownvalue.Check{
						knownvalue.StringExact("TOAST storage parameters of public.dropped (autovacuum_vacuum_cost_delay=5): its staging table has no TOAST table (production keeps one from a dropped column), so PostgreSQL has nowhere to keep them"),
					})),
				},
				Check: func(*terraform.State) error {
					if got := pgStrings(t, staging, q)[0]; got != want {
						return fmt.Errorf("staging's storage parameters:\n%s\nwant:\n%s", got, want)
					}
					return nil
				},
			},
			{
				Config:   cloneConfig(reg, prod, staging, ""),
				PlanOnly: true, // an empty plan after the apply
			},
		},
	})
}
