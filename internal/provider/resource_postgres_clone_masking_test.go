package provider

import (
	"context"
	"regexp"
	"testing"

	"github.com/hashicorp/terraform-plugin-testing/helper/resource"
	"github.com/hashicorp/terraform-plugin-testing/terraform"
	"github.com/hashicorp/terraform-plugin-testing/tfversion"
	"github.com/jackc/pgx/v5"

	"github.com/stagingkit/terraform-provider-staging/internal/pgtest"
)

// TestAccPostgresClone_maskingRefusals checks the plan-time refusals of
// issue #10, each naming the column and the reason: a rule on an integer
// key that could leave the type's range, the two ends of a foreign key
// masked differently, on_invalid = "redact" on a unique column, and a rule
// that would refuse some of the column's values at apply. A
// policy that avoids them copies, and references still match.
func TestAccPostgresClone_maskingRefusals(t *testing.T) {
	prodAdmin := pgtest.Require(t).NewDatabase(t)
	pgtest.Exec(t, prodAdmin,
		`CREATE TABLE accounts (id integer PRIMARY KEY, email text NOT NULL UNIQUE)`,
		`CREATE TABLE orders (id integer PRIMARY KEY, account_email text NOT NULL REFERENCES accounts (email))`,
		`INSERT INTO accounts SELECT g, 'customer.number' || g || '@example.com' FROM generate_series(1, 200) g`,
		`INSERT INTO orders SELECT g, 'customer.number' || (1 + g % 200) || '@example.com' FROM generate_series(1, 500) g`,
		// One lead in ten has no address: an e-mail rule without
		// on_invalid would fail the apply after copying.
		`CREATE TABLE leads (id integer PRIMARY KEY, email text)`,
		`INSERT INTO leads SELECT g, CASE WHEN g % 10 = 0 THEN 'unknown ' || g ELSE 'lead' || g || '@example.com' END FROM generate_series(1, 100) g`)
	prod := pgtest.ReaderDSN(t, prodAdmin)
	staging := pgtest.StartForTest(t).NewDatabase(t)
	reg := t.TempDir() + "/registry.db"
	conns := [][3]string{{"prod", prod, "production"}, {"staging", staging, "staging"}}
	rule := func(table, column, transformer, extra string) string {
		return "\n  rule {\n    table       = \"" + table + "\"\n    column      = \"" + column + "\"\n    transformer = \"" + transformer + "\"\n    " + extra + "\n  }"
	}
	emails := rule("accounts", "email", "email", `domain = "account_email"`) + rule("orders", "account_email", "email", `domain = "account_email"`)
	leads := rule("leads", "email", "email", `on_invalid = "redact"`)
	resource.Test(t, resource.TestCase{
		TerraformVersionChecks:   []tfversion.TerraformVersionCheck{tfversion.SkipBelow(tfversion.Version1_11_0)},
		ProtoV6ProviderFactories: factories(newTestClock()),
		Steps: []resource.TestStep{
			{
				// digits on an integer key without max_value could write
				// integers beyond integer's range.
				Config:      cloneConfigWith(reg, conns, emails+rule("accounts", "id", "digits", "")),
				ExpectError: regexp.MustCompile(`(?s)Masking Rule Breaks Uniqueness.*public\.accounts\.id.*max_value\s+=\s+2147483647`),
			},
			{
				// The two ends of the foreign key in different domains.
				Config: cloneConfigWith(reg, conns, rule("accounts", "email", "email", `domain = "account_email"`)+
					rule("orders", "account_email", "email", "")),
				ExpectError: regexp.MustCompile(`(?s)Foreign Key Ends Masked Differently.*public\.orders\.account_email.*public\.accounts\.email.*domain`),
			},
			{
				// One constant for every invalid value breaks a unique index.
				Config: cloneConfigWith(reg, conns, rule("accounts", "email", "email", `domain = "account_email"
    on_invalid = "redact"`)+rule("orders", "account_email", "email", `domain = "account_email"
    on_invalid = "redact"`)),
				ExpectError: regexp.MustCompile(`(?s)Masking Rule Breaks Uniqueness.*public\.accounts\.email.*on_invalid`),
			},
			{
				// A rule that would refuse 10% of the sampled values (the
				// second review's item G): refused at plan, with the share and
				// the way out, before anything is copied.
				Config:      cloneConfigWith(reg, conns, emails+rule("accounts", "id", "digits", `options = { max_value = "2147483647" }`)+rule("leads", "email", "email", "")),
				ExpectError: regexp.MustCompile(`(?s)Masking Rule Would Fail on Production Values.*public\.leads\.email.*10\s+of\s+100\s+sampled\s+values\s+\(10\.0%\).*on_invalid\s+=\s+"redact"`),
			},
			{
				Config: cloneConfigWith(reg, conns, emails+leads+rule("accounts", "id", "digits", `options = { max_value = "2147483647" }`)),
				Check: func(*terraform.State) error {
					ctx := context.Background()
					conn, err := pgx.Connect(ctx, staging)
					if err != nil {
						return err
					}
					defer conn.Close(ctx)
					var orders, joined, keptIDs int
					err = conn.QueryRow(ctx, `SELECT (SELECT count(*) FROM orders),
						(SELECT count(*) FROM orders o JOIN accounts a ON a.email = o.account_email),
						(SELECT count(*) FROM accounts WHERE id <= 200 AND email LIKE 'customer.number%')`).Scan(&orders, &joined, &keptIDs)
					if err != nil {
						return err
					}
					if orders != 500 || joined != 500 || keptIDs != 0 {
						t.Errorf("staging: %d orders, %d join their account, %d accounts unmasked", orders, joined, keptIDs)
					}
					return nil
				},
			},
		},
	})
}
