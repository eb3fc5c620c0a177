package pgclone

import (
	"bytes"
	"encoding/binary"
	"errors"
	"fmt"
	"math"
	"net/netip"
	"strconv"
	"strings"

	"github.com/stagingkit/terraform-provider-staging/internal/masking"
)

// This file converts the binary COPY form of the masked column types the
// binary path supports to the exact text PostgreSQL's output function
// prints in the copy sessions (DateStyle ISO, TimeZone UTC: see
// sessionParams), and a masked text back to the binary form the type's
// receive function takes. Transformers work on text, so a column masks the
// same whichever path streams it. The binary forms are PostgreSQL's own:
// int2send/int4send/int8send, numeric_send (numeric.c), date_send and
// timestamp_send (days or microseconds since 2000-01-01, date.c and
// timestamp.c), uuid_send (uuid.c) and network_send (network.c).
//
// Text is parsed the way the type's input function parses it for the
// forms transformers write (numbers: PostgreSQL 15's whole grammar;
// dates and timestamps: ISO; uuid: uuid_in's; inet and cidr: addresses
// with an optional /bits). Neither direction allocates for the forms
// PostgreSQL prints when dst has room (an exponent, a numeric of more than
// 64 digits, a fraction finer than microseconds and inet text do).

// binaryKind says how the binary path reads and writes one masked column.
type binaryKind uint8

const (
	binaryAsText binaryKind = iota // text-like: the binary form is the text
	binaryDate
	binaryInt2
	binaryInt4
	binaryInt8
	binaryNumeric
	binaryTimestamp
	binaryTimestamptz
	binaryUUID
	binaryInet
	binaryCidr
)

// binaryKinds maps format_type names, without a type modifier, to the
// kinds converted through text.
var binaryKinds = map[string]binaryKind{
	"date":                        binaryDate,
	"smallint":                    binaryInt2,
	"integer":                     binaryInt4,
	"bigint":                      binaryInt8,
	"numeric":                     binaryNumeric,
	"timestamp without time zone": binaryTimestamp,
	"timestamp with time zone":    binaryTimestamptz,
	"uuid":                        binaryUUID,
	"inet":                        binaryInet,
	"cidr":                        binaryCidr,
}

// binaryKindNames are the SQL names of the kinds, for errors.
var binaryKindNames = [...]string{"text", "date", "smallint", "integer", "bigint", "numeric",
	"timestamp", "timestamp with time zone", "uuid", "inet", "cidr"}

func (k binaryKind) String() string { return binaryKindNames[k] }

// binaryTransformers are the transformers whose output, for each kind,
// is in a form the kind's parser reads exactly as the type's input
// function does ("keep" and "null" fit every kind). A column masked
// otherwise (redact, hash, regex_replace...) stays on the text path,
// where the target's input function judges the masked text.
var binaryTransformers = map[binaryKind][]string{
	binaryDate:        {"date_shift"},
	binaryInt2:        {"number_noise", "digits"},
	binaryInt4:        {"number_noise", "digits"},
	binaryInt8:        {"number_noise", "digits"},
	binaryNumeric:     {"number_noise", "digits"},
	binaryTimestamp:   {"timestamp_shift"},
	binaryTimestamptz: {"timestamp_shift"},
	binaryUUID:        {"uuid"},
	binaryInet:        {"ip"},
	binaryCidr:        {"ip"},
}

// binaryKindOf returns the kind of a column of SQL type typ (format_type
// output), and false for a type the binary path cannot mask (arrays
// among them).
func binaryKindOf(typ string) (binaryKind, bool) {
	if strings.HasSuffix(typ, "]") {
		return 0, false
	}
	if binaryTextLike(typ) {
		return binaryAsText, true
	}
	// numeric(10,2), timestamp(3) with time zone: drop the modifier.
	if i := strings.IndexByte(typ, '('); i >= 0 {
		if j := strings.IndexByte(typ[i:], ')'); j >= 0 {
			typ = typ[:i] + typ[i+j+1:]
		}
	}
	k, ok := binaryKinds[typ]
	return k, ok
}

// binaryMaskable reports whether a column of type typ masked by
// transformer can stream in binary COPY.
func binaryMaskable(typ, transformer string) bool {
	k, ok := binaryKindOf(typ)
	switch {
	case !ok:
		return false
	case k == binaryAsText || transformer == "keep" || transformer == "null":
		return true
	}
	for _, name := range binaryTransformers[k] {
		if name == transformer {
			return true
		}
	}
	return false
}

