package registry_test

import (
	"context"
	"database/sql"
	"errors"
	"fmt"
	"os"
	"path/filepath"
	"strings"
	"sync"
	"testing"
	"time"

	_ "github.com/jackc/pgx/v5/stdlib"

	"github.com/stagingkit/terraform-provider-staging/internal/pgtest"
	"github.com/stagingkit/terraform-provider-staging/internal/registry"
)

func TestMain(m *testing.M) { os.Exit(pgtest.Main(m)) }

// fakeClock is a settable clock shared by every store of a test.
type fakeClock struct {
	mu sync.Mutex
	t  time.Time
}

func newFakeClock() *fakeClock {
	return &fakeClock{t: time.Date(2026, 11, 22, 9, 0, 0, 0, time.UTC)}
}

func (c *fakeClock) Now() time.Time { c.mu.Lock(); defer c.mu.Unlock(); return c.t }
func (c *fakeClock) Advance(d time.Duration) {
	c.mu.Lock()
	defer c.mu.Unlock()
	c.t = c.t.Add(d)
}

// backend opens stores on one registry location.
type backend struct {
	name     string
	location string
	// raw opens the underlying database for assertions behind the Store.
	raw func(t testing.TB) *sql.DB
}

func (b backend) open(t testing.TB, clock *fakeClock) registry.Store {
	t.Helper()
	s, err := registry.Open(context.Background(), b.location, registry.Options{Clock: clock.Now, WrittenBy: "test"})
	if err != nil {
		t.Fatalf("open %s registry: %v", b.name, err)
	}
	t.Cleanup(func() { _ = s.Close() })
	return s
}

// backends returns a fresh, empty registry of each kind.
func backends(t testing.TB) []backend {
	t.Helper()
	path := filepath.Join(t.TempDir(), "registry.db")
	c := pgtest.Require(t)
	dsn := c.NewDatabase(t)
	return []backend{
		{name: "sqlite", location: path, raw: func(t testing.TB) *sql.DB {
			db, err := sql.Open("sqlite", "file:"+path)
			if err != nil {
				t.Fatal(err)
			}
			t.Cleanup(func() { _ = db.Close() })
			return db
		}},
		{name: "postgres", location: dsn, raw: func(t testing.TB) *sql.DB {
			db, err := sql.Open("pgx", dsn+"&search_path="+registry.PostgresSchema)
			if err != nil {
				t.Fatal(err)
			}
			t.Cleanup(func() { _ = db.Close() })
			return db
		}},
	}
}

// contract runs fn against every back end: the same suite, the same behaviour.
func contract(t *testing.T, fn func(t *testing.T, b backend)) {
	for _, b := range backends(t) {
		t.Run(b.name, func(t *testing.T) { fn(t, b) })
	}
}

var ctx = context.Background()

func mustTeam(t *testing.T, s registry.Store, team registry.Team) registry.Team {
	t.Helper()
	out, err := s.CreateTeam(ctx, "alice", team)
	if err != nil {
		t.Fatalf("CreateTeam(%s): %v", team.Name, err)
	}
	return out
}

