package pgclone

import (
	"context"
	"errors"
	"slices"
	"strings"
	"testing"

	"github.com/jackc/pgx/v5"

	"github.com/stagingkit/terraform-provider-staging/internal/masking"
	"github.com/stagingkit/terraform-provider-staging/internal/pgtest"
)

// partitionSchema: payments partitioned by month, each partition with its
// own foreign keys to customers and rentals (none on the parent); sales
// partitioned by the day sold, a key that masking shifts; arrays of
// e-mails and of phone numbers with NULL and invalid elements; a view over
// rentals.
var partitionSchema = []string{
	`CREATE TABLE customers (id int PRIMARY KEY, email text NOT NULL UNIQUE)`,
	`CREATE TABLE rentals (id int PRIMARY KEY, customer_id int NOT NULL REFERENCES customers)`,
	`CREATE TABLE payments (id int NOT NULL, customer_id int NOT NULL, rental_id int, paid_on date NOT NULL, amount numeric NOT NULL,
		PRIMARY KEY (id, paid_on)) PARTITION BY RANGE (paid_on)`,
	`CREATE TABLE payments_2024_01 PARTITION OF payments FOR VALUES FROM ('2024-01-01') TO ('2024-02-01')`,
	`CREATE TABLE payments_2024_02 PARTITION OF payments FOR VALUES FROM ('2024-02-01') TO ('2024-03-01')`,
	`CREATE TABLE payments_2024_03 PARTITION OF payments FOR VALUES FROM ('2024-03-01') TO ('2024-04-01')`,
	`ALTER TABLE payments_2024_01 ADD FOREIGN KEY (customer_id) REFERENCES customers, ADD FOREIGN KEY (rental_id) REFERENCES rentals`,
	`ALTER TABLE payments_2024_02 ADD FOREIGN KEY (customer_id) REFERENCES customers, ADD FOREIGN KEY (rental_id) REFERENCES rentals`,
	`ALTER TABLE payments_2024_03 ADD FOREIGN KEY (customer_id) REFERENCES customers`,
	`CREATE TABLE sales (id int NOT NULL, sold_on date NOT NULL, buyer_emails text[], phones text[]) PARTITION BY RANGE (sold_on)`,
	`CREATE TABLE sales_2023 PARTITION OF sales FOR VALUES FROM ('2023-01-01') TO ('2024-01-01')`,
	`CREATE TABLE sales_2024_h1 PARTITION OF sales FOR VALUES FROM ('2024-01-01') TO ('2024-07-01')`,
	`CREATE TABLE sales_2024_h2 PARTITION OF sales FOR VALUES FROM ('2024-07-01') TO ('2025-01-01')`,
	`CREATE TABLE sales_2025 PARTITION OF sales FOR VALUES FROM ('2025-01-01') TO ('2026-01-01')`,
	`CREATE VIEW rental_counts AS SELECT customer_id, count(*) AS n FROM rentals GROUP BY customer_id`,

	`INSERT INTO customers SELECT g, 'cust' || g || '@example.com' FROM generate_series(1, 200) g`,
	`INSERT INTO rentals SELECT g, 1 + g % 200 FROM generate_series(1, 400) g`,
	`INSERT INTO payments SELECT g, 1 + (g * 7) % 200, CASE WHEN g % 5 = 0 THEN NULL ELSE 1 + g % 400 END, date '2024-01-01' + g % 90, g FROM generate_series(1, 900) g`,
	// Sales a few days from a partition bound: a shift of up to 30 days
	// moves many of them to the next or previous partition.
	`INSERT INTO sales SELECT g, date '2024-07-01' + (g % 20 - 10),
		CASE WHEN g % 7 = 0 THEN NULL ELSE ARRAY['buyer' || g || '@example.com', NULL, 'co' || g || '@example.org'] END,
		ARRAY['+49 30 ' || (1000000 + g), 'call me maybe, "later"']
		FROM generate_series(1, 300) g`,
}

