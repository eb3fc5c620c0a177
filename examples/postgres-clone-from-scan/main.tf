# Masking rules generated from the PII scan: every column the scan finds
# gets the rule it suggests, with `dynamic "rule"`. The scan's columns are
# not known while Terraform validates the configuration; the clone checks
# the rules once they are known (at plan time, or at apply when the scan
# waits for a resource), and fails before copying anything if a column that
# looks personal is left without a rule. Pin the rules you want to keep in
# `overrides`: they replace the suggestion for their column.
terraform {
  required_version = ">= 1.11"
  required_providers {
    staging = {
      source  = "stagingkit/staging"
      version = ">= 0.1.0, < 1.0.0"
    }
  }
}

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

variable "overrides" {
  description = "Rules that replace the scan's suggestion, by \"schema.table.column\"."
  type = map(object({
    transformer = string
    domain      = optional(string)
    options     = optional(map(string), {})
  }))
  default = {
    "public.customers.email" = { transformer = "email", domain = "customer_email" }
  }
}

variable "subsets" {
  description = "Share of rows to copy, in percent, by root table."
  type        = map(number)
  default     = { customers = 20 }
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

data "staging_pii_scan" "prod" {
  postgres = "prod"
}

locals {
  # One rule per column found: the override when there is one, else the
  # suggestion (options come as JSON; the clone takes strings).
  rules = [for c in data.staging_pii_scan.prod.columns : {
    table       = c.table
    column      = c.column
    transformer = contains(keys(var.overrides), "${c.table}.${c.column}") ? var.overrides["${c.table}.${c.column}"].transformer : c.suggested_transformer
    domain      = contains(keys(var.overrides), "${c.table}.${c.column}") ? var.overrides["${c.table}.${c.column}"].domain : c.suggested_domain
    options = (contains(keys(var.overrides), "${c.table}.${c.column}") ? var.overrides["${c.table}.${c.column}"].options :
    { for k, v in jsondecode(c.suggested_options_json) : k => can(tostring(v)) ? tostring(v) : jsonencode(v) })
  }]
}

resource "staging_postgres_clone" "shop" {
  source      = "prod"
  target      = "staging"
  key         = var.masking_key
  key_version = 1

  dynamic "rule" {
    for_each = local.rules
    content {
      table       = rule.value.table
      column      = rule.value.column
      transformer = rule.value.transformer
      domain      = rule.value.domain
      options     = rule.value.options
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

output "masked_columns" {
  description = "The columns masked, and how."
  value       = { for r in local.rules : "${r.table}.${r.column}" => r.transformer }
}
