package provider

import (
	"crypto/ed25519"
	"crypto/x509"
	"encoding/pem"
	"fmt"
	"regexp"
	"strings"
	"testing"

	"github.com/hashicorp/terraform-plugin-go/tfprotov6"
	"github.com/hashicorp/terraform-plugin-testing/echoprovider"
	"github.com/hashicorp/terraform-plugin-testing/helper/resource"
	"github.com/hashicorp/terraform-plugin-testing/knownvalue"
	"github.com/hashicorp/terraform-plugin-testing/statecheck"
	"github.com/hashicorp/terraform-plugin-testing/tfjsonpath"
	"github.com/hashicorp/terraform-plugin-testing/tfversion"

	"github.com/stagingkit/terraform-provider-staging/internal/isolation"
)

// testRootSecret is the credential root secret of the credential tests.
const testRootSecret = "3f9c2a7e0b6d4c18a5e2f7091b3d6c4e"

// credentialTest runs steps with the staging provider and the echo
// provider, through which a test puts an ephemeral value into state to
// look at it.
func credentialTest(t *testing.T, steps ...resource.TestStep) {
	t.Helper()
	f := factories(newTestClock())
	f["echo"] = echoprovider.NewProviderServer()
	resource.UnitTest(t, resource.TestCase{
		TerraformVersionChecks:   []tfversion.TerraformVersionCheck{tfversion.SkipBelow(tfversion.Version1_10_0)},
		ProtoV6ProviderFactories: map[string]func() (tfprotov6.ProviderServer, error)(f),
		Steps:                    steps,
	})
}

// echoCredential is a configuration that derives one credential with body
// and echoes expr (over ephemeral.staging_credential.c) into echo.c.data.
func echoCredential(body, expr string) string { return echoCredentialAs("c", body, expr) }

// echoCredentialAs is echoCredential into echo.<name>: the echo resource
// keeps what it was created with, so each value needs a resource of its
// own.
func echoCredentialAs(name, body, expr string) string {
	return fmt.Sprintf(`
provider "staging" {
  registry               = "unused.db"
  credential_root_secret = %q
}

ephemeral "staging_credential" "c" {
%s
}

provider "echo" {
  data = %s
}

resource "echo" %q {}
`, testRootSecret, body, expr, name)
}

func derivedPassword(t *testing.T, env, name string, version int64, p isolation.PasswordPolicy) string {
	t.Helper()
	pw, err := isolation.Password([]byte(testRootSecret), isolation.Scope{Environment: env, Name: name, Version: version}, p)
	if err != nil {
		t.Fatal(err)
	}
	return pw
}

// TestAccCredential_password: the ephemeral password is the one derived
// from the root secret, environment, name and version, the same in plan
// and apply (a changing value would fail the apply of echo's provider
// configuration), and another version gives another.
func TestAccCredential_password(t *testing.T) {
	v1 := derivedPassword(t, "pay-x", "app-db", 1, isolation.DefaultPasswordPolicy())
	v2 := derivedPassword(t, "pay-x", "app-db", 2, isolation.DefaultPasswordPolicy())
	strict := isolation.PasswordPolicy{Length: 24, Lower: true, Upper: true, Digits: true, MinLower: 1, MinUpper: 1, MinDigits: 6, Exclude: "0O1lI"}
	want := derivedPassword(t, "pay-x", "app-db", 1, strict)
	credentialTest(t,
		resource.TestStep{
			Config: echoCredential(`  environment = "pay-x"
  name        = "app-db"`, "ephemeral.staging_credential.c.value"),
			ConfigStateChecks: []statecheck.StateCheck{statecheck.ExpectKnownValue("echo.c", tfjsonpath.New("data"), knownvalue.StringExact(v1))},
		},
		resource.TestStep{
			Config: echoCredentialAs("v2", `  environment = "pay-x"
  name        = "app-db"
  version     = 2`, "ephemeral.staging_credential.c.value"),
			ConfigStateChecks: []statecheck.StateCheck{statecheck.ExpectKnownValue("echo.v2", tfjsonpath.New("data"), knownvalue.StringExact(v2))},
		},
		resource.TestStep{
			Config: echoCredentialAs("strict", `  environment = "pay-x"
  name        = "app-db"
  length      = 24
  special     = false
  min_numeric = 6
  exclude     = "0O1lI"`, "ephemeral.staging_credential.c.value"),
			ConfigStateChecks: []statecheck.StateCheck{statecheck.ExpectKnownValue("echo.strict", tfjsonpath.New("data"), knownvalue.StringExact(want))},
		},
	)
	if v1 == v2 {
		t.Fatal("versions 1 and 2 derive the same password")
	}
}

