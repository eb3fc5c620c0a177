package provider

import (
	"archive/zip"
	"bytes"
	"context"
	"encoding/base64"
	"encoding/json"
	"fmt"
	"io"
	"io/fs"
	"maps"
	"net"
	"net/url"
	"os"
	"os/exec"
	"path/filepath"
	"slices"
	"strings"
	"testing"
	"time"

	"github.com/hashicorp/terraform-plugin-framework/path"
	"github.com/jackc/pgx/v5"

	"github.com/stagingkit/terraform-provider-staging/internal/pgtest"
)

// secretScan runs terraform commands in one working directory, every one
// with TF_LOG=TRACE into a log file of that directory, and searches all
// they leave behind for secrets: their output, and every file of the
// directory (the configuration, saved plans entry by entry, plan and state
// JSON, the state and its backup, the logs).
type secretScan struct {
	t       *testing.T
	dir     string
	env     []string
	secrets []string
	outputs map[string]string // what each command printed, by step name
}

// newSecretScan prepares a scan of dir. vars are the root module's
// variables, given as TF_VAR_ environment variables so that no secret is
// written into the configuration (Terraform asks for ephemeral variables
// again when a saved plan is applied; the environment answers both times).
func newSecretScan(t *testing.T, dir, cliConfig string, vars map[string]string, secrets ...string) *secretScan {
	t.Helper()
	requireTerraform(t)
	env := append(os.Environ(), "TF_CLI_CONFIG_FILE="+cliConfig, "CHECKPOINT_DISABLE=1", "TF_IN_AUTOMATION=1", "TF_LOG=TRACE")
	for _, name := range slices.Sorted(maps.Keys(vars)) {
		env = append(env, "TF_VAR_"+name+"="+vars[name])
	}
	return &secretScan{t: t, dir: dir, env: env, secrets: secrets, outputs: map[string]string{}}
}

// run runs terraform with args as step name, its TRACE log in name.log, and
// returns what it printed on stdout (stderr goes to the recorded output
// too).
func (s *secretScan) run(name string, args ...string) (stdout string, err error) {
	s.t.Helper()
	ctx, cancel := context.WithTimeout(context.Background(), 5*time.Minute)
	defer cancel()
	cmd := exec.CommandContext(ctx, "terraform", append(args, "-no-color")...)
	cmd.Dir = s.dir
	cmd.Env = append(slices.Clone(s.env), "TF_LOG_PATH="+filepath.Join(s.dir, name+".log"))
	var out, errOut bytes.Buffer
	cmd.Stdout, cmd.Stderr = &out, &errOut
	err = cmd.Run()
	s.outputs[name] = out.String() + errOut.String()
	return out.String(), err
}

// must is run that fails the test when terraform fails.
func (s *secretScan) must(name string, args ...string) string {
	s.t.Helper()
	out, err := s.run(name, args...)
	if err != nil {
		s.t.Fatalf("terraform %s: %v\n%s", strings.Join(args, " "), err, s.outputs[name])
	}
	return out
}

// write saves text as a file of the directory, so that check searches it.
func (s *secretScan) write(name, text string) {
	s.t.Helper()
	if err := os.WriteFile(filepath.Join(s.dir, name), []byte(text), 0o600); err != nil {
		s.t.Fatal(err)
	}
}

// applyWithoutSecrets runs terraform plan -out, show -json of the saved
// plan, apply of the saved plan and show -json of the state, then check.
// It returns the scan, whose texts a test can search for what must be
// there.
func applyWithoutSecrets(t *testing.T, dir, cliConfig string, vars map[string]string, secrets ...string) *secretScan {
	t.Helper()
	s := newSecretScan(t, dir, cliConfig, vars, secrets...)
	s.must("plan", "plan", "-input=false", "-out=tfplan")
	s.write("plan.json", s.must("show-plan", "show", "-json", "tfplan"))
	s.must("apply", "apply", "-input=false", "tfplan")
	s.write("state.json", s.must("show-state", "show", "-json"))
	s.check()
	return s
}