func TestStore_teams(t *testing.T) {
	contract(t, func(t *testing.T, b backend) {
		clock := newFakeClock()
		s := b.open(t, clock)
		team := mustTeam(t, s, registry.Team{Name: "payments", MaxEnvironments: 3, DefaultTTL: 72 * time.Hour, MaxTTL: 14 * 24 * time.Hour, Owners: []string{"bob", "alice"}})
		got, err := s.GetTeam(ctx, "payments")
		if err != nil {
			t.Fatal(err)
		}
		if got.MaxEnvironments != 3 || got.DefaultTTL != 72*time.Hour || got.MaxTTL != 336*time.Hour ||
			strings.Join(got.Owners, ",") != "alice,bob" || !got.CreatedAt.Equal(clock.Now()) {
			t.Errorf("GetTeam = %+v, want what was created (%+v)", got, team)
		}
		if _, err := s.CreateTeam(ctx, "alice", registry.Team{Name: "payments"}); !errors.Is(err, registry.ErrAlreadyExists) {
			t.Errorf("second CreateTeam error = %v, want ErrAlreadyExists", err)
		}
		if _, err := s.CreateTeam(ctx, "alice", registry.Team{Name: "Bad_Name"}); !errors.Is(err, registry.ErrInvalid) {
			t.Errorf("CreateTeam(Bad_Name) error = %v, want ErrInvalid", err)
		}
		if _, err := s.CreateTeam(ctx, "alice", registry.Team{Name: "x", DefaultTTL: 48 * time.Hour, MaxTTL: 24 * time.Hour}); !errors.Is(err, registry.ErrInvalid) {
			t.Errorf("CreateTeam(default_ttl > max_ttl) error = %v, want ErrInvalid", err)
		}
		got.MaxEnvironments = 5
		got.Owners = []string{"carol"}
		if _, err := s.UpdateTeam(ctx, "carol", got); err != nil {
			t.Fatal(err)
		}
		got, _ = s.GetTeam(ctx, "payments")
		if got.MaxEnvironments != 5 || strings.Join(got.Owners, ",") != "carol" {
			t.Errorf("after update: %+v", got)
		}
		if _, err := s.UpdateTeam(ctx, "carol", registry.Team{Name: "nope"}); !errors.Is(err, registry.ErrNotFound) {
			t.Errorf("UpdateTeam(nope) error = %v, want ErrNotFound", err)
		}
		if _, err := s.CreateEnvironment(ctx, "alice", registry.Environment{Name: "pay-1", Team: "payments", Owner: "alice"}); err != nil {
			t.Fatal(err)
		}
		if err := s.DeleteTeam(ctx, "alice", "payments"); !errors.Is(err, registry.ErrConflict) || !strings.Contains(err.Error(), "pay-1") {
			t.Errorf("DeleteTeam with environments error = %v, want ErrConflict naming pay-1", err)
		}
		if err := s.DeleteEnvironment(ctx, "alice", "pay-1"); err != nil {
			t.Fatal(err)
		}
		if err := s.DeleteTeam(ctx, "alice", "payments"); err != nil {
			t.Fatal(err)
		}
		if _, err := s.GetTeam(ctx, "payments"); !errors.Is(err, registry.ErrNotFound) {
			t.Errorf("GetTeam after delete error = %v, want ErrNotFound", err)
		}
		evs, err := s.Events(ctx, registry.EventFilter{ObjectType: "team", Object: "payments"})
		if err != nil {
			t.Fatal(err)
		}
		var actions []string
		for _, e := range evs {
			actions = append(actions, e.Actor+":"+e.Action)
		}
		if got, want := strings.Join(actions, " "), "alice:delete carol:update alice:create"; got != want {
			t.Errorf("team events = %q, want %q", got, want)
		}
		if !strings.Contains(evs[1].Before, `"max_environments":3`) || !strings.Contains(evs[1].After, `"max_environments":5`) {
			t.Errorf("update event before/after = %s / %s", evs[1].Before, evs[1].After)
		}
	})
}

