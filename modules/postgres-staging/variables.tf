variable "environment" {
  description = "The staging environment the copy, the role and the checks belong to: the `environment` output of the `environment` module (`name` and `namespace` are used)."
  type = object({
    name      = string
    namespace = string
  })
  nullable = false

  validation {
    condition     = can(regex("^[a-z]([a-z0-9-]{0,61}[a-z0-9])?$", var.environment.name)) && length(var.environment.namespace) > 0
    error_message = "Valid values for environment are objects with a DNS-label name and a non-empty namespace, such as module.environment.environment."
  }
}

variable "production_connection" {
  description = "The name of the provider's `postgres` connection with role `production` (read only) to copy from."
  type        = string
  default     = "prod"
  nullable    = false

  validation {
    condition     = length(trimspace(var.production_connection)) > 0
    error_message = "Valid values for production_connection are names of a provider postgres block with role \"production\", such as \"prod\"."
  }
}

variable "staging_connection" {
  description = "The name of the provider's `postgres` connection with role `staging` to copy into; the application role is created there."
  type        = string
  default     = "staging"
  nullable    = false

  validation {
    condition     = length(trimspace(var.staging_connection)) > 0
    error_message = "Valid values for staging_connection are names of a provider postgres block with role \"staging\", such as \"staging\"."
  }
}

variable "staging_host" {
  description = "The staging database's host as the application reaches it; part of the connection parameters and of the `DATABASE_URL` the isolation check inspects."
  type        = string
  nullable    = false

  validation {
    condition     = length(trimspace(var.staging_host)) > 0
    error_message = "Valid values for staging_host are host names or addresses, such as \"staging-db.internal\" or \"127.0.0.1\"."
  }
}

variable "staging_port" {
  description = "The staging database's port."
  type        = number
  default     = 5432
  nullable    = false

  validation {
    condition     = var.staging_port >= 1 && var.staging_port <= 65535 && floor(var.staging_port) == var.staging_port
    error_message = "Valid values for staging_port are whole numbers from 1 to 65535."
  }
}

variable "masking_key" {
  description = "The environment's masking key: at least 32 random bytes as hex or base64 (`openssl rand -hex 32`). Ephemeral: never in plan or state."
  type        = string
  sensitive   = true
  ephemeral   = true
  nullable    = false
}

variable "key_version" {
  description = "Bump it when `masking_key` changes: Terraform cannot see a write-only value change, and a new key needs a new copy."
  type        = number
  default     = 1
  nullable    = false

  validation {
    condition     = var.key_version >= 1 && floor(var.key_version) == var.key_version
    error_message = "Valid values for key_version are whole numbers of at least 1."
  }
}

variable "rules" {
  description = "Masking rules, one per column: `table`, `column`, `transformer`, and optionally `domain`, `options` and `on_invalid`. With `rules_from_scan`, the PII scan's suggestions fill in columns these do not cover."
  type = list(object({
    table       = string
    column      = string
    transformer = string
    domain      = optional(string)
    options     = optional(map(string))
    on_invalid  = optional(string)
  }))
  default  = []
  nullable = false

  validation {
    condition     = alltrue([for r in var.rules : r.on_invalid == null || contains(["error", "redact", "hash"], coalesce(r.on_invalid, "error"))])
    error_message = "Valid values for rules[*].on_invalid are \"error\", \"redact\", \"hash\" or null."
  }

  validation {
    condition     = length(distinct([for r in var.rules : "${r.table}.${r.column}"])) == length(var.rules)
    error_message = "Valid values for rules have one rule per table and column; remove the duplicates."
  }
}

variable "rules_from_scan" {
  description = "Mask every column the PII scan of production flags and `rules` does not cover with the scan's suggested rule. Review the suggestions (output `suggested_rules`) before relying on them."
  type        = bool
  default     = false
  nullable    = false
}

