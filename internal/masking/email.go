package masking

import (
	"math/bits"
	"strings"
)

func init() {
	register(entry{
		info: Info{Name: "email", Bijective: true,
			Description: "E-mail addresses: the local part is encrypted with NIST FF1 on its case-folded letters and digits (letters stay letters in their case, digits stay digits, punctuation is kept), so distinct addresses stay distinct both as text and ignoring case (citext, lower(email)); the domain is kept, replaced or mapped. A local part with fewer than 1,000,000 possible values (such as bob) is encrypted together with its forms bob.NNNN, so it may gain such a suffix (never past 254 characters: next to a domain too long for the suffix it is permuted among the short forms). Bijective with domain_mode keep.",
			Options: []OptionInfo{
				{Name: "domain_mode", Type: "string", Description: `"keep" (default), "replace" (every domain becomes replacement_domain) or "map" (domains listed in domain_map are replaced, others kept).`},
				{Name: "replacement_domain", Type: "string", Description: `Replacement domain for domain_mode "replace" (default "example.com"). (The spec's own domain, which keys the masking, is a different thing.)`},
				{Name: "domain_map", Type: "map", Description: `Map from original domain (lower case) to replacement domain, for domain_mode "map".`},
				{Name: "local_part", Type: "string", Description: `"shape" (default) encrypts the local part keeping its pattern of letters, digits and punctuation; "hash" replaces it by 16 keyed pseudo-random lower-case letters and digits, which keeps nothing of it (not its length) but is not bijective.`},
			}},
		version: 2, validate: true, make: newEmail,
	})
}

func isAtext(c byte) bool {
	if isDigit(c) || isUpper(c) || isLower(c) {
		return true
	}
	return strings.IndexByte("!#$%&'*+-/=?^_`{|}~", c) >= 0
}

// validDomain checks a DNS-style domain: dot-separated labels of letters,
// digits and hyphens.
func validDomain(d []byte) bool {
	if len(d) == 0 || len(d) > 253 {
		return false
	}
	label := 0
	for i, c := range d {
		switch {
		case c == '.':
			if label == 0 || d[i-1] == '-' {
				return false
			}
			label = 0
		case isDigit(c) || isUpper(c) || isLower(c):
			label++
		case c == '-':
			if label == 0 {
				return false
			}
			label++
		default:
			return false
		}
		if label > 63 {
			return false
		}
	}
	return label > 0 && d[len(d)-1] != '-'
}

// EmailMaxLength is the longest address email writes (RFC 5321's limit
// on a path less its angle brackets): an address that would grow beyond
// it is refused instead.
const EmailMaxLength = 254

