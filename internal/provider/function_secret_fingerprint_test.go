package provider

import (
	"regexp"
	"testing"

	"github.com/hashicorp/terraform-plugin-testing/helper/resource"
	"github.com/hashicorp/terraform-plugin-testing/knownvalue"
	"github.com/hashicorp/terraform-plugin-testing/statecheck"

	"github.com/stagingkit/terraform-provider-staging/internal/isolation"
)

// TestSecretFingerprintFunction: the function returns the Argon2id PHC
// string that isolation computes, which matches the secret and nothing
// else.
func TestSecretFingerprintFunction(t *testing.T) {
	want, err := isolation.SecretFingerprint("prod-db-password", "prod-salt-2026-11")
	if err != nil {
		t.Fatal(err)
	}
	f, _ := isolation.ParseFingerprint(want)
	if !f.Matches("prod-db-password") {
		t.Fatal("the fingerprint does not match its secret")
	}
	maskingFunctionTest(t, resource.TestStep{
		Config: `
output "fp" {
  value = provider::staging::secret_fingerprint("prod-db-password", "prod-salt-2026-11")
}
`,
		ConfigStateChecks: []statecheck.StateCheck{statecheck.ExpectKnownOutputValue("fp", knownvalue.StringExact(want))},
	})
}

// TestSecretFingerprintFunction_salt: an empty or short salt is refused,
// naming the argument.
func TestSecretFingerprintFunction_salt(t *testing.T) {
	for _, c := range []struct{ salt, want string }{
		{"", `(?s)Invalid value for "salt" parameter: Invalid salt: the salt is empty`},
		{"short", `(?s)Invalid value for "salt" parameter: Invalid salt: the salt is shorter than 8\s+bytes`},
	} {
		maskingFunctionTest(t, resource.TestStep{
			Config:      `output "fp" { value = provider::staging::secret_fingerprint("x", "` + c.salt + `") }`,
			ExpectError: regexp.MustCompile(c.want),
		})
	}
}
