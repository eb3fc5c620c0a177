package provider

import (
	"context"
	"fmt"
	"net/url"
	"regexp"
	"strings"
	"testing"

	"github.com/hashicorp/terraform-plugin-testing/helper/resource"
	"github.com/hashicorp/terraform-plugin-testing/plancheck"
	"github.com/hashicorp/terraform-plugin-testing/terraform"
	"github.com/hashicorp/terraform-plugin-testing/tfversion"
	"github.com/jackc/pgx/v5"

	"github.com/stagingkit/terraform-provider-staging/internal/pgclone"
	"github.com/stagingkit/terraform-provider-staging/internal/pgtest"
	"github.com/stagingkit/terraform-provider-staging/internal/shopdata"
)

// secondProduction seeds another database in prod's cluster with the shop,
// minus a third of its customers' tickets so that its copy differs, and
// returns its DSN with prod's login.
func secondProduction(t *testing.T, prod string) string {
	t.Helper()
	admin := pgtest.Require(t).NewDatabase(t)
	ctx := context.Background()
	conn, err := pgx.Connect(ctx, admin)
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
	pgtest.Exec(t, admin, `DELETE FROM support_tickets WHERE id % 3 = 0`)
	a, err := url.Parse(admin)
	if err != nil {
		t.Fatal(err)
	}
	p, err := url.Parse(prod)
	if err != nil {
		t.Fatal(err)
	}
	p.Path = a.Path
	return p.String()
}

// stagingDigest digests the schema list and every table's rows of the
// staging database, outside the owner catalog and the shadow schemas of
// clones (a killed clone leaves its own for the next run to drop).
func stagingDigest(t *testing.T, dsn string) string {
	t.Helper()
	tables := pgStrings(t, dsn, `SELECT format('%I.%I', n.nspname, c.relname) FROM pg_class c JOIN pg_namespace n ON n.oid = c.relnamespace
		WHERE c.relkind IN ('r', 'p') AND n.nspname NOT IN ('pg_catalog', 'information_schema', '`+pgclone.CatalogSchema+`') AND n.nspname NOT LIKE 'pg\_toast%'
		AND n.nspname NOT LIKE '%\_\_stg\_%' ORDER BY 1`)
	schemas := pgStrings(t, dsn, `SELECT coalesce(string_agg(nspname, ',' ORDER BY nspname), '') FROM pg_namespace
		WHERE nspname NOT IN ('pg_catalog', 'information_schema', '`+pgclone.CatalogSchema+`') AND nspname NOT LIKE 'pg\_%' AND nspname NOT LIKE '%\_\_stg\_%'`)
	var b strings.Builder
	b.WriteString("schemas " + schemas[0] + "\n")
	for _, table := range tables {
		d := pgStrings(t, dsn, fmt.Sprintf(`SELECT count(*) || ':' || coalesce(md5(string_agg(x::text, '|' ORDER BY x::text)), '') FROM %s x`, table))
		b.WriteString(table + " " + d[0] + "\n")
	}
	return b.String()
}

// ownerOf returns the owner the staging database's catalog records for a
// schema, or "".
func ownerOf(t *testing.T, dsn, schema string) string {
	t.Helper()
	conn, err := pgx.Connect(context.Background(), dsn)
	if err != nil {
		t.Fatal(err)
	}
	defer conn.Close(context.Background())
	recs, err := pgclone.Owners(context.Background(), conn, []string{schema})
	if err != nil {
		t.Fatal(err)
	}
	return recs[schema].Owner.ID
}

