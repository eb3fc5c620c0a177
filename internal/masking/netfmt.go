package masking

import (
	"bytes"
	"net/netip"
)

func init() {
	register(entry{
		info: Info{Name: "uuid", Bijective: true,
			Description: "UUIDs (8-4-4-4-12 or 32 hex digits): NIST FF1 encryption of the 122 random bits; version, variant and letter case are kept, so outputs stay valid UUIDs of the same version. Mixed-case text is invalid (its case variants are one uuid)."},
		version: 2, validate: true, make: newUUID,
	})
	register(entry{
		info: Info{Name: "ip", Bijective: true,
			Description: "IPv4 and IPv6 addresses (inet/cidr text): NIST FF1 encryption within the same family. With a /prefix suffix only the network bits are permuted and host bits and suffix are kept, so cidr values stay valid. IPv6 text must be canonical (as PostgreSQL prints it), and a network of fewer than 20 bits (under 1,000,000 values) is invalid."},
		version: 2, validate: true, make: newIP,
	})
}

func hexVal(c byte) (byte, bool) {
	v := hexNibble[c]
	if v == 0xff {
		return 0, false
	}
	return v & 15, true
}

// hexNibble maps a hex digit to its value, plus 16 for a-f and 32 for A-F
// (so a parser learns the case without branching), and anything else to
// 0xff: UUIDs mix letters and digits at random, which branches mispredict.
var hexNibble = func() (t [256]byte) {
	for c := range 256 {
		switch b := byte(c); {
		case isDigit(b):
			t[c] = b - '0'
		case 'a' <= b && b <= 'f':
			t[c] = b - 'a' + 10 | 16
		case 'A' <= b && b <= 'F':
			t[c] = b - 'A' + 10 | 32
		default:
			t[c] = 0xff
		}
	}
	return t
}()

func newUUID(b *build) (built, error) {
	f, err := b.fpe()
	if err != nil {
		return built{}, err
	}
	return built{bijective: true, passEmpty: true, body: func(dst, src []byte) ([]byte, error) {
		dashed := len(src) == 36
		if !dashed && len(src) != 32 {
			return dst, invalidReason("not a UUID: expected 36 characters (8-4-4-4-12) or 32 hex digits")
		}
		var nib [32]byte
		k, cases := 0, byte(0) // cases: hexNibble's case bits seen
		for i, c := range src {
			if dashed && (i == 8 || i == 13 || i == 18 || i == 23) {
				if c != '-' {
					return dst, invalidReason("not a UUID: dashes expected at 8-4-4-4-12")
				}
				continue
			}
			v := hexNibble[c]
			if v == 0xff {
				return dst, invalidReason("not a UUID: non-hex character")
			}
			cases |= v
			nib[k] = v & 15
			k++
		}
		lower, upper := cases&16 != 0, cases&32 != 0
		if upper && lower {
			// Case variants of one UUID are distinct text but one uuid;
			// only one of them could keep its case.
			return dst, invalidReason("not a UUID in one case: mixed upper- and lower-case hex digits")
		}
		base := len(dst)
		all, out, vals, rad, scratch := fpeArea(dst, len(src), 32)
		var vbase byte
		k = 0
		for j, v := range nib {
			switch {
			case j == 12: // version
				continue
			case j == 16: // variant: keep the variant's prefix bits
				switch {
				case v < 8:
					vbase, vals[k], rad[k] = 0, v, 7
				case v < 12:
					vbase, vals[k], rad[k] = 8, v-8, 3
				case v < 14:
					vbase, vals[k], rad[k] = 12, v-12, 1
				default:
					vbase, vals[k], rad[k] = 14, v-14, 1
				}
			default:
				vals[k], rad[k] = v, 15
			}
			k++
		}
		if !f.encrypt(vals[:31], rad[:31], uint64(nib[12])<<8|uint64(vbase), scratch) {
			return dst, errSmallDomain
		}
		digits := hexAlphabet
		if upper {
			digits = "0123456789ABCDEF"
		}
		k = 0
		o := 0
		for j := range 32 {
			if dashed && (j == 8 || j == 12 || j == 16 || j == 20) {
				out[o] = '-'
				o++
			}
			var v byte
			switch j {
			case 12:
				v = nib[12]
			case 16:
				v = vbase + vals[k]
				k++
			default:
				v = vals[k]
				k++
			}
			out[o] = digits[v]
			o++
		}
		return all[:base+len(src)], nil
	}}, nil
}

// parseIPv4 parses a dotted quad without leading zeros.
func parseIPv4(s []byte) (a [4]byte, ok bool) {
	part, val, digits := 0, 0, 0
	for i := 0; i <= len(s); i++ {
		if i == len(s) || s[i] == '.' {
			if digits == 0 || part > 3 {
				return a, false
			}
			a[part] = byte(val)
			part++
			val, digits = 0, 0
			continue
		}
		c := s[i]
		if !isDigit(c) || (digits == 1 && val == 0) {
			return a, false
		}
		val = val*10 + int(c-'0')
		digits++
		if val > 255 {
			return a, false
		}
	}
	return a, part == 4
}

func newIP(b *build) (built, error) {
	f, err := b.fpe()
	if err != nil {
		return built{}, err
	}
	return built{bijective: true, passEmpty: true, body: func(dst, src []byte) ([]byte, error) {
		addr, suffix := src, src[:0]
		for i, c := range src {
			if c == '/' {
				addr, suffix = src[:i], src[i:]
				break
			}
		}
		var bs [16]byte
		var bits, size int
		var v6 netip.Addr
		if a4, ok := parseIPv4(addr); ok {
			copy(bs[:], a4[:])
			bits, size = 32, 4
		} else {
			a, err := netip.ParseAddr(string(addr))
			if err != nil || !a.Is6() {
				return dst, invalidReason("not an IPv4 or IPv6 address")
			}
			if !bytes.Equal(a.AppendTo(dst[len(dst):]), addr) {
				// "::1" and "0:0::1" are one inet but two texts: only the
				// canonical text (what PostgreSQL prints) maps one to one.
				return dst, invalidReason("an IPv6 address not in canonical form (lower case, zeros compressed as PostgreSQL prints it)")
			}
			bs, v6 = a.As16(), a
			bits, size = 128, 16
		}
		prefix := bits
		if len(suffix) > 0 {
			p, ok := num(suffix[1:])
			if !ok || p > bits || len(suffix) > 4 {
				return dst, invalidReason("invalid prefix length after /")
			}
			prefix = p
		}
		full, rem := prefix/8, prefix%8
		scratch, dst := withScratch(dst, 2*17+fpeScratch)
		vals, rad, fs := scratch[:17], scratch[17:34], scratch[34:]
		n := 0
		for ; n < full; n++ {
			vals[n], rad[n] = bs[n], 255
		}
		if rem > 0 {
			vals[n], rad[n] = bs[full]>>(8-rem), byte(1<<rem-1)
			n++
		}
		if !f.encrypt(vals[:n], rad[:n], uint64(size)<<8|uint64(prefix), fs) {
			return dst, errSmallDomain
		}
		copy(bs[:full], vals[:full])
		if rem > 0 {
			bs[full] = vals[full]<<(8-rem) | bs[full]&byte(1<<(8-rem)-1)
		}
		if size == 4 {
			for i := range 4 {
				if i > 0 {
					dst = append(dst, '.')
				}
				dst = appendUint(dst, uint64(bs[i]))
			}
		} else {
			dst = netip.AddrFrom16(bs).WithZone(v6.Zone()).AppendTo(dst)
		}
		return append(dst, suffix...), nil
	}}, nil
}
