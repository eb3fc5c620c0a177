package pgclone

import (
	"bytes"
	"context"
	"errors"
	"io"
	"strings"
	"testing"

	"github.com/stagingkit/terraform-provider-staging/internal/pgtest"
)

// binaryCases are, per SQL type, inputs the type's input function takes
// (canonical and not) and inputs it refuses.
var binaryCases = []struct {
	typ          string
	valid, wrong []string
}{
	{"numeric", []string{"0", "-0", "-0.00", "0.000", "NaN", "nan", "Infinity", "-Infinity", "inf", "+inf", "-INF", " +Infinity ",
		"1e-30", "-1E-30", "99999999999999999999.0001", "1.50", "0001.5000", "1.5e3", "1.50e1", "15e-1", "-123456789.123456789",
		"0.0001", "0.00001", "10000", "100000000", "1e100", "123.456e-2", " 42 ", "1.", ".5", "-.5e-3", "12345678.87654321",
		"1e-16383", "9" + strings.Repeat("0", 1000) + ".5", "0." + strings.Repeat("0", 2000) + "7", "1e+5", "7e0", "100.0010"},
		[]string{"", " ", "abc", "1e", "--1", "1.2.3", "e5", "NaN1", "+NaN", ".", "1e999999999999", "1e-16384", "0x10", "1 2", "1_000", "1e1000000"}},
	{"smallint", []string{"0", "32767", "-32768", " 5 ", "+7", "007", "-0"},
		[]string{"32768", "-32769", "1.5", "", "1e3", "+", "0x10", "1 2"}},
	{"integer", []string{"0", "2147483647", "-2147483648", "\t12\n"},
		[]string{"2147483648", "-2147483649", "12a"}},
	{"bigint", []string{"0", "9223372036854775807", "-9223372036854775808", "-1"},
		[]string{"9223372036854775808", "-9223372036854775809", "1.0"}},
	{"date", []string{"2000-01-01", "1999-12-31", "0044-03-15 BC", "4714-11-24 BC", "5874897-12-31", "infinity", "-infinity",
		"2024-02-29", "0001-01-01", "0001-12-31 BC", "10000-01-01", "2000-02-29", "1900-03-01", "0005-02-29 BC", "0001-02-29 BC", " 2020-05-17 ", "2020-05-17 AD"},
		[]string{"2023-02-29", "1900-02-29", "0004-02-29 BC", "4714-11-23 BC", "0000-01-01", "5874898-01-01", "2024-13-01", "2024-00-10", "2024-01-32", "yesterday-ish"}},
	{"timestamp", []string{"2000-01-01 00:00:00", "2024-02-29 23:59:59.999999", "1999-12-31 23:59:59.5", "infinity", "-infinity",
		"0044-03-15 12:34:56.789 BC", "4714-11-24 00:00:00 BC", "294276-12-31 23:59:59.999999", "2024-01-01T10:00:00",
		"2024-01-01 10:00:00+05:30", "2024-01-01 24:00:00", "2024-01-01 23:59:60", "2024-01-01 10:00:00.1234565",
		"2024-01-01 10:00:00.1234575", "2024-01-01", "1970-01-01 00:00:00.000001", "1969-12-31 23:59:59.999999", "2024-01-01 10:00"},
		[]string{"294277-01-01 00:00:00", "2024-13-01 00:00:00", "2024-01-01 25:00:00", "2024-01-01 24:00:01", "2024-01-01 10:60:00",
			"4714-11-23 23:59:59 BC", "2024-01-01 10:00:00 nonsense"}},
	{"timestamptz", []string{"2000-01-01 00:00:00+00", "2024-01-01 10:00:00+05:30", "2024-01-01 10:00:00-08", "2024-06-01 00:00:00Z",
		"0044-03-15 12:00:00+00 BC", "4714-11-24 00:00:00+00 BC", "4714-11-24 00:00:00-01 BC", "294276-12-31 23:59:59.999999+00",
		"2024-01-01 10:00:00.5+0130", "2024-01-01 10:00:00+05:30:15", "infinity", "-infinity", "2024-03-10 02:30:00"},
		[]string{"4714-11-24 00:00:00+01 BC", "294276-12-31 23:59:59.999999-01", "2024-01-01 10:00:00+16", "2024-01-01 10:00:00+05:60"}},
	{"uuid", []string{"a0eebc99-9c0b-4ef8-bb6d-6bb9bd380a11", "A0EEBC99-9C0B-4EF8-BB6D-6BB9BD380A11", "{a0eebc99-9c0b4ef8-bb6d6bb9bd380a11}",
		"a0ee-bc99-9c0b-4ef8-bb6d-6bb9-bd38-0a11", "a0eebc999c0b4ef8bb6d6bb9bd380a11", "00000000-0000-0000-0000-000000000000", "ffffffff-ffff-ffff-ffff-ffffffffffff"},
		[]string{"a0eebc99-9c0b-4ef8-bb6d-6bb9bd380a1", "{a0eebc99-9c0b-4ef8-bb6d-6bb9bd380a11", "a0eebc99-9c0b-4ef8-bb6d-6bb9bd380a11-",
			"a0eebc99-9c0b-4ef8-bb6d-6bb9bd380a111", "a0eeb-c99-9c0b-4ef8-bb6d-6bb9bd380a11", "g0eebc99-9c0b-4ef8-bb6d-6bb9bd380a11", ""}},
	{"inet", []string{"192.168.1.5", "192.168.1.5/24", "10.0.0.0/8", "0.0.0.0/0", "255.255.255.255", "1.2.3.4/32", "::1", "::", "::2",
		"::1.2.3.4", "::ffff:1.2.3.4", "::ffff:1.2.3.4/120", "2001:db8::1", "2001:db8::/32", "2001:db8:0:0:1:0:0:1", "fe80::1:2:3:4",
		"1:0:0:2:0:0:0:3", "1:2:3:4:5:6:7:8/64", "::ffff:0:1.2.3.4", "::0.0.0.1", "0:0:0:0:0:1:0:0", "1::", "1:0:0:0:0:0:0:0/128",
		"::ffff:0.0.0.0", "0:0:0:0:0:ffff:ffff:ffff", "2001:DB8::ABCD", "::/0"},
		[]string{"1.2.3.4/33", "300.1.1.1", "fe80::1%eth0", "1.2.3", "::1/129", "hello", "1.2.3.4/-1"}},
	{"cidr", []string{"10.0.0.0/8", "192.168.1.0/24", "2001:db8::/32", "::/0", "1.2.3.4/32", "0.0.0.0/0", "::ffff:1.2.3.0/120", "2001:db8::1/128"},
		[]string{"10.0.0.1/8", "2001:db8::1/32", "1.2.3.4/33"}},
}

