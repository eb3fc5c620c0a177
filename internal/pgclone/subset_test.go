package pgclone

import (
	"context"
	"errors"
	"fmt"
	"strings"
	"testing"

	"github.com/jackc/pgx/v5"

	"github.com/stagingkit/terraform-provider-staging/internal/pgtest"
)

// subsetSchema has chains, a nullable reference, a composite key, a
// self-reference, a cycle and a relationship the catalog does not know.
var subsetSchema = []string{
	`CREATE TABLE customers (id int PRIMARY KEY, email text UNIQUE NOT NULL, country text NOT NULL)`,
	`CREATE TABLE addresses (id int PRIMARY KEY, customer_id int NOT NULL REFERENCES customers (id))`,
	`CREATE TABLE orders (id int PRIMARY KEY, customer_id int NOT NULL REFERENCES customers (id), address_id int REFERENCES addresses (id))`,
	`CREATE TABLE payments (id int PRIMARY KEY, order_id int NOT NULL REFERENCES orders (id))`,
	`CREATE TABLE order_items (order_id int NOT NULL REFERENCES orders (id), line int NOT NULL, PRIMARY KEY (order_id, line))`,
	`CREATE TABLE shipments (id int PRIMARY KEY, order_id int NOT NULL, line int NOT NULL, FOREIGN KEY (order_id, line) REFERENCES order_items (order_id, line))`,
	`CREATE TABLE employees (id int PRIMARY KEY, manager_id int REFERENCES employees (id))`,
	`CREATE TABLE accounts (id int PRIMARY KEY, primary_contact_id int)`,
	`CREATE TABLE contacts (id int PRIMARY KEY, account_id int NOT NULL REFERENCES accounts (id))`,
	`ALTER TABLE accounts ADD FOREIGN KEY (primary_contact_id) REFERENCES contacts (id)`,
	`CREATE TABLE tickets (id int PRIMARY KEY, customer_email text NOT NULL)`,
	`INSERT INTO customers SELECT g, 'c' || g || '@example.com', (ARRAY['DE','FR','PT'])[1 + g % 3] FROM generate_series(1, 1000) g`,
	`INSERT INTO addresses SELECT g, 1 + (g * 7) % 1000 FROM generate_series(1, 1000) g`,
	`INSERT INTO orders SELECT g, 1 + (g * 13) % 1000, CASE WHEN g % 5 = 0 THEN NULL ELSE 1 + (g * 3) % 1000 END FROM generate_series(1, 3000) g`,
	`INSERT INTO payments SELECT g, 1 + (g * 11) % 3000 FROM generate_series(1, 3000) g`,
	`INSERT INTO order_items SELECT 1 + (g - 1) / 2, 1 + (g - 1) % 2 FROM generate_series(1, 6000) g`,
	`INSERT INTO shipments SELECT g, 1 + (g * 17) % 3000, 1 + g % 2 FROM generate_series(1, 2000) g`,
	`INSERT INTO employees SELECT g, CASE WHEN g = 1 THEN NULL ELSE 1 + (g * 7) % (g - 1) END FROM generate_series(1, 200) g`,
	`INSERT INTO accounts SELECT g, NULL FROM generate_series(1, 100) g`,
	`INSERT INTO contacts SELECT g, 1 + g % 100 FROM generate_series(1, 300) g`,
	`UPDATE accounts SET primary_contact_id = 1 + (id * 3) % 300`,
	`INSERT INTO tickets SELECT g, 'c' || (1 + g % 1000) || '@example.com' FROM generate_series(1, 500) g`,
}

var subsetTables = []string{"public.customers", "public.addresses", "public.orders", "public.payments", "public.order_items",
	"public.shipments", "public.employees", "public.accounts", "public.contacts", "public.tickets"}

func subsetConn(t *testing.T) *pgx.Conn {
	t.Helper()
	dsn := pgtest.Require(t).NewDatabase(t)
	pgtest.Exec(t, dsn, subsetSchema...)
	conn, err := pgx.Connect(context.Background(), dsn)
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { conn.Close(context.Background()) })
	return conn
}

