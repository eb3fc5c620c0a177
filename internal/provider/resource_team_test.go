package provider

import (
	"context"
	"errors"
	"fmt"
	"regexp"
	"testing"

	"github.com/hashicorp/terraform-plugin-testing/helper/resource"
	"github.com/hashicorp/terraform-plugin-testing/knownvalue"
	"github.com/hashicorp/terraform-plugin-testing/statecheck"
	"github.com/hashicorp/terraform-plugin-testing/terraform"
	"github.com/hashicorp/terraform-plugin-testing/tfjsonpath"

	"github.com/stagingkit/terraform-provider-staging/internal/registry"
)

func teamConfig(location, name, extra string) string {
	return providerConfig(location) + fmt.Sprintf(`
resource "staging_team" "t" {
  name = %q
  %s
}
`, name, extra)
}

// checkTeamsDestroyed asks the registry itself that no team of the state
// survives.
func checkTeamsDestroyed(t *testing.T, b testBackend, clock *testClock) resource.TestCheckFunc {
	return func(s *terraform.State) error {
		store := openRegistry(t, b, clock)
		for _, rs := range s.RootModule().Resources {
			if rs.Type != "staging_team" {
				continue
			}
			if _, err := store.GetTeam(context.Background(), rs.Primary.Attributes["name"]); !errors.Is(err, registry.ErrNotFound) {
				return fmt.Errorf("team %s still in the registry (err %w)", rs.Primary.Attributes["name"], err)
			}
		}
		return nil
	}
}

func TestAccTeam_lifecycle(t *testing.T) {
	eachBackend(t, func(t *testing.T, b testBackend) {
		clock := newTestClock()
		resource.Test(t, resource.TestCase{
			ProtoV6ProviderFactories: factories(clock),
			CheckDestroy:             checkTeamsDestroyed(t, b, clock),
			Steps: []resource.TestStep{
				{
					Config: teamConfig(b.location, "payments", `
  max_environments = 2
  default_ttl      = "72h"
  max_ttl          = "14d"
  owners           = ["alice", "bob"]`),
					ConfigStateChecks: []statecheck.StateCheck{
						statecheck.ExpectKnownValue("staging_team.t", tfjsonpath.New("id"), knownvalue.StringExact("payments")),
						statecheck.ExpectKnownValue("staging_team.t", tfjsonpath.New("max_environments"), knownvalue.Int64Exact(2)),
						statecheck.ExpectKnownValue("staging_team.t", tfjsonpath.New("default_ttl"), knownvalue.StringExact("72h")),
						statecheck.ExpectKnownValue("staging_team.t", tfjsonpath.New("owners"), knownvalue.SetExact([]knownvalue.Check{knownvalue.StringExact("alice"), knownvalue.StringExact("bob")})),
						statecheck.ExpectKnownValue("staging_team.t", tfjsonpath.New("created_at"), knownvalue.StringExact("2026-11-22T09:00:00Z")),
					},
					Check: func(*terraform.State) error {
						team, err := openRegistry(t, b, clock).GetTeam(context.Background(), "payments")
						if err != nil || team.MaxEnvironments != 2 || team.DefaultTTL.Hours() != 72 {
							return fmt.Errorf("registry holds %+v, %w", team, err)
						}
						return nil
					},
				},
				{
					Config: teamConfig(b.location, "payments", `
  max_environments = 5
  default_ttl      = "3d"
  max_ttl          = "14d"
  owners           = ["carol"]`),
					ConfigStateChecks: []statecheck.StateCheck{
						statecheck.ExpectKnownValue("staging_team.t", tfjsonpath.New("max_environments"), knownvalue.Int64Exact(5)),
						// "3d" means the "72h" already in state: the spelling
						// in state stays, and no duration is rewritten.
						statecheck.ExpectKnownValue("staging_team.t", tfjsonpath.New("default_ttl"), knownvalue.StringExact("72h")),
						statecheck.ExpectKnownValue("staging_team.t", tfjsonpath.New("owners"), knownvalue.SetExact([]knownvalue.Check{knownvalue.StringExact("carol")})),
					},
				},
				{
					ResourceName:                         "staging_team.t",
					ImportState:                          true,
					ImportStateId:                        "payments",
					ImportStateVerify:                    true,
					ImportStateVerifyIdentifierAttribute: "name",
					// The registry spells 72 hours "3d"; the plan after an
					// import keeps it (TestAccEnvironment_importEmptyPlan).
					ImportStateVerifyIgnore: []string{"default_ttl"},
				},
				{
					// Out-of-band deletion removes the team from state; the
					// plan creates it again.
					PreConfig: func() {
						if err := openRegistry(t, b, clock).DeleteTeam(context.Background(), "someone", "payments"); err != nil {
							t.Fatal(err)
						}
					},
					Config: teamConfig(b.location, "payments", `
  max_environments = 5
  default_ttl      = "3d"
  max_ttl          = "14d"
  owners           = ["carol"]`),
					PlanOnly:           true,
					ExpectNonEmptyPlan: true,
				},
			},
		})
	})
}

func TestAccTeam_badInput(t *testing.T) {
	clock := newTestClock()
	b := testBackends(t)[0]
	resource.Test(t, resource.TestCase{
		ProtoV6ProviderFactories: factories(clock),
		Steps: []resource.TestStep{
			{
				Config:      teamConfig(b.location, "Payments_Team", ""),
				ExpectError: regexp.MustCompile(`(?s)Attribute name must be a DNS label`),
			},
			{
				Config:      teamConfig(b.location, "payments", `default_ttl = "3 days"`),
				ExpectError: regexp.MustCompile(`(?s)Invalid Duration.*default_ttl value "3 days" is not a valid duration`),
			},
			{
				Config:      teamConfig(b.location, "payments", `max_environments = 0`),
				ExpectError: regexp.MustCompile(`(?s)max_environments value must be at least 1`),
			},
			{
				Config: teamConfig(b.location, "payments", `
  default_ttl = "30d"
  max_ttl     = "7d"`),
				ExpectError: regexp.MustCompile(`(?s)Invalid Team TTL.*default_ttl 30d is longer than max_ttl 7d`),
			},
		},
	})
	// Nothing half-written: the registry has no team.
	if _, err := openRegistry(t, b, clock).GetTeam(context.Background(), "payments"); !errors.Is(err, registry.ErrNotFound) {
		t.Errorf("a refused configuration left a team in the registry: %v", err)
	}
}
