package pgclone

import (
	"context"
	"errors"
	"net/url"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/jackc/pgx/v5"

	"github.com/stagingkit/terraform-provider-staging/internal/pgtest"
)

// readerConfig returns the config of a login of dsn's cluster that can
// only read (pg_read_all_data), as production logins should be.
func readerConfig(t testing.TB, dsn string) *pgx.ConnConfig {
	t.Helper()
	const role = "owner_test_reader"
	pgtest.Exec(t, dsn, `DO $$ BEGIN
		IF NOT EXISTS (SELECT 1 FROM pg_roles WHERE rolname = '`+role+`') THEN
			CREATE ROLE `+role+` LOGIN BYPASSRLS PASSWORD 'reader-pw';
			GRANT pg_read_all_data TO `+role+`;
		END IF;
	END $$`)
	u, err := url.Parse(dsn)
	if err != nil {
		t.Fatal(err)
	}
	u.User = url.UserPassword(role, "reader-pw")
	return mustConfig(t, u.String())
}

func ownedOptions(t testing.TB, secret string, owner Owner) Options {
	o := testOptions(t, secret)
	o.Owner = owner
	return o
}

func owners(t testing.TB, conn *pgx.Conn) map[string]string {
	t.Helper()
	recs, err := Owners(context.Background(), conn, nil)
	if err != nil {
		t.Fatal(err)
	}
	out := map[string]string{}
	for s, r := range recs {
		out[s] = r.Owner.ID
	}
	return out
}

// TestClone_ownerCatalog: the swap records the owner of the copied
// schemas; another owner is refused before anything is copied, one of the
// same environment takes over, and Drop drops only what its owner holds.
func TestClone_ownerCatalog(t *testing.T) {
	ctx := context.Background()
	prod := newProd(t)
	staging := pgtest.Require(t).NewDatabase(t)
	src, dst := readerConfig(t, prod), mustConfig(t, staging)
	conn := dial(t, staging)
	a := Owner{ID: "owner-a", Environment: "env-1", Source: "prod"}
	if _, err := Clone(ctx, src, dst, ownedOptions(t, "k", a)); err != nil {
		t.Fatal(err)
	}
	if got := owners(t, conn); got["public"] != "owner-a" || got["hr"] != "owner-a" || len(got) != 2 {
		t.Fatalf("owner catalog after the first clone: %v", got)
	}
	before := dataDigests(t, conn)

	// Another environment, or none: refused, naming the holder.
	for _, other := range []Owner{{ID: "owner-b", Environment: "env-2", Source: "prod2"}, {ID: "owner-c"}, {}} {
		_, err := Clone(ctx, src, dst, ownedOptions(t, "other", other))
		var oe *OwnerError
		if !errors.As(err, &oe) || oe.Held.Owner.ID != "owner-a" || oe.Held.Owner.Environment != "env-1" ||
			!strings.Contains(err.Error(), `owner owner-a, environment "env-1", source connection "prod"`) {
			t.Fatalf("clone by %+v: %v, want an *OwnerError naming owner-a", other, err)
		}
		if s := shadowSchemas(t, conn); len(s) > 0 {
			t.Errorf("shadows left: %v", s)
		}
	}
	if after := dataDigests(t, conn); !equalMaps(before, after) {
		t.Error("a refused clone changed staging")
	}
	if err := CheckOwners(ctx, conn, Owner{ID: "owner-b", Environment: "env-2"}, []string{"public"}); err == nil {
		t.Error("CheckOwners accepted another owner")
	}

	// Drop by another owner drops nothing; by the zero owner only
	// unrecorded schemas.
	if dropped, err := Drop(ctx, dst, "owner-b", []string{"public", "hr"}); err != nil || len(dropped) != 0 {
		t.Errorf("Drop by owner-b = %v, %v", dropped, err)
	}
	if dropped, err := Drop(ctx, dst, "", []string{"public", "hr"}); err != nil || len(dropped) != 0 {
		t.Errorf("Drop by no owner = %v, %v", dropped, err)
	}

	// The same environment takes over (a create_before_destroy successor),
	// and then its predecessor's Drop leaves the copy alone.
	succ := Owner{ID: "owner-a2", Environment: "env-1", Source: "prod"}
	if _, err := Clone(ctx, src, dst, ownedOptions(t, "k", succ)); err != nil {
		t.Fatal(err)
	}
	if got := owners(t, conn); got["public"] != "owner-a2" || got["hr"] != "owner-a2" {
		t.Fatalf("owner catalog after the take-over: %v", got)
	}
	// A copy that no longer has a schema drops it in its swap.
	opts := ownedOptions(t, "k", succ)
	opts.ExcludeSchemas = []string{"hr"} // hr is no longer copied: the swap drops it
	opts.Rules = nil
	for _, r := range prodRules {
		if !strings.HasPrefix(r.Table, "hr.") {
			opts.Rules = append(opts.Rules, r)
		}
	}
	if _, err := Clone(ctx, src, dst, opts); err != nil {
		t.Fatal(err)
	}
	if got := owners(t, conn); got["public"] != "owner-a2" || len(got) != 1 {
		t.Fatalf("owner catalog after a copy without hr: %v", got)
	}
	if n := queryString(t, conn, `SELECT count(*)::text FROM pg_namespace WHERE nspname = 'hr'`); n != "0" {
		t.Error("the schema the new copy no longer has is still there")
	}
	if dropped, err := Drop(ctx, dst, "owner-a", []string{"public", "hr"}); err != nil || len(dropped) != 0 {
		t.Errorf("Drop by the predecessor = %v, %v", dropped, err)
	}
	if got := queryString(t, conn, `SELECT count(*)::text FROM customers`); got == "0" {
		t.Error("the successor's copy is empty")
	}
	if dropped, err := Drop(ctx, dst, "owner-a2", nil); err != nil || strings.Join(dropped, ",") != "public" {
		t.Errorf("Drop by the holder = %v, %v", dropped, err)
	}
	if n := queryString(t, conn, `SELECT count(*)::text FROM pg_class c JOIN pg_namespace n ON n.oid = c.relnamespace WHERE n.nspname = 'public'`); n != "0" {
		t.Errorf("%s relations left in public", n)
	}
	if got := owners(t, conn); len(got) != 0 {
		t.Errorf("owner catalog after Drop: %v", got)
	}
}

