package pgclone

import (
	"context"
	"slices"
	"testing"

	"github.com/stagingkit/terraform-provider-staging/internal/masking"
	"github.com/stagingkit/terraform-provider-staging/internal/pgtest"
)

func TestSplitName(t *testing.T) {
	for _, c := range []struct {
		in   string
		want Name
	}{
		{"orders", Name{"public", "orders"}},
		{"public.orders", Name{"public", "orders"}},
		{`"sales.eu".orders`, Name{"sales.eu", "orders"}},
		{`"sales.eu"."order.lines"`, Name{"sales.eu", "order.lines"}},
		{`"a.b"`, Name{"public", "a.b"}},
		{`public."a.b"`, Name{"public", "a.b"}},
		{`"say ""hi"""."x"`, Name{`say "hi"`, "x"}},
		{"My Schema.My Table", Name{"My Schema", "My Table"}},
	} {
		if got := SplitName(c.in); got != c.want {
			t.Errorf("SplitName(%q) = %#v, want %#v", c.in, got, c.want)
		}
		if got := SplitName(c.want.String()); got != c.want {
			t.Errorf("SplitName(%q) (from String) = %#v, want %#v", c.want.String(), got, c.want)
		}
	}
}

// TestClone_dottedNames: schema and table names that hold dots are carried
// as (schema, name) pairs: rules, subsets, foreign keys, views, functions
// and a materialized view work on them.
func TestClone_dottedNames(t *testing.T) {
	ctx := context.Background()
	cluster := pgtest.Require(t)
	prod := cluster.NewDatabase(t)
	pgtest.Exec(t, prod,
		`CREATE SCHEMA "sales.eu"`,
		`CREATE TABLE "sales.eu".customers (id int GENERATED ALWAYS AS IDENTITY PRIMARY KEY, email text NOT NULL UNIQUE)`,
		`CREATE TABLE "sales.eu"."order.lines" (id serial PRIMARY KEY, customer_id int NOT NULL REFERENCES "sales.eu".customers, qty int NOT NULL)`,
		`CREATE TABLE public."a.b" (id int PRIMARY KEY, line_id int REFERENCES "sales.eu"."order.lines")`,
		`CREATE VIEW "sales.eu".totals AS SELECT customer_id, sum(qty) AS qty FROM "sales.eu"."order.lines" GROUP BY 1`,
		`CREATE FUNCTION "sales.eu".n_lines() RETURNS bigint LANGUAGE sql STABLE AS $$ SELECT count(*) FROM "sales.eu"."order.lines" $$`,
		`CREATE MATERIALIZED VIEW "sales.eu".line_count AS SELECT "sales.eu".n_lines() AS n`,
		`INSERT INTO "sales.eu".customers (email) SELECT 'c' || g || '@example.com' FROM generate_series(1, 100) g`,
		`INSERT INTO "sales.eu"."order.lines" (customer_id, qty) SELECT 1 + g % 100, g FROM generate_series(1, 300) g`,
		`INSERT INTO public."a.b" SELECT g, g FROM generate_series(1, 300) g`,
	)
	staging := cluster.NewDatabase(t)
	opts := Options{Key: testKey(t, "dots"), Parallelism: 2,
		Rules:  []ColumnRule{{Table: `"sales.eu".customers`, Column: "email", Spec: masking.Spec{Transformer: "email"}}},
		Subset: SubsetOptions{Subsets: []Subset{{Table: `"sales.eu".customers`, Percent: 50}}, Seed: "dots"}}
	res, err := Clone(ctx, sourceConfig(t, prod), mustConfig(t, staging), opts)
	if err != nil {
		t.Fatal(err)
	}
	var names []string
	for _, tp := range res.Tables {
		names = append(names, tp.Name)
	}
	if want := []string{`"sales.eu"."order.lines"`, `"sales.eu".customers`, `public."a.b"`}; !slices.Equal(names, want) {
		t.Errorf("tables = %q, want %q", names, want)
	}
	src, dst := dial(t, prod), dial(t, staging)
	sameCatalog(t, src, dst, nil, "sales.eu", "public")
	if got := queryString(t, dst, `SELECT count(*)::text FROM "sales.eu".customers`); got == "100" || got == "0" {
		t.Errorf("the subset kept %s of 100 customers", got)
	}
	if a, b := queryString(t, dst, `SELECT n::text FROM "sales.eu".line_count`), queryString(t, dst, `SELECT count(*)::text FROM "sales.eu"."order.lines"`); a != b {
		t.Errorf("line_count = %s, lines = %s", a, b)
	}
}