// binaryType is the type whose send and receive functions carry the
// column's values in binary COPY: a domain's base type (domain_recv
// checks the domain's constraints after its base type's receive
// function, as domain_in does after its input function).
func (c *column) binaryType() string {
	if c.baseTyp != "" {
		return c.baseTyp
	}
	return c.typ
}

// binaryField is how the binary path masks one column.
type binaryField struct {
	kind   binaryKind
	column string // for errors
}

// binaryFieldOf is the binaryField of a masked column of type typ.
func binaryFieldOf(name, typ string) binaryField {
	k, _ := binaryKindOf(typ)
	return binaryField{kind: k, column: name}
}

// errBinaryValue is wrapped by errors about a value a column's binary
// form cannot hold. They name the column and the type, never the value.
var errBinaryValue = errors.New("not a valid value")

// appendText appends the text form of v, a non-NULL binary field.
func (k binaryKind) appendText(dst, v []byte) ([]byte, error) {
	switch k {
	case binaryAsText:
		return append(dst, v...), nil
	case binaryDate:
		return appendDateText(dst, v)
	case binaryInt2, binaryInt4, binaryInt8:
		if len(v) != 2<<(k-binaryInt2) {
			return dst, errBinaryCopy
		}
		var n int64
		switch len(v) {
		case 2:
			n = int64(int16(binary.BigEndian.Uint16(v)))
		case 4:
			n = int64(int32(binary.BigEndian.Uint32(v)))
		default:
			n = int64(binary.BigEndian.Uint64(v))
		}
		return strconv.AppendInt(dst, n, 10), nil
	case binaryNumeric:
		return appendNumericText(dst, v)
	case binaryTimestamp, binaryTimestamptz:
		return appendTimestampText(dst, v, k == binaryTimestamptz)
	case binaryUUID:
		return appendUUIDText(dst, v)
	case binaryInet, binaryCidr:
		return appendInetText(dst, v)
	}
	return dst, errBinaryCopy
}

// appendBinary appends the binary form of s, without a length word. An
// error wraps errBinaryValue and does not hold s.
func (k binaryKind) appendBinary(dst, s []byte) ([]byte, error) {
	switch k {
	case binaryAsText:
		return append(dst, s...), nil
	case binaryDate:
		return appendDateBinary(dst, s)
	case binaryInt2, binaryInt4, binaryInt8:
		bits := 16 << (k - binaryInt2)
		n, err := parseInt(trimPGSpace(s), bits)
		if err != nil {
			return dst, err
		}
		switch bits {
		case 16:
			return binary.BigEndian.AppendUint16(dst, uint16(n)), nil
		case 32:
			return binary.BigEndian.AppendUint32(dst, uint32(n)), nil
		}
		return binary.BigEndian.AppendUint64(dst, uint64(n)), nil
	case binaryNumeric:
		return appendNumericBinary(dst, s)
	case binaryTimestamp, binaryTimestamptz:
		return appendTimestampBinary(dst, s, k == binaryTimestamptz)
	case binaryUUID:
		return appendUUIDBinary(dst, s)
	case binaryInet, binaryCidr:
		return appendInetBinary(dst, s, k == binaryCidr)
	}
	return dst, errBinaryValue
}

// parseInt reads [+-]digits as pg_strtoint16/32/64 do (PostgreSQL 15)
// into a signed integer of the given bits.
func parseInt(s []byte, bits int) (int64, error) {
	neg := len(s) > 0 && s[0] == '-'
	if len(s) > 0 && (s[0] == '-' || s[0] == '+') {
		s = s[1:]
	}
	if len(s) == 0 {
		return 0, errBinaryValue
	}
	limit := uint64(1) << (bits - 1) // the magnitude of the minimum
	var u uint64
	for _, c := range s {
		if c < '0' || c > '9' {
			return 0, errBinaryValue
		}
		if u > (limit-uint64(c-'0'))/10 {
			return 0, fmt.Errorf("%w: out of range", errBinaryValue)
		}
		u = u*10 + uint64(c-'0')
	}
	if !neg && u == limit {
		return 0, fmt.Errorf("%w: out of range", errBinaryValue)
	}
	if neg {
		return -int64(u-1) - 1, nil
	}
	return int64(u), nil
}

