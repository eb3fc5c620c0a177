package provider

import (
	"bytes"
	"context"
	"fmt"
	"net/url"
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

// TestAccSecretsStayOutOfLogsAndState applies a registry, connections and a
// masked clone with a real terraform process and the provider's logs at
// TRACE, then searches the logs, the state and the plan output for the
// database password and the masking key.
func TestAccSecretsStayOutOfLogsAndState(t *testing.T) {
	if os.Getenv("TF_ACC") == "" {
		t.Skip("acceptance test: set TF_ACC=1")
	}
	if _, err := exec.LookPath("terraform"); err != nil {
		if pgtest.InCI() {
			t.Fatal("terraform is not on PATH")
		}
		t.Skip("terraform is not on PATH")
	}
	prod, staging := seededShop(t)
	registryDSN := pgtest.Require(t).NewDatabase(t)
	const key = "log-secret-masking-key-7731"
	passwords := []string{pgtest.Require(t).Password, dsnPassword(t, staging)}
	cliConfig := buildProvider(t)
	dir := t.TempDir()
	config := fmt.Sprintf(`
terraform {
  required_providers {
    staging = { source = "stagingkit/staging" }
  }
}

variable "key" {
  type      = string
  sensitive = true
  ephemeral = true
}

provider "staging" {
  registry    = %q
  masking_key = var.key
  postgres {
    name = "prod"
    dsn  = %q
    role = "production"
  }
  postgres {
    name = "staging"
    dsn  = %q
    role = "staging"
  }
}

resource "staging_team" "shop" {
  name = "shop"
}

resource "staging_environment" "demo" {
  name = "shop-demo"
  team = staging_team.shop.name
}

data "staging_masked_rows" "fixtures" {
  postgres = "prod"
  query    = "SELECT id, email FROM customers ORDER BY id"
  limit    = 2
  rule {
    column      = "email"
    transformer = "email"
  }
}

resource "staging_postgres_clone" "shop" {
  source      = "prod"
  target      = "staging"
  environment = staging_environment.demo.name
  key         = var.key
%s
}
`, registryDSN, prod, staging, shopRules())
	if err := os.WriteFile(filepath.Join(dir, "main.tf"), []byte(config), 0o600); err != nil {
		t.Fatal(err)
	}
	logPath := filepath.Join(dir, "provider.log")
	cmd := exec.Command("terraform", "apply", "-auto-approve", "-input=false", "-no-color")
	cmd.Dir = dir
	cmd.Env = append(os.Environ(),
		"TF_CLI_CONFIG_FILE="+cliConfig, "CHECKPOINT_DISABLE=1",
		"TF_VAR_key="+key,
		"TF_LOG_PROVIDER=TRACE", "TF_LOG_PATH="+logPath,
	)
	out, err := cmd.CombinedOutput()
	if err != nil {
		t.Fatalf("terraform apply: %v\n%s", err, out)
	}
	logs, err := os.ReadFile(logPath)
	if err != nil {
		t.Fatal(err)
	}
	if !strings.Contains(string(logs), "copying table") {
		t.Fatalf("the provider's logs were not captured (%d bytes)", len(logs))
	}
	state, err := os.ReadFile(filepath.Join(dir, "terraform.tfstate"))
	if err != nil {
		t.Fatal(err)
	}
	for name, text := range map[string]string{"provider logs": string(logs), "state": string(state), "apply output": string(out)} {
		for _, secret := range append(passwords, key) {
			if strings.Contains(text, secret) {
				t.Errorf("the %s contain a secret (%.4s...)", name, secret)
			}
		}
	}
}

// dsnPassword returns the password of a postgres:// DSN.
func dsnPassword(t *testing.T, dsn string) string {
	t.Helper()
	u, err := url.Parse(dsn)
	if err != nil {
		t.Fatal(err)
	}
	pw, _ := u.User.Password()
	return pw
}
