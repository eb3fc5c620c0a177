package pgclone

import (
	"context"
	"regexp"
	"strings"
	"testing"

	"github.com/stagingkit/terraform-provider-staging/internal/masking"
	"github.com/stagingkit/terraform-provider-staging/internal/pgtest"
)

// typedSchema has a masked column of every type the binary path converts,
// each twice: once over ordinary values, once over the edge values the
// column's transformer takes (NaN, infinities, -0, tiny and huge numbers,
// bigint's bounds, the last day timestamps and dates can hold, with
// max_days 1 so that the shift stays in range). BC dates, which the
// shifting transformers refuse, are in TestBinaryConversions_alike.
var typedSchema = []string{
	`CREATE TABLE typed (
		id int PRIMARY KEY,
		n numeric, n_edge numeric, n_digits numeric(20, 4),
		i2 smallint, i4 integer, i8 bigint, i8_edge bigint,
		ts timestamp, ts_edge timestamp(6), tstz timestamptz, tstz_edge timestamptz,
		d date, d_edge date, u uuid, ip inet, net cidr,
		note text)`,
	`INSERT INTO typed VALUES
		(1, 12.5, 'NaN', 12345.6789, 0, 0, 0, -9223372036854775808, 'infinity', 'infinity', 'infinity', 'infinity', 'infinity', 'infinity',
			'a0eebc99-9c0b-4ef8-bb6d-6bb9bd380a11', '10.1.2.3', '10.1.2.0/24', 'x'),
		(2, -7.25, '-Infinity', -100000.0001, -32768, -2147483647, 9223372036854775807, 9223372036854775807, '-infinity', '-infinity', '-infinity', '-infinity', '-infinity', '-infinity',
			'ffffffff-ffff-4fff-bfff-ffffffffffff', '192.168.7.9/24', '2001:db8:1::/48', 'b'),
		(3, 1234.001, '-0.000', 100000, 32000, 2147483000, -9223372036854775000, 0, '1999-12-31 23:59:59.999999', '294276-12-30 23:59:59.999999', '2000-01-01 00:00:00+00', '294276-12-30 23:59:59.999999+00',
			'2000-02-29', '5874897-12-30', NULL, '::ffff:1.2.3.4', '::ffff:1.2.3.0/120', NULL),
		(4, 1e-30, 'Infinity', 99999999.9999, -1, -1, -1, -1, '2024-02-29 12:00:00.5', '0001-01-02 00:00:00', '2024-06-30 23:00:00-05:30', '0001-01-02 00:00:00.000001+00',
			'1900-03-01', '0001-01-02', 'A0EEBC99-9C0B-4EF8-BB6D-6BB9BD380A11', '2001:db8::1', '10.20.30.0/24', 'd'),
		(5, 99999999999999999999.0001, 99999999999999999999.0001, -12345678.1234, 1, 1, 1, 1, '1970-01-01 00:00:00.000001', '1970-01-01 00:00:00', '1969-12-31 23:59:59.999999+00', '2038-01-19 03:14:08+00',
			'1999-12-31', '9999-12-31', 'c0eebc99-9c0b-4ef8-bb6d-6bb9bd380a11', 'fe80::1:2:3:4/64', '2001:db8:abcd::/48', 'e'),
		(6, ('0.' || repeat('0', 300) || '1234')::numeric, 1e-30, 123456.789, 2, 3, 4, 5, '2010-10-10 10:10:10', '2010-10-10 10:10:10', '2010-10-10 10:10:10+02', '2010-10-10 10:10:10+02',
			'2010-10-10', '2010-10-10', NULL, '::', NULL, NULL),
		(7, 123456789012345678901234567890.123456789, -1.5e300, NULL, NULL, NULL, NULL, NULL, NULL, NULL, NULL, NULL, NULL, NULL, NULL, NULL, NULL, NULL),
		(8, -1e-20, ('0.' || repeat('0', 300) || '1234')::numeric, NULL, NULL, NULL, NULL, NULL, NULL, NULL, NULL, NULL, NULL, NULL, NULL, '::ffff:0.0.0.1', NULL, NULL)`,
	`INSERT INTO typed (id, n, n_edge, n_digits, i2, i4, i8, i8_edge, ts, ts_edge, tstz, tstz_edge, d, d_edge, u, ip, net, note)
		SELECT g, (g * 37.25 - 5000)::numeric, (g * 1.5)::numeric, g * 1000.5 + 100000, (g % 30000)::smallint, g * 1000, g::bigint * 1000000007, -g,
			timestamp '2001-01-01' + g * interval '1 hour 1.25 seconds', timestamp '1066-10-14' + g * interval '37 days',
			timestamptz '2001-01-01 00:00:00+00' + g * interval '1 hour 1.25 seconds', timestamptz '0200-01-01 00:00:00+00' + g * interval '1 day',
			date '1990-01-01' + g, date '0100-01-01' + g * 3, md5(g::text)::uuid,
			('10.' || (g / 256 % 256) || '.' || (g % 256) || '.7')::inet,
			('172.' || (g % 16 + 16) || '.' || (g % 256) || '.0/24')::cidr, '#' || g
		FROM generate_series(9, 3000) g`,
}

