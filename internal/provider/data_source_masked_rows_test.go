package provider

import (
	"fmt"
	"net/mail"
	"regexp"
	"strings"
	"testing"

	"github.com/hashicorp/terraform-plugin-testing/helper/resource"
	"github.com/hashicorp/terraform-plugin-testing/knownvalue"
	"github.com/hashicorp/terraform-plugin-testing/statecheck"
	"github.com/hashicorp/terraform-plugin-testing/terraform"
	"github.com/hashicorp/terraform-plugin-testing/tfjsonpath"

	"github.com/stagingkit/terraform-provider-staging/internal/pgtest"
)

// shopProvider is a provider block with a production connection and a
// masking key.
func shopProvider(registryPath, prod, key string) string {
	keyLine := ""
	if key != "" {
		keyLine = fmt.Sprintf("  masking_key = %q\n", key)
	}
	return fmt.Sprintf(`
provider "staging" {
  registry = %q
%s
  postgres {
    name = "prod"
    dsn  = %q
    role = "production"
  }
}
`, registryPath, keyLine, prod)
}

func TestAccPIIScanDataSource(t *testing.T) {
	prod, _ := seededShop(t)
	reg := t.TempDir() + "/registry.db"
	resource.Test(t, resource.TestCase{
		ProtoV6ProviderFactories: factories(newTestClock()),
		Steps: []resource.TestStep{{
			Config: shopProvider(reg, prod, "") + `
data "staging_pii_scan" "prod" {
  postgres = "prod"
}

output "kinds" {
  value = { for c in data.staging_pii_scan.prod.columns : "${c.table}.${c.column}" => c.kind }
}
`,
			ConfigStateChecks: []statecheck.StateCheck{
				statecheck.ExpectKnownOutputValue("kinds", knownvalue.MapPartial(map[string]knownvalue.Check{
					"public.customers.email":      knownvalue.StringExact("email"),
					"public.customers.phone":      knownvalue.StringExact("phone"),
					"public.payments.card_number": knownvalue.StringExact("credit_card"),
					"public.support_tickets.body": knownvalue.StringExact("free_text_pii"),
					"public.customers.birth_date": knownvalue.StringExact("birth_date"),
					"public.customers.first_name": knownvalue.StringExact("first_name"),
				})),
				statecheck.ExpectKnownValue("data.staging_pii_scan.prod", tfjsonpath.New("suggested_rules"),
					knownvalue.StringRegexp(regexp.MustCompile(`(?s)table\s+= "customers"\s+column\s+= "email"\s+transformer = "email"`))),
			},
			Check: func(s *terraform.State) error {
				// The scan does not flag amounts, statuses or timestamps of orders.
				for k := range s.RootModule().Outputs["kinds"].Value.(map[string]any) {
					if strings.HasPrefix(k, "public.orders.") {
						return fmt.Errorf("%s flagged as personal data", k)
					}
				}
				return nil
			},
		}},
	})
}

