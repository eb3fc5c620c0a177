output "production_manifest" {
  description = "What production deploys."
  value       = module.production.manifest
}

output "staging_manifest" {
  description = "What staging deploys: the same image and configuration, scaled down."
  value       = module.staging.manifest
}

output "staging_env_file" {
  description = "Staging's environment file."
  value       = module.staging.env_file
}

output "shrunk" {
  description = "What was shrunk, and by which rule."
  value       = module.stack.shrunk
}

output "parity_report" {
  description = "The parity check's report."
  value       = module.stack.parity_report
}
