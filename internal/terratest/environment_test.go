package terratest

import (
	"errors"
	"path/filepath"
	"strings"
	"testing"

	"github.com/gruntwork-io/terratest/modules/terraform"

	"github.com/stagingkit/terraform-provider-staging/internal/registry"
)

// TestEnvironment_basic applies modules/environment/examples/basic, copied
// out of the tree with its module alone, against an embedded registry of
// its own; checks the outputs and the registry; applies again expecting no
// change; destroys and checks that the registry holds nothing.
func TestEnvironment_basic(t *testing.T) {
	requireAcc(t)
	t.Parallel()
	ctx := testContext(t)

	name := uniqueName(t, "pay")
	dir := filepath.Join(copyModule(t, "environment"), "examples", "basic")
	opts := options(t, dir, map[string]any{"name": name}, nil)
	regPath := opts.EnvVars["STAGING_REGISTRY"]

	defer terraform.Destroy(t, opts)
	terraform.InitAndApply(t, opts)

	var env struct {
		Name, Namespace, Team, Owner, Production string
		ExpiresAt                                string `json:"expires_at"`
		Tags                                     map[string]string
	}
	terraform.OutputStruct(t, opts, "environment", &env)
	if env.Name != name || env.Team != "payments" || env.Owner != "alice@example.com" || env.Production != "prod-eu" {
		t.Fatalf("environment output = %+v", env)
	}
	if !strings.HasPrefix(env.Namespace, name+"-") || env.ExpiresAt == "" || env.Tags["staging-environment"] != name {
		t.Fatalf("environment output: namespace %q, expires_at %q, tags %v", env.Namespace, env.ExpiresAt, env.Tags)
	}
	var lease struct {
		Holder    string `json:"holder"`
		Reason    string `json:"reason"`
		ExpiresAt string `json:"expires_at"`
	}
	terraform.OutputStruct(t, opts, "lease", &lease)
	if lease.Holder != "terratest@example.com" || lease.ExpiresAt == "" {
		t.Fatalf("lease output = %+v, want one held by the actor", lease)
	}

	// The registry, read directly.
	store, err := registry.Open(ctx, regPath, registry.Options{})
	if err != nil {
		t.Fatal(err)
	}
	defer store.Close()
	got, err := store.GetEnvironment(ctx, name)
	if err != nil {
		t.Fatalf("the environment is not in the registry: %v", err)
	}
	if got.Namespace != env.Namespace || got.Owner != "alice@example.com" || got.Labels["pr"] != "1234" {
		t.Fatalf("registry holds %+v", got)
	}
	team, err := store.GetTeam(ctx, "payments")
	if err != nil || team.MaxEnvironments != 5 {
		t.Fatalf("team in the registry: %+v, %v", team, err)
	}

	out := terraform.Apply(t, opts)
	if !strings.Contains(out, "0 added, 0 changed, 0 destroyed") {
		t.Fatalf("the second apply changed something:\n%s", out)
	}
	if code := terraform.PlanExitCode(t, opts); code != 0 {
		t.Fatalf("plan after the second apply exits %d, want 0 (no changes)", code)
	}

	terraform.Destroy(t, opts)
	if _, err := store.GetEnvironment(ctx, name); !errors.Is(err, registry.ErrNotFound) {
		t.Fatalf("after destroy, GetEnvironment(%q) = %v, want not found", name, err)
	}
	if _, err := store.GetTeam(ctx, "payments"); !errors.Is(err, registry.ErrNotFound) {
		t.Fatalf("after destroy, the team is still registered: %v", err)
	}
}
