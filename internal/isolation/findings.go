package isolation

import (
	"cmp"
	"crypto/subtle"
	"fmt"
	"maps"
	"net"
	"net/netip"
	"regexp"
	"slices"
	"strings"
)

// Finding kinds.
const (
	FindingProductionHost   = "production_host"
	FindingProductionIP     = "production_ip"
	FindingProductionURL    = "production_url"
	FindingProductionDSN    = "production_dsn"
	FindingProductionSecret = "production_secret"
	FindingForbiddenFlag    = "forbidden_flag"
	FindingMaskingKey       = "masking_key"
	FindingRootSecret       = "credential_root_secret"
	FindingForeignServer    = "foreign_server"
	FindingUserMapping      = "user_mapping"
	FindingDblink           = "dblink"
	FindingSubscription     = "subscription"
	FindingProductionLogin  = "production_login"
	FindingInconclusive     = "inconclusive"
)

// Finding is one way staging holds, equals or reaches production. It
// names a configuration key or a database object and what it matched in
// the declared production inventory, never the value it found.
type Finding struct {
	Kind string `json:"kind"`
	// Key is the configuration key, or the database object ("foreign
	// server \"x\"") or check ("live probe") the finding is about.
	Key     string `json:"key"`
	Message string `json:"message"`
	// Inconclusive findings could not be decided (a server that cannot be
	// reached from where Terraform runs); they are never a pass.
	Inconclusive bool `json:"inconclusive,omitempty"`
}

// SortFindings orders findings by key, then kind, then message.
func SortFindings(fs []Finding) {
	slices.SortFunc(fs, func(a, b Finding) int {
		return cmp.Or(cmp.Compare(a.Key, b.Key), cmp.Compare(a.Kind, b.Kind), cmp.Compare(a.Message, b.Message))
	})
}

// HostPattern is a production host: an exact name or IP, or a domain
// (`*.prod.example.com` matches its subdomains, `.prod.example.com` the
// domain too), optionally with a port.
type HostPattern struct {
	Host string // lower case, without the leading "*." or "."
	Port string // "" for any port
	// Suffix makes Host a domain: subdomains match; Apex adds Host itself.
	Suffix, Apex bool
	// Source says where the pattern was declared, for messages.
	Source string
}

// ParseHostPattern reads `host`, `host:port`, `*.domain`, `.domain`,
// `[v6]:port` or an IP.
func ParseHostPattern(s, source string) (HostPattern, error) {
	p := HostPattern{Source: source}
	s = strings.ToLower(strings.TrimSpace(s))
	if h, port, err := net.SplitHostPort(s); err == nil {
		s, p.Port = h, port
	}
	switch {
	case strings.HasPrefix(s, "*."):
		s, p.Suffix = s[2:], true
	case strings.HasPrefix(s, "."):
		s, p.Suffix, p.Apex = s[1:], true, true
	}
	s = strings.Trim(s, "[]")
	s = strings.TrimSuffix(s, ".")
	_, ipErr := netip.ParseAddr(s)
	if s == "" || (ipErr != nil && !labelsRe.MatchString(s)) || strings.Trim(p.Port, "0123456789") != "" {
		return p, fmt.Errorf("%q is not a host name, IP address or *.domain pattern, optionally with a :port", s)
	}
	p.Host = s
	return p, nil
}

// String renders the pattern as declared.
func (p HostPattern) String() string {
	h := p.Host
	switch {
	case p.Apex:
		h = "." + h
	case p.Suffix:
		h = "*." + h
	}
	if p.Port != "" {
		return net.JoinHostPort(h, p.Port)
	}
	return h
}

// ParseCIDR reads a production network: a CIDR, or one address.
func ParseCIDR(s string) (netip.Prefix, error) {
	s = strings.TrimSpace(s)
	if p, err := netip.ParsePrefix(s); err == nil {
		return p.Masked(), nil
	}
	a, err := netip.ParseAddr(s)
	if err != nil {
		return netip.Prefix{}, fmt.Errorf("%q is neither a CIDR such as 10.20.0.0/16 or 2001:db8::/32 nor an IP address", s)
	}
	return netip.PrefixFrom(a, a.BitLen()), nil
}

// CIDR is a production network and where it was declared.
type CIDR struct {
	Prefix netip.Prefix
	Source string
}

// NamedFingerprint is a production secret's published fingerprint.
type NamedFingerprint struct {
	Name        string
	Fingerprint Fingerprint
}

// NamedSecret is a secret that must not appear in staging configuration
// (the masking key, the credential root secret).
type NamedSecret struct {
	Kind, Name, Value string
}

