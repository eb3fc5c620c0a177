package dsn

import (
	"errors"
	"fmt"
	"net/url"
	"regexp"
	"strings"
	"testing"

	"github.com/jackc/pgx/v5/pgconn"
)

// adversarial are DSNs whose password is easy to get partly wrong, with
// that password: quoted, escaped, spaced, URL-encoded, repeated.
var adversarial = []struct {
	name, dsn, password string
}{
	{"url", "postgres://u:s3cret@h:5432/db", "s3cret"},
	{"url encoded", "postgresql://u:open%40sesame%20now%3Aok@h/db?sslmode=disable", "open@sesame now:ok"},
	{"url query", "postgres://u@h/db?sslmode=disable&password=hunter2", "hunter2"},
	{"url query encoded", "postgres://u@h/db?password=correct%20horse%20battery", "correct horse battery"},
	{"url query beats userinfo", "postgres://u:first@h/db?password=second", "second"},
	{"keyword/value", "host=h user=u password=pw123 dbname=db", "pw123"},
	{"quoted", "host=db password='correct horse battery' dbname=x", "correct horse battery"},
	{"quoted first", "password='correct horse battery' host=db", "correct horse battery"},
	{"escaped quote", `host=db password='it\'s a \\secret' dbname=x`, `it's a \secret`},
	{"escaped unquoted", `host=db password=no\ space dbname=x`, `no space`},
	{"spaces around =", "host=db password = hunter2 dbname=x", "hunter2"},
	{"tab and newline", "host=db\tpassword\t=\n'tab bed'\ndbname=x", "tab bed"},
	{"last wins", "password=old host=db password='new one'", "new one"},
	{"only a password", "password=lonely", "lonely"},
}

func TestPassword(t *testing.T) {
	for _, c := range adversarial {
		if got := Password(c.dsn); got != c.password {
			t.Errorf("%s: Password(%q) = %q, want %q", c.name, c.dsn, got, c.password)
		}
	}
	for _, s := range []string{"/var/lib/registry.db", "postgres://u@h/db", "host=h dbname=db", "", "sslpassword=x host=h"} {
		if got := Password(s); got != "" {
			t.Errorf("Password(%q) = %q, want none", s, got)
		}
	}
}

// words are the pieces of a password a message must not show either, those
// long enough not to occur in any message by chance.
func words(pw string) []string {
	var out []string
	for _, w := range strings.FieldsFunc(pw, func(r rune) bool { return strings.ContainsRune(" '\\@:/", r) }) {
		if len(w) >= 3 {
			out = append(out, w)
		}
	}
	return out
}

func TestScrub(t *testing.T) {
	base := errors.New("dial: bad")
	if got := Scrub(base, "postgres://u:s3cret@h/db"); got != base { //nolint:errorlint // the very same error must come back
		t.Errorf("Scrub changed an error without the password: %v", got)
	}
	if Scrub(nil, "x") != nil {
		t.Error("Scrub(nil) != nil")
	}
	for _, c := range adversarial {
		// The password as the DSN spells it, decoded, and URL-encoded.
		msg := fmt.Sprintf("auth failed for %s (%s, %s) in %s", c.password, url.QueryEscape(c.password), url.PathEscape(c.password), c.dsn)
		got := Scrub(errors.New(msg), c.dsn).Error()
		for _, w := range words(c.password) {
			if strings.Contains(got, w) {
				t.Errorf("%s: Scrub left %q in %q", c.name, w, got)
			}
		}
		if !strings.HasPrefix(got, "auth failed for REDACTED") {
			t.Errorf("%s: Scrub = %q", c.name, got)
		}
	}
}