// TestBinaryKinds_matchServer checks, for every supported type, the
// conversions against a real server: the binary form it sends decodes to
// the text it prints, that text and every other input it accepts encode
// to the binary form it sends, and input it refuses is refused (by the
// encoder, or by the server's receive function given the encoding).
func TestBinaryKinds_matchServer(t *testing.T) {
	ctx := context.Background()
	conn, err := connect(ctx, mustConfig(t, pgtest.Require(t).NewDatabase(t)), nil)
	if err != nil {
		t.Fatal(err)
	}
	defer conn.Close(ctx)
	pc := conn.PgConn()
	for _, tc := range binaryCases {
		formatType := map[string]string{"timestamp": "timestamp without time zone", "timestamptz": "timestamp with time zone"}[tc.typ]
		if formatType == "" {
			formatType = tc.typ
		}
		k, ok := binaryKindOf(formatType)
		if !ok {
			t.Fatalf("%s: no binary kind", tc.typ)
		}
		for _, in := range tc.valid {
			res := pc.ExecParams(ctx, "SELECT $1::"+tc.typ+", $1::"+tc.typ, [][]byte{[]byte(in)}, nil, []int16{0}, []int16{1, 0}).Read()
			if res.Err != nil {
				t.Errorf("%s %q: the server refuses it: %v", tc.typ, in, res.Err)
				continue
			}
			bin, text := res.Rows[0][0], string(res.Rows[0][1])
			got, err := k.appendText(nil, bin)
			if err != nil || string(got) != text {
				t.Errorf("%s %q: decoded %q (%v), the server prints %q", tc.typ, in, got, err, text)
			}
			for _, s := range []string{text, in} {
				enc, err := k.appendBinary(nil, []byte(s))
				if err != nil || !bytes.Equal(enc, bin) {
					t.Errorf("%s %q: encoded %x (%v), the server sends %x", tc.typ, s, enc, err, bin)
				}
			}
		}
		for _, in := range tc.wrong {
			if res := pc.ExecParams(ctx, "SELECT $1::"+tc.typ, [][]byte{[]byte(in)}, nil, []int16{0}, []int16{1}).Read(); res.Err == nil {
				t.Errorf("%s %q: the server accepts it, the case is wrong", tc.typ, in)
				continue
			}
			enc, err := k.appendBinary(nil, []byte(in))
			if err != nil {
				if !errors.Is(err, errBinaryValue) || (strings.TrimSpace(in) != "" && strings.Contains(err.Error(), in)) {
					t.Errorf("%s %q: error %q is not an errBinaryValue without the value", tc.typ, in, err)
				}
				continue
			}
			if res := pc.ExecParams(ctx, "SELECT $1::"+tc.typ, [][]byte{enc}, nil, []int16{1}, []int16{1}).Read(); res.Err == nil {
				t.Errorf("%s %q: encoded as %x, which the server accepts", tc.typ, in, enc)
			}
		}
	}
}