// Production is what is known of production, to recognise it.
type Production struct {
	Hosts        []HostPattern
	CIDRs        []CIDR
	Fingerprints []NamedFingerprint
}

// endpoint is a host (and port) found in a value, and how it was written.
type endpoint struct {
	host, port string
	form       string // "url", "dsn" or "bare"
	scheme     string
}

var (
	urlRe = regexp.MustCompile(`(?i)\b([a-z][a-z0-9+.-]*)://([^\s'"<>/?#]*)`)
	kvRe  = regexp.MustCompile(`(?i)(?:^|[\s;'"(,])(host|hostaddr|port)\s*=\s*('(?:[^'\\]|\\.)*'|[^\s;]*)`)
	// tokenSep splits a value into candidate host tokens.
	tokenSep = regexp.MustCompile(`[^A-Za-z0-9._:\[\]%-]+`)
)

// dsnSchemes are URL schemes of database connection strings.
var dsnSchemes = []string{"postgres", "postgresql", "mysql", "mariadb", "mongodb", "mongodb+srv", "redis", "rediss", "sqlserver", "oracle", "amqp", "amqps"}

// endpoints finds the hosts in a value: in URLs (every host of a
// multi-host authority), in libpq keyword/value strings (host, hostaddr,
// port), and as bare names or addresses.
func endpoints(v string) []endpoint {
	var out []endpoint
	add := func(e endpoint) {
		e.host = strings.TrimSuffix(strings.ToLower(strings.Trim(strings.TrimSpace(e.host), "[]")), ".")
		e.port = strings.TrimSpace(e.port)
		if e.host != "" && !slices.Contains(out, e) {
			out = append(out, e)
		}
	}
	for _, m := range urlRe.FindAllStringSubmatch(v, -1) {
		scheme := strings.ToLower(m[1])
		form := "url"
		if slices.Contains(dsnSchemes, scheme) {
			form = "dsn"
		}
		auth := m[2]
		if i := strings.LastIndex(auth, "@"); i >= 0 {
			auth = auth[i+1:]
		}
		for _, hp := range strings.Split(auth, ",") {
			h, p := splitHostPort(hp)
			add(endpoint{host: h, port: p, form: form, scheme: scheme})
		}
	}
	var hosts, ports []string
	for _, m := range kvRe.FindAllStringSubmatch(v, -1) {
		val := strings.Trim(m[2], "'")
		for _, part := range strings.Split(val, ",") {
			if strings.EqualFold(m[1], "port") {
				ports = append(ports, part)
			} else {
				hosts = append(hosts, part)
			}
		}
	}
	for i, h := range hosts {
		p := ""
		switch {
		case i < len(ports):
			p = ports[i]
		case len(ports) == 1:
			p = ports[0]
		}
		add(endpoint{host: h, port: p, form: "dsn"})
	}
	written := map[string]bool{}
	for _, e := range out {
		written[e.host] = true
	}
	addBare := func(e endpoint) {
		if !written[strings.ToLower(strings.Trim(e.host, "[]"))] {
			add(e)
		}
	}
	for _, tok := range tokenSep.Split(v, -1) {
		tok = strings.Trim(tok, ".:-")
		if tok == "" {
			continue
		}
		if a, err := netip.ParseAddr(strings.Trim(tok, "[]")); err == nil {
			addBare(endpoint{host: a.String(), form: "bare"})
			continue
		}
		if ap, err := netip.ParseAddrPort(tok); err == nil {
			addBare(endpoint{host: ap.Addr().String(), port: fmt.Sprint(ap.Port()), form: "bare"})
			continue
		}
		h, p := splitHostPort(tok)
		if strings.Contains(h, ".") && hostnameRe.MatchString(h) {
			addBare(endpoint{host: h, port: p, form: "bare"})
		}
	}
	return out
}

// labelsRe matches a host name of one or more labels.
var labelsRe = regexp.MustCompile(`^[a-z0-9_]([a-z0-9_-]*[a-z0-9_])?(\.[a-z0-9_]([a-z0-9_-]*[a-z0-9_])?)*$`)

var hostnameRe = regexp.MustCompile(`^(?i)[a-z0-9]([a-z0-9-]*[a-z0-9])?(\.[a-z0-9]([a-z0-9-]*[a-z0-9])?)+$`)

// splitHostPort splits host:port, [v6]:port or a host alone.
func splitHostPort(s string) (host, port string) {
	if h, p, err := net.SplitHostPort(s); err == nil {
		return h, p
	}
	return s, ""
}