func TestStore_environments(t *testing.T) {
	contract(t, func(t *testing.T, b backend) {
		clock := newFakeClock()
		s := b.open(t, clock)
		mustTeam(t, s, registry.Team{Name: "payments", DefaultTTL: 72 * time.Hour, MaxTTL: 7 * 24 * time.Hour})
		mustTeam(t, s, registry.Team{Name: "search"})
		start := clock.Now()

		e, err := s.CreateEnvironment(ctx, "alice", registry.Environment{Name: "pay-feature-x", Team: "payments", Owner: "alice", Production: "prod-eu", Labels: map[string]string{"tier": "web"}})
		if err != nil {
			t.Fatal(err)
		}
		if e.ID == "" || e.Namespace != registry.Namespace("pay-feature-x") || e.TTL != 72*time.Hour || !e.ExpiresAt.Equal(start.Add(72*time.Hour)) {
			t.Errorf("created = %+v; want default ttl 72h from the team and its namespace", e)
		}
		got, err := s.GetEnvironment(ctx, "pay-feature-x")
		if err != nil {
			t.Fatal(err)
		}
		if got.ID != e.ID || got.Labels["tier"] != "web" || got.Production != "prod-eu" || !got.ExpiresAt.Equal(e.ExpiresAt) || !got.CreatedAt.Equal(start) {
			t.Errorf("GetEnvironment = %+v, want %+v", got, e)
		}

		// No expiry when neither the environment nor the team sets one.
		forever, err := s.CreateEnvironment(ctx, "bob", registry.Environment{Name: "search-main", Team: "search", Owner: "bob"})
		if err != nil {
			t.Fatal(err)
		}
		if !forever.ExpiresAt.IsZero() || forever.Expired(start.Add(1000*time.Hour)) {
			t.Errorf("environment without ttl expires: %+v", forever)
		}

		// Bad input.
		var ttlErr *registry.TTLError
		if _, err := s.CreateEnvironment(ctx, "alice", registry.Environment{Name: "too-long", Team: "payments", Owner: "alice", TTL: 30 * 24 * time.Hour}); !errors.As(err, &ttlErr) {
			t.Errorf("ttl over max_ttl: error = %v, want *TTLError", err)
		} else if !strings.Contains(err.Error(), "max_ttl 7d") {
			t.Errorf("ttl error %q does not name the bound", err)
		}
		if _, err := s.CreateEnvironment(ctx, "alice", registry.Environment{Name: "x", Team: "ghosts", Owner: "alice"}); !errors.Is(err, registry.ErrNotFound) || !strings.Contains(err.Error(), "ghosts") {
			t.Errorf("unknown team: error = %v, want ErrNotFound naming the team", err)
		}
		if _, err := s.CreateEnvironment(ctx, "alice", registry.Environment{Name: "pay-feature-x", Team: "search", Owner: "alice"}); !errors.Is(err, registry.ErrAlreadyExists) {
			t.Errorf("duplicate name: error = %v, want ErrAlreadyExists", err)
		}
		if _, err := s.CreateEnvironment(ctx, "alice", registry.Environment{Name: "-bad", Team: "search", Owner: "alice"}); !errors.Is(err, registry.ErrInvalid) {
			t.Errorf("bad name: error = %v, want ErrInvalid", err)
		}

		// Extending: a changed ttl re-bases the expiry on the current time.
		clock.Advance(48 * time.Hour)
		got.TTL = 96 * time.Hour
		got.Owner = "carol"
		upd, err := s.UpdateEnvironment(ctx, "carol", got)
		if err != nil {
			t.Fatal(err)
		}
		if want := start.Add(48 * time.Hour).Add(96 * time.Hour); !upd.ExpiresAt.Equal(want) || upd.Owner != "carol" || !upd.CreatedAt.Equal(start) {
			t.Errorf("after extending: expires %v owner %s created %v; want expires %v", upd.ExpiresAt, upd.Owner, upd.CreatedAt, want)
		}
		// An unchanged ttl keeps the expiry.
		clock.Advance(time.Hour)
		upd.Labels = map[string]string{"tier": "api"}
		upd2, err := s.UpdateEnvironment(ctx, "carol", upd)
		if err != nil {
			t.Fatal(err)
		}
		if !upd2.ExpiresAt.Equal(upd.ExpiresAt) {
			t.Errorf("unchanged ttl moved the expiry from %v to %v", upd.ExpiresAt, upd2.ExpiresAt)
		}
		upd2.TTL = 8 * 24 * time.Hour
		if _, err := s.UpdateEnvironment(ctx, "carol", upd2); !errors.As(err, &ttlErr) {
			t.Errorf("update over max_ttl: error = %v, want *TTLError", err)
		}

		// Expiry is a function of the clock.
		if upd2.Expired(clock.Now()) {
			t.Error("expired too early")
		}
		clock.Advance(96 * time.Hour)
		if !upd2.Expired(clock.Now()) {
			t.Error("not expired after its ttl")
		}
		expired, err := s.ListEnvironments(ctx, registry.EnvironmentFilter{ExpiredOnly: true})
		if err != nil {
			t.Fatal(err)
		}
		if len(expired) != 1 || expired[0].Name != "pay-feature-x" {
			t.Errorf("ExpiredOnly = %v, want [pay-feature-x]", names(expired))
		}

		if err := s.DeleteEnvironment(ctx, "alice", "pay-feature-x"); err != nil {
			t.Fatal(err)
		}
		if _, err := s.GetEnvironment(ctx, "pay-feature-x"); !errors.Is(err, registry.ErrNotFound) {
			t.Errorf("after delete: %v", err)
		}
		if err := s.DeleteEnvironment(ctx, "alice", "pay-feature-x"); !errors.Is(err, registry.ErrNotFound) {
			t.Errorf("second delete: %v, want ErrNotFound", err)
		}
		evs, _ := s.Events(ctx, registry.EventFilter{ObjectType: "environment", Object: "pay-feature-x"})
		if len(evs) != 4 || evs[0].Action != "delete" || evs[3].Action != "create" || evs[0].After != "" || evs[3].Before != "" {
			t.Errorf("environment events = %+v", evs)
		}
	})
}

func names(es []registry.Environment) []string {
	var out []string
	for _, e := range es {
		out = append(out, e.Name)
	}
	return out
}

