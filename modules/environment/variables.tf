variable "name" {
  description = "The environment's name: a DNS label (lowercase letters, digits and hyphens, 1 to 63 characters, starting with a letter), unique across the registry, such as `pay-feature-x`."
  type        = string
  nullable    = false

  validation {
    condition     = can(regex("^[a-z]([a-z0-9-]{0,61}[a-z0-9])?$", var.name))
    error_message = "Valid values for name are DNS labels: 1 to 63 lowercase letters, digits and hyphens, starting with a letter and not ending with a hyphen, such as \"pay-feature-x\"."
  }
}

variable "team" {
  description = "The team that owns the environment, a DNS label. With `create_team` the module registers it; otherwise it must already be registered."
  type        = string
  nullable    = false

  validation {
    condition     = can(regex("^[a-z]([a-z0-9-]{0,61}[a-z0-9])?$", var.team))
    error_message = "Valid values for team are DNS labels: 1 to 63 lowercase letters, digits and hyphens, starting with a letter and not ending with a hyphen, such as \"payments\"."
  }
}

variable "create_team" {
  description = "Whether this module registers `team` (a `staging_team`) with the `team_*` settings. Set it to false when the team is managed elsewhere, as it usually is once several environments share it."
  type        = bool
  default     = true
  nullable    = false
}

variable "team_max_environments" {
  description = "With `create_team`: the most environments the team may have at once; null for no limit."
  type        = number
  default     = null

  validation {
    condition     = var.team_max_environments == null || try(var.team_max_environments >= 1 && floor(var.team_max_environments) == var.team_max_environments, false)
    error_message = "Valid values for team_max_environments are null (no limit) or a whole number of at least 1."
  }
}

variable "team_max_ttl" {
  description = "With `create_team`: the longest `ttl` any of the team's environments may have, such as `14d`; null for no bound."
  type        = string
  default     = null

  validation {
    condition     = var.team_max_ttl == null || can(regex("^([0-9]+[dw]|([0-9]+(\\.[0-9]+)?(h|m|s))+)$", var.team_max_ttl))
    error_message = "Valid values for team_max_ttl are null or a duration: whole days or weeks such as \"7d\" or \"2w\", or hours, minutes and seconds such as \"72h\" or \"1h30m\"."
  }
}

variable "team_owners" {
  description = "With `create_team`: people or groups responsible for the team's environments."
  type        = set(string)
  default     = []
  nullable    = false
}

variable "owner" {
  description = "The person responsible for the environment, such as `alice@example.com`; null for the provider's `actor`."
  type        = string
  default     = null
}

variable "production" {
  description = "The production environment this one mirrors, such as `prod-eu`."
  type        = string
  nullable    = false

  validation {
    condition     = length(trimspace(var.production)) > 0
    error_message = "Valid values for production are non-empty names of a production environment, such as \"prod-eu\"."
  }
}

variable "ttl" {
  description = "The environment's lifetime, such as `72h` or `7d`, bounded by the team's `max_ttl`. Changing it extends the environment from the apply."
  type        = string
  default     = "72h"
  nullable    = false

  validation {
    condition     = can(regex("^([0-9]+[dw]|([0-9]+(\\.[0-9]+)?(h|m|s))+)$", var.ttl))
    error_message = "Valid values for ttl are durations: whole days or weeks such as \"7d\" or \"2w\", or hours, minutes and seconds such as \"72h\" or \"1h30m\"."
  }
}

variable "labels" {
  description = "Free-form labels on the environment, used by `staging_environments` to select it, such as `{ pr = \"1234\" }`."
  type        = map(string)
  default     = {}
  nullable    = false
}

variable "lease" {
  description = "An exclusive claim on the environment for one person or pipeline: `duration` (such as `4h`) and `reason`. Null for none."
  type = object({
    duration = string
    reason   = string
  })
  default = null

  validation {
    condition     = var.lease == null || can(regex("^([0-9]+[dw]|([0-9]+(\\.[0-9]+)?(h|m|s))+)$", var.lease.duration))
    error_message = "Valid values for lease.duration are durations: whole days or weeks such as \"1d\", or hours and minutes such as \"4h\" or \"90m\"."
  }

  validation {
    condition     = var.lease == null || length(trimspace(try(var.lease.reason, ""))) > 0
    error_message = "Valid values for lease.reason are non-empty sentences saying why the environment is claimed, such as \"load test of checkout v2\"."
  }
}
