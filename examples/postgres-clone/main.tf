# The main job: a staging environment from the registry, and a masked 20%
# copy of the production shop into its database. `make demo` applies it with
# two local PostgreSQL clusters; point the variables at yours to use it.
terraform {
  required_version = ">= 1.11"
  required_providers {
    staging = {
      source  = "stagingkit/staging"
      version = ">= 0.1.0, < 1.0.0"
    }
  }
}

# The DSNs and the key are ephemeral (Terraform >= 1.10): they reach the
# provider and the clone's write-only key, never a saved plan or the state.
variable "prod_dsn" {
  description = "Production database, read only."
  type        = string
  sensitive   = true
  ephemeral   = true
}

variable "staging_dsn" {
  description = "Staging database, replaced by the masked copy."
  type        = string
  sensitive   = true
  ephemeral   = true
}

variable "masking_key" {
  description = "The environment's masking secret."
  type        = string
  sensitive   = true
  ephemeral   = true
}

provider "staging" {
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

resource "staging_team" "shop" {
  name             = "shop"
  max_environments = 5
  max_ttl          = "14d"
}

resource "staging_environment" "demo" {
  name       = "shop-demo"
  team       = staging_team.shop.name
  production = "prod-eu"
  ttl        = "72h"
}

# What the scan finds is what the rules below cover: without one of them the
# plan fails, naming the column.
data "staging_pii_scan" "prod" {
  postgres = "prod"
}

resource "staging_postgres_clone" "shop" {
  source      = "prod"
  target      = "staging"
  environment = staging_environment.demo.name
  key         = var.masking_key
  key_version = 1

  rule {
    table       = "customers"
    column      = "email"
    transformer = "email"
    domain      = "customer_email"
  }
  rule {
    table       = "customers"
    column      = "first_name"
    transformer = "first_name"
  }
  rule {
    table       = "customers"
    column      = "last_name"
    transformer = "last_name"
  }
  rule {
    table       = "customers"
    column      = "phone"
    transformer = "phone"
  }
  rule {
    table       = "customers"
    column      = "birth_date"
    transformer = "date_shift"
    options     = { max_days = "180" }
  }
  rule {
    table       = "addresses"
    column      = "street"
    transformer = "address"
  }
  rule {
    # Postal codes have too few values for format-preserving encryption
    # (under 1,000,000) and need not stay unique: scramble them instead.
    table       = "addresses"
    column      = "postal_code"
    transformer = "text_scramble"
  }
  rule {
    table       = "payments"
    column      = "card_number"
    transformer = "credit_card"
  }
  rule {
    table       = "payments"
    column      = "card_holder"
    transformer = "full_name"
  }
  rule {
    table       = "support_tickets"
    column      = "body"
    transformer = "text_scramble"
  }

  subset {
    table   = "customers"
    percent = 20
  }
  null_dangling_references = true
  refresh_after            = "7d"
}

output "personal_columns" {
  description = "What the PII scan found in production."
  value       = [for c in data.staging_pii_scan.prod.columns : "${c.table}.${c.column} (${c.kind})"]
}

output "rows" {
  description = "Rows per table in staging."
  value       = { for t, s in staging_postgres_clone.shop.table_stats : t => s.rows }
}
