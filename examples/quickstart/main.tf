# The quick start: a team, two environments and a lease, in the embedded
# registry. `make demo` applies it with a locally built provider.
terraform {
  required_version = ">= 1.11"
  required_providers {
    staging = {
      source  = "stagingkit/staging"
      version = ">= 0.1.0, < 1.0.0"
    }
  }
}

provider "staging" {}

resource "staging_team" "payments" {
  name             = "payments"
  max_environments = 3
  default_ttl      = "72h"
  max_ttl          = "14d"
  owners           = ["alice@example.com"]
}

resource "staging_environment" "checkout" {
  name       = "pay-checkout-v2"
  team       = staging_team.payments.name
  owner      = "alice@example.com"
  production = "prod-eu"
  ttl        = "48h"
  labels     = { feature = "checkout-v2" }
}

resource "staging_environment" "qa" {
  name       = "pay-qa-shared"
  team       = staging_team.payments.name
  owner      = "qa@example.com"
  production = "prod-eu"
  labels     = { shared = "true" }
}

resource "staging_lease" "load_test" {
  environment = staging_environment.qa.name
  duration    = "2h"
  reason      = "load test of checkout v2"
}

data "staging_environments" "payments" {
  team       = staging_team.payments.name
  depends_on = [staging_environment.checkout, staging_environment.qa]
}

output "environments" {
  description = "The team's environments as the registry sees them."
  value = join("\n", concat(
    [format("%-18s %-20s %-20s %-22s %s", "NAME", "OWNER", "NAMESPACE", "EXPIRES", "LABELS")],
    [for e in data.staging_environments.payments.environments :
      format("%-18s %-20s %-20s %-22s %s", e.name, e.owner, e.namespace, coalesce(e.expires_at, "never"),
    jsonencode(e.labels))]
  ))
}

output "lease" {
  description = "Who holds the shared environment, and until when."
  value       = "${staging_lease.load_test.environment} is leased by ${staging_lease.load_test.holder} until ${staging_lease.load_test.expires_at} (${staging_lease.load_test.reason})"
}
