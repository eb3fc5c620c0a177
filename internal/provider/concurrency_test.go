package provider

import (
	"bytes"
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"os"
	"os/exec"
	"path/filepath"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/stagingkit/terraform-provider-staging/internal/pgtest"
	"github.com/stagingkit/terraform-provider-staging/internal/registry"
)

// buildProvider compiles the provider binary and returns a Terraform CLI
// configuration that points stagingkit/staging at it (dev_overrides: no
// download, no init).
func buildProvider(t *testing.T) (cliConfig string) {
	t.Helper()
	out, err := exec.Command("go", "env", "GOMOD").Output()
	if err != nil {
		t.Fatalf("go env GOMOD: %v", err)
	}
	root := filepath.Dir(strings.TrimSpace(string(out)))
	dir := t.TempDir()
	build := exec.Command("go", "build", "-o", filepath.Join(dir, "terraform-provider-staging"), ".")
	build.Dir = root
	if b, err := build.CombinedOutput(); err != nil {
		t.Fatalf("building the provider: %v\n%s", err, b)
	}
	cfg := filepath.Join(dir, "terraformrc")
	body := fmt.Sprintf("provider_installation {\n  dev_overrides {\n    \"stagingkit/staging\" = %q\n  }\n  direct {}\n}\n", dir)
	if err := os.WriteFile(cfg, []byte(body), 0o600); err != nil {
		t.Fatal(err)
	}
	return cfg
}

// applyResult is what one terraform process did.
type applyResult struct {
	actor  string
	err    error
	output string
}

// workspace is one terraform working directory whose applies act as actor.
type workspace struct {
	actor, dir string
}

func newWorkspace(t *testing.T, actor, config string) workspace {
	t.Helper()
	w := workspace{actor: actor, dir: t.TempDir()}
	w.write(t, config)
	return w
}

// write replaces the workspace's configuration; its state is kept.
func (w workspace) write(t *testing.T, config string) {
	t.Helper()
	if err := os.WriteFile(filepath.Join(w.dir, "main.tf"), []byte(config), 0o600); err != nil {
		t.Fatal(err)
	}
}

// apply runs `terraform apply` in the workspace, with its own provider
// process and registry connection.
func (w workspace) apply(cliConfig, location string) applyResult {
	ctx, cancel := context.WithTimeout(context.Background(), 3*time.Minute)
	defer cancel()
	cmd := exec.CommandContext(ctx, "terraform", "apply", "-auto-approve", "-input=false", "-no-color")
	cmd.Dir = w.dir
	cmd.Env = append(os.Environ(),
		"TF_CLI_CONFIG_FILE="+cliConfig,
		"CHECKPOINT_DISABLE=1",
		"TF_IN_AUTOMATION=1",
		EnvRegistry+"="+location,
		EnvActor+"="+w.actor,
	)
	var out bytes.Buffer
	cmd.Stdout, cmd.Stderr = &out, &out
	err := cmd.Run()
	return applyResult{actor: w.actor, err: err, output: out.String()}
}

// leaseAttr returns an attribute of staging_lease.l from the workspace's
// state.
func (w workspace) leaseAttr(t *testing.T, name string) string {
	t.Helper()
	b, err := os.ReadFile(filepath.Join(w.dir, "terraform.tfstate"))
	if err != nil {
		t.Fatal(err)
	}
	var state struct {
		Resources []struct {
			Type, Name string
			Instances  []struct {
				Attributes map[string]any
			}
		}
	}
	if err := json.Unmarshal(b, &state); err != nil {
		t.Fatalf("the state of %s: %v", w.actor, err)
	}
	for _, r := range state.Resources {
		if r.Type == "staging_lease" && r.Name == "l" && len(r.Instances) == 1 {
			if v, ok := r.Instances[0].Attributes[name].(string); ok {
				return v
			}
		}
	}
	t.Fatalf("the state of %s has no staging_lease.l.%s", w.actor, name)
	return ""
}

// applyAll runs `terraform apply` in every workspace at once.
func applyAll(cliConfig, location string, ws ...workspace) []applyResult {
	results := make([]applyResult, len(ws))
	var wg sync.WaitGroup
	start := make(chan struct{})
	for i, w := range ws {
		wg.Add(1)
		go func() {
			defer wg.Done()
			<-start
			results[i] = w.apply(cliConfig, location)
		}()
	}
	close(start)
	wg.Wait()
	return results
}

