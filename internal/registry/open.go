package registry

import (
	"context"
	"database/sql"
	"embed"
	"errors"
	"fmt"
	"io/fs"
	"net/url"
	"os"
	"path/filepath"
	"runtime"
	"sort"
	"strconv"
	"strings"
	"time"

	"github.com/jackc/pgx/v5"
	"github.com/jackc/pgx/v5/pgconn"
	"github.com/jackc/pgx/v5/stdlib"
	"modernc.org/sqlite"
	sqlite3 "modernc.org/sqlite/lib"

	"github.com/stagingkit/terraform-provider-staging/internal/dsn"
)

//go:embed migrations
var migrationFS embed.FS

// Options configure Open.
type Options struct {
	// Clock defaults to time.Now.
	Clock Clock
	// WrittenBy names the software writing the registry (for example
	// "terraform-provider-staging 0.1.0"); it is recorded with migrations so
	// that an older provider can say what wrote a registry it cannot read.
	WrittenBy string
	// ConnectTimeout bounds connecting to a PostgreSQL registry; default 10s.
	ConnectTimeout time.Duration
}

// PostgresSchema is the schema that holds a PostgreSQL registry's tables, so
// that the registry can share a database with other things.
const PostgresSchema = "staging_registry"

// IsPostgresDSN reports whether location names a PostgreSQL registry: a
// postgres:// URL or a keyword/value string ("host=… dbname=…"), which
// must never be taken for a file name.
func IsPostgresDSN(location string) bool {
	return dsn.IsPostgres(location) || dsn.IsKeywordValue(location)
}

// DefaultPath is where the embedded registry lives when none is configured:
// registry.db under the user's data directory ($XDG_DATA_HOME or
// ~/.local/share on Linux, ~/Library/Application Support on macOS,
// %LocalAppData% on Windows), in a terraform-provider-staging folder.
func DefaultPath() (string, error) {
	var base string
	switch runtime.GOOS {
	case "windows":
		base = os.Getenv("LocalAppData")
	case "darwin":
		if home, err := os.UserHomeDir(); err == nil {
			base = filepath.Join(home, "Library", "Application Support")
		}
	default:
		base = os.Getenv("XDG_DATA_HOME")
		if base == "" {
			if home, err := os.UserHomeDir(); err == nil {
				base = filepath.Join(home, ".local", "share")
			}
		}
	}
	if base == "" {
		return "", errors.New("cannot find the user's data directory (HOME is not set); set the registry explicitly")
	}
	return filepath.Join(base, "terraform-provider-staging", "registry.db"), nil
}

// Redact returns location with any password removed, safe for messages and
// logs.
func Redact(location string) string { return dsn.Describe(location) }

// Open opens (and creates or migrates, if needed) the registry at location:
// a postgres:// DSN, or a path to the embedded SQLite file ("" means
// DefaultPath). A registry written by a newer provider is refused with a
// *SchemaTooNewError and left unchanged.
func Open(ctx context.Context, location string, opts Options) (Store, error) {
	if opts.Clock == nil {
		opts.Clock = time.Now
	}
	if opts.ConnectTimeout == 0 {
		opts.ConnectTimeout = 10 * time.Second
	}
	var (
		db  *sql.DB
		d   dialect
		err error
	)
	if IsPostgresDSN(location) {
		db, err = openPostgres(location, opts)
		d = postgresDialect{}
	} else {
		db, err = openSQLite(location)
		d = sqliteDialect{}
	}
	if err != nil {
		return nil, err
	}
	pingCtx, cancel := context.WithTimeout(ctx, opts.ConnectTimeout)
	defer cancel()
	if err := db.PingContext(pingCtx); err != nil {
		_ = db.Close()
		return nil, fmt.Errorf("connecting to the registry at %s: %w", Redact(location), sanitize(err, location))
	}
	s := &sqlStore{db: db, d: d, clock: opts.Clock}
	if err := s.migrate(ctx, opts.WrittenBy); err != nil {
		_ = db.Close()
		return nil, err
	}
	return s, nil
}

// sanitize makes sure no password from location survives in err's text.
func sanitize(err error, location string) error { return dsn.Scrub(err, location) }

