# Production's module inputs in, staging's out: what may shrink is shrunk by
# rule (provider::staging::scale), everything else is kept, and a parity
# check proves that versions, images and engines were kept and that what
# changed only shrank.

locals {
  scaled = provider::staging::scale(var.production_inputs, var.scaling_rules)
}

resource "staging_parity_check" "inputs" {
  environment = var.environment
  production  = var.production_inputs
  staging     = local.scaled.values
  preset      = var.parity_preset == "none" ? null : var.parity_preset

  dynamic "rule" {
    for_each = var.parity_rules
    content {
      path      = rule.value.path
      match     = rule.value.match
      min_ratio = rule.value.min_ratio
      max_ratio = rule.value.max_ratio
    }
  }

  dynamic "exception" {
    for_each = var.parity_exceptions
    content {
      path    = exception.value.path
      reason  = exception.value.reason
      expires = exception.value.expires
    }
  }
}
