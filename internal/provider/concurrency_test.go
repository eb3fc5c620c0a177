package provider

import (
	"bytes"
	"context"
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

// applyConcurrently runs `terraform apply` in one directory per actor, all at
// once, each process with its own provider and registry connection.
func applyConcurrently(t *testing.T, cliConfig, location, config string, actors ...string) []applyResult {
	t.Helper()
	results := make([]applyResult, len(actors))
	var wg sync.WaitGroup
	start := make(chan struct{})
	for i, actor := range actors {
		dir := t.TempDir()
		if err := os.WriteFile(filepath.Join(dir, "main.tf"), []byte(config), 0o600); err != nil {
			t.Fatal(err)
		}
		wg.Add(1)
		go func() {
			defer wg.Done()
			ctx, cancel := context.WithTimeout(context.Background(), 3*time.Minute)
			defer cancel()
			cmd := exec.CommandContext(ctx, "terraform", "apply", "-auto-approve", "-input=false", "-no-color")
			cmd.Dir = dir
			cmd.Env = append(os.Environ(),
				"TF_CLI_CONFIG_FILE="+cliConfig,
				"CHECKPOINT_DISABLE=1",
				"TF_IN_AUTOMATION=1",
				EnvRegistry+"="+location,
				EnvActor+"="+actor,
			)
			var out bytes.Buffer
			cmd.Stdout, cmd.Stderr = &out, &out
			<-start
			err := cmd.Run()
			results[i] = applyResult{actor: actor, err: err, output: out.String()}
		}()
	}
	close(start)
	wg.Wait()
	return results
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
	if os.Getenv("TF_ACC") == "" {
		t.Skip("acceptance test: set TF_ACC=1")
	}
	if _, err := exec.LookPath("terraform"); err != nil {
		if pgtest.InCI() {
			t.Fatal("terraform is not on PATH")
		}
		t.Skip("terraform is not on PATH")
	}
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
