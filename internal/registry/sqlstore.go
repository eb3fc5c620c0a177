package registry

import (
	"context"
	"crypto/rand"
	"database/sql"
	"encoding/hex"
	"encoding/json"
	"errors"
	"fmt"
	"sort"
	"strings"
	"time"
)

// sqlStore is the Store over database/sql; the dialect holds the differences
// between SQLite and PostgreSQL.
type sqlStore struct {
	db    *sql.DB
	d     dialect
	clock Clock
}

var _ Store = (*sqlStore)(nil)

// Now returns the store clock's time in UTC, truncated to the second: the
// precision every back end stores and every user reads.
func (s *sqlStore) Now() time.Time { return s.clock().UTC().Truncate(time.Second) }

func (s *sqlStore) Close() error { return s.db.Close() }

// inTx runs fn in a transaction and commits it when fn succeeds.
func (s *sqlStore) inTx(ctx context.Context, fn func(tx *sql.Tx) error) error {
	tx, err := s.db.BeginTx(ctx, nil)
	if err != nil {
		return fmt.Errorf("starting a registry transaction: %w", err)
	}
	if err := fn(tx); err != nil {
		_ = tx.Rollback()
		return err
	}
	if err := tx.Commit(); err != nil {
		return fmt.Errorf("committing to the registry: %w", err)
	}
	return nil
}

func (s *sqlStore) exec(ctx context.Context, tx *sql.Tx, q string, args ...any) (sql.Result, error) {
	return tx.ExecContext(ctx, s.d.rebind(q), args...)
}

// audit writes one event inside tx. before and after are marshalled to JSON;
// nil leaves the field empty.
func (s *sqlStore) audit(ctx context.Context, tx *sql.Tx, at time.Time, actor, action, objType, obj string, before, after any) error {
	enc := func(v any) (string, error) {
		if v == nil {
			return "", nil
		}
		b, err := json.Marshal(v)
		return string(b), err
	}
	b, err := enc(before)
	if err != nil {
		return err
	}
	a, err := enc(after)
	if err != nil {
		return err
	}
	if _, err := s.exec(ctx, tx, `INSERT INTO events (at, actor, action, object_type, object, before_json, after_json) VALUES (?, ?, ?, ?, ?, ?, ?)`,
		s.d.timeArg(at), actor, action, objType, obj, b, a); err != nil {
		return fmt.Errorf("writing the audit event: %w", err)
	}
	return nil
}

func newID(prefix string) string {
	b := make([]byte, 8)
	_, _ = rand.Read(b)
	return prefix + hex.EncodeToString(b)
}

// ---- time and JSON columns ----

// dbTime scans a time from either back end: time.Time from PostgreSQL, text
// from SQLite.
type dbTime struct {
	t     time.Time
	valid bool
}

func (d *dbTime) Scan(v any) error {
	switch x := v.(type) {
	case nil:
		d.valid = false
		return nil
	case time.Time:
		d.t, d.valid = x.UTC(), true
		return nil
	case string:
		return d.parse(x)
	case []byte:
		return d.parse(string(x))
	}
	return fmt.Errorf("unexpected time value %T", v)
}

func (d *dbTime) parse(s string) error {
	t, err := time.Parse(time.RFC3339Nano, s)
	if err != nil {
		return fmt.Errorf("registry holds a malformed time %q: %w", s, err)
	}
	d.t, d.valid = t.UTC(), true
	return nil
}

func (s *sqlStore) nullTime(t time.Time) any {
	if t.IsZero() {
		return nil
	}
	return s.d.timeArg(t)
}

func marshalJSON(v any) string {
	b, _ := json.Marshal(v) // maps of strings and string slices always marshal
	return string(b)
}

// ---- teams ----

// teamJSON is the audit log's view of a team.
type teamJSON struct {
	Name            string   `json:"name"`
	MaxEnvironments int      `json:"max_environments"`
	DefaultTTL      string   `json:"default_ttl,omitempty"`
	MaxTTL          string   `json:"max_ttl,omitempty"`
	Owners          []string `json:"owners"`
}

