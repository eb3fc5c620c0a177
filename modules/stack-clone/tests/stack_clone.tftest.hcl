# Plan-time logic of stack-clone with the provider built from this checkout:
# the example's application module renders the same deployment for
# production and staging except where a scaling rule allows, and the
# validations name the valid values.

run "example_renders_the_same_app_scaled_down" {
  command = plan

  module {
    source = "./examples/app"
  }

  assert {
    condition     = yamldecode(output.staging_manifest).spec.template.spec.containers[0].image == yamldecode(output.production_manifest).spec.template.spec.containers[0].image
    error_message = "Staging runs production's image."
  }
  assert {
    condition     = yamldecode(output.staging_manifest).spec.replicas == 2 && yamldecode(output.production_manifest).spec.replicas == 6
    error_message = "replicas = { ratio = 0.25, min = 1 } turns 6 into 2."
  }
  assert {
    condition     = strcontains(output.staging_env_file, "DB_ENGINE=postgres 15.4\n") && strcontains(output.staging_env_file, "FEATURE_NEW_CHECKOUT=true\n") && strcontains(output.staging_env_file, "APP_ENV=staging\n")
    error_message = "The engine, its version and the feature flags are production's."
  }
  assert {
    condition     = strcontains(output.staging_env_file, "DB_INSTANCE=db.r6g.large\n") && strcontains(output.staging_env_file, "PUBLIC_URL=https://shop.staging.example.com\n")
    error_message = "The instance class steps down two sizes and the hostname is staging's."
  }
  assert {
    condition     = length(output.shrunk) == 7 && contains(output.shrunk, "replicas: 6 -> 2 (ratio 0.25, min 1)")
    error_message = "Every changed input is listed with its rule."
  }
  assert {
    condition     = yamldecode(output.staging_manifest).metadata.labels.environment == "staging"
    error_message = "The application module was called with environment = staging."
  }
}

run "inputs_without_rules_are_kept" {
  command = plan

  variables {
    production_inputs = { replicas = 3, image = "app:1.0.0" }
  }

  assert {
    condition     = output.staging_inputs == { replicas = 3, image = "app:1.0.0" } && length(output.changes) == 0
    error_message = "Without scaling rules staging's inputs are production's."
  }
}

run "preset_must_be_known" {
  command = plan
  variables {
    production_inputs = { replicas = 3 }
    parity_preset     = "strict"
  }
  expect_failures = [var.parity_preset]
}

run "match_must_be_known" {
  command = plan
  variables {
    production_inputs = { replicas = 3 }
    parity_rules      = [{ path = "replicas", match = "similar" }]
  }
  expect_failures = [var.parity_rules]
}

run "inputs_must_be_an_object" {
  command = plan
  variables {
    production_inputs = "replicas=3"
  }
  expect_failures = [var.production_inputs]
}
