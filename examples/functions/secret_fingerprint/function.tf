# In production's configuration: publish fingerprints of production
# secrets, never the secrets. The salt is not secret; use one random salt
# (16 bytes or more) for every secret of one check. The password comes from
# production's own secret store; a fingerprint derived from it is safe to
# publish, hence nonsensitive().
variable "orders_db_password" {
  type      = string
  sensitive = true
}

locals {
  fingerprint_salt = "b7f3c1e9a2d54f60" # FAKE: generate your own with `openssl rand -hex 16`
}

output "production_fingerprints" {
  value = {
    orders_db_password = nonsensitive(provider::staging::secret_fingerprint(var.orders_db_password, local.fingerprint_salt))
  }
}

# In staging's configuration, staging_isolation_check compares every value
# of its write-only config_wo against these fingerprints:
#
#   production_secret_fingerprints = data.terraform_remote_state.prod.outputs.production_fingerprints