func teamView(t Team) teamJSON {
	v := teamJSON{Name: t.Name, MaxEnvironments: t.MaxEnvironments, Owners: t.Owners}
	if t.DefaultTTL > 0 {
		v.DefaultTTL = FormatDuration(t.DefaultTTL)
	}
	if t.MaxTTL > 0 {
		v.MaxTTL = FormatDuration(t.MaxTTL)
	}
	if v.Owners == nil {
		v.Owners = []string{}
	}
	return v
}

const teamColumns = `name, max_environments, default_ttl_ns, max_ttl_ns, owners, created_at, updated_at`

func scanTeam(row interface{ Scan(...any) error }) (Team, error) {
	var (
		t            Team
		def, max     int64
		owners       string
		created, upd dbTime
	)
	if err := row.Scan(&t.Name, &t.MaxEnvironments, &def, &max, &owners, &created, &upd); err != nil {
		return Team{}, err
	}
	t.DefaultTTL, t.MaxTTL = time.Duration(def), time.Duration(max)
	t.CreatedAt, t.UpdatedAt = created.t, upd.t
	if err := json.Unmarshal([]byte(owners), &t.Owners); err != nil {
		return Team{}, fmt.Errorf("team %q has malformed owners: %w", t.Name, err)
	}
	return t, nil
}

func normaliseOwners(o []string) []string {
	out := append([]string{}, o...)
	sort.Strings(out)
	return out
}

func (s *sqlStore) getTeam(ctx context.Context, q interface {
	QueryRowContext(context.Context, string, ...any) *sql.Row
}, name string, lock bool) (Team, error) {
	query := `SELECT ` + teamColumns + ` FROM teams WHERE name = ?`
	if lock {
		query += s.d.forUpdate()
	}
	t, err := scanTeam(q.QueryRowContext(ctx, s.d.rebind(query), name))
	if errors.Is(err, sql.ErrNoRows) {
		return Team{}, &NotFoundError{Kind: "team", Name: name, Hint: "create it with a staging_team resource first"}
	}
	if err != nil {
		return Team{}, fmt.Errorf("reading team %q: %w", name, err)
	}
	return t, nil
}

func (s *sqlStore) GetTeam(ctx context.Context, name string) (Team, error) {
	return s.getTeam(ctx, s.db, name, false)
}

func (s *sqlStore) CreateTeam(ctx context.Context, actor string, t Team) (Team, error) {
	if err := ValidateTeam(t); err != nil {
		return Team{}, err
	}
	now := s.Now()
	t.Owners = normaliseOwners(t.Owners)
	t.CreatedAt, t.UpdatedAt = now, now
	err := s.inTx(ctx, func(tx *sql.Tx) error {
		_, err := s.exec(ctx, tx, `INSERT INTO teams (`+teamColumns+`) VALUES (?, ?, ?, ?, ?, ?, ?)`,
			t.Name, t.MaxEnvironments, int64(t.DefaultTTL), int64(t.MaxTTL), marshalJSON(t.Owners), s.d.timeArg(now), s.d.timeArg(now))
		if s.d.isUniqueViolation(err) {
			return fmt.Errorf("team %q %w in the registry; import it or pick another name", t.Name, ErrAlreadyExists)
		}
		if err != nil {
			return fmt.Errorf("creating team %q: %w", t.Name, err)
		}
		return s.audit(ctx, tx, now, actor, "create", "team", t.Name, nil, teamView(t))
	})
	if err != nil {
		return Team{}, err
	}
	return t, nil
}

func (s *sqlStore) UpdateTeam(ctx context.Context, actor string, t Team) (Team, error) {
	if err := ValidateTeam(t); err != nil {
		return Team{}, err
	}
	now := s.Now()
	t.Owners = normaliseOwners(t.Owners)
	err := s.inTx(ctx, func(tx *sql.Tx) error {
		old, err := s.getTeam(ctx, tx, t.Name, true)
		if err != nil {
			return err
		}
		t.CreatedAt, t.UpdatedAt = old.CreatedAt, now
		if _, err := s.exec(ctx, tx, `UPDATE teams SET max_environments = ?, default_ttl_ns = ?, max_ttl_ns = ?, owners = ?, updated_at = ? WHERE name = ?`,
			t.MaxEnvironments, int64(t.DefaultTTL), int64(t.MaxTTL), marshalJSON(t.Owners), s.d.timeArg(now), t.Name); err != nil {
			return fmt.Errorf("updating team %q: %w", t.Name, err)
		}
		return s.audit(ctx, tx, now, actor, "update", "team", t.Name, teamView(old), teamView(t))
	})
	if err != nil {
		return Team{}, err
	}
	return t, nil
}

