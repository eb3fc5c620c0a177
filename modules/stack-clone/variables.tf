variable "production_inputs" {
  description = "The inputs a team passes to its production modules: any nested object of replicas, instance sizes, storage, versions, images, feature flags, hostnames."
  type        = any
  nullable    = false

  validation {
    condition     = can(keys(var.production_inputs))
    error_message = "Valid values for production_inputs are objects or maps (the inputs of production's modules), such as { replicas = 6, image = \"app:1.2.3\" }."
  }
}

variable "scaling_rules" {
  description = "How each input shrinks for staging, by dot-separated path with `*` wildcards: `{ ratio, min, max, round }` for numbers, `{ ladder, min }` for instance sizes, `{ quantity, min }` for Kubernetes quantities, `{ set }` to replace, `{ keep = true }` to assert it stays (see `provider::staging::scale`). Inputs without a rule are kept."
  type        = any
  default     = {}
  nullable    = false

  validation {
    condition     = can(keys(var.scaling_rules))
    error_message = "Valid values for scaling_rules are maps of path to rule object, such as { replicas = { ratio = 0.25, min = 1 }, instance_type = { ladder = 2 } }."
  }
}

variable "parity_preset" {
  description = "Default parity rules for inputs no `parity_rules` entry covers: `twelve-factor` (versions `same_minor`; images, engines and brands `exact`; replicas, counts, sizes and classes `scaled`) or `none`."
  type        = string
  default     = "twelve-factor"
  nullable    = false

  validation {
    condition     = contains(["twelve-factor", "none"], var.parity_preset)
    error_message = "Valid values for parity_preset are \"twelve-factor\" and \"none\"."
  }
}

variable "parity_rules" {
  description = "How staging inputs must relate to production's, by path: `match` is one of `exact`, `same_major`, `same_minor`, `same_family`, `scaled` (with `min_ratio`, `max_ratio`) or `ignore`."
  type = list(object({
    path      = string
    match     = string
    min_ratio = optional(number)
    max_ratio = optional(number)
  }))
  default  = []
  nullable = false

  validation {
    condition     = alltrue([for r in var.parity_rules : contains(["exact", "same_major", "same_minor", "same_family", "scaled", "ignore"], r.match)])
    error_message = "Valid values for parity_rules[*].match are \"exact\", \"same_major\", \"same_minor\", \"same_family\", \"scaled\" and \"ignore\"."
  }
}

variable "parity_exceptions" {
  description = "Tolerated differences: `path`, `reason` and `expires` (a date such as `2026-12-31`)."
  type = list(object({
    path    = string
    reason  = string
    expires = string
  }))
  default  = []
  nullable = false

  validation {
    condition     = alltrue([for e in var.parity_exceptions : can(regex("^[0-9]{4}-[0-9]{2}-[0-9]{2}", e.expires))])
    error_message = "Valid values for parity_exceptions[*].expires are dates such as \"2026-12-31\" or RFC 3339 timestamps."
  }
}

variable "environment" {
  description = "The staging environment's name; when set, every apply writes the parity report to the registry's audit log. Null for none."
  type        = string
  default     = null
}
