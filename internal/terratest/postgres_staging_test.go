package terratest

import (
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"path/filepath"
	"strings"
	"testing"

	"github.com/gruntwork-io/terratest/modules/terraform"
	"github.com/jackc/pgx/v5"
	"github.com/jackc/pgx/v5/pgconn"

	"github.com/stagingkit/terraform-provider-staging/internal/isolation"
	"github.com/stagingkit/terraform-provider-staging/internal/pgtest"
	"github.com/stagingkit/terraform-provider-staging/internal/shopdata"
)

// TestPostgresStaging_basic applies modules/postgres-staging/examples/basic,
// copied out of the tree with its module alone, against two throwaway clusters ("production" seeded with the sample shop,
// read through a least-privileged login, and "staging"), checks the copy and
// the application role with SQL, applies again expecting no change, then
// destroys and checks that the role and the copy are gone.
func TestPostgresStaging_basic(t *testing.T) {
	requireAcc(t)
	t.Parallel()
	ctx := testContext(t)

	prodCluster := pgtest.StartForTest(t)
	stagingCluster := pgtest.StartForTest(t)
	prodDSN := prodCluster.NewDatabase(t)
	stagingDSN := stagingCluster.NewDatabase(t)
	sizes := seedShop(ctx, t, prodDSN)
	readerDSN := pgtest.ReaderDSN(t, prodDSN)

	envName := uniqueName(t, "shop")
	root := randomHex(t, 32)
	dir := filepath.Join(copyModule(t, "postgres-staging"), "examples", "basic")
	opts := options(t, dir, map[string]any{
		"environment_name": envName,
		"staging_port":     stagingCluster.Port,
	}, map[string]string{
		"TF_VAR_prod_dsn":               readerDSN,
		"TF_VAR_staging_dsn":            stagingDSN,
		"TF_VAR_masking_key":            randomHex(t, 32),
		"TF_VAR_credential_root_secret": root,
	})

	defer terraform.Destroy(t, opts)
	terraform.InitAndApply(t, opts)

	// Outputs.
	var rows map[string]int64
	terraform.OutputStruct(t, opts, "rows", &rows)
	if got := rows["public.customers"]; got <= 0 || got >= sizes.Customers {
		t.Fatalf("rows[public.customers] = %d, want a subset of the %d production customers", got, sizes.Customers)
	}
	var findings []map[string]any
	terraform.OutputStruct(t, opts, "isolation_findings", &findings)
	if len(findings) != 0 {
		t.Fatalf("isolation findings: %v, want none", findings)
	}
	if report := terraform.Output(t, opts, "isolation_report"); !strings.Contains(report, `"refused"`) {
		t.Fatalf("isolation report %s: production should have refused staging's login", report)
	}
	var parity struct {
		Score      float64 `json:"score"`
		Checked    int     `json:"checked"`
		Violations []any   `json:"violations"`
	}
	if err := json.Unmarshal([]byte(terraform.Output(t, opts, "parity_report")), &parity); err != nil {
		t.Fatalf("parity_report is not JSON: %v", err)
	}
	if parity.Checked == 0 || parity.Score != 1 || len(parity.Violations) != 0 {
		t.Fatalf("parity report: %+v, want checks that all passed", parity)
	}
	role := terraform.Output(t, opts, "role_name")
	var env struct {
		Namespace string `json:"namespace"`
	}
	terraform.OutputStruct(t, opts, "environment", &env)
	if !strings.HasPrefix(role, env.Namespace+"_") {
		t.Fatalf("role_name %q does not start with the environment's namespace %q", role, env.Namespace)
	}
	if url := terraform.Output(t, opts, "database_url"); strings.Contains(url, ":"+"@") || strings.Count(url, ":") != 2 {
		t.Fatalf("database_url %q should carry no password", url)
	}

	// The copy, with SQL: subsetted, every reference resolves, masked.
	staging := connect(ctx, t, stagingDSN)
	prod := connect(ctx, t, prodDSN)
	customers := count(ctx, t, staging, "SELECT count(*) FROM customers")
	if customers != rows["public.customers"] {
		t.Fatalf("staging has %d customers, the output says %d", customers, rows["public.customers"])
	}
	if n := count(ctx, t, staging, "SELECT count(*) FROM orders o LEFT JOIN customers c ON c.id = o.customer_id WHERE c.id IS NULL"); n != 0 {
		t.Fatalf("%d staging orders reference customers that were not copied", n)
	}
	emails := column(ctx, t, prod, "SELECT email FROM customers")
	cards := column(ctx, t, prod, "SELECT card_number FROM payments")
	if n := countIn(ctx, t, staging, "SELECT count(*) FROM customers WHERE email = ANY($1)", emails); n != 0 {
		t.Fatalf("%d staging customers kept a production e-mail address", n)
	}
	if n := countIn(ctx, t, staging, "SELECT count(*) FROM payments WHERE card_number = ANY($1)", cards); n != 0 {
		t.Fatalf("%d staging payments kept a production card number", n)
	}

	// The application role logs in with the password derived from the root
	// secret, reads, and can do no more than read_only allows.
	password, err := isolation.Password([]byte(root), isolation.Scope{Environment: envName, Name: "app-db", Version: 1}, isolation.DefaultPasswordPolicy())
	if err != nil {
		t.Fatal(err)
	}
	app := connect(ctx, t, withLogin(t, stagingDSN, role, password))
	if n := count(ctx, t, app, "SELECT count(*) FROM customers"); n != customers {
		t.Fatalf("the application role sees %d customers, want %d", n, customers)
	}
	for _, stmt := range []string{
		"INSERT INTO customers (id, email, first_name, last_name) VALUES (-1, 'x@example.com', 'x', 'y')",
		"DELETE FROM orders",
		"CREATE TABLE app_owned (id int)",
		"CREATE ROLE sneaky",
	} {
		if _, err := app.Exec(ctx, stmt); !isInsufficientPrivilege(err) {
			t.Fatalf("%s as the read_only role: %v, want permission denied", stmt, err)
		}
	}
	// Production refuses staging's login.
	if c, err := pgx.Connect(ctx, withLogin(t, prodDSN, role, password)); err == nil {
		c.Close(ctx)
		t.Fatal("production accepted the staging role's login")
	}
	app.Close(ctx)

	// Idempotent: a second apply changes nothing, and the plan is empty.
	out := terraform.Apply(t, opts)
	if !strings.Contains(out, "0 added, 0 changed, 0 destroyed") {
		t.Fatalf("the second apply changed something:\n%s", out)
	}
	if code := terraform.PlanExitCode(t, opts); code != 0 {
		t.Fatalf("plan after the second apply exits %d, want 0 (no changes)", code)
	}

	// Destroy: the role and the copy are gone.
	terraform.Destroy(t, opts)
	if n := count(ctx, t, staging, fmt.Sprintf("SELECT count(*) FROM pg_roles WHERE rolname = '%s'", role)); n != 0 {
		t.Fatalf("role %s still exists after destroy", role)
	}
	if n := count(ctx, t, staging, "SELECT count(*) FROM information_schema.tables WHERE table_schema = 'public'"); n != 0 {
		t.Fatalf("%d tables of the copy are left in staging after destroy", n)
	}
}