// TestScrub_parseErrors feeds malformed DSNs to pgconn, whose error quotes
// the connection string with its own best-effort redaction, and checks that
// no word of the password survives Scrub.
func TestScrub_parseErrors(t *testing.T) {
	cases := []struct{ dsn, password string }{
		{`host=db password='correct horse\' battery dbname=x`, `correct horse' battery dbname=x`},
		{`host=db password = correct horse battery dbname=x`, "correct horse battery"},
		{`host=db port=nope password='correct horse battery'`, "correct horse battery"},
		{`postgres://u:correct%20horse@h:nope/db`, "correct horse"},
		{`postgres://u:c0rrect@h/db?password=horse%zz`, "horse%zz"},
		{`postgres://u:correct/horse@h/db`, "correct/horse"},
	}
	for _, c := range cases {
		_, err := pgconn.ParseConfig(c.dsn)
		if err == nil {
			t.Fatalf("%q parsed", c.dsn)
		}
		got := Scrub(fmt.Errorf("the DSN of connection %q cannot be parsed: %w", "prod", err), c.dsn).Error()
		for _, w := range words(c.password) {
			if strings.Contains(got, w) {
				t.Errorf("Scrub(%q) left %q in %q", c.dsn, w, got)
			}
		}
		if !strings.Contains(got, `the DSN of connection "prod" cannot be parsed: cannot parse the DSN: `) {
			t.Errorf("Scrub(%q) = %q: lost the context", c.dsn, got)
		}
	}
}

func TestDescribe(t *testing.T) {
	for _, env := range []string{"PGHOST", "PGPORT", "PGUSER", "PGDATABASE", "PGPASSWORD", "PGSERVICE"} {
		t.Setenv(env, "")
	}
	t.Setenv("PGPASSFILE", "/nonexistent")
	cases := map[string]string{
		"postgres://u:pw@h:5433/db":                                 "h:5433/db as u",
		"postgresql://u@h/db?sslmode=disable":                       "h:5432/db as u",
		"postgres://u:pw@[::1]:6000/db":                             "[::1]:6000/db as u",
		"postgres://u:pw@h1:5432,h2:5433/db":                        "h1:5432,h2:5433/db as u",
		"postgres://u@h/db?password=pw":                             "h:5432/db as u",
		"host=db password='correct horse battery' user=u dbname=x":  "db:5432/x as u",
		"host=db port=6543 password = hunter2 user=app dbname=shop": "db:6543/shop as app",
		"/var/lib/registry.db":                                      "/var/lib/registry.db",
		"sqlite:///tmp/registry.db":                                 "sqlite:///tmp/registry.db",
		"host=db password='unterminated":                            Unparseable,
		"postgres://u:pw@h:nope/db":                                 Unparseable,
		"mysql://u:s3cret@h/db":                                     Unparseable,
		"host=h dbname=shop user=shop password=shop":                Withheld,
		"postgres://u:p@ss@h/db":                                    Withheld,
	}
	for in, want := range cases {
		if got := Describe(in); got != want {
			t.Errorf("Describe(%q) = %q, want %q", in, got, want)
		}
	}
	for _, c := range adversarial {
		if got := Describe(c.dsn); strings.Contains(got, c.password) || strings.Contains(got, "password") {
			t.Errorf("%s: Describe(%q) = %q", c.name, c.dsn, got)
		}
	}
}

// plainName is a host, user or database name any DSN form can hold as is.
var plainName = regexp.MustCompile(`^[a-zA-Z0-9._-]{1,40}$`)

