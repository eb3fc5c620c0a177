locals {
  production = {
    replicas      = 6
    image         = "ghcr.io/acme/api:1.8.2"
    instance_type = "m6i.4xlarge"
    multi_az      = true
    workers = {
      billing = { replicas = 4, cpu = "2000m", memory = "4Gi" }
      emails  = { replicas = 2, cpu = "500m", memory = "1Gi" }
    }
  }

  # Smaller, but the same: shrink what may shrink, keep the image.
  staging = provider::staging::scale(local.production, {
    replicas             = { ratio = 0.25, min = 1 }
    instance_type        = { ladder = 2 }
    multi_az             = { set = false }
    image                = { keep = true }
    "workers.*.replicas" = { ratio = 0.5, min = 1 }
    "workers.*.cpu"      = { quantity = 0.5, min = "250m" }
  })
}

# { replicas = 2, instance_type = "m6i.xlarge", multi_az = false, ... }
output "staging_inputs" {
  value = local.staging.values
}

# One line per shrunk value, so the plan shows what changed and why.
output "scaling" {
  value = [for c in local.staging.changes : "${c.path}: ${c.production} -> ${c.staging} (${c.rule})"]
}