func TestStore_quota(t *testing.T) {
	contract(t, func(t *testing.T, b backend) {
		clock := newFakeClock()
		s := b.open(t, clock)
		mustTeam(t, s, registry.Team{Name: "search", MaxEnvironments: 2})
		for _, n := range []string{"s-1", "s-2"} {
			if _, err := s.CreateEnvironment(ctx, "alice", registry.Environment{Name: n, Team: "search", Owner: "alice", TTL: time.Hour}); err != nil {
				t.Fatal(err)
			}
		}
		clock.Advance(2 * time.Hour)
		_, err := s.CreateEnvironment(ctx, "alice", registry.Environment{Name: "s-3", Team: "search", Owner: "alice"})
		var q *registry.QuotaExceededError
		if !errors.As(err, &q) {
			t.Fatalf("third environment: error = %v, want *QuotaExceededError", err)
		}
		msg := err.Error()
		for _, want := range []string{`team "search" already has 2 of its 2 environments`, "s-1 (owner alice, expired", "s-2", "destroy it to free quota"} {
			if !strings.Contains(msg, want) {
				t.Errorf("quota error %q does not contain %q", msg, want)
			}
		}
		// A failed change writes no audit event.
		if evs, _ := s.Events(ctx, registry.EventFilter{Object: "s-3"}); len(evs) != 0 {
			t.Errorf("refused creation left audit events: %+v", evs)
		}
	})
}

func TestStore_listFilters(t *testing.T) {
	contract(t, func(t *testing.T, b backend) {
		clock := newFakeClock()
		s := b.open(t, clock)
		mustTeam(t, s, registry.Team{Name: "a"})
		mustTeam(t, s, registry.Team{Name: "b"})
		for _, e := range []registry.Environment{
			{Name: "a-1", Team: "a", Owner: "x", Production: "prod-eu", Labels: map[string]string{"tier": "web", "cost": "low"}},
			{Name: "a-2", Team: "a", Owner: "x", Production: "prod-us", Labels: map[string]string{"tier": "web"}, TTL: time.Hour},
			{Name: "b-1", Team: "b", Owner: "y", Production: "prod-eu", Labels: map[string]string{"tier": "db"}},
		} {
			if _, err := s.CreateEnvironment(ctx, "x", e); err != nil {
				t.Fatal(err)
			}
		}
		clock.Advance(time.Hour)
		cases := []struct {
			f    registry.EnvironmentFilter
			want string
		}{
			{registry.EnvironmentFilter{}, "a-1 a-2 b-1"},
			{registry.EnvironmentFilter{Team: "a"}, "a-1 a-2"},
			{registry.EnvironmentFilter{Production: "prod-eu"}, "a-1 b-1"},
			{registry.EnvironmentFilter{Labels: map[string]string{"tier": "web"}}, "a-1 a-2"},
			{registry.EnvironmentFilter{Labels: map[string]string{"tier": "web", "cost": "low"}}, "a-1"},
			{registry.EnvironmentFilter{ExpiredOnly: true}, "a-2"},
			{registry.EnvironmentFilter{Team: "b", ExpiredOnly: true}, ""},
		}
		for _, c := range cases {
			got, err := s.ListEnvironments(ctx, c.f)
			if err != nil {
				t.Fatal(err)
			}
			if g := strings.Join(names(got), " "); g != c.want {
				t.Errorf("ListEnvironments(%+v) = %q, want %q", c.f, g, c.want)
			}
		}
	})
}

