// Package dsn keeps database connection strings out of messages and logs:
// Describe names the server, database and user of a DSN without echoing it,
// and Scrub removes its password from error text that might quote it.
//
// Both PostgreSQL spellings are understood the way libpq and pgx read them:
// postgres:// URLs (userinfo and a password= query parameter, percent-encoded
// or not) and keyword/value strings (quoted values, backslash escapes, spaces
// around '='). Malformed strings are read leniently, so that a password a
// user meant to write is found even when the parser would reject it.
package dsn

import (
	"errors"
	"net"
	"net/url"
	"regexp"
	"slices"
	"strconv"
	"strings"

	"github.com/jackc/pgx/v5/pgconn"
)

// Descriptions Describe returns instead of one built from the DSN.
const (
	// Unparseable stands for a DSN pgconn cannot parse. It holds no part of
	// the DSN, since the DSN's parts cannot be told apart.
	Unparseable = "(unparseable DSN)"
	// Withheld stands for a DSN whose host, port, database or user contains
	// its password.
	Withheld = "(DSN withheld: its host, database or user contains its password)"
)

// minSecret is the length from which a password found in a description
// withholds it: shorter ones match ordinary host and user names by chance
// and give nothing away.
const minSecret = 3

// IsPostgres reports whether s is a postgres:// or postgresql:// URL.
func IsPostgres(s string) bool {
	return strings.HasPrefix(s, "postgres://") || strings.HasPrefix(s, "postgresql://")
}

// libpqKeywords are the connection keywords libpq and pgx read.
var libpqKeywords = map[string]bool{
	"host": true, "hostaddr": true, "port": true, "dbname": true, "user": true, "password": true, "passfile": true,
	"connect_timeout": true, "options": true, "application_name": true, "sslmode": true, "sslcert": true, "sslkey": true,
	"sslrootcert": true, "sslpassword": true, "sslsni": true, "service": true, "servicefile": true, "target_session_attrs": true,
	"client_encoding": true, "krbsrvname": true, "gssencmode": true, "channel_binding": true,
}

// IsKeywordValue reports whether s is a keyword/value connection string
// ("host=db dbname=app user=u password='…'"): its first setting names a
// libpq connection keyword.
func IsKeywordValue(s string) bool {
	settings := parseKeywordValue(s)
	if len(settings) == 0 || !keywordValue.MatchString(s) {
		return false
	}
	key := settings[0].key
	if key == "database" {
		key = "dbname"
	}
	return libpqKeywords[key] && !strings.ContainsAny(strings.TrimLeft(s, space)[:strings.IndexByte(strings.TrimLeft(s, space), '=')], "/\\")
}

// keywordValue matches the start of a keyword/value setting: a keyword at
// the start of the string or after white space, then '='.
var keywordValue = regexp.MustCompile(`(?:^|[ \t\n\r\v\f])[A-Za-z_]+[ \t\n\r\v\f]*=`)

// Describe returns "host:port/database as user" for a PostgreSQL DSN (URL
// or keyword/value), parsed with pgconn.ParseConfig, and never any part of
// its password: a DSN that does not parse is Unparseable, and one whose
// description would contain its password is Withheld. A string that is no
// DSN (a file path) is returned as it is; one that holds '@' but is neither
// a postgres:// URL nor keyword/value (another scheme's URL) is Unparseable.
func Describe(s string) string {
	if !IsPostgres(s) && !keywordValue.MatchString(s) {
		if strings.Contains(s, "@") {
			return Unparseable
		}
		return s
	}
	cfg, err := pgconn.ParseConfig(s)
	if err != nil {
		return Unparseable
	}
	d := describe(cfg)
	if strings.Contains(cfg.Host, "@") {
		// No host name holds an '@': this one is the tail of a password
		// with an unencoded '@'.
		return Withheld
	}
	for _, pw := range append(secrets(s), cfg.Password) {
		if len(pw) >= minSecret && strings.Contains(d, pw) {
			return Withheld
		}
	}
	return d
}

// describe renders every host and port cfg may connect to, its database
// and its user.
func describe(cfg *pgconn.Config) string {
	hosts := []string{hostPort(cfg.Host, cfg.Port)}
	for _, f := range cfg.Fallbacks {
		if hp := hostPort(f.Host, f.Port); !slices.Contains(hosts, hp) {
			hosts = append(hosts, hp)
		}
	}
	var b strings.Builder
	b.WriteString(strings.Join(hosts, ","))
	if cfg.Database != "" {
		b.WriteString("/" + cfg.Database)
	}
	if cfg.User != "" {
		b.WriteString(" as " + cfg.User)
	}
	return b.String()
}

