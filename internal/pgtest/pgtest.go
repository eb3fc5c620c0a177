// Package pgtest starts and removes real, throwaway PostgreSQL clusters for
// tests: initdb and pg_ctl on loopback, a free port, a random superuser
// password, and settings that trade durability for speed. When the process
// runs as root the server runs as the postgres user, because PostgreSQL
// refuses to run as root.
//
// A test package shares one cluster between its tests:
//
//	func TestMain(m *testing.M) { os.Exit(pgtest.Main(m)) }
//
//	func TestSomething(t *testing.T) {
//		c := pgtest.Require(t)          // starts the shared cluster on first use
//		dsn := c.NewDatabase(t)         // a fresh database, dropped when t ends
//	}
//
// Without PostgreSQL server binaries, Require skips the test with an
// instruction, except under CI=true, where it fails it.
package pgtest

import (
	"context"
	"crypto/rand"
	"encoding/hex"
	"errors"
	"fmt"
	"net"
	"net/url"
	"os"
	"os/exec"
	"os/user"
	"path/filepath"
	"sort"
	"strconv"
	"strings"
	"sync"
	"sync/atomic"
	"testing"
	"time"

	"github.com/jackc/pgx/v5"
)

// InstallHint tells a person how to get the server binaries.
const InstallHint = "install the PostgreSQL server (Debian/Ubuntu: apt-get install -y postgresql postgresql-contrib) or set PG_BIN to the directory holding initdb and pg_ctl"

// Cluster is one running PostgreSQL server.
type Cluster struct {
	Dir      string // data directory (and socket directory)
	Port     int
	Password string // the postgres superuser's password
	bin      string
	asUser   string // "postgres" when running as root, else ""
	log      string
	dbSeq    atomic.Int64
}

// FindBinaries returns the directory holding initdb and pg_ctl: $PG_BIN, the
// newest /usr/lib/postgresql/*/bin, or the directory of pg_ctl on PATH.
func FindBinaries() (string, error) {
	if dir := os.Getenv("PG_BIN"); dir != "" {
		if _, err := os.Stat(filepath.Join(dir, "pg_ctl")); err != nil {
			return "", fmt.Errorf("PG_BIN=%s holds no pg_ctl: %w", dir, err)
		}
		return dir, nil
	}
	matches, _ := filepath.Glob("/usr/lib/postgresql/*/bin/pg_ctl")
	sort.Slice(matches, func(i, j int) bool { return versionOf(matches[i]) > versionOf(matches[j]) })
	if len(matches) > 0 {
		return filepath.Dir(matches[0]), nil
	}
	if p, err := exec.LookPath("pg_ctl"); err == nil {
		return filepath.Dir(p), nil
	}
	return "", errors.New("no PostgreSQL server binaries (initdb, pg_ctl) found; " + InstallHint)
}

func versionOf(path string) int {
	v, _ := strconv.Atoi(filepath.Base(filepath.Dir(filepath.Dir(path))))
	return v
}