// text returns a file of the directory.
func (s *secretScan) text(name string) string {
	s.t.Helper()
	b, err := os.ReadFile(filepath.Join(s.dir, name))
	if err != nil {
		s.t.Fatal(err)
	}
	return string(b)
}

// check fails the test for every secret, in any of the forms secretForms
// lists, found in a command's output or a file of the directory.
func (s *secretScan) check() {
	s.t.Helper()
	texts := map[string]string{}
	for name, out := range s.outputs {
		texts["output of "+name] = out
	}
	err := filepath.WalkDir(s.dir, func(p string, d fs.DirEntry, err error) error {
		if err != nil || d.IsDir() {
			return err
		}
		b, err := os.ReadFile(p)
		if err != nil {
			return err
		}
		rel, _ := filepath.Rel(s.dir, p)
		texts[rel] = string(b)
		// A saved plan is a zip file: its entries are compressed.
		if zr, err := zip.NewReader(bytes.NewReader(b), int64(len(b))); err == nil {
			for _, f := range zr.File {
				r, err := f.Open()
				if err != nil {
					return err
				}
				entry, err := io.ReadAll(r)
				r.Close()
				if err != nil {
					return err
				}
				texts[rel+"!"+f.Name] = string(entry)
			}
		}
		return nil
	})
	if err != nil {
		s.t.Fatal(err)
	}
	if len(texts) < len(s.outputs)+2 {
		s.t.Fatalf("nothing to search in %s", s.dir)
	}
	for _, name := range slices.Sorted(maps.Keys(texts)) {
		for i, secret := range s.secrets {
			for _, form := range secretForms(secret) {
				if strings.Contains(texts[name], form) {
					s.t.Errorf("%s holds secret %d (%.3s…) as %q", name, i, secret, form)
					break
				}
			}
		}
	}
}

// secretForms lists the ways a secret may be written down: as it is and
// URL-encoded (as a query value, a path and a URL's password), each also
// JSON-escaped, and in base64 at any alignment (the part of its encoding
// that only its own bytes determine).
func secretForms(secret string) []string {
	var forms []string
	for _, f := range []string{secret, url.QueryEscape(secret), url.PathEscape(secret), strings.TrimPrefix(url.UserPassword("", secret).String(), ":")} {
		forms = append(forms, f)
		for _, html := range []bool{true, false} {
			var b bytes.Buffer
			enc := json.NewEncoder(&b)
			enc.SetEscapeHTML(html)
			_ = enc.Encode(f)
			forms = append(forms, strings.TrimSuffix(strings.TrimSpace(b.String()), `"`)[1:])
		}
	}
	for _, enc := range []*base64.Encoding{base64.StdEncoding, base64.URLEncoding} {
		for k := range 3 {
			e := enc.EncodeToString(append(make([]byte, k), secret...))
			start, end := 0, 4*((k+len(secret))/3)
			if k > 0 {
				start = 4
			}
			if end-start >= 8 {
				forms = append(forms, e[start:end])
			}
		}
	}
	var out []string
	for _, f := range forms {
		if len(f) >= 4 && !slices.Contains(out, f) {
			out = append(out, f)
		}
	}
	return out
}

// loginRole creates (or resets the password of) a login role in the
// cluster of superuserDSN, and returns superuserDSN's URL with that login.
func loginRole(t *testing.T, superuserDSN, role, password, attributes string, grants ...string) *url.URL {
	t.Helper()
	ctx := context.Background()
	conn, err := pgx.Connect(ctx, superuserDSN)
	if err != nil {
		t.Fatal(err)
	}
	defer conn.Close(ctx)
	var exists bool
	if err := conn.QueryRow(ctx, `SELECT EXISTS (SELECT 1 FROM pg_roles WHERE rolname = $1)`, role).Scan(&exists); err != nil {
		t.Fatal(err)
	}
	verb := "CREATE"
	if exists {
		verb = "ALTER"
	}
	lit := "'" + strings.ReplaceAll(password, "'", "''") + "'"
	stmts := append([]string{fmt.Sprintf("%s ROLE %s LOGIN %s PASSWORD %s", verb, pgx.Identifier{role}.Sanitize(), attributes, lit)}, grants...)
	for _, q := range stmts {
		if _, err := conn.Exec(ctx, q); err != nil {
			t.Fatalf("%v\n%s", err, strings.ReplaceAll(q, lit, "'…'"))
		}
	}
	u, err := url.Parse(superuserDSN)
	if err != nil {
		t.Fatal(err)
	}
	u.User = url.UserPassword(role, password)
	return u
}

