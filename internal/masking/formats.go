package masking

import (
	"encoding/binary"
	"math"
	"unicode/utf8"
)

func init() {
	register(entry{
		info: Info{Name: "digits", Bijective: true, Description: "NIST FF1 format-preserving encryption of the ASCII digits (national IDs, account numbers, integer keys, any digit pattern); other characters are kept as separators. An integer as PostgreSQL prints it (an optional minus, no leading zero) becomes another integer: magnitudes below 10,000,000 are permuted as one domain (negative ones from 1, so no output reads -0), longer ones among those with as many digits (10-digit ones within and beyond integer's range apart), up to max_value (down to -(max_value+1), the type's minimum), so integer keys stay distinct integers in the column type's range and an integer column and a bigint column referencing each other mask their shared values alike. In other values a leading zero is kept and a leading non-zero digit stays non-zero. A value with fewer than 1,000,000 possible encryptions (such as a 3-digit code) is invalid: FF1's minimum domain.",
			Options: []OptionInfo{
				{Name: "keep_prefix", Type: "number", Description: "Number of leading digits kept unchanged (default 0)."},
				{Name: "keep_suffix", Type: "number", Description: "Number of trailing digits kept unchanged (default 0)."},
				{Name: "max_value", Type: "number", Description: "Largest integer the column holds, such as 2147483647 for integer (default 9223372036854775807, bigint): integers stay within [-(max_value+1), max_value], the type's range."},
			}},
		version: 3, validate: true, make: newDigits,
	})
	register(entry{
		info: Info{Name: "phone", Bijective: true, Description: "Phone numbers, with NIST FF1: keeps length, separators and a leading + or 00 with its country code and encrypts the digits after it (the first stays zero or non-zero). A national number (no + or 00) is permuted among the national numbers of its length that do not start with 00, so a trunk 0 may come or go and no output reads as international. Fewer than 1,000,000 possible values (such as 00 with a country code and 4 digits) is invalid.",
			Options: []OptionInfo{{Name: "keep_prefix", Type: "number", Description: "Number of national digits after the country code kept unchanged, e.g. an area code (default 0)."}}},
		version: 2, validate: true, make: newPhone,
	})
	register(entry{
		info: Info{Name: "credit_card", Bijective: true, Description: "Card numbers (12-19 digits, spaces or dashes kept): encrypts the digits after the issuer prefix with NIST FF1 and recomputes the Luhn check digit, so outputs are valid and distinct. Input that fails the Luhn check is invalid.",
			Options: []OptionInfo{{Name: "keep_issuer", Type: "bool", Description: "Keep the issuer prefix, the first 6 digits (fewer on cards under 13 digits, so that 6 stay encrypted), which names the brand and the bank, not the holder (default true); false keeps only a non-zero first digit."}}},
		version: 2, validate: true, make: newCard,
	})
	register(entry{
		info:    Info{Name: "iban", Bijective: true, Description: "IBANs (electronic or print format): keeps country, length and the letter/digit pattern of the BBAN, encrypts the BBAN with NIST FF1 and recomputes the mod-97 check digits."},
		version: 2, validate: true, make: newIBAN,
	})
	register(entry{
		info: Info{Name: "format_preserving", Bijective: true, Description: "NIST FF1 format-preserving encryption over a declared alphabet: characters in the alphabet are encrypted among themselves, others are kept as separators; length is kept. A value with fewer than 1,000,000 possible encryptions (alphabet size to the power of its length in the alphabet) is invalid.",
			Options: []OptionInfo{{Name: "alphabet", Type: "string", Description: "The characters to permute, 2 to 256 distinct characters (default 0-9a-zA-Z)."}}},
		version: 2, validate: true, make: newFormatPreserving,
	})
}

// fpeArea grows dst for an output of outLen bytes plus vals, rad (n bytes
// each) and the FPE scratch, returning the pieces.
func fpeArea(dst []byte, outLen, n int) (all, out, vals, rad, scratch []byte) {
	base := len(dst)
	all = grow(dst, outLen+2*n+fpeScratch)
	out = all[base : base+outLen]
	vals = all[base+outLen : base+outLen+n]
	rad = all[base+outLen+n : base+outLen+2*n]
	scratch = all[base+outLen+2*n:]
	return all, out, vals, rad, scratch
}

