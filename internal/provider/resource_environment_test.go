package provider

import (
	"context"
	"errors"
	"fmt"
	"regexp"
	"strings"
	"testing"
	"time"

	"github.com/hashicorp/terraform-plugin-framework/resource"
	"github.com/hashicorp/terraform-plugin-framework/tfsdk"
	"github.com/hashicorp/terraform-plugin-framework/types"
	"github.com/hashicorp/terraform-plugin-go/tftypes"
	tfresource "github.com/hashicorp/terraform-plugin-testing/helper/resource"
	"github.com/hashicorp/terraform-plugin-testing/knownvalue"
	"github.com/hashicorp/terraform-plugin-testing/plancheck"
	"github.com/hashicorp/terraform-plugin-testing/statecheck"
	"github.com/hashicorp/terraform-plugin-testing/terraform"
	"github.com/hashicorp/terraform-plugin-testing/tfjsonpath"

	"github.com/stagingkit/terraform-provider-staging/internal/registry"
)

// envConfig declares a team and one environment with the given body.
func envConfig(location, teamExtra, envBody string) string {
	return providerConfig(location) + fmt.Sprintf(`
resource "staging_team" "payments" {
  name    = "payments"
  max_ttl = "14d"
  %s
}

resource "staging_environment" "e" {
  team = staging_team.payments.name
  %s
}
`, teamExtra, envBody)
}

func checkEnvironmentsDestroyed(t *testing.T, b testBackend, clock *testClock) tfresource.TestCheckFunc {
	return func(s *terraform.State) error {
		store := openRegistry(t, b, clock)
		for _, rs := range s.RootModule().Resources {
			if rs.Type != "staging_environment" {
				continue
			}
			if _, err := store.GetEnvironment(context.Background(), rs.Primary.Attributes["name"]); !errors.Is(err, registry.ErrNotFound) {
				return fmt.Errorf("environment %s still in the registry (err %w)", rs.Primary.Attributes["name"], err)
			}
		}
		return nil
	}
}

