variable "registry_dsn" {
  description = "The shared registry (postgres://…); null for STAGING_REGISTRY or the embedded file."
  type        = string
  default     = null
  sensitive   = true
  ephemeral   = true
}

variable "prod_dsn" {
  description = "Production, through a read-only login."
  type        = string
  sensitive   = true
  ephemeral   = true
}

variable "staging_dsn" {
  description = "The staging database the masked copy replaces."
  type        = string
  sensitive   = true
  ephemeral   = true
}

variable "masking_key" {
  description = "The environment's masking key."
  type        = string
  sensitive   = true
  ephemeral   = true
}

variable "credential_root_secret" {
  description = "The root secret staging credentials are derived from."
  type        = string
  sensitive   = true
  ephemeral   = true
}

variable "staging_host" {
  description = "The staging database's host as the application reaches it."
  type        = string
  default     = "127.0.0.1"
}

variable "staging_port" {
  description = "The staging database's port."
  type        = number
  default     = 5432
}

variable "owner" {
  description = "Who is responsible for the environment."
  type        = string
  default     = "alice@example.com"
}
