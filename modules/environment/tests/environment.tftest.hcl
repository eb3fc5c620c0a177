# Plan-time logic of the environment module, against the provider built
# from this checkout (make test runs it with dev_overrides and a registry
# file of its own in STAGING_REGISTRY).

variables {
  name       = "pay-feature-x"
  team       = "payments"
  production = "prod-eu"
}

run "team_environment_and_no_lease" {
  command = plan

  assert {
    condition     = length(staging_team.this) == 1 && staging_team.this[0].name == "payments"
    error_message = "create_team defaults to true: the module registers the team."
  }
  assert {
    condition     = staging_environment.this.ttl == "72h" && staging_environment.this.production == "prod-eu"
    error_message = "The environment takes ttl (default 72h) and production from the inputs."
  }
  assert {
    condition     = startswith(output.namespace, "pay-feature-x-") && output.environment.namespace == output.namespace
    error_message = "The namespace is known at plan time and derived from the name."
  }
  assert {
    condition     = length(staging_lease.this) == 0 && output.lease == null
    error_message = "No lease without var.lease."
  }
}

run "existing_team_and_a_lease" {
  command = plan

  variables {
    create_team = false
    lease       = { duration = "4h", reason = "load test" }
    labels      = { pr = "1234" }
  }

  assert {
    condition     = length(staging_team.this) == 0 && staging_environment.this.team == "payments"
    error_message = "With create_team = false the environment refers to the team by name."
  }
  assert {
    condition     = length(staging_lease.this) == 1 && staging_lease.this[0].duration == "4h" && staging_lease.this[0].environment == "pay-feature-x"
    error_message = "A lease claims the environment for its duration."
  }
  assert {
    condition     = staging_environment.this.labels["pr"] == "1234"
    error_message = "Labels reach the environment."
  }
}

run "name_must_be_a_dns_label" {
  command = plan
  variables {
    name = "Pay_Feature"
  }
  expect_failures = [var.name]
}

run "ttl_must_be_a_duration" {
  command = plan
  variables {
    ttl = "three days"
  }
  expect_failures = [var.ttl]
}

run "lease_needs_a_reason" {
  command = plan
  variables {
    lease = { duration = "4h", reason = " " }
  }
  expect_failures = [var.lease]
}

run "lease_duration_must_be_a_duration" {
  command = plan
  variables {
    lease = { duration = "soon", reason = "x" }
  }
  expect_failures = [var.lease]
}

run "quota_must_be_positive" {
  command = plan
  variables {
    team_max_environments = 0
  }
  expect_failures = [var.team_max_environments]
}
