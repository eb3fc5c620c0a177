# A stand-in for a team's application module: it takes the same inputs in
# production and in staging and renders what it would deploy, a Kubernetes
# Deployment and an environment file, as outputs.
terraform {
  required_version = ">= 1.11"
}

variable "name" {
  description = "The application's name."
  type        = string
  nullable    = false
}

variable "environment" {
  description = "Where it runs: production or staging."
  type        = string
  nullable    = false

  validation {
    condition     = contains(["production", "staging"], var.environment)
    error_message = "Valid values for environment are \"production\" and \"staging\"."
  }
}

variable "inputs" {
  description = "The application's inputs: replicas, image, cpu, memory, hostname, features, database { engine, version, instance_class, storage_gb }."
  type = object({
    replicas = number
    image    = string
    cpu      = string
    memory   = string
    hostname = string
    features = map(bool)
    database = object({
      engine         = string
      version        = string
      instance_class = string
      storage_gb     = number
      multi_az       = bool
    })
  })
  nullable = false
}

locals {
  env = merge(
    {
      APP_ENV     = var.environment
      PUBLIC_URL  = "https://${var.inputs.hostname}"
      DB_ENGINE   = "${var.inputs.database.engine} ${var.inputs.database.version}"
      DB_INSTANCE = var.inputs.database.instance_class
    },
    { for k, v in var.inputs.features : "FEATURE_${upper(k)}" => tostring(v) },
  )
}

output "manifest" {
  description = "The Kubernetes Deployment it would apply, as YAML."
  value = yamlencode({
    apiVersion = "apps/v1"
    kind       = "Deployment"
    metadata   = { name = var.name, labels = { app = var.name, environment = var.environment } }
    spec = {
      replicas = var.inputs.replicas
      selector = { matchLabels = { app = var.name } }
      template = {
        metadata = { labels = { app = var.name } }
        spec = {
          containers = [{
            name      = var.name
            image     = var.inputs.image
            resources = { requests = { cpu = var.inputs.cpu, memory = var.inputs.memory } }
            env       = [for k in sort(keys(local.env)) : { name = k, value = local.env[k] }]
          }]
        }
      }
    }
  })
}

output "env_file" {
  description = "The environment file it would write."
  value       = join("", [for k in sort(keys(local.env)) : "${k}=${local.env[k]}\n"])
}

output "image" {
  description = "The image it runs."
  value       = var.inputs.image
}
