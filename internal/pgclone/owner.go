package pgclone

import (
	"context"
	"errors"
	"fmt"
	"slices"
	"strings"
	"time"

	"github.com/jackc/pgx/v5"
)

// CatalogSchema is the schema of a target database in which clones record
// which owner holds each copied schema (table schema_owners). It is created
// by the first swap, never copied from a source, and never dropped.
const CatalogSchema = "stagingkit_clone"

// catalogTable is the owner catalog, one row per copied schema.
var catalogTable = pgx.Identifier{CatalogSchema, "schema_owners"}.Sanitize()

// catalogDDL creates the owner catalog when it is missing.
var catalogDDL = []string{
	"CREATE SCHEMA IF NOT EXISTS " + pgx.Identifier{CatalogSchema}.Sanitize(),
	"CREATE TABLE IF NOT EXISTS " + catalogTable + ` (
		schema_name text PRIMARY KEY,
		owner_id    text NOT NULL,
		environment text NOT NULL DEFAULT '',
		source      text NOT NULL DEFAULT '',
		updated_at  timestamptz NOT NULL DEFAULT now())`,
	"COMMENT ON TABLE " + catalogTable + " IS 'Which staging_postgres_clone holds each schema of this database: only its owner replaces or drops it.'",
	"CREATE TABLE IF NOT EXISTS " + objectsTable + ` (
		schema_name text NOT NULL,
		kind        text NOT NULL,
		identity    text NOT NULL,
		digest      text NOT NULL,
		PRIMARY KEY (schema_name, kind, identity))`,
	"COMMENT ON TABLE " + objectsTable + " IS 'The objects of each copied schema as the last copy made them: what was changed by hand since is drift.'",
}

// Owner identifies the clone that holds the schemas it copies into a
// target. The zero Owner holds nothing: it may only write schemas no owner
// holds, and records none.
type Owner struct {
	// ID is stable for the life of one clone (one Terraform resource
	// instance), unique across clones.
	ID string
	// Environment is the staging environment the clone belongs to; "" when
	// none. A clone takes over schemas held by another owner of the same
	// non-empty environment: its create_before_destroy successor.
	Environment string
	// Source names the connection the clone reads, for messages.
	Source string
}

// OwnerRecord is one row of the owner catalog.
type OwnerRecord struct {
	Schema    string
	Owner     Owner
	UpdatedAt time.Time
}

// Conflicts reports whether o may not write a schema held as rec: rec is
// another owner's and not of o's (non-empty) environment.
func (o Owner) Conflicts(rec OwnerRecord) bool {
	if o.ID != "" && rec.Owner.ID == o.ID {
		return false
	}
	return o.Environment == "" || o.Environment != rec.Owner.Environment
}

// OwnerError is returned when a schema a clone would write is held by
// another owner.
type OwnerError struct {
	Held OwnerRecord // the other owner's record
}

func (e *OwnerError) Error() string {
	env := "no environment"
	if e.Held.Owner.Environment != "" {
		env = fmt.Sprintf("environment %q", e.Held.Owner.Environment)
	}
	return fmt.Sprintf("pgclone: schema %q of the target is held by another clone (owner %s, %s, source connection %q, since %s); "+
		"two clones must not write the same schemas of one database",
		e.Held.Schema, e.Held.Owner.ID, env, e.Held.Owner.Source, e.Held.UpdatedAt.UTC().Format(time.RFC3339))
}

// querier is what reading the owner catalog needs: a connection or a
// transaction.
type querier interface {
	Query(ctx context.Context, sql string, args ...any) (pgx.Rows, error)
	QueryRow(ctx context.Context, sql string, args ...any) pgx.Row
}

// Owners reads the owner catalog of a target: the records of schemas, or
// all records when schemas is nil. A target without a catalog has none.
func Owners(ctx context.Context, q querier, schemas []string) (map[string]OwnerRecord, error) {
	var exists bool
	if err := q.QueryRow(ctx, `SELECT to_regclass($1) IS NOT NULL`, catalogTable).Scan(&exists); err != nil {
		return nil, fmt.Errorf("pgclone: reading the owner catalog: %w", err)
	}
	out := map[string]OwnerRecord{}
	if !exists {
		return out, nil
	}
	rows, err := q.Query(ctx, `SELECT schema_name, owner_id, environment, source, updated_at FROM `+catalogTable+
		` WHERE $1::text[] IS NULL OR schema_name = ANY($1) ORDER BY schema_name`, schemas)
	if err != nil {
		return nil, fmt.Errorf("pgclone: reading the owner catalog: %w", err)
	}
	for rows.Next() {
		var r OwnerRecord
		if err := rows.Scan(&r.Schema, &r.Owner.ID, &r.Owner.Environment, &r.Owner.Source, &r.UpdatedAt); err != nil {
			rows.Close()
			return nil, fmt.Errorf("pgclone: reading the owner catalog: %w", err)
		}
		out[r.Schema] = r
	}
	if err := rows.Err(); err != nil {
		return nil, fmt.Errorf("pgclone: reading the owner catalog: %w", err)
	}
	return out, nil
}

