package registry

import (
	"errors"
	"strings"
	"testing"
	"time"
)

func TestValidateName(t *testing.T) {
	for _, ok := range []string{"a", "pay-feature-x", "env1", strings.Repeat("a", 63)} {
		if err := ValidateName(ok); err != nil {
			t.Errorf("ValidateName(%q) = %v", ok, err)
		}
	}
	for _, bad := range []string{"", "1env", "-a", "a-", "Upper", "under_score", "dot.ted", strings.Repeat("a", 64), "ünï"} {
		if err := ValidateName(bad); !errors.Is(err, ErrInvalid) {
			t.Errorf("ValidateName(%q) = %v, want ErrInvalid", bad, err)
		}
	}
}

func TestNamespace(t *testing.T) {
	seen := map[string]string{}
	long := strings.Repeat("feature-branch-", 4) + "x"
	for _, n := range []string{"a", "pay-feature-x", long, long + "y", strings.Repeat("b", 63), "abcdefghijklm-z", "abcdefghijklm-y"} {
		ns := Namespace(n)
		if len(ns) > NamespaceMaxLength {
			t.Errorf("Namespace(%q) = %q is longer than %d", n, ns, NamespaceMaxLength)
		}
		if err := ValidateName(ns); err != nil {
			t.Errorf("Namespace(%q) = %q is not a DNS label: %v", n, ns, err)
		}
		if other, dup := seen[ns]; dup {
			t.Errorf("Namespace(%q) == Namespace(%q) == %q", n, other, ns)
		}
		seen[ns] = n
		if Namespace(n) != ns {
			t.Errorf("Namespace(%q) is not deterministic", n)
		}
	}
}

func TestParseDuration(t *testing.T) {
	cases := map[string]time.Duration{"72h": 72 * time.Hour, "90m": 90 * time.Minute, "7d": 7 * 24 * time.Hour, "2w": 14 * 24 * time.Hour, "1h30m": 90 * time.Minute}
	for in, want := range cases {
		got, err := ParseDuration(in)
		if err != nil || got != want {
			t.Errorf("ParseDuration(%q) = %v, %v; want %v", in, got, err, want)
		}
	}
	for _, bad := range []string{"", "3 days", "-1h", "0s", "xd", "1y"} {
		if _, err := ParseDuration(bad); !errors.Is(err, ErrInvalid) {
			t.Errorf("ParseDuration(%q) = %v, want ErrInvalid", bad, err)
		}
	}
}

func TestFormatDuration(t *testing.T) {
	cases := map[time.Duration]string{72 * time.Hour: "3d", 36 * time.Hour: "36h", 90 * time.Minute: "1h30m", 45 * time.Second: "45s"}
	for in, want := range cases {
		if got := FormatDuration(in); got != want {
			t.Errorf("FormatDuration(%v) = %q, want %q", in, got, want)
		}
	}
}

func TestEffectiveTTL(t *testing.T) {
	day := 24 * time.Hour
	cases := []struct {
		name      string
		team      Team
		requested time.Duration
		want      time.Duration
		err       bool
	}{
		{"explicit", Team{}, day, day, false},
		{"no expiry", Team{}, 0, 0, false},
		{"team default", Team{DefaultTTL: 3 * day}, 0, 3 * day, false},
		{"team max when no default", Team{MaxTTL: 7 * day}, 0, 7 * day, false},
		{"within max", Team{MaxTTL: 7 * day}, 7 * day, 7 * day, false},
		{"over max", Team{MaxTTL: 7 * day}, 8 * day, 0, true},
	}
	for _, c := range cases {
		got, err := EffectiveTTL(c.team, c.requested)
		if (err != nil) != c.err || got != c.want {
			t.Errorf("%s: EffectiveTTL = %v, %v; want %v, err %v", c.name, got, err, c.want, c.err)
		}
	}
}

func TestTags(t *testing.T) {
	e := Environment{Name: "pay-x", Team: "payments", Owner: "Alice.Smith@example.com", ExpiresAt: time.Date(2026, 11, 25, 9, 30, 0, 0, time.UTC)}
	got := Tags(e)
	want := map[string]string{"staging-environment": "pay-x", "staging-team": "payments", "staging-owner": "alice_smith_example_com",
		"staging-expires-at": "20261125t093000z", "managed-by": ManagedBy}
	for k, v := range want {
		if got[k] != v {
			t.Errorf("tag %s = %q, want %q", k, got[k], v)
		}
	}
	if Tags(Environment{Name: "x"})["staging-expires-at"] != "never" {
		t.Error("an environment without expiry should be tagged never")
	}
}