// selectKept is the SELECT of the rows (and nulled columns) plan copies.
func selectKept(plan SubsetPlan, table string, cols []string) string {
	exprs := make([]string, len(cols))
	for i, c := range cols {
		exprs[i] = "t." + c
		if e, ok := plan.Nullify[table][c]; ok {
			exprs[i] = e
		}
		exprs[i] += " AS " + c
	}
	filter := "true"
	if f, ok := plan.Filters[table]; ok {
		filter = f
	}
	return fmt.Sprintf("SELECT %s FROM ONLY %s AS t WHERE %s", strings.Join(exprs, ", "), quoteQualified(table), filter)
}

func count(t *testing.T, conn *pgx.Conn, sql string) int {
	t.Helper()
	var n int
	if err := conn.QueryRow(context.Background(), sql).Scan(&n); err != nil {
		t.Fatalf("%v\n%s", err, sql)
	}
	return n
}

// assertClosed checks that every reference of every copied row resolves to
// a copied row, as the target's foreign keys will demand.
func assertClosed(t *testing.T, conn *pgx.Conn, plan SubsetPlan, fks []ForeignKey) {
	t.Helper()
	for _, fk := range fks {
		child := selectKept(plan, fk.Table, fk.Columns)
		parent := selectKept(plan, fk.RefTable, fk.RefColumns)
		var notNull, match []string
		for i, c := range fk.Columns {
			notNull = append(notNull, "c."+c+" IS NOT NULL")
			match = append(match, fmt.Sprintf("p.%s = c.%s", fk.RefColumns[i], c))
		}
		dangling := count(t, conn, fmt.Sprintf(`SELECT count(*) FROM (%s) AS c WHERE %s AND NOT EXISTS (SELECT 1 FROM (%s) AS p WHERE %s)`,
			child, strings.Join(notNull, " AND "), parent, strings.Join(match, " AND ")))
		if dangling != 0 {
			t.Errorf("%s: %d copied rows reference rows that are not copied", fk, dangling)
		}
	}
}

func TestPlanSubset_chainsAreClosed(t *testing.T) {
	conn := subsetConn(t)
	ctx := context.Background()
	plan, fks, err := PlanSubset(ctx, conn, subsetTables, SubsetOptions{
		Subsets: []Subset{{Table: "customers", Percent: 20}},
		Seed:    "seed-1",
	})
	if err != nil {
		t.Fatal(err)
	}
	customers := count(t, conn, "SELECT count(*) FROM ("+selectKept(plan, "public.customers", []string{"id"})+") x")
	if customers < 150 || customers > 250 {
		t.Errorf("20%% of 1000 customers gave %d", customers)
	}
	for _, table := range []string{"public.addresses", "public.orders", "public.payments", "public.order_items", "public.shipments"} {
		if plan.Filters[table] == "" {
			t.Errorf("%s is not filtered although it depends on customers", table)
		}
	}
	for _, table := range []string{"public.employees", "public.accounts", "public.tickets"} {
		if _, ok := plan.Filters[table]; ok {
			t.Errorf("%s is filtered although it does not depend on customers", table)
		}
	}
	assertClosed(t, conn, plan, fks)

	// Deterministic by seed.
	again, _, _ := PlanSubset(ctx, conn, subsetTables, SubsetOptions{Subsets: []Subset{{Table: "customers", Percent: 20}}, Seed: "seed-1"})
	other, _, _ := PlanSubset(ctx, conn, subsetTables, SubsetOptions{Subsets: []Subset{{Table: "customers", Percent: 20}}, Seed: "seed-2"})
	ids := func(p SubsetPlan) string {
		var s string
		_ = conn.QueryRow(ctx, "SELECT string_agg(id::text, ',' ORDER BY id) FROM ("+selectKept(p, "public.customers", []string{"id"})+") x").Scan(&s)
		return s
	}
	if ids(plan) != ids(again) {
		t.Error("the same seed chose different customers")
	}
	if ids(plan) == ids(other) {
		t.Error("another seed chose the same customers")
	}
}