func (s *sqlStore) DeleteTeam(ctx context.Context, actor, name string) error {
	now := s.Now()
	return s.inTx(ctx, func(tx *sql.Tx) error {
		old, err := s.getTeam(ctx, tx, name, true)
		if err != nil {
			return err
		}
		envs, err := s.listEnvironments(ctx, tx, "WHERE team = ?", name)
		if err != nil {
			return err
		}
		if len(envs) > 0 {
			names := make([]string, len(envs))
			for i, e := range envs {
				names[i] = e.Name
			}
			return fmt.Errorf("team %q still has %d environments (%s): %w; destroy them first", name, len(names), strings.Join(names, ", "), ErrConflict)
		}
		if _, err := s.exec(ctx, tx, `DELETE FROM teams WHERE name = ?`, name); err != nil {
			return fmt.Errorf("deleting team %q: %w", name, err)
		}
		return s.audit(ctx, tx, now, actor, "delete", "team", name, teamView(old), nil)
	})
}

// ---- environments ----

// environmentJSON is the audit log's view of an environment.
type environmentJSON struct {
	ID         string            `json:"id"`
	Name       string            `json:"name"`
	Team       string            `json:"team"`
	Owner      string            `json:"owner"`
	Production string            `json:"production,omitempty"`
	TTL        string            `json:"ttl,omitempty"`
	Labels     map[string]string `json:"labels"`
	Namespace  string            `json:"namespace"`
	ExpiresAt  string            `json:"expires_at,omitempty"`
}

func environmentView(e Environment) environmentJSON {
	v := environmentJSON{ID: e.ID, Name: e.Name, Team: e.Team, Owner: e.Owner, Production: e.Production,
		Labels: e.Labels, Namespace: e.Namespace}
	if e.TTL > 0 {
		v.TTL = FormatDuration(e.TTL)
	}
	if !e.ExpiresAt.IsZero() {
		v.ExpiresAt = e.ExpiresAt.UTC().Format(time.RFC3339)
	}
	if v.Labels == nil {
		v.Labels = map[string]string{}
	}
	return v
}

const environmentColumns = `id, name, team, owner, production, ttl_ns, labels, namespace, created_at, updated_at, expires_at`

func scanEnvironment(row interface{ Scan(...any) error }) (Environment, error) {
	var (
		e                     Environment
		ttl                   int64
		labels                string
		created, upd, expires dbTime
	)
	if err := row.Scan(&e.ID, &e.Name, &e.Team, &e.Owner, &e.Production, &ttl, &labels, &e.Namespace, &created, &upd, &expires); err != nil {
		return Environment{}, err
	}
	e.TTL = time.Duration(ttl)
	e.CreatedAt, e.UpdatedAt = created.t, upd.t
	if expires.valid {
		e.ExpiresAt = expires.t
	}
	if err := json.Unmarshal([]byte(labels), &e.Labels); err != nil {
		return Environment{}, fmt.Errorf("environment %q has malformed labels: %w", e.Name, err)
	}
	return e, nil
}

func (s *sqlStore) getEnvironment(ctx context.Context, q interface {
	QueryRowContext(context.Context, string, ...any) *sql.Row
}, name string, lock bool) (Environment, error) {
	query := `SELECT ` + environmentColumns + ` FROM environments WHERE name = ?`
	if lock {
		query += s.d.forUpdate()
	}
	e, err := scanEnvironment(q.QueryRowContext(ctx, s.d.rebind(query), name))
	if errors.Is(err, sql.ErrNoRows) {
		return Environment{}, &NotFoundError{Kind: "environment", Name: name, Hint: "create it with a staging_environment resource or fix the name"}
	}
	if err != nil {
		return Environment{}, fmt.Errorf("reading environment %q: %w", name, err)
	}
	return e, nil
}