variable "subsets" {
  description = "Root tables to copy only part of: `table` and `percent` (0 to 100) and/or `where`; tables referencing them follow."
  type = list(object({
    table   = string
    percent = optional(number)
    where   = optional(string)
  }))
  default  = []
  nullable = false

  validation {
    condition     = alltrue([for s in var.subsets : s.percent == null || try(s.percent > 0 && s.percent <= 100, false)])
    error_message = "Valid values for subsets[*].percent are numbers greater than 0 and at most 100, or null."
  }

  validation {
    condition     = alltrue([for s in var.subsets : s.percent != null || s.where != null])
    error_message = "Valid values for subsets need a percent, a where condition, or both."
  }
}

variable "null_dangling_references" {
  description = "With subsetting, set nullable references to rows that are not copied to NULL instead of leaving the referencing rows out."
  type        = bool
  default     = false
  nullable    = false
}

variable "refresh_after" {
  description = "Age after which the copy is stale and the next plan makes a fresh one, such as `7d`; null never."
  type        = string
  default     = "7d"

  validation {
    condition     = var.refresh_after == null || can(regex("^([0-9]+[dw]|([0-9]+(\\.[0-9]+)?(h|m|s))+)$", var.refresh_after))
    error_message = "Valid values for refresh_after are null or durations: whole days or weeks such as \"7d\", or hours such as \"36h\"."
  }
}

variable "app_role" {
  description = "The application's login in staging: `name` (appended to the environment's namespace), `preset` (`read_only`, `read_write` or `owner`), `schemas`, and `credential_version` (bump to rotate its password)."
  type = object({
    name               = optional(string, "app")
    preset             = optional(string, "read_write")
    schemas            = optional(list(string), ["public"])
    connection_limit   = optional(number, -1)
    credential_version = optional(number, 1)
  })
  default  = {}
  nullable = false

  validation {
    condition     = contains(["read_only", "read_write", "owner"], var.app_role.preset)
    error_message = "Valid values for app_role.preset are \"read_only\", \"read_write\" and \"owner\"."
  }

  validation {
    condition     = can(regex("^[a-z_][a-z0-9_]*$", var.app_role.name))
    error_message = "Valid values for app_role.name are lowercase identifiers (letters, digits and underscores, not starting with a digit), such as \"app\"."
  }

  validation {
    condition     = var.app_role.credential_version >= 1 && floor(var.app_role.credential_version) == var.app_role.credential_version
    error_message = "Valid values for app_role.credential_version are whole numbers of at least 1."
  }
}

variable "parity_schemas" {
  description = "The schemas whose tables the parity check compares between production and staging (the provider's own catalogs in staging are left out by default)."
  type        = list(string)
  default     = ["public"]
  nullable    = false

  validation {
    condition     = length(var.parity_schemas) > 0
    error_message = "Valid values for parity_schemas are non-empty lists of schema names, such as [\"public\"]."
  }
}

variable "parity_exceptions" {
  description = "Tolerated differences between production and staging: `path` (such as `extensions.pgcrypto`), `reason` and `expires` (a date)."
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

variable "app_config" {
  description = "The application's other staging settings (environment variables), checked by the isolation check together with the `DATABASE_URL` the module builds; values are write-only in the check."
  type        = map(string)
  default     = {}
  nullable    = false
}

variable "production_hosts" {
  description = "Production hosts staging's configuration must not name: names, addresses, `*.domain`, optionally with `:port`. The production connection's host is always included."
  type        = list(string)
  default     = []
  nullable    = false
}

variable "production_cidrs" {
  description = "Production networks staging's configuration must not point into, such as `10.20.0.0/16`."
  type        = list(string)
  default     = []
  nullable    = false

  validation {
    condition     = alltrue([for c in var.production_cidrs : can(cidrhost(c, 0)) || can(cidrhost("${c}/32", 0))])
    error_message = "Valid values for production_cidrs are CIDR blocks such as \"10.20.0.0/16\" or single addresses."
  }
}

variable "production_secret_fingerprints" {
  description = "Fingerprints production publishes of its secrets (`provider::staging::secret_fingerprint`), name to fingerprint: no staging setting may equal one."
  type        = map(string)
  default     = {}
  nullable    = false
}

variable "probe_production" {
  description = "Whether the isolation check tries to log in to production with the application role's credentials (it passes only when production refuses)."
  type        = bool
  default     = true
  nullable    = false
}