func TestPlanSubset_whereNullDanglingAndVirtual(t *testing.T) {
	conn := subsetConn(t)
	plan, fks, err := PlanSubset(context.Background(), conn, subsetTables, SubsetOptions{
		Subsets:            []Subset{{Table: "customers", Where: "country = 'DE'"}, {Table: "addresses", Percent: 50}},
		VirtualForeignKeys: []VirtualForeignKey{{Table: "tickets", Columns: []string{"customer_email"}, RefTable: "customers", RefColumns: []string{"email"}}},
		NullDangling:       true,
		Seed:               "s",
	})
	if err != nil {
		t.Fatal(err)
	}
	if got := count(t, conn, "SELECT count(*) FROM ("+selectKept(plan, "public.customers", []string{"id"})+") x"); got != 333 {
		t.Errorf("customers in DE: %d, want 333", got)
	}
	// orders.address_id is nullable: with NullDangling it is nulled, not filtered on.
	if _, ok := plan.Nullify["public.orders"]["address_id"]; !ok {
		t.Errorf("orders.address_id is not nulled: %v", plan.Nullify)
	}
	if f := plan.Filters["public.tickets"]; !strings.Contains(f, "customer_email") {
		t.Errorf("tickets are not filtered through the virtual foreign key: %q", f)
	}
	assertClosed(t, conn, plan, fks)
}

func TestPlanSubset_cycles(t *testing.T) {
	conn := subsetConn(t)
	ctx := context.Background()
	var se *SubsetError
	for _, root := range []string{"employees", "accounts"} {
		_, _, err := PlanSubset(ctx, conn, subsetTables, SubsetOptions{Subsets: []Subset{{Table: root, Percent: 30}}})
		if !errors.As(err, &se) || !strings.Contains(err.Error(), "cycle") || !strings.Contains(err.Error(), "null_dangling_references") {
			t.Errorf("%s without NullDangling: %v, want a cycle error that says how to cut it", root, err)
		}
		plan, fks, err := PlanSubset(ctx, conn, subsetTables, SubsetOptions{Subsets: []Subset{{Table: root, Percent: 30}}, NullDangling: true, Seed: "x"})
		if err != nil {
			t.Fatalf("%s with NullDangling: %v", root, err)
		}
		assertClosed(t, conn, plan, fks)
	}
}

func TestPlanSubset_badInput(t *testing.T) {
	conn := subsetConn(t)
	cases := map[string]SubsetOptions{
		"not copied":     {Subsets: []Subset{{Table: "nowhere", Percent: 10}}},
		"bad percent":    {Subsets: []Subset{{Table: "customers", Percent: 120}}},
		"empty":          {Subsets: []Subset{{Table: "customers"}}},
		"twice":          {Subsets: []Subset{{Table: "customers", Percent: 10}, {Table: "public.customers", Where: "true"}}},
		"virtual tables": {Subsets: []Subset{{Table: "customers", Percent: 10}}, VirtualForeignKeys: []VirtualForeignKey{{Table: "ghosts", Columns: []string{"a"}, RefTable: "customers", RefColumns: []string{"id"}}}},
		"virtual cols":   {Subsets: []Subset{{Table: "customers", Percent: 10}}, VirtualForeignKeys: []VirtualForeignKey{{Table: "tickets", Columns: []string{"a", "b"}, RefTable: "customers", RefColumns: []string{"id"}}}},
	}
	for name, opts := range cases {
		var se *SubsetError
		if _, _, err := PlanSubset(context.Background(), conn, subsetTables, opts); !errors.As(err, &se) {
			t.Errorf("%s: error %v, want *SubsetError", name, err)
		}
	}
}