func newDigits(b *build) (built, error) {
	kp, err := b.opts.integer("keep_prefix", 0, 0, 1000)
	if err != nil {
		return built{}, err
	}
	ks, err := b.opts.integer("keep_suffix", 0, 0, 1000)
	if err != nil {
		return built{}, err
	}
	maxValue, err := b.opts.number("max_value", 0)
	if err != nil {
		return built{}, err
	}
	if maxValue != 0 && maxValue < 9_999_999 {
		return built{}, optionErr("digits", "max_value", "must be at least 9999999 (the integers below 10,000,000 are permuted as one domain); got %v", maxValue)
	}
	maxMag := uint64(math.MaxInt64)
	if maxValue != 0 && maxValue < float64(math.MaxInt64) {
		maxMag = uint64(maxValue)
	}
	f, err := b.fpe()
	if err != nil {
		return built{}, err
	}
	intMode := kp == 0 && ks == 0
	// kind classifies digit d of a value with total digits: 0 kept, else
	// the radix it is encrypted in. A leading zero is kept and a leading
	// non-zero digit stays non-zero, so an integer keeps its digit count
	// and PostgreSQL reads distinct outputs as distinct numbers.
	kind := func(d, total int, c byte) byte {
		switch {
		case d < kp || d >= total-ks:
			return 0
		case d == 0 && c == '0':
			return 0
		case d == 0:
			return 9
		}
		return 10
	}
	return built{bijective: true, passEmpty: true, body: func(dst, src []byte) ([]byte, error) {
		total := 0
		for _, c := range src {
			if isDigit(c) {
				total++
			}
		}
		if total == 0 {
			return dst, invalidReason("no digits")
		}
		if intMode {
			if mag, neg, ok := canonicalInt(src); ok {
				return maskInt(f, dst, mag, neg, maxMag)
			}
		}
		base := len(dst)
		all, out, vals, rad, scratch := fpeArea(dst, len(src), len(src))
		copy(out, src)
		k, d := 0, 0
		shape := uint64(14695981039346656037)
		for _, c := range src {
			if isDigit(c) {
				switch kind(d, total, c) {
				case 9:
					vals[k], rad[k], c = c-'1', 8, 0
					k++
				case 10:
					vals[k], rad[k], c = c-'0', 9, 0
					k++
				}
				d++
			}
			shape = (shape ^ uint64(foldASCII(c))) * 1099511628211
		}
		if !f.encrypt(vals[:k], rad[:k], shape, scratch) {
			return dst, errSmallDomain
		}
		k, d = 0, 0
		for i, c := range src {
			if isDigit(c) {
				if r := kind(d, total, c); r != 0 {
					out[i] = '0' + vals[k] + (10 - r)
					k++
				}
				d++
			}
		}
		return all[:base+len(src)], nil
	}}, nil
}

// canonicalInt parses src when it is an integer as PostgreSQL prints one:
// an optional minus sign and 1 to 19 digits without a leading zero.
func canonicalInt(src []byte) (mag uint64, neg, ok bool) {
	if len(src) > 0 && src[0] == '-' {
		neg, src = true, src[1:]
	}
	if len(src) == 0 || len(src) > 19 || (src[0] == '0' && (len(src) > 1 || neg)) {
		return 0, false, false
	}
	for _, c := range src {
		if !isDigit(c) {
			return 0, false, false
		}
		mag = mag*10 + uint64(c-'0')
	}
	return mag, neg, true
}

// intSmall is the bound of the first integer class: the magnitudes below
// 10,000,000 (1 to 7 digits) are permuted as one domain, which meets FF1's
// minimum; longer ones among the magnitudes of their own digit count.
const intSmall = 10_000_000

// int4Top is one above PostgreSQL integer's maximum: a class boundary.
const int4Top = 1 << 31