func TestStore_leases(t *testing.T) {
	contract(t, func(t *testing.T, b backend) {
		clock := newFakeClock()
		s := b.open(t, clock)
		mustTeam(t, s, registry.Team{Name: "qa"})
		if _, err := s.CreateEnvironment(ctx, "x", registry.Environment{Name: "shared", Team: "qa", Owner: "qa-lead"}); err != nil {
			t.Fatal(err)
		}
		l, err := s.AcquireLease(ctx, "alice", registry.Lease{Environment: "shared", Reason: "load test"}, 2*time.Hour)
		if err != nil {
			t.Fatal(err)
		}
		if l.Holder != "alice" || !l.ExpiresAt.Equal(clock.Now().Add(2*time.Hour)) {
			t.Errorf("lease = %+v", l)
		}
		_, err = s.AcquireLease(ctx, "bob", registry.Lease{Environment: "shared", Reason: "demo"}, time.Hour)
		var conflict *registry.LeaseConflictError
		if !errors.As(err, &conflict) || conflict.Holder != "alice" || conflict.Reason != "load test" || !conflict.Until.Equal(l.ExpiresAt) {
			t.Fatalf("second lease: error = %v, want a conflict naming alice", err)
		}
		if !strings.Contains(err.Error(), "leased by alice until 2026-11-22T11:00:00Z (reason: load test)") {
			t.Errorf("conflict message = %q", err)
		}
		if _, err := s.AcquireLease(ctx, "bob", registry.Lease{Environment: "nope"}, time.Hour); !errors.Is(err, registry.ErrNotFound) {
			t.Errorf("lease on unknown environment: %v", err)
		}
		// Renewing re-bases the expiry.
		clock.Advance(time.Hour)
		r, err := s.RenewLease(ctx, "alice", l.ID, "longer load test", 3*time.Hour)
		if err != nil {
			t.Fatal(err)
		}
		if !r.ExpiresAt.Equal(clock.Now().Add(3*time.Hour)) || r.Reason != "longer load test" {
			t.Errorf("renewed = %+v", r)
		}
		// An expired lease does not block.
		clock.Advance(3 * time.Hour)
		l2, err := s.AcquireLease(ctx, "bob", registry.Lease{Environment: "shared", Reason: "demo"}, time.Hour)
		if err != nil {
			t.Fatalf("lease after the previous expired: %v", err)
		}
		if err := s.ReleaseLease(ctx, "bob", l2.ID); err != nil {
			t.Fatal(err)
		}
		if _, err := s.GetLease(ctx, l2.ID); !errors.Is(err, registry.ErrNotFound) {
			t.Errorf("released lease still readable: %v", err)
		}
		if _, err := s.AcquireLease(ctx, "carol", registry.Lease{Environment: "shared"}, time.Hour); err != nil {
			t.Errorf("lease after release: %v", err)
		}
		evs, _ := s.Events(ctx, registry.EventFilter{ObjectType: "lease", Object: "shared"})
		var got []string
		for _, e := range evs {
			got = append(got, e.Actor+":"+e.Action)
		}
		if g := strings.Join(got, " "); g != "carol:acquire bob:release bob:acquire alice:renew alice:acquire" {
			t.Errorf("lease events = %q", g)
		}
		if evs, _ := s.Events(ctx, registry.EventFilter{Actor: "bob", Limit: 1}); len(evs) != 1 || evs[0].Action != "release" {
			t.Errorf("Events(actor bob, limit 1) = %+v", evs)
		}
	})
}

// TestStore_renewLease covers a first holder whose lease expired and was
// taken over: renewing must not give the environment two holders, and an
// expired lease is never revived.
func TestStore_renewLease(t *testing.T) {
	contract(t, func(t *testing.T, b backend) {
		clock := newFakeClock()
		s := b.open(t, clock)
		mustTeam(t, s, registry.Team{Name: "qa"})
		if _, err := s.CreateEnvironment(ctx, "x", registry.Environment{Name: "qa-shared", Team: "qa", Owner: "qa-lead"}); err != nil {
			t.Fatal(err)
		}
		first, err := s.AcquireLease(ctx, "alice", registry.Lease{Environment: "qa-shared", Reason: "load test"}, time.Hour)
		if err != nil {
			t.Fatal(err)
		}
		clock.Advance(2 * time.Hour) // alice's lease expired at 10:00
		second, err := s.AcquireLease(ctx, "bob", registry.Lease{Environment: "qa-shared", Reason: "demo"}, 2*time.Hour)
		if err != nil {
			t.Fatalf("taking the environment after the first lease expired: %v", err)
		}

		// Renewing (a new duration) or editing the reason of the first lease
		// is refused with the current holder, as a new lease would be.
		for _, d := range []time.Duration{3 * time.Hour, 0} {
			_, err = s.RenewLease(ctx, "alice", first.ID, "longer load test", d)
			var conflict *registry.LeaseConflictError
			if !errors.As(err, &conflict) || conflict.Holder != "bob" || conflict.Reason != "demo" || !conflict.Until.Equal(second.ExpiresAt) {
				t.Fatalf("RenewLease(d=%v) of a lease taken over: error = %v, want a conflict naming bob", d, err)
			}
			if want := `environment "qa-shared" is leased by bob until 2026-11-22T13:00:00Z (reason: demo)`; err.Error() != want {
				t.Errorf("renewal conflict message = %q, want %q", err, want)
			}
		}
		if got := activeLeases(t, s, b, "qa-shared", clock.Now()); len(got) != 1 || got[0].ID != second.ID {
			t.Errorf("active leases after refused renewals = %+v, want only bob's", got)
		}
		if got, err := s.GetLease(ctx, first.ID); err != nil || !got.ExpiresAt.Equal(first.ExpiresAt) || got.Reason != "load test" {
			t.Errorf("refused renewal changed the lease: %+v, %v", got, err)
		}

		// Once the environment is free again the expired lease still cannot
		// be renewed: its holder has to take a new one.
		if err := s.ReleaseLease(ctx, "bob", second.ID); err != nil {
			t.Fatal(err)
		}
		_, err = s.RenewLease(ctx, "alice", first.ID, "load test", 3*time.Hour)
		var expired *registry.LeaseExpiredError
		if !errors.As(err, &expired) || expired.Holder != "alice" || !expired.ExpiredAt.Equal(first.ExpiresAt) {
			t.Fatalf("RenewLease of an expired lease: error = %v, want *LeaseExpiredError", err)
		}
		if want := `the lease of alice on environment "qa-shared" expired at 2026-11-22T10:00:00Z and cannot be renewed; take a new lease`; err.Error() != want {
			t.Errorf("expired renewal message = %q, want %q", err, want)
		}
		if got := activeLeases(t, s, b, "qa-shared", clock.Now()); len(got) != 0 {
			t.Errorf("refused renewal revived a lease: %+v", got)
		}
		if _, err := s.AcquireLease(ctx, "alice", registry.Lease{Environment: "qa-shared", Reason: "load test"}, time.Hour); err != nil {
			t.Errorf("a new lease after the refused renewal: %v", err)
		}

		// Refused renewals write no audit event.
		evs, _ := s.Events(ctx, registry.EventFilter{ObjectType: "lease", Object: "qa-shared"})
		var got []string
		for _, e := range evs {
			got = append(got, e.Actor+":"+e.Action)
		}
		if g := strings.Join(got, " "); g != "alice:acquire bob:release bob:acquire alice:acquire" {
			t.Errorf("lease events = %q", g)
		}
	})
}

