package masking

func init() {
	opts := []OptionInfo{
		{Name: "max_days", Type: "number", Description: "Largest shift in days, 1 to 36500 (default 30). The shift is never zero."},
		{Name: "keep_year", Type: "bool", Description: "Keep the year: shift the other way, or clamp to the year's first or last day, when the shift would cross a year boundary (default false)."},
	}
	register(entry{
		info: Info{Name: "date_shift", Options: opts,
			Description: `Shifts an ISO date ("YYYY-MM-DD", PostgreSQL DateStyle ISO) by a keyed, deterministic number of days within max_days; "infinity" and "-infinity" are kept.`},
		version: 2, validate: true, make: func(b *build) (built, error) { return newShift(b, false) },
	})
	register(entry{
		info: Info{Name: "timestamp_shift", Options: opts,
			Description: `Shifts an ISO timestamp ("YYYY-MM-DD HH:MM:SS[.ffffff][+TZ]") by a keyed, deterministic number of seconds within max_days, keeping fractional seconds and the time zone suffix; a bare date is shifted by days.`},
		version: 2, validate: true, make: func(b *build) (built, error) { return newShift(b, true) },
	})
}

func floorDiv(a, b int) int {
	q := a / b
	if (a%b != 0) && ((a < 0) != (b < 0)) {
		q--
	}
	return q
}

// DaysFromCivil returns the days since 1970-01-01 of a proleptic Gregorian
// date (H. Hinnant's algorithm).
func DaysFromCivil(y, m, d int) int {
	if m <= 2 {
		y--
	}
	era := floorDiv(y, 400)
	yoe := y - era*400
	mp := (m + 9) % 12
	doy := (153*mp+2)/5 + d - 1
	doe := yoe*365 + yoe/4 - yoe/100 + doy
	return era*146097 + doe - 719468
}

// CivilFromDays is the inverse of DaysFromCivil: the proleptic Gregorian
// year (astronomical: 0 is 1 BC), month and day of z days since 1970-01-01.
func CivilFromDays(z int) (y, m, d int) {
	z += 719468
	era := floorDiv(z, 146097)
	doe := z - era*146097
	yoe := (doe - doe/1460 + doe/36524 - doe/146096) / 365
	y = yoe + era*400
	doy := doe - (365*yoe + yoe/4 - yoe/100)
	mp := (5*doy + 2) / 153
	d = doy - (153*mp+2)/5 + 1
	if mp < 10 {
		m = mp + 3
	} else {
		m = mp - 9
	}
	if m <= 2 {
		y++
	}
	return y, m, d
}

func daysIn(y, m int) int {
	switch m {
	case 2:
		if y%4 == 0 && (y%100 != 0 || y%400 == 0) {
			return 29
		}
		return 28
	case 4, 6, 9, 11:
		return 30
	}
	return 31
}

// num parses a fixed-width run of digits.
func num(b []byte) (int, bool) {
	v := 0
	for _, c := range b {
		if !isDigit(c) {
			return 0, false
		}
		v = v*10 + int(c-'0')
	}
	return v, len(b) > 0
}

// parseISODate parses "Y{4,}-MM-DD" at the start of b and returns the
// length consumed.
func parseISODate(b []byte) (y, m, d, n int, ok bool) {
	i := 0
	for i < len(b) && isDigit(b[i]) {
		i++
	}
	if i < 4 || i > 7 || len(b) < i+6 || b[i] != '-' || b[i+3] != '-' {
		return 0, 0, 0, 0, false
	}
	y, _ = num(b[:i])
	m, ok1 := num(b[i+1 : i+3])
	d, ok2 := num(b[i+4 : i+6])
	if !ok1 || !ok2 || y < 1 || m < 1 || m > 12 || d < 1 || d > daysIn(y, m) {
		return 0, 0, 0, 0, false
	}
	return y, m, d, i + 6, true
}

func append2(dst []byte, v int) []byte { return append(dst, byte('0'+v/10), byte('0'+v%10)) }

func appendISODate(dst []byte, y, m, d int) []byte {
	if y < 1000 {
		dst = append(dst, '0')
		if y < 100 {
			dst = append(dst, '0')
			if y < 10 {
				dst = append(dst, '0')
			}
		}
	}
	dst = appendUint(dst, uint64(y))
	dst = append(dst, '-')
	dst = append2(dst, m)
	dst = append(dst, '-')
	return append2(dst, d)
}

// validTZ accepts "", "Z", and [+-]HH[:MM[:SS]] or [+-]HHMM.
func validTZ(b []byte) bool {
	if len(b) == 0 || (len(b) == 1 && b[0] == 'Z') {
		return true
	}
	if b[0] != '+' && b[0] != '-' {
		return false
	}
	b = b[1:]
	switch len(b) {
	case 2, 4:
		_, ok := num(b)
		return ok
	case 5, 8:
		for i, c := range b {
			if i%3 == 2 {
				if c != ':' {
					return false
				}
			} else if !isDigit(c) {
				return false
			}
		}
		return true
	}
	return false
}