// defaultPorts are the ports of DSN schemes when none is written.
var defaultPorts = map[string]string{"postgres": "5432", "postgresql": "5432", "": "5432"}

// matches reports whether the pattern covers the endpoint.
func (p HostPattern) matches(e endpoint) bool {
	h := e.host
	if a, err := netip.ParseAddr(h); err == nil {
		h = a.String()
		if b, err := netip.ParseAddr(p.Host); err != nil || a != b {
			return false
		}
	} else {
		switch {
		case p.Suffix && strings.HasSuffix(h, "."+p.Host):
		case (!p.Suffix || p.Apex) && h == p.Host:
		default:
			return false
		}
	}
	if p.Port == "" || e.port == p.Port {
		return true
	}
	return e.port == "" && e.form == "dsn" && defaultPorts[e.scheme] == p.Port
}

// hostFindings lists what in one value points at production, for the
// object or key named key.
func (prod Production) hostFindings(key, value string) []Finding {
	var out []Finding
	seen := map[string]bool{}
	for _, e := range endpoints(value) {
		kind, what := FindingProductionHost, "a host name"
		switch e.form {
		case "url":
			kind, what = FindingProductionURL, "a URL whose host"
		case "dsn":
			kind, what = FindingProductionDSN, "a connection string whose host"
		}
		for _, p := range prod.Hosts {
			if p.matches(e) {
				msg := fmt.Sprintf("holds %s matches production host %s (%s)", what, p.String(), p.Source)
				if e.form == "bare" {
					msg = fmt.Sprintf("holds a host that matches production host %s (%s)", p.String(), p.Source)
				}
				if !seen[kind+msg] {
					seen[kind+msg] = true
					out = append(out, Finding{Kind: kind, Key: key, Message: msg})
				}
			}
		}
		a, err := netip.ParseAddr(e.host)
		if err != nil {
			continue
		}
		for _, c := range prod.CIDRs {
			if c.Prefix.Contains(a.Unmap()) || c.Prefix.Contains(a) {
				k := kind
				if e.form == "bare" {
					k = FindingProductionIP
				}
				msg := fmt.Sprintf("holds an IP address inside production network %s (%s)", c.Prefix, c.Source)
				if e.form != "bare" {
					msg = fmt.Sprintf("holds %s is an IP address inside production network %s (%s)", what, c.Prefix, c.Source)
				}
				if !seen[k+msg] {
					seen[k+msg] = true
					out = append(out, Finding{Kind: k, Key: key, Message: msg})
				}
			}
		}
	}
	return out
}

// ForbiddenFlag is a configuration setting staging must not have. A key
// matches Key (a case-insensitive glob, `*` for any run of characters);
// the flag is set when the value equals one of Values (case-insensitive,
// trimmed) or contains Contains (case-insensitive); with neither, the key
// being present is enough.
type ForbiddenFlag struct {
	Name     string
	Key      string
	Values   []string
	Contains string
	Reason   string
}

// Truthy and falsy spellings of a switch.
var (
	Truthy = []string{"true", "1", "yes", "on", "enabled", "live"}
	Falsy  = []string{"false", "0", "no", "off", "disabled"}
)

// DefaultForbiddenFlags are forbidden flags for common cases: live
// payment switches, sandboxes turned off, live payment keys and the live
// endpoints of payment providers whose sandboxes have their own hosts.
func DefaultForbiddenFlags() []ForbiddenFlag {
	return []ForbiddenFlag{
		{Name: "live_payments", Key: "*LIVE_PAYMENT*", Values: Truthy, Reason: "live payments must be off in staging"},
		{Name: "payments_live", Key: "*PAYMENTS_LIVE*", Values: Truthy, Reason: "live payments must be off in staging"},
		{Name: "live_mode", Key: "*LIVE_MODE*", Values: Truthy, Reason: "a live mode must be off in staging"},
		{Name: "sandbox_off", Key: "*SANDBOX*", Values: Falsy, Reason: "a sandbox switch is off: staging must talk to sandboxes"},
		{Name: "stripe_live_secret_key", Key: "*", Contains: "sk_live_", Reason: "a Stripe live secret key: staging uses sk_test_ keys"},
		{Name: "stripe_live_restricted_key", Key: "*", Contains: "rk_live_", Reason: "a Stripe live restricted key: staging uses rk_test_ keys"},
		{Name: "paypal_live_endpoint", Key: "*", Contains: "api-m.paypal.com", Reason: "PayPal's live API: staging uses api-m.sandbox.paypal.com"},
		{Name: "paypal_live_endpoint_classic", Key: "*", Contains: "api.paypal.com", Reason: "PayPal's live API: staging uses api.sandbox.paypal.com"},
		{Name: "braintree_live_endpoint", Key: "*", Contains: "api.braintreegateway.com", Reason: "Braintree's live gateway: staging uses api.sandbox.braintreegateway.com"},
		{Name: "adyen_live_endpoint", Key: "*", Contains: "-live.adyenpayments.com", Reason: "Adyen's live endpoint: staging uses the test endpoints (*.adyen.com test hosts)"},
		{Name: "square_live_endpoint", Key: "*", Contains: "connect.squareup.com", Reason: "Square's live API: staging uses connect.squareupsandbox.com"},
	}
}

