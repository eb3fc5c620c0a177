package provider

import (
	"net/url"
	"os"
	"path/filepath"
	"strings"
	"testing"

	"github.com/stagingkit/terraform-provider-staging/internal/isolation"
	"github.com/stagingkit/terraform-provider-staging/internal/pgtest"
)

// TestAccSecrets_isolationNeverStored applies, from a saved plan, every
// credential isolation object: the staging_credential ephemeral resource
// (a password, a token and an ed25519 key pair), staging_postgres_role
// with the password write-only, staging_isolation_check with the derived
// secrets in its write-only configuration and the live probe, and the
// secret_fingerprint function over an ephemeral production secret. The
// root secret, the masking key, the derived password, token and private
// key, the production secret and the database passwords must appear in
// none of the saved plan, its JSON, the state, its JSON, the TRACE logs or
// anything terraform printed.
func TestAccSecrets_isolationNeverStored(t *testing.T) {
	requireTerraform(t)
	prodSuper := pgtest.Require(t).NewDatabase(t)
	prod := pgtest.ReaderDSN(t, prodSuper)
	stagingCluster := pgtest.StartForTest(t)
	staging := stagingCluster.NewDatabase(t)
	const (
		root       = "c0ffee5eed0123456789abcdef0123456789abcdef0123456789abcdef012345"
		maskingKey = "0a1b2c3d4e5f60718293a4b5c6d7e8f90a1b2c3d4e5f60718293a4b5c6d7e8f9"
		prodSecret = "production-only-secret-ocelot"
		env        = "shop-sec"
	)
	derive := func(name string) isolation.Scope { return isolation.Scope{Environment: env, Name: name, Version: 1} }
	password, err := isolation.Password([]byte(root), derive("db"), isolation.DefaultPasswordPolicy())
	if err != nil {
		t.Fatal(err)
	}
	token, _ := isolation.Token([]byte(root), derive("api"), 32, isolation.EncodingBase64URL)
	kp, _ := isolation.Ed25519([]byte(root), derive("deploy"))
	keyBody := strings.Join(strings.Split(strings.TrimSpace(kp.PrivateKeyPEM), "\n")[1:2], "")
	fp, _ := isolation.SecretFingerprint("another-production-secret", "published-salt-2026")

	dir := t.TempDir()
	config := `
terraform {
  required_providers {
    staging = { source = "stagingkit/staging" }
  }
}

variable "prod_dsn" {
  type      = string
  sensitive = true
  ephemeral = true
}

variable "staging_dsn" {
  type      = string
  sensitive = true
  ephemeral = true
}

variable "root_secret" {
  type      = string
  sensitive = true
  ephemeral = true
}

variable "masking_key" {
  type      = string
  sensitive = true
  ephemeral = true
}

variable "prod_secret" {
  type      = string
  sensitive = true
  ephemeral = true
}

provider "staging" {
  registry               = "` + filepath.ToSlash(filepath.Join(dir, "registry.db")) + `"
  actor                  = "secrets-test"
  credential_root_secret = var.root_secret
  masking_key            = var.masking_key
  postgres {
    name = "prod"
    dsn  = var.prod_dsn
    role = "production"
  }
  postgres {
    name = "staging"
    dsn  = var.staging_dsn
    role = "staging"
  }
}

resource "staging_team" "shop" {
  name = "shop"
}

resource "staging_environment" "e" {
  name = "` + env + `"
  team = staging_team.shop.name
  ttl  = "24h"
}

ephemeral "staging_credential" "db" {
  environment = staging_environment.e.name
  name        = "db"
}

ephemeral "staging_credential" "api" {
  environment = staging_environment.e.name
  name        = "api"
  type        = "token"
}

ephemeral "staging_credential" "deploy" {
  environment = staging_environment.e.name
  name        = "deploy"
  type        = "ed25519"
}

resource "staging_postgres_role" "app" {
  postgres            = "staging"
  name                = "${staging_environment.e.namespace}_app"
  environment         = staging_environment.e.name
  preset              = "read_write"
  password_wo         = ephemeral.staging_credential.db.value
  password_wo_version = 1
}

resource "staging_isolation_check" "e" {
  environment = staging_environment.e.name
  config_wo = {
    DATABASE_URL = "postgres://${staging_postgres_role.app.name}:${ephemeral.staging_credential.db.value}@staging-db.internal:5432/shop"
    API_TOKEN    = ephemeral.staging_credential.api.value
    DEPLOY_KEY   = ephemeral.staging_credential.deploy.private_key_pem
  }
  production_hosts               = ["db.prod.example.com"]
  production_secret_fingerprints = { other = "` + fp + `" }
  postgres                       = "staging"
  probe_production               = "prod"
  probe_user                     = staging_postgres_role.app.name
  probe_password_wo              = ephemeral.staging_credential.db.value

  lifecycle {
    precondition {
      condition     = startswith(provider::staging::secret_fingerprint(var.prod_secret, "published-salt-2026"), "$argon2id$v=19$")
      error_message = "secret_fingerprint did not fingerprint."
    }
  }
}

output "role" {
  value = staging_postgres_role.app.name
}

output "report" {
  value = staging_isolation_check.e.report
}

output "public_key" {
  value = "not ephemeral: ` + kp.PublicKeyOpenSSH + `"
}
`
	if err := os.WriteFile(filepath.Join(dir, "main.tf"), []byte(config), 0o600); err != nil {
		t.Fatal(err)
	}
	_, stagingPW := splitPassword(t, staging)
	_, readerPW := splitPassword(t, prod)
	vars := map[string]string{"prod_dsn": prod, "staging_dsn": staging, "root_secret": root, "masking_key": maskingKey, "prod_secret": prodSecret}
	scan := applyWithoutSecrets(t, dir, buildProvider(t), vars, root, maskingKey, prodSecret, password, token, keyBody, stagingPW, readerPW)

	for file, want := range map[string][]string{
		"plan.json":  {`"staging_postgres_role"`, `"staging_isolation_check"`, `"password_wo_version"`},
		"apply.log":  {"[TRACE]", "tf_rpc=ApplyResourceChange", "tf_rpc=OpenEphemeralResource"},
		"state.json": {`"staging_isolation_check"`, `\"probe\":\"refused\"`, `\"passed\":true`, `DATABASE_URL`},
	} {
		text := scan.text(file)
		for _, w := range want {
			if !strings.Contains(text, w) {
				t.Errorf("%s lacks %s: the scan did not search what it should", file, w)
			}
		}
	}
	role := strings.TrimSpace(scan.must("output-role", "output", "-raw", "role"))
	if err := tryLogin(staging, role, password, "SELECT 1"); err != nil {
		t.Errorf("the role does not log in with the derived password: %v", err)
	}
	scan.check()
}