// seedShop creates and fills the sample shop (1,000 customers) in dsn.
func seedShop(ctx context.Context, t *testing.T, dsn string) shopdata.Sizes {
	t.Helper()
	conn := connect(ctx, t, dsn)
	defer conn.Close(ctx)
	if err := shopdata.Create(ctx, conn); err != nil {
		t.Fatal(err)
	}
	sizes, err := shopdata.Seed(ctx, conn, 0.001)
	if err != nil {
		t.Fatal(err)
	}
	return sizes
}

func connect(ctx context.Context, t *testing.T, dsn string) *pgx.Conn {
	t.Helper()
	c, err := pgx.Connect(ctx, dsn)
	if err != nil {
		t.Fatalf("connecting: %v", err)
	}
	t.Cleanup(func() { c.Close(context.Background()) })
	return c
}

func count(ctx context.Context, t *testing.T, c *pgx.Conn, q string) int64 {
	t.Helper()
	var n int64
	if err := c.QueryRow(ctx, q).Scan(&n); err != nil {
		t.Fatalf("%s: %v", q, err)
	}
	return n
}

func countIn(ctx context.Context, t *testing.T, c *pgx.Conn, q string, values []string) int64 {
	t.Helper()
	var n int64
	if err := c.QueryRow(ctx, q, values).Scan(&n); err != nil {
		t.Fatalf("%s: %v", q, err)
	}
	return n
}