func openPostgres(dsn string, opts Options) (*sql.DB, error) {
	cfg, err := pgx.ParseConfig(dsn)
	if err != nil {
		return nil, fmt.Errorf("%w: the registry DSN %s cannot be parsed: %w", ErrInvalid, Redact(dsn), sanitize(err, dsn))
	}
	cfg.ConnectTimeout = opts.ConnectTimeout
	cfg.RuntimeParams["search_path"] = PostgresSchema
	cfg.RuntimeParams["application_name"] = "terraform-provider-staging"
	db := stdlib.OpenDB(*cfg)
	db.SetMaxOpenConns(8)
	db.SetConnMaxIdleTime(time.Minute)
	return db, nil
}

func openSQLite(path string) (*sql.DB, error) {
	path = strings.TrimPrefix(path, "sqlite://")
	if path == "" {
		var err error
		if path, err = DefaultPath(); err != nil {
			return nil, err
		}
	}
	if dir := filepath.Dir(path); dir != "" {
		if err := os.MkdirAll(dir, 0o700); err != nil {
			return nil, fmt.Errorf("creating the registry directory %s: %w", dir, err)
		}
	}
	// Immediate transactions take the write lock when they begin, so that
	// read-check-write sequences (quotas, leases) are serialised across
	// processes; busy_timeout makes the loser wait instead of failing.
	v := url.Values{}
	v.Set("_txlock", "immediate")
	v.Add("_pragma", "busy_timeout(15000)")
	v.Add("_pragma", "journal_mode(WAL)")
	v.Add("_pragma", "foreign_keys(1)")
	v.Add("_pragma", "synchronous(NORMAL)")
	db, err := sql.Open("sqlite", "file:"+path+"?"+v.Encode())
	if err != nil {
		return nil, fmt.Errorf("opening the registry file %s: %w", path, err)
	}
	return db, nil
}

// dialect holds what differs between the SQL back ends.
type dialect interface {
	name() string
	// rebind turns ? placeholders into the back end's form.
	rebind(q string) string
	// forUpdate is appended to a SELECT that must lock the rows it reads.
	forUpdate() string
	timeArg(t time.Time) any
	// lockMigrations runs inside the migration transaction before anything
	// else so that concurrent first opens do not race.
	lockMigrations(ctx context.Context, tx *sql.Tx) error
	isUniqueViolation(err error) bool
	isForeignKeyViolation(err error) bool
}

type sqliteDialect struct{}

func (sqliteDialect) name() string           { return "sqlite" }
func (sqliteDialect) rebind(q string) string { return q }
func (sqliteDialect) forUpdate() string      { return "" }
func (sqliteDialect) timeArg(t time.Time) any {
	return t.UTC().Format(sqliteTimeLayout)
}
func (sqliteDialect) lockMigrations(context.Context, *sql.Tx) error { return nil }
func (sqliteDialect) isUniqueViolation(err error) bool {
	var se *sqlite.Error
	return errors.As(err, &se) && (se.Code() == sqlite3.SQLITE_CONSTRAINT_UNIQUE || se.Code() == sqlite3.SQLITE_CONSTRAINT_PRIMARYKEY)
}
func (sqliteDialect) isForeignKeyViolation(err error) bool {
	var se *sqlite.Error
	return errors.As(err, &se) && se.Code() == sqlite3.SQLITE_CONSTRAINT_FOREIGNKEY
}

// sqliteTimeLayout is fixed-width so that stored times sort as text.
const sqliteTimeLayout = "2006-01-02T15:04:05.000000000Z"

type postgresDialect struct{}

func (postgresDialect) name() string { return "postgres" }
func (postgresDialect) rebind(q string) string {
	var b strings.Builder
	n := 0
	for _, r := range q {
		if r == '?' {
			n++
			b.WriteString("$" + strconv.Itoa(n))
			continue
		}
		b.WriteRune(r)
	}
	return b.String()
}
func (postgresDialect) forUpdate() string       { return " FOR UPDATE" }
func (postgresDialect) timeArg(t time.Time) any { return t.UTC() }
func (postgresDialect) lockMigrations(ctx context.Context, tx *sql.Tx) error {
	// Any constant works; it only has to be the same in every provider.
	if _, err := tx.ExecContext(ctx, `SELECT pg_advisory_xact_lock(7230120523)`); err != nil {
		return err
	}
	_, err := tx.ExecContext(ctx, `CREATE SCHEMA IF NOT EXISTS `+PostgresSchema)
	return err
}
func (postgresDialect) isUniqueViolation(err error) bool {
	var pe *pgconn.PgError
	return errors.As(err, &pe) && pe.Code == "23505"
}
func (postgresDialect) isForeignKeyViolation(err error) bool {
	var pe *pgconn.PgError
	return errors.As(err, &pe) && pe.Code == "23503"
}

