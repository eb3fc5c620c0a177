package isolation

import (
	"net/netip"
	"strings"
	"testing"
)

func testProduction(t *testing.T) Production {
	t.Helper()
	var p Production
	for i, s := range []string{"db.prod.example.com", "*.prod.internal", ".payments.example.net", "10.1.2.3:6432"} {
		hp, err := ParseHostPattern(s, "production_hosts["+string(rune('0'+i))+"]")
		if err != nil {
			t.Fatal(err)
		}
		p.Hosts = append(p.Hosts, hp)
	}
	for i, s := range []string{"10.20.0.0/16", "2001:db8::/32", "192.0.2.7"} {
		c, err := ParseCIDR(s)
		if err != nil {
			t.Fatal(err)
		}
		p.CIDRs = append(p.CIDRs, CIDR{Prefix: c, Source: "production_cidrs[" + string(rune('0'+i)) + "]"})
	}
	return p
}

// TestCheckConfig_hosts: production hosts, URLs, DSNs (URL and
// keyword/value, multi-host) and IPs inside production networks are
// found, each named by key and kind and never by value; sandbox and
// staging hosts are not.
func TestCheckConfig_hosts(t *testing.T) {
	cfg := map[string]string{
		"DB_URL":        "postgres://app:pw@db.prod.example.com/shop?sslmode=require",
		"DB_KV":         "host=staging.db port=5432 dbname=x host=ignored",
		"DB_MULTI":      "postgresql://u@staging-db:5432,replica.prod.internal:5433/shop",
		"LIBPQ":         "dbname=shop host='a.staging, b.prod.internal' user=app",
		"API":           "https://api.payments.example.net/v1",
		"APEX":          "payments.example.net",
		"CACHE":         "10.20.4.5:6379",
		"V6":            "http://[2001:db8::1]:8080/",
		"PGBOUNCER":     "host=10.1.2.3 port=6432",
		"PGBOUNCER_OFF": "host=10.1.2.3 port=5432",
		"LIST":          "a.example.com, 192.0.2.7, c.example.com",
		"SAFE":          "https://api.staging.example.com 10.30.0.1 db.prod.example.com.evil.test notprod.internal",
	}
	got := CheckConfig(cfg, ConfigCheck{Production: testProduction(t)})
	want := map[string]string{
		"DB_URL":    FindingProductionDSN,
		"DB_MULTI":  FindingProductionDSN,
		"LIBPQ":     FindingProductionDSN,
		"API":       FindingProductionURL,
		"APEX":      FindingProductionHost,
		"CACHE":     FindingProductionIP,
		"V6":        FindingProductionURL,
		"PGBOUNCER": FindingProductionDSN,
		"LIST":      FindingProductionIP,
	}
	found := map[string]string{}
	for _, f := range got {
		found[f.Key] = f.Kind
		for k, v := range cfg {
			if k != "APEX" && strings.Contains(f.Message, v) || strings.Contains(f.Message, "pw") {
				t.Errorf("finding %+v repeats a value", f)
			}
		}
	}
	for k, kind := range want {
		if found[k] != kind {
			t.Errorf("%s: found %q, want %q (all: %+v)", k, found[k], kind, got)
		}
	}
	for k := range found {
		if _, ok := want[k]; !ok {
			t.Errorf("%s: unexpected finding %s", k, found[k])
		}
	}
}

