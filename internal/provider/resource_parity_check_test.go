package provider

import (
	"context"
	"encoding/json"
	"fmt"
	"path/filepath"
	"regexp"
	"strings"
	"testing"
	"time"

	"github.com/hashicorp/terraform-plugin-testing/helper/resource"
	"github.com/hashicorp/terraform-plugin-testing/knownvalue"
	"github.com/hashicorp/terraform-plugin-testing/plancheck"
	"github.com/hashicorp/terraform-plugin-testing/statecheck"
	"github.com/hashicorp/terraform-plugin-testing/terraform"
	"github.com/hashicorp/terraform-plugin-testing/tfjsonpath"

	"github.com/stagingkit/terraform-provider-staging/internal/registry"
)

const parityAddr = "staging_parity_check.c"

// parityCheckConfig is a provider block on a fresh embedded registry and a
// staging_parity_check with the given body.
func parityCheckConfig(t *testing.T, body string) string {
	return providerConfig(filepath.Join(t.TempDir(), "registry.db")) + `
resource "staging_parity_check" "c" {
` + body + `
}
`
}

// twelveFactorFacts are production and staging facts that pass the
// twelve-factor preset; stagingAPI is staging's api object.
func twelveFactorFacts(stagingAPI string) string {
	return `
  production = {
    api      = { image = "ghcr.io/acme/api:1.8.2", replicas = 6, instance_type = "m6i.4xlarge" }
    postgres = { engine = "postgres", engine_version = "15.4", instance_class = "db.r6g.2xlarge" }
  }
  staging = {
    api      = ` + stagingAPI + `
    postgres = { engine = "postgres", engine_version = "15.4", instance_class = "db.r6g.large" }
  }
  preset = "twelve-factor"
`
}

func TestAccParityCheck_passing(t *testing.T) {
	clock := newTestClock()
	config := func(stagingAPI string) string {
		return parityCheckConfig(t, twelveFactorFacts(stagingAPI)+`
  rule {
    path      = "api.replicas"
    match     = "scaled"
    max_ratio = 0.5
  }
`)
	}
	resource.Test(t, resource.TestCase{
		ProtoV6ProviderFactories: factories(clock),
		Steps: []resource.TestStep{
			{
				Config: config(`{ image = "ghcr.io/acme/api:1.8.2", replicas = 2, instance_type = "m6i.xlarge" }`),
				ConfigPlanChecks: resource.ConfigPlanChecks{PreApply: []plancheck.PlanCheck{
					// The facts are known, so the report is planned.
					plancheck.ExpectKnownValue(parityAddr, tfjsonpath.New("score"), knownvalue.Float64Exact(1)),
					plancheck.ExpectKnownValue(parityAddr, tfjsonpath.New("violations"), knownvalue.ListExact([]knownvalue.Check{})),
				}},
				ConfigStateChecks: []statecheck.StateCheck{
					statecheck.ExpectKnownValue(parityAddr, tfjsonpath.New("score"), knownvalue.Float64Exact(1)),
					statecheck.ExpectKnownValue(parityAddr, tfjsonpath.New("violations"), knownvalue.ListExact([]knownvalue.Check{})),
					// 6 checks: 5 from the preset, 1 from the rule.
					statecheck.ExpectKnownValue(parityAddr, tfjsonpath.New("report"), knownvalue.StringExact(
						`{"score":1,"checked":6,"passed":6,"violations":[],"excepted":[]}`)),
					statecheck.ExpectKnownValue(parityAddr, tfjsonpath.New("checked_at"), knownvalue.StringExact("2026-11-22T09:00:00Z")),
					statecheck.ExpectKnownValue(parityAddr, tfjsonpath.New("id"), knownvalue.StringRegexp(regexp.MustCompile(`^[0-9a-f]{16}$`))),
				},
			},
			{
				// Nothing changed: nothing to do, even later.
				PreConfig: func() { clock.Advance(time.Hour) },
				Config:    config(`{ image = "ghcr.io/acme/api:1.8.2", replicas = 2, instance_type = "m6i.xlarge" }`),
				ConfigPlanChecks: resource.ConfigPlanChecks{PreApply: []plancheck.PlanCheck{
					plancheck.ExpectEmptyPlan(),
				}},
			},
			{
				// New facts re-run the check in place.
				Config: config(`{ image = "ghcr.io/acme/api:1.8.2", replicas = 3, instance_type = "m6i.2xlarge" }`),
				ConfigPlanChecks: resource.ConfigPlanChecks{PreApply: []plancheck.PlanCheck{
					plancheck.ExpectResourceAction(parityAddr, plancheck.ResourceActionUpdate),
					plancheck.ExpectUnknownValue(parityAddr, tfjsonpath.New("checked_at")),
				}},
				ConfigStateChecks: []statecheck.StateCheck{
					statecheck.ExpectKnownValue(parityAddr, tfjsonpath.New("score"), knownvalue.Float64Exact(1)),
					statecheck.ExpectKnownValue(parityAddr, tfjsonpath.New("checked_at"), knownvalue.StringExact("2026-11-22T10:00:00Z")),
				},
			},
		},
	})
}