func (s *sqlStore) GetEnvironment(ctx context.Context, name string) (Environment, error) {
	return s.getEnvironment(ctx, s.db, name, false)
}

func (s *sqlStore) listEnvironments(ctx context.Context, q interface {
	QueryContext(context.Context, string, ...any) (*sql.Rows, error)
}, where string, args ...any) ([]Environment, error) {
	rows, err := q.QueryContext(ctx, s.d.rebind(`SELECT `+environmentColumns+` FROM environments `+where+` ORDER BY created_at, name`), args...)
	if err != nil {
		return nil, fmt.Errorf("listing environments: %w", err)
	}
	defer rows.Close()
	var out []Environment
	for rows.Next() {
		e, err := scanEnvironment(rows)
		if err != nil {
			return nil, err
		}
		out = append(out, e)
	}
	return out, rows.Err()
}

func (s *sqlStore) ListEnvironments(ctx context.Context, f EnvironmentFilter) ([]Environment, error) {
	where, args := "", []any{}
	var conds []string
	if f.Team != "" {
		conds = append(conds, "team = ?")
		args = append(args, f.Team)
	}
	if f.Production != "" {
		conds = append(conds, "production = ?")
		args = append(args, f.Production)
	}
	if len(conds) > 0 {
		where = "WHERE " + strings.Join(conds, " AND ")
	}
	all, err := s.listEnvironments(ctx, s.db, where, args...)
	if err != nil {
		return nil, err
	}
	now := s.Now()
	out := all[:0]
	for _, e := range all {
		if f.Matches(e, now) {
			out = append(out, e)
		}
	}
	return out, nil
}

func validateEnvironment(e Environment) error {
	if err := ValidateName(e.Name); err != nil {
		return err
	}
	if e.Owner == "" {
		return fmt.Errorf("%w: environment %q has no owner", ErrInvalid, e.Name)
	}
	if _, ok := e.Labels[""]; ok {
		return fmt.Errorf("%w: environment %q has a label with an empty key", ErrInvalid, e.Name)
	}
	return nil
}

func (s *sqlStore) CreateEnvironment(ctx context.Context, actor string, e Environment) (Environment, error) {
	if err := validateEnvironment(e); err != nil {
		return Environment{}, err
	}
	now := s.Now()
	err := s.inTx(ctx, func(tx *sql.Tx) error {
		// Locking the team row serialises creations within a team, so the
		// quota count below cannot be raced.
		team, err := s.getTeam(ctx, tx, e.Team, true)
		if err != nil {
			return err
		}
		ttl, err := EffectiveTTL(team, e.TTL)
		if err != nil {
			return err
		}
		if _, err := s.getEnvironment(ctx, tx, e.Name, false); err == nil {
			return fmt.Errorf("environment %q %w in the registry; import it or pick another name", e.Name, ErrAlreadyExists)
		} else if !errors.Is(err, ErrNotFound) {
			return err
		}
		if team.MaxEnvironments > 0 {
			existing, err := s.listEnvironments(ctx, tx, "WHERE team = ?", team.Name)
			if err != nil {
				return err
			}
			if len(existing) >= team.MaxEnvironments {
				return &QuotaExceededError{Team: team.Name, Limit: team.MaxEnvironments, Existing: existing, Now: now}
			}
		}
		e.ID = newID("env-")
		e.TTL = ttl
		e.Namespace = Namespace(e.Name)
		e.CreatedAt, e.UpdatedAt = now, now
		e.ExpiresAt = time.Time{}
		if ttl > 0 {
			e.ExpiresAt = now.Add(ttl)
		}
		if e.Labels == nil {
			e.Labels = map[string]string{}
		}
		_, err = s.exec(ctx, tx, `INSERT INTO environments (`+environmentColumns+`) VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?)`,
			e.ID, e.Name, e.Team, e.Owner, e.Production, int64(e.TTL), marshalJSON(e.Labels), e.Namespace,
			s.d.timeArg(now), s.d.timeArg(now), s.nullTime(e.ExpiresAt))
		if s.d.isUniqueViolation(err) {
			return fmt.Errorf("environment %q %w in the registry (created concurrently); import it or pick another name", e.Name, ErrAlreadyExists)
		}
		if err != nil {
			return fmt.Errorf("creating environment %q: %w", e.Name, err)
		}
		return s.audit(ctx, tx, now, actor, "create", "environment", e.Name, nil, environmentView(e))
	})
	if err != nil {
		return Environment{}, err
	}
	return e, nil
}

