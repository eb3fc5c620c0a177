package provider

import (
	"context"
	"encoding/json"
	"errors"
	"os"
	"os/exec"
	"path/filepath"
	"strings"
	"testing"
	"time"

	"github.com/stagingkit/terraform-provider-staging/internal/masking"
)

// TestAccPostgresClone_transformerVersionChange: a copy whose state records
// an older transformer version (a state written by a provider from before
// FF1, "email/v1") is planned for a fresh copy, with a warning naming the
// column and why; the same state with current versions plans nothing.
// Real terraform runs the provider binary, since the state is edited
// between the apply and the plan.
func TestAccPostgresClone_transformerVersionChange(t *testing.T) {
	requireTerraform(t)
	cliConfig := buildProvider(t)
	prod, staging := seededShop(t)
	reg := t.TempDir() + "/registry.db"
	w := newWorkspace(t, "tester", requiredStaging+
		cloneConfig(reg, prod, staging, shopRules()))
	if r := w.apply(cliConfig, reg); r.err != nil {
		t.Fatalf("apply: %v\n%s", r.err, r.output)
	}
	plan := func() (int, string) {
		ctx, cancel := context.WithTimeout(context.Background(), 3*time.Minute)
		defer cancel()
		cmd := exec.CommandContext(ctx, "terraform", "plan", "-detailed-exitcode", "-input=false", "-no-color")
		cmd.Dir = w.dir
		cmd.Env = append(os.Environ(), "TF_CLI_CONFIG_FILE="+cliConfig, "CHECKPOINT_DISABLE=1", "TF_IN_AUTOMATION=1")
		out, err := cmd.CombinedOutput()
		var ee *exec.ExitError
		if err != nil && !errors.As(err, &ee) {
			t.Fatalf("terraform plan: %v", err)
		}
		return cmd.ProcessState.ExitCode(), string(out)
	}
	if code, out := plan(); code != 0 || strings.Contains(out, "Masking Algorithms Changed") {
		t.Fatalf("plan after the apply: exit %d (want 0, no changes)\n%s", code, out)
	}

	// The state of a copy masked by the Feistel-era email/v1.
	stateFile := filepath.Join(w.dir, "terraform.tfstate")
	b, err := os.ReadFile(stateFile)
	if err != nil {
		t.Fatal(err)
	}
	var st map[string]any
	if err := json.Unmarshal(b, &st); err != nil {
		t.Fatal(err)
	}
	edited := false
	for _, r := range st["resources"].([]any) {
		r := r.(map[string]any)
		if r["type"] != "staging_postgres_clone" {
			continue
		}
		attrs := r["instances"].([]any)[0].(map[string]any)["attributes"].(map[string]any)
		versions := attrs["transformer_versions"].(map[string]any)
		if v := versions["public.customers.email"]; v != masking.Version("email") {
			t.Fatalf("transformer_versions[public.customers.email] = %v, want %s", v, masking.Version("email"))
		}
		versions["public.customers.email"] = "email/v1"
		edited = true
	}
	if !edited {
		t.Fatal("no staging_postgres_clone in the state")
	}
	if b, err = json.Marshal(st); err != nil {
		t.Fatal(err)
	}
	if err := os.WriteFile(stateFile, b, 0o600); err != nil {
		t.Fatal(err)
	}
	code, out := plan()
	for _, want := range []string{
		"Masking Algorithms Changed",
		"public.customers.email: email/v1 is now " + masking.Version("email") + ": format-preserving encryption is NIST SP 800-38G FF1",
		"this plan makes a fresh copy",
		"staging_postgres_clone.shop will be updated in-place",
		"cloned_at",
	} {
		if !strings.Contains(out, want) {
			t.Errorf("plan output lacks %q", want)
		}
	}
	if code != 2 || strings.Contains(out, "public.customers.phone:") {
		t.Errorf("plan: exit %d (want 2, changes), or names a column whose version did not change", code)
	}
	if t.Failed() {
		t.Logf("plan output:\n%s", out)
	}
}
