output "staging_inputs" {
  description = "The inputs for staging's modules: the same shape as `production_inputs`, scaled by `scaling_rules`."
  value       = local.scaled.values
}

output "changes" {
  description = "Every input that differs from production, as `{ path, production, staging, rule }` with the values rendered as text."
  value       = local.scaled.changes
}

output "shrunk" {
  description = "One line per changed input, `path: production -> staging (rule)`, for a plan or a report."
  value       = [for c in local.scaled.changes : "${c.path}: ${c.production} -> ${c.staging} (${c.rule})"]
}

output "parity_report" {
  description = "The parity check's report as JSON: `score`, `checked`, `passed`, `violations` and `excepted`."
  value       = staging_parity_check.inputs.report
}

output "parity_score" {
  description = "The share of parity checks that passed, from 0 to 1."
  value       = staging_parity_check.inputs.score
}
