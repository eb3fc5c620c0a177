package registry

import (
	"context"
	"errors"
	"fmt"
	"strings"
	"time"
)

// Clock returns the current time. Stores take one so that expiry and lease
// logic can be tested without sleeping.
type Clock func() time.Time

// Team is a group of people sharing a quota of staging environments.
type Team struct {
	Name string
	// MaxEnvironments is the most environments the team may register at once;
	// 0 means no limit.
	MaxEnvironments int
	// DefaultTTL is given to environments that declare no TTL; 0 means none.
	DefaultTTL time.Duration
	// MaxTTL bounds every environment's TTL; 0 means no bound.
	MaxTTL    time.Duration
	Owners    []string
	CreatedAt time.Time
	UpdatedAt time.Time
}

// Environment is one registered staging environment.
type Environment struct {
	// ID is assigned by the store at creation and never changes; a new
	// environment with the same name gets a new ID.
	ID         string
	Name       string
	Team       string
	Owner      string
	Production string
	// TTL is the requested lifetime; 0 means the environment never expires.
	TTL       time.Duration
	Labels    map[string]string
	Namespace string
	CreatedAt time.Time
	UpdatedAt time.Time
	// ExpiresAt is zero when the environment never expires.
	ExpiresAt time.Time
}

// Expired reports whether the environment's expiry has passed at now.
func (e Environment) Expired(now time.Time) bool {
	return !e.ExpiresAt.IsZero() && !now.Before(e.ExpiresAt)
}

// Lease is an exclusive claim on an environment until ExpiresAt.
type Lease struct {
	ID          string
	Environment string
	Holder      string
	Reason      string
	AcquiredAt  time.Time
	ExpiresAt   time.Time
}

// Active reports whether the lease still blocks others at now.
func (l Lease) Active(now time.Time) bool { return now.Before(l.ExpiresAt) }

// Event is one audit record: who changed what, when, from what to what.
type Event struct {
	ID         int64
	Time       time.Time
	Actor      string
	Action     string // create, update, delete, acquire, release, ...
	ObjectType string // team, environment, lease
	Object     string // the object's name (leases: the environment's name)
	Before     string // JSON of the object before the change; empty on create
	After      string // JSON of the object after the change; empty on delete
}

// EnvironmentFilter selects environments; zero fields match everything.
type EnvironmentFilter struct {
	Team       string
	Production string
	// Labels must all be present with equal values.
	Labels map[string]string
	// ExpiredOnly keeps only environments whose expiry has passed.
	ExpiredOnly bool
}

// Matches reports whether e passes the filter at now.
func (f EnvironmentFilter) Matches(e Environment, now time.Time) bool {
	if f.Team != "" && e.Team != f.Team {
		return false
	}
	if f.Production != "" && e.Production != f.Production {
		return false
	}
	for k, v := range f.Labels {
		if got, ok := e.Labels[k]; !ok || got != v {
			return false
		}
	}
	return !f.ExpiredOnly || e.Expired(now)
}

// EventFilter selects audit events, newest first; zero fields match everything.
type EventFilter struct {
	ObjectType string
	Object     string
	Actor      string
	// Limit caps the number of events returned; 0 means DefaultEventLimit.
	Limit int
}

// DefaultEventLimit is how many events Events returns when no limit is set.
const DefaultEventLimit = 100

// Store is the registry. Every method that changes something takes the acting
// identity and records an audit event in the same transaction.
type Store interface {
	CreateTeam(ctx context.Context, actor string, t Team) (Team, error)
	GetTeam(ctx context.Context, name string) (Team, error)
	UpdateTeam(ctx context.Context, actor string, t Team) (Team, error)
	// DeleteTeam fails with ErrConflict while the team has environments.
	DeleteTeam(ctx context.Context, actor, name string) error

	// CreateEnvironment checks the team exists, the TTL against the team's
	// bounds and the team's quota, computes the namespace and expiry, and
	// inserts, all in one transaction.
	CreateEnvironment(ctx context.Context, actor string, e Environment) (Environment, error)
	GetEnvironment(ctx context.Context, name string) (Environment, error)
	// UpdateEnvironment changes owner, production, labels and TTL. A changed
	// TTL re-bases the expiry on the current time; that is how an environment
	// is extended.
	UpdateEnvironment(ctx context.Context, actor string, e Environment) (Environment, error)
	// DeleteEnvironment removes the environment and releases its leases.
	DeleteEnvironment(ctx context.Context, actor, name string) error
	ListEnvironments(ctx context.Context, f EnvironmentFilter) ([]Environment, error)

	// AcquireLease fails with a *LeaseConflictError while another lease on
	// the environment is active. Expired leases never block.
	AcquireLease(ctx context.Context, actor string, l Lease, d time.Duration) (Lease, error)
	GetLease(ctx context.Context, id string) (Lease, error)
	// RenewLease changes the reason and, when d > 0, re-bases the expiry on
	// the current time. Like AcquireLease it serialises on the environment;
	// it fails with a *LeaseConflictError while another lease on the
	// environment is active, and with a *LeaseExpiredError when the lease has
	// expired: an expired lease is never revived, its holder takes a new one.
	RenewLease(ctx context.Context, actor string, id, reason string, d time.Duration) (Lease, error)
	ReleaseLease(ctx context.Context, actor, id string) error

	Events(ctx context.Context, f EventFilter) ([]Event, error)
	// RecordEvent appends an event about an object the registry does not
	// manage itself, such as a parity check or a data clone of an
	// environment. Time and ID are set by the store; Before and After
	// should be JSON.
	RecordEvent(ctx context.Context, actor string, e Event) (Event, error)

	Close() error
}