// TestBinaryKinds_rangesMatchServer decodes series of values the server
// generates across each type's range (every day of several leap cycles
// and eras, timestamps at odd microseconds, numerics of every scale) and
// checks the text against the server's.
func TestBinaryKinds_rangesMatchServer(t *testing.T) {
	ctx := context.Background()
	conn, err := connect(ctx, mustConfig(t, pgtest.Require(t).NewDatabase(t)), nil)
	if err != nil {
		t.Fatal(err)
	}
	defer conn.Close(ctx)
	for _, q := range []struct {
		kind binaryKind
		sql  string
	}{
		{binaryDate, `SELECT d::date, d::date FROM generate_series(date '0401-01-01 BC', date '0399-01-01', interval '1 day') d`},
		{binaryDate, `SELECT d::date, d::date FROM generate_series(date '1895-01-01', date '2105-01-01', interval '1 day') d`},
		{binaryDate, `SELECT (date '4714-11-24 BC' + n * 7919), (date '4714-11-24 BC' + n * 7919) FROM generate_series(0, 271000) n`},
		{binaryTimestamp, `SELECT t, t FROM (SELECT timestamp '4714-11-24 00:00:00 BC' + n * interval '3 days 7 hours 11 minutes 13.123457 seconds' AS t FROM generate_series(0, 400000) n) s`},
		{binaryTimestamptz, `SELECT t, t FROM (SELECT timestamptz '1900-01-01 00:00:00+00' + n * interval '1 day 1 hour 1.000001 seconds' AS t FROM generate_series(0, 60000) n) s`},
		{binaryNumeric, `SELECT v, v FROM (SELECT round((n * 1234567.891011 - 5e10)::numeric * 10::numeric ^ (n % 40 - 20), abs(n) % 45) AS v FROM generate_series(-3000, 3000) n) s`},
		{binaryNumeric, `SELECT v, v FROM (SELECT (n::numeric * 10::numeric ^ (n % 60 - 30))::numeric AS v FROM generate_series(-3000, 3000) n) s`},
		{binaryInet, `SELECT a, a FROM (SELECT set_masklen(('::' || to_hex(n % 7) || ':0:' || to_hex(n) || ':0:0:' || to_hex(n % 3))::inet, n % 129) AS a FROM generate_series(0, 3000) n) s`},
		{binaryInet, `SELECT a, a FROM (SELECT ('::ffff:' || (n % 256) || '.' || (n / 7 % 256) || '.0.' || (n % 5))::inet AS a FROM generate_series(0, 3000) n) s`},
	} {
		rr := conn.PgConn().ExecParams(ctx, q.sql, nil, nil, nil, []int16{1, 0})
		n := 0
		for rr.NextRow() {
			v := rr.Values()
			got, err := q.kind.appendText(nil, v[0])
			if err != nil || string(got) != string(v[1]) {
				t.Fatalf("%s: %x decoded %q (%v), the server prints %q", q.kind, v[0], got, err, v[1])
			}
			back, err := q.kind.appendBinary(nil, got)
			if err != nil || !bytes.Equal(back, v[0]) {
				t.Fatalf("%s: %q encoded %x (%v), the server sends %x", q.kind, got, back, err, v[0])
			}
			n++
		}
		if _, err := rr.Close(); err != nil || n < 3000 {
			t.Fatalf("%s: %d rows: %v", q.kind, n, err)
		}
	}
}

