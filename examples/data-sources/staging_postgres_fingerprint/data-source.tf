provider "staging" {
  postgres {
    name = "prod"
    dsn  = var.prod_dsn # read only, inside READ ONLY transactions
    role = "production"
  }
  postgres {
    name = "staging"
    dsn  = var.staging_dsn
    role = "staging"
  }
}

data "staging_postgres_fingerprint" "prod" {
  postgres = "prod"
  schemas  = ["public"]
}

data "staging_postgres_fingerprint" "staging" {
  postgres = "staging"
  schemas  = ["public"]
}

# Tables whose definition differs: an unapplied migration shows up here.
output "schema_drift" {
  value = [
    for table, digest in data.staging_postgres_fingerprint.prod.tables : table
    if lookup(data.staging_postgres_fingerprint.staging.tables, table, "") != digest
  ]
}

output "extension_drift" {
  value = {
    for ext, version in data.staging_postgres_fingerprint.prod.extensions : ext => {
      production = version
      staging    = lookup(data.staging_postgres_fingerprint.staging.extensions, ext, null)
    } if lookup(data.staging_postgres_fingerprint.staging.extensions, ext, null) != version
  }
}

# Ephemeral (Terraform >= 1.10): the DSNs and their passwords are never
# written to a saved plan or the state.
variable "prod_dsn" {
  type      = string
  sensitive = true
  ephemeral = true
}

variable "staging_dsn" {
  type      = string
  sensitive = true
  ephemeral = true
}