// TestAccParityCheck_unknownAtPlan checks at apply what plan could not:
// staging facts from another resource pass, then fail.
func TestAccParityCheck_unknownAtPlan(t *testing.T) {
	config := func(version string) string {
		return parityCheckConfig(t, `
  production = { version = "15.4" }
  staging    = { version = terraform_data.version.output }
  rule {
    path  = "version"
    match = "same_major"
  }
`) + `
resource "terraform_data" "version" {
  input = "` + version + `"
}
`
	}
	resource.Test(t, resource.TestCase{
		ProtoV6ProviderFactories: factories(newTestClock()),
		Steps: []resource.TestStep{
			{
				Config: config("15.8"),
				ConfigPlanChecks: resource.ConfigPlanChecks{PreApply: []plancheck.PlanCheck{
					plancheck.ExpectUnknownValue(parityAddr, tfjsonpath.New("report")),
				}},
				ConfigStateChecks: []statecheck.StateCheck{
					statecheck.ExpectKnownValue(parityAddr, tfjsonpath.New("score"), knownvalue.Float64Exact(1)),
				},
			},
			{
				Config:      config("16.1"),
				ExpectError: regexp.MustCompile(`(?s)Staging\s+Parity\s+Violation.*version:\s+staging\s+"16\.1"\s+is\s+not\s+the\s+same\s+major\s+version`),
			},
		},
	})
}