// FuzzNumericRoundTrip encodes any text numeric_in's grammar accepts,
// decodes the result and encodes that again: the two encodings must be
// equal, and the decoded text must be a fixed point.
func FuzzNumericRoundTrip(f *testing.F) {
	for _, tc := range binaryCases {
		if tc.typ == "numeric" {
			for _, s := range append(tc.valid, tc.wrong...) {
				f.Add([]byte(s))
			}
		}
	}
	f.Fuzz(func(t *testing.T, s []byte) {
		bin, err := appendNumericBinary(nil, s)
		if err != nil {
			if !errors.Is(err, errBinaryValue) {
				t.Fatalf("%q: %v", s, err)
			}
			return
		}
		text, err := appendNumericText(nil, bin)
		if err != nil {
			t.Fatalf("%q encoded %x, which does not decode: %v", s, bin, err)
		}
		again, err := appendNumericBinary(nil, text)
		if err != nil || !bytes.Equal(again, bin) {
			t.Fatalf("%q -> %x -> %q -> %x (%v)", s, bin, text, again, err)
		}
		if text2, _ := appendNumericText(nil, again); !bytes.Equal(text2, text) {
			t.Fatalf("%q: text %q then %q", s, text, text2)
		}
	})
}

// TestBinaryKindOf covers the type names format_type gives.
func TestBinaryKindOf(t *testing.T) {
	for typ, want := range map[string]int{
		"numeric(12,2)": int(binaryNumeric), "timestamp(3) with time zone": int(binaryTimestamptz), "timestamp without time zone": int(binaryTimestamp),
		"character varying(20)": int(binaryAsText), "text": int(binaryAsText), "bigint": int(binaryInt8), "cidr": int(binaryCidr),
		"character varying(20)[]": -1, "numeric[]": -1, "interval": -1, "real": -1, "public.money_domain": -1,
	} {
		k, ok := binaryKindOf(typ)
		if got := map[bool]int{true: int(k), false: -1}[ok]; got != want {
			t.Errorf("binaryKindOf(%q) = %d, want %d", typ, got, want)
		}
	}
	if binaryMaskable("bigint", "hash") || binaryMaskable("uuid", "redact") || !binaryMaskable("bigint", "digits") || !binaryMaskable("inet", "null") {
		t.Error("binaryMaskable takes transformers whose output the binary path cannot read, or refuses ones it can")
	}
}

// recorder is a transformer that keeps values and records the text it was
// given.
type recorder struct{ seen []string }

func (r *recorder) Name() string    { return "keep" }
func (r *recorder) Version() string { return "recorder/test" }
func (r *recorder) Bijective() bool { return true }
func (r *recorder) Transform(dst, src []byte) ([]byte, error) {
	r.seen = append(r.seen, string(src))
	return append(dst, src...), nil
}

