output "environment" {
  description = "The environment: `name`, `namespace`, `team`, `owner`, `production`, `expires_at` and `tags`."
  value       = module.environment.environment
}

output "lease" {
  description = "The lease, if any: `holder`, `reason` and `expires_at`."
  value       = module.environment.lease
}

output "app_config" {
  description = "The application's staging configuration as checked by the isolation check, with `DATABASE_URL` shown without its password."
  value       = merge(local.app_config_checked, { DATABASE_URL = module.database.database_url })
}

output "app_inputs" {
  description = "The inputs for staging's application modules, scaled from `production_inputs`."
  value       = module.app.staging_inputs
}

output "shrunk" {
  description = "Every application input changed for staging, with its rule."
  value       = module.app.shrunk
}

output "database" {
  description = "The staging database: `connection` (without password), `role_name`, `credential` (what the password is derived from) and `clone` facts."
  value = {
    connection = module.database.connection
    role_name  = module.database.role_name
    credential = module.database.credential
    clone      = module.database.clone
  }
}

output "rows" {
  description = "Rows per `schema.table` in the staging copy."
  value       = module.database.rows
}

output "parity_report" {
  description = "The parity reports as JSON: `database` (schema, version, encoding, extensions) and `app` (application inputs)."
  value = {
    database = module.database.parity_report
    app      = module.app.parity_report
  }
}

output "isolation_findings" {
  description = "The isolation check's findings (only inconclusive ones can be here; others fail the plan)."
  value       = module.database.isolation_findings
}

output "isolation_report" {
  description = "The isolation check's report as JSON, with the live probe's outcome."
  value       = module.database.isolation_report
}
