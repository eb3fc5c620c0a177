# One application module, called twice: with production's inputs and with
# the staging inputs stack-clone derives from them. The rendered manifests
# differ only where a scaling rule allows: the same image, versions, engine
# and features run in staging, on fewer and smaller machines.
terraform {
  required_version = ">= 1.11"
  required_providers {
    staging = {
      source  = "stagingkit/staging"
      version = ">= 0.1.0, < 1.0.0"
    }
  }
}

locals {
  production = {
    replicas = 6
    image    = "ghcr.io/acme/shop:2.14.1"
    cpu      = "2000m"
    memory   = "4Gi"
    hostname = "shop.example.com"
    features = { new_checkout = true, recommendations = true }
    database = {
      engine         = "postgres"
      version        = "15.4"
      instance_class = "db.r6g.2xlarge"
      storage_gb     = 500
      multi_az       = true
    }
  }
}

module "stack" {
  source = "../.."

  production_inputs = local.production
  scaling_rules = {
    replicas                  = { ratio = 0.25, min = 1 }
    cpu                       = { quantity = 0.25, min = "250m" }
    memory                    = { quantity = 0.5 }
    hostname                  = { set = "shop.staging.example.com" }
    "database.instance_class" = { ladder = 2 }
    "database.storage_gb"     = { ratio = 0.1, min = 20 }
    "database.multi_az"       = { set = false }
    image                     = { keep = true }
  }
  parity_rules = [
    { path = "features", match = "exact" },
    { path = "hostname", match = "ignore" },
    { path = "database.multi_az", match = "ignore" },
    { path = "cpu", match = "ignore" },
    { path = "memory", match = "ignore" },
  ]
}

module "production" {
  source = "./app"

  name        = "shop"
  environment = "production"
  inputs      = local.production
}

module "staging" {
  source = "./app"

  name        = "shop"
  environment = "staging"
  inputs      = module.stack.staging_inputs
}
