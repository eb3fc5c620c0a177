package main

import (
	"context"
	"fmt"
	"io"
	"os"
	"strconv"
	"strings"
	"time"

	"github.com/jackc/pgx/v5"
	"github.com/jackc/pgx/v5/pgconn"

	"github.com/stagingkit/terraform-provider-staging/internal/shopdata"
)

// dataset is one seeded source database.
type dataset struct {
	db     string // database name in the source cluster
	kind   string // "shop" or "ledger": which masking rules the clone uses
	label  string
	scale  float64
	dsn    string
	tables []string         // largest first
	rows   map[string]int64 // rows per table, as seeded
	types  []string         // DDL of the types the bare tables of the limit need
}

func (d *dataset) totalRows() int64 {
	var n int64
	for _, r := range d.rows {
		n += r
	}
	return n
}

// seedShop creates and fills the sample shop (internal/shopdata) at scale s.
func seedShop(ctx context.Context, src clusterDB, db string, s float64) (*dataset, error) {
	dsn, err := src.CreateDatabase(ctx, db)
	if err != nil {
		return nil, err
	}
	conn, err := pgx.Connect(ctx, dsn)
	if err != nil {
		return nil, err
	}
	defer conn.Close(ctx)
	start := time.Now()
	if err := shopdata.Create(ctx, conn); err != nil {
		return nil, err
	}
	sz, err := shopdata.Seed(ctx, conn, s)
	if err != nil {
		return nil, err
	}
	if _, err := conn.Exec(ctx, "VACUUM (ANALYZE)"); err != nil {
		return nil, err
	}
	d := &dataset{db: db, kind: "shop", scale: s, dsn: dsn,
		label:  fmt.Sprintf("shop at scale %g", s),
		tables: []string{"orders", "payments", "customers", "addresses", "support_tickets"},
		rows: map[string]int64{"customers": sz.Customers, "addresses": sz.Addresses, "orders": sz.Orders,
			"payments": sz.Payments, "support_tickets": sz.Tickets},
		types: shopdata.Schema[:2],
	}
	fmt.Fprintf(os.Stderr, "seeded the %s (%d rows) in %s\n", d.label, d.totalRows(), time.Since(start).Round(time.Second))
	return d, nil
}

// ledgerSQL creates and fills one payments-like table of n rows with three
// personal columns (card number, card holder, e-mail); {rows} is replaced
// by the row count. Card numbers come
// from 100,000 Luhn-valid numbers, as real payments repeat cards.
const ledgerSQL = `
CREATE TABLE payments (
	id          bigint PRIMARY KEY,
	order_ref   bigint NOT NULL,
	card_number text NOT NULL,
	card_holder text NOT NULL,
	email       text NOT NULL,
	amount      numeric(12, 2) NOT NULL,
	paid_at     timestamptz NOT NULL);
CREATE TEMP TABLE cards AS
	SELECT i, d || ((10 - (SELECT sum(CASE WHEN (length(d) - j) % 2 = 0
		THEN substr(d, j, 1)::int * 2 - CASE WHEN substr(d, j, 1)::int * 2 > 9 THEN 9 ELSE 0 END
		ELSE substr(d, j, 1)::int END) FROM generate_series(1, length(d)) AS j) % 10) % 10)::text AS number
	FROM generate_series(0, 99999) AS i,
	LATERAL (SELECT '4' || lpad(((i::bigint * 2654435761) % 100000000000000)::text, 14, '0') AS d) AS x;
INSERT INTO payments
	SELECT g, 1 + (g * 7919) % {rows}, c.number,
		upper((ARRAY['ALICE','BRUNO','CHLOE','DMITRI','ELENA','FARAH','GUSTAV','HANA'])[1 + g % 8] || ' ' ||
		      (ARRAY['SMITH','MULLER','GARCIA','ROSSI','KOWALSKI','NGUYEN','DUBOIS','SILVA','NOVAK'])[1 + (g / 8) % 9]),
		'payer' || g || '@example.com',
		((g * 104729) % 50000) / 100.0,
		timestamptz '2024-01-01 00:00:00+00' + make_interval(secs => (g * 31) % 60000000)
	FROM generate_series(1, {rows}::bigint) AS g JOIN cards AS c ON c.i = g % 100000;
CREATE INDEX payments_order_ref ON payments (order_ref);`

// seedLedger creates the single-table dataset: 7M rows at scale 1.
func seedLedger(ctx context.Context, src clusterDB, db string, s float64) (*dataset, error) {
	dsn, err := src.CreateDatabase(ctx, db)
	if err != nil {
		return nil, err
	}
	conn, err := pgconn.Connect(ctx, dsn)
	if err != nil {
		return nil, err
	}
	defer conn.Close(ctx)
	n := max(int64(7e6*s), 1000)
	start := time.Now()
	if _, err := conn.Exec(ctx, strings.ReplaceAll(ledgerSQL, "{rows}", strconv.FormatInt(n, 10))).ReadAll(); err != nil {
		return nil, fmt.Errorf("seeding the one-table dataset: %w", err)
	}
	if _, err := conn.Exec(ctx, "VACUUM (ANALYZE) payments").ReadAll(); err != nil {
		return nil, err
	}
	d := &dataset{db: db, kind: "ledger", scale: s, dsn: dsn, label: fmt.Sprintf("one table (payments) at scale %g", s),
		tables: []string{"payments"}, rows: map[string]int64{"payments": n}}
	fmt.Fprintf(os.Stderr, "seeded the %s (%d rows) in %s\n", d.label, n, time.Since(start).Round(time.Second))
	return d, nil
}

// clusterDB is what the datasets need from a cluster.
type clusterDB interface {
	CreateDatabase(ctx context.Context, name string) (string, error)
}

// warm reads every table of d once, untimed, so that every method starts
// from the same warm operating-system cache.
func warm(ctx context.Context, d *dataset) error {
	conn, err := pgconn.Connect(ctx, d.dsn)
	if err != nil {
		return err
	}
	defer conn.Close(ctx)
	for _, t := range d.tables {
		if _, err := conn.CopyTo(ctx, io.Discard, fmt.Sprintf("COPY %s TO STDOUT (FORMAT binary)", pgx.Identifier{t}.Sanitize())); err != nil {
			return fmt.Errorf("warming %s: %w", t, err)
		}
	}
	return nil
}

// verifyRows checks that the database at dsn holds exactly d's rows in
// every table (fraction 1) or, for a subset, at least one row per table.
func verifyRows(ctx context.Context, dsn string, d *dataset, subset bool) (int64, error) {
	conn, err := pgx.Connect(ctx, dsn)
	if err != nil {
		return 0, err
	}
	defer conn.Close(ctx)
	var total int64
	for _, t := range d.tables {
		var n int64
		if err := conn.QueryRow(ctx, "SELECT count(*) FROM "+pgx.Identifier{t}.Sanitize()).Scan(&n); err != nil {
			return 0, fmt.Errorf("counting %s: %w", t, err)
		}
		if !subset && n != d.rows[t] {
			return 0, fmt.Errorf("%s holds %d rows, the source %d", t, n, d.rows[t])
		}
		total += n
	}
	return total, nil
}