func (s *sqlStore) UpdateEnvironment(ctx context.Context, actor string, e Environment) (Environment, error) {
	if err := validateEnvironment(e); err != nil {
		return Environment{}, err
	}
	now := s.Now()
	var out Environment
	err := s.inTx(ctx, func(tx *sql.Tx) error {
		old, err := s.getEnvironment(ctx, tx, e.Name, true)
		if err != nil {
			return err
		}
		team, err := s.getTeam(ctx, tx, old.Team, false)
		if err != nil {
			return err
		}
		ttl, err := EffectiveTTL(team, e.TTL)
		if err != nil {
			return err
		}
		out = old
		out.Owner, out.Production, out.Labels = e.Owner, e.Production, e.Labels
		if out.Labels == nil {
			out.Labels = map[string]string{}
		}
		if ttl != old.TTL {
			out.TTL = ttl
			out.ExpiresAt = time.Time{}
			if ttl > 0 {
				out.ExpiresAt = now.Add(ttl)
			}
		}
		out.UpdatedAt = now
		if _, err := s.exec(ctx, tx, `UPDATE environments SET owner = ?, production = ?, ttl_ns = ?, labels = ?, updated_at = ?, expires_at = ? WHERE id = ?`,
			out.Owner, out.Production, int64(out.TTL), marshalJSON(out.Labels), s.d.timeArg(now), s.nullTime(out.ExpiresAt), out.ID); err != nil {
			return fmt.Errorf("updating environment %q: %w", e.Name, err)
		}
		return s.audit(ctx, tx, now, actor, "update", "environment", e.Name, environmentView(old), environmentView(out))
	})
	if err != nil {
		return Environment{}, err
	}
	return out, nil
}

func (s *sqlStore) DeleteEnvironment(ctx context.Context, actor, name string) error {
	now := s.Now()
	return s.inTx(ctx, func(tx *sql.Tx) error {
		old, err := s.getEnvironment(ctx, tx, name, true)
		if err != nil {
			return err
		}
		if _, err := s.exec(ctx, tx, `DELETE FROM leases WHERE environment = ?`, name); err != nil {
			return fmt.Errorf("releasing the leases of environment %q: %w", name, err)
		}
		if _, err := s.exec(ctx, tx, `DELETE FROM environments WHERE id = ?`, old.ID); err != nil {
			return fmt.Errorf("deleting environment %q: %w", name, err)
		}
		return s.audit(ctx, tx, now, actor, "delete", "environment", name, environmentView(old), nil)
	})
}

// ---- leases ----

type leaseJSON struct {
	ID         string `json:"id"`
	Holder     string `json:"holder"`
	Reason     string `json:"reason,omitempty"`
	AcquiredAt string `json:"acquired_at"`
	ExpiresAt  string `json:"expires_at"`
}

func leaseView(l Lease) leaseJSON {
	return leaseJSON{ID: l.ID, Holder: l.Holder, Reason: l.Reason,
		AcquiredAt: l.AcquiredAt.UTC().Format(time.RFC3339), ExpiresAt: l.ExpiresAt.UTC().Format(time.RFC3339)}
}

const leaseColumns = `id, environment, holder, reason, acquired_at, expires_at`

func scanLease(row interface{ Scan(...any) error }) (Lease, error) {
	var (
		l            Lease
		acq, expires dbTime
	)
	if err := row.Scan(&l.ID, &l.Environment, &l.Holder, &l.Reason, &acq, &expires); err != nil {
		return Lease{}, err
	}
	l.AcquiredAt, l.ExpiresAt = acq.t, expires.t
	return l, nil
}