// Numeric: numeric_send writes int16 ndigits, int16 weight, uint16 sign,
// uint16 dscale and ndigits base-10000 digits; the value is
// sum(digits[i] * 10000^(weight-i)), printed with dscale decimals.
const (
	numericPos     = 0x0000
	numericNeg     = 0x4000
	numericNaN     = 0xC000
	numericPInf    = 0xD000
	numericNInf    = 0xF000
	numericBase    = 10000
	numericMaxDSc  = 0x3FFF // NUMERIC_DSCALE_MAX
	numericMaxWgt  = math.MaxInt16
	numericHdrSize = 8
)

// appendNumericText appends the text numeric_out prints (get_str_from_var).
func appendNumericText(dst, v []byte) ([]byte, error) {
	if len(v) < numericHdrSize {
		return dst, errBinaryCopy
	}
	ndigits := int(binary.BigEndian.Uint16(v))
	weight := int(int16(binary.BigEndian.Uint16(v[2:])))
	sign := binary.BigEndian.Uint16(v[4:])
	dscale := int(binary.BigEndian.Uint16(v[6:]))
	if len(v) != numericHdrSize+2*ndigits || dscale > numericMaxDSc {
		return dst, errBinaryCopy
	}
	switch sign {
	case numericNaN:
		return append(dst, "NaN"...), nil
	case numericPInf:
		return append(dst, "Infinity"...), nil
	case numericNInf:
		return append(dst, "-Infinity"...), nil
	case numericNeg:
		dst = append(dst, '-')
	case numericPos:
	default:
		return dst, errBinaryCopy
	}
	digits := v[numericHdrSize:]
	d := 0
	if weight < 0 {
		d = weight + 1
		dst = append(dst, '0')
	} else {
		for ; d <= weight; d++ {
			g := numericDigit(digits, d)
			if g >= numericBase {
				return dst, errBinaryCopy
			}
			if d == 0 {
				dst = strconv.AppendInt(dst, int64(g), 10) // no leading zeros
			} else {
				dst = appendGroup(dst, g, 4)
			}
		}
	}
	if dscale > 0 {
		dst = append(dst, '.')
		for i := 0; i < dscale; d, i = d+1, i+4 {
			g := numericDigit(digits, d)
			if g >= numericBase {
				return dst, errBinaryCopy
			}
			dst = appendGroup(dst, g, min(4, dscale-i))
		}
	}
	return dst, nil
}

// numericDigit is base-10000 digit d of digits, 0 outside them.
func numericDigit(digits []byte, d int) int {
	if d < 0 || 2*d >= len(digits) {
		return 0
	}
	return int(digits[2*d])<<8 | int(digits[2*d+1])
}

// appendGroup appends the first n of the four decimal digits of g.
func appendGroup(dst []byte, g, n int) []byte {
	var b [4]byte
	for j := 3; j >= 0; j-- {
		b[j] = byte('0' + g%10)
		g /= 10
	}
	return append(dst, b[:n]...)
}