// CheckOwners returns an *OwnerError when owner may not write one of
// schemas of the target: the check the swap makes, read-only, so that a
// conflict is found before anything is copied.
func CheckOwners(ctx context.Context, q querier, owner Owner, schemas []string) error {
	recs, err := Owners(ctx, q, schemas)
	if err != nil {
		return err
	}
	for _, s := range schemas {
		if rec, ok := recs[s]; ok && owner.Conflicts(rec) {
			return &OwnerError{Held: rec}
		}
	}
	return nil
}

// lockCatalog creates the owner catalog if create is set, and locks it
// against every other writer until tx ends. It reports whether the catalog
// exists.
func lockCatalog(ctx context.Context, tx pgx.Tx, create bool) (bool, error) {
	if create {
		for _, s := range catalogDDL {
			if _, err := tx.Exec(ctx, s); err != nil {
				return false, fmt.Errorf("pgclone: creating the owner catalog: %w", err)
			}
		}
	} else {
		var exists bool
		if err := tx.QueryRow(ctx, `SELECT to_regclass($1) IS NOT NULL`, catalogTable).Scan(&exists); err != nil {
			return false, fmt.Errorf("pgclone: reading the owner catalog: %w", err)
		}
		if !exists {
			return false, nil
		}
	}
	if _, err := tx.Exec(ctx, "LOCK TABLE "+catalogTable+" IN SHARE ROW EXCLUSIVE MODE"); err != nil {
		return false, fmt.Errorf("pgclone: locking the owner catalog: %w", err)
	}
	return true, nil
}

// claim records owner as the holder of schemas, inside the transaction
// that writes them (the catalog is locked by lockCatalog). It fails with an
// *OwnerError, writing nothing, when another owner holds one of them; it
// takes over schemas held by another owner of the same environment. It
// returns the schemas owner held before that are not among schemas: the
// caller drops them, as they belong to no copy any more. The zero Owner
// records nothing and holds nothing.
func claim(ctx context.Context, tx pgx.Tx, owner Owner, schemas []string) (stale []string, err error) {
	recs, err := Owners(ctx, tx, nil)
	if err != nil {
		return nil, err
	}
	for _, s := range schemas {
		if rec, ok := recs[s]; ok && owner.Conflicts(rec) {
			return nil, &OwnerError{Held: rec}
		}
	}
	if owner.ID == "" {
		return nil, nil
	}
	for _, rec := range recs {
		if rec.Owner.ID == owner.ID && !slices.Contains(schemas, rec.Schema) {
			stale = append(stale, rec.Schema)
		}
	}
	slices.Sort(stale)
	if len(stale) > 0 {
		if _, err := tx.Exec(ctx, `DELETE FROM `+catalogTable+` WHERE schema_name = ANY($1)`, stale); err != nil {
			return nil, fmt.Errorf("pgclone: updating the owner catalog: %w", err)
		}
	}
	for _, s := range schemas {
		if _, err := tx.Exec(ctx, `INSERT INTO `+catalogTable+` (schema_name, owner_id, environment, source, updated_at) VALUES ($1, $2, $3, $4, now())
			ON CONFLICT (schema_name) DO UPDATE SET owner_id = excluded.owner_id, environment = excluded.environment, source = excluded.source, updated_at = excluded.updated_at`,
			s, owner.ID, owner.Environment, owner.Source); err != nil {
			return nil, fmt.Errorf("pgclone: updating the owner catalog: %w", err)
		}
	}
	return stale, nil
}

