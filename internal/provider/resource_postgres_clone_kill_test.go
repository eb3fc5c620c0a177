package provider

import (
	"bytes"
	"crypto/sha256"
	"fmt"
	"os"
	"os/exec"
	"path/filepath"
	"strconv"
	"strings"
	"syscall"
	"testing"
	"time"

	"github.com/stagingkit/terraform-provider-staging/internal/pgclone"
	"github.com/stagingkit/terraform-provider-staging/internal/pgtest"
)

// killDir is a terraform working directory driven by the real terraform
// binary and a locally built provider.
type killDir struct {
	t                 *testing.T
	dir, cli, reg     string
	prod, prod2, stag string
}

func (d killDir) env(extra ...string) []string {
	env := append(os.Environ(), "TF_CLI_CONFIG_FILE="+d.cli, "CHECKPOINT_DISABLE=1", "TF_IN_AUTOMATION=1")
	return append(env, extra...)
}

// write sets the configuration: the clone reading source, with a masking
// key derived from label (a valid 32-byte key), and create_before_destroy
// when cbd is set.
func (d killDir) write(source, label string, cbd bool) {
	key := fmt.Sprintf("%x", sha256.Sum256([]byte(label)))
	body := shopRules()
	if cbd {
		body += "\n  lifecycle {\n    create_before_destroy = true\n  }\n"
	}
	cfg := cloneConfigWith(d.reg, [][3]string{{"prod", d.prod, "production"}, {"prod2", d.prod2, "production"}, {"staging", d.stag, "staging"}}, body)
	cfg = strings.Replace(cfg, `source      = "prod"`, fmt.Sprintf(`source      = %q`, source), 1)
	cfg = strings.Replace(cfg, `key         = "dfe8af7adc8d73117180079bfd5454fc0b3ec67e517b53f1313a1c3889ac1099"`, fmt.Sprintf(`key         = %q`, key), 1)
	cfg = requiredStaging + cfg
	if err := os.WriteFile(filepath.Join(d.dir, "main.tf"), []byte(cfg), 0o600); err != nil {
		d.t.Fatal(err)
	}
}

// apply runs terraform apply to the end and fails the test if it fails.
func (d killDir) apply(args ...string) {
	d.t.Helper()
	cmd := exec.Command("terraform", append([]string{"apply", "-auto-approve", "-input=false", "-no-color"}, args...)...)
	cmd.Dir, cmd.Env = d.dir, d.env()
	if out, err := cmd.CombinedOutput(); err != nil {
		d.t.Fatalf("terraform apply %v: %v\n%s", args, err, out)
	}
}

// applyKilled runs terraform apply with the provider told to stop at phase,
// SIGKILLs the provider process there, and waits for terraform to exit.
func (d killDir) applyKilled(phase string, args ...string) {
	d.t.Helper()
	marker := filepath.Join(d.dir, "hold-"+phase)
	_ = os.Remove(marker)
	cmd := exec.Command("terraform", append([]string{"apply", "-auto-approve", "-input=false", "-no-color"}, args...)...)
	var out bytes.Buffer
	cmd.Dir, cmd.Env, cmd.Stdout, cmd.Stderr = d.dir, d.env(envTestHold+"="+phase+":"+marker), &out, &out
	if err := cmd.Start(); err != nil {
		d.t.Fatal(err)
	}
	exited := make(chan error, 1)
	go func() { exited <- cmd.Wait() }()
	deadline := time.After(2 * time.Minute)
	var pid int
	for pid == 0 {
		select {
		case err := <-exited:
			d.t.Fatalf("terraform exited (%v) before the provider reached %s:\n%s", err, phase, out.String())
		case <-deadline:
			_ = cmd.Process.Kill()
			d.t.Fatalf("the provider never reached %s:\n%s", phase, out.String())
		case <-time.After(50 * time.Millisecond):
			if b, err := os.ReadFile(marker); err == nil {
				pid, _ = strconv.Atoi(string(b))
			}
		}
	}
	if pid == cmd.Process.Pid {
		d.t.Fatal("the marker names terraform, not the provider")
	}
	if err := syscall.Kill(pid, syscall.SIGKILL); err != nil {
		d.t.Fatalf("killing the provider (pid %d): %v", pid, err)
	}
	select {
	case err := <-exited:
		if err == nil {
			d.t.Fatalf("terraform apply succeeded although its provider was killed at %s:\n%s", phase, out.String())
		}
	case <-time.After(2 * time.Minute):
		_ = cmd.Process.Kill()
		d.t.Fatalf("terraform did not exit after its provider was killed at %s:\n%s", phase, out.String())
	}
	d.waitForClones()
}

// waitForClones waits until the staging server has ended the killed
// provider's sessions (and with them its transaction and advisory lock).
func (d killDir) waitForClones() {
	d.t.Helper()
	for range 300 {
		if pgCount(d.t, d.stag, `SELECT count(*) FROM pg_stat_activity WHERE application_name = 'staging-pgclone'`) == 0 {
			return
		}
		time.Sleep(100 * time.Millisecond)
	}
	d.t.Fatal("the killed clone's sessions are still open on staging")
}