// appendNumericBinary appends the binary form of numeric text, as
// numeric_in reads it (PostgreSQL 15): spaces around, NaN and
// [+-]Infinity or [+-]inf in any case, or [+-]digits[.digits][e[+-]digits]
// with at least one digit; the display scale is the number of decimals
// less the exponent. The result is normalised as make_result stores it.
func appendNumericBinary(dst, s []byte) ([]byte, error) {
	s = trimPGSpace(s)
	if len(s) > 0 && (s[0] < '0' || s[0] > '9') && s[0] != '.' {
		if sign, ok := numericSpecial(s); ok {
			// numeric_send's dscale of a special value is what its short
			// header's dscale bits hold: 32 for the infinities, 0 for NaN.
			return append(dst, 0, 0, 0, 0, byte(sign>>8), 0, 0, byte(sign&0x1F80>>7)), nil
		}
	}
	i, neg := 0, false
	if len(s) > 0 && (s[0] == '+' || s[0] == '-') {
		neg, i = s[0] == '-', 1
	}
	// The digits without the point; intDigits of them come before it.
	var buf [64]byte
	ds := buf[:0]
	intDigits, point := -1, false
	for ; i < len(s); i++ {
		c := s[i]
		if '0' <= c && c <= '9' {
			ds = append(ds, c-'0')
		} else if c == '.' && !point {
			point, intDigits = true, len(ds)
		} else {
			break
		}
	}
	if len(ds) == 0 {
		return dst, errBinaryValue
	}
	if !point {
		intDigits = len(ds)
	}
	frac := len(ds) - intDigits
	exp := 0
	if i < len(s) {
		if s[i] != 'e' && s[i] != 'E' {
			return dst, errBinaryValue
		}
		e, err := strconv.ParseInt(string(s[i+1:]), 10, 32)
		if err != nil && !errors.Is(err, strconv.ErrRange) {
			return dst, errBinaryValue
		}
		if err != nil || e >= math.MaxInt32/2 || e <= -(math.MaxInt32/2) {
			return dst, fmt.Errorf("%w: overflows numeric format", errBinaryValue)
		}
		exp = int(e)
	}
	dscale := max(0, frac-exp)
	if dscale > numericMaxDSc {
		return dst, fmt.Errorf("%w: overflows numeric format", errBinaryValue)
	}
	// Leading and trailing zeros carry nothing.
	for len(ds) > 0 && ds[0] == 0 {
		ds = ds[1:]
		intDigits--
	}
	for len(ds) > 0 && ds[len(ds)-1] == 0 {
		ds = ds[:len(ds)-1]
	}
	if len(ds) == 0 { // zero
		return append(dst, 0, 0, 0, 0, 0, 0, byte(dscale>>8), byte(dscale)), nil
	}
	// top is the decimal exponent of ds[0]; the base-10000 digit holding
	// it is the weight, and its first lead decimal digits are in ds.
	top := intDigits - 1 + exp
	weight := floorDiv(top, 4)
	if weight > numericMaxWgt {
		return dst, fmt.Errorf("%w: overflows numeric format", errBinaryValue)
	}
	lead := top - 4*weight + 1
	n := 1 + (len(ds)-lead+3)/4
	sign := byte(0)
	if neg {
		sign = numericNeg >> 8
	}
	dst = append(dst, byte(n>>8), byte(n), byte(weight>>8), byte(weight), sign, 0, byte(dscale>>8), byte(dscale))
	for g, k := 0, 0; g < n; g++ {
		size := 4
		if g == 0 {
			size = lead
		}
		v := 0
		for range size {
			v *= 10
			if k < len(ds) {
				v += int(ds[k])
			}
			k++
		}
		dst = append(dst, byte(v>>8), byte(v))
	}
	return dst, nil
}

// numericSpecial reads NaN, [+-]Infinity and [+-]inf in any case.
func numericSpecial(s []byte) (uint16, bool) {
	sign := uint16(numericPInf)
	t := s
	if t[0] == '+' || t[0] == '-' {
		if t[0] == '-' {
			sign = numericNInf
		}
		t = t[1:]
	}
	switch {
	case bytes.EqualFold(s, []byte("NaN")):
		return numericNaN, true
	case bytes.EqualFold(t, []byte("Infinity")), bytes.EqualFold(t, []byte("inf")):
		return sign, true
	}
	return 0, false
}

// trimPGSpace drops the C-locale white space PostgreSQL's input
// functions skip around a value.
func trimPGSpace(s []byte) []byte {
	for len(s) > 0 && (s[0] == ' ' || '\t' <= s[0] && s[0] <= '\r') {
		s = s[1:]
	}
	for len(s) > 0 && (s[len(s)-1] == ' ' || '\t' <= s[len(s)-1] && s[len(s)-1] <= '\r') {
		s = s[:len(s)-1]
	}
	return s
}

func floorDiv(a, b int) int {
	q := a / b
	if a%b != 0 && (a < 0) != (b < 0) {
		q--
	}
	return q
}

// Dates and timestamps count days or microseconds from 2000-01-01 in the
// proleptic Gregorian calendar; year 0 is 1 BC.
const (
	usPerDay = 86_400_000_000
	// minTimestamp and endTimestamp bound valid timestamps: 4714-11-24
	// BC 00:00 and 294277-01-01 00:00 (MIN_TIMESTAMP, END_TIMESTAMP).
	minTimestamp = -211_813_488_000_000_000
	endTimestamp = 9_223_371_331_200_000_000
	// minDate and endDate bound valid dates (IS_VALID_DATE): Julian day 0
	// (4714-11-24 BC) and 5874898-01-01, as days since 2000-01-01.
	minDate = -2_451_545
	endDate = 2_147_483_494 - 2_451_545
	// epochDays is 2000-01-01 in days since 1970-01-01.
	epochDays = 10_957
)

// daysFromCivil returns the days since 2000-01-01 (PostgreSQL's epoch) of
// a proleptic Gregorian date.
func daysFromCivil(y, m, d int) int { return masking.DaysFromCivil(y, m, d) - epochDays }