// maskInt masks a canonical integer: the sign is kept and the magnitude is
// permuted within its class ([0, 10^7) for non-negative values and
// [1, 10^7) for negative ones, then [10^(k-1), 10^k) for k digits, the
// 10-digit class split at integer's range (2^31, 2^31+1 for negatives),
// capped at maxMag, or maxMag+1 for negatives), so the output is again a
// canonical integer, in range of the column's type when max_value is its
// maximum (its minimum included), and distinct integers give distinct
// integers.
func maskInt(f fpe, dst []byte, mag uint64, neg bool, maxMag uint64) ([]byte, error) {
	// Magnitudes are below top and the 10-digit class splits at split;
	// a negative integer may be one larger (the types' minima, -2^31 and
	// -2^63), so both are one more for negatives.
	top, split := maxMag+1, uint64(int4Top)
	if neg {
		top, split = top+1, split+1
	}
	if mag >= top {
		return dst, invalidReason("the integer is beyond the max_value option")
	}
	lo, hi := uint64(0), uint64(intSmall) // class [lo, hi)
	for hi <= mag {
		if hi > math.MaxUint64/10 {
			lo, hi = hi, math.MaxUint64
			break
		}
		lo, hi = hi, hi*10
	}
	if lo < split && split < hi {
		// [10^9, 10^10) is split at integer's range, so that integer and
		// bigint columns, whose max_value differ, mask the integers both
		// hold alike: the two ends of an integer-to-bigint foreign key.
		if mag < split {
			hi = split
		} else {
			lo = split
		}
	}
	hi = min(hi, top)
	if neg && lo == 0 {
		// A negative magnitude is never 0 ("-0" is not canonical and
		// PostgreSQL reads it as 0, a non-negative value's output), so
		// negatives are permuted over [1, hi): no output prints as -0.
		lo = 1
	}
	scratch, dst := withScratch(dst, 24+fpeScratch)
	tweak := uint64(lo)
	if neg {
		tweak = ^tweak
	}
	var v uint64
	switch {
	case hi-lo >= ff1MinDomain:
		v = lo + f.permuteInt(mag-lo, hi-lo, tweak, scratch[24:])
	case f.small != nil && f.meter != nil && !f.meter.alongside:
		f.meter.odds /= float64(hi - lo) // a keyed hash into [lo, hi)
		f.meter.calls++
	case f.small != nil:
		if f.meter != nil {
			f.meter.odds /= float64(hi - lo)
			f.meter.calls++
		}
		var b [8]byte
		binary.LittleEndian.PutUint64(b[:], mag)
		h, _ := f.small.sum(scratch[24:], tweak, b[:])
		v = lo + uint64(uniform(h, int(hi-lo)))
	default:
		return dst, errSmallDomain
	}
	if neg {
		dst = append(dst, '-')
	}
	return appendUint(dst, v), nil
}

func isDigit(c byte) bool { return '0' <= c && c <= '9' }

// foldASCII lower-cases an ASCII letter, so that separators that differ
// only in case select the same permutation (bijective under citext too).
func foldASCII(c byte) byte {
	if isUpper(c) {
		return c + 'a' - 'A'
	}
	return c
}

// phoneSep reports the characters a phone number may use between digits.
func phoneSep(c byte) bool {
	switch c {
	case ' ', '-', '.', '(', ')', '/':
		return true
	}
	return false
}

// countryCodeLen returns the length of the ITU-T E.164 country code at the
// start of digits (1 to 3), following the assignment of the first digits.
func countryCodeLen(d []byte) int {
	if len(d) == 0 {
		return 0
	}
	switch d[0] {
	case '1', '7':
		return 1
	}
	if len(d) < 2 {
		return len(d)
	}
	two := int(d[0]-'0')*10 + int(d[1]-'0')
	switch two {
	case 20, 27, 30, 31, 32, 33, 34, 36, 39, 40, 41, 43, 44, 45, 46, 47, 48, 49,
		51, 52, 53, 54, 55, 56, 57, 58, 60, 61, 62, 63, 64, 65, 66, 81, 82, 84, 86,
		90, 91, 92, 93, 94, 95, 98:
		return 2
	}
	return min(3, len(d))
}