// splitPassword returns a URL DSN's user and password.
func splitPassword(t *testing.T, dsn string) (user, password string) {
	t.Helper()
	u, err := url.Parse(dsn)
	if err != nil {
		t.Fatal(err)
	}
	pw, _ := u.User.Password()
	return u.User.Username(), pw
}

// TestAccSecrets_isolationFindingsHideValues: a plan that fails on
// findings about secret values (a production secret, a DSN to production
// holding it as its password) names the keys, and neither its output nor
// its TRACE log holds the value.
func TestAccSecrets_isolationFindingsHideValues(t *testing.T) {
	requireTerraform(t)
	const secret = "leaked-production-secret-quokka"
	fp, err := isolation.SecretFingerprint(secret, "published-salt-2026")
	if err != nil {
		t.Fatal(err)
	}
	dir := t.TempDir()
	config := `
terraform {
  required_providers {
    staging = { source = "stagingkit/staging" }
  }
}

variable "app_secret" {
  type      = string
  sensitive = true
  ephemeral = true
}

provider "staging" {
  registry = "` + filepath.ToSlash(filepath.Join(dir, "registry.db")) + `"
}

resource "staging_isolation_check" "e" {
  config_wo = {
    DB_PASSWORD  = var.app_secret
    DATABASE_URL = "postgres://app:${var.app_secret}@db.prod.example.com:5432/shop"
  }
  production_hosts               = ["db.prod.example.com"]
  production_secret_fingerprints = { orders_db_password = "` + fp + `" }
}
`
	if err := os.WriteFile(filepath.Join(dir, "main.tf"), []byte(config), 0o600); err != nil {
		t.Fatal(err)
	}
	scan := newSecretScan(t, dir, buildProvider(t), map[string]string{"app_secret": secret}, secret, "quokka")
	if _, err := scan.run("plan", "plan", "-input=false"); err == nil {
		t.Fatalf("the plan passed:\n%s", scan.outputs["plan"])
	}
	scan.check()
	out := strings.Join(strings.Fields(scan.outputs["plan"]), " ")
	for _, want := range []string{
		`production_secret: DB_PASSWORD equals production secret "orders_db_password"`,
		`production_dsn: DATABASE_URL holds a connection string whose host matches production host db.prod.example.com (production_hosts[0])`,
	} {
		if !strings.Contains(out, want) {
			t.Errorf("the plan's errors lack %q:\n%s", want, scan.outputs["plan"])
		}
	}
}