// civilFromDays is the inverse of daysFromCivil.
func civilFromDays(z int) (y, m, d int) { return masking.CivilFromDays(z + epochDays) }

func isLeap(y int) bool { return y%4 == 0 && (y%100 != 0 || y%400 == 0) }

func daysIn(y, m int) int {
	switch m {
	case 2:
		if isLeap(y) {
			return 29
		}
		return 28
	case 4, 6, 9, 11:
		return 30
	}
	return 31
}

// appendISODate appends a date as DateStyle ISO prints it, without the
// " BC" a year before 1 takes at the very end.
func appendISODate(dst []byte, y, m, d int) []byte {
	if y <= 0 {
		y = 1 - y
	}
	if y < 1000 {
		dst = appendGroup(dst, y, 4)
	} else {
		dst = strconv.AppendInt(dst, int64(y), 10)
	}
	dst = append(dst, '-', byte('0'+m/10), byte('0'+m%10), '-', byte('0'+d/10), byte('0'+d%10))
	return dst
}

// appendDateText appends the text date_out prints for a binary date.
func appendDateText(dst, v []byte) ([]byte, error) {
	if len(v) != 4 {
		return dst, errBinaryCopy
	}
	switch days := int32(binary.BigEndian.Uint32(v)); days {
	case math.MaxInt32:
		return append(dst, "infinity"...), nil
	case math.MinInt32:
		return append(dst, "-infinity"...), nil
	default:
		y, m, d := civilFromDays(int(days))
		dst = appendISODate(dst, y, m, d)
		if y <= 0 {
			dst = append(dst, " BC"...)
		}
		return dst, nil
	}
}

// appendDateBinary appends the binary form of an ISO date text.
func appendDateBinary(dst, s []byte) ([]byte, error) {
	s = trimPGSpace(s)
	switch {
	case bytes.EqualFold(s, []byte("infinity")):
		return binary.BigEndian.AppendUint32(dst, math.MaxInt32), nil
	case bytes.EqualFold(s, []byte("-infinity")):
		return binary.BigEndian.AppendUint32(dst, math.MaxInt32+1), nil
	}
	var ts isoTime
	rest, err := ts.parseDate(s)
	if err != nil {
		return dst, err
	}
	if rest, err = ts.parseEra(rest); err != nil || len(rest) > 0 {
		return dst, errBinaryValue
	}
	days, err := ts.days()
	if err != nil {
		return dst, err
	}
	if days < minDate || days >= endDate {
		return dst, fmt.Errorf("%w: date out of range", errBinaryValue)
	}
	return binary.BigEndian.AppendUint32(dst, uint32(int32(days))), nil
}

// appendTimestampText appends the text timestamp_out (or timestamptz_out
// in TimeZone UTC) prints for a binary timestamp.
func appendTimestampText(dst, v []byte, tz bool) ([]byte, error) {
	if len(v) != 8 {
		return dst, errBinaryCopy
	}
	us := int64(binary.BigEndian.Uint64(v))
	switch us {
	case math.MaxInt64:
		return append(dst, "infinity"...), nil
	case math.MinInt64:
		return append(dst, "-infinity"...), nil
	}
	if us < minTimestamp || us >= endTimestamp {
		return dst, fmt.Errorf("%w: timestamp out of range", errBinaryCopy)
	}
	days := floorDiv64(us, usPerDay)
	tod := us - days*usPerDay
	y, m, d := civilFromDays(int(days))
	dst = appendISODate(dst, y, m, d)
	secs := tod / 1e6
	h, mi, sec := secs/3600, secs/60%60, secs%60
	dst = append(dst, ' ', byte('0'+h/10), byte('0'+h%10), ':', byte('0'+mi/10), byte('0'+mi%10), ':', byte('0'+sec/10), byte('0'+sec%10))
	if frac := tod % 1e6; frac != 0 {
		dst = append(dst, '.')
		n := 6
		for frac%10 == 0 {
			frac /= 10
			n--
		}
		var b [6]byte
		for j := n - 1; j >= 0; j-- {
			b[j] = byte('0' + frac%10)
			frac /= 10
		}
		dst = append(dst, b[:n]...)
	}
	if tz {
		dst = append(dst, "+00"...)
	}
	if y <= 0 {
		dst = append(dst, " BC"...)
	}
	return dst, nil
}

func floorDiv64(a, b int64) int64 {
	q := a / b
	if a%b != 0 && (a < 0) != (b < 0) {
		q--
	}
	return q
}