// Start creates and starts a new cluster. Stop removes it.
func Start(ctx context.Context) (*Cluster, error) {
	bin, err := FindBinaries()
	if err != nil {
		return nil, err
	}
	c := &Cluster{bin: bin}
	if os.Geteuid() == 0 {
		if _, err := user.Lookup("postgres"); err != nil {
			return nil, errors.New("running as root, but there is no postgres user to run the server as; " + InstallHint)
		}
		c.asUser = "postgres"
	}
	base := os.Getenv("PGTEST_DIR")
	if base == "" {
		base = os.TempDir()
	}
	dir, err := os.MkdirTemp(base, "pgtest-")
	if err != nil {
		return nil, err
	}
	c.Dir = dir
	c.log = filepath.Join(dir, "server.log")
	pw := make([]byte, 12)
	_, _ = rand.Read(pw)
	c.Password = hex.EncodeToString(pw)
	if err := c.prepareDir(ctx); err != nil {
		c.removeDir()
		return nil, err
	}
	pwfile := filepath.Join(dir, "pwfile")
	if err := os.WriteFile(pwfile, []byte(c.Password+"\n"), 0o600); err != nil {
		c.removeDir()
		return nil, err
	}
	if err := c.chown(ctx, pwfile); err != nil {
		c.removeDir()
		return nil, err
	}
	data := filepath.Join(dir, "data")
	if out, err := c.run(ctx, "initdb", "-D", data, "-U", "postgres", "--pwfile="+pwfile, "-A", "scram-sha-256",
		"--auth-local=trust", "-E", "UTF8", "--locale=C.UTF-8", "--no-sync", "--no-instructions"); err != nil {
		c.removeDir()
		return nil, fmt.Errorf("initdb failed: %w\n%s", err, out)
	}
	var lastErr error
	for attempt := 0; attempt < 5; attempt++ {
		port, err := freePort()
		if err != nil {
			c.removeDir()
			return nil, err
		}
		opts := fmt.Sprintf("-c listen_addresses=127.0.0.1 -p %d -k %s -c fsync=off -c synchronous_commit=off -c full_page_writes=off -c max_connections=200 -c shared_buffers=128MB", port, dir)
		out, err := c.run(ctx, "pg_ctl", "-D", data, "-l", c.log, "-w", "-t", "60", "-o", opts, "start")
		if err == nil {
			c.Port = port
			return c, nil
		}
		logText, _ := os.ReadFile(c.log)
		lastErr = fmt.Errorf("pg_ctl start failed: %w\n%s\n%s", err, out, logText)
		if !strings.Contains(string(logText), "could not bind") && !strings.Contains(string(logText), "in use") {
			break
		}
	}
	c.removeDir()
	return nil, lastErr
}

// prepareDir makes the directory usable by the server's user.
func (c *Cluster) prepareDir(ctx context.Context) error {
	if c.asUser == "" {
		return nil
	}
	if err := os.Chmod(c.Dir, 0o755); err != nil {
		return err
	}
	if err := c.chown(ctx, c.Dir); err != nil {
		return err
	}
	// Every parent must be traversable by the server's user.
	if out, err := exec.CommandContext(ctx, "runuser", "-u", c.asUser, "--", "test", "-w", c.Dir).CombinedOutput(); err != nil {
		return fmt.Errorf("the postgres user cannot write %s (set PGTEST_DIR to a directory every user can traverse, e.g. /tmp): %w %s", c.Dir, err, out)
	}
	return nil
}

func (c *Cluster) chown(ctx context.Context, path string) error {
	if c.asUser == "" {
		return nil
	}
	if out, err := exec.CommandContext(ctx, "chown", c.asUser+":", path).CombinedOutput(); err != nil {
		return fmt.Errorf("chown %s: %w %s", path, err, out)
	}
	return nil
}

func (c *Cluster) run(ctx context.Context, tool string, args ...string) ([]byte, error) {
	path := filepath.Join(c.bin, tool)
	var cmd *exec.Cmd
	if c.asUser != "" {
		cmd = exec.CommandContext(ctx, "runuser", append([]string{"-u", c.asUser, "--", path}, args...)...)
	} else {
		cmd = exec.CommandContext(ctx, path, args...)
	}
	cmd.Dir = c.Dir
	return cmd.CombinedOutput()
}

func freePort() (int, error) {
	l, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		return 0, err
	}
	defer l.Close()
	return l.Addr().(*net.TCPAddr).Port, nil
}

// DSN returns a URL for database db as the superuser.
func (c *Cluster) DSN(db string) string {
	u := url.URL{
		Scheme:   "postgres",
		User:     url.UserPassword("postgres", c.Password),
		Host:     net.JoinHostPort("127.0.0.1", strconv.Itoa(c.Port)),
		Path:     "/" + db,
		RawQuery: "sslmode=disable",
	}
	return u.String()
}

