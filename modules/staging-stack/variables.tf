variable "name" {
  description = "The staging environment's name, a DNS label such as `shop-staging`."
  type        = string
  nullable    = false

  validation {
    condition     = can(regex("^[a-z]([a-z0-9-]{0,61}[a-z0-9])?$", var.name))
    error_message = "Valid values for name are DNS labels: 1 to 63 lowercase letters, digits and hyphens, starting with a letter and not ending with a hyphen, such as \"shop-staging\"."
  }
}

variable "team" {
  description = "The team that owns the environment; registered by this module unless `create_team` is false."
  type        = string
  nullable    = false

  validation {
    condition     = can(regex("^[a-z]([a-z0-9-]{0,61}[a-z0-9])?$", var.team))
    error_message = "Valid values for team are DNS labels: lowercase letters, digits and hyphens, starting with a letter, such as \"shop\"."
  }
}

variable "create_team" {
  description = "Whether to register `team` here (false when it is managed elsewhere)."
  type        = bool
  default     = true
  nullable    = false
}

variable "owner" {
  description = "The person responsible for the environment; null for the provider's `actor`."
  type        = string
  default     = null
}

variable "production" {
  description = "The production environment this one mirrors, such as `prod-eu`."
  type        = string
  nullable    = false
}

variable "ttl" {
  description = "The environment's lifetime, such as `72h` or `7d`."
  type        = string
  default     = "72h"
  nullable    = false

  validation {
    condition     = can(regex("^([0-9]+[dw]|([0-9]+(\\.[0-9]+)?(h|m|s))+)$", var.ttl))
    error_message = "Valid values for ttl are durations: whole days or weeks such as \"7d\" or \"2w\", or hours, minutes and seconds such as \"72h\"."
  }
}

variable "lease" {
  description = "An exclusive claim on the environment: `duration` and `reason`; null for none."
  type = object({
    duration = string
    reason   = string
  })
  default = null
}

variable "database" {
  description = "The production database copied into staging: `staging_host` and `staging_port` (as the application reaches staging), `rules`, `rules_from_scan`, `subsets`, `null_dangling_references`, `app_role`, and the provider connection names (see the postgres-staging module)."
  type = object({
    staging_host             = string
    staging_port             = optional(number, 5432)
    production_connection    = optional(string, "prod")
    staging_connection       = optional(string, "staging")
    rules                    = optional(list(object({ table = string, column = string, transformer = string, domain = optional(string), options = optional(map(string)), on_invalid = optional(string) })), [])
    rules_from_scan          = optional(bool, false)
    subsets                  = optional(list(object({ table = string, percent = optional(number), where = optional(string) })), [])
    null_dangling_references = optional(bool, false)
    app_role                 = optional(object({ name = optional(string, "app"), preset = optional(string, "read_write"), schemas = optional(list(string), ["public"]), connection_limit = optional(number, -1), credential_version = optional(number, 1) }), {})
  })
  nullable = false

  validation {
    condition     = contains(["read_only", "read_write", "owner"], var.database.app_role.preset)
    error_message = "Valid values for database.app_role.preset are \"read_only\", \"read_write\" and \"owner\"."
  }
}

variable "masking_key" {
  description = "The environment's masking key (`openssl rand -hex 32`). Ephemeral: never in plan or state."
  type        = string
  sensitive   = true
  ephemeral   = true
  nullable    = false
}

variable "production_inputs" {
  description = "The inputs the team passes to its production application modules; `app_inputs` is this, scaled for staging by `scaling_rules`."
  type        = any
  default     = {}
  nullable    = false
}

variable "scaling_rules" {
  description = "How each application input shrinks for staging, by path (see the stack-clone module)."
  type        = any
  default     = {}
  nullable    = false
}

variable "parity_rules" {
  description = "How staging's application inputs must relate to production's, by path, besides the `twelve-factor` preset: `match` is `exact`, `same_major`, `same_minor`, `same_family`, `scaled` or `ignore`."
  type = list(object({
    path      = string
    match     = string
    min_ratio = optional(number)
    max_ratio = optional(number)
  }))
  default  = []
  nullable = false
}

variable "app_config" {
  description = "The application's staging settings (environment variables). The module adds `APP_ENV = \"staging\"`, `DATABASE_URL` and the `side_effects_off` settings, and the isolation check inspects all of them."
  type        = map(string)
  default     = {}
  nullable    = false

  validation {
    condition     = !contains(keys(var.app_config), "DATABASE_URL") && try(var.app_config["APP_ENV"], "staging") == "staging"
    error_message = "Valid values for app_config leave DATABASE_URL to the module and set APP_ENV, if at all, to \"staging\"."
  }
}

variable "side_effects_off" {
  description = "Settings that turn live side effects off in staging (payments, mail, webhooks), added to the application's configuration."
  type        = map(string)
  default = {
    LIVE_PAYMENTS      = "false"
    MAIL_TRANSPORT     = "sink"
    OUTBOUND_WEBHOOKS  = "false"
    ANALYTICS_TRACKING = "false"
  }
  nullable = false
}

variable "production_hosts" {
  description = "Production hosts staging's configuration must not name (`*.domain`, names, addresses, optionally `:port`)."
  type        = list(string)
  default     = []
  nullable    = false
}

variable "production_cidrs" {
  description = "Production networks staging's configuration must not point into, such as `10.20.0.0/16`."
  type        = list(string)
  default     = []
  nullable    = false
}