func newEmail(b *build) (built, error) {
	mode, err := b.opts.oneOf("domain_mode", "keep", "keep", "replace", "map")
	if err != nil {
		return built{}, err
	}
	localMode, err := b.opts.oneOf("local_part", "shape", "shape", "hash")
	if err != nil {
		return built{}, err
	}
	var localHash prf
	if localMode == "hash" {
		lb, err := b.block("local_hash")
		if err != nil {
			return built{}, err
		}
		localHash = prf{lb}
	}
	repl, err := b.opts.str("replacement_domain", "example.com")
	if err != nil {
		return built{}, err
	}
	if !validDomain([]byte(repl)) {
		return built{}, optionErr("email", "replacement_domain", "must be a domain name such as example.com; got %q", repl)
	}
	raw, err := b.opts.object("domain_map")
	if err != nil {
		return built{}, err
	}
	dmap := map[string][]byte{}
	for k, v := range raw {
		s, ok := v.(string)
		if !ok || !validDomain([]byte(s)) {
			return built{}, optionErr("email", "domain_map", "value for %q must be a domain name such as example.com", k)
		}
		dmap[strings.ToLower(k)] = []byte(s)
	}
	if mode == "map" && len(dmap) == 0 {
		return built{}, optionErr("email", "domain_map", `is required and must not be empty when domain_mode is "map"`)
	}
	replB := []byte(repl)
	f, err := b.fpe()
	if err != nil {
		return built{}, err
	}
	return built{bijective: mode == "keep" && localMode == "shape", passEmpty: true, body: func(dst, src []byte) ([]byte, error) {
		at := -1
		for i := len(src) - 1; i >= 0; i-- {
			if src[i] == '@' {
				at = i
				break
			}
		}
		if at <= 0 || at > 64 {
			return dst, invalidReason("not an e-mail address: it needs a local part of 1 to 64 characters before the last @")
		}
		local, domain := src[:at], src[at+1:]
		if !validDomain(domain) {
			return dst, invalidReason("not an e-mail address: the domain is not a valid domain name")
		}
		if local[0] == '.' || local[len(local)-1] == '.' {
			return dst, invalidReason("not an e-mail address: the local part starts or ends with a dot")
		}
		for i, c := range local {
			if c == '.' {
				if local[i-1] == '.' {
					return dst, invalidReason("not an e-mail address: two consecutive dots in the local part")
				}
			} else if !isAtext(c) {
				return dst, invalidReason("not an e-mail address: unsupported character in the local part (quoted and internationalised local parts are not supported)")
			}
		}
		newDomain := domain
		switch mode {
		case "replace":
			newDomain = replB
		case "map":
			if d, ok := dmap[string(domain)]; ok {
				newDomain = d
			} else if d, ok := dmap[strings.ToLower(string(domain))]; ok {
				newDomain = d
			}
		}
		// Output goes before the scratch: the local part grows by at most
		// a dot and 6 digits (emailWiden).
		outMax := len(local) + 8 + 1 + len(newDomain)
		scratch, dst := withScratch(dst, outMax+2*len(local)+fpeScratch)
		scratch = scratch[outMax:]
		vals, rad, fs := scratch[:len(local)], scratch[len(local):2*len(local)], scratch[2*len(local):]
		var err error
		base := len(dst)
		if localMode == "hash" {
			dst = emailLocalHash(localHash, dst, local, fnv64(domain), fs)
		} else if dst, err = emailLocal(f, dst, local, fnv64(domain), EmailMaxLength-1-len(newDomain), vals, rad, fs); err != nil {
			return dst, err
		}
		dst = append(dst, '@')
		dst = append(dst, newDomain...)
		if n := len(dst) - base; n > EmailMaxLength && n > len(src) {
			// Only a longer replacement or mapped domain, or local_part =
			// "hash"'s 16 characters, grow an address past the limit: emailLocal never widens a local part beyond
			// it, so with domain_mode = "keep" a varchar(254) column holds
			// every output of an address of at most 254 characters.
			return dst[:base], invalidReason("the masked address would be longer than 254 characters (its replacement domain, or the 16-character hashed local part, is longer than the original)")
		}
		return dst, nil
	}}, nil
}

// emailClass folds c to the e-mail class alphabet: a letter's value 0-25 (any
// case) with radix-1 25, a digit's 0-9 with radix-1 9; ok is false for
// punctuation, which is kept.
func emailClass(c byte) (v, r byte, ok bool) {
	switch {
	case isLower(c):
		return c - 'a', 25, true
	case isUpper(c):
		return c - 'A', 25, true
	case isDigit(c):
		return c - '0', 9, true
	}
	return 0, 0, false
}

