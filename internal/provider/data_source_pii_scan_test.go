package provider

import (
	"context"
	"fmt"
	"regexp"
	"slices"
	"strings"
	"testing"

	"github.com/hashicorp/terraform-plugin-testing/helper/resource"
	"github.com/hashicorp/terraform-plugin-testing/terraform"
	"github.com/jackc/pgx/v5"

	"github.com/stagingkit/terraform-provider-staging/internal/pgclone"
	"github.com/stagingkit/terraform-provider-staging/internal/pgtest"
)

// messySchema is production data as it is, not as the application meant
// it: placeholders among e-mail addresses, numbers that are not phones,
// JSON documents, arrays and pictures, a unique login with a few values
// that are not addresses, and a foreign key to it.
var messySchema = []string{
	`CREATE TABLE accounts (
	   id int PRIMARY KEY,
	   login_email text UNIQUE,
	   contact_email text,
	   phone varchar(20),
	   profile jsonb,
	   notes text,
	   aliases text[],
	   avatar bytea,
	   birth_date timestamp,
	   postal_code varchar(5),
	   created_by text
	 )`,
	`INSERT INTO accounts SELECT i,
	   CASE WHEN i % 40 = 0 THEN 'legacy-user-' || i ELSE 'login' || i || '@example.com' END,
	   CASE WHEN i % 14 = 0 THEN 'unknown' WHEN i % 15 = 0 THEN 'n/a' ELSE 'person' || (i % 97) || '@mail.example.org' END,
	   CASE WHEN i % 20 = 0 THEN 'none' ELSE '+44 20 7946 ' || lpad((i % 10000)::text, 4, '0') END,
	   jsonb_build_object('email', 'p' || i || '@example.net', 'plan', 'gold', 'score', i),
	   CASE WHEN i % 3 = 0 THEN 'Customer asked to be reached at c' || i || '@example.com or +1 415 555 0' || lpad((i % 1000)::text, 3, '0') ELSE 'no contact details' END,
	   ARRAY['a' || i || '@example.com', 'b' || i || '@example.org'],
	   '\x89504e470d0a1a0a0000000d49484452'::bytea || int4send(i),
	   timestamp '1970-01-01' + (i * 17) * interval '1 day',
	   lpad((10000 + i * 7)::text, 5, '0'),
	   (ARRAY['mary', 'john', 'james', 'linda', 'susan'])[1 + i % 5] || '.' || (ARRAY['jones', 'smith', 'brown', 'wilson'])[1 + i % 4] || i
	 FROM generate_series(1, 600) i`,
	`CREATE TABLE orders (id int PRIMARY KEY, account_email text REFERENCES accounts (login_email), total numeric(10, 2))`,
	`INSERT INTO orders SELECT i, 'login' || (1 + i % 39) || '@example.com', i FROM generate_series(1, 300) i`,
}

// ruleBlocks splits rendered rule blocks into a sorted list, one block
// each, to compare suggestions made in different orders.
func ruleBlocks(s string) []string {
	var out []string
	for _, b := range strings.Split(s, "  rule {") {
		if b = strings.TrimSpace(b); b != "" {
			out = append(out, b)
		}
	}
	slices.Sort(out)
	return out
}

// TestAccPIIScanDataSource_suggestionsApply is review items 7 and 11: every
// rule staging_pii_scan suggests on a messy table, pasted back into a clone
// as printed, plans and applies; the clone's own plan error proposes the
// very same rules (one function makes both); non-unique e-mails get the
// option that keeps less.
func TestAccPIIScanDataSource_suggestionsApply(t *testing.T) {
	admin := pgtest.Require(t).NewDatabase(t)
	pgtest.Exec(t, admin, messySchema...)
	prod := pgtest.ReaderDSN(t, admin)
	staging := pgtest.StartForTest(t).NewDatabase(t)
	reg := t.TempDir() + "/registry.db"

	// What the clone's plan error proposes, rendered as the error does.
	ctx := context.Background()
	conn, err := pgx.Connect(ctx, prod)
	if err != nil {
		t.Fatal(err)
	}
	defer conn.Close(ctx)
	analysis, err := pgclone.Analyze(ctx, conn, pgclone.Options{})
	if err != nil {
		t.Fatal(err)
	}
	var fromClone strings.Builder
	for _, p := range analysis.Problems {
		if p.Suggested != nil {
			fromClone.WriteString(suggestedRule(p.Table, p.Column, *p.Suggested))
		}
	}

	var scanned string
	resource.Test(t, resource.TestCase{
		ProtoV6ProviderFactories: factories(newTestClock()),
		Steps: []resource.TestStep{{
			Config: shopProvider(reg, prod, "") + `
data "staging_pii_scan" "prod" {
  postgres = "prod"
}

output "rules" {
  value = data.staging_pii_scan.prod.suggested_rules
}
`,
			Check: func(s *terraform.State) error {
				scanned = s.RootModule().Outputs["rules"].Value.(string)
				return nil
			},
		}},
	})
	t.Logf("suggested rules:\n%s", scanned)
	if a, b := ruleBlocks(scanned), ruleBlocks(fromClone.String()); !slices.Equal(a, b) {
		t.Fatalf("the scan and the clone suggest different rules:\nscan:\n%s\nclone:\n%s", scanned, fromClone.String())
	}
	for _, want := range []*regexp.Regexp{
		// Non-unique e-mails keep less; the placeholders are redacted.
		regexp.MustCompile(`column\s+= "contact_email"\s+transformer = "email"\s+on_invalid\s+= "redact"\s+options\s+= \{ local_part = "hash" \}`),
		// JSON paths as a JSON object string.
		regexp.MustCompile(`column\s+= "profile"\s+transformer = "json"\s+options\s+= \{ paths = "\{\\"\$\.email\\":\{\\"transformer\\":\\"email\\"`),
		// A unique login with values that are not addresses: a rule that
		// takes any text one to one, and both ends of the key alike.
		regexp.MustCompile(`table\s+= "accounts"\s+column\s+= "login_email"\s+transformer = "format_preserving"`),
		regexp.MustCompile(`table\s+= "orders"\s+column\s+= "account_email"\s+transformer = "format_preserving"`),
	} {
		if !want.MatchString(scanned) {
			t.Errorf("suggested rules do not match %s", want)
		}
	}

	resource.Test(t, resource.TestCase{
		ProtoV6ProviderFactories: factories(newTestClock()),
		Steps: []resource.TestStep{{
			// Without rules the clone's plan fails, proposing the same
			// rules, on_invalid and keep-less options included.
			Config:      cloneConfig(reg, prod, staging, ""),
			ExpectError: regexp.MustCompile(`(?s)Unmasked Personal Data.*column\s+=\s+"contact_email"\s+transformer\s+=\s+"email"\s+on_invalid\s+=\s+"redact"\s+options\s+=\s+\{\s*local_part\s+=\s+"hash"\s*\}`),
		}, {
			Config: cloneConfig(reg, prod, staging, scanned),
			Check: func(*terraform.State) error {
				for _, sql := range []string{`SELECT contact_email FROM accounts`, `SELECT login_email FROM accounts`, `SELECT aliases::text FROM accounts`, `SELECT profile->>'email' FROM accounts`} {
					prodValues := map[string]bool{}
					for _, v := range pgStrings(t, admin, sql) {
						if strings.Contains(v, "@") {
							prodValues[v] = true
						}
					}
					for _, v := range pgStrings(t, staging, sql) {
						if prodValues[v] {
							return fmt.Errorf("%s: a production value reached staging", sql)
						}
					}
				}
				return nil
			},
		}},
	})
}
