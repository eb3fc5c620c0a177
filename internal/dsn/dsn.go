// Package dsn keeps database connection strings out of messages and logs:
// it redacts the password of a postgres:// URL and scrubs it from error
// text that might quote it.
package dsn

import (
	"errors"
	"net/url"
	"strings"
)

// IsPostgres reports whether s is a postgres:// or postgresql:// URL.
func IsPostgres(s string) bool {
	return strings.HasPrefix(s, "postgres://") || strings.HasPrefix(s, "postgresql://")
}

// Redact returns s with any password replaced by REDACTED, safe for
// messages and logs. Strings that are not PostgreSQL URLs (file paths, for
// instance) are returned unchanged; key=value DSNs lose their password too.
func Redact(s string) string {
	if !IsPostgres(s) {
		if strings.Contains(s, "password=") {
			return redactKeyValue(s)
		}
		return s
	}
	u, err := url.Parse(s)
	if err != nil {
		return "postgres://(unparseable DSN)"
	}
	if u.User != nil {
		if _, ok := u.User.Password(); ok {
			u.User = url.UserPassword(u.User.Username(), "REDACTED")
		}
	}
	q := u.Query()
	if q.Has("password") {
		q.Set("password", "REDACTED")
		u.RawQuery = q.Encode()
	}
	return u.String()
}

func redactKeyValue(s string) string {
	fields := strings.Fields(s)
	for i, f := range fields {
		if strings.HasPrefix(f, "password=") {
			fields[i] = "password=REDACTED"
		}
	}
	return strings.Join(fields, " ")
}

// Password returns the password s carries, if any.
func Password(s string) string {
	if IsPostgres(s) {
		u, err := url.Parse(s)
		if err != nil {
			return ""
		}
		if pw, ok := u.User.Password(); ok {
			return pw
		}
		return u.Query().Get("password")
	}
	for _, f := range strings.Fields(s) {
		if v, ok := strings.CutPrefix(f, "password="); ok {
			return v
		}
	}
	return ""
}

// Scrub returns err with every occurrence of the password of s replaced by
// REDACTED. It returns err itself when there is nothing to scrub, so that
// errors.Is and errors.As keep working in the common case.
func Scrub(err error, s string) error {
	if err == nil {
		return nil
	}
	pw := Password(s)
	if pw == "" || !strings.Contains(err.Error(), pw) {
		return err
	}
	return errors.New(strings.ReplaceAll(err.Error(), pw, "REDACTED"))
}