func column(ctx context.Context, t *testing.T, c *pgx.Conn, q string) []string {
	t.Helper()
	rows, err := c.Query(ctx, q)
	if err != nil {
		t.Fatal(err)
	}
	out, err := pgx.CollectRows(rows, pgx.RowTo[string])
	if err != nil {
		t.Fatalf("%s: %v", q, err)
	}
	if len(out) == 0 {
		t.Fatalf("%s: no rows", q)
	}
	return out
}

// withLogin returns dsn with another user and password.
func withLogin(t *testing.T, dsn, user, password string) string {
	t.Helper()
	cfg, err := pgx.ParseConfig(dsn)
	if err != nil {
		t.Fatal(err)
	}
	return fmt.Sprintf("host=%s port=%d dbname=%s user=%s password='%s' sslmode=disable",
		cfg.Host, cfg.Port, cfg.Database, user, strings.NewReplacer(`\`, `\\`, `'`, `\'`).Replace(password))
}

func isInsufficientPrivilege(err error) bool {
	var pgErr *pgconn.PgError
	return errors.As(err, &pgErr) && pgErr.Code == "42501"
}

// TestPostgresStaging_rulesFromScan adds a personal column no rule covers
// to production: the plan fails closed naming it, and with rules_from_scan
// the scan's suggestion masks it.
func TestPostgresStaging_rulesFromScan(t *testing.T) {
	requireAcc(t)
	t.Parallel()
	ctx := testContext(t)

	prodCluster := pgtest.StartForTest(t)
	stagingCluster := pgtest.StartForTest(t)
	prodDSN := prodCluster.NewDatabase(t)
	stagingDSN := stagingCluster.NewDatabase(t)
	seedShop(ctx, t, prodDSN)
	pgtest.Exec(t, prodDSN,
		`ALTER TABLE customers ADD COLUMN backup_email text`,
		`UPDATE customers SET backup_email = 'backup.' || id || '@mail.example.org'`)

	dir := filepath.Join(copyModule(t, "postgres-staging"), "examples", "basic")
	vars := map[string]any{"environment_name": uniqueName(t, "scan"), "staging_port": stagingCluster.Port}
	opts := options(t, dir, vars, map[string]string{
		"TF_VAR_prod_dsn":               pgtest.ReaderDSN(t, prodDSN),
		"TF_VAR_staging_dsn":            stagingDSN,
		"TF_VAR_masking_key":            randomHex(t, 32),
		"TF_VAR_credential_root_secret": randomHex(t, 32),
	})
	defer terraform.Destroy(t, opts)

	out, err := terraform.InitAndApplyE(t, opts)
	if err == nil || !strings.Contains(out, "backup_email") {
		t.Fatalf("an unmasked personal column should fail the apply, naming it; err %v:\n%s", err, out)
	}

	opts.Vars["rules_from_scan"] = true
	terraform.Apply(t, opts)
	var rules map[string]string
	terraform.OutputStruct(t, opts, "rules", &rules)
	if rules["public.customers.backup_email"] != "email" || rules["public.customers.email"] != "email" {
		t.Fatalf("rules = %v, want the given ones and the scan's email rule for backup_email", rules)
	}
	prod := connect(ctx, t, prodDSN)
	staging := connect(ctx, t, stagingDSN)
	backups := column(ctx, t, prod, "SELECT backup_email FROM customers")
	if n := countIn(ctx, t, staging, "SELECT count(*) FROM customers WHERE backup_email = ANY($1)", backups); n != 0 {
		t.Fatalf("%d staging customers kept a production backup_email", n)
	}
	if n := count(ctx, t, staging, "SELECT count(*) FROM customers WHERE backup_email LIKE '%@%'"); n == 0 {
		t.Fatal("backup_email was not masked into addresses")
	}
}
