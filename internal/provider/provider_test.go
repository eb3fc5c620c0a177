package provider

import (
	"context"
	"database/sql"
	"fmt"
	"os"
	"path/filepath"
	"sync"
	"testing"
	"time"

	"github.com/hashicorp/terraform-plugin-framework/providerserver"
	"github.com/hashicorp/terraform-plugin-go/tfprotov6"

	"github.com/stagingkit/terraform-provider-staging/internal/pgtest"
	"github.com/stagingkit/terraform-provider-staging/internal/registry"
)

func TestMain(m *testing.M) { os.Exit(pgtest.Main(m)) }

// testClock is the settable clock injected into the provider under test.
type testClock struct {
	mu sync.Mutex
	t  time.Time
}

func newTestClock() *testClock {
	return &testClock{t: time.Date(2026, 11, 22, 9, 0, 0, 0, time.UTC)}
}

func (c *testClock) Now() time.Time { c.mu.Lock(); defer c.mu.Unlock(); return c.t }

func (c *testClock) Advance(d time.Duration) {
	c.mu.Lock()
	defer c.mu.Unlock()
	c.t = c.t.Add(d)
}

// factories serves the provider in-process with the given clock.
func factories(clock *testClock) map[string]func() (tfprotov6.ProviderServer, error) {
	return map[string]func() (tfprotov6.ProviderServer, error){
		"staging": providerserver.NewProtocol6WithError(New("test", WithClock(clock.Now))()),
	}
}

// testBackend is one registry location that a test runs against.
type testBackend struct {
	name     string
	location string
}

// testBackends returns a fresh embedded registry and a fresh PostgreSQL
// registry, so that every acceptance test proves both back ends.
func testBackends(t *testing.T) []testBackend {
	t.Helper()
	c := pgtest.Require(t)
	return []testBackend{
		{name: "sqlite", location: filepath.Join(t.TempDir(), "registry.db")},
		{name: "postgres", location: c.NewDatabase(t)},
	}
}

// eachBackend runs fn once per registry back end.
func eachBackend(t *testing.T, fn func(t *testing.T, b testBackend)) {
	for _, b := range testBackends(t) {
		t.Run(b.name, func(t *testing.T) { fn(t, b) })
	}
}

// providerConfig is the provider block of a test configuration.
func providerConfig(location string) string {
	return fmt.Sprintf(`
provider "staging" {
  registry = %q
  actor    = "tester"
}
`, location)
}

// openRegistry opens the test's registry directly, for checks behind
// Terraform's back and for out-of-band changes.
func openRegistry(t *testing.T, b testBackend, clock *testClock) registry.Store {
	t.Helper()
	s, err := registry.Open(context.Background(), b.location, registry.Options{Clock: clock.Now, WrittenBy: "test"})
	if err != nil {
		t.Fatalf("opening the %s registry: %v", b.name, err)
	}
	t.Cleanup(func() { _ = s.Close() })
	return s
}

// bumpSchema marks the registry as written by a newer provider.
func bumpSchema(t *testing.T, b testBackend) {
	t.Helper()
	driver, dsn := "sqlite", "file:"+b.location
	if registry.IsPostgresDSN(b.location) {
		driver, dsn = "pgx", b.location+"&search_path="+registry.PostgresSchema
	}
	db, err := sql.Open(driver, dsn)
	if err != nil {
		t.Fatal(err)
	}
	defer db.Close()
	if _, err := db.Exec(fmt.Sprintf(`INSERT INTO schema_migrations (version, written_by, applied_at) VALUES (%d, 'terraform-provider-staging 99.0.0', 'later')`, registry.SchemaVersion()+1)); err != nil {
		t.Fatal(err)
	}
}
