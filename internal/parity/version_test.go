package parity

import (
	"errors"
	"testing"
	"time"
)

func TestParseVersion(t *testing.T) {
	tests := []struct {
		in                  string
		major, minor, patch int
		parts               int
		rest                string
	}{
		{"1.2.3", 1, 2, 3, 3, ""},
		{"v1.2.3-rc1", 1, 2, 3, 3, "-rc1"},
		{"15.4", 15, 4, 0, 2, ""},
		{"16beta1", 16, 0, 0, 1, "beta1"},
		{"PostgreSQL 15.4 on x86_64-pc-linux-gnu, compiled by gcc 12.2.0, 64-bit", 15, 4, 0, 2, ""},
		{"PostgreSQL 16.2 (Debian 16.2-1.pgdg120+2) on x86_64-pc-linux-gnu", 16, 2, 0, 2, ""},
		{"app:1.2.3", 1, 2, 3, 3, ""},
		{"postgres:15.4-alpine", 15, 4, 0, 2, "-alpine"},
		{"registry.example.com:5000/team/app:v2.1@sha256:abcd", 2, 1, 0, 2, ""},
		{"8.0.35", 8, 0, 35, 3, ""},
		{"7", 7, 0, 0, 1, ""},
	}
	for _, tt := range tests {
		v, err := ParseVersion(tt.in)
		if err != nil {
			t.Errorf("ParseVersion(%q): %v", tt.in, err)
			continue
		}
		if v.Major != tt.major || v.Minor != tt.minor || v.Patch != tt.patch || v.Parts != tt.parts || v.Rest != tt.rest {
			t.Errorf("ParseVersion(%q) = %+v", tt.in, v)
		}
	}
	for _, s := range []string{"", "latest", "app:latest", "registry:5000/app", "stable-alpine", "v"} {
		if v, err := ParseVersion(s); !errors.Is(err, ErrNotVersion) {
			t.Errorf("ParseVersion(%q) = %+v, %v; want ErrNotVersion", s, v, err)
		}
	}
}

func FuzzParseVersion(f *testing.F) {
	for _, s := range []string{"1.2.3", "v1.2.3-rc1", "PostgreSQL 15.4 on x", "app:1.2", "16beta1"} {
		f.Add(s)
	}
	f.Fuzz(func(t *testing.T, s string) {
		v, err := ParseVersion(s)
		if err == nil && (v.Parts < 1 || v.Parts > 3 || v.Major < 0) {
			t.Fatalf("ParseVersion(%q) = %+v", s, v)
		}
	})
}

func TestParseDuration(t *testing.T) {
	day := 24 * time.Hour
	tests := map[string]time.Duration{
		"14d": 14 * day, "336h": 336 * time.Hour, "2w": 14 * day, "1d12h": 36 * time.Hour,
		"90m": 90 * time.Minute, "1.5d": 36 * time.Hour, " 7d ": 7 * day, //nolint:gocritic // surrounding spaces are trimmed
	}
	for in, want := range tests {
		got, err := ParseDuration(in)
		if err != nil || got != want {
			t.Errorf("ParseDuration(%q) = %v, %v; want %v", in, got, err, want)
		}
	}
	for _, s := range []string{"", "14", "d", "14days", "1x", "-1d"} {
		if d, err := ParseDuration(s); !errors.Is(err, ErrBadDuration) {
			t.Errorf("ParseDuration(%q) = %v, %v; want ErrBadDuration", s, d, err)
		}
	}
	if got := FormatDuration(14 * day); got != "14d" {
		t.Errorf("FormatDuration(14d) = %q", got)
	}
	if got := FormatDuration(36 * time.Hour); got != "36h0m0s" {
		t.Errorf("FormatDuration(36h) = %q", got)
	}
}
