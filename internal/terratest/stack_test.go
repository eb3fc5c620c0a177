package terratest

import (
	"encoding/json"
	"os"
	"path/filepath"
	"strings"
	"testing"

	"github.com/gruntwork-io/terratest/modules/terraform"
	"gopkg.in/yaml.v3"

	"github.com/stagingkit/terraform-provider-staging/internal/isolation"
	"github.com/stagingkit/terraform-provider-staging/internal/pgtest"
)

// TestStackClone_app applies modules/stack-clone/examples/app, copied out
// of the tree with its module alone: the application module renders the
// same deployment for production and staging except where a scaling rule
// allows; a second apply changes nothing; destroy leaves no state.
func TestStackClone_app(t *testing.T) {
	requireAcc(t)
	t.Parallel()

	dir := filepath.Join(copyModule(t, "stack-clone"), "examples", "app")
	opts := options(t, dir, nil, nil)
	defer terraform.Destroy(t, opts)
	terraform.InitAndApply(t, opts)

	var prod, stg deployment
	for name, d := range map[string]*deployment{"production_manifest": &prod, "staging_manifest": &stg} {
		if err := yaml.Unmarshal([]byte(terraform.Output(t, opts, name)), d); err != nil {
			t.Fatalf("%s is not YAML: %v", name, err)
		}
	}
	pc, sc := prod.Spec.Template.Spec.Containers[0], stg.Spec.Template.Spec.Containers[0]
	if pc.Image != sc.Image || pc.Image == "" {
		t.Fatalf("staging runs %q, production %q: the image must be kept", sc.Image, pc.Image)
	}
	if prod.Spec.Replicas != 6 || stg.Spec.Replicas != 2 {
		t.Fatalf("replicas production %d, staging %d; want 6 and 2", prod.Spec.Replicas, stg.Spec.Replicas)
	}
	// Every environment variable is production's except those a rule changes.
	allowed := map[string]bool{"APP_ENV": true, "PUBLIC_URL": true, "DB_INSTANCE": true}
	penv := map[string]string{}
	for _, e := range pc.Env {
		penv[e.Name] = e.Value
	}
	for _, e := range sc.Env {
		if penv[e.Name] != e.Value && !allowed[e.Name] {
			t.Errorf("staging sets %s=%q, production %q, and no rule allows the difference", e.Name, e.Value, penv[e.Name])
		}
	}
	if len(sc.Env) != len(pc.Env) {
		t.Errorf("staging has %d settings, production %d", len(sc.Env), len(pc.Env))
	}
	var report struct {
		Score      float64 `json:"score"`
		Violations []any   `json:"violations"`
	}
	if err := json.Unmarshal([]byte(terraform.Output(t, opts, "parity_report")), &report); err != nil || report.Score != 1 {
		t.Fatalf("parity report %+v (%v), want score 1", report, err)
	}

	if out := terraform.Apply(t, opts); !strings.Contains(out, "0 added, 0 changed, 0 destroyed") {
		t.Fatalf("the second apply changed something:\n%s", out)
	}
	if code := terraform.PlanExitCode(t, opts); code != 0 {
		t.Fatalf("plan after the second apply exits %d, want 0", code)
	}
	terraform.Destroy(t, opts)
	if s := terraform.Show(t, opts); strings.Contains(s, "staging_parity_check") {
		t.Fatalf("state after destroy still holds the check:\n%s", s)
	}
}

type deployment struct {
	Spec struct {
		Replicas int `yaml:"replicas"`
		Template struct {
			Spec struct {
				Containers []struct {
					Image string `yaml:"image"`
					Env   []struct {
						Name  string `yaml:"name"`
						Value string `yaml:"value"`
					} `yaml:"env"`
				} `yaml:"containers"`
			} `yaml:"spec"`
		} `yaml:"template"`
	} `yaml:"spec"`
}

