// Command demo runs the PostgreSQL half of `make demo`: it starts two
// local PostgreSQL clusters (or uses STAGING_DEMO_PROD_DSN and
// STAGING_DEMO_STAGING_DSN), seeds "production" with a sample shop, applies
// examples/complete (modules/staging-stack: environment, masked clone,
// application login, scaled application inputs, parity and isolation
// checks) with the locally built provider, and prints a report a person
// reads at a glance. `demo stop` removes what it started.
//
// Usage (from the repository root, after make build):
//
//	go run ./internal/demo [-scale 0.02] [-dir .demo]
//	go run ./internal/demo -dir .demo destroy   (terraform destroy of the complete example)
//	go run ./internal/demo -dir .demo stop      (stop the clusters it started)
package main

import (
	"cmp"
	"context"
	"crypto/rand"
	"encoding/hex"
	"encoding/json"
	"errors"
	"flag"
	"fmt"
	"io/fs"
	"os"
	"os/exec"
	"path/filepath"
	"strings"
	"text/tabwriter"
	"time"

	"github.com/jackc/pgx/v5"

	"github.com/stagingkit/terraform-provider-staging/internal/pgtest"
	"github.com/stagingkit/terraform-provider-staging/internal/shopdata"
)

// state is what the demo started, saved so that a later run reuses it and
// `demo stop` removes it.
type state struct {
	Clusters []cluster `json:"clusters"`
	ProdDSN  string    `json:"prod_dsn"`
	// ProdReaderDSN is the read-only login the provider reads the demo's
	// production with: it refuses a superuser login by default.
	ProdReaderDSN string `json:"prod_reader_dsn,omitempty"`
	StagingDSN    string `json:"staging_dsn"`
}

type cluster struct {
	Dir      string `json:"dir"`
	Port     int    `json:"port"`
	Password string `json:"password"`
}

func main() {
	dir := flag.String("dir", ".demo", "working directory of the demo")
	scale := flag.Float64("scale", 0.02, "size of the sample shop: 1 means 1M customers, 3M orders and 3M payments")
	flag.Parse()
	abs, err := filepath.Abs(*dir)
	if err != nil {
		fail(err)
	}
	ctx := context.Background()
	switch flag.Arg(0) {
	case "stop":
		err = stopAll(abs)
	case "destroy":
		err = destroy(ctx, abs)
	case "":
		err = run(ctx, abs, *scale)
	default:
		err = fmt.Errorf("unknown command %q: use stop, destroy, or none", flag.Arg(0))
	}
	if err != nil {
		fail(err)
	}
}

func fail(err error) {
	fmt.Fprintln(os.Stderr, "demo:", err)
	os.Exit(1)
}

func statePath(dir string) string { return filepath.Join(dir, "postgres.json") }

func loadState(dir string) (state, bool) {
	var s state
	b, err := os.ReadFile(statePath(dir))
	if err != nil || json.Unmarshal(b, &s) != nil {
		return state{}, false
	}
	return s, true
}

// alive reports whether dsn accepts connections.
func alive(ctx context.Context, dsn string) bool {
	ctx, cancel := context.WithTimeout(ctx, 3*time.Second)
	defer cancel()
	conn, err := pgx.Connect(ctx, dsn)
	if err != nil {
		return false
	}
	conn.Close(ctx)
	return true
}