func TestAccEnvironment_lifecycle(t *testing.T) {
	eachBackend(t, func(t *testing.T, b testBackend) {
		clock := newTestClock()
		const addr = "staging_environment.e"
		body := func(ttl, owner string) string {
			return fmt.Sprintf(`
  name       = "pay-feature-x"
  owner      = %q
  production = "prod-eu"
  ttl        = %q
  labels     = { tier = "web" }`, owner, ttl)
		}
		tfresource.Test(t, tfresource.TestCase{
			ProtoV6ProviderFactories: factories(clock),
			CheckDestroy:             checkEnvironmentsDestroyed(t, b, clock),
			Steps: []tfresource.TestStep{
				{
					Config: envConfig(b.location, "", body("72h", "alice")),
					ConfigPlanChecks: tfresource.ConfigPlanChecks{PreApply: []plancheck.PlanCheck{
						// The namespace is a function of the name: known at plan time.
						plancheck.ExpectKnownValue(addr, tfjsonpath.New("namespace"), knownvalue.StringExact(registry.Namespace("pay-feature-x"))),
					}},
					ConfigStateChecks: []statecheck.StateCheck{
						statecheck.ExpectKnownValue(addr, tfjsonpath.New("id"), knownvalue.StringRegexp(regexp.MustCompile(`^env-[0-9a-f]{16}$`))),
						statecheck.ExpectKnownValue(addr, tfjsonpath.New("created_at"), knownvalue.StringExact("2026-11-22T09:00:00Z")),
						statecheck.ExpectKnownValue(addr, tfjsonpath.New("expires_at"), knownvalue.StringExact("2026-11-25T09:00:00Z")),
						statecheck.ExpectKnownValue(addr, tfjsonpath.New("expired"), knownvalue.Bool(false)),
						statecheck.ExpectKnownValue(addr, tfjsonpath.New("tags"), knownvalue.MapExact(map[string]knownvalue.Check{
							"staging-environment": knownvalue.StringExact("pay-feature-x"),
							"staging-team":        knownvalue.StringExact("payments"),
							"staging-owner":       knownvalue.StringExact("alice"),
							"staging-expires-at":  knownvalue.StringExact("20261125t090000z"),
							"managed-by":          knownvalue.StringExact("terraform-provider-staging"),
						})),
					},
				},
				{
					// Time passes beyond the expiry: refresh marks it expired.
					PreConfig: func() { clock.Advance(80 * time.Hour) },
					Config:    envConfig(b.location, "", body("72h", "alice")),
					ConfigStateChecks: []statecheck.StateCheck{
						statecheck.ExpectKnownValue(addr, tfjsonpath.New("expired"), knownvalue.Bool(true)),
						statecheck.ExpectKnownValue(addr, tfjsonpath.New("expires_at"), knownvalue.StringExact("2026-11-25T09:00:00Z")),
					},
				},
				{
					// Changing the ttl extends it from the apply time; the
					// owner change updates in place.
					Config: envConfig(b.location, "", body("4d", "carol")),
					ConfigPlanChecks: tfresource.ConfigPlanChecks{PreApply: []plancheck.PlanCheck{
						plancheck.ExpectResourceAction(addr, plancheck.ResourceActionUpdate),
					}},
					ConfigStateChecks: []statecheck.StateCheck{
						statecheck.ExpectKnownValue(addr, tfjsonpath.New("expires_at"), knownvalue.StringExact("2026-11-29T17:00:00Z")),
						statecheck.ExpectKnownValue(addr, tfjsonpath.New("expired"), knownvalue.Bool(false)),
						statecheck.ExpectKnownValue(addr, tfjsonpath.New("created_at"), knownvalue.StringExact("2026-11-22T09:00:00Z")),
						statecheck.ExpectKnownValue(addr, tfjsonpath.New("tags").AtMapKey("staging-owner"), knownvalue.StringExact("carol")),
					},
				},
				{
					ResourceName:                         addr,
					ImportState:                          true,
					ImportStateId:                        "pay-feature-x",
					ImportStateVerify:                    true,
					ImportStateVerifyIdentifierAttribute: "name",
				},
				{
					// An out-of-band edit shows as drift and is put back.
					PreConfig: func() {
						s := openRegistry(t, b, clock)
						e, err := s.GetEnvironment(context.Background(), "pay-feature-x")
						if err != nil {
							t.Fatal(err)
						}
						e.Owner = "mallory"
						if _, err := s.UpdateEnvironment(context.Background(), "mallory", e); err != nil {
							t.Fatal(err)
						}
					},
					Config: envConfig(b.location, "", body("4d", "carol")),
					ConfigPlanChecks: tfresource.ConfigPlanChecks{PreApply: []plancheck.PlanCheck{
						plancheck.ExpectResourceAction(addr, plancheck.ResourceActionUpdate),
						plancheck.ExpectKnownValue(addr, tfjsonpath.New("owner"), knownvalue.StringExact("carol")),
					}},
					Check: func(*terraform.State) error {
						e, err := openRegistry(t, b, clock).GetEnvironment(context.Background(), "pay-feature-x")
						if err != nil || e.Owner != "carol" {
							return fmt.Errorf("drift not corrected: %+v, %w", e, err)
						}
						return nil
					},
				},
				{
					// An out-of-band deletion removes it from state: the plan
					// creates it again.
					PreConfig: func() {
						if err := openRegistry(t, b, clock).DeleteEnvironment(context.Background(), "someone", "pay-feature-x"); err != nil {
							t.Fatal(err)
						}
					},
					Config: envConfig(b.location, "", body("4d", "carol")),
					ConfigPlanChecks: tfresource.ConfigPlanChecks{PreApply: []plancheck.PlanCheck{
						plancheck.ExpectResourceAction(addr, plancheck.ResourceActionCreate),
					}},
				},
			},
		})
	})
}

