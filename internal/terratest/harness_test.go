package terratest

import (
	"context"
	"crypto/rand"
	"encoding/hex"
	"fmt"
	"io/fs"
	"os"
	"os/exec"
	"path/filepath"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/gruntwork-io/terratest/modules/terraform"

	"github.com/stagingkit/terraform-provider-staging/internal/pgtest"
)

// mirrorVersion is the version the provider built from this checkout is
// installed as in the filesystem mirror; the modules accept >= 0.1.0, < 1.0.0.
const mirrorVersion = "0.1.0"

func TestMain(m *testing.M) {
	code := pgtest.Main(m)
	if mirrorDir != "" {
		_ = os.RemoveAll(mirrorDir)
	}
	os.Exit(code)
}

// requireAcc skips t unless TF_ACC is set, like the provider's acceptance
// tests: these suites run real terraform against real PostgreSQL.
func requireAcc(t *testing.T) {
	t.Helper()
	if os.Getenv("TF_ACC") == "" {
		t.Skip("set TF_ACC=1 to run the Terratest suites (they run terraform against PostgreSQL)")
	}
	if _, err := exec.LookPath("terraform"); err != nil {
		if pgtest.InCI() {
			t.Fatalf("terraform is required under CI=true: %v", err)
		}
		t.Skipf("terraform is not on PATH: %v", err)
	}
}

var (
	mirrorOnce sync.Once
	mirrorCfg  string
	mirrorErr  error
	mirrorDir  string
)

// repoRoot is the checkout this package is in (it lives in
// internal/terratest).
func repoRoot(t *testing.T) string {
	t.Helper()
	wd, err := os.Getwd()
	if err != nil {
		t.Fatal(err)
	}
	return filepath.Dir(filepath.Dir(wd))
}

// cliConfig builds the provider from this checkout once per test binary,
// installs it into a filesystem mirror as stagingkit/staging 0.1.0, and
// returns a Terraform CLI configuration that installs it from there, so
// that `terraform init` works without a registry.
func cliConfig(t *testing.T) string {
	t.Helper()
	mirrorOnce.Do(func() {
		mirrorDir, mirrorErr = os.MkdirTemp("", "staging-mirror-")
		if mirrorErr != nil {
			return
		}
		plat := filepath.Join(mirrorDir, "registry.terraform.io", "stagingkit", "staging", mirrorVersion, "linux_amd64")
		if mirrorErr = os.MkdirAll(plat, 0o755); mirrorErr != nil {
			return
		}
		bin := filepath.Join(plat, "terraform-provider-staging_v"+mirrorVersion)
		build := exec.Command("go", "build", "-trimpath", "-ldflags", "-X main.version="+mirrorVersion, "-o", bin, ".")
		build.Dir = repoRoot(t)
		build.Env = append(os.Environ(), "CGO_ENABLED=0")
		if out, err := build.CombinedOutput(); err != nil {
			mirrorErr = fmt.Errorf("building the provider: %v\n%s", err, out)
			return
		}
		mirrorCfg = filepath.Join(mirrorDir, "terraformrc")
		cfg := fmt.Sprintf(`provider_installation {
  filesystem_mirror {
    path    = %q
    include = ["registry.terraform.io/stagingkit/staging"]
  }
  direct {
    exclude = ["registry.terraform.io/stagingkit/staging"]
  }
}
`, mirrorDir)
		mirrorErr = os.WriteFile(mirrorCfg, []byte(cfg), 0o644)
	})
	if mirrorErr != nil {
		t.Fatalf("provider mirror: %v", mirrorErr)
	}
	return mirrorCfg
}

// copyModule copies modules/<name> alone into a fresh directory of t's,
// named as the module's own repository would be (terraform-staging-<name>),
// and returns the copy's path: each test gets its own .terraform, lock file
// and state, and applying the module's example there proves the module
// works outside this tree, as it does when published on its own.
func copyModule(t *testing.T, name string) string {
	t.Helper()
	src := filepath.Join(repoRoot(t), "modules", name)
	dst := filepath.Join(t.TempDir(), "terraform-staging-"+name)
	err := filepath.WalkDir(src, func(p string, d fs.DirEntry, err error) error {
		if err != nil {
			return err
		}
		rel, _ := filepath.Rel(src, p)
		if d.IsDir() && d.Name() == ".terraform" {
			return filepath.SkipDir
		}
		if !d.IsDir() && (d.Name() == ".terraform.lock.hcl" || strings.HasPrefix(d.Name(), "terraform.tfstate")) {
			return nil
		}
		target := filepath.Join(dst, rel)
		if d.IsDir() {
			return os.MkdirAll(target, 0o755)
		}
		b, err := os.ReadFile(p)
		if err != nil {
			return err
		}
		return os.WriteFile(target, b, 0o644)
	})
	if err != nil {
		t.Fatalf("copying modules/%s: %v", name, err)
	}
	return dst
}

// options are Terraform options for dir with the mirror, a registry file
// of t's own and env (secrets go through TF_VAR_ variables, never -var
// flags, so they do not show in the process list).
func options(t *testing.T, dir string, vars map[string]any, env map[string]string) *terraform.Options {
	t.Helper()
	e := map[string]string{
		"TF_CLI_CONFIG_FILE": cliConfig(t),
		"CHECKPOINT_DISABLE": "1",
		"STAGING_REGISTRY":   filepath.Join(t.TempDir(), "registry.db"),
		"STAGING_ACTOR":      "terratest@example.com",
		"TF_IN_AUTOMATION":   "1",
	}
	for k, v := range env {
		e[k] = v
	}
	return terraform.WithDefaultRetryableErrors(t, &terraform.Options{
		TerraformDir: dir,
		Vars:         vars,
		EnvVars:      e,
		NoColor:      true,
	})
}

// randomHex returns n random bytes in hex: masking keys and root secrets.
func randomHex(t *testing.T, n int) string {
	t.Helper()
	b := make([]byte, n)
	if _, err := rand.Read(b); err != nil {
		t.Fatal(err)
	}
	return hex.EncodeToString(b)
}

// uniqueName returns prefix followed by a short random suffix, a DNS label.
func uniqueName(t *testing.T, prefix string) string {
	return prefix + "-" + randomHex(t, 3)
}

// testContext is t's context with a deadline well under the package's.
func testContext(t *testing.T) context.Context {
	ctx, cancel := context.WithTimeout(context.Background(), 10*time.Minute)
	t.Cleanup(cancel)
	return ctx
}
