output "environment" {
  description = "The environment: name, namespace, team, owner, production, expiry, tags."
  value       = module.staging.environment
}

output "lease" {
  description = "Who holds the environment, why, and until when."
  value       = module.staging.lease
}

output "rows" {
  description = "Rows per table in staging."
  value       = module.staging.rows
}

output "app_config" {
  description = "The application's staging configuration (DATABASE_URL without its password)."
  value       = module.staging.app_config
}

output "app_inputs" {
  description = "The application's staging inputs."
  value       = module.staging.app_inputs
}

output "shrunk" {
  description = "What was shrunk for staging, and why."
  value       = module.staging.shrunk
}

output "database" {
  description = "The staging database: connection without password, role, clone facts."
  value       = module.staging.database
}

output "parity_report" {
  description = "Parity of the database and of the application's inputs."
  value       = module.staging.parity_report
}

output "isolation_findings" {
  description = "What the isolation check found (nothing)."
  value       = module.staging.isolation_findings
}

output "isolation_report" {
  description = "The isolation check's report."
  value       = module.staging.isolation_report
}