// TestAccPostgresClone_failedRecopyKeepsPrevious: a re-copy that fails on a
// value leaves staging exactly as it was and the state unchanged (it used
// to be a replacement that dropped staging first).
func TestAccPostgresClone_failedRecopyKeepsPrevious(t *testing.T) {
	admin, prod, staging := seededShopWithAdmin(t)
	reg := t.TempDir() + "/registry.db"
	cfg := cloneConfig(reg, prod, staging, shopRules())
	// A re-copy (a new key version) that meets, mid-copy, an e-mail the
	// transformer refuses: longer than the 4,096 characters the plan's
	// sample judges, so only the copy sees it.
	bad := cloneConfig(reg, prod, staging, shopRules()+`
  key_version = 2`)
	const badRow = `INSERT INTO customers (id, email, first_name, last_name) VALUES (999999, repeat('x', 5000), 'Ann', 'Lee')`
	const addr = "staging_postgres_clone.shop"
	var before, ownerID string
	resource.Test(t, resource.TestCase{
		TerraformVersionChecks:   []tfversion.TerraformVersionCheck{tfversion.SkipBelow(tfversion.Version1_11_0)},
		ProtoV6ProviderFactories: factories(newTestClock()),
		Steps: []resource.TestStep{
			{
				Config: cfg,
				Check: func(s *terraform.State) error {
					before = stagingDigest(t, staging)
					ownerID = s.RootModule().Resources[addr].Primary.Attributes["owner_id"]
					if !regexp.MustCompile(`^[0-9a-f]{32}$`).MatchString(ownerID) {
						return fmt.Errorf("owner_id = %q", ownerID)
					}
					if got := ownerOf(t, staging, "public"); got != ownerID {
						return fmt.Errorf("the owner catalog holds public for %q, want %q", got, ownerID)
					}
					return nil
				},
			},
			{
				PreConfig: func() { pgtest.Exec(t, admin, badRow) },
				Config:    bad,
				ConfigPlanChecks: resource.ConfigPlanChecks{PreApply: []plancheck.PlanCheck{
					plancheck.ExpectResourceAction(addr, plancheck.ResourceActionUpdate),
				}},
				ExpectError: regexp.MustCompile(`(?s)Error Cloning PostgreSQL Database.*customers.*email`),
			},
			{
				// Staging holds the previous copy, and the state still
				// describes it: the original configuration plans nothing.
				PreConfig: func() {
					if after := stagingDigest(t, staging); after != before {
						t.Errorf("a failed re-copy changed staging:\nbefore:\n%s\nafter:\n%s", before, after)
					}
					if s := pgStrings(t, staging, `SELECT coalesce(string_agg(nspname, ','), '') FROM pg_namespace WHERE nspname LIKE '%\_\_stg\_%'`)[0]; s != "" {
						t.Errorf("shadow schemas left: %s", s)
					}
					pgtest.Exec(t, admin, `DELETE FROM customers WHERE id = 999999`)
				},
				Config: cfg,
				ConfigPlanChecks: resource.ConfigPlanChecks{PreApply: []plancheck.PlanCheck{
					plancheck.ExpectEmptyPlan(),
				}},
			},
			{
				// A good re-copy (a new key) is swapped in under the same owner.
				Config: strings.Replace(cfg, `key         = "dfe8af7adc8d73117180079bfd5454fc0b3ec67e517b53f1313a1c3889ac1099"`, "key = \"6d4ca71023ccc18e42f58a170358f9774d0c854377c593eb233ea089312e9e65\"\n  key_version = 2", 1),
				ConfigPlanChecks: resource.ConfigPlanChecks{PreApply: []plancheck.PlanCheck{
					plancheck.ExpectResourceAction(addr, plancheck.ResourceActionUpdate),
				}},
				Check: func(s *terraform.State) error {
					if got := s.RootModule().Resources[addr].Primary.Attributes["owner_id"]; got != ownerID {
						return fmt.Errorf("owner_id changed from %s to %s", ownerID, got)
					}
					if stagingDigest(t, staging) == before {
						return fmt.Errorf("the re-copy with a new key changed nothing")
					}
					return nil
				},
			},
		},
	})
}

// cbdConfig is the clone with create_before_destroy, reading connection
// source (prod or prod2).
func cbdConfig(reg, prod, prod2, staging, source string) string {
	cfg := cloneConfigWith(reg, [][3]string{{"prod", prod, "production"}, {"prod2", prod2, "production"}, {"staging", staging, "staging"}}, shopRules()+`
  lifecycle {
    create_before_destroy = true
  }`)
	return strings.Replace(cfg, `source      = "prod"`, fmt.Sprintf(`source      = %q`, source), 1)
}

