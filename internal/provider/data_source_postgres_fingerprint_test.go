package provider

import (
	"fmt"
	"regexp"
	"strings"
	"testing"

	"github.com/hashicorp/terraform-plugin-testing/helper/resource"
	"github.com/hashicorp/terraform-plugin-testing/knownvalue"
	"github.com/hashicorp/terraform-plugin-testing/statecheck"
	"github.com/hashicorp/terraform-plugin-testing/tfjsonpath"

	"github.com/stagingkit/terraform-provider-staging/internal/pgtest"
)

// twoClusters gives a "production" database on the shared cluster and a
// "staging" database on a cluster of the test's own, both holding schema.
func twoClusters(t *testing.T, schema ...string) (prodDSN, stagingDSN string) {
	t.Helper()
	prodDSN = pgtest.Require(t).NewDatabase(t)
	stagingDSN = pgtest.StartForTest(t).NewDatabase(t)
	pgtest.Exec(t, prodDSN, schema...)
	pgtest.Exec(t, stagingDSN, schema...)
	return prodDSN, stagingDSN
}

// connectionsConfig is a provider block with a production and a staging
// connection.
func connectionsConfig(registry, prodDSN, stagingDSN string) string {
	return fmt.Sprintf(`
provider "staging" {
  registry = %q
  actor    = "tester"

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
`, registry, prodDSN, stagingDSN)
}

var fingerprintSchema = []string{
	`CREATE TABLE customers (id bigint GENERATED ALWAYS AS IDENTITY PRIMARY KEY, email text NOT NULL UNIQUE)`,
	`CREATE TABLE orders (id bigserial PRIMARY KEY, customer_id bigint NOT NULL REFERENCES customers (id), total numeric(12, 2))`,
}

func TestAccPostgresFingerprint_twoClusters(t *testing.T) {
	prod, staging := twoClusters(t, fingerprintSchema...)
	// Production has a migration staging lacks.
	pgtest.Exec(t, prod, `ALTER TABLE orders ADD COLUMN currency char(3) NOT NULL DEFAULT 'EUR'`, `CREATE EXTENSION pgcrypto`)
	registry := t.TempDir() + "/registry.db"
	cfg := connectionsConfig(registry, pgtest.ReaderDSN(t, prod), staging) + `
data "staging_postgres_fingerprint" "prod" {
  postgres = "prod"
}

data "staging_postgres_fingerprint" "staging" {
  postgres      = "staging"
  setting_names = ["TimeZone", "DateStyle"]
}

output "same_customers" {
  value = data.staging_postgres_fingerprint.prod.tables["public.customers"] == data.staging_postgres_fingerprint.staging.tables["public.customers"]
}

output "same_orders" {
  value = data.staging_postgres_fingerprint.prod.tables["public.orders"] == data.staging_postgres_fingerprint.staging.tables["public.orders"]
}

output "same_schema" {
  value = data.staging_postgres_fingerprint.prod.schema_digest == data.staging_postgres_fingerprint.staging.schema_digest
}
`
	resource.Test(t, resource.TestCase{
		ProtoV6ProviderFactories: factories(newTestClock()),
		Steps: []resource.TestStep{
			{
				Config: cfg,
				ConfigStateChecks: []statecheck.StateCheck{
					statecheck.ExpectKnownOutputValue("same_customers", knownvalue.Bool(true)),
					statecheck.ExpectKnownOutputValue("same_orders", knownvalue.Bool(false)),
					statecheck.ExpectKnownOutputValue("same_schema", knownvalue.Bool(false)),
					statecheck.ExpectKnownValue("data.staging_postgres_fingerprint.prod", tfjsonpath.New("extensions").AtMapKey("pgcrypto"), knownvalue.NotNull()),
					statecheck.ExpectKnownValue("data.staging_postgres_fingerprint.staging", tfjsonpath.New("extensions"), knownvalue.MapExact(map[string]knownvalue.Check{
						"plpgsql": knownvalue.StringRegexp(regexp.MustCompile(`^\d+\.\d+$`)),
					})),
					statecheck.ExpectKnownValue("data.staging_postgres_fingerprint.staging", tfjsonpath.New("server_version"), knownvalue.StringRegexp(regexp.MustCompile(`^\d+\.\d+$`))),
					statecheck.ExpectKnownValue("data.staging_postgres_fingerprint.staging", tfjsonpath.New("encoding"), knownvalue.StringExact("UTF8")),
					statecheck.ExpectKnownValue("data.staging_postgres_fingerprint.staging", tfjsonpath.New("settings"), knownvalue.MapSizeExact(2)),
				},
			},
			{
				// Applying the migration to staging brings the digests together.
				PreConfig: func() {
					pgtest.Exec(t, staging, `ALTER TABLE orders ADD COLUMN currency char(3) NOT NULL DEFAULT 'EUR'`)
				},
				Config: cfg,
				ConfigStateChecks: []statecheck.StateCheck{
					statecheck.ExpectKnownOutputValue("same_orders", knownvalue.Bool(true)),
					statecheck.ExpectKnownOutputValue("same_schema", knownvalue.Bool(true)),
				},
			},
		},
	})
}