func (s *sqlStore) getLease(ctx context.Context, q interface {
	QueryRowContext(context.Context, string, ...any) *sql.Row
}, id string) (Lease, error) {
	l, err := scanLease(q.QueryRowContext(ctx, s.d.rebind(`SELECT `+leaseColumns+` FROM leases WHERE id = ? AND released_at IS NULL`), id))
	if errors.Is(err, sql.ErrNoRows) {
		return Lease{}, &NotFoundError{Kind: "lease", Name: id, Hint: "it was released or never taken"}
	}
	if err != nil {
		return Lease{}, fmt.Errorf("reading lease %q: %w", id, err)
	}
	return l, nil
}

func (s *sqlStore) GetLease(ctx context.Context, id string) (Lease, error) {
	return s.getLease(ctx, s.db, id)
}

func (s *sqlStore) AcquireLease(ctx context.Context, actor string, l Lease, d time.Duration) (Lease, error) {
	if d <= 0 {
		return Lease{}, fmt.Errorf("%w: lease duration must be positive", ErrInvalid)
	}
	if l.Holder == "" {
		l.Holder = actor
	}
	now := s.Now()
	err := s.inTx(ctx, func(tx *sql.Tx) error {
		// Locking the environment row serialises lease takers.
		if _, err := s.getEnvironment(ctx, tx, l.Environment, true); err != nil {
			return err
		}
		active, err := s.activeLease(ctx, tx, l.Environment, "", now)
		if err != nil {
			return err
		}
		if active != nil {
			return &LeaseConflictError{Environment: l.Environment, Holder: active.Holder, Reason: active.Reason, Until: active.ExpiresAt}
		}
		l.ID = newID("lease-")
		l.AcquiredAt, l.ExpiresAt = now, now.Add(d)
		if _, err := s.exec(ctx, tx, `INSERT INTO leases (`+leaseColumns+`) VALUES (?, ?, ?, ?, ?, ?)`,
			l.ID, l.Environment, l.Holder, l.Reason, s.d.timeArg(l.AcquiredAt), s.d.timeArg(l.ExpiresAt)); err != nil {
			return fmt.Errorf("taking a lease on environment %q: %w", l.Environment, err)
		}
		return s.audit(ctx, tx, now, actor, "acquire", "lease", l.Environment, nil, leaseView(l))
	})
	if err != nil {
		return Lease{}, err
	}
	return l, nil
}

// activeLease returns the lease other than except that blocks environment at
// now, if any; except may be empty.
func (s *sqlStore) activeLease(ctx context.Context, tx *sql.Tx, environment, except string, now time.Time) (*Lease, error) {
	rows, err := tx.QueryContext(ctx, s.d.rebind(`SELECT `+leaseColumns+` FROM leases WHERE environment = ? AND released_at IS NULL ORDER BY expires_at DESC`), environment)
	if err != nil {
		return nil, fmt.Errorf("reading the leases of environment %q: %w", environment, err)
	}
	defer rows.Close()
	for rows.Next() {
		l, err := scanLease(rows)
		if err != nil {
			return nil, err
		}
		if l.ID != except && l.Active(now) {
			return &l, rows.Err()
		}
	}
	return nil, rows.Err()
}