// TestCheckConfig_flagsSecretsAndFingerprints: forbidden flags (defaults
// and declared), the masking key and root secret (whole or inside a
// value), and values whose fingerprint matches a production secret's.
func TestCheckConfig_flagsSecretsAndFingerprints(t *testing.T) {
	fp, err := SecretFingerprint("prod-db-password-77", "salt-for-tests")
	if err != nil {
		t.Fatal(err)
	}
	f, _ := ParseFingerprint(fp)
	other, _ := SecretFingerprint("prod-api-token-99", "salt-for-tests")
	g, _ := ParseFingerprint(other)
	prod := Production{Fingerprints: []NamedFingerprint{{"orders_db_password", f}, {"api_token", g}}}
	flags := append(DefaultForbiddenFlags(), ForbiddenFlag{Name: "mail_live", Key: "MAIL_MODE", Values: []string{"smtp"}, Reason: "staging sends no mail"})
	cfg := map[string]string{
		"LIVE_PAYMENTS":       "True",
		"STRIPE_SANDBOX":      "off",
		"STRIPE_KEY":          "sk_live_51Habcdef",
		"STRIPE_TEST_KEY":     "sk_test_51Habcdef",
		"PAYPAL_URL":          "https://api-m.paypal.com/v2",
		"PAYPAL_SANDBOX_URL":  "https://api-m.sandbox.paypal.com/v2",
		"MAIL_MODE":           "SMTP",
		"LIVE_PAYMENTS_NOTE":  "false",
		"DB_PASSWORD":         "prod-db-password-77",
		"DB_PASSWORD_STAGING": "prod-db-password-78",
		"MASKING":             "prefix-the-masking-key-1234",
		"ROOT":                "root-secret-0123456789abcdef0123456789",
	}
	got := CheckConfig(cfg, ConfigCheck{Production: prod, Flags: flags, Secrets: []NamedSecret{
		{Kind: FindingMaskingKey, Name: "the masking key", Value: "the-masking-key-1234"},
		{Kind: FindingRootSecret, Name: "the credential root secret", Value: "root-secret-0123456789abcdef0123456789"},
	}})
	want := map[string]string{
		"LIVE_PAYMENTS":  FindingForbiddenFlag,
		"STRIPE_SANDBOX": FindingForbiddenFlag,
		"STRIPE_KEY":     FindingForbiddenFlag,
		"PAYPAL_URL":     FindingForbiddenFlag,
		"MAIL_MODE":      FindingForbiddenFlag,
		"DB_PASSWORD":    FindingProductionSecret,
		"MASKING":        FindingMaskingKey,
		"ROOT":           FindingRootSecret,
	}
	found := map[string]string{}
	for _, f := range got {
		found[f.Key] = f.Kind
		if strings.Contains(f.Message, "prod-db-password") || strings.Contains(f.Message, "sk_live_51") || strings.Contains(f.Message, "masking-key-1234") {
			t.Errorf("finding %+v repeats a value", f)
		}
	}
	for k, kind := range want {
		if found[k] != kind {
			t.Errorf("%s: found %q, want %q", k, found[k], kind)
		}
	}
	for k := range found {
		if _, ok := want[k]; !ok {
			t.Errorf("%s: unexpected finding %s", k, found[k])
		}
	}
	for _, f := range got {
		if f.Key == "DB_PASSWORD" && !strings.Contains(f.Message, `"orders_db_password"`) {
			t.Errorf("the secret finding does not name the production secret: %s", f.Message)
		}
	}
}

// TestParse_refused: bad host patterns and CIDRs are refused, naming the
// input.
func TestParse_refused(t *testing.T) {
	for _, s := range []string{"", "http://x", "a b", "*"} {
		if _, err := ParseHostPattern(s, "x"); err == nil {
			t.Errorf("host pattern %q accepted", s)
		}
	}
	for _, s := range []string{"10.0.0.0/33", "10.0.0", "prod", "10.0.0.0/8/2"} {
		if _, err := ParseCIDR(s); err == nil || !strings.Contains(err.Error(), "CIDR") {
			t.Errorf("CIDR %q: %v", s, err)
		}
	}
	if p, _ := ParseCIDR("10.1.2.3/8"); p.String() != "10.0.0.0/8" {
		t.Errorf("CIDR not masked: %s", p)
	}
}

func BenchmarkCheckConfig(b *testing.B) {
	p := Production{}
	hp, _ := ParseHostPattern("*.prod.internal", "x")
	p.Hosts = append(p.Hosts, hp)
	cfg := map[string]string{}
	for i := range 50 {
		cfg["K"+string(rune('A'+i%26))+string(rune('a'+i/26))] = "postgres://u:p@db.staging.internal:5432/app?sslmode=require"
	}
	for b.Loop() {
		CheckConfig(cfg, ConfigCheck{Production: p, Flags: DefaultForbiddenFlags()})
	}
}

// FuzzEndpoints: the host finder never panics, and every host it reports
// is written in the value.
func FuzzEndpoints(f *testing.F) {
	for _, s := range []string{
		"postgres://u:p@h1:5432,[::1]:6432/db?x=y", "host='a, b' port=1,2 hostaddr=10.0.0.1", "https://[2001:db8::1]:8080/",
		"a.b.c:99 10.1.2.3:5432 ::1", "host=", "://@", "[", "x://[::1",
	} {
		f.Add(s)
	}
	f.Fuzz(func(t *testing.T, v string) {
		low := strings.ToLower(v)
		for _, e := range endpoints(v) {
			if !strings.Contains(low, e.host) && !strings.Contains(low, strings.SplitN(e.host, "%", 2)[0]) {
				if _, err := netip.ParseAddr(e.host); err != nil { // addresses are normalised
					t.Errorf("host %q is not in %q", e.host, v)
				}
			}
		}
	})
}

// FuzzParseFingerprint: parsing never panics and an error never repeats
// the input.
func FuzzParseFingerprint(f *testing.F) {
	fp, _ := SecretFingerprint("x", "saltsalt")
	f.Add(fp)
	f.Add("$argon2id$v=19$m=8,t=1,p=1$c2FsdHNhbHQ$AAAAAAAAAAAAAAAAAAAAAA")
	f.Fuzz(func(t *testing.T, s string) {
		_, err := ParseFingerprint(s)
		// The messages quote the format: an input that is part of it is
		// not echoed.
		const format = "expected $argon2id$v=19$m=…,t=…,p=…$<salt>$<hash>, as provider::staging::secret_fingerprint returns; m=<KiB>,t=<passes>,p=<lanes>"
		if err != nil && len(s) >= 12 && strings.Contains(err.Error(), s) && !strings.Contains(format, s) {
			t.Errorf("error repeats the input: %v", err)
		}
	})
}
