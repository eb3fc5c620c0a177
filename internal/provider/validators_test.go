package provider

import (
	"path/filepath"
	"regexp"
	"testing"

	"github.com/hashicorp/terraform-plugin-testing/helper/resource"
)

// TestMaskingKeyValidator_provider checks that the provider refuses a
// masking_key that is not 32+ random bytes in hex or base64, at plan time,
// saying how to make one and without echoing it.
func TestMaskingKeyValidator_provider(t *testing.T) {
	reg := filepath.Join(t.TempDir(), "registry.db")
	for _, key := range []string{
		"fixture-key",                                                      // a passphrase
		"0123456789abcdef0123456789abcdef",                                 // 16 bytes of hex
		"AAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAA=",                     // 32 zero bytes in base64
		"ThisIsOurStagingMaskingPassphraseForAllTeams",                     // words that are valid base64
		"b3VyIHN0YWdpbmcgbWFza2luZyBwYXNzcGhyYXNlIGZvciBhbGwgdGhlIHRlYW1z", // base64 of a typed phrase
	} {
		t.Run(key, func(t *testing.T) {
			resource.UnitTest(t, resource.TestCase{
				ProtoV6ProviderFactories: factories(newTestClock()),
				Steps: []resource.TestStep{{
					Config: `
provider "staging" {
  registry    = "` + reg + `"
  masking_key = "` + key + `"
}
data "staging_environments" "all" {}
`,
					ExpectError: regexp.MustCompile(`(?s)Invalid Masking Key.*masking_key\s+is\s+not\s+a\s+usable\s+masking\s+key.*openssl\s+rand\s+-hex\s+32`),
				}},
			})
		})
	}
}
