package pgclone

import (
	"context"
	"os"
	"testing"

	"github.com/jackc/pgx/v5"

	"github.com/stagingkit/terraform-provider-staging/internal/pgtest"
)

func TestMain(m *testing.M) { os.Exit(pgtest.Main(m)) }

// shopSchema is a small schema with most kinds of catalog objects.
var shopSchema = []string{
	`CREATE TYPE order_status AS ENUM ('new', 'paid', 'shipped')`,
	`CREATE DOMAIN email AS text CHECK (VALUE LIKE '%@%')`,
	`CREATE TABLE customers (
		id bigint GENERATED ALWAYS AS IDENTITY PRIMARY KEY,
		email email NOT NULL UNIQUE,
		name text NOT NULL,
		created_at timestamptz NOT NULL DEFAULT now())`,
	`CREATE TABLE orders (
		id bigserial PRIMARY KEY,
		customer_id bigint NOT NULL REFERENCES customers (id),
		status order_status NOT NULL DEFAULT 'new',
		total numeric(12, 2) NOT NULL CHECK (total >= 0),
		total_cents bigint GENERATED ALWAYS AS ((total * 100)::bigint) STORED)`,
	`CREATE INDEX orders_customer ON orders (customer_id)`,
	`CREATE VIEW paid_orders AS SELECT * FROM orders WHERE status = 'paid'`,
}

func fingerprint(t *testing.T, dsn string, opts FingerprintOptions) Fingerprint {
	t.Helper()
	ctx := context.Background()
	conn, err := pgx.Connect(ctx, dsn)
	if err != nil {
		t.Fatal(err)
	}
	defer conn.Close(ctx)
	tx, err := conn.BeginTx(ctx, pgx.TxOptions{IsoLevel: pgx.RepeatableRead, AccessMode: pgx.ReadOnly})
	if err != nil {
		t.Fatal(err)
	}
	defer func() { _ = tx.Rollback(ctx) }()
	fp, err := ReadFingerprint(ctx, tx, opts)
	if err != nil {
		t.Fatal(err)
	}
	return fp
}

func TestReadFingerprint(t *testing.T) {
	c := pgtest.Require(t)
	prod, staging := c.NewDatabase(t), c.NewDatabase(t)
	pgtest.Exec(t, prod, shopSchema...)
	pgtest.Exec(t, staging, shopSchema...)

	a, b := fingerprint(t, prod, FingerprintOptions{}), fingerprint(t, staging, FingerprintOptions{})
	if a.SchemaDigest != b.SchemaDigest || len(a.Tables) != 3 {
		t.Fatalf("identical schemas differ: %v vs %v", a.Tables, b.Tables)
	}
	if a.ServerVersionNum < 100000 || a.ServerVersion == "" || a.Encoding != "UTF8" || a.Extensions["plpgsql"] == "" || a.Settings["DateStyle"] == "" {
		t.Errorf("server facts = %+v", a)
	}
	for _, name := range []string{"public.customers", "public.orders", "public.paid_orders"} {
		if a.Tables[name] == "" {
			t.Errorf("no digest for %s in %v", name, a.Tables)
		}
	}

	// Each kind of change shows in the right place.
	changes := []struct {
		name    string
		sql     string
		table   string // "" when only the schema digest changes
		changes bool
	}{
		{"added column", `ALTER TABLE customers ADD COLUMN phone text`, "public.customers", true},
		{"new index", `CREATE INDEX customers_name ON customers (name)`, "public.customers", true},
		{"changed default", `ALTER TABLE orders ALTER COLUMN status SET DEFAULT 'paid'`, "public.orders", true},
		{"new enum label", `ALTER TYPE order_status ADD VALUE 'refunded'`, "", true},
		{"data only", `INSERT INTO customers (email, name) VALUES ('a@b.c', 'A')`, "", false},
	}
	for _, ch := range changes {
		before := fingerprint(t, staging, FingerprintOptions{})
		pgtest.Exec(t, staging, ch.sql)
		after := fingerprint(t, staging, FingerprintOptions{})
		if (before.SchemaDigest != after.SchemaDigest) != ch.changes {
			t.Errorf("%s: schema digest changed = %v, want %v", ch.name, before.SchemaDigest != after.SchemaDigest, ch.changes)
		}
		for table, d := range before.Tables {
			if changed := after.Tables[table] != d; changed != (table == ch.table) {
				t.Errorf("%s: digest of %s changed = %v", ch.name, table, changed)
			}
		}
	}

	// Extensions, and a schema filter.
	pgtest.Exec(t, staging, `CREATE EXTENSION pgcrypto`, `CREATE SCHEMA audit`, `CREATE TABLE audit.log (id int)`)
	fp := fingerprint(t, staging, FingerprintOptions{Schemas: []string{"audit"}, Settings: []string{"TimeZone"}})
	if fp.Extensions["pgcrypto"] == "" || len(fp.Tables) != 1 || fp.Tables["audit.log"] == "" || len(fp.Settings) != 1 {
		t.Errorf("filtered fingerprint = %+v", fp)
	}
}