var partitionRules = []ColumnRule{
	{Table: "customers", Column: "email", Spec: masking.Spec{Transformer: "email"}},
	{Table: "sales", Column: "sold_on", Spec: masking.Spec{Transformer: "date_shift", Options: map[string]any{"max_days": float64(30)}}},
	{Table: "sales", Column: "buyer_emails", Spec: masking.Spec{Transformer: "email"}},
	// Half of each array is not a phone number: redacted, with a constant
	// that needs quoting in an array literal.
	{Table: "sales", Column: "phones", Spec: masking.Spec{Transformer: "phone", OnInvalid: masking.OnInvalidRedact,
		Options: map[string]any{"invalid_value": `re"dact,ed}`}}},
}

// TestClone_partitions: a subset follows foreign keys declared on
// partitions (each partition's keys are created and validated in
// staging); a masked partition key sends rows to the partition of their
// new value; arrays are masked element by element.
func TestClone_partitions(t *testing.T) {
	ctx := context.Background()
	cluster := pgtest.Require(t)
	prod := cluster.NewDatabase(t)
	pgtest.Exec(t, prod, partitionSchema...)
	staging := cluster.NewDatabase(t)
	src, dst := dial(t, prod), dial(t, staging)
	opts := Options{Rules: partitionRules, Key: testKey(t, "partitions"), Parallelism: 2,
		Subset: SubsetOptions{Subsets: []Subset{{Table: "customers", Percent: 40}}, Seed: "s"}}

	res, err := Clone(ctx, sourceConfig(t, prod), mustConfig(t, staging), opts)
	if err != nil {
		t.Fatal(err)
	}
	// Every partition's foreign keys exist in staging and hold.
	fks := `SELECT c.relname || ' ' || pg_get_constraintdef(k.oid) || ' ' || k.convalidated FROM pg_constraint k JOIN pg_class c ON c.oid = k.conrelid
		WHERE k.contype = 'f' AND c.relname LIKE 'payments%' AND k.conparentid = 0 ORDER BY 1`
	if a, b := strings.Join(queryStrings(t, src, fks), "\n"), strings.Join(queryStrings(t, dst, fks), "\n"); a != b {
		t.Errorf("partition foreign keys:\nproduction:\n%s\nstaging:\n%s", a, b)
	}
	customers := queryString(t, dst, `SELECT count(*)::text FROM customers`)
	if customers == "200" || customers == "0" {
		t.Errorf("the subset kept %s of 200 customers", customers)
	}
	// payments_2024_03 has no key to rentals: its rows are kept for any
	// rental, and only follow their customer.
	if got, want := queryString(t, dst, `SELECT count(*)::text FROM payments_2024_03`),
		queryString(t, src, `SELECT count(*)::text FROM payments_2024_03 p WHERE p.customer_id IN (`+idList(t, dst, "customers")+`)`); got != want {
		t.Errorf("payments_2024_03: %s rows in staging, want %s (those of the copied customers)", got, want)
	}

	// Shifted sale dates: rows changed partition, none was lost, and
	// every one sits in the partition of its (masked) date.
	if got := queryString(t, dst, `SELECT count(*)::text FROM sales`); got != "300" {
		t.Errorf("staging has %s sales, want 300", got)
	}
	perPartition := `SELECT string_agg(tableoid::regclass::text || '=' || n, ',' ORDER BY tableoid::regclass::text) FROM (SELECT tableoid, count(*) AS n FROM sales GROUP BY 1) x`
	if a, b := queryString(t, src, perPartition), queryString(t, dst, perPartition); a == b {
		t.Errorf("no sale changed partition (%s): the masked key was not exercised", a)
	}
	var sales int
	for _, tp := range res.Tables {
		if strings.HasPrefix(tp.Name, "public.sales_") {
			sales += int(tp.Rows)
		}
	}
	if sales != 300 {
		t.Errorf("results count %d sales", sales)
	}

	// Arrays: element by element, NULL arrays and NULL elements kept.
	if got := queryString(t, dst, `SELECT count(*)::text FROM sales WHERE buyer_emails IS NULL`); got != queryString(t, src, `SELECT count(*)::text FROM sales WHERE buyer_emails IS NULL`) {
		t.Errorf("%s NULL arrays in staging", got)
	}
	if got := queryString(t, dst, `SELECT count(*)::text FROM sales WHERE buyer_emails IS NOT NULL AND NOT (cardinality(buyer_emails) = 3 AND buyer_emails[2] IS NULL
		AND buyer_emails[1] LIKE '%@%' AND buyer_emails[3] LIKE '%@%')`); got != "0" {
		t.Errorf("%s arrays lost their shape", got)
	}
	prodEmails := queryStrings(t, src, `SELECT e FROM sales, unnest(buyer_emails) e WHERE e IS NOT NULL`)
	for _, e := range queryStrings(t, dst, `SELECT e FROM sales, unnest(buyer_emails) e WHERE e IS NOT NULL`) {
		if slices.Contains(prodEmails, e) {
			t.Fatalf("production e-mail %s reached staging", e)
		}
	}
	if got := queryString(t, dst, `SELECT count(*)::text FROM sales WHERE phones[2] = 're"dact,ed}' AND phones[1] NOT LIKE '+49 30 1%'`); got != "300" {
		t.Errorf("%s of 300 phone arrays have a masked number and the redaction constant", got)
	}
}

