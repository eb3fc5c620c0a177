# The sample shop of `make demo` copied into a staging environment: masked,
# a 20% subset of customers with everything that follows them, an
# application login with a derived password, and the parity and isolation
# checks. In CI, set `registry_dsn` to the team's PostgreSQL registry: the
# embedded SQLite file vanishes with the runner.
terraform {
  required_version = ">= 1.11"
  required_providers {
    staging = {
      source  = "stagingkit/staging"
      version = ">= 0.1.0, < 1.0.0"
    }
  }
}

provider "staging" {
  registry               = var.registry_dsn
  credential_root_secret = var.credential_root_secret
  postgres {
    name = "prod"
    dsn  = var.prod_dsn
    role = "production"
  }
  postgres {
    name = "staging"
    dsn  = var.staging_dsn
    role = "staging"
  }
}

# The environment this copy belongs to (the `environment` module does the
# same; declared here so the example stands alone when the module is
# published on its own).
resource "staging_team" "shop" {
  name = "shop"
}

resource "staging_environment" "shop" {
  name       = var.environment_name
  team       = staging_team.shop.name
  production = "prod-eu"
  ttl        = "3d"
}

module "database" {
  source = "../.."

  environment  = { name = staging_environment.shop.name, namespace = staging_environment.shop.namespace }
  staging_host = var.staging_host
  staging_port = var.staging_port
  masking_key  = var.masking_key

  rules = [
    { table = "customers", column = "email", transformer = "email", domain = "customer_email" },
    { table = "customers", column = "first_name", transformer = "first_name" },
    { table = "customers", column = "last_name", transformer = "last_name" },
    { table = "customers", column = "phone", transformer = "phone" },
    { table = "customers", column = "birth_date", transformer = "date_shift", options = { max_days = "180" } },
    { table = "addresses", column = "street", transformer = "address" },
    { table = "addresses", column = "postal_code", transformer = "text_scramble" },
    { table = "payments", column = "card_number", transformer = "credit_card" },
    { table = "payments", column = "card_holder", transformer = "full_name" },
    { table = "support_tickets", column = "body", transformer = "text_scramble" },
  ]
  rules_from_scan          = var.rules_from_scan
  subsets                  = [{ table = "customers", percent = 20 }]
  null_dangling_references = true

  app_role = { preset = "read_only" }
  app_config = {
    APP_ENV       = "staging"
    LIVE_PAYMENTS = "false"
  }
  production_hosts = ["*.prod.example.com"]
}
