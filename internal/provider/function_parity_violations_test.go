package provider

import (
	"regexp"
	"testing"

	"github.com/hashicorp/terraform-plugin-testing/helper/resource"
	"github.com/hashicorp/terraform-plugin-testing/knownvalue"
	"github.com/hashicorp/terraform-plugin-testing/statecheck"
)

// parityFacts declares production facts and staging facts whose postgres
// version is stagingVersion.
func parityFacts(stagingVersion string) string {
	return `
locals {
  production = {
    postgres = { version = "15.4", instance_class = "db.r6g.2xlarge" }
    api      = { image = "ghcr.io/acme/api:1.8.2", replicas = 6 }
  }
  staging = {
    postgres = { version = "` + stagingVersion + `", instance_class = "db.r6g.large" }
    api      = { image = "ghcr.io/acme/api:1.8.2", replicas = 2 }
  }
}
`
}

// TestParityViolationsFunction_none finds nothing when every rule holds:
// 15.6 is the same major PostgreSQL version as 15.4.
func TestParityViolationsFunction_none(t *testing.T) {
	functionTest(t, resource.TestStep{
		Config: parityFacts("15.6") + `
output "violations" {
  value = provider::staging::parity_violations(local.production, local.staging, {
    "postgres.version"        = "same_major"
    "postgres.instance_class" = "same_family"
    "api.image"               = "exact"
    "api.replicas"            = { match = "scaled", max_ratio = 0.5 }
  })
}
`,
		ConfigStateChecks: []statecheck.StateCheck{
			statecheck.ExpectKnownOutputValue("violations", knownvalue.ListExact([]knownvalue.Check{})),
		},
	})
}

// TestParityViolationsFunction_versionMismatch reports one violation for a
// major upgrade under same_minor, with rules written as a list.
func TestParityViolationsFunction_versionMismatch(t *testing.T) {
	functionTest(t, resource.TestStep{
		Config: parityFacts("16.1") + `
output "violations" {
  value = provider::staging::parity_violations(local.production, local.staging, [
    { path = "postgres.version", match = "same_minor" },
    { path = "api.*", match = "exact" },
    { path = "api.replicas", match = "scaled" },
  ])
}
`,
		ConfigStateChecks: []statecheck.StateCheck{
			statecheck.ExpectKnownOutputValue("violations", knownvalue.ListExact([]knownvalue.Check{
				knownvalue.ObjectExact(map[string]knownvalue.Check{
					"path":       knownvalue.StringExact("postgres.version"),
					"rule":       knownvalue.StringExact("same_minor"),
					"production": knownvalue.StringExact("15.4"),
					"staging":    knownvalue.StringExact("16.1"),
					"message":    knownvalue.StringRegexp(regexp.MustCompile(`^postgres\.version: staging "16\.1" is not the same major version as production "15\.4" \(rule `)),
				}),
			})),
		},
	})
}

// TestParityViolationsFunction_inCheckBlock uses the function where it is
// meant to be used: a check block that warns about drift.
func TestParityViolationsFunction_inCheckBlock(t *testing.T) {
	functionTest(t, resource.TestStep{
		Config: parityFacts("15.4") + `
check "parity" {
  assert {
    condition     = length(provider::staging::parity_violations(local.production, local.staging, { "postgres.version" = "same_minor" })) == 0
    error_message = "staging drifted from production"
  }
}

output "count" {
  value = length(provider::staging::parity_violations(local.production, local.staging, { "postgres" = "exact" }))
}
`,
		ConfigStateChecks: []statecheck.StateCheck{
			// postgres.instance_class differs under exact.
			statecheck.ExpectKnownOutputValue("count", knownvalue.Int64Exact(1)),
		},
	})
}

func TestParityViolationsFunction_badRules(t *testing.T) {
	call := func(rules string) string {
		return parityFacts("15.4") + `
output "violations" {
  value = provider::staging::parity_violations(local.production, local.staging, ` + rules + `)
}
`
	}
	functionTest(t,
		resource.TestStep{
			Config:      call(`{ "postgres.version" = "same_patch" }`),
			ExpectError: regexp.MustCompile(`(?s)Invalid\s+value\s+for\s+"rules"\s+parameter.*"postgres\.version".*unknown\s+match\s+kind\s+"same_patch"`),
		},
		resource.TestStep{
			Config:      call(`{ "api.replicas" = { match = "scaled", min_ratio = 0.5, max_ratio = 0.1 } }`),
			ExpectError: regexp.MustCompile(`(?s)"rules".*"api\.replicas".*min_ratio\s+0\.5\s+is\s+greater\s+than\s+max_ratio\s+0\.1`),
		},
		resource.TestStep{
			Config:      call(`{ "redis.version" = "same_minor" }`),
			ExpectError: regexp.MustCompile(`(?s)"rules".*"redis\.version".*unknown\s+path`),
		},
		resource.TestStep{
			Config:      call(`{ "release" = { match = "max_lag", max_lag = "two weeks" } }`),
			ExpectError: regexp.MustCompile(`(?s)"rules".*"release".*invalid\s+duration`),
		},
	)
}