// activeLeases reads every unreleased lease of environment behind the Store
// and returns those active at now.
func activeLeases(t *testing.T, s registry.Store, b backend, environment string, now time.Time) []registry.Lease {
	t.Helper()
	rows, err := b.raw(t).Query(`SELECT id FROM leases WHERE environment = '` + environment + `' AND released_at IS NULL`)
	if err != nil {
		t.Fatal(err)
	}
	defer rows.Close()
	var ids []string
	for rows.Next() {
		var id string
		if err := rows.Scan(&id); err != nil {
			t.Fatal(err)
		}
		ids = append(ids, id)
	}
	if err := rows.Err(); err != nil {
		t.Fatal(err)
	}
	var out []registry.Lease
	for _, id := range ids {
		l, err := s.GetLease(ctx, id)
		if err != nil {
			t.Fatal(err)
		}
		if l.Active(now) {
			out = append(out, l)
		}
	}
	return out
}

// TestStore_concurrentWriters races writers that each hold their own store,
// like separate terraform processes: the database must pick exactly one
// winner, and nothing may be lost or duplicated.
func TestStore_concurrentWriters(t *testing.T) {
	contract(t, func(t *testing.T, b backend) {
		clock := newFakeClock()
		admin := b.open(t, clock)
		mustTeam(t, admin, registry.Team{Name: "race", MaxEnvironments: 3})
		mustTeam(t, admin, registry.Team{Name: "free"})
		if _, err := admin.CreateEnvironment(ctx, "x", registry.Environment{Name: "shared", Team: "free", Owner: "x"}); err != nil {
			t.Fatal(err)
		}
		const writers = 8
		stores := make([]registry.Store, writers)
		for i := range stores {
			stores[i] = b.open(t, clock)
		}
		race := func(fn func(i int, s registry.Store) error) []error {
			var wg sync.WaitGroup
			errs := make([]error, writers)
			start := make(chan struct{})
			for i, s := range stores {
				wg.Add(1)
				go func() {
					defer wg.Done()
					<-start
					errs[i] = fn(i, s)
				}()
			}
			close(start)
			wg.Wait()
			return errs
		}
		count := func(errs []error, want func(error) bool) (ok, expected int) {
			for _, err := range errs {
				switch {
				case err == nil:
					ok++
				case want(err):
					expected++
				default:
					t.Errorf("unexpected error: %v", err)
				}
			}
			return
		}

		// Same name: one winner.
		errs := race(func(i int, s registry.Store) error {
			_, err := s.CreateEnvironment(ctx, fmt.Sprintf("w%d", i), registry.Environment{Name: "same-name", Team: "free", Owner: "x"})
			return err
		})
		if ok, lost := count(errs, func(err error) bool { return errors.Is(err, registry.ErrAlreadyExists) }); ok != 1 || lost != writers-1 {
			t.Errorf("same name: %d winners and %d clear losers, want 1 and %d", ok, lost, writers-1)
		}
		if evs, _ := admin.Events(ctx, registry.EventFilter{Object: "same-name"}); len(evs) != 1 {
			t.Errorf("same name: %d audit events, want 1", len(evs))
		}

		// Quota: exactly MaxEnvironments winners.
		errs = race(func(i int, s registry.Store) error {
			_, err := s.CreateEnvironment(ctx, "x", registry.Environment{Name: fmt.Sprintf("race-%d", i), Team: "race", Owner: "x"})
			return err
		})
		var q *registry.QuotaExceededError
		if ok, refused := count(errs, func(err error) bool { return errors.As(err, &q) }); ok != 3 || refused != writers-3 {
			t.Errorf("quota: %d created and %d refused, want 3 and %d", ok, refused, writers-3)
		}
		if got, _ := admin.ListEnvironments(ctx, registry.EnvironmentFilter{Team: "race"}); len(got) != 3 {
			t.Errorf("quota: team has %d environments, want 3", len(got))
		}

		// Lease: one holder.
		errs = race(func(i int, s registry.Store) error {
			_, err := s.AcquireLease(ctx, fmt.Sprintf("w%d", i), registry.Lease{Environment: "shared", Reason: "race"}, time.Hour)
			return err
		})
		var lc *registry.LeaseConflictError
		if ok, refused := count(errs, func(err error) bool { return errors.As(err, &lc) }); ok != 1 || refused != writers-1 {
			t.Errorf("lease: %d holders and %d refused, want 1 and %d", ok, refused, writers-1)
		}
		if evs, _ := admin.Events(ctx, registry.EventFilter{ObjectType: "lease", Object: "shared"}); len(evs) != 1 {
			t.Errorf("lease: %d audit events, want 1", len(evs))
		}
	})
}