// TestAccEnvironment_defaults checks the owner defaulting to the actor, the
// team's default ttl, and that an unset ttl imports.
func TestAccEnvironment_defaults(t *testing.T) {
	eachBackend(t, func(t *testing.T, b testBackend) {
		clock := newTestClock()
		cfg := envConfig(b.location, `default_ttl = "2d"`, `name = "pay-defaults"`)
		tfresource.Test(t, tfresource.TestCase{
			ProtoV6ProviderFactories: factories(clock),
			CheckDestroy:             checkEnvironmentsDestroyed(t, b, clock),
			Steps: []tfresource.TestStep{
				{
					Config: cfg,
					ConfigStateChecks: []statecheck.StateCheck{
						statecheck.ExpectKnownValue("staging_environment.e", tfjsonpath.New("owner"), knownvalue.StringExact("tester")),
						statecheck.ExpectKnownValue("staging_environment.e", tfjsonpath.New("ttl"), knownvalue.Null()),
						statecheck.ExpectKnownValue("staging_environment.e", tfjsonpath.New("expires_at"), knownvalue.StringExact("2026-11-24T09:00:00Z")),
					},
				},
				{
					ResourceName:                         "staging_environment.e",
					ImportState:                          true,
					ImportStateId:                        "pay-defaults",
					ImportStateVerify:                    true,
					ImportStateVerifyIdentifierAttribute: "name",
					// An import cannot tell a defaulted ttl from an explicit
					// one, so it records the registry's "2d"; the next plan
					// keeps it (TestAccEnvironment_importEmptyPlan).
					ImportStateVerifyIgnore: []string{"ttl"},
				},
			},
		})
	})
}

// TestAccEnvironment_importEmptyPlan imports a team and an environment whose
// durations the configuration spells differently from the registry ("72h"
// against "3d"), the environment's ttl equal to the team's default, and
// checks that the plan after the import is empty.
func TestAccEnvironment_importEmptyPlan(t *testing.T) {
	eachBackend(t, func(t *testing.T, b testBackend) {
		clock := newTestClock()
		cfg := envConfig(b.location, `default_ttl = "72h"`, `
  name = "pay-import"
  ttl  = "72h"`)
		// Without a ttl, the team's default applies: importing it must not
		// plan a change either.
		cfgDefault := envConfig(b.location, `default_ttl = "72h"`, `name = "pay-import"`)
		importStep := func(config, addr, id string) tfresource.TestStep {
			return tfresource.TestStep{
				Config:             config,
				ResourceName:       addr,
				ImportState:        true,
				ImportStateId:      id,
				ImportStatePersist: true,
			}
		}
		tfresource.Test(t, tfresource.TestCase{
			ProtoV6ProviderFactories: factories(clock),
			CheckDestroy:             checkEnvironmentsDestroyed(t, b, clock),
			PreCheck: func() {
				// Registered elsewhere (another workspace, a script): the
				// registry holds durations, not their spelling.
				s := openRegistry(t, b, clock)
				ctx := context.Background()
				if _, err := s.CreateTeam(ctx, "someone", registry.Team{Name: "payments", DefaultTTL: 72 * time.Hour, MaxTTL: 14 * 24 * time.Hour}); err != nil {
					t.Fatal(err)
				}
				if _, err := s.CreateEnvironment(ctx, "someone", registry.Environment{Name: "pay-import", Team: "payments", Owner: "tester", TTL: 72 * time.Hour}); err != nil {
					t.Fatal(err)
				}
			},
			Steps: []tfresource.TestStep{
				importStep(cfg, "staging_team.payments", "payments"),
				importStep(cfg, "staging_environment.e", "pay-import"),
				{
					Config: cfg,
					ConfigStateChecks: []statecheck.StateCheck{
						// The registry's spelling, kept because it means the same.
						statecheck.ExpectKnownValue("staging_team.payments", tfjsonpath.New("default_ttl"), knownvalue.StringExact("3d")),
						statecheck.ExpectKnownValue("staging_team.payments", tfjsonpath.New("max_ttl"), knownvalue.StringExact("14d")),
						statecheck.ExpectKnownValue("staging_environment.e", tfjsonpath.New("ttl"), knownvalue.StringExact("3d")),
					},
					ConfigPlanChecks: tfresource.ConfigPlanChecks{PreApply: []plancheck.PlanCheck{plancheck.ExpectEmptyPlan()}},
				},
				{
					Config:           cfgDefault,
					ConfigPlanChecks: tfresource.ConfigPlanChecks{PreApply: []plancheck.PlanCheck{plancheck.ExpectEmptyPlan()}},
				},
			},
		})
	})
}