// hostPort joins a host name, IP address or Unix socket directory with a
// port.
func hostPort(host string, port uint16) string {
	p := strconv.Itoa(int(port))
	if strings.HasPrefix(host, "/") {
		return host + ":" + p
	}
	return net.JoinHostPort(host, p)
}

// Password returns the password s carries, if any, as pgx reads it: in a
// URL the last password= query parameter or else the userinfo's, decoded;
// in a keyword/value string the last password setting, unquoted and
// unescaped.
func Password(s string) string {
	if IsPostgres(s) {
		u := parseURL(s)
		if len(u.query) > 0 {
			return u.query[len(u.query)-1].val
		}
		return u.userinfo.val
	}
	pw := ""
	for _, kv := range parseKeywordValue(s) {
		if kv.key == "password" {
			pw = kv.val
		}
	}
	return pw
}

// secrets lists every string of s that is or may be a password, as written
// and decoded: each password and sslpassword setting, and what a user may
// have meant one to be where the string is malformed (an '@' or a '/' left
// unencoded in a URL's password, spaces in an unquoted value).
func secrets(s string) []string {
	var out []string
	add := func(vs ...value) {
		for _, v := range vs {
			for _, x := range []string{v.raw, v.val} {
				if x != "" && !slices.Contains(out, x) {
					out = append(out, x)
				}
			}
		}
	}
	if IsPostgres(s) {
		u := parseURL(s)
		add(u.userinfo)
		add(u.query...)
		add(u.intended...)
	} else {
		for _, kv := range parseKeywordValue(s) {
			if kv.key == "password" || kv.key == "sslpassword" {
				add(kv.value, kv.intended)
			}
		}
	}
	return out
}

// Scrub returns err with every password of s (see Password), as written,
// decoded and URL-encoded, replaced by REDACTED. A pgconn.ParseConfigError
// in err, which quotes the connection string with only best-effort
// redaction, is reduced to what was wrong with it. Scrub returns err itself
// when there is nothing to change, so that errors.Is and errors.As keep
// working in the common case.
func Scrub(err error, s string) error {
	if err == nil {
		return nil
	}
	text := err.Error()
	if pce, ok := errors.AsType[*pgconn.ParseConfigError](err); ok {
		text = strings.Replace(text, pce.Error(), parseErrorText(pce), 1)
	}
	text = scrubText(text, s)
	if text == err.Error() {
		return err
	}
	return errors.New(text)
}

// scrubText replaces the passwords of s in text, longest form first so that
// a form containing another goes as a whole.
func scrubText(text, s string) string {
	var forms []string
	for _, pw := range secrets(s) {
		for _, f := range []string{pw, url.QueryEscape(pw), url.PathEscape(pw)} {
			if !slices.Contains(forms, f) {
				forms = append(forms, f)
			}
		}
	}
	slices.SortFunc(forms, func(a, b string) int { return len(b) - len(a) })
	for _, f := range forms {
		text = strings.ReplaceAll(text, f, "REDACTED")
	}
	return text
}

// parseErrorText says what pgconn found wrong with a connection string
// without quoting it. The underlying error of a failed tokenisation may
// quote a fragment of the input (a keyword that may be a piece of a
// password with spaces), so it is kept only when it quotes nothing.
func parseErrorText(pce *pgconn.ParseConfigError) string {
	full := pce.Error()
	inner := ""
	if e := pce.Unwrap(); e != nil {
		inner = e.Error()
		full = strings.TrimSuffix(full, " ("+inner+")")
	}
	msg := "invalid connection string"
	if i := strings.LastIndex(full, "`: "); i >= 0 {
		msg = full[i+len("`: "):]
	}
	tokenising := msg == "failed to parse as URL" || msg == "failed to parse as keyword/value"
	if inner != "" && (!tokenising || !strings.ContainsAny(inner, "\"'`")) {
		msg += " (" + inner + ")"
	}
	return "cannot parse the DSN: " + msg
}

// value is a setting as written (raw) and as read (val).
type value struct{ raw, val string }

// urlParts are the password-bearing parts of a postgres:// URL.
type urlParts struct {
	userinfo value
	query    []value // password= parameters, in order
	intended []value // userinfo passwords a malformed URL may have meant
}