// applyConcurrently applies config in one new workspace per actor, all at
// once.
func applyConcurrently(t *testing.T, cliConfig, location, config string, actors ...string) []applyResult {
	t.Helper()
	ws := make([]workspace, len(actors))
	for i, actor := range actors {
		ws[i] = newWorkspace(t, actor, config)
	}
	return applyAll(cliConfig, location, ws...)
}

// oneWinner checks that exactly one apply succeeded and every other failed
// with an error matching loserText.
func oneWinner(t *testing.T, results []applyResult, loserText string) (winner string) {
	t.Helper()
	for _, r := range results {
		switch {
		case r.err == nil && winner == "":
			winner = r.actor
		case r.err == nil:
			t.Errorf("both %s and %s succeeded", winner, r.actor)
		case !strings.Contains(strings.Join(strings.Fields(r.output), " "), loserText):
			t.Errorf("apply by %s failed without %q:\n%s", r.actor, loserText, r.output)
		}
	}
	if winner == "" {
		for _, r := range results {
			t.Logf("apply by %s: %v\n%s", r.actor, r.err, r.output)
		}
		t.Fatal("no apply succeeded")
	}
	return winner
}

const raceHeader = `
terraform {
  required_providers {
    staging = { source = "stagingkit/staging" }
  }
}
provider "staging" {}
`

// TestAccConcurrentApplies runs two real terraform processes at once against
// each registry back end: creating the same environment name, and taking the
// same lease. The database decides: exactly one wins, the other gets a clear
// error, and the registry holds exactly one of each.
func TestAccConcurrentApplies(t *testing.T) {
	requireTerraform(t)
	cliConfig := buildProvider(t)
	eachBackend(t, func(t *testing.T, b testBackend) {
		ctx := context.Background()
		store := openRegistry(t, b, newTestClock())
		if _, err := store.CreateTeam(ctx, "admin", registry.Team{Name: "race"}); err != nil {
			t.Fatal(err)
		}
		if _, err := store.CreateEnvironment(ctx, "admin", registry.Environment{Name: "shared", Team: "race", Owner: "admin"}); err != nil {
			t.Fatal(err)
		}

		results := applyConcurrently(t, cliConfig, b.location, raceHeader+`
resource "staging_environment" "e" {
  name = "race-env"
  team = "race"
}`, "ci-one", "ci-two")
		winner := oneWinner(t, results, `environment "race-env" already exists in the registry`)
		envs, err := store.ListEnvironments(ctx, registry.EnvironmentFilter{Team: "race"})
		if err != nil {
			t.Fatal(err)
		}
		if len(envs) != 2 {
			t.Errorf("registry after the race holds %d environments, want 2 (shared and race-env)", len(envs))
		}
		if e, err := store.GetEnvironment(ctx, "race-env"); err != nil || e.Owner != winner {
			t.Errorf("race-env = %+v, %v; want it owned by the winner %s", e, err, winner)
		}
		if evs, _ := store.Events(ctx, registry.EventFilter{Object: "race-env"}); len(evs) != 1 || evs[0].Actor != winner {
			t.Errorf("audit events of race-env: %+v; want one creation by %s", evs, winner)
		}

		results = applyConcurrently(t, cliConfig, b.location, raceHeader+`
resource "staging_lease" "l" {
  environment = "shared"
  duration    = "1h"
  reason      = "race"
}`, "ci-one", "ci-two")
		winner = oneWinner(t, results, `environment "shared" is leased by`)
		if evs, _ := store.Events(ctx, registry.EventFilter{ObjectType: "lease", Object: "shared"}); len(evs) != 1 || evs[0].Actor != winner {
			t.Errorf("lease events: %+v; want one acquisition by %s", evs, winner)
		}
	})
}

// requireTerraform skips an acceptance test unless TF_ACC is set and
// terraform is on PATH (in CI, a missing terraform fails it instead).
func requireTerraform(t *testing.T) {
	t.Helper()
	if os.Getenv("TF_ACC") == "" {
		t.Skip("acceptance test: set TF_ACC=1")
	}
	if _, err := exec.LookPath("terraform"); err != nil {
		if pgtest.InCI() {
			t.Fatal("terraform is not on PATH")
		}
		t.Skip("terraform is not on PATH")
	}
}

// handoverLease is a configuration holding a lease on the environment
// "handover".
func handoverLease(duration, reason string) string {
	return raceHeader + fmt.Sprintf(`
resource "staging_lease" "l" {
  environment = "handover"
  duration    = %q
  reason      = %q
}
`, duration, reason)
}