// TestBinaryConversions_alike streams edge values of every converted type
// (BC dates and timestamps, the last ones each type holds, special
// numerics) through the text and the binary maskers in odd chunks: the
// transformers must see the same text in both, and the server must load
// the same rows from both streams.
func TestBinaryConversions_alike(t *testing.T) {
	ctx := context.Background()
	conn, err := connect(ctx, mustConfig(t, pgtest.Require(t).NewDatabase(t)), nil)
	if err != nil {
		t.Fatal(err)
	}
	defer conn.Close(ctx)
	const cols = `n numeric, i2 smallint, i4 integer, i8 bigint, d date, ts timestamp, tstz timestamptz, u uuid, ip inet, net cidr`
	kinds := []binaryKind{binaryNumeric, binaryInt2, binaryInt4, binaryInt8, binaryDate, binaryTimestamp, binaryTimestamptz, binaryUUID, binaryInet, binaryCidr}
	if _, err := conn.Exec(ctx, `CREATE TEMP TABLE edges (`+cols+`);
		INSERT INTO edges VALUES
		('NaN', -32768, -2147483648, -9223372036854775808, '4714-11-24 BC', '4714-11-24 00:00:00 BC', '4714-11-24 00:00:00+00 BC', '00000000-0000-0000-0000-000000000000', '0.0.0.0/0', '0.0.0.0/0'),
		('Infinity', 32767, 2147483647, 9223372036854775807, '5874897-12-31', '294276-12-31 23:59:59.999999', '294276-12-31 23:59:59.999999+00', 'ffffffff-ffff-ffff-ffff-ffffffffffff', '::', '::/0'),
		('-Infinity', 0, 0, 0, 'infinity', 'infinity', 'infinity', 'a0eebc99-9c0b-4ef8-bb6d-6bb9bd380a11', '::1.2.3.4', '::ffff:1.2.3.0/120'),
		('-0.000', -1, -1, -1, '-infinity', '-infinity', '-infinity', NULL, '::ffff:1.2.3.4/64', '2001:db8::/32'),
		(1e-30, 1, 1, 1, '0044-03-15 BC', '0044-03-15 12:34:56.789 BC', '0001-12-31 23:59:59.999999+00 BC', NULL, 'fe80::1:0:0:2', '10.0.0.0/8'),
		(99999999999999999999.0001, NULL, NULL, NULL, '0001-01-01', '0001-01-01 00:00:00', '2024-06-30 23:00:00.5-05:30', NULL, '1.2.3.4', '1.2.3.4/32'),
		(-1.5e300, NULL, NULL, NULL, NULL, NULL, NULL, NULL, NULL, NULL),
		(('0.' || repeat('0', 1000) || '5')::numeric, NULL, NULL, NULL, NULL, NULL, NULL, NULL, NULL, NULL)`); err != nil {
		t.Fatal(err)
	}
	run := func(format string) (string, []string) {
		var src, dst bytes.Buffer
		if _, err := conn.PgConn().CopyTo(ctx, &src, "COPY edges TO STDOUT"+format); err != nil {
			t.Fatal(err)
		}
		rec := &recorder{}
		m := &rowMasker{ncols: len(kinds)}
		for i, k := range kinds {
			m.masks = append(m.masks, columnMask{index: i, t: rec, bin: binaryField{kind: k, column: "c"}})
		}
		mw := &maskingWriter{m: m, w: &dst}
		if format != "" {
			mw.binary = &binaryRows{}
		}
		for p := src.Bytes(); len(p) > 0; {
			n := min(333, len(p))
			if _, err := mw.Write(p[:n]); err != nil {
				t.Fatal(err)
			}
			p = p[n:]
		}
		if err := mw.Close(); err != nil {
			t.Fatal(err)
		}
		table := "edges_text"
		if format != "" {
			table = "edges_binary"
		}
		if _, err := conn.Exec(ctx, "CREATE TEMP TABLE "+table+" (LIKE edges)"); err != nil {
			t.Fatal(err)
		}
		if _, err := conn.PgConn().CopyFrom(ctx, &dst, "COPY "+table+" FROM STDIN"+format); err != nil {
			t.Fatal(err)
		}
		var s string
		if err := conn.QueryRow(ctx, "SELECT string_agg(e::text, E'\\n') FROM "+table+" e").Scan(&s); err != nil {
			t.Fatal(err)
		}
		return s, rec.seen
	}
	text, textSeen := run("")
	bin, binSeen := run(" (FORMAT binary)")
	if len(textSeen) != len(binSeen) || len(textSeen) < 40 {
		t.Fatalf("the transformer saw %d values in text, %d in binary", len(textSeen), len(binSeen))
	}
	for i := range textSeen {
		if textSeen[i] != binSeen[i] {
			t.Errorf("value %d: text path %q, binary path %q", i, textSeen[i], binSeen[i])
		}
	}
	var orig string
	if err := conn.QueryRow(ctx, "SELECT string_agg(e::text, E'\\n') FROM edges e").Scan(&orig); err != nil {
		t.Fatal(err)
	}
	if text != orig || bin != orig {
		t.Errorf("loaded rows differ:\noriginal\n%s\ntext path\n%s\nbinary path\n%s", orig, text, bin)
	}
}