// ErrNotFound is returned (wrapped) when the named object does not exist.
var ErrNotFound = errors.New("not found")

// NotFoundError says which object is missing and what to do about it; it
// matches ErrNotFound with errors.Is.
type NotFoundError struct {
	Kind, Name string
	Hint       string // what to do, appended after a semicolon; may be empty
}

func (e *NotFoundError) Error() string {
	msg := fmt.Sprintf("%s %q is not in the registry", e.Kind, e.Name)
	if e.Hint != "" {
		msg += "; " + e.Hint
	}
	return msg
}

// Is makes errors.Is(err, ErrNotFound) true.
func (e *NotFoundError) Is(target error) bool { return target == ErrNotFound }

// ErrAlreadyExists is returned (wrapped) when a name is already taken.
var ErrAlreadyExists = errors.New("already exists")

// ErrConflict is returned (wrapped) when a change would break an invariant
// other than a name clash, such as deleting a team that has environments.
var ErrConflict = errors.New("conflict")

// ErrInvalid is returned (wrapped) for values the registry refuses.
var ErrInvalid = errors.New("invalid")

// QuotaExceededError is returned when a team already has as many
// environments as its quota allows.
type QuotaExceededError struct {
	Team  string
	Limit int
	// Existing are the team's registered environments, oldest first.
	Existing []Environment
	Now      time.Time
}

func (e *QuotaExceededError) Error() string {
	var b strings.Builder
	fmt.Fprintf(&b, "team %q already has %d of its %d environments:", e.Team, len(e.Existing), e.Limit)
	for _, env := range e.Existing {
		fmt.Fprintf(&b, "\n  - %s (owner %s, ", env.Name, env.Owner)
		switch {
		case env.ExpiresAt.IsZero():
			b.WriteString("never expires)")
		case env.Expired(e.Now):
			fmt.Fprintf(&b, "expired %s: destroy it to free quota)", env.ExpiresAt.UTC().Format(time.RFC3339))
		default:
			fmt.Fprintf(&b, "expires %s)", env.ExpiresAt.UTC().Format(time.RFC3339))
		}
	}
	return b.String()
}

// LeaseConflictError is returned when another active lease holds the
// environment.
type LeaseConflictError struct {
	Environment string
	Holder      string
	Reason      string
	Until       time.Time
}

func (e *LeaseConflictError) Error() string {
	reason := e.Reason
	if reason == "" {
		reason = "no reason given"
	}
	return fmt.Sprintf("environment %q is leased by %s until %s (reason: %s)",
		e.Environment, e.Holder, e.Until.UTC().Format(time.RFC3339), reason)
}

// LeaseExpiredError is returned when renewing a lease that has expired. An
// expired lease no longer protects the environment, and someone else may
// have held it since, so it is never revived: its holder takes a new one.
type LeaseExpiredError struct {
	ID          string
	Environment string
	Holder      string
	ExpiredAt   time.Time
}

func (e *LeaseExpiredError) Error() string {
	return fmt.Sprintf("the lease of %s on environment %q expired at %s and cannot be renewed; take a new lease",
		e.Holder, e.Environment, e.ExpiredAt.UTC().Format(time.RFC3339))
}

// TTLError is returned when an environment's TTL breaks its team's bounds.
type TTLError struct {
	Team   string
	TTL    time.Duration
	MaxTTL time.Duration
}

func (e *TTLError) Error() string {
	if e.TTL == 0 {
		return fmt.Sprintf("team %q requires every environment to expire within %s, but no ttl is set", e.Team, FormatDuration(e.MaxTTL))
	}
	return fmt.Sprintf("ttl %s is longer than team %q allows (max_ttl %s)", FormatDuration(e.TTL), e.Team, FormatDuration(e.MaxTTL))
}

// SchemaTooNewError is returned when the registry was written by a newer
// provider whose schema this one does not know. The registry is not touched.
type SchemaTooNewError struct {
	Found, Supported int
	WrittenBy        string
}

func (e *SchemaTooNewError) Error() string {
	by := ""
	if e.WrittenBy != "" {
		by = " by " + e.WrittenBy
	}
	return fmt.Sprintf("the registry has schema version %d, written%s, but this provider only knows versions up to %d; upgrade the provider (the registry was left unchanged)",
		e.Found, by, e.Supported)
}
