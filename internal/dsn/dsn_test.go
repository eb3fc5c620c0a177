package dsn

import (
	"errors"
	"testing"
)

func TestRedact(t *testing.T) {
	cases := map[string]string{
		"postgres://u:pw@h:5432/db":           "postgres://u:REDACTED@h:5432/db",
		"postgres://h/db?password=pw&x=1":     "postgres://h/db?password=REDACTED&x=1",
		"/var/lib/registry.db":                "/var/lib/registry.db",
		"postgresql://u@h/db":                 "postgresql://u@h/db",
		"host=h user=u password=pw dbname=db": "host=h user=u password=REDACTED dbname=db",
	}
	for in, want := range cases {
		if got := Redact(in); got != want {
			t.Errorf("Redact(%q) = %q, want %q", in, got, want)
		}
	}
}

func TestScrub(t *testing.T) {
	base := errors.New("dial: bad")
	if got := Scrub(base, "postgres://u:s3cret@h/db"); got != base { //nolint:errorlint // the very same error must come back
		t.Errorf("Scrub changed an error without the password: %v", got)
	}
	got := Scrub(errors.New("auth failed for s3cret"), "postgres://u:s3cret@h/db")
	if got.Error() != "auth failed for REDACTED" {
		t.Errorf("Scrub = %q", got)
	}
	if Scrub(nil, "x") != nil {
		t.Error("Scrub(nil) != nil")
	}
}
