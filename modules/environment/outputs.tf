output "environment" {
  description = "The environment as the other modules take it: `name`, `namespace`, `team`, `owner`, `production`, `expires_at` and `tags`."
  value = {
    name       = staging_environment.this.name
    namespace  = staging_environment.this.namespace
    team       = staging_environment.this.team
    owner      = staging_environment.this.owner
    production = staging_environment.this.production
    expires_at = staging_environment.this.expires_at
    tags       = staging_environment.this.tags
  }
}

output "name" {
  description = "The environment's name."
  value       = staging_environment.this.name
}

output "id" {
  description = "The environment's registry identifier."
  value       = staging_environment.this.id
}

output "namespace" {
  description = "A DNS-safe prefix of at most 20 characters for every resource of the environment, known at plan time."
  value       = staging_environment.this.namespace
}

output "tags" {
  description = "Tags for every cloud resource of the environment (environment, team, owner, expiry, managed-by)."
  value       = staging_environment.this.tags
}

output "owner" {
  description = "The person responsible for the environment."
  value       = staging_environment.this.owner
}

output "expires_at" {
  description = "When the environment expires (RFC 3339), or null if it never does."
  value       = staging_environment.this.expires_at
}

output "lease" {
  description = "The lease, if any: `holder`, `reason` and `expires_at`; null without one."
  value = var.lease == null ? null : {
    holder     = staging_lease.this[0].holder
    reason     = staging_lease.this[0].reason
    expires_at = staging_lease.this[0].expires_at
  }
}