// TestAccConcurrentLeaseRenewal: ci-one's lease has expired and ci-two has
// taken the environment. Then, in two terraform processes at once, ci-one
// changes duration (a renewal, as it would while its lease was active) and
// ci-two renews its own lease. ci-one must be refused with ci-two's name,
// reason and expiry, and the environment must end with exactly one active
// lease: ci-two's.
func TestAccConcurrentLeaseRenewal(t *testing.T) {
	requireTerraform(t)
	cliConfig := buildProvider(t)
	eachBackend(t, func(t *testing.T, b testBackend) {
		ctx := context.Background()
		// The terraform processes read the real clock, so this store does too.
		store, err := registry.Open(ctx, b.location, registry.Options{WrittenBy: "test"})
		if err != nil {
			t.Fatal(err)
		}
		t.Cleanup(func() { _ = store.Close() })
		if _, err := store.CreateTeam(ctx, "admin", registry.Team{Name: "race"}); err != nil {
			t.Fatal(err)
		}
		if _, err := store.CreateEnvironment(ctx, "admin", registry.Environment{Name: "handover", Team: "race", Owner: "admin"}); err != nil {
			t.Fatal(err)
		}

		one := newWorkspace(t, "ci-one", handoverLease("2s", "load test"))
		if r := one.apply(cliConfig, b.location); r.err != nil {
			t.Fatalf("ci-one taking the lease: %v\n%s", r.err, r.output)
		}
		oneID := one.leaseAttr(t, "id")
		expires, err := time.Parse(time.RFC3339, one.leaseAttr(t, "expires_at"))
		if err != nil {
			t.Fatal(err)
		}
		time.Sleep(time.Until(expires) + time.Second)
		two := newWorkspace(t, "ci-two", handoverLease("1h", "demo"))
		if r := two.apply(cliConfig, b.location); r.err != nil {
			t.Fatalf("ci-two taking the environment after ci-one's lease expired: %v\n%s", r.err, r.output)
		}
		taken := two.leaseAttr(t, "expires_at")

		one.write(t, handoverLease("1h", "load test"))
		two.write(t, handoverLease("2h", "demo"))
		results := applyAll(cliConfig, b.location, one, two)
		if r := results[1]; r.err != nil {
			t.Fatalf("ci-two renewing its own lease: %v\n%s", r.err, r.output)
		}
		renewed := two.leaseAttr(t, "expires_at")
		out := strings.Join(strings.Fields(results[0].output), " ")
		if results[0].err == nil {
			t.Errorf("ci-one renewed its expired lease while ci-two held the environment:\n%s", results[0].output)
		}
		// Whichever renewal committed first, ci-one is told who holds the
		// environment, why and until when.
		named := false
		for _, until := range []string{taken, renewed} {
			named = named || strings.Contains(out, fmt.Sprintf(`environment "handover" is leased by ci-two until %s (reason: demo)`, until))
		}
		for _, want := range []string{"Error Renewing Staging Lease", "Changing duration cannot renew an expired lease", "terraform apply -replace="} {
			if !strings.Contains(out, want) {
				t.Errorf("ci-one's output lacks %q", want)
			}
		}
		if !named {
			t.Errorf("ci-one's error does not name ci-two, its reason and its expiry:\n%s", results[0].output)
		}

		// Exactly one active lease: ci-one's is still expired, and a new
		// taker is refused by ci-two's renewed one.
		if l, err := store.GetLease(ctx, oneID); err != nil || l.Active(time.Now()) {
			t.Errorf("ci-one's lease after the race = %+v, %v; want it still expired", l, err)
		}
		_, err = store.AcquireLease(ctx, "probe", registry.Lease{Environment: "handover"}, time.Minute)
		var conflict *registry.LeaseConflictError
		if !errors.As(err, &conflict) || conflict.Holder != "ci-two" || conflict.Until.Format(time.RFC3339) != renewed {
			t.Errorf("a new taker after the race: error = %v, want a conflict with ci-two's lease until %s", err, renewed)
		}
		evs, err := store.Events(ctx, registry.EventFilter{ObjectType: "lease", Object: "handover"})
		if err != nil {
			t.Fatal(err)
		}
		var got []string
		for _, e := range evs {
			got = append(got, e.Actor+":"+e.Action)
		}
		if g := strings.Join(got, " "); g != "ci-two:renew ci-two:acquire ci-one:acquire" {
			t.Errorf("lease events = %q, want ci-one's acquisition and ci-two's acquisition and renewal", g)
		}
	})
}