// databases returns the production and staging DSNs: the user's, those of
// a previous run that still answer, or two new clusters.
func databases(ctx context.Context, dir string) (state, error) {
	if p, s := os.Getenv("STAGING_DEMO_PROD_DSN"), os.Getenv("STAGING_DEMO_STAGING_DSN"); p != "" && s != "" {
		fmt.Println("Using the PostgreSQL databases from STAGING_DEMO_PROD_DSN and STAGING_DEMO_STAGING_DSN.")
		r, err := pgtest.CreateReader(ctx, p)
		if err != nil {
			return state{}, fmt.Errorf("creating the read-only login %s in production: %w", pgtest.ReaderRole, err)
		}
		return state{ProdDSN: p, ProdReaderDSN: r, StagingDSN: s}, nil
	}
	if s, ok := loadState(dir); ok && alive(ctx, s.ProdDSN) && alive(ctx, s.StagingDSN) {
		fmt.Println("Reusing the demo's PostgreSQL clusters.")
		if s.ProdReaderDSN == "" && len(s.Clusters) > 0 {
			var err error
			if s.ProdReaderDSN, err = pgtest.CreateReader(ctx, s.ProdDSN); err != nil {
				return state{}, err
			}
			return s, save(dir, s)
		}
		return s, nil
	}
	_ = stopAll(dir)
	fmt.Println("Starting two local PostgreSQL clusters: production and staging...")
	var st state
	for i, db := range []string{"shop_production", "shop_staging"} {
		c, err := pgtest.Start(ctx)
		if err != nil {
			_ = stopAll(dir)
			return state{}, fmt.Errorf("starting PostgreSQL: %w", err)
		}
		st.Clusters = append(st.Clusters, cluster{Dir: c.Dir, Port: c.Port, Password: c.Password})
		if err := save(dir, st); err != nil {
			return state{}, err
		}
		dsn, err := c.CreateDatabase(ctx, db)
		if err != nil {
			return state{}, err
		}
		if i == 0 {
			st.ProdDSN = dsn
			if st.ProdReaderDSN, err = pgtest.CreateReader(ctx, dsn); err != nil {
				return state{}, err
			}
		} else {
			st.StagingDSN = dsn
		}
	}
	return st, save(dir, st)
}

func save(dir string, s state) error {
	if err := os.MkdirAll(dir, 0o700); err != nil {
		return err
	}
	b, _ := json.MarshalIndent(s, "", "  ")
	return os.WriteFile(statePath(dir), b, 0o600)
}

// stopAll stops the clusters a previous run started.
func stopAll(dir string) error {
	s, ok := loadState(dir)
	if !ok {
		return nil
	}
	var errs []error
	for _, c := range s.Clusters {
		if err := pgtest.Attach(c.Dir, c.Port, c.Password).Stop(); err != nil {
			errs = append(errs, err)
		}
	}
	if err := os.Remove(statePath(dir)); err != nil && !errors.Is(err, os.ErrNotExist) {
		errs = append(errs, err)
	}
	return errors.Join(errs...)
}

func run(ctx context.Context, dir string, scale float64) error {
	st, err := databases(ctx, dir)
	if err != nil {
		return err
	}
	prod, err := pgx.Connect(ctx, st.ProdDSN)
	if err != nil {
		return fmt.Errorf("connecting to production: %w", err)
	}
	defer prod.Close(ctx)
	var seeded bool
	if err := prod.QueryRow(ctx, `SELECT to_regclass('public.customers') IS NOT NULL`).Scan(&seeded); err != nil {
		return err
	}
	if !seeded {
		start := time.Now()
		if err := shopdata.Create(ctx, prod); err != nil {
			return err
		}
		sz, err := shopdata.Seed(ctx, prod, scale)
		if err != nil {
			return err
		}
		fmt.Printf("Seeded production with %d customers, %d orders, %d payments and %d support tickets in %s.\n",
			sz.Customers, sz.Orders, sz.Payments, sz.Tickets, time.Since(start).Round(time.Millisecond))
	}

	// The example refers to ../../modules: copy both, keeping the layout.
	if err := copyTree("modules", filepath.Join(dir, "modules")); err != nil {
		return err
	}
	if err := copyTree(filepath.Join("examples", "complete"), workDir(dir)); err != nil {
		return err
	}
	fmt.Println("Applying examples/complete (modules/staging-stack: an environment with a lease, a masked 20% clone,")
	fmt.Println("the application's login and scaled inputs, parity and isolation checks)...")
	logPath := filepath.Join(dir, "complete.log")
	out, err := terraformOutput(ctx, dir, st, "get")
	if err == nil {
		var more []byte
		more, err = terraformOutput(ctx, dir, st, "apply", "-auto-approve")
		out = append(out, more...)
	}
	_ = os.WriteFile(logPath, out, 0o600)
	if err != nil {
		os.Stdout.Write(out)
		return fmt.Errorf("terraform apply failed (log: %s): %w", logPath, err)
	}
	for _, l := range strings.Split(string(out), "\n") {
		if strings.Contains(l, "Apply complete") || strings.Contains(l, "No changes") || strings.Contains(l, "complete after") {
			fmt.Println("  " + l)
		}
	}
	if err := writeEnv(dir, st); err != nil {
		return err
	}
	outputs, err := terraformOutput(ctx, dir, st, "output", "-json")
	if err != nil {
		return fmt.Errorf("terraform output: %w\n%s", err, outputs)
	}
	if err := summary(outputs); err != nil {
		return err
	}
	if err := report(ctx, prod, st.StagingDSN); err != nil {
		return err
	}
	return checks(outputs, dir)
}