// checkLive fails unless staging holds a live, non-empty copy and no
// shadow schema stands in for a live one.
func (d killDir) checkLive(when string) {
	d.t.Helper()
	if n := pgCount(d.t, d.stag, `SELECT count(*) FROM public.customers`); n == 0 {
		d.t.Errorf("%s: staging has no customers", when)
	}
	if n := pgCount(d.t, d.stag, `SELECT count(*) FROM pg_namespace WHERE nspname LIKE '%\_\_stg\_%'`); n != 0 {
		d.t.Errorf("%s: %d shadow schemas left after a successful apply", when, n)
	}
}

// TestAccPostgresClone_killMatrix kills the provider process (SIGKILL:
// killing terraform would only cancel the provider's context) in the COPY,
// while indexes are built, during foreign key validation and inside the
// swap, in each lifecycle that makes a new copy: an in-place re-copy, a
// -replace, and a create_before_destroy replacement. After each kill
// staging is exactly the previous copy (or, after -replace, which destroys
// first by request, whatever it is), and the next apply recovers.
func TestAccPostgresClone_killMatrix(t *testing.T) {
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
	prod2 := secondProduction(t, prod)
	cli := buildProvider(t)
	phases := []string{pgclone.HoldCopy, pgclone.HoldIndex, pgclone.HoldValidate, pgclone.HoldSwap}
	newDir := func(t *testing.T) killDir {
		d := killDir{t: t, dir: t.TempDir(), cli: cli, prod: prod, prod2: prod2, stag: staging}
		d.reg = filepath.Join(d.dir, "registry.db")
		return d
	}
	destroy := func(d killDir) {
		cmd := exec.Command("terraform", "destroy", "-auto-approve", "-input=false", "-no-color")
		cmd.Dir, cmd.Env = d.dir, d.env()
		if out, err := cmd.CombinedOutput(); err != nil {
			t.Fatalf("terraform destroy: %v\n%s", err, out)
		}
		if n := pgCount(t, staging, `SELECT count(*) FROM pg_class WHERE relname = 'customers'`); n != 0 {
			t.Fatal("destroy left the copy")
		}
	}

	t.Run("recopy", func(t *testing.T) {
		d := newDir(t)
		d.write("prod", "kill-key-0", false)
		d.apply()
		previous := stagingDigest(t, staging)
		for i, phase := range phases {
			d.write("prod", fmt.Sprintf("kill-key-%d", i+1), false)
			// key_version tells Terraform the key changed: an in-place re-copy.
			cfg, _ := os.ReadFile(filepath.Join(d.dir, "main.tf"))
			_ = os.WriteFile(filepath.Join(d.dir, "main.tf"), []byte(strings.Replace(string(cfg), "  key ", fmt.Sprintf("  key_version = %d\n  key ", i+1), 1)), 0o600)
			d.applyKilled(phase)
			if got := stagingDigest(t, staging); got != previous {
				t.Fatalf("killed at %s: staging is not the previous copy:\nprevious:\n%s\nnow:\n%s", phase, previous, got)
			}
			d.apply()
			d.checkLive("recovered from " + phase)
			now := stagingDigest(t, staging)
			if now == previous {
				t.Errorf("recovered from %s: the new key changed nothing", phase)
			}
			previous = now
		}
		destroy(d)
	})

	t.Run("replace", func(t *testing.T) {
		d := newDir(t)
		d.write("prod", "kill-key-0", false)
		d.apply()
		fresh := stagingDigest(t, staging)
		for _, phase := range phases {
			// -replace destroys first, as asked: staging may be empty after
			// the kill, but never holds a half-built copy, and the next
			// apply makes it whole again.
			d.applyKilled(phase, "-replace=staging_postgres_clone.shop")
			if got := stagingDigest(t, staging); got != fresh && got != "schemas public\n" {
				t.Errorf("killed at %s during -replace: staging is neither the copy nor empty:\n%s", phase, got)
			}
			d.apply()
			d.checkLive("recovered from " + phase)
			if got := stagingDigest(t, staging); got != fresh {
				t.Errorf("recovered from %s: staging is not a fresh copy:\n%s\nwant:\n%s", phase, got, fresh)
			}
		}
		destroy(d)
	})

	t.Run("create_before_destroy", func(t *testing.T) {
		d := newDir(t)
		sources := []string{"prod", "prod2"}
		d.write(sources[0], "kill-key-0", true)
		d.apply()
		previous := stagingDigest(t, staging)
		for i, phase := range phases {
			source := sources[(i+1)%2]
			d.write(source, "kill-key-0", true)
			d.applyKilled(phase)
			if got := stagingDigest(t, staging); got != previous {
				t.Fatalf("killed at %s: staging is not the previous copy:\nprevious:\n%s\nnow:\n%s", phase, previous, got)
			}
			d.apply()
			d.checkLive("recovered from " + phase)
			now := stagingDigest(t, staging)
			if now == previous {
				t.Errorf("recovered from %s: staging still holds the copy of the other source", phase)
			}
			srcDSN := map[string]string{"prod": prod, "prod2": prod2}[source]
			if got, want := pgCount(t, staging, `SELECT count(*) FROM support_tickets`), pgCount(t, srcDSN, `SELECT count(*) FROM support_tickets`); got != want {
				t.Errorf("recovered from %s: %d tickets in staging, %d in %s", phase, got, want, source)
			}
			previous = now
		}
		destroy(d)
	})
}
