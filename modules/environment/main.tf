# A staging environment in the registry: its team (unless managed elsewhere),
# the environment with its owner, production and TTL, and an optional lease.
# Every other module of this library takes this module's `environment` output.

resource "staging_team" "this" {
  count = var.create_team ? 1 : 0

  name             = var.team
  max_environments = var.team_max_environments
  max_ttl          = var.team_max_ttl
  owners           = length(var.team_owners) > 0 ? var.team_owners : null
}

resource "staging_environment" "this" {
  name       = var.name
  team       = var.create_team ? staging_team.this[0].name : var.team
  owner      = var.owner
  production = var.production
  ttl        = var.ttl
  labels     = length(var.labels) > 0 ? var.labels : null
}

resource "staging_lease" "this" {
  count = var.lease == null ? 0 : 1

  environment = staging_environment.this.name
  duration    = var.lease.duration
  reason      = var.lease.reason
}
