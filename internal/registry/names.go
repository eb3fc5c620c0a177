package registry

import (
	"crypto/sha256"
	"encoding/base32"
	"fmt"
	"regexp"
	"strconv"
	"strings"
	"time"
)

// MaxNameLength is the DNS label limit that environment and team names obey.
const MaxNameLength = 63

// NamespaceMaxLength bounds the computed namespace so that it fits inside the
// tightest common cloud naming limits with room for a suffix (AWS load
// balancers allow 32 characters, for instance).
const NamespaceMaxLength = 20

var nameRE = regexp.MustCompile(`^[a-z]([a-z0-9-]*[a-z0-9])?$`)

// ValidateName checks that name is a DNS label: 1 to 63 lowercase letters,
// digits and hyphens, starting with a letter and not ending with a hyphen.
func ValidateName(name string) error {
	switch {
	case name == "":
		return fmt.Errorf("%w: name is empty", ErrInvalid)
	case len(name) > MaxNameLength:
		return fmt.Errorf("%w: name %q is %d characters long; the limit is %d", ErrInvalid, name, len(name), MaxNameLength)
	case !nameRE.MatchString(name):
		return fmt.Errorf("%w: name %q is not a DNS label: use lowercase letters, digits and hyphens, start with a letter and do not end with a hyphen", ErrInvalid, name)
	}
	return nil
}

var lowerB32 = base32.NewEncoding("abcdefghijklmnopqrstuvwxyz234567").WithPadding(base32.NoPadding)

// Namespace returns the prefix every resource of the named environment should
// carry: DNS-safe, at most NamespaceMaxLength characters, and derived from the
// whole name so that two environments whose names share a long prefix still
// get different namespaces. It is a pure function of the name, so it is known
// at plan time.
func Namespace(name string) string {
	sum := sha256.Sum256([]byte(name))
	suffix := lowerB32.EncodeToString(sum[:])[:6]
	prefix := name
	if max := NamespaceMaxLength - len(suffix) - 1; len(prefix) > max {
		prefix = prefix[:max]
	}
	prefix = strings.TrimRight(prefix, "-")
	return prefix + "-" + suffix
}

// ParseDuration parses a TTL or lease duration: a Go duration such as "72h"
// or "90m", or a whole number of days or weeks such as "7d" or "2w".
// Durations must be positive.
func ParseDuration(s string) (time.Duration, error) {
	s = strings.TrimSpace(s)
	if s == "" {
		return 0, fmt.Errorf("%w: duration is empty; use a value such as \"72h\" or \"7d\"", ErrInvalid)
	}
	var d time.Duration
	if unit := s[len(s)-1]; unit == 'd' || unit == 'w' {
		n, err := strconv.Atoi(s[:len(s)-1])
		if err != nil {
			return 0, fmt.Errorf("%w: duration %q is not valid; use a Go duration such as \"72h\" or whole days such as \"7d\"", ErrInvalid, s)
		}
		d = time.Duration(n) * 24 * time.Hour
		if unit == 'w' {
			d *= 7
		}
	} else {
		var err error
		if d, err = time.ParseDuration(s); err != nil {
			return 0, fmt.Errorf("%w: duration %q is not valid; use a Go duration such as \"72h\" or whole days such as \"7d\"", ErrInvalid, s)
		}
	}
	if d <= 0 {
		return 0, fmt.Errorf("%w: duration %q must be positive", ErrInvalid, s)
	}
	return d, nil
}

// FormatDuration renders d the way users write it: "7d" for whole days,
// otherwise Go's form ("36h0m0s" is shortened to "36h").
func FormatDuration(d time.Duration) string {
	if d > 0 && d%(24*time.Hour) == 0 {
		return strconv.FormatInt(int64(d/(24*time.Hour)), 10) + "d"
	}
	s := d.String()
	if strings.HasSuffix(s, "m0s") {
		s = s[:len(s)-2]
	}
	if strings.HasSuffix(s, "h0m") {
		s = s[:len(s)-2]
	}
	return s
}

// EffectiveTTL decides the TTL of a new or updated environment of team t.
// requested is 0 when the environment declares none: the team's DefaultTTL
// applies, else its MaxTTL (a team with a maximum never has immortal
// environments), else the environment never expires.
func EffectiveTTL(t Team, requested time.Duration) (time.Duration, error) {
	ttl := requested
	if ttl == 0 {
		ttl = t.DefaultTTL
	}
	if ttl == 0 {
		ttl = t.MaxTTL
	}
	if t.MaxTTL > 0 && ttl > t.MaxTTL {
		return 0, &TTLError{Team: t.Name, TTL: requested, MaxTTL: t.MaxTTL}
	}
	return ttl, nil
}

// ValidateTeam checks a team's own settings.
func ValidateTeam(t Team) error {
	if err := ValidateName(t.Name); err != nil {
		return err
	}
	if t.MaxEnvironments < 0 {
		return fmt.Errorf("%w: max_environments must be at least 1, or unset for no limit", ErrInvalid)
	}
	if t.MaxTTL > 0 && t.DefaultTTL > t.MaxTTL {
		return fmt.Errorf("%w: default_ttl %s is longer than max_ttl %s", ErrInvalid, FormatDuration(t.DefaultTTL), FormatDuration(t.MaxTTL))
	}
	return nil
}

// tagValueRE lists what the strictest common cloud (GCP labels) refuses.
var tagValueRE = regexp.MustCompile(`[^a-z0-9_-]+`)

// TagValue lowercases s and replaces what GCP labels refuse with "_", keeping
// at most 63 characters, so the same tags work on AWS, Azure and GCP.
func TagValue(s string) string {
	v := tagValueRE.ReplaceAllString(strings.ToLower(s), "_")
	if len(v) > 63 {
		v = v[:63]
	}
	return v
}

// ManagedBy is the value of the managed-by tag.
const ManagedBy = "terraform-provider-staging"

// Tags returns the tags every cloud resource of the environment should carry.
// Keys and values use the character set all major clouds accept.
func Tags(e Environment) map[string]string {
	expires := "never"
	if !e.ExpiresAt.IsZero() {
		expires = strings.ToLower(e.ExpiresAt.UTC().Format("20060102t150405z"))
	}
	return map[string]string{
		"staging-environment": TagValue(e.Name),
		"staging-team":        TagValue(e.Team),
		"staging-owner":       TagValue(e.Owner),
		"staging-expires-at":  expires,
		"managed-by":          ManagedBy,
	}
}