// emailLocal appends the masked local part. Letters stay letters (in the
// input's case at that position) and digits stay digits, so the mapping
// works on the case-folded local part: lower(out) depends only on
// lower(in), and it is a permutation both of exact local parts and of
// case-folded ones (bijective under = and under lower() or citext).
//
// A local part with fewer than ff1MinDomain possible values (such as
// "bob") is widened: it is permuted together with the local parts
// "<it>.<d digits>" (d the fewest digits that make 1,000,000 values), so
// its output may gain such a suffix, and an input of that suffixed form
// may lose it.
//
// When the suffixed form is longer than maxLocal (the local part that
// keeps the address within EmailMaxLength next to its domain), the
// permutation is cycle-walked within the short forms (and within the
// suffixed ones, which are then addresses beyond RFC 5321's limit
// already): a short local part never widens past the limit, and every
// address whose first step lands where it did before keeps its output.
func emailLocal(f fpe, dst, local []byte, tweak uint64, maxLocal int, vals, rad, scratch []byte) ([]byte, error) {
	p, suffix := local, -1
	if emailDomainSize(local) < ff1MinDomain {
		suffix = 0
	} else if dot := lastDot(local); dot > 0 && allDigits(local[dot+1:]) {
		if prefix := local[:dot]; emailDomainSize(prefix) < ff1MinDomain && len(local)-dot-1 == emailWiden(prefix) {
			p, suffix = prefix, len(local)-dot-1
		}
	}
	k := 0
	shape := tweak
	for _, c := range p {
		v, r, ok := emailClass(c)
		if ok {
			vals[k], rad[k] = v, r
			k++
			c = r
		}
		shape = (shape ^ uint64(c)) * 1099511628211
	}
	if suffix < 0 {
		if !f.encrypt(vals[:k], rad[:k], shape, scratch) {
			return dst, errSmallDomain
		}
		return emailWrite(dst, local, vals[:k]), nil
	}
	// Widened: index the union of p's values and p.DDDDDD's values.
	d := emailWiden(p)
	if len(p)+1+d > 64 {
		return dst, errSmallDomain
	}
	np := uint64(emailDomainSize(p))
	x := uint64(0)
	for i := range k {
		x = x*(uint64(rad[i])+1) + uint64(vals[i])
	}
	pow := uint64(1)
	for range d {
		pow *= 10
	}
	if suffix > 0 {
		x = np + x*pow + numDigits(local[len(local)-suffix:])
	}
	y := f.permuteInt(x, np*(1+pow), shape, scratch)
	if len(p)+1+d > maxLocal {
		// Cycle-walk: stay among the short forms (or among the long ones).
		walk := f
		walk.meter = nil // the meter counted the permutation once, as a FixedPointMeter does
		for (y >= np) != (x >= np) {
			y = walk.permuteInt(y, np*(1+pow), shape, scratch)
		}
	}
	var tail uint64
	long := y >= np
	if long {
		y -= np
		y, tail = y/pow, y%pow
	}
	for i := k - 1; i >= 0; i-- {
		r := uint64(rad[i]) + 1
		vals[i] = byte(y % r)
		y /= r
	}
	dst = emailWrite(dst, p, vals[:k])
	if long {
		dst = append(dst, '.')
		n := len(dst)
		for range d {
			dst = append(dst, '0')
		}
		for i := len(dst) - 1; i >= n; i-- {
			dst[i] = byte('0' + tail%10)
			tail /= 10
		}
	}
	return dst, nil
}

// emailWrite appends pattern with its letters and digits replaced by vals,
// each letter in the case of the pattern's letter at that position.
func emailWrite(dst, pattern, vals []byte) []byte {
	k := 0
	for _, c := range pattern {
		switch {
		case isLower(c):
			c = 'a' + vals[k]
		case isUpper(c):
			c = 'A' + vals[k]
		case isDigit(c):
			c = '0' + vals[k]
		default:
			dst = append(dst, c)
			continue
		}
		dst = append(dst, c)
		k++
	}
	return dst
}

// emailDomainSize is the number of local parts with local's pattern of
// letters, digits and punctuation, capped at ff1MinDomain.
func emailDomainSize(local []byte) int {
	n := 1
	for _, c := range local {
		if _, r, ok := emailClass(c); ok {
			n *= int(r) + 1
			if n >= ff1MinDomain {
				return ff1MinDomain
			}
		}
	}
	return n
}

// emailWiden is the number of digits d such that local.DDD...D (d digits)
// has at least ff1MinDomain values.
func emailWiden(local []byte) int {
	n, d := emailDomainSize(local), 0
	for n < ff1MinDomain {
		n *= 10
		d++
	}
	return d
}

func lastDot(b []byte) int {
	for i := len(b) - 1; i >= 0; i-- {
		if b[i] == '.' {
			return i
		}
	}
	return -1
}

func allDigits(b []byte) bool {
	for _, c := range b {
		if !isDigit(c) {
			return false
		}
	}
	return len(b) > 0
}

func numDigits(b []byte) uint64 {
	v := uint64(0)
	for _, c := range b {
		v = v*10 + uint64(c-'0')
	}
	return v
}

// emailLocalHash appends 16 lower-case letters and digits chosen by a keyed
// hash of the case-folded local part (and the domain), for local_part =
// "hash". scratch must hold len(local)+16 bytes.
func emailLocalHash(p prf, dst, local []byte, tweak uint64, scratch []byte) []byte {
	w := scratch[16 : 16+len(local)]
	for i, c := range local {
		w[i] = foldASCII(c)
	}
	hi, lo := p.sum(scratch[:16], tweak, w)
	const alphabet = "abcdefghijklmnopqrstuvwxyz0123456789"
	// Each 64-bit word yields 8 base-36 digits by repeated multiplication.
	for _, x := range [2]uint64{hi, lo} {
		for range 8 {
			var d uint64
			d, x = bits.Mul64(x, uint64(len(alphabet)))
			dst = append(dst, alphabet[d])
		}
	}
	return dst
}
