output "environment" {
  description = "The environment."
  value       = { name = staging_environment.shop.name, namespace = staging_environment.shop.namespace, expires_at = staging_environment.shop.expires_at }
}

output "connection" {
  description = "How the application connects, without the password."
  value       = module.database.connection
}

output "database_url" {
  description = "The application's connection URL without its password."
  value       = module.database.database_url
}

output "role_name" {
  description = "The application's login."
  value       = module.database.role_name
}

output "rows" {
  description = "Rows per table in staging."
  value       = module.database.rows
}

output "parity_report" {
  description = "The parity report (JSON)."
  value       = module.database.parity_report
}

output "isolation_findings" {
  description = "The isolation findings (none)."
  value       = module.database.isolation_findings
}

output "isolation_report" {
  description = "The isolation report (JSON), with the live probe's outcome."
  value       = module.database.isolation_report
}

output "rules" {
  description = "The masking rules applied, given and suggested."
  value       = module.database.rules
}
