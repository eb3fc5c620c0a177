# A feature environment of the payments team, leased to the pipeline that
# deploys it. In CI, point `registry_dsn` at the team's PostgreSQL registry:
# the embedded SQLite file lives on the runner's disk and is gone with it.
terraform {
  required_version = ">= 1.11"
  required_providers {
    staging = {
      source  = "stagingkit/staging"
      version = ">= 0.1.0, < 1.0.0"
    }
  }
}

provider "staging" {
  registry = var.registry_dsn
}

module "environment" {
  source = "../.."

  name                  = var.name
  team                  = "payments"
  team_max_environments = 5
  team_max_ttl          = "14d"
  owner                 = "alice@example.com"
  production            = "prod-eu"
  ttl                   = "3d"
  labels                = { pr = "1234" }
  lease = {
    duration = "4h"
    reason   = "end-to-end tests of pull request 1234"
  }
}
