# Who changed the environment, and how.
data "staging_audit_events" "feature" {
  object_type = "environment"
  object      = "pay-feature-x"
  limit       = 20
}

output "history" {
  value = [for e in data.staging_audit_events.feature.events : "${e.time} ${e.actor} ${e.action}"]
}
