output "environment" {
  description = "The environment, as the other modules take it."
  value       = module.environment.environment
}

output "lease" {
  description = "Who holds the environment, and until when."
  value       = module.environment.lease
}
