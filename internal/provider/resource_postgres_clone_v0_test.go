package provider

import (
	"encoding/json"
	"os"
	"os/exec"
	"path/filepath"
	"regexp"
	"strings"
	"testing"

	"github.com/stagingkit/terraform-provider-staging/internal/pgtest"
)

// TestAccPostgresClone_v0StateAdoptsOwner applies a clone, turns its state
// into what version 0 of the resource wrote (no owner_id, and no record in
// the staging database's owner catalog), and applies again through the
// real terraform binary: the first apply records an owner without a
// "Provider produced inconsistent result" error, and the next plan is
// empty.
func TestAccPostgresClone_v0StateAdoptsOwner(t *testing.T) {
	requireTerraform(t)
	prod, staging := seededShop(t)
	cli := buildProvider(t)
	cfg := cloneConfig(filepath.Join(t.TempDir(), "registry.db"), prod, staging, shopRules())
	d := newTFDir(t, cli, cfg)
	dir := d.dir
	d.run("apply", "-auto-approve")

	// Version 0: no owner_id, timeouts without update, no owner records.
	statePath := filepath.Join(dir, "terraform.tfstate")
	raw, err := os.ReadFile(statePath)
	if err != nil {
		t.Fatal(err)
	}
	var st map[string]any
	if err := json.Unmarshal(raw, &st); err != nil {
		t.Fatal(err)
	}
	for _, r := range st["resources"].([]any) {
		res := r.(map[string]any)
		if res["type"] != "staging_postgres_clone" {
			continue
		}
		inst := res["instances"].([]any)[0].(map[string]any)
		inst["schema_version"] = 0
		delete(inst["attributes"].(map[string]any), "owner_id")
	}
	st["serial"] = st["serial"].(float64) + 1
	raw, _ = json.MarshalIndent(st, "", "  ")
	if err := os.WriteFile(statePath, raw, 0o600); err != nil {
		t.Fatal(err)
	}
	pgtest.Exec(t, staging, `DELETE FROM stagingkit_clone.schema_owners`)

	out := d.run("apply", "-auto-approve") // failed with an inconsistent owner_id before
	if !strings.Contains(out, "owner_id") {
		t.Errorf("the plan did not show the owner being recorded:\n%s", out)
	}
	if n := pgCount(t, staging, `SELECT count(*) FROM stagingkit_clone.schema_owners WHERE schema_name = 'public' AND owner_id <> ''`); n != 1 {
		t.Fatalf("no owner recorded for public after the upgrade (%d records)", n)
	}
	d.run("plan", "-detailed-exitcode") // exit 2, a non-empty plan, fails the test

	// Renaming the environment updates the catalog, which a
	// create_before_destroy successor's take-over is judged by.
	if err := os.WriteFile(filepath.Join(dir, "main.tf"), []byte(requiredStaging+strings.Replace(cfg, `name = "shop-demo"`, `name = "shop-demo-renamed"`, 1)), 0o600); err != nil {
		t.Fatal(err)
	}
	d.run("apply", "-auto-approve")
	if n := pgCount(t, staging, `SELECT count(*) FROM stagingkit_clone.schema_owners WHERE schema_name = 'public' AND environment = 'shop-demo-renamed'`); n != 1 {
		t.Fatal("the owner catalog still names the old environment")
	}
}

// requiredStaging is the terraform block a configuration run by the real
// terraform binary needs to find the locally built provider.
const requiredStaging = "terraform {\n  required_providers {\n    staging = { source = \"stagingkit/staging\" }\n  }\n}\n"

// tfDir is a terraform working directory run with the real binary and a
// locally built provider.
type tfDir struct {
	t        *testing.T
	dir, cli string
}

func newTFDir(t *testing.T, cli, config string) tfDir {
	t.Helper()
	d := tfDir{t: t, dir: t.TempDir(), cli: cli}
	config = requiredStaging + config
	if err := os.WriteFile(filepath.Join(d.dir, "main.tf"), []byte(config), 0o600); err != nil {
		t.Fatal(err)
	}
	return d
}

// run runs terraform with args and fails the test when it fails.
func (d tfDir) run(args ...string) string {
	d.t.Helper()
	cmd := exec.Command("terraform", append(args, "-input=false", "-no-color")...)
	cmd.Dir = d.dir
	cmd.Env = append(os.Environ(), "TF_CLI_CONFIG_FILE="+d.cli, "CHECKPOINT_DISABLE=1", "TF_IN_AUTOMATION=1")
	out, err := cmd.CombinedOutput()
	if err != nil {
		d.t.Fatalf("terraform %v: %v\n%s", args, err, out)
	}
	return string(out)
}

// TestAccPostgresClone_takeOverIsVisible: a second configuration of the
// same environment takes the copy over (as a create_before_destroy
// successor does); the first one's next plan says so instead of "No
// changes" in silence, and its destroy leaves the other's copy alone.
func TestAccPostgresClone_takeOverIsVisible(t *testing.T) {
	requireTerraform(t)
	prod, staging := seededShop(t)
	cli := buildProvider(t)
	first := newTFDir(t, cli, cloneConfig(filepath.Join(t.TempDir(), "a.db"), prod, staging, shopRules()))
	second := newTFDir(t, cli, cloneConfig(filepath.Join(t.TempDir(), "b.db"), prod, staging, shopRules()+"\n  key_version = 2\n"))
	first.run("apply", "-auto-approve")
	second.run("apply", "-auto-approve")
	out := first.run("plan")
	if !regexp.MustCompile(`(?s)Staging Copy Taken Over.*held\s+by\s+another\s+clone.*environment\s+"shop-demo"`).MatchString(out) {
		t.Fatalf("the first configuration's plan does not say its copy was taken over:\n%s", out)
	}
	first.run("destroy", "-auto-approve")
	if n := pgCount(t, staging, `SELECT count(*) FROM pg_class c JOIN pg_namespace n ON n.oid = c.relnamespace WHERE n.nspname = 'public' AND c.relname = 'customers'`); n != 1 {
		t.Fatal("the first configuration's destroy dropped the copy the second one holds")
	}
	second.run("destroy", "-auto-approve")
}