func TestAccPostgresFingerprint_badConnections(t *testing.T) {
	c := pgtest.Require(t)
	good := c.NewDatabase(t)
	wrongPassword := strings.Replace(good, c.Password, "wrong-pw-777", 1)
	registry := t.TempDir() + "/registry.db"
	ds := func(conn string) string {
		return fmt.Sprintf(`
data "staging_postgres_fingerprint" "x" {
  postgres = %q
}`, conn)
	}
	resource.Test(t, resource.TestCase{
		ProtoV6ProviderFactories: factories(newTestClock()),
		Steps: []resource.TestStep{
			{
				Config:      connectionsConfig(registry, good, good) + ds("nope"),
				ExpectError: regexp.MustCompile(`(?s)Unknown PostgreSQL Connection.*No\s+postgres\s+block\s+of\s+the\s+provider\s+is\s+named\s+"nope"\s+\(configured:\s+"prod",\s+"staging"\)`),
			},
			{
				// The password is wrong, and never shown.
				Config:      connectionsConfig(registry, wrongPassword, good) + ds("prod"),
				ExpectError: regexp.MustCompile(`(?s)Error Reading PostgreSQL Fingerprint.*127\.0\.0\.1:\d+/\S+\s+as\s+postgres.*password\s+authentication\s+failed`),
			},
			{
				Config:      connectionsConfig(registry, "postgres://u:pw-never-shown@127.0.0.1:1/db?sslmode=disable", good) + ds("prod"),
				ExpectError: regexp.MustCompile(`(?s)Error Reading PostgreSQL Fingerprint.*reachable.*127\.0\.0\.1:1/db\s+as\s+u`),
			},
			{
				Config: `
provider "staging" {
  postgres {
    name = "prod"
    dsn  = "postgres://x@127.0.0.1/db"
    role = "primary"
  }
}` + ds("prod"),
				ExpectError: regexp.MustCompile(`(?s)Attribute postgres\[0\]\.role value must be one of: \["production"\s+"staging"\]`),
			},
			{
				Config: `
provider "staging" {
  postgres {
    name = "prod"
    dsn  = "postgres://x@127.0.0.1/db"
    role = "production"
  }
  postgres {
    name = "prod"
    dsn  = "postgres://y@127.0.0.1/db"
    role = "staging"
  }
}` + ds("prod"),
				ExpectError: regexp.MustCompile(`(?s)Duplicate PostgreSQL Connection.*Two\s+postgres\s+blocks\s+are\s+named\s+"prod"`),
			},
		},
	})
}

// TestAccPostgresFingerprint_parityCatchesMigration compares two live
// fingerprints in a staging_parity_check: an unapplied migration and a
// missing extension fail the plan, naming what differs; once staging catches
// up the check passes.
func TestAccPostgresFingerprint_parityCatchesMigration(t *testing.T) {
	prod, staging := twoClusters(t, fingerprintSchema...)
	pgtest.Exec(t, prod, `ALTER TABLE orders ADD COLUMN currency char(3) NOT NULL DEFAULT 'EUR'`)
	registry := t.TempDir() + "/registry.db"
	cfg := connectionsConfig(registry, pgtest.ReaderDSN(t, prod), staging) + `
data "staging_postgres_fingerprint" "prod" {
  postgres = "prod"
}

data "staging_postgres_fingerprint" "staging" {
  postgres = "staging"
}

locals {
  facts = {
    for name, fp in {
      prod    = data.staging_postgres_fingerprint.prod
      staging = data.staging_postgres_fingerprint.staging
    } : name => { version = fp.server_version, encoding = fp.encoding, extensions = fp.extensions, tables = fp.tables }
  }
}

resource "staging_parity_check" "db" {
  production = local.facts.prod
  staging    = local.facts.staging

  rule {
    path  = "version"
    match = "same_major"
  }
  rule {
    path  = "encoding"
    match = "exact"
  }
  rule {
    path  = "extensions"
    match = "exact"
  }
  rule {
    path  = "tables"
    match = "exact"
  }
}
`
	resource.Test(t, resource.TestCase{
		ProtoV6ProviderFactories: factories(newTestClock()),
		Steps: []resource.TestStep{
			{
				Config:      cfg,
				ExpectError: regexp.MustCompile(`(?s)Staging Parity Violation.*tables\.public\\\.orders: staging "[0-9a-f]+" differs\s+from\s+production`),
			},
			{
				// The migration reaches staging, but an extension differs.
				PreConfig: func() {
					pgtest.Exec(t, staging, `ALTER TABLE orders ADD COLUMN currency char(3) NOT NULL DEFAULT 'EUR'`)
					pgtest.Exec(t, prod, `CREATE EXTENSION pgcrypto`)
				},
				Config:      cfg,
				ExpectError: regexp.MustCompile(`(?s)Staging Parity Violation.*extensions\.pgcrypto`),
			},
			{
				PreConfig: func() { pgtest.Exec(t, staging, `CREATE EXTENSION pgcrypto`) },
				Config:    cfg,
				ConfigStateChecks: []statecheck.StateCheck{
					statecheck.ExpectKnownValue("staging_parity_check.db", tfjsonpath.New("score"), knownvalue.Float64Exact(1)),
				},
			},
		},
	})
}
