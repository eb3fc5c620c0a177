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

variable "registry_dsn" {
  description = "The shared registry, such as postgres://…; null for STAGING_REGISTRY or the embedded file."
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
  description = "The staging database the copy replaces."
  type        = string
  sensitive   = true
  ephemeral   = true
}

variable "masking_key" {
  description = "The environment's masking key (openssl rand -hex 32)."
  type        = string
  sensitive   = true
  ephemeral   = true
}

variable "credential_root_secret" {
  description = "The root secret staging credentials are derived from (openssl rand -hex 32)."
  type        = string
  sensitive   = true
  ephemeral   = true
}

variable "environment_name" {
  description = "The staging environment's name."
  type        = string
  default     = "shop-staging"
}

variable "rules_from_scan" {
  description = "Mask columns the rules below miss with the PII scan's suggestions."
  type        = bool
  default     = false
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

output "environment" {
  description = "The environment."
  value       = { name = staging_environment.shop.name, namespace = staging_environment.shop.namespace, expires_at = staging_environment.shop.expires_at }
}

output "connection" {
  description = "How the application connects, without the password."
  value       = module.database.connection
}

output "database_url" {
  description = "The application's connection URL without its password."
  value       = module.database.database_url
}

output "role_name" {
  description = "The application's login."
  value       = module.database.role_name
}

output "rows" {
  description = "Rows per table in staging."
  value       = module.database.rows
}

output "parity_report" {
  description = "The parity report (JSON)."
  value       = module.database.parity_report
}

output "isolation_findings" {
  description = "The isolation findings (none)."
  value       = module.database.isolation_findings
}

output "isolation_report" {
  description = "The isolation report (JSON), with the live probe's outcome."
  value       = module.database.isolation_report
}

output "rules" {
  description = "The masking rules applied, given and suggested."
  value       = module.database.rules
}