// RenewLease locks the environment as AcquireLease does, so a renewal and a
// new taker are serialised. It refuses, in this order, while another lease
// on the environment is active (a *LeaseConflictError, as a new lease would
// get) and when the lease itself has expired (a *LeaseExpiredError): an
// expired lease is never revived, since someone else may have held the
// environment in between.
func (s *sqlStore) RenewLease(ctx context.Context, actor, id, reason string, d time.Duration) (Lease, error) {
	now := s.Now()
	var out Lease
	err := s.inTx(ctx, func(tx *sql.Tx) error {
		old, err := s.getLease(ctx, tx, id)
		if err != nil {
			return err
		}
		if _, err := s.getEnvironment(ctx, tx, old.Environment, true); err != nil {
			return err
		}
		// Read again under the lock: a concurrent release or renewal has
		// committed by now.
		if old, err = s.getLease(ctx, tx, id); err != nil {
			return err
		}
		other, err := s.activeLease(ctx, tx, old.Environment, id, now)
		if err != nil {
			return err
		}
		if other != nil {
			return &LeaseConflictError{Environment: other.Environment, Holder: other.Holder, Reason: other.Reason, Until: other.ExpiresAt}
		}
		if !old.Active(now) {
			return &LeaseExpiredError{ID: old.ID, Environment: old.Environment, Holder: old.Holder, ExpiredAt: old.ExpiresAt}
		}
		out = old
		out.Reason = reason
		if d > 0 {
			out.ExpiresAt = now.Add(d)
		}
		if _, err := s.exec(ctx, tx, `UPDATE leases SET reason = ?, expires_at = ? WHERE id = ?`, out.Reason, s.d.timeArg(out.ExpiresAt), id); err != nil {
			return fmt.Errorf("renewing lease %q: %w", id, err)
		}
		return s.audit(ctx, tx, now, actor, "renew", "lease", out.Environment, leaseView(old), leaseView(out))
	})
	if err != nil {
		return Lease{}, err
	}
	return out, nil
}

func (s *sqlStore) ReleaseLease(ctx context.Context, actor, id string) error {
	now := s.Now()
	return s.inTx(ctx, func(tx *sql.Tx) error {
		old, err := s.getLease(ctx, tx, id)
		if err != nil {
			return err
		}
		if _, err := s.exec(ctx, tx, `UPDATE leases SET released_at = ? WHERE id = ?`, s.d.timeArg(now), id); err != nil {
			return fmt.Errorf("releasing lease %q: %w", id, err)
		}
		return s.audit(ctx, tx, now, actor, "release", "lease", old.Environment, leaseView(old), nil)
	})
}

// ---- events ----

func (s *sqlStore) RecordEvent(ctx context.Context, actor string, e Event) (Event, error) {
	if e.Action == "" || e.ObjectType == "" || e.Object == "" {
		return Event{}, fmt.Errorf("%w: an event needs an action, an object type and an object", ErrInvalid)
	}
	e.Actor, e.Time = actor, s.Now()
	err := s.inTx(ctx, func(tx *sql.Tx) error {
		_, err := s.exec(ctx, tx, `INSERT INTO events (at, actor, action, object_type, object, before_json, after_json) VALUES (?, ?, ?, ?, ?, ?, ?)`,
			s.d.timeArg(e.Time), e.Actor, e.Action, e.ObjectType, e.Object, e.Before, e.After)
		if err != nil {
			return fmt.Errorf("recording the audit event: %w", err)
		}
		return nil
	})
	if err != nil {
		return Event{}, err
	}
	return e, nil
}

func (s *sqlStore) Events(ctx context.Context, f EventFilter) ([]Event, error) {
	var (
		conds []string
		args  []any
	)
	if f.ObjectType != "" {
		conds = append(conds, "object_type = ?")
		args = append(args, f.ObjectType)
	}
	if f.Object != "" {
		conds = append(conds, "object = ?")
		args = append(args, f.Object)
	}
	if f.Actor != "" {
		conds = append(conds, "actor = ?")
		args = append(args, f.Actor)
	}
	q := `SELECT id, at, actor, action, object_type, object, before_json, after_json FROM events`
	if len(conds) > 0 {
		q += " WHERE " + strings.Join(conds, " AND ")
	}
	limit := f.Limit
	if limit <= 0 {
		limit = DefaultEventLimit
	}
	q += " ORDER BY id DESC LIMIT ?"
	args = append(args, limit)
	rows, err := s.db.QueryContext(ctx, s.d.rebind(q), args...)
	if err != nil {
		return nil, fmt.Errorf("reading audit events: %w", err)
	}
	defer rows.Close()
	var out []Event
	for rows.Next() {
		var (
			ev Event
			at dbTime
		)
		if err := rows.Scan(&ev.ID, &at, &ev.Actor, &ev.Action, &ev.ObjectType, &ev.Object, &ev.Before, &ev.After); err != nil {
			return nil, err
		}
		ev.Time = at.t
		out = append(out, ev)
	}
	return out, rows.Err()
}