func TestAccMaskedRowsDataSource(t *testing.T) {
	prod, _ := seededShop(t)
	reg := t.TempDir() + "/registry.db"
	const rules = `
  rule {
    column      = "email"
    transformer = "email"
    domain      = "customer_email"
  }
  rule {
    column      = "first_name"
    transformer = "first_name"
  }`
	ds := func(query, rules string) string {
		return fmt.Sprintf(`
data "staging_masked_rows" "c" {
  postgres = "prod"
  query    = %q
  limit    = 3
  %s
}
`, query, rules)
	}
	const q = "SELECT id, email, first_name FROM customers ORDER BY id"
	var emails string
	resource.Test(t, resource.TestCase{
		ProtoV6ProviderFactories: factories(newTestClock()),
		Steps: []resource.TestStep{
			{
				Config: shopProvider(reg, prod, "e997a0770a7f7fd2995536f940cb9a5852e540ed376b1644625a65ebbb7bb693") + ds(q, rules),
				ConfigStateChecks: []statecheck.StateCheck{
					statecheck.ExpectKnownValue("data.staging_masked_rows.c", tfjsonpath.New("columns"),
						knownvalue.ListExact([]knownvalue.Check{knownvalue.StringExact("id"), knownvalue.StringExact("email"), knownvalue.StringExact("first_name")})),
					statecheck.ExpectKnownValue("data.staging_masked_rows.c", tfjsonpath.New("rows"), knownvalue.ListSizeExact(3)),
					statecheck.ExpectKnownValue("data.staging_masked_rows.c", tfjsonpath.New("rows").AtSliceIndex(0).AtMapKey("id"), knownvalue.StringExact("1")),
				},
				Check: resource.ComposeTestCheckFunc(noSecretsInState("e997a0770a7f7fd2995536f940cb9a5852e540ed376b1644625a65ebbb7bb693", pgtest.Require(t).Password), func(s *terraform.State) error {
					attrs := s.RootModule().Resources["data.staging_masked_rows.c"].Primary.Attributes
					prodEmails := pgStrings(t, prod, "SELECT email FROM customers ORDER BY id LIMIT 3")
					for i := 0; i < 3; i++ {
						e := attrs[fmt.Sprintf("rows.%d.email", i)]
						if _, err := mail.ParseAddress(e); err != nil || e == prodEmails[i] {
							return fmt.Errorf("row %d: masked e-mail %q (production %q)", i, e, prodEmails[i])
						}
						emails += e + ","
					}
					return nil
				}),
			},
			{
				// Deterministic: the same key gives the same fixtures.
				Config: shopProvider(reg, prod, "e997a0770a7f7fd2995536f940cb9a5852e540ed376b1644625a65ebbb7bb693") + ds(q, rules),
				Check: func(s *terraform.State) error {
					attrs := s.RootModule().Resources["data.staging_masked_rows.c"].Primary.Attributes
					got := ""
					for i := 0; i < 3; i++ {
						got += attrs[fmt.Sprintf("rows.%d.email", i)] + ","
					}
					if got != emails {
						return fmt.Errorf("masked e-mails changed between reads: %s vs %s", got, emails)
					}
					return nil
				},
			},
			{
				Config:      shopProvider(reg, prod, "e997a0770a7f7fd2995536f940cb9a5852e540ed376b1644625a65ebbb7bb693") + ds("SELECT id, email, phone FROM customers", rules),
				ExpectError: regexp.MustCompile(`(?s)Unmasked Personal Data.*Result\s+column\s+"phone"\s+looks\s+like\s+personal\s+data`),
			},
			{
				Config:      shopProvider(reg, prod, "e997a0770a7f7fd2995536f940cb9a5852e540ed376b1644625a65ebbb7bb693") + ds("SELECT id, email FROM customers", rules),
				ExpectError: regexp.MustCompile(`(?s)Masking Rule Names Nothing.*no\s+column\s+"first_name"`),
			},
			{
				Config:      shopProvider(reg, prod, "") + ds(q, rules),
				ExpectError: regexp.MustCompile(`(?s)Missing Masking Key.*There\s+is\s+no\s+default\s+key`),
			},
			{
				// The transaction is read-only: locking rows (a write) fails.
				Config:      shopProvider(reg, prod, "e997a0770a7f7fd2995536f940cb9a5852e540ed376b1644625a65ebbb7bb693") + ds("SELECT id, email, first_name FROM customers FOR UPDATE", rules),
				ExpectError: regexp.MustCompile(`(?s)The\s+query\s+failed:.*read-only\s+transaction`),
			},
			{
				// A column renamed with AS is judged by the column it is read from.
				Config:      shopProvider(reg, prod, "e997a0770a7f7fd2995536f940cb9a5852e540ed376b1644625a65ebbb7bb693") + ds("SELECT id, email, first_name AS x1 FROM customers", rules),
				ExpectError: regexp.MustCompile(`(?s)Unmasked Personal Data.*Result\s+column\s+"x1"\s+\(it\s+is\s+public\.customers\.first_name\)`),
			},
			{
				// A computed column's source cannot be told: it needs a rule.
				Config:      shopProvider(reg, prod, "e997a0770a7f7fd2995536f940cb9a5852e540ed376b1644625a65ebbb7bb693") + ds("SELECT id, email, first_name, upper(last_name) AS u FROM customers", rules),
				ExpectError: regexp.MustCompile(`(?s)Unmasked Computed Column.*Result\s+column\s+"u"\s+is\s+computed`),
			},
			{
				// Refused before any server sees it.
				Config:      shopProvider(reg, prod, "e997a0770a7f7fd2995536f940cb9a5852e540ed376b1644625a65ebbb7bb693") + ds("SELEKT 1", rules),
				ExpectError: regexp.MustCompile(`(?s)Invalid Query.*starts\s+with\s+SELEKT`),
			},
			{
				// A syntax error the offline check cannot see comes from the server.
				Config:      shopProvider(reg, prod, "e997a0770a7f7fd2995536f940cb9a5852e540ed376b1644625a65ebbb7bb693") + ds("SELECT id, email, first_name FROM customers WHERE", rules),
				ExpectError: regexp.MustCompile(`(?s)The\s+query\s+failed:.*syntax\s+error`),
			},
			{
				// One final semicolon is one statement; the limit holds.
				Config: shopProvider(reg, prod, "e997a0770a7f7fd2995536f940cb9a5852e540ed376b1644625a65ebbb7bb693") + ds(q+";", rules),
				ConfigStateChecks: []statecheck.StateCheck{
					statecheck.ExpectKnownValue("data.staging_masked_rows.c", tfjsonpath.New("rows"), knownvalue.ListSizeExact(3)),
				},
			},
		},
	})
}
