package provider

import (
	"regexp"
	"testing"

	"github.com/hashicorp/terraform-plugin-testing/helper/resource"
	"github.com/hashicorp/terraform-plugin-testing/knownvalue"
	"github.com/hashicorp/terraform-plugin-testing/plancheck"
	"github.com/hashicorp/terraform-plugin-testing/statecheck"
	"github.com/hashicorp/terraform-plugin-testing/tfversion"
)

// functionTest runs a function test case against the in-process provider,
// on Terraform versions that support provider functions.
func functionTest(t *testing.T, steps ...resource.TestStep) {
	t.Helper()
	resource.UnitTest(t, resource.TestCase{
		TerraformVersionChecks:   []tfversion.TerraformVersionCheck{tfversion.SkipBelow(tfversion.Version1_8_0)},
		ProtoV6ProviderFactories: factories(newTestClock()),
		Steps:                    steps,
	})
}

func change(path, production, staging, rule string) knownvalue.Check {
	return knownvalue.ObjectExact(map[string]knownvalue.Check{
		"path":       knownvalue.StringExact(path),
		"production": knownvalue.StringExact(production),
		"staging":    knownvalue.StringExact(staging),
		"rule":       knownvalue.StringExact(rule),
	})
}

// TestScaleFunction_contract pins the call shape documented in issue 5.
func TestScaleFunction_contract(t *testing.T) {
	functionTest(t, resource.TestStep{
		Config: `
output "staging" {
  value = provider::staging::scale(
    { replicas = 6, image = "app:1.2.3", instance_type = "m6i.4xlarge" },
    { replicas = { ratio = 0.25, min = 1 }, instance_type = { ladder = 2 } }
  )
}
`,
		ConfigStateChecks: []statecheck.StateCheck{
			statecheck.ExpectKnownOutputValue("staging", knownvalue.ObjectExact(map[string]knownvalue.Check{
				"values": knownvalue.ObjectExact(map[string]knownvalue.Check{
					"replicas":      knownvalue.Int64Exact(2),
					"image":         knownvalue.StringExact("app:1.2.3"),
					"instance_type": knownvalue.StringExact("m6i.xlarge"),
				}),
				"changes": knownvalue.ListExact([]knownvalue.Check{
					change("instance_type", "m6i.4xlarge", "m6i.xlarge", "ladder 2"),
					change("replicas", "6", "2", "ratio 0.25, min 1"),
				}),
			})),
		},
	})
}

// TestScaleFunction_nested scales every service of a map through a
// wildcard, including a Kubernetes quantity, and keeps what has no rule.
func TestScaleFunction_nested(t *testing.T) {
	functionTest(t, resource.TestStep{
		Config: `
locals {
  production = {
    region = "eu-west-1"
    services = {
      api    = { replicas = 12, cpu = "2000m", memory = "4Gi" }
      worker = { replicas = 3, cpu = "500m", memory = "1Gi" }
    }
  }
  staged = provider::staging::scale(local.production, {
    "services.*.replicas" = { ratio = 0.25, min = 1 }
    "services.*.cpu"      = { quantity = 0.5, min = "250m" }
  })
}

output "values" {
  value = local.staged.values
}

output "changed_paths" {
  value = [for c in local.staged.changes : c.path]
}
`,
		ConfigStateChecks: []statecheck.StateCheck{
			statecheck.ExpectKnownOutputValue("values", knownvalue.ObjectExact(map[string]knownvalue.Check{
				"region": knownvalue.StringExact("eu-west-1"),
				"services": knownvalue.ObjectExact(map[string]knownvalue.Check{
					"api": knownvalue.ObjectExact(map[string]knownvalue.Check{
						"replicas": knownvalue.Int64Exact(3),
						"cpu":      knownvalue.StringExact("1000m"),
						"memory":   knownvalue.StringExact("4Gi"),
					}),
					"worker": knownvalue.ObjectExact(map[string]knownvalue.Check{
						"replicas": knownvalue.Int64Exact(1),
						"cpu":      knownvalue.StringExact("250m"),
						"memory":   knownvalue.StringExact("1Gi"),
					}),
				}),
			})),
			statecheck.ExpectKnownOutputValue("changed_paths", knownvalue.ListExact([]knownvalue.Check{
				knownvalue.StringExact("services.api.cpu"),
				knownvalue.StringExact("services.api.replicas"),
				knownvalue.StringExact("services.worker.cpu"),
				knownvalue.StringExact("services.worker.replicas"),
			})),
		},
	})
}

// TestScaleFunction_unknown returns an unknown result while the inputs are
// unknown, and the scaled values once they are known.
func TestScaleFunction_unknown(t *testing.T) {
	functionTest(t, resource.TestStep{
		Config: `
resource "terraform_data" "replicas" {
  input = 8
}

output "replicas" {
  value = provider::staging::scale({ replicas = terraform_data.replicas.output }, { replicas = { ratio = 0.5 } }).values.replicas
}
`,
		ConfigPlanChecks: resource.ConfigPlanChecks{PreApply: []plancheck.PlanCheck{
			plancheck.ExpectUnknownOutputValue("replicas"),
		}},
		ConfigStateChecks: []statecheck.StateCheck{
			statecheck.ExpectKnownOutputValue("replicas", knownvalue.Int64Exact(4)),
		},
	})
}

// TestScaleFunction_badRules fails on each class of bad rule, naming the
// rules argument, the path and the value.
func TestScaleFunction_badRules(t *testing.T) {
	call := func(production, rules string) string {
		return `
output "staging" {
  value = provider::staging::scale(` + production + `, ` + rules + `)
}
`
	}
	functionTest(t,
		resource.TestStep{
			// A rule whose path matches nothing.
			Config:      call(`{ replicas = 6 }`, `{ replica = { ratio = 0.5 } }`),
			ExpectError: regexp.MustCompile(`(?s)Invalid\s+value\s+for\s+"rules"\s+parameter.*"replica".*unknown\s+path`),
		},
		resource.TestStep{
			// A ratio above 1 without allow_grow.
			Config:      call(`{ replicas = 6 }`, `{ replicas = { ratio = 2 } }`),
			ExpectError: regexp.MustCompile(`(?s)"rules".*"replicas".*allow_grow`),
		},
		resource.TestStep{
			// A size in no ladder.
			Config:      call(`{ instance_type = "m99z.huge" }`, `{ instance_type = { ladder = 1 } }`),
			ExpectError: regexp.MustCompile(`(?s)"rules".*"instance_type".*m99z\.huge.*not\s+in\s+any\s+size\s+ladder`),
		},
		resource.TestStep{
			// An attribute no rule has.
			Config:      call(`{ replicas = 6 }`, `{ replicas = { ratio = 0.5, minimum = 1 } }`),
			ExpectError: regexp.MustCompile(`(?s)"rules".*"replicas".*unknown\s+attribute\s+"minimum"`),
		},
		resource.TestStep{
			// Rules that are not a map.
			Config:      call(`{ replicas = 6 }`, `["replicas"]`),
			ExpectError: regexp.MustCompile(`(?s)"rules".*want\s+a\s+map\s+from\s+path\s+to\s+rule\s+object`),
		},
	)
}