// isoTime is a date and time read from ISO text.
type isoTime struct {
	year, month, day   int // year as written (before BC is applied)
	hour, min, sec     int
	us                 int64 // fraction of a second, rounded to microseconds
	offset             int   // seconds east of UTC
	hasOffset, bc, set bool
}

// digitsAt reads at least minN and at most maxN decimal digits.
func digitsAt(s []byte, minN, maxN int) (v, n int) {
	for n < len(s) && n < maxN && '0' <= s[n] && s[n] <= '9' {
		v = v*10 + int(s[n]-'0')
		n++
	}
	if n < minN {
		return 0, -1
	}
	return v, n
}

// parseDate reads YYYY-MM-DD (four or more year digits) and returns the
// rest.
func (t *isoTime) parseDate(s []byte) ([]byte, error) {
	var n int
	if t.year, n = digitsAt(s, 4, 9); n < 0 || len(s) < n+6 || s[n] != '-' || s[n+3] != '-' {
		return s, errBinaryValue
	}
	s = s[n+1:]
	if t.month, n = digitsAt(s, 2, 2); n < 0 {
		return s, errBinaryValue
	}
	if t.day, n = digitsAt(s[3:], 2, 2); n < 0 {
		return s, errBinaryValue
	}
	return s[5:], nil
}

// parseEra reads an optional " BC" or " AD".
func (t *isoTime) parseEra(s []byte) ([]byte, error) {
	if len(s) >= 3 && s[0] == ' ' {
		switch {
		case bytes.EqualFold(s[1:3], []byte("BC")):
			t.bc = true
			return s[3:], nil
		case bytes.EqualFold(s[1:3], []byte("AD")):
			return s[3:], nil
		}
	}
	return s, nil
}

// days validates the date and returns its day number.
func (t *isoTime) days() (int, error) {
	y := t.year
	if y == 0 {
		return 0, fmt.Errorf("%w: date out of range", errBinaryValue)
	}
	if t.bc {
		y = 1 - y
	}
	if t.month < 1 || t.month > 12 || t.day < 1 || t.day > daysIn(y, t.month) {
		return 0, fmt.Errorf("%w: date out of range", errBinaryValue)
	}
	// IS_VALID_JULIAN: from 4714-11-24 BC.
	if y < -4713 || (y == -4713 && (t.month < 11 || (t.month == 11 && t.day < 24))) || y > 5874897 {
		return 0, fmt.Errorf("%w: date out of range", errBinaryValue)
	}
	return daysFromCivil(y, t.month, t.day), nil
}

// appendTimestampBinary appends the binary form of an ISO timestamp:
// YYYY-MM-DD[( |T)HH:MM[:SS[.fraction]]][Z|(+|-)HH[[:]MM[:SS]]][ BC],
// spaces around, or [-]infinity. As timestamp_in does, a timestamp
// without time zone ignores an offset, and a fraction is rounded to
// microseconds (half to even, as rint).
func appendTimestampBinary(dst, s []byte, tz bool) ([]byte, error) {
	s = trimPGSpace(s)
	switch {
	case bytes.EqualFold(s, []byte("infinity")):
		return binary.BigEndian.AppendUint64(dst, math.MaxInt64), nil
	case bytes.EqualFold(s, []byte("-infinity")):
		return binary.BigEndian.AppendUint64(dst, 1<<63), nil
	}
	var t isoTime
	s, err := t.parseDate(s)
	if err != nil {
		return dst, err
	}
	if len(s) > 0 && (s[0] == ' ' || s[0] == 'T') && len(s) > 1 && '0' <= s[1] && s[1] <= '9' {
		if s, err = t.parseTime(s[1:]); err != nil {
			return dst, err
		}
	}
	if s, err = t.parseEra(s); err != nil || len(s) > 0 {
		return dst, errBinaryValue
	}
	days, err := t.days()
	if err != nil {
		return dst, err
	}
	if days < minTimestamp/usPerDay-1 || days > endTimestamp/usPerDay+1 {
		return dst, fmt.Errorf("%w: timestamp out of range", errBinaryValue)
	}
	us := int64(days)*usPerDay + int64((t.hour*60+t.min)*60+t.sec)*1e6 + t.us
	if tz && t.hasOffset {
		us -= int64(t.offset) * 1e6
	}
	if us < minTimestamp || us >= endTimestamp {
		return dst, fmt.Errorf("%w: timestamp out of range", errBinaryValue)
	}
	return binary.BigEndian.AppendUint64(dst, uint64(us)), nil
}