// typedRules mask every column of typed but id and note.
var typedRules = func() []ColumnRule {
	oneDay := map[string]any{"max_days": 1.0}
	var rules []ColumnRule
	for col, tr := range map[string]masking.Spec{
		"n": {Transformer: "number_noise"}, "n_edge": {Transformer: "number_noise"}, "n_digits": {Transformer: "digits"},
		"i2": {Transformer: "number_noise", Options: map[string]any{"min": -32768.0, "max": 32767.0}},
		"i4": {Transformer: "digits", Options: map[string]any{"max_value": 2147483647.0}}, "i8": {Transformer: "number_noise"},
		"i8_edge": {Transformer: "number_noise"},
		"ts":      {Transformer: "timestamp_shift"}, "tstz": {Transformer: "timestamp_shift"}, "d": {Transformer: "date_shift"},
		"ts_edge": {Transformer: "timestamp_shift", Options: oneDay}, "tstz_edge": {Transformer: "timestamp_shift", Options: oneDay},
		"d_edge": {Transformer: "date_shift", Options: oneDay},
		"u":      {Transformer: "uuid"}, "ip": {Transformer: "ip"}, "net": {Transformer: "ip"},
	} {
		rules = append(rules, ColumnRule{Table: "typed", Column: col, Spec: tr})
	}
	return rules
}()

// TestClone_binaryAndTextPathsMaskAlike clones typedSchema through the
// binary path and through the text path and checks that staging holds
// the very same rows, that the masked columns are masked, and that the
// two runs did stream different formats.
func TestClone_binaryAndTextPathsMaskAlike(t *testing.T) {
	ctx := context.Background()
	c := pgtest.Require(t)
	prod := c.NewDatabase(t)
	pgtest.Exec(t, prod, typedSchema...)
	digest := `SELECT count(*) || ':' || md5(string_agg(t::text, ',' ORDER BY id)) FROM typed t`
	clone := func(text bool) (string, int64) {
		t.Helper()
		target := c.NewDatabase(t)
		opts := Options{Rules: typedRules, Key: testKey(t, "typed"), Parallelism: 1, textCopy: text}
		res, err := Clone(ctx, sourceConfig(t, prod), mustConfig(t, target), opts)
		if err != nil {
			t.Fatalf("text path %v: %v", text, err)
		}
		var bytes int64
		for _, tr := range res.Tables {
			if tr.Name == "public.typed" {
				bytes += tr.Bytes
			}
		}
		return queryString(t, dial(t, target), digest), bytes
	}
	binDigest, binBytes := clone(false)
	textDigest, textBytes := clone(true)
	if binDigest != textDigest {
		t.Fatalf("staging differs between the binary path (%s) and the text path (%s)", binDigest, textDigest)
	}
	if binBytes == textBytes || binBytes == 0 {
		t.Errorf("both runs wrote %d bytes: one of them did not take the other path", binBytes)
	}
	if !strings.HasPrefix(binDigest, "3000:") || binDigest == queryString(t, dial(t, prod), digest) {
		t.Errorf("staging digest %s: rows lost or nothing masked", binDigest)
	}
	// Every masked column changed.
	target := c.NewDatabase(t)
	if _, err := Clone(ctx, sourceConfig(t, prod), mustConfig(t, target), Options{Rules: typedRules, Key: testKey(t, "typed"), Parallelism: 1}); err != nil {
		t.Fatal(err)
	}
	stg := dial(t, target)
	for _, r := range typedRules {
		col := r.Column
		q := `SELECT md5(string_agg(coalesce(` + col + `::text, '-'), ',' ORDER BY id)) FROM typed`
		if got := queryString(t, stg, q); got == queryString(t, dial(t, prod), q) {
			t.Errorf("%s: no value was masked", col)
		}
	}
}

// TestClone_binaryPathRefusesInvalidMaskedValue masks smallints near the
// top of their range with noise and no bounds: some masked values no
// longer fit. The clone fails naming the table and the column, and the
// error holds no value.
func TestClone_binaryPathRefusesInvalidMaskedValue(t *testing.T) {
	ctx := context.Background()
	c := pgtest.Require(t)
	prod := c.NewDatabase(t)
	pgtest.Exec(t, prod, `CREATE TABLE counters (id int PRIMARY KEY, hits smallint)`,
		`INSERT INTO counters SELECT g, 32767 - g FROM generate_series(0, 200) g`)
	rules := []ColumnRule{{Table: "counters", Column: "hits", Spec: masking.Spec{Transformer: "number_noise"}}}
	for _, text := range []bool{false, true} {
		_, err := Clone(ctx, sourceConfig(t, prod), mustConfig(t, c.NewDatabase(t)), Options{Rules: rules, Key: testKey(t, "overflow"), Parallelism: 1, textCopy: text})
		if err == nil {
			t.Fatalf("text path %v: masked smallints above 32767 were accepted", text)
		}
		if text {
			continue // the target's own message, which quotes the value
		}
		msg := err.Error()
		if !strings.Contains(msg, "public.counters") || !strings.Contains(msg, "column hits") || !strings.Contains(msg, "smallint") {
			t.Errorf("the error does not name the table, column and type: %v", err)
		}
		if v := regexp.MustCompile(`\b3[2-9][0-9]{3}\b`).FindString(msg); v != "" {
			t.Errorf("the error holds a value (%s): %v", v, err)
		}
	}
}