// TestAccParityCheck_violations fails the plan once per kind of rule,
// naming the path, both values and the rule.
func TestAccParityCheck_violations(t *testing.T) {
	rule := func(production, staging, rule string) string {
		return parityCheckConfig(t, "  production = "+production+"\n  staging = "+staging+"\n  rule {\n"+rule+"\n  }\n")
	}
	resource.Test(t, resource.TestCase{
		ProtoV6ProviderFactories: factories(newTestClock()),
		Steps: []resource.TestStep{
			{
				Config: rule(`{ image = "ghcr.io/acme/api:1.8.2" }`, `{ image = "ghcr.io/acme/api:1.8.3" }`, `path = "image"
match = "exact"`),
				ExpectError: regexp.MustCompile(`(?s)Staging\s+Parity\s+Violation.*image:\s+staging\s+"ghcr.io/acme/api:1.8.3"\s+differs\s+from\s+production\s+"ghcr.io/acme/api:1.8.2"\s+\(rule\s+exact\).*Rule:\s+exact.*exception\s+\{`),
			},
			{
				Config: rule(`{ version = "1.8.2" }`, `{ version = "2.0.0" }`, `path = "version"
match = "same_major"`),
				ExpectError: regexp.MustCompile(`(?s)Staging\s+Parity\s+Violation.*version:\s+staging\s+"2\.0\.0"\s+is\s+not\s+the\s+same\s+major\s+version\s+as\s+production\s+"1\.8\.2"\s+\(rule\s+same_major\)`),
			},
			{
				Config: rule(`{ postgres = { version = "15.4" } }`, `{ postgres = { version = "16.1" } }`, `path = "postgres.version"
match = "same_minor"`),
				ExpectError: regexp.MustCompile(`(?s)Staging\s+Parity\s+Violation.*postgres\.version:\s+staging\s+"16\.1"\s+is\s+not\s+the\s+same\s+major\s+version\s+as\s+production\s+"15\.4"\s+\(rule\s+same_minor\)`),
			},
			{
				Config: rule(`{ instance_type = "m6i.large" }`, `{ instance_type = "r6g.large" }`, `path = "instance_type"
match = "same_family"`),
				ExpectError: regexp.MustCompile(`(?s)Staging\s+Parity\s+Violation.*instance_type:\s+staging\s+"r6g\.large"\s+is\s+in\s+family\s+r6g\s+but\s+production\s+"m6i\.large"\s+is\s+in\s+family\s+m6i`),
			},
			{
				Config: rule(`{ replicas = 3 }`, `{ replicas = 5 }`, `path = "replicas"
match = "scaled"`),
				ExpectError: regexp.MustCompile(`(?s)Staging\s+Parity\s+Violation.*replicas:\s+staging\s+5\s+is\s+1\.667\s+times\s+production\s+3`),
			},
			{
				// Deployed to staging 30 days before the test clock.
				Config: rule(`{ release = { version = "2.3.0" } }`, `{ release = { version = "2.4.0", deployed_at = "2026-10-23T09:00:00Z" } }`, `path = "release.version"
match = "max_lag"
max_lag = "14d"`),
				ExpectError: regexp.MustCompile(`(?s)Staging\s+Parity\s+Violation.*release\.version:\s+release\s+2\.4\.0\s+has\s+been\s+in\s+staging\s+for\s+30\s+days\s+without\s+reaching\s+production`),
			},
			{
				// The twelve-factor preset catches an image nobody wrote a
				// rule for.
				Config:      parityCheckConfig(t, twelveFactorFacts(`{ image = "ghcr.io/acme/api:1.9.0", replicas = 2, instance_type = "m6i.xlarge" }`)),
				ExpectError: regexp.MustCompile(`(?s)Staging\s+Parity\s+Violation.*api\.image:.*\(rule\s+exact\s+\(twelve-factor\s+preset\)\)`),
			},
		},
	})
}

// TestAccParityCheck_exception tolerates a violation until the exception
// expires, then fails the plan again, saying so.
func TestAccParityCheck_exception(t *testing.T) {
	clock := newTestClock()
	config := parityCheckConfig(t, `
  production = { postgres = { version = "15.4" }, api = { image = "api:1.8.2", region = "eu-west-1" } }
  staging    = { postgres = { version = "16.1" }, api = { image = "api:1.8.2", region = "eu-west-1" } }
  rule {
    path  = "postgres.version"
    match = "same_minor"
  }
  rule {
    path  = "api"
    match = "exact"
  }
  exception {
    path    = "postgres"
    reason  = "trying PostgreSQL 16 before production"
    expires = "2026-12-01"
  }
`)
	resource.Test(t, resource.TestCase{
		ProtoV6ProviderFactories: factories(clock),
		Steps: []resource.TestStep{
			{
				Config: config,
				ConfigStateChecks: []statecheck.StateCheck{
					statecheck.ExpectKnownValue(parityAddr, tfjsonpath.New("violations"), knownvalue.ListExact([]knownvalue.Check{})),
					// The excepted check counts as failed. A score of 2/3 also
					// proves that the next plan is empty despite rounding.
					statecheck.ExpectKnownValue(parityAddr, tfjsonpath.New("score"), knownvalue.Float64Exact(2.0/3)),
					statecheck.ExpectKnownValue(parityAddr, tfjsonpath.New("report"), knownvalue.StringRegexp(regexp.MustCompile(
						`"excepted":\[\{"path":"postgres.version","exception":"postgres","reason":"trying PostgreSQL 16 before production","expires":"2026-12-01T00:00:00Z"`))),
				},
			},
			{
				PreConfig:   func() { clock.Advance(10 * 24 * time.Hour) },
				Config:      config,
				ExpectError: regexp.MustCompile(`(?s)Staging\s+Parity\s+Violation.*postgres\.version:.*the\s+exception\s+"postgres"\s+\(trying\s+PostgreSQL\s+16\s+before\s+production\)\s+expired\s+on\s+2026-12-01.*move\s+the\s+exception's\s+expires`),
			},
		},
	})
}