// parseTime reads HH:MM[:SS[.fraction]] and an optional offset.
func (t *isoTime) parseTime(s []byte) ([]byte, error) {
	var n int
	if t.hour, n = digitsAt(s, 1, 2); n < 0 || len(s) < n+3 || s[n] != ':' {
		return s, errBinaryValue
	}
	s = s[n+1:]
	if t.min, n = digitsAt(s, 2, 2); n < 0 {
		return s, errBinaryValue
	}
	s = s[n:]
	if len(s) > 0 && s[0] == ':' {
		if t.sec, n = digitsAt(s[1:], 2, 2); n < 0 {
			return s, errBinaryValue
		}
		s = s[1+n:]
		if len(s) > 0 && s[0] == '.' {
			k := 1
			for k < len(s) && '0' <= s[k] && s[k] <= '9' {
				k++
			}
			if k <= 7 {
				// Up to microseconds: exact, as rint(frac * 1e6) is.
				us, _ := digitsAt(s[1:k], 0, 6)
				for range 7 - k {
					us *= 10
				}
				t.us = int64(us)
			} else {
				f, err := strconv.ParseFloat("0"+string(s[:k]), 64)
				if err != nil {
					return s, errBinaryValue
				}
				t.us = int64(math.RoundToEven(f * 1e6))
			}
			s = s[k:]
		}
	}
	if t.min > 59 || t.sec > 60 || t.hour > 24 || (t.hour == 24 && (t.min > 0 || t.sec > 0 || t.us > 0)) {
		return s, fmt.Errorf("%w: time out of range", errBinaryValue)
	}
	switch {
	case len(s) > 0 && (s[0] == 'Z' || s[0] == 'z'):
		t.hasOffset = true
		return s[1:], nil
	case len(s) > 0 && (s[0] == '+' || s[0] == '-'):
		sign := 1
		if s[0] == '-' {
			sign = -1
		}
		s = s[1:]
		h, n := digitsAt(s, 1, 2)
		if n < 0 {
			return s, errBinaryValue
		}
		s = s[n:]
		var m, sec int
		if len(s) > 0 && s[0] == ':' {
			if m, n = digitsAt(s[1:], 2, 2); n < 0 {
				return s, errBinaryValue
			}
			s = s[1+n:]
			if len(s) > 0 && s[0] == ':' {
				if sec, n = digitsAt(s[1:], 2, 2); n < 0 {
					return s, errBinaryValue
				}
				s = s[1+n:]
			}
		} else if m, n = digitsAt(s, 2, 2); n > 0 {
			s = s[n:]
		}
		// DecodeTimezone: at most 15 hours (MAX_TZDISP_HOUR).
		if h > 15 || m > 59 || sec > 59 {
			return s, fmt.Errorf("%w: time zone displacement out of range", errBinaryValue)
		}
		t.hasOffset = true
		t.offset = sign * (h*3600 + m*60 + sec)
	}
	return s, nil
}

// appendUUIDText appends the text uuid_out prints.
func appendUUIDText(dst, v []byte) ([]byte, error) {
	if len(v) != 16 {
		return dst, errBinaryCopy
	}
	const hex = "0123456789abcdef"
	for i, b := range v {
		if i == 4 || i == 6 || i == 8 || i == 10 {
			dst = append(dst, '-')
		}
		dst = append(dst, hex[b>>4], hex[b&15])
	}
	return dst, nil
}

// appendUUIDBinary reads a uuid as uuid_in does: an optional pair of
// braces around 32 hex digits, a hyphen allowed after any group of four.
func appendUUIDBinary(dst, s []byte) ([]byte, error) {
	braces := len(s) > 0 && s[0] == '{'
	if braces {
		s = s[1:]
	}
	for i := range 16 {
		if len(s) < 2 {
			return dst, errBinaryValue
		}
		hi, ok1 := hexVal(s[0])
		lo, ok2 := hexVal(s[1])
		if !ok1 || !ok2 {
			return dst, errBinaryValue
		}
		dst = append(dst, hi<<4|lo)
		s = s[2:]
		if len(s) > 0 && s[0] == '-' && i%2 == 1 && i < 15 {
			s = s[1:]
		}
	}
	if braces {
		if len(s) == 0 || s[0] != '}' {
			return dst, errBinaryValue
		}
		s = s[1:]
	}
	if len(s) > 0 {
		return dst, errBinaryValue
	}
	return dst, nil
}