func newPhone(b *build) (built, error) {
	kp, err := b.opts.integer("keep_prefix", 0, 0, 20)
	if err != nil {
		return built{}, err
	}
	f, err := b.fpe()
	if err != nil {
		return built{}, err
	}
	return built{bijective: true, passEmpty: true, body: func(dst, src []byte) ([]byte, error) {
		// Validate and find where the national number starts.
		i := 0
		plus := len(src) > 0 && src[0] == '+'
		if plus {
			i = 1
		}
		ndig := 0
		var digs [20]byte
		for _, c := range src[i:] {
			switch {
			case isDigit(c):
				if ndig == len(digs) {
					return dst, invalidReason("a phone number has 3 to 20 digits")
				}
				digs[ndig] = c
				ndig++
			case phoneSep(c):
			default:
				return dst, invalidReason("phone numbers may only contain digits, a leading +, and the separators space - . ( ) /")
			}
		}
		if ndig < 3 {
			return dst, invalidReason("a phone number has 3 to 20 digits")
		}
		// plan[d] is how digit d is masked: 0 kept, 9 encrypted among 1-9,
		// 10 encrypted among 0-9, 99 the first of a pair encrypted among
		// 01-99 (never 00) and 1 the second of that pair.
		var plan [20]byte
		keep := 0
		intl := plus || (digs[0] == '0' && digs[1] == '0')
		if intl {
			if !plus {
				keep = 2 // the international prefix 00
			}
			keep += countryCodeLen(digs[keep:ndig]) + kp
			for d := keep; d < ndig; d++ {
				plan[d] = 10
			}
			// The first national digit after the country code stays
			// non-zero (or zero), as it is written.
			if kp == 0 && keep < ndig {
				plan[keep] = 9
				if digs[keep] == '0' {
					plan[keep] = 0
				}
			}
		} else {
			// A national number is permuted among the national numbers of
			// its length: any digits but a leading 00, which would read as
			// an international prefix. A trunk 0 may come or go.
			for d := kp; d < ndig; d++ {
				plan[d] = 10
			}
			switch {
			case kp == 0:
				plan[0], plan[1] = 99, 1
			case kp == 1 && digs[0] == '0':
				plan[1] = 9
			}
		}
		base := len(dst)
		all, out, vals, rad, scratch := fpeArea(dst, len(src), ndig)
		copy(out, src)
		k := 0
		shape := uint64(14695981039346656037)
		for d := range ndig {
			c := digs[d]
			switch plan[d] {
			case 0:
				shape = (shape ^ uint64(c)) * 1099511628211
				continue
			case 99:
				vals[k], rad[k] = (c-'0')*10+digs[d+1]-'0'-1, 98
			case 9:
				vals[k], rad[k] = c-'1', 8
			case 10:
				vals[k], rad[k] = c-'0', 9
			case 1:
				continue
			}
			k++
			shape = (shape ^ uint64(plan[d])) * 1099511628211
		}
		shape ^= uint64(ndig)
		if plus {
			shape = ^shape
		}
		if !f.encrypt(vals[:k], rad[:k], shape, scratch) {
			return dst, errSmallDomain
		}
		k = 0
		d := 0
		for i := range out {
			if !isDigit(out[i]) {
				continue
			}
			switch plan[d] {
			case 99:
				v := vals[k] + 1
				out[i] = '0' + v/10
				digs[d+1] = '0' + v%10
				k++
			case 1:
				out[i] = digs[d]
			case 9:
				out[i] = '1' + vals[k]
				k++
			case 10:
				out[i] = '0' + vals[k]
				k++
			}
			d++
		}
		return all[:base+len(src)], nil
	}}, nil
}

// luhnValid reports whether the digits of s (separators ignored) pass Luhn.
func luhnValid(s []byte) bool {
	sum, dbl, n := 0, false, 0
	for i := len(s) - 1; i >= 0; i-- {
		c := s[i]
		if !isDigit(c) {
			continue
		}
		v := int(c - '0')
		if dbl {
			v *= 2
			if v > 9 {
				v -= 9
			}
		}
		sum += v
		dbl = !dbl
		n++
	}
	return n > 0 && sum%10 == 0
}

