# Plan-time logic of the postgres-staging module: rules from the scan merged
# with given rules, the role's name, the connection outputs and the
# validations, without a database; the Terratest suite in test/ applies the
# module against real PostgreSQL.

# The provider built from this checkout derives the credential (ephemeral
# resources cannot be mocked); everything that would touch a database is
# overridden, so the connections below are never opened.
provider "staging" {
  credential_root_secret = "terraform-test-root-secret-not-a-real-one"
  postgres {
    name = "prod"
    dsn  = "postgres://reader:unused@127.0.0.1:1/shop"
    role = "production"
  }
  postgres {
    name = "staging"
    dsn  = "postgres://admin:unused@127.0.0.1:2/shop"
    role = "staging"
  }
}

override_resource {
  target = staging_postgres_role.app
  values = {
    database = "shop"
    drift    = []
  }
}

override_resource {
  target = staging_postgres_clone.this
  values = {
    table_stats = {
      "public.customers" = { rows = 200, bytes = 1000, seconds = 0.1 }
      "public.orders"    = { rows = 600, bytes = 3000, seconds = 0.2 }
    }
  }
}

override_resource {
  target = staging_parity_check.database
  values = {
    report     = "{\"score\":1,\"checked\":4,\"passed\":4,\"violations\":[],\"excepted\":[]}"
    score      = 1
    violations = []
  }
}

override_resource {
  target = staging_isolation_check.this
  values = {
    findings = []
  }
}

override_data {
  target = data.staging_postgres_fingerprint.production
  values = {
    server_version = "15.4"
    encoding       = "UTF8"
    extensions     = {}
    tables         = { "public.customers" = "d1" }
  }
}

override_data {
  target = data.staging_postgres_fingerprint.staging
  values = {
    server_version = "15.4"
    encoding       = "UTF8"
    extensions     = {}
    tables         = { "public.customers" = "d1" }
  }
}

override_data {
  target = data.staging_pii_scan.production
  values = {
    # A list of nested objects cannot be overridden (Terraform 1.11: "expected
    # object type, found tuple"), so `columns` is left to the mock (empty);
    # merging the scan's suggestions is exercised against PostgreSQL by the
    # Terratest suite.
    suggested_rules = "rule { ... }"
  }
}

variables {
  environment  = { name = "shop-staging", namespace = "shop-staging-abc123" }
  staging_host = "staging-db.internal"
  masking_key  = "00112233445566778899aabbccddeeff00112233445566778899aabbccddeeff"
  rules = [
    { table = "customers", column = "email", transformer = "email", domain = "customer_email" },
  ]
}

run "given_rules_only" {
  command = apply

  assert {
    condition     = output.rules == { "public.customers.email" = "email" }
    error_message = "Without rules_from_scan only the given rules apply."
  }
  assert {
    condition     = length(data.staging_pii_scan.production) == 0 && output.suggested_rules == null
    error_message = "Without rules_from_scan production is not scanned."
  }
  assert {
    condition     = output.role_name == "shop-staging-abc123_app" && staging_postgres_role.app.preset == "read_write"
    error_message = "The role is named after the environment's namespace and gets read_write by default."
  }
  assert {
    condition     = output.database_url == "postgres://shop-staging-abc123_app@staging-db.internal:5432/shop"
    error_message = "The URL carries the role, host, port and database, and no password."
  }
  assert {
    condition     = output.rows == { "public.customers" = 200, "public.orders" = 600 }
    error_message = "rows are the copy's table_stats rows."
  }
  assert {
    condition     = output.credential == { environment = "shop-staging", name = "app-db", version = 1 }
    error_message = "The credential output names what the password is derived from."
  }
  assert {
    condition     = staging_isolation_check.this.probe_production == "prod" && staging_isolation_check.this.postgres == "staging"
    error_message = "The isolation check scans staging and probes production by default."
  }
}

run "scan_is_read_with_rules_from_scan" {
  command = apply

  variables {
    rules_from_scan = true
  }

  assert {
    condition     = length(data.staging_pii_scan.production) == 1 && output.suggested_rules == "rule { ... }"
    error_message = "rules_from_scan scans production and passes its suggestions on."
  }
  assert {
    condition     = output.rules == { "public.customers.email" = "email" }
    error_message = "Given rules stay when the scan finds nothing else."
  }
  assert {
    condition     = one([for r in staging_postgres_clone.this.rule : r.domain if r.column == "email"]) == "customer_email"
    error_message = "The given rule's domain reaches the clone."
  }
}

run "no_probe" {
  command = plan
  variables {
    probe_production = false
    app_role         = { name = "reporting", preset = "read_only", credential_version = 2 }
  }
  assert {
    condition     = staging_isolation_check.this.probe_production == null && staging_postgres_role.app.password_wo_version == 2
    error_message = "probe_production = false turns the probe off; credential_version rotates the password."
  }
}

run "preset_must_be_known" {
  command = plan
  variables {
    app_role = { preset = "admin" }
  }
  expect_failures = [var.app_role]
}

run "subset_percent_in_range" {
  command = plan
  variables {
    subsets = [{ table = "customers", percent = 120 }]
  }
  expect_failures = [var.subsets]
}

run "subset_needs_percent_or_where" {
  command = plan
  variables {
    subsets = [{ table = "customers" }]
  }
  expect_failures = [var.subsets]
}

run "one_rule_per_column" {
  command = plan
  variables {
    rules = [
      { table = "customers", column = "email", transformer = "email" },
      { table = "customers", column = "email", transformer = "hash" },
    ]
  }
  expect_failures = [var.rules]
}

run "on_invalid_values" {
  command = plan
  variables {
    rules = [{ table = "customers", column = "email", transformer = "email", on_invalid = "ignore" }]
  }
  expect_failures = [var.rules]
}

run "port_in_range" {
  command = plan
  variables {
    staging_port = 70000
  }
  expect_failures = [var.staging_port]
}

run "cidrs_are_cidrs" {
  command = plan
  variables {
    production_cidrs = ["10.20.0.0/99"]
  }
  expect_failures = [var.production_cidrs]
}