func TestAccEnvironment_badInput(t *testing.T) {
	eachBackend(t, func(t *testing.T, b testBackend) {
		clock := newTestClock()
		tfresource.Test(t, tfresource.TestCase{
			ProtoV6ProviderFactories: factories(clock),
			Steps: []tfresource.TestStep{
				{
					Config:      envConfig(b.location, "", `name = "Pay_Feature"`),
					ExpectError: regexp.MustCompile(`(?s)Attribute name must be a DNS label`),
				},
				{
					Config:      envConfig(b.location, "", `name = "`+strings.Repeat("a", 64)+`"`),
					ExpectError: regexp.MustCompile(`(?s)Attribute name string length must be between 1 and 63`),
				},
				{
					Config:      envConfig(b.location, "", "name = \"pay-x\"\n  ttl = \"three days\""),
					ExpectError: regexp.MustCompile(`(?s)Invalid Duration.*ttl value "three days" is not a valid duration`),
				},
				{
					Config:      envConfig(b.location, "", "name = \"pay-x\"\n  ttl = \"30d\""),
					ExpectError: regexp.MustCompile(`(?s)Error Creating Staging Environment.*shorter ttl.*ttl 30d is longer than team "payments" allows \(max_ttl 14d\)`),
				},
				{
					Config: providerConfig(b.location) + `
resource "staging_environment" "e" {
  name = "orphan"
  team = "ghosts"
}`,
					ExpectError: regexp.MustCompile(`(?s)Error Creating Staging Environment.*team "ghosts" is not in the registry.*create it with a staging_team`),
				},
			},
		})
		// Nothing half-written: only the team exists, no environment.
		s := openRegistry(t, b, clock)
		if envs, err := s.ListEnvironments(context.Background(), registry.EnvironmentFilter{}); err != nil || len(envs) != 0 {
			t.Errorf("refused configurations left environments: %v, %v", envs, err)
		}
		if evs, _ := s.Events(context.Background(), registry.EventFilter{ObjectType: "environment"}); len(evs) != 0 {
			t.Errorf("refused configurations left audit events: %+v", evs)
		}
	})
}

func TestAccEnvironment_quota(t *testing.T) {
	eachBackend(t, func(t *testing.T, b testBackend) {
		clock := newTestClock()
		cfg := func(n int) string {
			s := providerConfig(b.location) + `
resource "staging_team" "search" {
  name             = "search"
  max_environments = 2
}
`
			for i := 1; i <= n; i++ {
				s += fmt.Sprintf(`
resource "staging_environment" "e%d" {
  name       = "search-%d"
  team       = staging_team.search.name
  owner      = "owner-%d"
  depends_on = [%s]
}
`, i, i, i, dependsOn(i))
			}
			return s
		}
		tfresource.Test(t, tfresource.TestCase{
			ProtoV6ProviderFactories: factories(clock),
			CheckDestroy:             checkEnvironmentsDestroyed(t, b, clock),
			Steps: []tfresource.TestStep{
				{Config: cfg(2)},
				{
					Config:      cfg(3),
					ExpectError: regexp.MustCompile(`(?s)Error Creating Staging Environment.*Destroy one of the team's environments.*team "search" already has 2 of its 2 environments:.*search-1 \(owner owner-1, never expires\).*search-2`),
				},
			},
		})
	})
}

// dependsOn chains environment i after i-1 so that the quota error hits a
// known one.
func dependsOn(i int) string {
	if i == 1 {
		return ""
	}
	return fmt.Sprintf("staging_environment.e%d", i-1)
}