// workDir is where the demo applies examples/complete.
func workDir(dir string) string { return filepath.Join(dir, "examples", "complete") }

// terraformOutput runs terraform verb args in the example's directory with
// the demo's CLI configuration, registry, connections and secrets, and
// returns what it printed.
func terraformOutput(ctx context.Context, dir string, st state, verb string, args ...string) ([]byte, error) {
	cmd := terraform(ctx, dir, st, verb, args...)
	if verb == "output" {
		return cmd.Output()
	}
	return cmd.CombinedOutput()
}

// terraform prepares a terraform command in the example's directory with
// the demo's CLI configuration, registry, connections and secrets (passed
// as TF_VAR_ variables, never on the command line).
func terraform(ctx context.Context, dir string, st state, verb string, args ...string) *exec.Cmd {
	key := os.Getenv("STAGING_DEMO_MASKING_KEY")
	if key == "" {
		key = demoSecret(dir, "masking.key")
	}
	host, port := "127.0.0.1", "5432"
	if cfg, err := pgx.ParseConfig(st.StagingDSN); err == nil {
		host, port = cfg.Host, fmt.Sprint(cfg.Port)
	}
	cmd := exec.CommandContext(ctx, "terraform", append(append([]string{verb}, args...), "-no-color")...)
	if verb == "apply" || verb == "destroy" {
		cmd.Args = append(cmd.Args, "-input=false")
	}
	cmd.Dir = workDir(dir)
	cmd.Env = append(os.Environ(),
		"TF_CLI_CONFIG_FILE="+filepath.Join(dir, "terraformrc"),
		"STAGING_REGISTRY="+filepath.Join(dir, "registry.db"),
		"CHECKPOINT_DISABLE=1",
		"STAGING_ACTOR="+cmp.Or(os.Getenv("STAGING_ACTOR"), cmp.Or(os.Getenv("USER"), "demo")+"@demo"),
		"TF_VAR_prod_dsn="+cmp.Or(st.ProdReaderDSN, st.ProdDSN),
		"TF_VAR_staging_dsn="+st.StagingDSN,
		"TF_VAR_masking_key="+key,
		"TF_VAR_credential_root_secret="+demoSecret(dir, "credential-root.secret"),
		"TF_VAR_staging_host="+host,
		"TF_VAR_staging_port="+port,
	)
	return cmd
}

// writeEnv writes dir/env.sh: the environment terraform needs to plan or
// apply the demo's example by hand (CLI configuration, registry, and the
// demo's local connections and secrets, readable by the owner only).
func writeEnv(dir string, st state) error {
	var b strings.Builder
	b.WriteString("# Source this to run terraform in " + workDir(dir) + " (make demo wrote it).\n")
	for _, kv := range terraform(context.Background(), dir, st, "plan").Env[len(os.Environ()):] {
		k, v, _ := strings.Cut(kv, "=")
		fmt.Fprintf(&b, "export %s='%s'\n", k, strings.ReplaceAll(v, "'", `'\''`))
	}
	return os.WriteFile(filepath.Join(dir, "env.sh"), []byte(b.String()), 0o600)
}

// destroy runs terraform destroy on the clone example.
func destroy(ctx context.Context, dir string) error {
	st, ok := loadState(dir)
	if !ok {
		return nil
	}
	if p, s := os.Getenv("STAGING_DEMO_PROD_DSN"), os.Getenv("STAGING_DEMO_STAGING_DSN"); p != "" && s != "" {
		st.ProdDSN, st.StagingDSN = p, s
	}
	if _, err := os.Stat(workDir(dir)); err != nil {
		return nil // nothing was applied
	}
	out, err := terraformOutput(ctx, dir, st, "destroy", "-auto-approve")
	if err != nil {
		return fmt.Errorf("terraform destroy of examples/complete failed: %w\n%s", err, out)
	}
	for _, l := range strings.Split(string(out), "\n") {
		if strings.Contains(l, "Destroy complete") {
			fmt.Println("  examples/complete: " + l)
		}
	}
	return nil
}

