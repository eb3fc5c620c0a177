package pgclone

import (
	"errors"
	"fmt"
	"strings"
	"unicode"
	"unicode/utf8"
)

// SQLTextError says why a piece of user SQL (a query or a condition) was
// refused before it reached a server. It quotes no part of the SQL.
type SQLTextError struct {
	Reason string
	Offset int // byte offset of the offending token, -1 when not about one
}

func (e *SQLTextError) Error() string {
	if e.Offset >= 0 {
		return fmt.Sprintf("%s (at byte %d)", e.Reason, e.Offset)
	}
	return e.Reason
}

// sqlToken is one lexical token of interest: a top-level semicolon, a
// parenthesis, or the first keyword.
type sqlToken struct {
	kind byte // ';', '(', ')', 'w' (a bare word), 'x' (anything else: operators, literals, quoted names)
	pos  int
	word string
}

// lexSQL splits s the way PostgreSQL's lexer does for what matters to
// statement boundaries: it skips string literals ('…', E'…' with
// backslash escapes, U&'…', B'…', X'…'), quoted identifiers ("…"),
// dollar-quoted strings ($tag$…$tag$), line comments (-- …) and nested
// block comments (/* … */), and reports the semicolons, parentheses and
// bare words outside them. It assumes standard_conforming_strings = on,
// which the provider sets on every session it opens. An unterminated
// literal, identifier or comment is an error, as it is to the server.
func lexSQL(s string) ([]sqlToken, error) {
	var toks []sqlToken
	for i := 0; i < len(s); {
		c := s[i]
		switch {
		case c == '-' && i+1 < len(s) && s[i+1] == '-':
			j := strings.IndexAny(s[i:], "\n\r")
			if j < 0 {
				return toks, nil
			}
			i += j + 1
		case c == '/' && i+1 < len(s) && s[i+1] == '*':
			depth, j := 1, i+2
			for depth > 0 {
				if j+1 >= len(s) {
					return nil, &SQLTextError{Reason: "unterminated /* comment", Offset: i}
				}
				switch {
				case s[j] == '/' && s[j+1] == '*':
					depth++
					j += 2
				case s[j] == '*' && s[j+1] == '/':
					depth--
					j += 2
				default:
					j++
				}
			}
			i = j
		case c == '\'':
			backslash := false
			if i > 0 && (s[i-1] == 'e' || s[i-1] == 'E') && (i < 2 || !isIdentChar(s[i-2])) {
				backslash = true
			}
			j, err := endQuoted(s, i, '\'', backslash)
			if err != nil {
				return nil, err
			}
			toks = append(toks, sqlToken{kind: 'x', pos: i})
			i = j
		case c == '"':
			j, err := endQuoted(s, i, '"', false)
			if err != nil {
				return nil, err
			}
			toks = append(toks, sqlToken{kind: 'x', pos: i})
			i = j
		case c == '$' && (i == 0 || !isIdentChar(s[i-1])):
			tag, ok := dollarTag(s[i:])
			if !ok {
				toks = append(toks, sqlToken{kind: 'x', pos: i}) // a parameter ($1) or a lone '$'
				i++
				continue
			}
			end := strings.Index(s[i+len(tag):], tag)
			if end < 0 {
				return nil, &SQLTextError{Reason: "unterminated dollar-quoted string", Offset: i}
			}
			toks = append(toks, sqlToken{kind: 'x', pos: i})
			i += len(tag) + end + len(tag)
		case c == ';' || c == '(' || c == ')':
			toks = append(toks, sqlToken{kind: c, pos: i})
			i++
		case isIdentStart(c):
			j := i
			for j < len(s) && isIdentChar(s[j]) {
				j++
			}
			// E'…', U&'…', B'…', X'…' prefixes are handled by the quote case.
			toks = append(toks, sqlToken{kind: 'w', pos: i, word: strings.ToLower(s[i:j])})
			i = j
		default:
			r, size := utf8.DecodeRuneInString(s[i:])
			if !unicode.IsSpace(r) {
				toks = append(toks, sqlToken{kind: 'x', pos: i})
			}
			i += size
		}
	}
	return toks, nil
}