// TestComplete applies examples/complete (modules/staging-stack on the
// sample shop) against two throwaway clusters: the outputs a person reads
// in make demo are checked, the application's login works with its derived
// password and production refuses it, a second apply changes nothing, and
// destroy removes the role and the copy.
func TestComplete(t *testing.T) {
	requireAcc(t)
	t.Parallel()
	ctx := testContext(t)

	prodCluster := pgtest.StartForTest(t)
	stagingCluster := pgtest.StartForTest(t)
	prodDSN := prodCluster.NewDatabase(t)
	stagingDSN := stagingCluster.NewDatabase(t)
	sizes := seedShop(ctx, t, prodDSN)

	// examples/complete refers to ../../modules: copy both.
	root := t.TempDir()
	for _, d := range []string{"environment", "postgres-staging", "stack-clone", "staging-stack"} {
		if err := os.Rename(copyModule(t, d), filepath.Join(mkdir(t, root, "modules"), d)); err != nil {
			t.Fatal(err)
		}
	}
	dir := filepath.Join(mkdir(t, root, "examples"), "complete")
	if err := os.CopyFS(dir, os.DirFS(filepath.Join(repoRoot(t), "examples", "complete"))); err != nil {
		t.Fatal(err)
	}
	_ = os.RemoveAll(filepath.Join(dir, ".terraform"))
	_ = os.Remove(filepath.Join(dir, ".terraform.lock.hcl"))

	secret := randomHex(t, 32)
	opts := options(t, dir, map[string]any{"staging_port": stagingCluster.Port}, map[string]string{
		"TF_VAR_prod_dsn":               pgtest.ReaderDSN(t, prodDSN),
		"TF_VAR_staging_dsn":            stagingDSN,
		"TF_VAR_masking_key":            randomHex(t, 32),
		"TF_VAR_credential_root_secret": secret,
	})
	defer terraform.Destroy(t, opts)
	terraform.InitAndApply(t, opts)

	var cfg map[string]string
	terraform.OutputStruct(t, opts, "app_config", &cfg)
	if cfg["APP_ENV"] != "staging" || cfg["LIVE_PAYMENTS"] != "false" || !strings.HasPrefix(cfg["DATABASE_URL"], "postgres://") {
		t.Fatalf("app_config = %v", cfg)
	}
	var db struct {
		RoleName   string `json:"role_name"`
		Credential struct {
			Environment string `json:"environment"`
			Name        string `json:"name"`
			Version     int64  `json:"version"`
		} `json:"credential"`
	}
	terraform.OutputStruct(t, opts, "database", &db)
	if strings.Contains(cfg["DATABASE_URL"], ":"+"@") || !strings.Contains(cfg["DATABASE_URL"], db.RoleName+"@") {
		t.Fatalf("DATABASE_URL %q should name the role %s and carry no password", cfg["DATABASE_URL"], db.RoleName)
	}
	var rows map[string]int64
	terraform.OutputStruct(t, opts, "rows", &rows)
	if n := rows["public.customers"]; n <= 0 || n >= sizes.Customers {
		t.Fatalf("rows[public.customers] = %d of %d", n, sizes.Customers)
	}
	var findings []any
	terraform.OutputStruct(t, opts, "isolation_findings", &findings)
	if len(findings) != 0 {
		t.Fatalf("isolation findings %v, want none", findings)
	}
	var parity map[string]string
	terraform.OutputStruct(t, opts, "parity_report", &parity)
	for _, k := range []string{"database", "app"} {
		if !strings.Contains(parity[k], `"violations":[]`) || !strings.Contains(parity[k], `"score":1`) {
			t.Fatalf("parity report %s = %s", k, parity[k])
		}
	}

	// The read_write role reads and writes rows, and nothing more.
	password, err := isolation.Password([]byte(secret), isolation.Scope{Environment: db.Credential.Environment, Name: db.Credential.Name, Version: db.Credential.Version}, isolation.DefaultPasswordPolicy())
	if err != nil {
		t.Fatal(err)
	}
	app := connect(ctx, t, withLogin(t, stagingDSN, db.RoleName, password))
	if _, err := app.Exec(ctx, "UPDATE support_tickets SET body = body WHERE id = (SELECT min(id) FROM support_tickets)"); err != nil {
		t.Fatalf("read_write role cannot update: %v", err)
	}
	if _, err := app.Exec(ctx, "CREATE TABLE app_owned (id int)"); !isInsufficientPrivilege(err) {
		t.Fatalf("CREATE TABLE as the read_write role: %v, want permission denied", err)
	}
	app.Close(ctx)

	if out := terraform.Apply(t, opts); !strings.Contains(out, "0 added, 0 changed, 0 destroyed") {
		t.Fatalf("the second apply changed something:\n%s", out)
	}
	if code := terraform.PlanExitCode(t, opts); code != 0 {
		t.Fatalf("plan after the second apply exits %d, want 0", code)
	}

	terraform.Destroy(t, opts)
	staging := connect(ctx, t, stagingDSN)
	if n := count(ctx, t, staging, "SELECT count(*) FROM pg_roles WHERE rolname = '"+db.RoleName+"'"); n != 0 {
		t.Fatalf("role %s still exists after destroy", db.RoleName)
	}
	if n := count(ctx, t, staging, "SELECT count(*) FROM information_schema.tables WHERE table_schema = 'public'"); n != 0 {
		t.Fatalf("%d tables of the copy are left after destroy", n)
	}
}

func mkdir(t *testing.T, parts ...string) string {
	t.Helper()
	p := filepath.Join(parts...)
	if err := os.MkdirAll(p, 0o755); err != nil {
		t.Fatal(err)
	}
	return p
}