// migration is one embedded, numbered schema change.
type migration struct {
	version int
	name    string
	sql     string
}

func loadMigrations(d dialect) ([]migration, error) {
	dir := "migrations/" + d.name()
	entries, err := fs.ReadDir(migrationFS, dir)
	if err != nil {
		return nil, err
	}
	var ms []migration
	for _, e := range entries {
		num, _, ok := strings.Cut(e.Name(), "_")
		v, err := strconv.Atoi(num)
		if !ok || err != nil {
			return nil, fmt.Errorf("migration file %s is not named NNNN_name.sql", e.Name())
		}
		b, err := fs.ReadFile(migrationFS, dir+"/"+e.Name())
		if err != nil {
			return nil, err
		}
		ms = append(ms, migration{version: v, name: e.Name(), sql: string(b)})
	}
	sort.Slice(ms, func(i, j int) bool { return ms[i].version < ms[j].version })
	for i, m := range ms {
		if m.version != i+1 {
			return nil, fmt.Errorf("migrations of %s are not numbered 1..n: found %s at position %d", d.name(), m.name, i+1)
		}
	}
	return ms, nil
}

// SchemaVersion is the newest registry schema this package writes.
func SchemaVersion() int {
	ms, err := loadMigrations(sqliteDialect{})
	if err != nil {
		panic(err) // the embedded files are part of the build
	}
	return len(ms)
}

// migrate brings the schema up to date in one transaction, or refuses a
// schema newer than this code knows without changing anything.
func (s *sqlStore) migrate(ctx context.Context, writtenBy string) error {
	ms, err := loadMigrations(s.d)
	if err != nil {
		return err
	}
	tx, err := s.db.BeginTx(ctx, nil)
	if err != nil {
		return fmt.Errorf("starting the registry migration: %w", err)
	}
	defer func() { _ = tx.Rollback() }()
	if err := s.d.lockMigrations(ctx, tx); err != nil {
		return fmt.Errorf("locking the registry for migration: %w", err)
	}
	if _, err := tx.ExecContext(ctx, `CREATE TABLE IF NOT EXISTS schema_migrations (
		version    INTEGER PRIMARY KEY,
		written_by TEXT NOT NULL,
		applied_at TEXT NOT NULL)`); err != nil {
		return fmt.Errorf("creating the registry's schema_migrations table: %w", err)
	}
	var (
		current int
		by      sql.NullString
	)
	row := tx.QueryRowContext(ctx, `SELECT version, written_by FROM schema_migrations ORDER BY version DESC LIMIT 1`)
	if err := row.Scan(&current, &by); err != nil && !errors.Is(err, sql.ErrNoRows) {
		return fmt.Errorf("reading the registry's schema version: %w", err)
	}
	if current > len(ms) {
		return &SchemaTooNewError{Found: current, Supported: len(ms), WrittenBy: by.String}
	}
	if current == len(ms) {
		return nil
	}
	for _, m := range ms[current:] {
		if _, err := tx.ExecContext(ctx, m.sql); err != nil {
			return fmt.Errorf("applying registry migration %s: %w", m.name, err)
		}
		if _, err := tx.ExecContext(ctx, s.d.rebind(`INSERT INTO schema_migrations (version, written_by, applied_at) VALUES (?, ?, ?)`),
			m.version, writtenBy, s.clock().UTC().Format(time.RFC3339)); err != nil {
			return fmt.Errorf("recording registry migration %s: %w", m.name, err)
		}
	}
	if err := tx.Commit(); err != nil {
		return fmt.Errorf("committing the registry migration: %w", err)
	}
	return nil
}