// TestAdopt: schemas copied before the owner catalog get an owner.
func TestAdopt(t *testing.T) {
	ctx := context.Background()
	prod := newProd(t)
	staging := pgtest.Require(t).NewDatabase(t)
	src, dst := readerConfig(t, prod), mustConfig(t, staging)
	if _, err := Clone(ctx, src, dst, testOptions(t, "k")); err != nil { // no owner: records nothing
		t.Fatal(err)
	}
	conn := dial(t, staging)
	if got := owners(t, conn); len(got) != 0 {
		t.Fatalf("an ownerless clone recorded %v", got)
	}
	if err := Adopt(ctx, dst, Owner{ID: "late", Environment: "e"}, []string{"public", "hr", "gone"}); err != nil {
		t.Fatal(err)
	}
	if got := owners(t, conn); got["public"] != "late" || got["hr"] != "late" || len(got) != 2 {
		t.Errorf("after Adopt: %v", got)
	}
	var oe *OwnerError
	if err := Adopt(ctx, dst, Owner{ID: "other", Environment: "f"}, []string{"public"}); !errors.As(err, &oe) {
		t.Errorf("Adopt of another owner's schema: %v", err)
	}
}

// TestSwap_lockTimeoutNamesBlockers: a session reading the previous copy
// holds a lock the swap needs; the swap gives up after its bounded wait,
// naming the session, and staging keeps the previous copy.
func TestSwap_lockTimeoutNamesBlockers(t *testing.T) {
	ctx := context.Background()
	prod := newProd(t)
	staging := pgtest.Require(t).NewDatabase(t)
	src, dst := readerConfig(t, prod), mustConfig(t, staging)
	owner := Owner{ID: "o", Environment: "e"}
	if _, err := Clone(ctx, src, dst, ownedOptions(t, "first", owner)); err != nil {
		t.Fatal(err)
	}
	conn := dial(t, staging)
	before := dataDigests(t, conn)

	readerCfg := mustConfig(t, staging)
	readerCfg.RuntimeParams["application_name"] = "nightly-report"
	reader, err := pgx.ConnectConfig(ctx, readerCfg)
	if err != nil {
		t.Fatal(err)
	}
	defer reader.Close(ctx)
	tx, err := reader.Begin(ctx)
	if err != nil {
		t.Fatal(err)
	}
	if _, err := tx.Exec(ctx, `LOCK TABLE customers IN ACCESS SHARE MODE`); err != nil {
		t.Fatal(err)
	}
	readerPID := reader.PgConn().PID()

	opts := ownedOptions(t, "second", owner)
	opts.lockWait = 1500 * time.Millisecond
	start := time.Now()
	_, err = Clone(ctx, src, dst, opts)
	var le *LockTimeoutError
	if !errors.As(err, &le) {
		t.Fatalf("clone with a reader holding a lock: %v, want *LockTimeoutError", err)
	}
	t.Logf("%v (after %s)", err, time.Since(start).Round(time.Millisecond))
	found := false
	for _, s := range le.Sessions {
		if s.PID == int32(readerPID) && s.Application == "nightly-report" && s.State == "idle in transaction" {
			found = true
		}
	}
	if !found || !strings.Contains(err.Error(), "nightly-report") {
		t.Errorf("the error does not name the blocking session (pid %d, nightly-report): %v", readerPID, err)
	}
	_ = tx.Rollback(ctx)
	if after := dataDigests(t, conn); !equalMaps(before, after) {
		t.Error("staging changed although the swap gave up")
	}
	if s := shadowSchemas(t, conn); len(s) > 0 {
		t.Errorf("shadows left: %v", s)
	}
	// With the reader gone, the same clone goes through.
	if _, err := Clone(ctx, src, dst, ownedOptions(t, "second", owner)); err != nil {
		t.Fatal(err)
	}
	if after := dataDigests(t, conn); equalMaps(before, after) {
		t.Error("the second clone changed nothing")
	}
}

