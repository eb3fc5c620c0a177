# Fail the plan when staging drifts from production where it must not.
resource "staging_parity_check" "checkout" {
  environment = staging_environment.checkout.name # records each report in the audit log

  production = {
    api      = { image = "ghcr.io/acme/api:1.8.2", replicas = 6, instance_type = "m6i.4xlarge" }
    postgres = { engine = "postgres", engine_version = "15.4", instance_class = "db.r6g.2xlarge" }
    redis    = { engine_version = "7.1", node_type = "cache.r6g.xlarge" }
  }
  staging = {
    api      = { image = "ghcr.io/acme/api:1.8.2", replicas = 2, instance_type = "m6i.xlarge" }
    postgres = { engine = "postgres", engine_version = "15.4", instance_class = "db.r6g.large" }
    redis    = { engine_version = "7.2", node_type = "cache.t4g.medium" }
  }

  # Versions same_minor, images and engines exact, sizes scaled.
  preset = "twelve-factor"

  # Staging runs between a tenth and half of production's replicas.
  rule {
    path      = "api.replicas"
    match     = "scaled"
    min_ratio = 0.1
    max_ratio = 0.5
  }

  # Redis in staging runs on a burstable node class.
  rule {
    path  = "redis.node_type"
    match = "ignore"
  }

  exception {
    path    = "redis.engine_version"
    reason  = "trying Redis 7.2 ahead of the production upgrade (OPS-1432)"
    expires = "2026-12-31"
  }
}

output "parity_score" {
  value = staging_parity_check.checkout.score
}