func TestAccProvider_registryErrors(t *testing.T) {
	clock := newTestClock()
	cfg := func(location string) string {
		return providerConfig(location) + `
resource "staging_team" "t" {
  name = "payments"
}`
	}
	for _, b := range testBackends(t) {
		// Prepare a registry written by a newer provider.
		_ = openRegistry(t, b, clock).Close()
		bumpSchema(t, b)
		t.Run("newer/"+b.name, func(t *testing.T) {
			tfresource.Test(t, tfresource.TestCase{
				ProtoV6ProviderFactories: factories(clock),
				Steps: []tfresource.TestStep{{
					Config:      cfg(b.location),
					ExpectError: regexp.MustCompile(`(?s)Unable to Open Staging Registry.*upgrade\s+the\s+provider.*schema version 2, written by\s+terraform-provider-staging\s+99\.0\.0`),
				}},
			})
		})
	}
	t.Run("unreachable", func(t *testing.T) {
		tfresource.Test(t, tfresource.TestCase{
			ProtoV6ProviderFactories: factories(clock),
			Steps: []tfresource.TestStep{{
				Config: cfg("postgres://registry:hunter2-secret@127.0.0.1:1/registry?sslmode=disable&connect_timeout=2"),
				// The password never appears; the server, database and user do.
				ExpectError: regexp.MustCompile(`(?s)Unable to Open Staging Registry.*127\.0\.0\.1:1/registry\s+as\s+registry`),
			}},
		})
	})
	t.Run("not-a-directory", func(t *testing.T) {
		tfresource.Test(t, tfresource.TestCase{
			ProtoV6ProviderFactories: factories(clock),
			Steps: []tfresource.TestStep{{
				Config:      cfg("/dev/null/registry.db"),
				ExpectError: regexp.MustCompile(`(?s)Unable to Open Staging Registry.*/dev/null/registry.db`),
			}},
		})
	})
}

// TestEnvironment_expiredWarning drives ModifyPlan directly with an injected
// clock: an expired environment warns, naming it and saying how to extend or
// destroy it; a live one does not.
func TestEnvironment_expiredWarning(t *testing.T) {
	ctx := context.Background()
	clock := newTestClock()
	r := &environmentResource{data: &providerData{actor: "tester", clock: clock.Now}}
	var sr resource.SchemaResponse
	r.Schema(ctx, resource.SchemaRequest{}, &sr)
	s := sr.Schema

	m := environmentModel{Labels: types.MapNull(types.StringType)}
	plan := tfsdk.Plan{Schema: s, Raw: tftypes.NewValue(s.Type().TerraformType(ctx), nil)}
	state := tfsdk.State{Schema: s, Raw: tftypes.NewValue(s.Type().TerraformType(ctx), nil)}
	config := tfsdk.Config{Schema: s}
	e := registry.Environment{ID: "env-1", Name: "pay-old", Team: "payments", Owner: "alice", TTL: time.Hour,
		Namespace: registry.Namespace("pay-old"), CreatedAt: clock.Now(), ExpiresAt: clock.Now().Add(time.Hour)}
	m.TTL = types.StringValue("1h")
	r.setState(ctx, &m, e, true, nil, new(diagnostics))
	if d := state.Set(ctx, m); d.HasError() {
		t.Fatal(d)
	}
	if d := plan.Set(ctx, m); d.HasError() {
		t.Fatal(d)
	}
	config.Raw = plan.Raw

	run := func() *resource.ModifyPlanResponse {
		resp := &resource.ModifyPlanResponse{Plan: plan}
		r.ModifyPlan(ctx, resource.ModifyPlanRequest{Plan: plan, State: state, Config: config}, resp)
		return resp
	}
	if resp := run(); resp.Diagnostics.WarningsCount() != 0 || resp.Diagnostics.HasError() {
		t.Fatalf("live environment: diagnostics %v", resp.Diagnostics)
	}
	clock.Advance(time.Hour)
	resp := run()
	if resp.Diagnostics.WarningsCount() != 1 {
		t.Fatalf("expired environment: diagnostics %v, want one warning", resp.Diagnostics)
	}
	w := resp.Diagnostics.Warnings()[0]
	if w.Summary() != "Staging Environment Expired" ||
		!strings.Contains(w.Detail(), `"pay-old" expired at 2026-11-22T10:00:00Z`) ||
		!strings.Contains(w.Detail(), "changing its ttl") || !strings.Contains(w.Detail(), "terraform destroy") ||
		strings.Contains(w.Detail(), "<") {
		t.Errorf("warning = %s: %s", w.Summary(), w.Detail())
	}
}
