# Plan-time logic of staging-stack: the composition's wiring and the
# application configuration the isolation check sees, without a database
# (everything that would read or write one is overridden); the Terratest
# suite in test/ applies examples/complete against PostgreSQL.

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
  target = module.database.staging_postgres_role.app
  values = {
    database = "shop"
    drift    = []
  }
}

override_resource {
  target = module.database.staging_postgres_clone.this
  values = {
    table_stats = { "public.customers" = { rows = 200, bytes = 1000, seconds = 0.1 } }
  }
}

override_resource {
  target = module.database.staging_parity_check.database
  values = {
    report = "{\"score\":1}"
    score  = 1
  }
}

override_resource {
  target = module.database.staging_isolation_check.this
  values = {
    findings = []
    report   = "{}"
  }
}

override_data {
  target = module.database.data.staging_postgres_fingerprint.production
  values = {
    server_version = "15.4"
    encoding       = "UTF8"
    extensions     = {}
    tables         = {}
  }
}

override_data {
  target = module.database.data.staging_postgres_fingerprint.staging
  values = {
    server_version = "15.4"
    encoding       = "UTF8"
    extensions     = {}
    tables         = {}
  }
}

variables {
  name        = "shop-staging"
  team        = "shop"
  production  = "prod-eu"
  masking_key = "00112233445566778899aabbccddeeff00112233445566778899aabbccddeeff"
  database = {
    staging_host = "staging-db.internal"
  }
  production_inputs = { replicas = 6, image = "app:1.2.3" }
  scaling_rules     = { replicas = { ratio = 0.5, min = 1 } }
  app_config        = { PAYMENTS_API = "https://api-m.sandbox.paypal.com" }
}

run "composition" {
  command = apply

  assert {
    condition     = output.app_config.APP_ENV == "staging" && output.app_config.LIVE_PAYMENTS == "false" && output.app_config.PAYMENTS_API == "https://api-m.sandbox.paypal.com"
    error_message = "The application's configuration is staging's, with live side effects off and its own settings kept."
  }
  assert {
    condition     = startswith(output.app_config.DATABASE_URL, "postgres://shop-staging-") && endswith(output.app_config.DATABASE_URL, "_app@staging-db.internal:5432/shop")
    error_message = "DATABASE_URL names the environment's application role and staging's host, without a password."
  }
  assert {
    condition     = output.app_inputs == { replicas = 3, image = "app:1.2.3" } && length(output.shrunk) == 1
    error_message = "The application's inputs are production's, scaled by the rules."
  }
  assert {
    condition     = output.environment.name == "shop-staging" && output.rows == { "public.customers" = 200 }
    error_message = "The environment and the copy's rows reach the outputs."
  }
}

run "database_url_is_the_modules" {
  command = plan
  variables {
    app_config = { DATABASE_URL = "postgres://prod-db.internal/shop" }
  }
  expect_failures = [var.app_config]
}

run "app_env_is_staging" {
  command = plan
  variables {
    app_config = { APP_ENV = "production" }
  }
  expect_failures = [var.app_config]
}

run "name_is_a_dns_label" {
  command = plan
  variables {
    name = "Shop Staging"
  }
  expect_failures = [var.name]
}

run "ttl_is_a_duration" {
  command = plan
  variables {
    ttl = "a week"
  }
  expect_failures = [var.ttl]
}

run "preset_is_known" {
  command = plan
  variables {
    database = { staging_host = "staging-db.internal", app_role = { preset = "superuser" } }
  }
  expect_failures = [var.database]
}