// CreateDatabase creates database name and returns its DSN.
func (c *Cluster) CreateDatabase(ctx context.Context, name string) (string, error) {
	conn, err := pgx.Connect(ctx, c.DSN("postgres"))
	if err != nil {
		return "", err
	}
	defer conn.Close(ctx)
	if _, err := conn.Exec(ctx, "CREATE DATABASE "+pgx.Identifier{name}.Sanitize()); err != nil {
		return "", fmt.Errorf("creating database %s: %w", name, err)
	}
	return c.DSN(name), nil
}

// DropDatabase drops database name, disconnecting its sessions.
func (c *Cluster) DropDatabase(ctx context.Context, name string) error {
	conn, err := pgx.Connect(ctx, c.DSN("postgres"))
	if err != nil {
		return err
	}
	defer conn.Close(ctx)
	_, err = conn.Exec(ctx, "DROP DATABASE IF EXISTS "+pgx.Identifier{name}.Sanitize()+" WITH (FORCE)")
	return err
}

// NewDatabase creates a uniquely named database for t and drops it when t
// ends; it returns the DSN.
func (c *Cluster) NewDatabase(t testing.TB) string {
	t.Helper()
	name := fmt.Sprintf("t%d_%s", c.dbSeq.Add(1), sanitizeName(t.Name()))
	dsn, err := c.CreateDatabase(context.Background(), name)
	if err != nil {
		t.Fatalf("pgtest: %v", err)
	}
	t.Cleanup(func() {
		if err := c.DropDatabase(context.Background(), name); err != nil {
			t.Logf("pgtest: dropping %s: %v", name, err)
		}
	})
	return dsn
}

func sanitizeName(s string) string {
	s = strings.ToLower(s)
	b := []byte(s)
	for i, ch := range b {
		if (ch < 'a' || ch > 'z') && (ch < '0' || ch > '9') {
			b[i] = '_'
		}
	}
	if len(b) > 40 {
		b = b[:40]
	}
	return string(b)
}

// Stop stops the server and removes its directory.
func (c *Cluster) Stop() error {
	_, err := c.run(context.Background(), "pg_ctl", "-D", filepath.Join(c.Dir, "data"), "-m", "immediate", "-w", "-t", "30", "stop")
	c.removeDir()
	return err
}

func (c *Cluster) removeDir() { _ = os.RemoveAll(c.Dir) }

var (
	shared     *Cluster
	sharedErr  error
	sharedOnce sync.Once
	sharedMu   sync.Mutex
)

// Main runs the package's tests and stops the shared cluster afterwards, if
// one was started. Use it from TestMain: os.Exit(pgtest.Main(m)).
func Main(m *testing.M) int {
	code := m.Run()
	sharedMu.Lock()
	defer sharedMu.Unlock()
	if shared != nil {
		if err := shared.Stop(); err != nil {
			fmt.Fprintf(os.Stderr, "pgtest: stopping the shared cluster: %v\n", err)
		}
		shared = nil
	}
	return code
}

// InCI reports whether tests run under CI=true, where missing prerequisites
// fail instead of skipping.
func InCI() bool {
	v, _ := strconv.ParseBool(os.Getenv("CI"))
	return v
}

// Require returns the package's shared cluster, starting it on first use.
// When PostgreSQL cannot be started the test is skipped with an instruction,
// or failed under CI=true.
func Require(t testing.TB) *Cluster {
	t.Helper()
	sharedOnce.Do(func() {
		ctx, cancel := context.WithTimeout(context.Background(), 2*time.Minute)
		defer cancel()
		c, err := Start(ctx)
		sharedMu.Lock()
		shared, sharedErr = c, err
		sharedMu.Unlock()
	})
	if sharedErr != nil {
		if InCI() {
			t.Fatalf("pgtest: PostgreSQL is required under CI=true: %v", sharedErr)
		}
		t.Skipf("pgtest: skipping, PostgreSQL is not available: %v", sharedErr)
	}
	return shared
}

