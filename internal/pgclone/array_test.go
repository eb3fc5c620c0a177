package pgclone

import (
	"bytes"
	"errors"
	"testing"

	"github.com/stagingkit/terraform-provider-staging/internal/pgtest"
)

// shout is a transformer for tests: upper case, with characters an array
// literal must quote.
type shout struct{}

func (shout) Name() string    { return "shout" }
func (shout) Version() string { return "shout/v1" }
func (shout) Bijective() bool { return true }
func (shout) Transform(dst, src []byte) ([]byte, error) {
	if bytes.Equal(src, []byte("boom")) {
		return dst, errors.New("no")
	}
	return append(append(dst, bytes.ToUpper(src)...), `,"}\`...), nil
}

func TestArrayMask(t *testing.T) {
	for _, c := range []struct{ in, want string }{
		{`{}`, `{}`},
		{`{a,b}`, `{"A,\"}\\","B,\"}\\"}`},
		{`{a,NULL,null}`, `{"A,\"}\\",NULL,NULL}`},
		{`{"NULL"}`, `{"NULL,\"}\\"}`},
		{`{"a \"q\" \\ b"}`, `{"A \"Q\" \\ B,\"}\\"}`},
		{`{{a,b},{c,d}}`, `{{"A,\"}\\","B,\"}\\"},{"C,\"}\\","D,\"}\\"}}`},
		{`[0:1]={a,b}`, `[0:1]={"A,\"}\\","B,\"}\\"}`},
		{`{ a , b }`, `{"A,\"}\\","B,\"}\\"}`},
	} {
		got, err := arrayMask{shout{}}.Transform(nil, []byte(c.in))
		if err != nil || string(got) != c.want {
			t.Errorf("Transform(%s) = %s, %v; want %s", c.in, got, err, c.want)
		}
	}
	for _, bad := range []string{`a,b`, `{a`, `{"a}`, `{a}}`, `[0:1]{a}`} {
		if _, err := (arrayMask{shout{}}).Transform(nil, []byte(bad)); err == nil {
			t.Errorf("Transform(%s): no error", bad)
		}
	}
	if _, err := (arrayMask{shout{}}).Transform(nil, []byte(`{x,boom}`)); err == nil || err.Error() != "no" {
		t.Errorf("the element's error is not returned: %v", err)
	}
}

// TestArrayMask_agreesWithServer: what arrayMask writes is an array
// literal PostgreSQL reads back, with the elements it masked.
func TestArrayMask_agreesWithServer(t *testing.T) {
	conn := dial(t, pgtest.Require(t).NewDatabase(t))
	for _, in := range []string{`{a,NULL,"x y"}`, `{{"1\\2",b},{c,NULL}}`, `[2:3]={q,"\"r\""}`} {
		out, err := arrayMask{shout{}}.Transform(nil, []byte(in))
		if err != nil {
			t.Fatal(err)
		}
		want := queryString(t, conn, `SELECT array_to_string(ARRAY(SELECT coalesce(upper(e) || ',"}\', 'NULL') FROM unnest($1::text[]) e), '|')`, in)
		got := queryString(t, conn, `SELECT array_to_string(ARRAY(SELECT coalesce(e, 'NULL') FROM unnest($1::text[]) e), '|')`, string(out))
		if got != want {
			t.Errorf("%s -> %s: elements %s, want %s", in, out, got, want)
		}
		if a, b := queryString(t, conn, `SELECT array_dims($1::text[])`, in), queryString(t, conn, `SELECT array_dims($1::text[])`, string(out)); a != b {
			t.Errorf("%s -> %s: dimensions %s, want %s", in, out, b, a)
		}
	}
}

func FuzzArrayMask(f *testing.F) {
	for _, s := range []string{`{}`, `{a,b}`, `{"a\"b",NULL}`, `[1:2]={x,y}`, `{{a},{b}}`} {
		f.Add(s)
	}
	f.Fuzz(func(t *testing.T, in string) {
		out, err := arrayMask{shout{}}.Transform(nil, []byte(in))
		if err != nil {
			return
		}
		// What it writes, it reads again.
		if _, err := (arrayMask{shout{}}).Transform(nil, out); err != nil {
			t.Fatalf("%q -> %q, which does not parse: %v", in, out, err)
		}
	})
}
