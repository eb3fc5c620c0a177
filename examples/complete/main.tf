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

variable "registry_dsn" {
  description = "The shared registry (postgres://…); null for STAGING_REGISTRY or the embedded file."
  type        = string
  default     = null
  sensitive   = true
  ephemeral   = true
}

variable "prod_dsn" {
  description = "Production, through a read-only login."
  type        = string
  sensitive   = true
  ephemeral   = true
}

variable "staging_dsn" {
  description = "The staging database the masked copy replaces."
  type        = string
  sensitive   = true
  ephemeral   = true
}

variable "masking_key" {
  description = "The environment's masking key."
  type        = string
  sensitive   = true
  ephemeral   = true
}

variable "credential_root_secret" {
  description = "The root secret staging credentials are derived from."
  type        = string
  sensitive   = true
  ephemeral   = true
}

variable "staging_host" {
  description = "The staging database's host as the application reaches it."
  type        = string
  default     = "127.0.0.1"
}

variable "staging_port" {
  description = "The staging database's port."
  type        = number
  default     = 5432
}

variable "owner" {
  description = "Who is responsible for the environment."
  type        = string
  default     = "alice@example.com"
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

output "environment" {
  description = "The environment: name, namespace, team, owner, production, expiry, tags."
  value       = module.staging.environment
}

output "lease" {
  description = "Who holds the environment, why, and until when."
  value       = module.staging.lease
}

output "rows" {
  description = "Rows per table in staging."
  value       = module.staging.rows
}

output "app_config" {
  description = "The application's staging configuration (DATABASE_URL without its password)."
  value       = module.staging.app_config
}

output "app_inputs" {
  description = "The application's staging inputs."
  value       = module.staging.app_inputs
}

output "shrunk" {
  description = "What was shrunk for staging, and why."
  value       = module.staging.shrunk
}

output "database" {
  description = "The staging database: connection without password, role, clone facts."
  value       = module.staging.database
}

output "parity_report" {
  description = "Parity of the database and of the application's inputs."
  value       = module.staging.parity_report
}

output "isolation_findings" {
  description = "What the isolation check found (nothing)."
  value       = module.staging.isolation_findings
}

output "isolation_report" {
  description = "The isolation check's report."
  value       = module.staging.isolation_report
}