// hclBlock renders a block with one attribute per line.
func hclBlock(name string, attrs ...string) string {
	return "  " + name + " {\n    " + strings.Join(attrs, "\n    ") + "\n  }\n"
}

// TestAccParityCheck_badRules fails on each class of bad rule or
// exception, pointing at the attribute.
func TestAccParityCheck_badRules(t *testing.T) {
	config := func(blocks string) string {
		return parityCheckConfig(t, `
  production = { api = { replicas = 6, version = "1.8.2" } }
  staging    = { api = { replicas = 2, version = "1.8.2" } }
`+blocks)
	}
	resource.Test(t, resource.TestCase{
		ProtoV6ProviderFactories: factories(newTestClock()),
		Steps: []resource.TestStep{
			{
				Config:      config(hclBlock("rule", `path = "api.version"`, `match = "same_patch"`)),
				ExpectError: regexp.MustCompile(`(?s)rule\[0\]\.match\s+value\s+must\s+be\s+one\s+of`),
			},
			{
				Config:      config(hclBlock("rule", `path = "api.replicas"`, `match = "scaled"`, `min_ratio = 0.5`, `max_ratio = 0.1`)),
				ExpectError: regexp.MustCompile(`(?s)Invalid\s+Staging\s+Parity\s+Rule.*min_ratio\s+0\.5\s+is\s+greater\s+than\s+max_ratio\s+0\.1`),
			},
			{
				Config:      config(hclBlock("rule", `path = "api.replica"`, `match = "scaled"`)),
				ExpectError: regexp.MustCompile(`(?s)Invalid\s+Staging\s+Parity\s+Rule.*"api\.replica".*matches\s+nothing\s+in\s+production\s+or\s+staging`),
			},
			{
				Config:      config(hclBlock("rule", `path = "api.version"`, `match = "max_lag"`, `max_lag = "two weeks"`)),
				ExpectError: regexp.MustCompile(`(?s)Invalid\s+Duration.*rule\[0\]\.max_lag\s+value\s+"two\s+weeks"`),
			},
			{
				Config:      config(hclBlock("rule", `path = "api.version"`, `match = "max_lag"`)),
				ExpectError: regexp.MustCompile(`(?s)Invalid\s+Staging\s+Parity\s+Rule.*max_lag\s+needs\s+a\s+positive\s+duration`),
			},
			{
				Config:      config(hclBlock("rule", `path = "api.version"`, `match = "exact"`, `max_ratio = 1`)),
				ExpectError: regexp.MustCompile(`(?s)Invalid\s+Staging\s+Parity\s+Rule.*apply\s+only\s+to\s+scaled`),
			},
			{
				Config:      config(hclBlock("exception", `path = "api.version"`, `reason = "x"`, `expires = "31/12/2026"`)),
				ExpectError: regexp.MustCompile(`(?s)Invalid\s+Date.*exception\[0\]\.expires\s+value\s+"31/12/2026"`),
			},
			{
				Config:      config(hclBlock("exception", `path = "api.size"`, `reason = "x"`, `expires = "2026-12-31"`)),
				ExpectError: regexp.MustCompile(`(?s)Invalid\s+Staging\s+Parity\s+Exception.*"api\.size".*matches\s+nothing`),
			},
			{
				Config:      config(`preset = "six-factor"`),
				ExpectError: regexp.MustCompile(`(?s)preset\s+value\s+must\s+be\s+one\s+of`),
			},
		},
	})
}