// Adopt records owner as the holder of schemas of the target that no
// owner holds yet, for clones made before the owner catalog existed. It
// fails with an *OwnerError when another owner holds one of them, and with
// ErrBusy while a clone into the target runs.
func Adopt(ctx context.Context, target *pgx.ConnConfig, owner Owner, schemas []string) error {
	if owner.ID == "" {
		return errors.New("pgclone: adopting schemas needs an owner ID")
	}
	conn, err := connect(ctx, target, nil)
	if err != nil {
		return fmt.Errorf("pgclone: connecting to the target: %w", err)
	}
	defer conn.Close(context.WithoutCancel(ctx))
	return withLockRetry(ctx, conn, defaultLockWait, func(tx pgx.Tx) error {
		var locked bool
		if err := tx.QueryRow(ctx, `SELECT pg_try_advisory_xact_lock(`+advisoryLock+`)`).Scan(&locked); err != nil {
			return fmt.Errorf("pgclone: locking the target: %w", err)
		}
		if !locked {
			return ErrBusy
		}
		if _, err := lockCatalog(ctx, tx, true); err != nil {
			return err
		}
		live, err := existingSchemas(ctx, tx, schemas)
		if err != nil {
			return err
		}
		recs, err := Owners(ctx, tx, nil)
		if err != nil {
			return err
		}
		// Keep what owner holds already, add the rest.
		for _, rec := range recs {
			if rec.Owner.ID == owner.ID && !slices.Contains(live, rec.Schema) {
				live = append(live, rec.Schema)
			}
		}
		_, err = claim(ctx, tx, owner, live)
		return err
	}, nil)
}

// existingSchemas returns those of schemas the database has.
func existingSchemas(ctx context.Context, q querier, schemas []string) ([]string, error) {
	rows, err := q.Query(ctx, `SELECT nspname::text FROM pg_namespace WHERE nspname = ANY($1) ORDER BY 1`, schemas)
	if err != nil {
		return nil, fmt.Errorf("pgclone: reading schemas: %w", err)
	}
	out, err := pgx.CollectRows(rows, pgx.RowTo[string])
	if err != nil {
		return nil, fmt.Errorf("pgclone: reading schemas: %w", err)
	}
	return out, nil
}

// Drop removes what a clone holds in the target, in one transaction: the
// schemas the owner catalog records for ownerID, with everything in them,
// and their records. With an empty ownerID (a clone made before the owner
// catalog, never updated since) it drops those of schemas that no owner
// holds. Schemas another clone has taken over are left alone. The public
// schema is recreated empty, as a fresh database has it. It returns the
// schemas dropped.
func Drop(ctx context.Context, target *pgx.ConnConfig, ownerID string, schemas []string) (dropped []string, err error) {
	conn, err := connect(ctx, target, nil)
	if err != nil {
		return nil, fmt.Errorf("pgclone: connecting to the target: %w", err)
	}
	defer conn.Close(context.WithoutCancel(ctx))
	err = withLockRetry(ctx, conn, defaultLockWait, func(tx pgx.Tx) error {
		dropped = nil
		exists, err := lockCatalog(ctx, tx, false)
		if err != nil {
			return err
		}
		recs := map[string]OwnerRecord{}
		if exists {
			if recs, err = Owners(ctx, tx, nil); err != nil {
				return err
			}
		}
		if ownerID != "" {
			for _, rec := range recs {
				if rec.Owner.ID == ownerID {
					dropped = append(dropped, rec.Schema)
				}
			}
		} else {
			for _, s := range schemas {
				if _, held := recs[s]; !held {
					dropped = append(dropped, s)
				}
			}
		}
		slices.Sort(dropped)
		if err := dropSchemas(ctx, tx, dropped); err != nil {
			return err
		}
		if exists && len(dropped) > 0 {
			if _, err := tx.Exec(ctx, `DELETE FROM `+catalogTable+` WHERE schema_name = ANY($1)`, dropped); err != nil {
				return fmt.Errorf("pgclone: updating the owner catalog: %w", err)
			}
		}
		return nil
	}, func() []string { return dropped })
	return dropped, err
}

// dropSchemas drops schemas with everything in them, recreating public
// empty.
func dropSchemas(ctx context.Context, tx pgx.Tx, schemas []string) error {
	for _, s := range schemas {
		if s == CatalogSchema {
			continue
		}
		if _, err := tx.Exec(ctx, "DROP SCHEMA IF EXISTS "+pgx.Identifier{s}.Sanitize()+" CASCADE"); err != nil {
			return fmt.Errorf("pgclone: dropping schema %s: %w", s, err)
		}
		if s == "public" {
			if _, err := tx.Exec(ctx, "CREATE SCHEMA public"); err != nil {
				return fmt.Errorf("pgclone: recreating schema public: %w", err)
			}
		}
	}
	// Their recorded objects (see Drift) go with them.
	var recorded bool
	if err := tx.QueryRow(ctx, `SELECT to_regclass($1) IS NOT NULL`, objectsTable).Scan(&recorded); err != nil {
		return err
	}
	if recorded {
		if _, err := tx.Exec(ctx, `DELETE FROM `+objectsTable+` WHERE schema_name = ANY ($1::text[])`, schemas); err != nil {
			return fmt.Errorf("pgclone: forgetting the objects of dropped schemas: %w", err)
		}
	}
	return nil
}