// TestStore_concurrentRenewal races the holder of an expired lease renewing
// it against new takers, each with its own store: whatever the order, the
// environment ends with exactly one active lease and the renewal is refused.
func TestStore_concurrentRenewal(t *testing.T) {
	contract(t, func(t *testing.T, b backend) {
		clock := newFakeClock()
		admin := b.open(t, clock)
		mustTeam(t, admin, registry.Team{Name: "qa"})
		if _, err := admin.CreateEnvironment(ctx, "x", registry.Environment{Name: "qa-shared", Team: "qa", Owner: "x"}); err != nil {
			t.Fatal(err)
		}
		old, err := admin.AcquireLease(ctx, "alice", registry.Lease{Environment: "qa-shared", Reason: "load test"}, time.Hour)
		if err != nil {
			t.Fatal(err)
		}
		clock.Advance(2 * time.Hour)

		const takers = 7
		renewer := b.open(t, clock)
		stores := make([]registry.Store, takers)
		for i := range stores {
			stores[i] = b.open(t, clock)
		}
		var (
			wg       sync.WaitGroup
			renewErr error
			takeErrs = make([]error, takers)
			start    = make(chan struct{})
		)
		wg.Add(1 + takers)
		go func() {
			defer wg.Done()
			<-start
			_, renewErr = renewer.RenewLease(ctx, "alice", old.ID, "load test", 3*time.Hour)
		}()
		for i, s := range stores {
			go func() {
				defer wg.Done()
				<-start
				_, takeErrs[i] = s.AcquireLease(ctx, fmt.Sprintf("w%d", i), registry.Lease{Environment: "qa-shared", Reason: "race"}, time.Hour)
			}()
		}
		close(start)
		wg.Wait()

		var conflict *registry.LeaseConflictError
		var expired *registry.LeaseExpiredError
		if !errors.As(renewErr, &conflict) && !errors.As(renewErr, &expired) {
			t.Errorf("renewing the expired lease during the race: error = %v, want a conflict or *LeaseExpiredError", renewErr)
		}
		winners := 0
		for _, err := range takeErrs {
			switch {
			case err == nil:
				winners++
			case !errors.As(err, &conflict):
				t.Errorf("unexpected error: %v", err)
			}
		}
		if winners != 1 {
			t.Errorf("%d new leases taken, want 1", winners)
		}
		if got := activeLeases(t, admin, b, "qa-shared", clock.Now()); len(got) != 1 || got[0].Holder == "alice" {
			t.Errorf("active leases after the race = %+v, want one new taker's", got)
		}
	})
}

