variable "registry_dsn" {
  description = "The shared registry, such as postgres://…; null for the embedded file (or STAGING_REGISTRY)."
  type        = string
  default     = null
  sensitive   = true
  ephemeral   = true
}

variable "name" {
  description = "The environment's name."
  type        = string
  default     = "pay-feature-x"
}