// TestAccParityCheck_unknownEnvironment fails the apply, on the
// environment attribute, when the linked environment does not exist.
func TestAccParityCheck_unknownEnvironment(t *testing.T) {
	resource.Test(t, resource.TestCase{
		ProtoV6ProviderFactories: factories(newTestClock()),
		Steps: []resource.TestStep{{
			Config: parityCheckConfig(t, `
  environment = "pay-missing"
  production  = { version = "15.4" }
  staging     = { version = "15.4" }
  rule {
    path  = "version"
    match = "exact"
  }
`),
			ExpectError: regexp.MustCompile(`(?s)Staging\s+Environment\s+Not\s+Found.*"pay-missing",\s+which\s+is\s+not\s+in\s+the\s+registry`),
		}},
	})
}

// TestAccParityCheck_environment writes each apply's report to the
// registry's audit log of the linked environment.
func TestAccParityCheck_environment(t *testing.T) {
	eachBackend(t, func(t *testing.T, b testBackend) {
		clock := newTestClock()
		config := func(replicas int) string {
			return providerConfig(b.location) + fmt.Sprintf(`
resource "staging_team" "pay" {
  name = "pay"
}

resource "staging_environment" "e" {
  name = "pay-parity"
  team = staging_team.pay.name
}

resource "staging_parity_check" "c" {
  environment = staging_environment.e.name
  production  = { api = { image = "api:1.8.2", replicas = 6 } }
  staging     = { api = { image = "api:1.8.2", replicas = %d } }
  preset      = "twelve-factor"
}
`, replicas)
		}
		resource.Test(t, resource.TestCase{
			ProtoV6ProviderFactories: factories(clock),
			Steps: []resource.TestStep{
				{
					Config: config(2),
					Check:  checkParityEvents(t, b, clock, 1),
				},
				{
					Config: config(3),
					ConfigPlanChecks: resource.ConfigPlanChecks{PreApply: []plancheck.PlanCheck{
						plancheck.ExpectResourceAction(parityAddr, plancheck.ResourceActionUpdate),
					}},
					Check: checkParityEvents(t, b, clock, 2),
				},
			},
		})
	})
}

// checkParityEvents asserts that the registry holds want parity_check
// events for the environment, the newest with the state's report.
func checkParityEvents(t *testing.T, b testBackend, clock *testClock, want int) resource.TestCheckFunc {
	return func(s *terraform.State) error {
		events, err := openRegistry(t, b, clock).Events(context.Background(), registry.EventFilter{ObjectType: "parity_check"})
		if err != nil {
			return err
		}
		if len(events) != want {
			return fmt.Errorf("got %d parity_check events, want %d: %+v", len(events), want, events)
		}
		e := events[0]
		report := s.RootModule().Resources[parityAddr].Primary.Attributes["report"]
		if e.Action != "check" || e.Object != "pay-parity" || e.Actor != "tester" || e.After != report {
			return fmt.Errorf("unexpected event %+v for report %s", e, report)
		}
		var r struct {
			Score   float64 `json:"score"`
			Checked int     `json:"checked"`
		}
		if err := json.Unmarshal([]byte(e.After), &r); err != nil || r.Score != 1 || r.Checked != 2 {
			return fmt.Errorf("event report %s: %+v, %w", e.After, r, err)
		}
		if !strings.Contains(e.After, `"score"`) {
			return fmt.Errorf("event report without score: %s", e.After)
		}
		return nil
	}
}
