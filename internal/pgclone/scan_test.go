package pgclone

import (
	"context"
	"testing"

	"github.com/jackc/pgx/v5"
)

func TestScanPII(t *testing.T) {
	conn := dial(t, newProd(t))
	ctx := context.Background()
	tx, err := conn.BeginTx(ctx, pgx.TxOptions{IsoLevel: pgx.RepeatableRead, AccessMode: pgx.ReadOnly})
	if err != nil {
		t.Fatal(err)
	}
	defer func() { _ = tx.Rollback(ctx) }()
	found, err := ScanPII(ctx, tx, Options{})
	if err != nil {
		t.Fatal(err)
	}
	got := map[string]string{}
	for _, f := range found {
		got[f.Table+"."+f.Column] = f.Findings[0].Kind
	}
	for col, kind := range map[string]string{
		"public.customers.email": "email", "public.customers.phone": "phone", "public.orders.billing_email": "email",
		"hr.employees.work_email": "email", "public.events.client_ip": "ip", "public.contacts.mobile": "phone",
	} {
		if got[col] != kind {
			t.Errorf("%s: kind %q, want %q (all: %v)", col, got[col], kind, got)
		}
	}
	for _, safe := range []string{"public.orders.total", "public.orders.status", "public.customers.tier"} {
		if k, ok := got[safe]; ok {
			t.Errorf("%s flagged as %s", safe, k)
		}
	}
	// Filters apply.
	only, err := ScanPII(ctx, tx, Options{IncludeSchemas: []string{"hr"}})
	if err != nil {
		t.Fatal(err)
	}
	for _, f := range only {
		if f.Table != "hr.employees" {
			t.Errorf("schema filter let %s through", f.Table)
		}
	}
}
