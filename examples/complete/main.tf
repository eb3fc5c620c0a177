# The whole product on the sample shop of `make demo`: a staging environment
# with an owner, an expiry and a lease; production's database masked and
# 20% subsetted into staging with the application's own login; the
# application's inputs scaled from production's; and its staging
# configuration checked for isolation from production.
#
# `make demo` applies it against two local PostgreSQL clusters. With your
# own: set TF_VAR_prod_dsn (a read-only login), TF_VAR_staging_dsn,
# TF_VAR_masking_key and TF_VAR_credential_root_secret (each from
# `openssl rand -hex 32`), and in CI TF_VAR_registry_dsn (the team's
# PostgreSQL registry: the embedded file vanishes with the runner).
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

locals {
  # What the shop's production modules are given.
  production_app = {
    replicas = 6
    image    = "ghcr.io/acme/shop:2.14.1"
    cpu      = "2000m"
    memory   = "4Gi"
    hostname = "shop.example.com"
    features = { new_checkout = true, recommendations = true }
    database = { engine = "postgres", version = "15", instance_class = "db.r6g.2xlarge", storage_gb = 500 }
  }
}

module "staging" {
  source = "../../modules/staging-stack"

  name        = "shop-staging"
  team        = "shop"
  owner       = var.owner
  production  = "prod-eu"
  ttl         = "7d"
  lease       = { duration = "8h", reason = "release candidate 2.15 acceptance" }
  masking_key = var.masking_key

  database = {
    staging_host = var.staging_host
    staging_port = var.staging_port
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
    subsets                  = [{ table = "customers", percent = 20 }]
    null_dangling_references = true
    app_role                 = { preset = "read_write" }
  }

  production_inputs = local.production_app
  scaling_rules = {
    replicas                  = { ratio = 0.25, min = 1 }
    cpu                       = { quantity = 0.25, min = "250m" }
    memory                    = { quantity = 0.5 }
    hostname                  = { set = "shop.staging.example.com" }
    "database.instance_class" = { ladder = 2 }
    "database.storage_gb"     = { ratio = 0.1, min = 20 }
  }
  parity_rules = [
    { path = "features", match = "exact" },
    { path = "hostname", match = "ignore" },
    { path = "cpu", match = "ignore" },
    { path = "memory", match = "ignore" },
  ]

  app_config = {
    PUBLIC_URL   = "https://shop.staging.example.com"
    PAYMENTS_API = "https://api-m.sandbox.paypal.com"
  }
  production_hosts = ["*.prod.example.com", "shop.example.com"]
}