func newCard(b *build) (built, error) {
	keepIssuer, err := b.opts.boolean("keep_issuer", true)
	if err != nil {
		return built{}, err
	}
	f, err := b.fpe()
	if err != nil {
		return built{}, err
	}
	return built{bijective: true, passEmpty: true, body: func(dst, src []byte) ([]byte, error) {
		ndig := 0
		for _, c := range src {
			switch {
			case isDigit(c):
				ndig++
			case c == ' ' || c == '-':
			default:
				return dst, invalidReason("card numbers may only contain digits, spaces and dashes")
			}
		}
		if ndig < 12 || ndig > 19 {
			return dst, invalidReason("a card number has 12 to 19 digits")
		}
		if !luhnValid(src) {
			return dst, invalidReason("the Luhn check digit does not match")
		}
		// The issuer prefix (IIN, 6 digits) is kept unless that would leave
		// fewer than 6 digits to encrypt; the check digit is recomputed.
		keep := 0
		if keepIssuer {
			keep = min(6, ndig-7)
		}
		base := len(dst)
		all, out, vals, rad, scratch := fpeArea(dst, len(src), len(src))
		copy(out, src)
		k, d := 0, 0
		shape := uint64(ndig)
		for _, c := range src {
			if isDigit(c) {
				switch {
				case d < keep:
					shape = shape*31 + uint64(c)
				case d == ndig-1 || (d == 0 && c == '0'):
				case d == 0:
					vals[k], rad[k] = c-'1', 8
					k++
				default:
					vals[k], rad[k] = c-'0', 9
					k++
				}
				d++
			}
		}
		if !f.encrypt(vals[:k], rad[:k], shape, scratch) {
			return dst, errSmallDomain
		}
		k, d = 0, 0
		last := 0
		for i, c := range src {
			if isDigit(c) {
				if !(d < keep || d == ndig-1 || (d == 0 && c == '0')) {
					if rad[k] == 8 {
						out[i] = '1' + vals[k]
					} else {
						out[i] = '0' + vals[k]
					}
					k++
				}
				last = i
				d++
			}
		}
		// Recompute the check digit over the new payload.
		sum, dbl := 0, true
		for i := last - 1; i >= 0; i-- {
			c := out[i]
			if !isDigit(c) {
				continue
			}
			v := int(c - '0')
			if dbl {
				v *= 2
				if v > 9 {
					v -= 9
				}
			}
			sum += v
			dbl = !dbl
		}
		out[last] = byte('0' + (10-sum%10)%10)
		return all[:base+len(src)], nil
	}}, nil
}

func isUpper(c byte) bool { return 'A' <= c && c <= 'Z' }
func isLower(c byte) bool { return 'a' <= c && c <= 'z' }

// ibanMod97 computes the IBAN checksum of the alphanumeric characters of s
// (separators skipped) after moving the first four to the end.
func ibanMod97(s []byte) int {
	// The first four characters (country and check digits) go last. m is
	// reduced only when it could overflow: the remainder is the same. A
	// table instead of branches: letters and digits come in random order.
	start, h := len(s), 0
	for i, c := range s {
		if c != ' ' {
			if h++; h == 4 {
				start = i + 1
				break
			}
		}
	}
	m := uint64(0)
	for _, part := range [2][]byte{s[start:], s[:start]} {
		for _, c := range part {
			if m >= 1<<56 {
				m %= 97
			}
			m = m*uint64(ibanMul[c]) + uint64(ibanAdd[c])
		}
	}
	return int(m % 97)
}

// ibanMul and ibanAdd append a character to the number an IBAN's check
// reads: a digit is itself (m*10 + d), a letter of either case two digits
// (m*100 + 10..35); anything else (a space) leaves m alone.
var ibanMul, ibanAdd = func() (mul, add [256]uint8) {
	for c := range 256 {
		switch b := byte(c); {
		case isDigit(b):
			mul[c], add[c] = 10, b-'0'
		case isUpper(b):
			mul[c], add[c] = 100, b-'A'+10
		case isLower(b):
			mul[c], add[c] = 100, b-'a'+10
		default:
			mul[c] = 1
		}
	}
	return mul, add
}()