// endQuoted returns the index just past the literal or identifier opened
// by quote at s[start]. A doubled quote stands for itself; with
// backslash, a backslash escapes the next byte (E'…' strings).
func endQuoted(s string, start int, quote byte, backslash bool) (int, error) {
	for j := start + 1; j < len(s); j++ {
		switch {
		case backslash && s[j] == '\\':
			j++
		case s[j] == quote:
			if j+1 < len(s) && s[j+1] == quote {
				j++
				continue
			}
			return j + 1, nil
		}
	}
	what := "string literal"
	if quote == '"' {
		what = "quoted identifier"
	}
	return 0, &SQLTextError{Reason: "unterminated " + what, Offset: start}
}

// dollarTag returns the opening tag ($$ or $name$) at the start of s.
func dollarTag(s string) (string, bool) {
	if len(s) < 2 || s[0] != '$' {
		return "", false
	}
	if s[1] == '$' {
		return "$$", true
	}
	if !isIdentStart(s[1]) {
		return "", false
	}
	for j := 2; j < len(s); j++ {
		switch {
		case s[j] == '$':
			return s[:j+1], true
		case !isIdentChar(s[j]) || s[j] == '$':
			return "", false
		}
	}
	return "", false
}

// checkBalanced refuses a top-level semicolon and unbalanced parentheses.
// allowTrailingSemicolon accepts one final semicolon (and nothing but
// comments and space after it).
func checkBalanced(toks []sqlToken, allowTrailingSemicolon bool) error {
	depth := 0
	for i, t := range toks {
		switch t.kind {
		case '(':
			depth++
		case ')':
			depth--
			if depth < 0 {
				return &SQLTextError{Reason: "a closing parenthesis has no opening one", Offset: t.pos}
			}
		case ';':
			if allowTrailingSemicolon && i == len(toks)-1 && depth == 0 {
				continue
			}
			return &SQLTextError{Reason: "a semicolon outside a string or comment would end the statement: give one statement, without ';' inside it", Offset: t.pos}
		}
	}
	if depth > 0 {
		return &SQLTextError{Reason: "an opening parenthesis is never closed", Offset: -1}
	}
	return nil
}

// queryKeywords are the statements that only return rows.
var queryKeywords = []string{"select", "with", "values", "table"}

// ErrEmptySQL is returned for SQL that holds nothing but space and comments.
var ErrEmptySQL = errors.New("the SQL is empty (only space or comments)")

// CheckQuery accepts one statement that returns rows: SELECT, WITH,
// VALUES or TABLE (possibly in parentheses), with at most a final
// semicolon. It is a first, offline line of defence giving a clear
// message at plan time; the server enforces the same (the query is sent
// alone over the extended protocol, as a cursor, inside a READ ONLY
// transaction). Errors are *SQLTextError or ErrEmptySQL.
func CheckQuery(s string) error {
	toks, err := lexSQL(s)
	if err != nil {
		return err
	}
	if err := checkBalanced(toks, true); err != nil {
		return err
	}
	for _, t := range toks {
		switch t.kind {
		case '(':
			continue
		case 'w':
			for _, k := range queryKeywords {
				if t.word == k {
					return nil
				}
			}
			return &SQLTextError{Reason: fmt.Sprintf("the query must be one SELECT, WITH, VALUES or TABLE statement; it starts with %s", strings.ToUpper(t.word)), Offset: t.pos}
		default:
			return &SQLTextError{Reason: "the query must start with SELECT, WITH, VALUES or TABLE", Offset: t.pos}
		}
	}
	return ErrEmptySQL
}

// CheckCondition accepts a boolean SQL condition to embed in a WHERE
// clause: no semicolon outside strings and comments, balanced
// parentheses, nothing unterminated. The server then parses it alone over
// the extended protocol before it is ever used (see [Analyze]).
func CheckCondition(s string) error {
	toks, err := lexSQL(s)
	if err != nil {
		return err
	}
	if len(toks) == 0 {
		return ErrEmptySQL
	}
	return checkBalanced(toks, false)
}