// keywordValueDSN spells a postgres:// URL as a libpq keyword/value string,
// every value quoted and escaped.
func keywordValueDSN(u *url.URL) string {
	quote := func(s string) string { return "'" + strings.NewReplacer(`\`, `\\`, `'`, `\'`).Replace(s) + "'" }
	pw, _ := u.User.Password()
	kv := []string{
		"host=" + quote(u.Hostname()), "port=" + u.Port(), "user = " + quote(u.User.Username()),
		"password = " + quote(pw), "dbname=" + quote(strings.TrimPrefix(u.Path, "/")),
	}
	for k, vs := range u.Query() {
		kv = append(kv, k+"="+quote(vs[0]))
	}
	return strings.Join(kv, " ")
}

// TestAccSecrets_neverStored applies, from a saved plan, one configuration
// that uses every object of the provider that takes a secret or a
// connection: a PostgreSQL registry, a masking key, a production and a
// staging connection, a team, an environment, a lease, a PII scan, masked
// rows, two fingerprints, a parity check, a masked clone and the mask
// function. The DSNs, in three spellings (URL userinfo, URL query,
// keyword/value with quotes, escapes and spaces), and the key are ephemeral
// variables. No password, no word of one and no key may appear in the
// saved plan, its JSON, the state, its JSON, the TRACE logs of core and
// provider, or anything terraform printed.
func TestAccSecrets_neverStored(t *testing.T) {
	requireTerraform(t)
	prod, staging := seededShop(t)
	registryURL, err := url.Parse(pgtest.Require(t).NewDatabase(t))
	if err != nil {
		t.Fatal(err)
	}
	// The registry's password goes in the query string instead of the
	// userinfo.
	registryPW, _ := registryURL.User.Password()
	registryURL.User = url.User(registryURL.User.Username())
	q := registryURL.Query()
	q.Set("password", registryPW)
	registryURL.RawQuery = q.Encode()
	// Production is read by a login that only reads; staging is written by
	// one whose password needs every escape of a keyword/value string.
	const readerPW, writerPW = "reader quagga/zephyr@nimbus:77?&", `writer 'corvid' \ tundra=lumen`
	prodDB, err := url.Parse(prod)
	if err != nil {
		t.Fatal(err)
	}
	prodURL := loginRole(t, pgtest.Require(t).DSN(strings.TrimPrefix(prodDB.Path, "/")), "secrets_reader", readerPW, "BYPASSRLS",
		"GRANT pg_read_all_data TO secrets_reader")
	stagingKV := keywordValueDSN(loginRole(t, staging, "secrets_writer", writerPW, "SUPERUSER"))
	const key = "CO9OKDLU3pMbRPuC3sOluculgf3jHbOGIK2UOhvhJ2g"

	dir := t.TempDir()
	config := `
terraform {
  required_providers {
    staging = { source = "stagingkit/staging" }
  }
}

variable "registry_dsn" {
  type      = string
  sensitive = true
  ephemeral = true
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

variable "masking_key" {
  type      = string
  sensitive = true
  ephemeral = true
}

provider "staging" {
  registry    = var.registry_dsn
  actor       = "secrets-test"
  masking_key = var.masking_key

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

# Masking with an ephemeral key gives an ephemeral value: Terraform refuses
# it in an output or a stored attribute, so a precondition uses it.
locals {
  masked_email = provider::staging::mask("alice.smith@example.com", "email", var.masking_key, {})
}

resource "staging_team" "shop" {
  name = "shop"
  lifecycle {
    precondition {
      condition     = endswith(local.masked_email, "@example.com") && local.masked_email != "alice.smith@example.com"
      error_message = "mask with the ephemeral key did not mask."
    }
  }
}

resource "staging_environment" "demo" {
  name = "shop-demo"
  team = staging_team.shop.name
}

resource "staging_lease" "demo" {
  environment = staging_environment.demo.name
  duration    = "1h"
  reason      = "secrets test"
}

data "staging_pii_scan" "prod" {
  postgres = "prod"
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

data "staging_postgres_fingerprint" "prod" {
  postgres = "prod"
}

data "staging_postgres_fingerprint" "staging" {
  postgres = "staging"
}

resource "staging_parity_check" "db" {
  environment = staging_environment.demo.name
  production  = { version = data.staging_postgres_fingerprint.prod.server_version }
  staging     = { version = data.staging_postgres_fingerprint.staging.server_version }
  rule {
    path  = "version"
    match = "same_major"
  }
}

resource "staging_postgres_clone" "shop" {
  source      = "prod"
  target      = "staging"
  environment = staging_environment.demo.name
  key         = var.masking_key
` + shopRules() + `
}

data "staging_environments" "shop" {
  team       = staging_team.shop.name
  depends_on = [staging_environment.demo]
}

data "staging_audit_events" "demo" {
  object_type = "environment"
  object      = staging_environment.demo.name
}

output "personal_columns" {
  value = length(data.staging_pii_scan.prod.columns)
}

output "fixtures" {
  value = data.staging_masked_rows.fixtures.rows
}

output "rows" {
  value = staging_postgres_clone.shop.rows_total
}

output "environments" {
  value = [for e in data.staging_environments.shop.environments : e.name]
}
`
	if err := os.WriteFile(filepath.Join(dir, "main.tf"), []byte(config), 0o600); err != nil {
		t.Fatal(err)
	}
	vars := map[string]string{
		"registry_dsn": registryURL.String(),
		"prod_dsn":     prodURL.String(),
		"staging_dsn":  stagingKV,
		"masking_key":  key,
	}
	secrets := []string{registryPW, readerPW, writerPW, key, `writer \'corvid\' \\ tundra=lumen`}
	// Every word of a password too: none occurs in a message by chance.
	secrets = append(secrets, "quagga", "zephyr", "nimbus", "corvid", "tundra=lumen")
	scan := applyWithoutSecrets(t, dir, buildProvider(t), vars, secrets...)

	// The scan saw what it was meant to: a plan of every object, the
	// provider's TRACE logs, and an apply that used every connection.
	for file, want := range map[string][]string{
		"plan.json":  {`"staging_postgres_clone"`, `"staging_parity_check"`, `"staging_lease"`, `"data.staging_masked_rows.fixtures"`},
		"apply.log":  {"[TRACE]", "copying table", "tf_rpc=ApplyResourceChange"},
		"plan.log":   {"tf_rpc=ReadDataSource", "tf_data_source_type=staging_pii_scan", "tf_data_source_type=staging_postgres_fingerprint"},
		"state.json": {`"staging_lease"`, `"staging_environments"`, `"staging_audit_events"`},
	} {
		text := scan.text(file)
		for _, w := range want {
			if !strings.Contains(text, w) {
				t.Errorf("%s lacks %s: the scan did not search what it should", file, w)
			}
		}
	}
	if n := pgCount(t, staging, `SELECT count(*) FROM customers`); n == 0 {
		t.Error("the clone copied no customers")
	}
}

// closedPort returns a local TCP port nothing listens on.
func closedPort(t *testing.T) int {
	t.Helper()
	l, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	port := l.Addr().(*net.TCPAddr).Port
	l.Close()
	return port
}

// badPasswordDSN is a keyword/value DSN whose quoted password has spaces,
// for a server that is not there.
func badPasswordDSN(port int) string {
	return fmt.Sprintf("host=127.0.0.1 port=%d user=u password='correct horse battery' dbname=x connect_timeout=2", port)
}

// TestConnection_keywordValuePasswordNotInDiagnostic: a connection error
// for a keyword/value DSN with a quoted password with spaces names the
// server, database and user, and no word of the password.
func TestConnection_keywordValuePasswordNotInDiagnostic(t *testing.T) {
	port := closedPort(t)
	c := pgConnection{name: "prod", dsn: badPasswordDSN(port), role: roleStaging}
	var diags diagnostics
	if _, _, ok := c.readOnly(context.Background(), path.Root("postgres"), "Error Reading PostgreSQL Fingerprint", &diags); ok || !diags.HasError() {
		t.Fatalf("connecting to a closed port succeeded: %v", diags)
	}
	for _, d := range diags {
		text := d.Summary() + "\n" + d.Detail()
		for _, w := range []string{"correct", "horse", "battery"} {
			if strings.Contains(text, w) {
				t.Errorf("the diagnostic holds %q of the password:\n%s", w, text)
			}
		}
		if want := fmt.Sprintf(`connecting to 127.0.0.1:%d/x as u (connection "prod")`, port); !strings.Contains(text, want) {
			t.Errorf("the diagnostic lacks %q:\n%s", want, text)
		}
	}
}

// TestAccSecrets_connectionErrorHidesPassword runs terraform plan against a
// connection that fails, its keyword/value DSN with a quoted password with
// spaces: the error Terraform prints and the TRACE logs name the server,
// and hold no word of the password.
func TestAccSecrets_connectionErrorHidesPassword(t *testing.T) {
	requireTerraform(t)
	port := closedPort(t)
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

provider "staging" {
  registry = "` + filepath.ToSlash(filepath.Join(dir, "registry.db")) + `"
  postgres {
    name = "prod"
    dsn  = var.prod_dsn
    role = "production"
  }
}

data "staging_postgres_fingerprint" "prod" {
  postgres = "prod"
}
`
	if err := os.WriteFile(filepath.Join(dir, "main.tf"), []byte(config), 0o600); err != nil {
		t.Fatal(err)
	}
	scan := newSecretScan(t, dir, buildProvider(t), map[string]string{"prod_dsn": badPasswordDSN(port)},
		"correct horse battery", "correct", "horse", "battery")
	if _, err := scan.run("plan", "plan", "-input=false"); err == nil {
		t.Fatalf("plan succeeded against a closed port:\n%s", scan.outputs["plan"])
	}
	scan.check()
	out := strings.Join(strings.Fields(scan.outputs["plan"]), " ")
	if want := fmt.Sprintf(`connecting to 127.0.0.1:%d/x as u (connection "prod")`, port); !strings.Contains(out, want) {
		t.Errorf("terraform plan's error lacks %q:\n%s", want, scan.outputs["plan"])
	}
}

// TestSecretForms: a secret is found inside the base64, URL and JSON
// encodings of longer texts that hold it.
func TestSecretForms(t *testing.T) {
	const secret = `pa ss/w@rd:"&'<>`
	found := func(text string) bool {
		return slices.ContainsFunc(secretForms(secret), func(f string) bool { return strings.Contains(text, f) })
	}
	for k := range 3 {
		text := strings.Repeat("x", k) + secret + "yz"
		for _, enc := range []*base64.Encoding{base64.StdEncoding, base64.URLEncoding} {
			if e := enc.EncodeToString([]byte(text)); !found(e) {
				t.Errorf("not found in the base64 %s of %q", e, text)
			}
		}
	}
	j, _ := json.Marshal(map[string]string{"dsn": "postgres://" + url.UserPassword("u", secret).String() + "@h/db?password=" + url.QueryEscape(secret)})
	for _, text := range []string{string(j), url.PathEscape(secret)} {
		if !found(text) {
			t.Errorf("not found in %s", text)
		}
	}
	if found("nothing to see here, not even pa ss") {
		t.Error("found where it is not")
	}
}