// constant is a transformer that writes one value whatever it is given.
type constant string

func (c constant) Name() string    { return "constant" }
func (c constant) Version() string { return "constant/test" }
func (c constant) Bijective() bool { return false }
func (c constant) Transform(dst, _ []byte) ([]byte, error) {
	return append(dst, c...), nil
}

// TestBinaryTuple_refusesInvalidMaskedValue masks real binary rows of
// every converted type into text the type cannot hold (today's
// transformers keep their output in range; this is the net under them):
// the stream fails naming the column and the type, never the value.
func TestBinaryTuple_refusesInvalidMaskedValue(t *testing.T) {
	ctx := context.Background()
	conn, err := connect(ctx, mustConfig(t, pgtest.Require(t).NewDatabase(t)), nil)
	if err != nil {
		t.Fatal(err)
	}
	defer conn.Close(ctx)
	for _, tc := range []struct {
		typ, value, bad string
	}{
		{"smallint", "7", "32768"}, {"integer", "7", "2147483648"}, {"bigint", "7", "9223372036854775808"},
		{"numeric", "7", "1e-16384"}, {"numeric", "7", "7 apples"}, {"date", "2024-01-01", "5874898-01-01"},
		{"timestamp", "2024-01-01 10:00:00", "294277-01-01 00:00:00"}, {"timestamptz", "2024-01-01 10:00:00+00", "2024-02-30 10:00:00+00"},
		{"uuid", "a0eebc99-9c0b-4ef8-bb6d-6bb9bd380a11", "a0eebc99-9c0b-4ef8-bb6d-6bb9bd380a1z"},
		{"inet", "10.1.2.3", "10.1.2.300"}, {"cidr", "10.1.2.0/24", "10.1.2.0"},
	} {
		var src bytes.Buffer
		if _, err := conn.PgConn().CopyTo(ctx, &src, "COPY (SELECT 1, '"+tc.value+"'::"+tc.typ+") TO STDOUT (FORMAT binary)"); err != nil {
			t.Fatal(err)
		}
		formatType := map[string]string{"timestamp": "timestamp without time zone", "timestamptz": "timestamp with time zone"}[tc.typ]
		if formatType == "" {
			formatType = tc.typ
		}
		m := &rowMasker{ncols: 2, masks: []columnMask{{index: 1, t: constant(tc.bad), bin: binaryFieldOf("secret_col", formatType)}}}
		mw := &maskingWriter{m: m, w: io.Discard, binary: &binaryRows{}}
		_, err := mw.Write(src.Bytes())
		if err == nil {
			t.Errorf("%s: the masked value %q was encoded", tc.typ, tc.bad)
			continue
		}
		kind, _ := binaryKindOf(formatType)
		if msg := err.Error(); !errors.Is(err, errBinaryValue) || !strings.Contains(msg, "column secret_col") || !strings.Contains(msg, kind.String()) || strings.Contains(msg, tc.bad) {
			t.Errorf("%s: the error does not name column and type, or holds the value: %v", tc.typ, err)
		}
	}
}

// FuzzBinaryKinds feeds any bytes to every kind, as a binary field and as
// a masked text: nothing panics, and a text the encoder takes comes back
// from the decoder as a text that encodes to the same binary form.
func FuzzBinaryKinds(f *testing.F) {
	for _, tc := range binaryCases {
		for _, s := range append(tc.valid, tc.wrong...) {
			f.Add([]byte(s))
		}
	}
	f.Fuzz(func(t *testing.T, s []byte) {
		for k := binaryDate; k <= binaryCidr; k++ {
			_, _ = k.appendText(nil, s)
			bin, err := k.appendBinary(nil, s)
			if err != nil {
				if !errors.Is(err, errBinaryValue) {
					t.Fatalf("%s %q: %v", k, s, err)
				}
				continue
			}
			text, err := k.appendText(nil, bin)
			if err != nil {
				t.Fatalf("%s %q encoded %x, which does not decode: %v", k, s, bin, err)
			}
			again, err := k.appendBinary(nil, text)
			if err != nil || !bytes.Equal(again, bin) {
				t.Fatalf("%s %q -> %x -> %q -> %x (%v)", k, s, bin, text, again, err)
			}
		}
	})
}
