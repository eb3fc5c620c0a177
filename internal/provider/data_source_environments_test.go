package provider

import (
	"context"
	"regexp"
	"testing"
	"time"

	"github.com/hashicorp/terraform-plugin-testing/helper/resource"
	"github.com/hashicorp/terraform-plugin-testing/knownvalue"
	"github.com/hashicorp/terraform-plugin-testing/statecheck"
	"github.com/hashicorp/terraform-plugin-testing/tfjsonpath"

	"github.com/stagingkit/terraform-provider-staging/internal/registry"
)

// seedEnvironments registers environments directly in the registry, as other
// teams' applies would.
func seedEnvironments(t *testing.T, b testBackend, clock *testClock) {
	t.Helper()
	s := openRegistry(t, b, clock)
	ctx := context.Background()
	for _, team := range []string{"payments", "search"} {
		if _, err := s.CreateTeam(ctx, "admin", registry.Team{Name: team}); err != nil {
			t.Fatal(err)
		}
	}
	for _, e := range []registry.Environment{
		{Name: "pay-a", Team: "payments", Owner: "alice", Production: "prod-eu", TTL: time.Hour, Labels: map[string]string{"tier": "web"}},
		{Name: "pay-b", Team: "payments", Owner: "bob", Production: "prod-us", Labels: map[string]string{"tier": "web", "pr": "42"}},
		{Name: "search-a", Team: "search", Owner: "carol", Production: "prod-eu"},
	} {
		if _, err := s.CreateEnvironment(ctx, "admin", e); err != nil {
			t.Fatal(err)
		}
	}
}

func TestAccEnvironmentsDataSource(t *testing.T) {
	eachBackend(t, func(t *testing.T, b testBackend) {
		clock := newTestClock()
		seedEnvironments(t, b, clock)
		clock.Advance(2 * time.Hour)
		names := func(ns ...string) knownvalue.Check {
			var checks []knownvalue.Check
			for _, n := range ns {
				checks = append(checks, knownvalue.ObjectPartial(map[string]knownvalue.Check{"name": knownvalue.StringExact(n)}))
			}
			return knownvalue.ListExact(checks)
		}
		resource.Test(t, resource.TestCase{
			ProtoV6ProviderFactories: factories(clock),
			Steps: []resource.TestStep{{
				Config: providerConfig(b.location) + `
data "staging_environments" "all" {}
data "staging_environments" "payments" { team = "payments" }
data "staging_environments" "eu" { production = "prod-eu" }
data "staging_environments" "pr" { labels = { tier = "web", pr = "42" } }
data "staging_environments" "expired" { expired_only = true }
data "staging_environments" "none" {
  team         = "search"
  expired_only = true
}
`,
				ConfigStateChecks: []statecheck.StateCheck{
					statecheck.ExpectKnownValue("data.staging_environments.all", tfjsonpath.New("environments"), names("pay-a", "pay-b", "search-a")),
					statecheck.ExpectKnownValue("data.staging_environments.payments", tfjsonpath.New("environments"), names("pay-a", "pay-b")),
					statecheck.ExpectKnownValue("data.staging_environments.eu", tfjsonpath.New("environments"), names("pay-a", "search-a")),
					statecheck.ExpectKnownValue("data.staging_environments.pr", tfjsonpath.New("environments"), names("pay-b")),
					statecheck.ExpectKnownValue("data.staging_environments.expired", tfjsonpath.New("environments"), knownvalue.ListExact([]knownvalue.Check{
						knownvalue.ObjectExact(map[string]knownvalue.Check{
							"id":         knownvalue.StringRegexp(regexp.MustCompile(`^env-`)),
							"name":       knownvalue.StringExact("pay-a"),
							"team":       knownvalue.StringExact("payments"),
							"owner":      knownvalue.StringExact("alice"),
							"production": knownvalue.StringExact("prod-eu"),
							"ttl":        knownvalue.StringExact("1h"),
							"labels":     knownvalue.MapExact(map[string]knownvalue.Check{"tier": knownvalue.StringExact("web")}),
							"namespace":  knownvalue.StringExact(registry.Namespace("pay-a")),
							"created_at": knownvalue.StringExact("2026-11-22T09:00:00Z"),
							"expires_at": knownvalue.StringExact("2026-11-22T10:00:00Z"),
							"expired":    knownvalue.Bool(true),
						}),
					})),
					statecheck.ExpectKnownValue("data.staging_environments.none", tfjsonpath.New("environments"), knownvalue.ListSizeExact(0)),
				},
			}},
		})
	})
}

func TestAccAuditEventsDataSource(t *testing.T) {
	eachBackend(t, func(t *testing.T, b testBackend) {
		clock := newTestClock()
		seedEnvironments(t, b, clock)
		resource.Test(t, resource.TestCase{
			ProtoV6ProviderFactories: factories(clock),
			Steps: []resource.TestStep{
				{
					Config: providerConfig(b.location) + `
data "staging_audit_events" "bad" {
  object_type = "planet"
}`,
					ExpectError: regexp.MustCompile(`(?s)Attribute object_type value must be one of`),
				},
				{
					Config: providerConfig(b.location) + `
resource "staging_environment" "mine" {
  name = "pay-mine"
  team = "payments"
}
`,
				},
				{
					Config: providerConfig(b.location) + `
resource "staging_environment" "mine" {
  name = "pay-mine"
  team = "payments"
}

data "staging_audit_events" "mine" {
  object_type = "environment"
  object      = staging_environment.mine.name
}

data "staging_audit_events" "admin" {
  actor = "admin"
  limit = 2
}
`,
					ConfigStateChecks: []statecheck.StateCheck{
						statecheck.ExpectKnownValue("data.staging_audit_events.mine", tfjsonpath.New("events"), knownvalue.ListExact([]knownvalue.Check{
							knownvalue.ObjectPartial(map[string]knownvalue.Check{
								"actor":       knownvalue.StringExact("tester"),
								"action":      knownvalue.StringExact("create"),
								"object_type": knownvalue.StringExact("environment"),
								"object":      knownvalue.StringExact("pay-mine"),
								"before":      knownvalue.StringExact(""),
								"after":       knownvalue.StringRegexp(regexp.MustCompile(`"owner":"tester"`)),
								"time":        knownvalue.StringExact("2026-11-22T09:00:00Z"),
							}),
						})),
						// Newest first, limited.
						statecheck.ExpectKnownValue("data.staging_audit_events.admin", tfjsonpath.New("events"), knownvalue.ListExact([]knownvalue.Check{
							knownvalue.ObjectPartial(map[string]knownvalue.Check{"object": knownvalue.StringExact("search-a")}),
							knownvalue.ObjectPartial(map[string]knownvalue.Check{"object": knownvalue.StringExact("pay-b")}),
						})),
					},
				},
			},
		})
	})
}
