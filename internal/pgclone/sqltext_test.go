package pgclone

import (
	"context"
	"errors"
	"strings"
	"testing"

	"github.com/jackc/pgx/v5"

	"github.com/stagingkit/terraform-provider-staging/internal/pgtest"
)

// sqlTextCases are queries with the verdict CheckQuery must give; the
// server-backed test below checks each verdict against PostgreSQL's own
// lexer, so the offline check never lets through what the server would
// split into two statements.
var sqlTextCases = []struct {
	sql    string
	ok     bool
	reason string // part of the error when !ok
}{
	{"SELECT 1", true, ""},
	{"  select id, email from customers order by id", true, ""},
	{"SELECT 1;", true, ""},
	{"SELECT 1; -- done", true, ""},
	{"(SELECT 1) UNION (SELECT 2)", true, ""},
	{"WITH x AS (SELECT 1 AS a) SELECT a FROM x", true, ""},
	{"VALUES (1, 'a'), (2, 'b')", true, ""},
	{"TABLE customers", true, ""},
	{"/* leading; comment */ SELECT 1", true, ""},
	{"SELECT 1 /* a ; /* nested ; */ still ; */", true, ""},
	{"SELECT 1 -- trailing ; comment", true, ""},
	{"SELECT ';' AS semi", true, ""},
	{"SELECT 'it''s; fine'", true, ""},
	{`SELECT E'back\'slash; ok'`, true, ""},
	{"SELECT $$;$$", true, ""},
	{"SELECT $tag$ $$ ; $tag$", true, ""},
	{`SELECT 1 AS "semi;colon"`, true, ""},
	{"SELECT 1 AS x) AS q0; COMMIT; DELETE FROM users; SELECT * FROM (SELECT 1 AS x", false, "closing parenthesis"},
	{"SELECT 1; DELETE FROM users", false, "semicolon"},
	{"SELECT 1; COMMIT", false, "semicolon"},
	{"SELECT 1;;", false, "semicolon"},
	{"COMMIT", false, "starts with COMMIT"},
	{"END", false, "starts with END"},
	{"ROLLBACK", false, "starts with ROLLBACK"},
	{"SET TRANSACTION READ WRITE", false, "starts with SET"},
	{"DELETE FROM users RETURNING *", false, "starts with DELETE"},
	{"COPY users TO PROGRAM 'true'", false, "starts with COPY"},
	{"/* ; */ DELETE FROM users", false, "starts with DELETE"},
	{"SELECT 1 /* unterminated ; ", false, "unterminated"},
	{"SELECT 'unterminated; DELETE FROM users", false, "unterminated"},
	{"SELECT $x$ ; DELETE FROM users", false, "unterminated"},
	{"SELECT $a$ $$ $a$; DELETE FROM users", false, "semicolon"},
	{`SELECT E'\''; DELETE FROM users`, false, "semicolon"},
	{`SELECT '\'; DELETE FROM users`, false, "semicolon"},
	{`SELECT E'\'; DELETE FROM users; SELECT '`, true, ""},
	{"SELECT (1", false, "never closed"},
	{"", false, "empty"},
	{"-- nothing", false, "empty"},
}

func TestCheckQuery(t *testing.T) {
	for _, c := range sqlTextCases {
		err := CheckQuery(c.sql)
		if c.ok {
			if err != nil {
				t.Errorf("CheckQuery(%q) = %v, want nil", c.sql, err)
			}
			continue
		}
		if err == nil {
			t.Errorf("CheckQuery(%q) = nil, want an error about %q", c.sql, c.reason)
			continue
		}
		if !strings.Contains(err.Error(), c.reason) {
			t.Errorf("CheckQuery(%q) = %v, want it to mention %q", c.sql, err, c.reason)
		}
		var se *SQLTextError
		if !errors.As(err, &se) && !errors.Is(err, ErrEmptySQL) {
			t.Errorf("CheckQuery(%q): error of type %T", c.sql, err)
		}
		if strings.Contains(err.Error(), "users") {
			t.Errorf("CheckQuery(%q): the error quotes the SQL: %v", c.sql, err)
		}
	}
}

func TestCheckCondition(t *testing.T) {
	for _, c := range []struct {
		sql string
		ok  bool
	}{
		{"true", true},
		{"1 = 1", true},
		{"'a' = 'a'", true},
		{"country = 'DE' AND (id % 2 = 0)", true},
		{"email LIKE '%;%'", true},
		{"true) TO STDOUT; DELETE FROM users; COPY (SELECT 1", false},
		{"true; DELETE FROM users", false},
		{"true) OR (true", false},
		{"true --", true},
		{"", false},
		{"/* */", false},
	} {
		if err := CheckCondition(c.sql); (err == nil) != c.ok {
			t.Errorf("CheckCondition(%q) = %v, want ok=%v", c.sql, err, c.ok)
		}
	}
}

// TestCheckQuery_agreesWithServer sends every case alone over the extended
// protocol, where PostgreSQL refuses more than one statement: whatever
// CheckQuery accepts, the server must see as exactly one statement.
func TestCheckQuery_agreesWithServer(t *testing.T) {
	ctx := context.Background()
	conn, err := pgx.Connect(ctx, pgtest.Require(t).DSN("postgres"))
	if err != nil {
		t.Fatal(err)
	}
	defer conn.Close(ctx)
	pgtest.Exec(t, pgtest.Require(t).DSN("postgres"), `CREATE TABLE IF NOT EXISTS customers (id int)`, `CREATE TABLE IF NOT EXISTS users (id int)`)
	for _, c := range sqlTextCases {
		if CheckQuery(c.sql) != nil {
			continue
		}
		_, err := conn.Prepare(ctx, "", c.sql)
		if err != nil && strings.Contains(err.Error(), "multiple commands") {
			t.Errorf("CheckQuery accepted %q, which the server splits into several statements", c.sql)
		}
	}
}

func FuzzCheckQuery(f *testing.F) {
	for _, c := range sqlTextCases {
		f.Add(c.sql)
	}
	f.Fuzz(func(t *testing.T, s string) {
		err := CheckQuery(s)
		if err != nil {
			return
		}
		// Whatever is accepted has no top-level semicolon before its end.
		toks, _ := lexSQL(s)
		for i, tok := range toks {
			if tok.kind == ';' && i != len(toks)-1 {
				t.Fatalf("accepted %q with an inner semicolon", s)
			}
		}
	})
}