// The last days PostgreSQL's date (5874897-12-31) and timestamp
// (294276-12-31) hold, in days since 1970-01-01: a shift never goes
// beyond them (it goes the other way, as it does at year 1).
var (
	pgMaxDate         = DaysFromCivil(5874897, 12, 31)
	pgMaxTimestampDay = DaysFromCivil(294276, 12, 31)
)

func newShift(b *build, withTime bool) (built, error) {
	maxDays, err := b.opts.integer("max_days", 30, 1, 36500)
	if err != nil {
		return built{}, err
	}
	keepYear, err := b.opts.boolean("keep_year", false)
	if err != nil {
		return built{}, err
	}
	blk, err := b.block("shift")
	if err != nil {
		return built{}, err
	}
	p := prf{blk}
	return built{passEmpty: true, body: func(dst, src []byte) ([]byte, error) {
		if string(src) == "infinity" || string(src) == "-infinity" {
			return append(dst, src...), nil
		}
		y, m, d, n, ok := parseISODate(src)
		if !ok {
			return dst, invalidReason("not an ISO date (YYYY-MM-DD) between year 1 and 9999999")
		}
		rest := src[n:]
		secs, hasTime := 0, false
		if withTime && len(rest) > 0 {
			if len(rest) < 9 || (rest[0] != ' ' && rest[0] != 'T') || rest[3] != ':' || rest[6] != ':' {
				return dst, invalidReason("not an ISO timestamp (YYYY-MM-DD HH:MM:SS[.ffffff][+TZ])")
			}
			hh, ok1 := num(rest[1:3])
			mm, ok2 := num(rest[4:6])
			ss, ok3 := num(rest[7:9])
			if !ok1 || !ok2 || !ok3 || hh > 24 || mm > 59 || ss > 60 {
				return dst, invalidReason("not an ISO timestamp: time of day out of range")
			}
			secs, hasTime = hh*3600+mm*60+ss, true
			rest = rest[9:]
			if len(rest) > 0 && rest[0] == '.' {
				i := 1
				for i < len(rest) && isDigit(rest[i]) {
					i++
				}
				if i == 1 {
					return dst, invalidReason("not an ISO timestamp: empty fraction of a second")
				}
				rest = rest[i:]
			}
			if !validTZ(rest) {
				return dst, invalidReason("not an ISO timestamp: unrecognised time zone suffix")
			}
		} else if len(rest) > 0 {
			return dst, invalidReason("not an ISO date (YYYY-MM-DD); BC dates are not supported")
		}
		scratch, dst := withScratch(dst, 16)
		hi, lo := p.sum(scratch, 0, src)
		days := DaysFromCivil(y, m, d)
		unit, span := 1, maxDays
		if hasTime {
			unit, span = 86400, maxDays*86400
		}
		off := 1 + uniform(hi, span)
		if lo&1 == 1 {
			off = -off
		}
		t := days*unit + secs
		yearOf := func(t int) int {
			yy, _, _ := CivilFromDays(floorDiv(t, unit))
			return yy
		}
		// A shift must not leave years 1 to 9999 (a date beyond 9999 is
		// valid in PostgreSQL but not in most clients) nor, with keep_year,
		// the year.
		limit := pgMaxDate
		if hasTime {
			limit = pgMaxTimestampDay*86400 + 86399
		} else if withTime {
			limit = pgMaxTimestampDay
		}
		bad := func(nt int) bool {
			ny := yearOf(nt)
			return ny < 1 || nt > limit || (ny > 9999 && y <= 9999) || (keepYear && ny != y)
		}
		nt := t + off
		if bad(nt) {
			nt = t - off
			if bad(nt) {
				// Clamp into the year on the side of the first shift, or
				// the other side when the value already is there: the
				// shift is never zero.
				first, last := DaysFromCivil(y, 1, 1)*unit, DaysFromCivil(y+1, 1, 1)*unit-1
				nt = first
				if off > 0 {
					nt = last
				}
				if nt == t {
					nt = first + last - nt
				}
			}
		}
		nd := floorDiv(nt, unit)
		ny, nm, ndd := CivilFromDays(nd)
		dst = appendISODate(dst, ny, nm, ndd)
		if hasTime {
			s := nt - nd*unit
			dst = append(dst, src[n])
			dst = append2(dst, s/3600)
			dst = append(dst, ':')
			dst = append2(dst, s/60%60)
			dst = append(dst, ':')
			dst = append2(dst, s%60)
			// Fraction and time zone verbatim.
			dst = append(dst, src[n+9:]...)
		}
		return dst, nil
	}}, nil
}