// globRe compiles a key glob.
func globRe(glob string) *regexp.Regexp {
	var b strings.Builder
	b.WriteString("(?i)^")
	for _, r := range glob {
		switch r {
		case '*':
			b.WriteString(".*")
		case '?':
			b.WriteString(".")
		default:
			b.WriteString(regexp.QuoteMeta(string(r)))
		}
	}
	b.WriteString("$")
	return regexp.MustCompile(b.String())
}

// matches reports whether key=value sets the flag; keyRe is globRe(f.Key).
func (f ForbiddenFlag) matches(keyRe *regexp.Regexp, key, value string) bool {
	if !keyRe.MatchString(key) {
		return false
	}
	v := strings.ToLower(strings.TrimSpace(value))
	if len(f.Values) > 0 && !slices.ContainsFunc(f.Values, func(w string) bool { return strings.ToLower(strings.TrimSpace(w)) == v }) {
		return false
	}
	return f.Contains == "" || strings.Contains(v, strings.ToLower(f.Contains))
}

// describe says what the flag forbids, without the value found.
func (f ForbiddenFlag) describe() string {
	var cond string
	switch {
	case len(f.Values) > 0:
		cond = fmt.Sprintf("key %s set to one of %s", f.Key, strings.Join(f.Values, "/"))
	case f.Contains != "":
		cond = fmt.Sprintf("a value containing %q", f.Contains)
	default:
		cond = "key " + f.Key + " present"
	}
	s := fmt.Sprintf("matches forbidden flag %q (%s)", f.Name, cond)
	if f.Reason != "" {
		s += ": " + f.Reason
	}
	return s
}

// ConfigCheck is what CheckConfig compares staging configuration with.
type ConfigCheck struct {
	Production Production
	Flags      []ForbiddenFlag
	Secrets    []NamedSecret
}

// minSecretContainment is the shortest secret searched for inside longer
// values; shorter ones are only compared whole.
const minSecretContainment = 8

// CheckConfig finds every way the staging configuration cfg (key →
// value) points at, equals or enables production. Each production
// fingerprint setting (salt and parameters) costs one Argon2id hash per
// value. Findings are sorted and name keys, never values.
func CheckConfig(cfg map[string]string, c ConfigCheck) []Finding {
	var out []Finding
	keyRes := make([]*regexp.Regexp, len(c.Flags))
	for i, f := range c.Flags {
		keyRes[i] = globRe(f.Key)
	}
	for _, k := range slices.Sorted(maps.Keys(cfg)) {
		v := cfg[k]
		out = append(out, c.Production.hostFindings(k, v)...)
		for i, f := range c.Flags {
			if f.matches(keyRes[i], k, v) {
				out = append(out, Finding{Kind: FindingForbiddenFlag, Key: k, Message: f.describe()})
			}
		}
		for _, s := range c.Secrets {
			if s.Value == "" {
				continue
			}
			if v == s.Value || (len(s.Value) >= minSecretContainment && strings.Contains(v, s.Value)) {
				out = append(out, Finding{Kind: s.Kind, Key: k, Message: "holds " + s.Name + ", which must never be part of staging's configuration"})
			}
		}
		if v == "" {
			continue
		}
		var done []Fingerprint
		for _, nf := range c.Production.Fingerprints {
			if slices.ContainsFunc(done, nf.Fingerprint.sameSetting) {
				continue
			}
			done = append(done, nf.Fingerprint)
			h := nf.Fingerprint.hash(v)
			for _, other := range c.Production.Fingerprints {
				if other.Fingerprint.sameSetting(nf.Fingerprint) && subtle.ConstantTimeCompare(other.Fingerprint.Hash, h) == 1 {
					out = append(out, Finding{Kind: FindingProductionSecret, Key: k,
						Message: fmt.Sprintf("equals production secret %q (its fingerprint matches)", other.Name)})
				}
			}
		}
	}
	SortFindings(out)
	return out
}
