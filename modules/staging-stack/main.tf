# One staging environment with everything in it: the registry entry, the
# masked copy of production's database with the application's login, the
# application's inputs scaled from production's, and its staging
# configuration checked by the isolation check.

module "environment" {
  source = "../environment"

  name        = var.name
  team        = var.team
  create_team = var.create_team
  owner       = var.owner
  production  = var.production
  ttl         = var.ttl
  lease       = var.lease
}

module "database" {
  source = "../postgres-staging"

  environment              = module.environment.environment
  production_connection    = var.database.production_connection
  staging_connection       = var.database.staging_connection
  staging_host             = var.database.staging_host
  staging_port             = var.database.staging_port
  masking_key              = var.masking_key
  rules                    = var.database.rules
  rules_from_scan          = var.database.rules_from_scan
  subsets                  = var.database.subsets
  null_dangling_references = var.database.null_dangling_references
  app_role                 = var.database.app_role
  production_hosts         = var.production_hosts
  production_cidrs         = var.production_cidrs

  # The isolation check sees the application's whole staging configuration,
  # DATABASE_URL (with the password) included.
  app_config = local.app_config_checked
}

module "app" {
  source = "../stack-clone"

  environment       = module.environment.name
  production_inputs = var.production_inputs
  scaling_rules     = var.scaling_rules
  parity_rules      = var.parity_rules
}

locals {
  app_config_checked = merge(var.app_config, var.side_effects_off, { APP_ENV = "staging" })
}
