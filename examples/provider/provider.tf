# The embedded registry (a SQLite file under your data directory) needs no
# configuration at all:
provider "staging" {}

# Teams share one registry in PostgreSQL. The DSN is never stored in state;
# pass it through an ephemeral variable (kept out of saved plans too) or
# STAGING_REGISTRY. Resources choose it with provider = staging.shared.
# tflint-ignore: terraform_unused_declarations
provider "staging" {
  alias    = "shared"
  registry = var.registry_dsn
  actor    = "ci@payments"
}

variable "registry_dsn" {
  type      = string
  sensitive = true
  ephemeral = true # Terraform >= 1.10: never written to a plan file or state
}