// parseURL finds the passwords of a postgres:// URL as libpq does: the
// userinfo ends at the first '@' before any '/', its password follows the
// first ':', the query follows the first '?' after it. It also records the
// passwords of a userinfo ending at the last '@' before the first '/', or at
// the last '@' of all, in case '@' or '/' was left unencoded.
func parseURL(s string) urlParts {
	var u urlParts
	p := s[strings.Index(s, "://")+3:]
	rest := p
	if i := strings.IndexAny(p, "@/"); i >= 0 && p[i] == '@' {
		if _, pw, ok := strings.Cut(p[:i], ":"); ok {
			u.userinfo = decoded(pw)
		}
		rest = p[i+1:]
	}
	slash := strings.IndexByte(p, '/')
	if slash < 0 {
		slash = len(p)
	}
	for _, end := range []int{strings.LastIndexByte(p[:slash], '@'), strings.LastIndexByte(p, '@')} {
		if end < 0 {
			continue
		}
		if _, pw, ok := strings.Cut(p[:end], ":"); ok && pw != u.userinfo.raw {
			u.intended = append(u.intended, decoded(pw))
		}
	}
	if q := strings.IndexByte(rest, '?'); q >= 0 {
		for _, pair := range strings.Split(rest[q+1:], "&") {
			k, v, _ := strings.Cut(pair, "=")
			if key := decoded(k).val; key == "password" || key == "sslpassword" {
				if key == "password" {
					u.query = append(u.query, decoded(v))
				} else {
					u.intended = append(u.intended, decoded(v))
				}
			}
		}
	}
	return u
}

// decoded percent-decodes a URL component as pgx does, leniently: spaces
// around it are dropped, invalid escapes kept as written.
func decoded(raw string) value {
	t := strings.Trim(raw, " ")
	var b strings.Builder
	for i := 0; i < len(t); i++ {
		if t[i] == '%' && i+2 < len(t) {
			if c, err := strconv.ParseUint(t[i+1:i+3], 16, 8); err == nil {
				b.WriteByte(byte(c))
				i += 2
				continue
			}
		}
		b.WriteByte(t[i])
	}
	return value{raw: raw, val: b.String()}
}

// setting is one keyword/value setting.
type setting struct {
	key string
	value
	// intended is the value up to the next keyword, for an unquoted value
	// followed by words that are no setting (a password with spaces).
	intended value
}

// space is libpq's white space in keyword/value strings.
const space = " \t\n\r\v\f"

// nextKeyword finds where the next setting (a keyword and '=') starts.
var nextKeyword = regexp.MustCompile(`[ \t\n\r\v\f]+[A-Za-z_]+[ \t\n\r\v\f]*=`)

// parseKeywordValue reads a keyword/value string as libpq does (keywords
// and '=' with optional white space, values quoted with ' or not, '\'
// escaping the next character) but never fails: a keyword with white space
// in it is read as its last word, an unterminated quote runs to the end.
func parseKeywordValue(s string) []setting {
	var out []setting
	s = strings.TrimLeft(s, space)
	for len(s) > 0 {
		eq := strings.IndexByte(s, '=')
		if eq < 0 {
			break
		}
		words := strings.FieldsFunc(s[:eq], func(r rune) bool { return strings.ContainsRune(space, r) })
		key := ""
		if len(words) > 0 {
			key = words[len(words)-1]
		}
		if key == "dbname" {
			key = "database"
		}
		s = strings.TrimLeft(s[eq+1:], space)
		var v setting
		v.key = key
		switch {
		case s == "":
		case s[0] != '\'':
			end := 0
			for ; end < len(s) && !strings.ContainsRune(space, rune(s[end])); end++ {
				if s[end] == '\\' {
					end++
				}
			}
			end = min(end, len(s))
			v.value = value{raw: s[:end], val: unescape(s[:end])}
			intended := strings.TrimRight(s, space)
			if loc := nextKeyword.FindStringIndex(s[end:]); loc != nil {
				intended = s[:end+loc[0]]
			}
			v.intended = value{raw: intended, val: unescape(intended)}
			s = s[end:]
		default:
			end := 1
			for ; end < len(s) && s[end] != '\''; end++ {
				if s[end] == '\\' {
					end++
				}
			}
			end = min(end, len(s))
			v.value = value{raw: s[1:end], val: unescape(s[1:end])}
			s = s[min(end+1, len(s)):]
		}
		out = append(out, v)
		s = strings.TrimLeft(s, space)
	}
	return out
}

// unescape drops each '\' and keeps the character after it.
func unescape(s string) string {
	if !strings.Contains(s, `\`) {
		return s
	}
	var b strings.Builder
	for i := 0; i < len(s); i++ {
		if s[i] == '\\' {
			i++
			if i == len(s) {
				break
			}
		}
		b.WriteByte(s[i])
	}
	return b.String()
}