// Lock waits of the swap and of Drop: each attempt waits at most
// lockTimeout for its locks, then the transaction is retried after a
// growing pause, for at most defaultLockWait in all.
const (
	lockTimeout     = 5 * time.Second
	defaultLockWait = 90 * time.Second
)

// BlockingSession is a session of the target holding a lock that a swap
// or a drop waited for.
type BlockingSession struct {
	PID         int32
	User        string
	Application string
	State       string
	Query       string // the start of its current or last statement
}

// LockTimeoutError is returned when the swap or a drop gave up waiting for
// locks that other sessions of the target hold.
type LockTimeoutError struct {
	Waited   time.Duration
	Sessions []BlockingSession // may be empty when they ended meanwhile
	Err      error             // the last lock timeout
}

func (e *LockTimeoutError) Error() string {
	var b strings.Builder
	fmt.Fprintf(&b, "pgclone: gave up after waiting %s for locks on the target's tables, which the swap needs to replace the previous copy", e.Waited.Round(time.Second))
	if len(e.Sessions) == 0 {
		b.WriteString(" (the sessions holding them have ended since)")
	} else {
		b.WriteString("; held by: ")
		for i, s := range e.Sessions {
			if i > 0 {
				b.WriteString("; ")
			}
			fmt.Fprintf(&b, "pid %d (user %q, application %q, state %q, query %q)", s.PID, s.User, s.Application, s.State, s.Query)
		}
	}
	return b.String()
}

func (e *LockTimeoutError) Unwrap() error { return e.Err }

// withLockRetry runs fn in a transaction of conn whose lock waits are
// bounded by lockTimeout, committing when fn succeeds. When a lock wait
// times out it rolls back and retries after a pause (1 s, 2 s, 4 s ...,
// at most 15 s) until wait has passed; then it returns a
// *LockTimeoutError naming the sessions that hold locks on the relations
// blockers returns (schemas' relations and the owner catalog).
func withLockRetry(ctx context.Context, conn *pgx.Conn, wait time.Duration, fn func(pgx.Tx) error, blockers func() []string) error {
	start := time.Now()
	pause := time.Second
	timeout := min(lockTimeout, wait)
	for {
		err := func() error {
			tx, err := conn.Begin(ctx)
			if err != nil {
				return err
			}
			defer func() { _ = tx.Rollback(context.WithoutCancel(ctx)) }()
			if _, err := tx.Exec(ctx, fmt.Sprintf("SET LOCAL lock_timeout = %d", timeout.Milliseconds())); err != nil {
				return err
			}
			if err := fn(tx); err != nil {
				return err
			}
			return tx.Commit(ctx)
		}()
		if !IsLockTimeout(err) {
			return err
		}
		if time.Since(start)+pause > wait {
			var schemas []string
			if blockers != nil {
				schemas = blockers()
			}
			sessions, qerr := blockingSessions(ctx, conn, schemas)
			if qerr != nil {
				return fmt.Errorf("%w (and listing the sessions holding locks failed: %w)", err, qerr)
			}
			return &LockTimeoutError{Waited: time.Since(start), Sessions: sessions, Err: err}
		}
		select {
		case <-ctx.Done():
			return fmt.Errorf("%w (while waiting for locks: %w)", ctx.Err(), err)
		case <-time.After(pause):
		}
		pause = min(2*pause, 15*time.Second)
	}
}

// blockingSessions lists the other sessions holding locks on relations of
// schemas or on the owner catalog.
func blockingSessions(ctx context.Context, conn *pgx.Conn, schemas []string) ([]BlockingSession, error) {
	rows, err := conn.Query(ctx, `
		SELECT DISTINCT a.pid, coalesce(a.usename::text, ''), coalesce(a.application_name, ''), coalesce(a.state, ''), left(coalesce(a.query, ''), 120)
		FROM pg_locks l
		JOIN pg_class c ON c.oid = l.relation
		JOIN pg_namespace n ON n.oid = c.relnamespace
		JOIN pg_stat_activity a ON a.pid = l.pid
		WHERE l.granted AND l.pid <> pg_backend_pid()
		  AND l.database = (SELECT oid FROM pg_database WHERE datname = current_database())
		  AND (n.nspname = ANY($1) OR n.nspname = $2)
		ORDER BY a.pid`, schemas, CatalogSchema)
	if err != nil {
		return nil, err
	}
	return pgx.CollectRows(rows, func(r pgx.CollectableRow) (BlockingSession, error) {
		var s BlockingSession
		err := r.Scan(&s.PID, &s.User, &s.Application, &s.State, &s.Query)
		return s, err
	})
}
