variable "staging_dsn" {
  type      = string
  sensitive = true
  ephemeral = true # a DSN never reaches a saved plan or the state
}

variable "credential_root_secret" {
  type      = string
  sensitive = true
  ephemeral = true
}

provider "staging" {
  credential_root_secret = var.credential_root_secret
  postgres {
    name = "staging" # a "production" connection is refused at plan
    dsn  = var.staging_dsn
    role = "staging"
  }
}

resource "staging_team" "payments" {
  name = "payments"
}

resource "staging_environment" "checkout" {
  name = "pay-checkout"
  team = staging_team.payments.name
  ttl  = "7d"
}

ephemeral "staging_credential" "reporting" {
  environment = staging_environment.checkout.name
  name        = "reporting"
}

# A read-only login for reporting on two schemas: USAGE and SELECT now, and
# SELECT on the tables and sequences that migrations create later. Its
# password works until the environment expires, and it is kept through
# every re-copy of staging_postgres_clone.
resource "staging_postgres_role" "reporting" {
  postgres            = "staging"
  name                = "${staging_environment.checkout.namespace}_reporting"
  environment         = staging_environment.checkout.name
  preset              = "read_only"
  schemas             = ["public", "billing"]
  connection_limit    = 5
  password_wo         = ephemeral.staging_credential.reporting.value
  password_wo_version = 1 # bump with the credential's version to rotate

  owned_objects_on_destroy = "drop" # default "reassign" to the connection's login
}

# Drift made by hand (an extra GRANT, ALTER ROLE ... SUPERUSER, a
# membership) shows up in `drift` and the next plan repairs it.
output "reporting_drift" {
  value = staging_postgres_role.reporting.drift
}