// report prints rows per table and three sample rows, production next to
// staging.
func report(ctx context.Context, prod *pgx.Conn, stagingDSN string) error {
	stg, err := pgx.Connect(ctx, stagingDSN)
	if err != nil {
		return fmt.Errorf("connecting to staging: %w", err)
	}
	defer stg.Close(ctx)
	fmt.Println()
	fmt.Println("== Rows per table ==")
	tw := tabwriter.NewWriter(os.Stdout, 0, 4, 2, ' ', tabwriter.AlignRight)
	fmt.Fprintln(tw, "table\tproduction\tstaging\tshare\t")
	for _, t := range []string{"customers", "addresses", "orders", "payments", "support_tickets"} {
		var p, s int64
		if err := prod.QueryRow(ctx, "SELECT count(*) FROM "+t).Scan(&p); err != nil {
			return err
		}
		if err := stg.QueryRow(ctx, "SELECT count(*) FROM "+t).Scan(&s); err != nil {
			return err
		}
		fmt.Fprintf(tw, "%s\t%d\t%d\t%.1f%%\t\n", t, p, s, 100*float64(s)/float64(max(p, 1)))
	}
	tw.Flush()

	fmt.Println()
	fmt.Println("== Three customers, production -> staging ==")
	rows, err := stg.Query(ctx, `SELECT id FROM customers ORDER BY id LIMIT 3`)
	if err != nil {
		return err
	}
	ids, err := pgx.CollectRows(rows, pgx.RowTo[int64])
	if err != nil {
		return err
	}
	const q = `SELECT c.first_name || ' ' || c.last_name, c.email, coalesce(c.phone, ''), coalesce(c.birth_date::text, ''),
		coalesce((SELECT p.card_number FROM orders o JOIN payments p ON p.order_id = o.id WHERE o.customer_id = c.id ORDER BY p.id LIMIT 1), '')
		FROM customers c WHERE c.id = $1`
	for _, id := range ids {
		var a, b [5]string
		if err := prod.QueryRow(ctx, q, id).Scan(&a[0], &a[1], &a[2], &a[3], &a[4]); err != nil {
			return err
		}
		if err := stg.QueryRow(ctx, q, id).Scan(&b[0], &b[1], &b[2], &b[3], &b[4]); err != nil {
			return err
		}
		fmt.Printf("customer %d\n", id)
		tw := tabwriter.NewWriter(os.Stdout, 0, 4, 2, ' ', 0)
		for i, label := range []string{"name", "email", "phone", "birth date", "card"} {
			fmt.Fprintf(tw, "  %s\t%s\t->  %s\n", label, a[i], b[i])
		}
		tw.Flush()
	}
	return nil
}

// copyTree copies the .tf and .md files under src into dst, keeping the
// layout and leaving out .terraform directories, lock files and state.
func copyTree(src, dst string) error {
	return filepath.WalkDir(src, func(p string, d fs.DirEntry, err error) error {
		if err != nil {
			return err
		}
		rel, _ := filepath.Rel(src, p)
		target := filepath.Join(dst, rel)
		if d.IsDir() {
			if d.Name() == ".terraform" {
				return filepath.SkipDir
			}
			return os.MkdirAll(target, 0o700)
		}
		if !strings.HasSuffix(d.Name(), ".tf") && !strings.HasSuffix(d.Name(), ".tftest.hcl") {
			return nil
		}
		b, err := os.ReadFile(p)
		if err != nil {
			return err
		}
		return os.WriteFile(target, b, 0o600)
	})
}

// demoSecret returns one of the demo's secrets (the masking key, the
// credential root secret): 32 random bytes in hex, made on the first run and
// kept in the demo directory under name so that a second run masks and
// derives the same way (and changes nothing). Real ones are production
// secrets, made the same way (openssl rand -hex 32).
func demoSecret(dir, name string) string {
	path := filepath.Join(dir, name)
	if b, err := os.ReadFile(path); err == nil && len(b) >= 64 {
		return strings.TrimSpace(string(b))
	}
	raw := make([]byte, 32)
	if _, err := rand.Read(raw); err != nil {
		panic(err)
	}
	key := hex.EncodeToString(raw)
	if err := os.WriteFile(path, []byte(key+"\n"), 0o600); err != nil {
		panic(err)
	}
	return key
}