// build spells a DSN with the given parts in one of several forms.
func build(form uint8, host, user, db, pw string) string {
	quote := func(s string) string {
		return "'" + strings.NewReplacer(`\`, `\\`, `'`, `\'`).Replace(s) + "'"
	}
	switch form % 4 {
	case 0:
		u := url.URL{Scheme: "postgres", User: url.UserPassword(user, pw), Host: host, Path: "/" + db}
		return u.String()
	case 1:
		u := url.URL{Scheme: "postgresql", User: url.User(user), Host: host, Path: "/" + db, RawQuery: "password=" + percentEncode(pw)}
		return u.String()
	case 2:
		return fmt.Sprintf("host=%s user=%s password=%s dbname=%s", quote(host), quote(user), quote(pw), quote(db))
	default:
		return fmt.Sprintf("password = %s host=%s dbname = %s user=%s", quote(pw), quote(host), quote(db), quote(user))
	}
}

// percentEncode escapes every byte but letters and digits, as libpq's URL
// parser reads them ('+' is no space).
func percentEncode(s string) string {
	var b strings.Builder
	for i := 0; i < len(s); i++ {
		if c := s[i]; 'a' <= c && c <= 'z' || 'A' <= c && c <= 'Z' || '0' <= c && c <= '9' {
			b.WriteByte(c)
		} else {
			fmt.Fprintf(&b, "%%%02X", c)
		}
	}
	return b.String()
}

// FuzzDescribe checks that a description never depends on the password,
// never contains it, and that Password and Scrub find it.
func FuzzDescribe(f *testing.F) {
	f.Add(uint8(0), "db.internal", "app", "shop", "s3cret")
	f.Add(uint8(2), "db", "u", "x", "correct horse battery")
	f.Add(uint8(3), "db", "u", "x", `it's \ hard`)
	f.Add(uint8(1), "h", "u", "d", "p@ss:w/rd?&=")
	f.Fuzz(func(t *testing.T, form uint8, host, user, db, pw string) {
		for _, s := range []string{host, user, db} {
			if !plainName.MatchString(s) {
				t.Skip()
			}
		}
		s := build(form, host, user, db, pw)
		if _, err := pgconn.ParseConfig(s); err != nil || pw == "" || len(s) > 512 {
			t.Skip()
		}
		if got := Password(s); got != pw {
			t.Fatalf("Password(%q) = %q, want %q", s, got, pw)
		}
		d := Describe(s)
		if ref := Describe(build(form, host, user, db, "reference-pw")); ref != Withheld && d != Withheld && d != ref {
			t.Fatalf("Describe(%q) = %q depends on the password (%q with another)", s, d, ref)
		}
		if len(pw) < minSecret {
			return
		}
		if strings.Contains(d, pw) {
			t.Fatalf("Describe(%q) = %q contains the password", s, d)
		}
		if strings.Contains("failed: REDACTED", pw) {
			return // the scrubbed text holds it anyway
		}
		got := Scrub(errors.New("failed: "+pw+" "+url.QueryEscape(pw)+" "+url.PathEscape(pw)), s).Error()
		for _, f := range []string{pw, url.QueryEscape(pw), url.PathEscape(pw)} {
			if strings.Contains(got, f) {
				t.Fatalf("Scrub left %q of %q in %q", f, pw, got)
			}
		}
	})
}

// FuzzDescribeAny checks arbitrary input: whatever Describe returns holds no
// password Password or Scrub would find, and an unparseable DSN is never
// echoed.
func FuzzDescribeAny(f *testing.F) {
	for _, c := range adversarial {
		f.Add(c.dsn)
	}
	f.Add("host=db password='unterminated horse")
	f.Add("postgres://u:p@ss@h/db")
	f.Fuzz(func(t *testing.T, s string) {
		d := Describe(s)
		if d == s && (len(secrets(s)) > 0 || IsPostgres(s) || strings.Contains(s, "@")) {
			t.Fatalf("Describe echoed %q", s)
		}
		for _, pw := range secrets(s) {
			if len(pw) >= minSecret && strings.Contains(d, pw) {
				t.Fatalf("Describe(%q) = %q contains %q", s, d, pw)
			}
		}
	})
}

func TestIsKeywordValue(t *testing.T) {
	for s, want := range map[string]bool{
		"host=127.0.0.1 port=5432 dbname=reg user=postgres password='correct horse battery'": true,
		"  dbname = reg host=db": true,
		"user=u":                 true,
		"/var/lib/registry.db":   false,
		"registry.db":            false,
		"/tmp/a=b.db":            false,
		"name=x.db":              false,
		"postgres://u:p@h/db":    false,
		"C:\\data\\host=1.db":    false,
		"host":                   false,
		"":                       false,
	} {
		if got := IsKeywordValue(s); got != want {
			t.Errorf("IsKeywordValue(%q) = %v, want %v", s, got, want)
		}
	}
}
