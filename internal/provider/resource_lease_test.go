package provider

import (
	"context"
	"errors"
	"fmt"
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

// leaseConfig declares a shared environment and a lease on it.
func leaseConfig(location, duration, reason string) string {
	return providerConfig(location) + fmt.Sprintf(`
resource "staging_team" "qa" {
  name = "qa"
}

resource "staging_environment" "shared" {
  name = "qa-shared"
  team = staging_team.qa.name
}

resource "staging_lease" "l" {
  environment = staging_environment.shared.name
  duration    = %q
  reason      = %q
}
`, duration, reason)
}

func checkLeasesReleased(t *testing.T, b testBackend, clock *testClock) resource.TestCheckFunc {
	return func(s *terraform.State) error {
		store := openRegistry(t, b, clock)
		for _, rs := range s.RootModule().Resources {
			if rs.Type != "staging_lease" {
				continue
			}
			if _, err := store.GetLease(context.Background(), rs.Primary.ID); !errors.Is(err, registry.ErrNotFound) {
				return fmt.Errorf("lease %s still held (err %w)", rs.Primary.ID, err)
			}
		}
		return nil
	}
}

func TestAccLease_lifecycle(t *testing.T) {
	eachBackend(t, func(t *testing.T, b testBackend) {
		clock := newTestClock()
		const addr = "staging_lease.l"
		resource.Test(t, resource.TestCase{
			ProtoV6ProviderFactories: factories(clock),
			CheckDestroy:             checkLeasesReleased(t, b, clock),
			Steps: []resource.TestStep{
				{
					Config: leaseConfig(b.location, "2h", "load test"),
					ConfigStateChecks: []statecheck.StateCheck{
						statecheck.ExpectKnownValue(addr, tfjsonpath.New("holder"), knownvalue.StringExact("tester")),
						statecheck.ExpectKnownValue(addr, tfjsonpath.New("acquired_at"), knownvalue.StringExact("2026-11-22T09:00:00Z")),
						statecheck.ExpectKnownValue(addr, tfjsonpath.New("expires_at"), knownvalue.StringExact("2026-11-22T11:00:00Z")),
						statecheck.ExpectKnownValue(addr, tfjsonpath.New("expired"), knownvalue.Bool(false)),
					},
				},
				{
					// Someone else is refused, with holder, reason and until when.
					PreConfig: func() {
						_, err := openRegistry(t, b, clock).AcquireLease(context.Background(), "bob", registry.Lease{Environment: "qa-shared", Reason: "demo"}, time.Hour)
						var conflict *registry.LeaseConflictError
						if !errors.As(err, &conflict) || conflict.Holder != "tester" {
							t.Fatalf("a second holder was not refused: %v", err)
						}
					},
					Config: leaseConfig(b.location, "2h", "load test"),
				},
				{
					// A new reason updates in place and keeps the expiry.
					PreConfig: func() { clock.Advance(30 * time.Minute) },
					Config:    leaseConfig(b.location, "2h", "longer load test"),
					ConfigPlanChecks: resource.ConfigPlanChecks{PreApply: []plancheck.PlanCheck{
						plancheck.ExpectResourceAction(addr, plancheck.ResourceActionUpdate),
						plancheck.ExpectKnownValue(addr, tfjsonpath.New("expires_at"), knownvalue.StringExact("2026-11-22T11:00:00Z")),
					}},
				},
				{
					// A new duration renews from the apply time.
					Config: leaseConfig(b.location, "3h", "longer load test"),
					ConfigStateChecks: []statecheck.StateCheck{
						statecheck.ExpectKnownValue(addr, tfjsonpath.New("expires_at"), knownvalue.StringExact("2026-11-22T12:30:00Z")),
					},
				},
				{
					ResourceName:      addr,
					ImportState:       true,
					ImportStateVerify: true,
					// The imported duration is the lease's whole span, which
					// counts from the renewal rather than the first take.
					ImportStateVerifyIgnore: []string{"duration"},
				},
				{
					// Past its expiry the lease no longer blocks others.
					PreConfig: func() {
						clock.Advance(4 * time.Hour)
						l, err := openRegistry(t, b, clock).AcquireLease(context.Background(), "bob", registry.Lease{Environment: "qa-shared", Reason: "demo"}, time.Hour)
						if err != nil {
							t.Fatalf("an expired lease blocked: %v", err)
						}
						if err := openRegistry(t, b, clock).ReleaseLease(context.Background(), "bob", l.ID); err != nil {
							t.Fatal(err)
						}
					},
					Config: leaseConfig(b.location, "3h", "longer load test"),
					ConfigStateChecks: []statecheck.StateCheck{
						statecheck.ExpectKnownValue(addr, tfjsonpath.New("expired"), knownvalue.Bool(true)),
					},
				},
			},
		})
	})
}

func TestAccLease_conflict(t *testing.T) {
	eachBackend(t, func(t *testing.T, b testBackend) {
		clock := newTestClock()
		resource.Test(t, resource.TestCase{
			ProtoV6ProviderFactories: factories(clock),
			CheckDestroy:             checkLeasesReleased(t, b, clock),
			Steps: []resource.TestStep{
				{
					Config: leaseConfig(b.location, "1h", "first"),
				},
				{
					Config: leaseConfig(b.location, "1h", "first") + `
resource "staging_lease" "second" {
  environment = staging_environment.shared.name
  duration    = "1h"
  reason      = "second"
  depends_on  = [staging_lease.l]
}`,
					ExpectError: regexp.MustCompile(`(?s)Error Taking Staging Lease.*environment\s+"qa-shared"\s+is\s+leased\s+by\s+tester\s+until\s+2026-11-22T10:00:00Z\s+\(reason:\s+first\)`),
				},
			},
		})
	})
}

func TestAccLease_badInput(t *testing.T) {
	clock := newTestClock()
	b := testBackends(t)[0]
	resource.Test(t, resource.TestCase{
		ProtoV6ProviderFactories: factories(clock),
		Steps: []resource.TestStep{
			{
				Config:      leaseConfig(b.location, "soon", "x"),
				ExpectError: regexp.MustCompile(`(?s)Invalid Duration.*duration value "soon" is not a valid duration`),
			},
			{
				Config: providerConfig(b.location) + `
resource "staging_lease" "l" {
  environment = "nowhere"
  duration    = "1h"
}`,
				ExpectError: regexp.MustCompile(`(?s)Error Taking Staging Lease.*environment\s+"nowhere"\s+is\s+not\s+in\s+the\s+registry`),
			},
		},
	})
}

// TestAccLease_renewAfterExpiry: once a lease has expired and someone else
// has taken the environment, changing duration must not renew it (that would
// give the environment two holders); an expired lease is never revived, and
// replacing the resource takes a new one.
func TestAccLease_renewAfterExpiry(t *testing.T) {
	eachBackend(t, func(t *testing.T, b testBackend) {
		clock := newTestClock()
		const addr = "staging_lease.l"
		var bob registry.Lease
		resource.Test(t, resource.TestCase{
			ProtoV6ProviderFactories: factories(clock),
			CheckDestroy:             checkLeasesReleased(t, b, clock),
			Steps: []resource.TestStep{
				{
					Config: leaseConfig(b.location, "1h", "load test"),
					ConfigStateChecks: []statecheck.StateCheck{
						statecheck.ExpectKnownValue(addr, tfjsonpath.New("expires_at"), knownvalue.StringExact("2026-11-22T10:00:00Z")),
					},
				},
				{
					// The lease expired at 10:00 and bob took the environment at
					// 11:00; renewing now is refused, naming bob.
					PreConfig: func() {
						clock.Advance(2 * time.Hour)
						var err error
						if bob, err = openRegistry(t, b, clock).AcquireLease(context.Background(), "bob", registry.Lease{Environment: "qa-shared", Reason: "demo"}, 2*time.Hour); err != nil {
							t.Fatalf("bob could not take the environment after the lease expired: %v", err)
						}
					},
					Config:      leaseConfig(b.location, "3h", "load test"),
					ExpectError: regexp.MustCompile(`(?s)Error Renewing Staging Lease.*environment\s+"qa-shared"\s+is\s+leased\s+by\s+bob\s+until\s+2026-11-22T13:00:00Z\s+\(reason:\s+demo\)`),
				},
				{
					// Bob is still the only holder; with him gone the expired
					// lease still cannot be renewed.
					PreConfig: func() {
						store := openRegistry(t, b, clock)
						_, err := store.AcquireLease(context.Background(), "carol", registry.Lease{Environment: "qa-shared"}, time.Hour)
						var conflict *registry.LeaseConflictError
						if !errors.As(err, &conflict) || conflict.Holder != "bob" {
							t.Fatalf("after the refused renewal the environment is not held by bob alone: %v", err)
						}
						if err := store.ReleaseLease(context.Background(), "bob", bob.ID); err != nil {
							t.Fatal(err)
						}
					},
					Config:      leaseConfig(b.location, "3h", "load test"),
					ExpectError: regexp.MustCompile(`(?s)Error Renewing Staging Lease.*terraform\s+apply\s+-replace=.*expired\s+at\s+2026-11-22T10:00:00Z\s+and\s+cannot\s+be\s+renewed`),
				},
				{
					// Replacing the resource, as the error advises, takes a new lease.
					Taint:  []string{addr},
					Config: leaseConfig(b.location, "3h", "load test"),
					ConfigPlanChecks: resource.ConfigPlanChecks{PreApply: []plancheck.PlanCheck{
						plancheck.ExpectResourceAction(addr, plancheck.ResourceActionDestroyBeforeCreate),
					}},
					ConfigStateChecks: []statecheck.StateCheck{
						statecheck.ExpectKnownValue(addr, tfjsonpath.New("acquired_at"), knownvalue.StringExact("2026-11-22T11:00:00Z")),
						statecheck.ExpectKnownValue(addr, tfjsonpath.New("expires_at"), knownvalue.StringExact("2026-11-22T14:00:00Z")),
						statecheck.ExpectKnownValue(addr, tfjsonpath.New("expired"), knownvalue.Bool(false)),
					},
				},
			},
		})
	})
}

// TestAccLease_importEmptyPlan imports a lease taken elsewhere for two hours
// into a configuration that spells its duration "120m": the plan after the
// import is empty rather than a renewal.
func TestAccLease_importEmptyPlan(t *testing.T) {
	eachBackend(t, func(t *testing.T, b testBackend) {
		clock := newTestClock()
		cfg := leaseConfig(b.location, "120m", "load test")
		base := cfg[:strings.Index(cfg, `resource "staging_lease"`)]
		var id string
		resource.Test(t, resource.TestCase{
			ProtoV6ProviderFactories: factories(clock),
			CheckDestroy:             checkLeasesReleased(t, b, clock),
			Steps: []resource.TestStep{
				{Config: base},
				{
					PreConfig: func() {
						l, err := openRegistry(t, b, clock).AcquireLease(context.Background(), "tester", registry.Lease{Environment: "qa-shared", Reason: "load test"}, 2*time.Hour)
						if err != nil {
							t.Fatal(err)
						}
						id = l.ID
					},
					Config:             cfg,
					ResourceName:       "staging_lease.l",
					ImportState:        true,
					ImportStateIdFunc:  func(*terraform.State) (string, error) { return id, nil },
					ImportStatePersist: true,
				},
				{
					Config:           cfg,
					ConfigPlanChecks: resource.ConfigPlanChecks{PreApply: []plancheck.PlanCheck{plancheck.ExpectEmptyPlan()}},
					ConfigStateChecks: []statecheck.StateCheck{
						statecheck.ExpectKnownValue("staging_lease.l", tfjsonpath.New("duration"), knownvalue.StringExact("2h")),
					},
				},
			},
		})
	})
}