// TestStore_schemaFromNewerProvider checks that a registry written by a
// newer provider is refused with a clear error and left exactly as it was.
func TestStore_schemaFromNewerProvider(t *testing.T) {
	contract(t, func(t *testing.T, b backend) {
		clock := newFakeClock()
		s := b.open(t, clock)
		mustTeam(t, s, registry.Team{Name: "kept"})
		_ = s.Close()
		db := b.raw(t)
		next := registry.SchemaVersion() + 1
		if _, err := db.Exec(fmt.Sprintf(`INSERT INTO schema_migrations (version, written_by, applied_at) VALUES (%d, 'terraform-provider-staging 9.0.0', 'later')`, next)); err != nil {
			t.Fatal(err)
		}
		_, err := registry.Open(ctx, b.location, registry.Options{Clock: clock.Now})
		var tooNew *registry.SchemaTooNewError
		if !errors.As(err, &tooNew) || tooNew.Found != next {
			t.Fatalf("Open = %v, want *SchemaTooNewError", err)
		}
		if !strings.Contains(err.Error(), "terraform-provider-staging 9.0.0") || !strings.Contains(err.Error(), "upgrade the provider") {
			t.Errorf("message %q should name the writer and say what to do", err)
		}
		var n int
		if err := db.QueryRow(`SELECT count(*) FROM teams WHERE name = 'kept'`).Scan(&n); err != nil || n != 1 {
			t.Errorf("registry damaged: teams count %d, err %v", n, err)
		}
	})
}

func TestOpen_unreachablePostgres(t *testing.T) {
	_, err := registry.Open(ctx, "postgres://u:s3cretpw@127.0.0.1:1/db?sslmode=disable", registry.Options{ConnectTimeout: 2 * time.Second})
	if err == nil {
		t.Fatal("Open succeeded on a closed port")
	}
	if strings.Contains(err.Error(), "s3cretpw") {
		t.Errorf("error leaks the password: %v", err)
	}
	if !strings.Contains(err.Error(), "127.0.0.1:1/db as u") {
		t.Errorf("error %q should name the registry without its password", err)
	}
}

func TestOpen_wrongPassword(t *testing.T) {
	c := pgtest.Require(t)
	dsn := strings.Replace(c.DSN("postgres"), c.Password, "wrong-pw-123", 1)
	_, err := registry.Open(ctx, dsn, registry.Options{})
	if err == nil || strings.Contains(err.Error(), "wrong-pw-123") || strings.Contains(err.Error(), c.Password) {
		t.Errorf("Open with a wrong password = %v; want an error without the password", err)
	}
}

func TestStore_recordEvent(t *testing.T) {
	contract(t, func(t *testing.T, b backend) {
		s := b.open(t, newFakeClock())
		if _, err := s.RecordEvent(ctx, "ci", registry.Event{ObjectType: "parity_check"}); !errors.Is(err, registry.ErrInvalid) {
			t.Errorf("incomplete event: %v, want ErrInvalid", err)
		}
		if _, err := s.RecordEvent(ctx, "ci", registry.Event{Action: "check", ObjectType: "parity_check", Object: "pay-x", After: `{"score":1}`}); err != nil {
			t.Fatal(err)
		}
		evs, err := s.Events(ctx, registry.EventFilter{ObjectType: "parity_check", Object: "pay-x"})
		if err != nil || len(evs) != 1 || evs[0].Actor != "ci" || evs[0].After != `{"score":1}` {
			t.Errorf("recorded events = %+v, %v", evs, err)
		}
	})
}

// TestOpen_keywordValueDSN: a keyword/value DSN opens the PostgreSQL
// registry; it is never taken for a SQLite file name (which would put the
// password in a file name and silently start an empty registry).
func TestOpen_keywordValueDSN(t *testing.T) {
	c := pgtest.Require(t)
	dir := t.TempDir()
	wd, err := os.Getwd()
	if err != nil {
		t.Fatal(err)
	}
	if err := os.Chdir(dir); err != nil {
		t.Fatal(err)
	}
	defer os.Chdir(wd) //nolint:errcheck // back where the test started
	kv := fmt.Sprintf("host=127.0.0.1 port=%d dbname=postgres user=postgres password='%s' sslmode=disable", c.Port, c.Password)
	s, err := registry.Open(ctx, kv, registry.Options{})
	if err != nil {
		t.Fatalf("Open(keyword/value DSN): %v", err)
	}
	s.Close()
	entries, _ := os.ReadDir(dir)
	for _, e := range entries {
		t.Errorf("Open created %q in the working directory", e.Name())
	}
}
