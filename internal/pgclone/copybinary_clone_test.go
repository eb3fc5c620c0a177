package pgclone

import (
	"bytes"
	"context"
	"io"
	"strings"
	"syscall"
	"testing"
	"time"

	"github.com/stagingkit/terraform-provider-staging/internal/masking"
	"github.com/stagingkit/terraform-provider-staging/internal/pgtest"
)

// typedSchema has a masked column of every type the binary path converts
// (two through domains),
// each twice: once over ordinary values, once over the edge values the
// column's transformer takes (NaN, infinities, -0, tiny and huge numbers,
// bigint's bounds, the last day timestamps and dates can hold, with
// max_days 1 so that the shift stays in range). BC dates, which the
// shifting transformers refuse, are in TestBinaryConversions_alike.
var typedSchema = []string{
	`CREATE DOMAIN amount AS numeric(20, 4) CHECK (VALUE > -1e12)`,
	`CREATE DOMAIN moment AS timestamptz CHECK (VALUE <> '2000-01-02 00:00:00+00')`,
	`CREATE DOMAIN event_time AS moment`,
	`CREATE TABLE typed (
		id int PRIMARY KEY,
		n numeric, n_edge numeric, n_digits amount,
		i2 smallint, i4 integer, i8 bigint, i8_edge bigint,
		ts timestamp, ts_edge timestamp(6), tstz event_time, tstz_edge timestamptz,
		d date, d_edge date, u uuid, ip inet, net cidr,
		note text)`,
	`INSERT INTO typed VALUES
		(1, 12345.5, 'NaN', 12345.6789, 0, 0, 0, -9223372036854775808, 'infinity', 'infinity', 'infinity', 'infinity', 'infinity', 'infinity',
			'a0eebc99-9c0b-4ef8-bb6d-6bb9bd380a11', '10.1.2.3', '10.1.2.0/24', 'x'),
		(2, -7777.25, '-Infinity', -100000.0001, -32768, -2147483647, 9223372036854775807, 9223372036854775807, '-infinity', '-infinity', '-infinity', '-infinity', '-infinity', '-infinity',
			'ffffffff-ffff-4fff-bfff-ffffffffffff', '192.168.7.9/24', '2001:db8:1::/48', 'b'),
		(3, 1234.001, '-0.000', 100000, 32000, 2147483000, -9223372036854775000, 0, '1999-12-31 23:59:59.999999', '294276-12-30 23:59:59.999999', '2000-01-01 00:00:00+00', '294276-12-30 23:59:59.999999+00',
			'2000-02-29', '5874897-12-30', NULL, '::ffff:1.2.3.4', '::ffff:1.2.3.0/120', NULL),
		(4, 123.456e-25, 'Infinity', 99999999.9999, -1, -1, -1, -1, '2024-02-29 12:00:00.5', '0001-01-02 00:00:00', '2024-06-30 23:00:00-05:30', '0001-01-02 00:00:00.000001+00',
			'1900-03-01', '0001-01-02', 'A0EEBC99-9C0B-4EF8-BB6D-6BB9BD380A11', '2001:db8::1', '10.20.30.0/24', 'd'),
		(5, 99999999999999999999.0001, 99999999999999999999.0001, -12345678.1234, 1, 1, 1, 1, '1970-01-01 00:00:00.000001', '1970-01-01 00:00:00', '1969-12-31 23:59:59.999999+00', '2038-01-19 03:14:08+00',
			'1999-12-31', '9999-12-31', 'c0eebc99-9c0b-4ef8-bb6d-6bb9bd380a11', 'fe80::1:2:3:4/64', '2001:db8:abcd::/48', 'e'),
		(6, ('0.' || repeat('0', 300) || '1234')::numeric, 1e-30, 123456.789, 2, 3, 4, 5, '2010-10-10 10:10:10', '2010-10-10 10:10:10', '2010-10-10 10:10:10+02', '2010-10-10 10:10:10+02',
			'2010-10-10', '2010-10-10', NULL, '::', NULL, NULL),
		(7, 123456789012345678901234567890.123456789, -1.5e300, NULL, NULL, NULL, NULL, NULL, NULL, NULL, NULL, NULL, NULL, NULL, NULL, NULL, NULL, NULL),
		(8, -9.87654e-16, ('0.' || repeat('0', 300) || '1234')::numeric, NULL, NULL, NULL, NULL, NULL, NULL, NULL, NULL, NULL, NULL, NULL, NULL, '::ffff:0.0.0.1', NULL, NULL)`,
	`INSERT INTO typed (id, n, n_edge, n_digits, i2, i4, i8, i8_edge, ts, ts_edge, tstz, tstz_edge, d, d_edge, u, ip, net, note)
		SELECT g, (g * 37.25 + 10000)::numeric, (g * 1.5)::numeric, g * 1000.5 + 100000, (g % 30000)::smallint, g * 1000, g::bigint * 1000000007, -g,
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
	// Sessions of both databases default to a zone with an offset and
	// summer time: the copy sessions must pin theirs (UTC), or the text
	// path would mask timestamptz text the binary path never sees.
	const newYork = `DO $$ BEGIN EXECUTE format('ALTER DATABASE %I SET TimeZone = %L', current_database(), 'America/New_York'); END $$`
	pgtest.Exec(t, prod, newYork)
	digest := `SELECT count(*) || ':' || md5(string_agg(t::text, ',' ORDER BY id)) FROM typed t`
	clone := func(text bool) (string, int64, string) {
		t.Helper()
		target := c.NewDatabase(t)
		pgtest.Exec(t, target, newYork)
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
		return queryString(t, dial(t, target), digest), bytes, target
	}
	binDigest, binBytes, target := clone(false)
	textDigest, textBytes, _ := clone(true)
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
	stg := dial(t, target)
	for _, r := range typedRules {
		col := r.Column
		q := `SELECT md5(string_agg(coalesce(` + col + `::text, '-'), ',' ORDER BY id)) FROM typed`
		if got := queryString(t, stg, q); got == queryString(t, dial(t, prod), q) {
			t.Errorf("%s: no value was masked", col)
		}
	}
}

// benchOrders is an orders table of 300,000 rows whose masked columns
// (a numeric total, a bigint customer reference and a timestamptz) sent
// the whole table through the text path before the binary path could
// convert them.
var benchOrders = []string{
	`CREATE TABLE orders (id bigint PRIMARY KEY, customer_id bigint NOT NULL, total numeric(12, 2) NOT NULL,
		placed_at timestamptz NOT NULL, status text NOT NULL, note text)`,
	`INSERT INTO orders SELECT g, (g % 50000) * 7919 + 1000000, round(100000 + (g % 100000) * 13.7 + 0.01, 2),
		timestamptz '2020-01-01 00:00:00+00' + g * interval '97.123456 seconds', (ARRAY['new', 'paid', 'shipped'])[g % 3 + 1], '#' || (g % 1000)
		FROM generate_series(1, 300000) g`,
	`ANALYZE orders`,
}

var benchOrdersRules = []ColumnRule{
	{Table: "orders", Column: "customer_id", Spec: masking.Spec{Transformer: "digits"}},
	{Table: "orders", Column: "total", Spec: masking.Spec{Transformer: "number_noise", Options: map[string]any{"ratio": 0.5}}},
	{Table: "orders", Column: "placed_at", Spec: masking.Spec{Transformer: "timestamp_shift"}},
}

// benchOrdersWide adds to benchOrders' masked columns the unmasked ones
// an orders table usually has (amounts, quantities, more timestamps),
// all of which the text path makes both servers convert.
var benchOrdersWide = []string{
	`CREATE TABLE orders_wide (id bigint PRIMARY KEY, customer_id bigint NOT NULL, total numeric(12, 2) NOT NULL,
		placed_at timestamptz NOT NULL, status text NOT NULL, note text,
		subtotal numeric(12, 2), tax numeric(12, 2), shipping numeric(12, 2), weight_kg numeric(10, 3), quantity integer,
		created_at timestamptz, updated_at timestamptz, shipped_at timestamptz, warehouse_id bigint)`,
	`INSERT INTO orders_wide SELECT id, customer_id, total, placed_at, status, note,
		round(total / 1.19, 2), round(total - total / 1.19, 2), 4.99, (id % 5000) / 100.0, id % 7 + 1,
		placed_at - interval '3 minutes', placed_at + interval '2 days 1 hour', placed_at + interval '1 day 7 hours', id % 40
		FROM orders`,
	`ANALYZE orders_wide`,
}

// BenchmarkClone_maskedTypes clones benchOrders, and the same rows with
// the unmasked columns of benchOrdersWide, through the binary and the text
// path in turn (interleaved, so a loaded machine weighs on both alike),
// and reports for each path the data phase's seconds, masked values per
// second, source megabytes (pg_table_size) per second, and the client's
// CPU seconds per clone.
func BenchmarkClone_maskedTypes(b *testing.B) {
	ctx := context.Background()
	c := pgtest.Require(b)
	prod := c.NewDatabase(b)
	pgtest.Exec(b, prod, benchOrders...)
	pgtest.Exec(b, prod, benchOrdersWide...)
	for _, shape := range []string{"orders", "orders_wide"} {
		var size int64
		if err := dial(b, prod).QueryRow(ctx, `SELECT pg_table_size($1)`, shape).Scan(&size); err != nil {
			b.Fatal(err)
		}
		var rules []ColumnRule
		for _, r := range benchOrdersRules {
			r.Table = shape
			rules = append(rules, r)
		}
		if shape == "orders_wide" {
			// Amounts, not phone numbers, whatever the detector thinks.
			for _, col := range []string{"subtotal", "tax"} {
				rules = append(rules, ColumnRule{Table: shape, Column: col, Spec: masking.Spec{Transformer: "keep"}})
			}
		}
		b.Run(shape, func(b *testing.B) {
			target := c.NewDatabase(b)
			var data, cpu [2]time.Duration
			for b.Loop() {
				for i, text := range []bool{false, true} {
					opts := Options{Rules: rules, Key: testKey(b, "bench"), Parallelism: 1, textCopy: text, IncludeTables: []string{"public." + shape}}
					cpu0 := processCPU()
					res, err := Clone(ctx, sourceConfig(b, prod), mustConfig(b, target), opts)
					if err != nil {
						b.Fatal(err)
					}
					cpu[i] += processCPU() - cpu0
					data[i] += res.DataDuration
				}
			}
			for i, path := range []string{"binary", "text"} {
				b.ReportMetric(data[i].Seconds()/float64(b.N), path+"-data-s")
				b.ReportMetric(float64(3*300_000*b.N)/data[i].Seconds(), path+"-masked-values/s")
				b.ReportMetric(float64(size)*float64(b.N)/1e6/data[i].Seconds(), path+"-MB/s")
				b.ReportMetric(cpu[i].Seconds()/float64(b.N), path+"-client-cpu-s")
			}
		})
	}
}

// BenchmarkMaskingWriter_maskedTypes masks a captured COPY stream of
// benchOrders, text and binary, without a database in the loop: the
// client's CPU per path.
func BenchmarkMaskingWriter_maskedTypes(b *testing.B) {
	ctx := context.Background()
	prod := pgtest.Require(b).NewDatabase(b)
	pgtest.Exec(b, prod, benchOrders...)
	conn, err := connect(ctx, mustConfig(b, prod), nil)
	if err != nil {
		b.Fatal(err)
	}
	defer conn.Close(ctx)
	key := testKey(b, "bench")
	masks := func() []columnMask {
		var out []columnMask
		for i, r := range benchOrdersRules {
			typ := map[string]string{"customer_id": "bigint", "total": "numeric(12,2)", "placed_at": "timestamp with time zone"}[r.Column]
			out = append(out, columnMask{index: i + 1, t: mustTransformer(b, r.Spec, key), bin: binaryFieldOf(r.Column, typ)})
		}
		return out
	}
	for _, format := range []string{"text", "binary"} {
		b.Run(format, func(b *testing.B) {
			var src bytes.Buffer
			suffix := ""
			if format == "binary" {
				suffix = " (FORMAT binary)"
			}
			if _, err := conn.PgConn().CopyTo(ctx, &src, `COPY (SELECT id, customer_id, total, placed_at, status, note FROM orders) TO STDOUT`+suffix); err != nil {
				b.Fatal(err)
			}
			b.SetBytes(int64(src.Len()))
			cpu0 := processCPU()
			for b.Loop() {
				mw := &maskingWriter{m: &rowMasker{ncols: 6, masks: masks()}, w: io.Discard}
				if format == "binary" {
					mw.binary = &binaryRows{}
				}
				for p := src.Bytes(); len(p) > 0; {
					n := min(64<<10, len(p))
					if _, err := mw.Write(p[:n]); err != nil {
						b.Fatal(err)
					}
					p = p[n:]
				}
				if err := mw.Close(); err != nil || mw.rows.Load() != 300_000 {
					b.Fatal(err, mw.rows.Load())
				}
			}
			b.ReportMetric(float64(3*300_000*b.N)/b.Elapsed().Seconds(), "masked-values/s")
			b.ReportMetric(float64(3*300_000*b.N)/(processCPU()-cpu0).Seconds(), "masked-values/cpu-s")
		})
	}
}

// processCPU is the CPU time the process has used, user and system: on
// a loaded machine it measures work where wall time measures the queue.
func processCPU() time.Duration {
	var ru syscall.Rusage
	_ = syscall.Getrusage(syscall.RUSAGE_SELF, &ru)
	return time.Duration(ru.Utime.Nano() + ru.Stime.Nano())
}