// idList is the ids of table, comma-separated.
func idList(t *testing.T, conn *pgx.Conn, table string) string {
	t.Helper()
	return queryString(t, conn, `SELECT string_agg(id::text, ',') FROM `+table)
}

// TestAnalyze_excludedDependencies: excluding a table that others
// reference, or that a view reads, is a problem naming the foreign key or
// view and the way out; with AllowDroppedDependents the copy leaves them
// out and lists them.
func TestAnalyze_excludedDependencies(t *testing.T) {
	ctx := context.Background()
	cluster := pgtest.Require(t)
	prod := cluster.NewDatabase(t)
	pgtest.Exec(t, prod, partitionSchema...)
	staging := cluster.NewDatabase(t)
	opts := Options{Rules: partitionRules, Key: testKey(t, "partitions"), Parallelism: 2, ExcludeTables: []string{"public.rentals"}}

	_, err := Clone(ctx, sourceConfig(t, prod), mustConfig(t, staging), opts)
	var pe *ProblemsError
	if !errors.As(err, &pe) {
		t.Fatalf("Clone excluding rentals: %v, want *ProblemsError", err)
	}
	var got []string
	for _, p := range pe.Problems {
		if p.Kind == ProblemExcludedDependency {
			got = append(got, p.Table+": "+p.Detail)
		}
	}
	want := []string{"public.payments_2024_01: foreign key payments_2024_01_rental_id_fkey references public.rentals",
		"public.payments_2024_02: foreign key payments_2024_02_rental_id_fkey references public.rentals",
		"public.rental_counts: this view reads public.rentals"}
	if len(got) != len(want) {
		t.Fatalf("problems = %q, want %d", got, len(want))
	}
	for i := range want {
		if !strings.HasPrefix(got[i], want[i]) || !strings.Contains(got[i], "allow_dropped_dependents") {
			t.Errorf("problem %d = %q, want %q... naming allow_dropped_dependents", i, got[i], want[i])
		}
	}

	opts.AllowDroppedDependents = true
	res, err := Clone(ctx, sourceConfig(t, prod), mustConfig(t, staging), opts)
	if err != nil {
		t.Fatal(err)
	}
	skipped := strings.Join(res.Skipped, "\n")
	for _, w := range []string{"foreign key payments_2024_01_rental_id_fkey on public.payments_2024_01: public.rentals is not copied",
		"view public.rental_counts: it reads public.rentals, which is not copied"} {
		if !strings.Contains(skipped, w) {
			t.Errorf("Skipped = %s\nwant %s", skipped, w)
		}
	}
}