// StartForTest starts a cluster of t's own, besides the shared one (for
// tests that need two servers, such as production and staging), and stops
// it when t ends. It skips or fails like Require when PostgreSQL is missing.
func StartForTest(t testing.TB) *Cluster {
	t.Helper()
	ctx, cancel := context.WithTimeout(context.Background(), 2*time.Minute)
	defer cancel()
	c, err := Start(ctx)
	if err != nil {
		if InCI() {
			t.Fatalf("pgtest: PostgreSQL is required under CI=true: %v", err)
		}
		t.Skipf("pgtest: skipping, PostgreSQL is not available: %v", err)
	}
	t.Cleanup(func() {
		if err := c.Stop(); err != nil {
			t.Logf("pgtest: stopping cluster: %v", err)
		}
	})
	return c
}

// Exec runs SQL statements on the database of dsn, failing t on error.
func Exec(t testing.TB, dsn string, sql ...string) {
	t.Helper()
	ctx := context.Background()
	conn, err := pgx.Connect(ctx, dsn)
	if err != nil {
		t.Fatalf("pgtest: connecting: %v", err)
	}
	defer conn.Close(ctx)
	for _, s := range sql {
		if _, err := conn.Exec(ctx, s); err != nil {
			t.Fatalf("pgtest: %v\n%s", err, s)
		}
	}
}

// Attach returns a handle on a cluster that an earlier process started
// (from its Dir, Port and Password), so that it can be used or stopped.
func Attach(dir string, port int, password string) *Cluster {
	bin, _ := FindBinaries()
	c := &Cluster{Dir: dir, Port: port, Password: password, bin: bin}
	if os.Geteuid() == 0 {
		c.asUser = "postgres"
	}
	return c
}

// ReaderRole is the least-privileged login ReaderDSN creates: it reads
// every table (pg_read_all_data) and bypasses row-level security, as a
// production login of this provider should, and can write nothing.
const ReaderRole = "staging_reader"

// ReaderDSN returns dsn (a superuser URL of a pgtest cluster) with the
// login replaced by ReaderRole, creating the role in the cluster the
// first time (see CreateReader), and fails t on error.
func ReaderDSN(t testing.TB, dsn string) string {
	t.Helper()
	r, err := CreateReader(context.Background(), dsn)
	if err != nil {
		t.Fatalf("pgtest: %v", err)
	}
	return r
}

// CreateReader creates ReaderRole in the cluster of dsn (a superuser URL)
// unless it exists, and returns dsn with that login instead. Its password
// is derived from the superuser's.
func CreateReader(ctx context.Context, dsn string) (string, error) {
	u, err := url.Parse(dsn)
	if err != nil {
		return "", err
	}
	pw, _ := u.User.Password()
	readerPW := "reader-" + pw
	conn, err := pgx.Connect(ctx, dsn)
	if err != nil {
		return "", fmt.Errorf("connecting: %w", err)
	}
	defer conn.Close(ctx)
	// CREATE ROLE races with a parallel test of the same cluster: take a
	// cluster-wide advisory lock around it (released with the session).
	if _, err := conn.Exec(ctx, `SELECT pg_advisory_lock(4242)`); err != nil {
		return "", err
	}
	var exists bool
	if err := conn.QueryRow(ctx, `SELECT EXISTS (SELECT 1 FROM pg_roles WHERE rolname = $1)`, ReaderRole).Scan(&exists); err != nil {
		return "", err
	}
	if !exists {
		for _, s := range []string{
			fmt.Sprintf("CREATE ROLE %s LOGIN BYPASSRLS PASSWORD '%s'", ReaderRole, strings.ReplaceAll(readerPW, "'", "''")),
			"GRANT pg_read_all_data TO " + ReaderRole,
		} {
			if _, err := conn.Exec(ctx, s); err != nil {
				return "", fmt.Errorf("creating the reader role: %w", err)
			}
		}
	}
	u.User = url.UserPassword(ReaderRole, readerPW)
	return u.String(), nil
}