// TestAccPostgresClone_createBeforeDestroy: a replacement with
// create_before_destroy swaps the new copy in, and the deposed instance's
// destroy leaves it (it used to drop it: staging was empty after success).
func TestAccPostgresClone_createBeforeDestroy(t *testing.T) {
	prod, staging := seededShop(t)
	prod2 := secondProduction(t, prod)
	reg := t.TempDir() + "/registry.db"
	const addr = "staging_postgres_clone.shop"
	var first, firstOwner string
	resource.Test(t, resource.TestCase{
		TerraformVersionChecks:   []tfversion.TerraformVersionCheck{tfversion.SkipBelow(tfversion.Version1_11_0)},
		ProtoV6ProviderFactories: factories(newTestClock()),
		CheckDestroy: func(*terraform.State) error {
			if n := pgCount(t, staging, `SELECT count(*) FROM pg_class WHERE relname = 'customers'`); n != 0 {
				return fmt.Errorf("the cloned tables are still in staging after destroy")
			}
			return nil
		},
		Steps: []resource.TestStep{
			{
				Config: cbdConfig(reg, prod, prod2, staging, "prod"),
				Check: func(s *terraform.State) error {
					first = stagingDigest(t, staging)
					firstOwner = s.RootModule().Resources[addr].Primary.Attributes["owner_id"]
					return nil
				},
			},
			{
				Config: cbdConfig(reg, prod, prod2, staging, "prod2"),
				ConfigPlanChecks: resource.ConfigPlanChecks{PreApply: []plancheck.PlanCheck{
					plancheck.ExpectResourceAction(addr, plancheck.ResourceActionCreateBeforeDestroy),
				}},
				Check: func(s *terraform.State) error {
					owner := s.RootModule().Resources[addr].Primary.Attributes["owner_id"]
					if owner == firstOwner {
						return fmt.Errorf("the replacement kept owner %s", owner)
					}
					if n := pgCount(t, staging, `SELECT count(*) FROM customers`); n == 0 {
						return fmt.Errorf("staging is empty after a create_before_destroy replacement")
					}
					if d := stagingDigest(t, staging); d == first {
						return fmt.Errorf("staging still holds the first copy")
					}
					want := pgCount(t, prod2, `SELECT count(*) FROM support_tickets`)
					if got := pgCount(t, staging, `SELECT count(*) FROM support_tickets`); got != want {
						return fmt.Errorf("staging has %d tickets, prod2 %d", got, want)
					}
					if got := ownerOf(t, staging, "public"); got != owner {
						return fmt.Errorf("the owner catalog holds public for %q, want the successor %q", got, owner)
					}
					return nil
				},
			},
		},
	})
}

// TestAccPostgresClone_secondCloneRefused: a second clone of another
// environment aimed at the same staging schemas is refused at plan time,
// naming the clone that holds them, and staging is left alone.
func TestAccPostgresClone_secondCloneRefused(t *testing.T) {
	prod, staging := seededShop(t)
	reg := t.TempDir() + "/registry.db"
	cfg := cloneConfig(reg, prod, staging, shopRules())
	second := cfg + `
resource "staging_environment" "other" {
  name = "shop-other"
  team = staging_team.shop.name
}

resource "staging_postgres_clone" "other" {
  source      = "prod"
  target      = "staging"
  environment = staging_environment.other.name
  key         = "f347f55414c45c79eebf04147513911948b9c5895906057bc705befa72bb613e"
` + shopRules() + `
}
`
	var before, owner string
	resource.Test(t, resource.TestCase{
		TerraformVersionChecks:   []tfversion.TerraformVersionCheck{tfversion.SkipBelow(tfversion.Version1_11_0)},
		ProtoV6ProviderFactories: factories(newTestClock()),
		Steps: []resource.TestStep{
			{
				// The other environment first, so that the plan of the second
				// clone knows its environment.
				Config: cfg + `
resource "staging_environment" "other" {
  name = "shop-other"
  team = staging_team.shop.name
}
`,
				Check: func(s *terraform.State) error {
					before = stagingDigest(t, staging)
					owner = s.RootModule().Resources["staging_postgres_clone.shop"].Primary.Attributes["owner_id"]
					return nil
				},
			},
			{
				Config:      second,
				ExpectError: regexp.MustCompile(`(?s)Staging Schemas Held by Another Clone.*Schema\s+"public".*held\s+by\s+another\s+staging_postgres_clone:\s+owner\s+[0-9a-f]{32},\s+environment\s+"shop-demo",\s+source\s+connection\s+"prod"`),
			},
			{
				PreConfig: func() {
					if got := stagingDigest(t, staging); got != before {
						t.Error("the refused clone changed staging")
					}
					if got := ownerOf(t, staging, "public"); got != owner {
						t.Errorf("public is held by %q, want %q", got, owner)
					}
				},
				Config: cfg + `
resource "staging_environment" "other" {
  name = "shop-other"
  team = staging_team.shop.name
}
`,
				ConfigPlanChecks: resource.ConfigPlanChecks{PreApply: []plancheck.PlanCheck{
					plancheck.ExpectEmptyPlan(),
				}},
			},
		},
	})
}
