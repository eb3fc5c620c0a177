package shopdata

import (
	"context"
	"os"
	"testing"

	"github.com/jackc/pgx/v5"

	"github.com/stagingkit/terraform-provider-staging/internal/pgtest"
)

func TestMain(m *testing.M) { os.Exit(pgtest.Main(m)) }

func luhnValid(s string) bool {
	sum, double := 0, false
	for i := len(s) - 1; i >= 0; i-- {
		d := int(s[i] - '0')
		if double {
			if d *= 2; d > 9 {
				d -= 9
			}
		}
		sum += d
		double = !double
	}
	return sum%10 == 0
}

func TestSeed(t *testing.T) {
	ctx := context.Background()
	conn, err := pgx.Connect(ctx, pgtest.Require(t).NewDatabase(t))
	if err != nil {
		t.Fatal(err)
	}
	defer conn.Close(ctx)
	if err := Create(ctx, conn); err != nil {
		t.Fatal(err)
	}
	sz, err := Seed(ctx, conn, 0.002)
	if err != nil {
		t.Fatal(err)
	}
	counts := map[string]int64{"customers": sz.Customers, "addresses": sz.Addresses, "orders": sz.Orders, "payments": sz.Payments, "support_tickets": sz.Tickets}
	for table, want := range counts {
		var got int64
		if err := conn.QueryRow(ctx, "SELECT count(*) FROM "+table).Scan(&got); err != nil || got != want {
			t.Errorf("%s: %d rows (%v), want %d", table, got, err, want)
		}
	}
	rows, err := conn.Query(ctx, `SELECT card_number FROM payments`)
	if err != nil {
		t.Fatal(err)
	}
	cards, err := pgx.CollectRows(rows, pgx.RowTo[string])
	if err != nil {
		t.Fatal(err)
	}
	for _, c := range cards {
		if !luhnValid(c) || (len(c) != 15 && len(c) != 16) {
			t.Fatalf("card number %q is not a valid 15/16-digit Luhn number", c)
		}
	}
	var body string
	if err := conn.QueryRow(ctx, `SELECT body FROM support_tickets LIMIT 1`).Scan(&body); err != nil {
		t.Fatal(err)
	}
	t.Logf("sample ticket: %s", body)
	// New rows get ids after the seeded ones.
	if _, err := conn.Exec(ctx, `INSERT INTO customers (email, first_name, last_name) VALUES ('new@example.com', 'N', 'N')`); err != nil {
		t.Errorf("identity does not continue after the seeded rows: %v", err)
	}
}
