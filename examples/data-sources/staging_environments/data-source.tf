# Every expired environment of the payments team: the input of a cleanup job.
data "staging_environments" "stale" {
  team         = "payments"
  expired_only = true
}

output "stale_environments" {
  value = [for e in data.staging_environments.stale.environments : "${e.name} (owner ${e.owner}, expired ${e.expires_at})"]
}

# Environments for one pull request, by label.
data "staging_environments" "pr" {
  labels = { pr = "1234" }
}

output "pr_namespaces" {
  value = [for e in data.staging_environments.pr.environments : e.namespace]
}