func newIBAN(b *build) (built, error) {
	f, err := b.fpe()
	if err != nil {
		return built{}, err
	}
	return built{bijective: true, passEmpty: true, body: func(dst, src []byte) ([]byte, error) {
		var head [4]byte
		n := 0
		for _, c := range src {
			if c == ' ' {
				continue
			}
			if !(isDigit(c) || isUpper(c) || isLower(c)) {
				return dst, invalidReason("an IBAN holds only letters, digits and spaces")
			}
			if n < 4 {
				head[n] = c
			}
			n++
		}
		if n < 15 || n > 34 {
			return dst, invalidReason("an IBAN has 15 to 34 characters")
		}
		if !isUpper(head[0]) || !isUpper(head[1]) || !isDigit(head[2]) || !isDigit(head[3]) {
			return dst, invalidReason("an IBAN starts with a country code and two check digits")
		}
		if ibanMod97(src) != 1 {
			return dst, invalidReason("the IBAN check digits do not match")
		}
		base := len(dst)
		all, out, vals, rad, scratch := fpeArea(dst, len(src), len(src))
		copy(out, src)
		k, j := 0, 0
		shape := uint64(head[0])<<8 | uint64(head[1])
		for _, c := range src {
			if c == ' ' {
				continue
			}
			if j >= 4 {
				switch {
				case isDigit(c):
					vals[k], rad[k] = c-'0', 9
				case isUpper(c):
					vals[k], rad[k] = c-'A', 25
				default:
					vals[k], rad[k] = c-'a', 25
				}
				k++
			}
			j++
		}
		if !f.encrypt(vals[:k], rad[:k], shape, scratch) {
			return dst, errSmallDomain
		}
		k, j = 0, 0
		var checkPos [2]int
		for i, c := range src {
			if c == ' ' {
				continue
			}
			switch {
			case j == 2 || j == 3:
				out[i] = '0'
				checkPos[j-2] = i
			case j >= 4:
				switch {
				case isDigit(c):
					out[i] = '0' + vals[k]
				case isUpper(c):
					out[i] = 'A' + vals[k]
				default:
					out[i] = 'a' + vals[k]
				}
				k++
			}
			j++
		}
		check := 98 - ibanMod97(out)
		out[checkPos[0]] = byte('0' + check/10)
		out[checkPos[1]] = byte('0' + check%10)
		return all[:base+len(src)], nil
	}}, nil
}

func newFormatPreserving(b *build) (built, error) {
	alpha, err := b.opts.str("alphabet", "0123456789abcdefghijklmnopqrstuvwxyzABCDEFGHIJKLMNOPQRSTUVWXYZ")
	if err != nil {
		return built{}, err
	}
	if !utf8.ValidString(alpha) {
		return built{}, optionErr("format_preserving", "alphabet", "must be valid UTF-8")
	}
	runes := []rune(alpha)
	if len(runes) < 2 || len(runes) > 256 {
		return built{}, optionErr("format_preserving", "alphabet", "must hold 2 to 256 characters; got %d", len(runes))
	}
	var ascii [128]int16
	for i := range ascii {
		ascii[i] = -1
	}
	index := map[rune]int{}
	maxLen := 1
	for i, r := range runes {
		if _, dup := index[r]; dup {
			return built{}, optionErr("format_preserving", "alphabet", "character %q appears twice; characters must be distinct", r)
		}
		index[r] = i
		if r < 128 {
			ascii[r] = int16(i)
		}
		maxLen = max(maxLen, utf8.RuneLen(r))
	}
	enc := make([][]byte, len(runes))
	for i, r := range runes {
		enc[i] = utf8.AppendRune(nil, r)
	}
	lookup := func(r rune) int {
		if r < 128 {
			return int(ascii[r])
		}
		if i, ok := index[r]; ok {
			return i
		}
		return -1
	}
	radm1 := byte(len(runes) - 1)
	f, err := b.fpe()
	if err != nil {
		return built{}, err
	}
	return built{bijective: true, passEmpty: true, body: func(dst, src []byte) ([]byte, error) {
		if !utf8.Valid(src) {
			return dst, invalidReason("the value is not valid UTF-8")
		}
		base := len(dst)
		outMax := len(src) * max(maxLen, 1)
		all, out, vals, rad, scratch := fpeArea(dst, outMax, len(src))
		k := 0
		shape := uint64(14695981039346656037)
		for i := 0; i < len(src); {
			r, size := rune(src[i]), 1
			if r >= utf8.RuneSelf {
				r, size = utf8.DecodeRune(src[i:])
			}
			if v := lookup(r); v >= 0 {
				vals[k], rad[k] = byte(v), radm1
				k++
				r = -1
			}
			shape = (shape ^ uint64(r)) * 1099511628211
			i += size
		}
		if !f.encrypt(vals[:k], rad[:k], shape, scratch) {
			return dst, errSmallDomain
		}
		o := 0
		k = 0
		for i := 0; i < len(src); {
			r, size := rune(src[i]), 1
			if r >= utf8.RuneSelf {
				r, size = utf8.DecodeRune(src[i:])
			}
			if lookup(r) >= 0 {
				o += copy(out[o:], enc[vals[k]])
				k++
			} else {
				o += copy(out[o:], src[i:i+size])
			}
			i += size
		}
		return all[:base+o], nil
	}}, nil
}