// network_send's address families (PGSQL_AF_INET, PGSQL_AF_INET6).
const (
	pgAFInet  = 2
	pgAFInet6 = 3
)

// appendInetText appends the text network_out prints: the address as
// pg_inet_net_ntop writes it, then /bits unless they cover the address
// (always for cidr).
func appendInetText(dst, v []byte) ([]byte, error) {
	if len(v) < 4 || len(v) != 4+int(v[3]) {
		return dst, errBinaryCopy
	}
	family, bits, isCidr, addr := v[0], int(v[1]), v[2] != 0, v[4:]
	switch {
	case family == pgAFInet && len(addr) == 4 && bits <= 32:
		for i, b := range addr {
			if i > 0 {
				dst = append(dst, '.')
			}
			dst = strconv.AppendInt(dst, int64(b), 10)
		}
		if bits != 32 || isCidr {
			dst = strconv.AppendInt(append(dst, '/'), int64(bits), 10)
		}
		return dst, nil
	case family == pgAFInet6 && len(addr) == 16 && bits <= 128:
		dst = appendIPv6Text(dst, addr)
		if bits != 128 || isCidr {
			dst = strconv.AppendInt(append(dst, '/'), int64(bits), 10)
		}
		return dst, nil
	}
	return dst, errBinaryCopy
}

// appendIPv6Text writes an IPv6 address as PostgreSQL's
// inet_net_ntop_ipv6 does: the longest run (the first of equal ones) of
// two or more zero words as "::", and the last 32 bits as a dotted quad
// for an IPv4-compatible or IPv4-mapped address.
func appendIPv6Text(dst, a []byte) []byte {
	var w [8]uint16
	for i := range w {
		w[i] = binary.BigEndian.Uint16(a[2*i:])
	}
	bestBase, bestLen, curBase, curLen := -1, 0, -1, 0
	for i, x := range w {
		if x == 0 {
			if curBase < 0 {
				curBase, curLen = i, 1
			} else {
				curLen++
			}
			continue
		}
		if curBase >= 0 {
			if bestBase < 0 || curLen > bestLen {
				bestBase, bestLen = curBase, curLen
			}
			curBase = -1
		}
	}
	if curBase >= 0 && (bestBase < 0 || curLen > bestLen) {
		bestBase, bestLen = curBase, curLen
	}
	if bestBase >= 0 && bestLen < 2 {
		bestBase = -1
	}
	for i := 0; i < 8; i++ {
		if bestBase >= 0 && i >= bestBase && i < bestBase+bestLen {
			if i == bestBase {
				dst = append(dst, ':')
			}
			continue
		}
		if i != 0 {
			dst = append(dst, ':')
		}
		if i == 6 && bestBase == 0 && (bestLen == 6 || (bestLen == 7 && w[7] != 1) || (bestLen == 5 && w[5] == 0xffff)) {
			for j, b := range a[12:] {
				if j > 0 {
					dst = append(dst, '.')
				}
				dst = strconv.AppendInt(dst, int64(b), 10)
			}
			return dst
		}
		dst = strconv.AppendUint(dst, uint64(w[i]), 16)
	}
	if bestBase >= 0 && bestBase+bestLen == 8 {
		dst = append(dst, ':')
	}
	return dst
}

// appendInetBinary reads an address with an optional /bits (a cidr value
// must have them: the classful default bits are not inferred) and
// appends network_send's form. The receiving server checks a cidr's host
// bits, as its input function does.
func appendInetBinary(dst, s []byte, cidr bool) ([]byte, error) {
	str := string(s)
	if strings.ContainsAny(str, "% \t\n") {
		return dst, errBinaryValue
	}
	var addr netip.Addr
	var bits int
	if slash := strings.IndexByte(str, '/'); slash >= 0 {
		p, err := netip.ParsePrefix(str)
		if err != nil {
			return dst, errBinaryValue
		}
		addr, bits = p.Addr(), p.Bits()
	} else {
		if cidr {
			return dst, fmt.Errorf("%w: a cidr without /bits", errBinaryValue)
		}
		a, err := netip.ParseAddr(str)
		if err != nil {
			return dst, errBinaryValue
		}
		addr, bits = a, a.BitLen()
	}
	family := byte(pgAFInet)
	if addr.Is6() {
		family = pgAFInet6
	}
	var c byte
	if cidr {
		c = 1
	}
	dst = append(dst, family, byte(bits), c, byte(addr.BitLen()/8))
	return addr.AppendBinary(dst)
}
