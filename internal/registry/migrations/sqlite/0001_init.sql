-- Teams, environments, leases and the audit log.
-- Times are UTC text in a fixed-width RFC 3339 form; durations are nanoseconds.
CREATE TABLE teams (
    name             TEXT PRIMARY KEY,
    max_environments INTEGER NOT NULL DEFAULT 0,
    default_ttl_ns   INTEGER NOT NULL DEFAULT 0,
    max_ttl_ns       INTEGER NOT NULL DEFAULT 0,
    owners           TEXT NOT NULL DEFAULT '[]',
    created_at       TEXT NOT NULL,
    updated_at       TEXT NOT NULL
);

CREATE TABLE environments (
    id         TEXT PRIMARY KEY,
    name       TEXT NOT NULL UNIQUE,
    team       TEXT NOT NULL REFERENCES teams (name),
    owner      TEXT NOT NULL,
    production TEXT NOT NULL DEFAULT '',
    ttl_ns     INTEGER NOT NULL DEFAULT 0,
    labels     TEXT NOT NULL DEFAULT '{}',
    namespace  TEXT NOT NULL UNIQUE,
    created_at TEXT NOT NULL,
    updated_at TEXT NOT NULL,
    expires_at TEXT
);
CREATE INDEX environments_team ON environments (team);

CREATE TABLE leases (
    id          TEXT PRIMARY KEY,
    environment TEXT NOT NULL REFERENCES environments (name) ON DELETE CASCADE,
    holder      TEXT NOT NULL,
    reason      TEXT NOT NULL DEFAULT '',
    acquired_at TEXT NOT NULL,
    expires_at  TEXT NOT NULL,
    released_at TEXT
);
CREATE INDEX leases_environment ON leases (environment) WHERE released_at IS NULL;

CREATE TABLE events (
    id          INTEGER PRIMARY KEY AUTOINCREMENT,
    at          TEXT NOT NULL,
    actor       TEXT NOT NULL,
    action      TEXT NOT NULL,
    object_type TEXT NOT NULL,
    object      TEXT NOT NULL,
    before_json TEXT NOT NULL DEFAULT '',
    after_json  TEXT NOT NULL DEFAULT ''
);
CREATE INDEX events_object ON events (object_type, object);