// TestClone_failureKeepsAnotherRunsShadows: a failed clone drops its
// shadow schemas before it releases the target's advisory lock, so a run
// that starts as soon as the lock is free keeps its own.
func TestClone_failureKeepsAnotherRunsShadows(t *testing.T) {
	ctx := context.Background()
	prod := newProd(t)
	staging := pgtest.Require(t).NewDatabase(t)
	src, dst := readerConfig(t, prod), mustConfig(t, staging)

	// The other run: once the clone holds the lock and copies, waits for
	// the lock, then builds its shadow.
	other := dial(t, staging)
	done := make(chan error, 1)
	copying := make(chan struct{})
	go func() {
		<-copying
		for {
			var locked bool
			if err := other.QueryRow(ctx, `SELECT pg_try_advisory_lock(`+advisoryLock+`)`).Scan(&locked); err != nil {
				done <- err
				return
			}
			if locked {
				_, err := other.Exec(ctx, `CREATE SCHEMA other__stg_new`)
				done <- err
				return
			}
		}
	}()
	opts := ownedOptions(t, "k", Owner{ID: "o"})
	opts.failAfterRows = 2000
	var once sync.Once
	opts.Hold = func(phase string) {
		if phase == HoldCopy {
			once.Do(func() { close(copying) })
		}
	}
	if _, err := Clone(ctx, src, dst, opts); !errors.Is(err, errInjected) {
		t.Fatalf("clone: %v, want the injected failure", err)
	}
	if err := <-done; err != nil {
		t.Fatal(err)
	}
	conn := dial(t, staging)
	if s := shadowSchemas(t, conn); strings.Join(s, ",") != "other__stg_new" {
		t.Errorf("shadow schemas after the failed clone and the other run: %v, want only the other run's", s)
	}
}

func equalMaps(a, b map[string]string) bool {
	if len(a) != len(b) {
		return false
	}
	for k, v := range a {
		if b[k] != v {
			return false
		}
	}
	return true
}
