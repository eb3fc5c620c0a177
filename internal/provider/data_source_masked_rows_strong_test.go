package provider

import (
	"fmt"
	"regexp"
	"testing"

	"github.com/hashicorp/terraform-plugin-testing/helper/resource"

	"github.com/stagingkit/terraform-provider-staging/internal/pgtest"
)

// TestAccMaskedRowsDataSource_strongValues is the second review's item A
// in staging_masked_rows: a column with a neutral name, without a rule,
// where one returned value is a card number (Luhn check and a Visa
// prefix) or a dashed SSN fails closed, naming the column and never the
// value.
func TestAccMaskedRowsDataSource_strongValues(t *testing.T) {
	admin := pgtest.Require(t).NewDatabase(t)
	pgtest.Exec(t, admin, `CREATE TABLE refs (id integer PRIMARY KEY, ref text, other text)`,
		`INSERT INTO refs SELECT g, 'R-' || g, 'O-' || g FROM generate_series(1, 30) g`,
		`UPDATE refs SET ref = '4111 1111 1111 1111' WHERE id = 2`,
		`UPDATE refs SET other = '123-45-6789' WHERE id = 3`)
	prod := pgtest.ReaderDSN(t, admin)
	reg := t.TempDir() + "/registry.db"
	cfg := shopProvider(reg, prod, "e997a0770a7f7fd2995536f940cb9a5852e540ed376b1644625a65ebbb7bb693") + fmt.Sprintf(`
data "staging_masked_rows" "c" {
  postgres = "prod"
  query    = %q
  limit    = 3
}
`, "SELECT id, ref AS col, other FROM refs ORDER BY id")
	resource.Test(t, resource.TestCase{
		ProtoV6ProviderFactories: factories(newTestClock()),
		Steps: []resource.TestStep{{
			Config:      cfg,
			ExpectError: regexp.MustCompile(`(?s)Unmasked Personal Data.*Result\s+column\s+"col"\s+returned\s+1\s+value\(s\)\s+that\s+are\s+or\s+contain\s+credit_card.*Result\s+column\s+"other"\s+returned\s+1\s+value\(s\)\s+that\s+are\s+or\s+contain\s+national_id`),
		}},
	})
}