// TestAccCredential_tokenAndKeyPair: a hex token of 20 bytes, and an
// ed25519 key pair whose PEM private key matches its public keys.
func TestAccCredential_tokenAndKeyPair(t *testing.T) {
	root := []byte(testRootSecret)
	tok, err := isolation.Token(root, isolation.Scope{Environment: "pay-x", Name: "webhook", Version: 1}, 20, isolation.EncodingHex)
	if err != nil {
		t.Fatal(err)
	}
	kp, err := isolation.Ed25519(root, isolation.Scope{Environment: "pay-x", Name: "deploy", Version: 1})
	if err != nil {
		t.Fatal(err)
	}
	blk, _ := pem.Decode([]byte(kp.PublicKeyPEM))
	if pub, err := x509.ParsePKIXPublicKey(blk.Bytes); err != nil || !pub.(ed25519.PublicKey).Equal(kp.Private.Public()) {
		t.Fatalf("public key PEM: %v", err)
	}
	credentialTest(t,
		resource.TestStep{
			Config: echoCredential(`  environment = "pay-x"
  name        = "webhook"
  type        = "token"
  bytes       = 20
  encoding    = "hex"`, "ephemeral.staging_credential.c.value"),
			ConfigStateChecks: []statecheck.StateCheck{statecheck.ExpectKnownValue("echo.c", tfjsonpath.New("data"), knownvalue.StringExact(tok))},
		},
		resource.TestStep{
			Config: echoCredentialAs("kp", `  environment = "pay-x"
  name        = "deploy"
  type        = "ed25519"`, `{
    private = ephemeral.staging_credential.c.private_key_pem
    value   = ephemeral.staging_credential.c.value
    pem     = ephemeral.staging_credential.c.public_key_pem
    openssh = ephemeral.staging_credential.c.public_key_openssh
  }`),
			ConfigStateChecks: []statecheck.StateCheck{statecheck.ExpectKnownValue("echo.kp", tfjsonpath.New("data"), knownvalue.ObjectExact(map[string]knownvalue.Check{
				"private": knownvalue.StringExact(kp.PrivateKeyPEM),
				"value":   knownvalue.StringExact(kp.PrivateKeyPEM),
				"pem":     knownvalue.StringExact(kp.PublicKeyPEM),
				"openssh": knownvalue.StringExact(kp.PublicKeyOpenSSH),
			}))},
		},
	)
}

// TestAccCredential_badInput: each class of bad input fails with an error
// naming the attribute and the fix.
func TestAccCredential_badInput(t *testing.T) {
	for name, c := range map[string]struct{ body, want string }{
		"too short":         {`length = 12`, `(?s)Invalid Credential Policy.*length is 12; a password must be at least 16`},
		"cannot be met":     {`length = 16` + "\n" + `min_numeric = 10` + "\n" + `min_special = 6`, `(?s)length is 16, but the min_\* settings ask for 18`},
		"excluded class":    {`exclude = "0123456789"`, `(?s)exclude removes every one of the digits, of which min_numeric asks for 1`},
		"disabled class":    {`special = false` + "\n" + `min_special = 2`, `(?s)min_special is 2, but special is false`},
		"other type":        {`type = "token"` + "\n" + `length = 20`, `(?s)Setting of Another Credential Type.*length does not apply to a credential of type "token"`},
		"token too small":   {`type = "token"` + "\n" + `bytes = 8`, `(?s)bytes is 8; a token must be 16 to 1024 bytes`},
		"unknown type":      {`type = "rsa"`, `(?s)type.*value must be one of`},
		"version zero":      {`version = 0`, `(?s)version.*must be at least 1`},
		"environment label": {`environment = "Pay X"`, `(?s)must be a DNS label`},
	} {
		t.Run(name, func(t *testing.T) {
			body := c.body
			if !strings.Contains(body, "environment") {
				body += "\nenvironment = \"pay-x\""
			}
			credentialTest(t, resource.TestStep{
				Config:      echoCredential(body+"\nname = \"db\"", "ephemeral.staging_credential.c.value"),
				ExpectError: regexp.MustCompile(c.want),
			})
		})
	}
}

// TestAccCredential_rootSecret: without a root secret the credential
// cannot be opened, and a short one is refused on the provider attribute.
func TestAccCredential_rootSecret(t *testing.T) {
	t.Setenv(EnvCredentialRootSecret, "")
	cfg := func(root string) string {
		return strings.Replace(echoCredential(`  environment = "pay-x"
  name        = "db"`, "ephemeral.staging_credential.c.value"), `credential_root_secret = "`+testRootSecret+`"`, root, 1)
	}
	credentialTest(t,
		resource.TestStep{Config: cfg(""), ExpectError: regexp.MustCompile(`(?s)Missing Credential Root Secret.*STAGING_CREDENTIAL_ROOT_SECRET`)},
		resource.TestStep{Config: cfg(`credential_root_secret = "too-short"`), ExpectError: regexp.MustCompile(`(?s)credential_root_secret is shorter than 32 bytes`)},
	)
}
