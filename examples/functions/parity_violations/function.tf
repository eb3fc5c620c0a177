variable "production" {
  description = "Production facts, such as a module's inputs."
  type        = any
}

variable "staging" {
  description = "Staging facts of the same shape."
  type        = any
}

locals {
  parity_violations = provider::staging::parity_violations(var.production, var.staging, {
    "postgres.engine_version" = "same_minor"
    "services.*.image"        = "exact"
    "services.*.replicas"     = { match = "scaled", max_ratio = 0.5 }
  })
}

# Warn on every plan while staging drifts from production.
check "staging_parity" {
  assert {
    condition     = length(local.parity_violations) == 0
    error_message = join("\n", [for v in local.parity_violations : v.message])
  }
}
