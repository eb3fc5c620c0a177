# The embedded registry (a SQLite file under your data directory) needs no
# configuration at all:
provider "staging" {}

# Teams share one registry in PostgreSQL. The DSN is sensitive and never
# stored in state; pass it through a variable or STAGING_REGISTRY.
provider "staging" {
  alias    = "shared"
  registry = var.registry_dsn
  actor    = "ci@payments"
}

variable "registry_dsn" {
  type      = string
  sensitive = true
}
