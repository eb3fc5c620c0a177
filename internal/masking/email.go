package masking

import "strings"

func init() {
	register(entry{
		info: Info{Name: "email", Bijective: true,
			Description: "E-mail addresses: the local part is format-preserving encrypted (length, dots and other punctuation kept; lower-case letters and digits permuted among themselves, upper-case letters among themselves), so distinct addresses stay distinct; the domain is kept, replaced or mapped. Bijective with domain_mode keep.",
			Options: []OptionInfo{
				{Name: "domain_mode", Type: "string", Description: `"keep" (default), "replace" (every domain becomes replacement_domain) or "map" (domains listed in domain_map are replaced, others kept).`},
				{Name: "replacement_domain", Type: "string", Description: `Replacement domain for domain_mode "replace" (default "example.com"). (The spec's own domain, which keys the masking, is a different thing.)`},
				{Name: "domain_map", Type: "map", Description: `Map from original domain (lower case) to replacement domain, for domain_mode "map".`},
			}},
		validate: true, make: newEmail,
	})
}

// emailAlphabet is the alphabet of the lower-case/digit class, by value.
const emailAlphabet = "abcdefghijklmnopqrstuvwxyz0123456789"

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

func newEmail(b *build) (built, error) {
	mode, err := b.opts.oneOf("domain_mode", "keep", "keep", "replace", "map")
	if err != nil {
		return built{}, err
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
	blk, err := b.block("fpe")
	if err != nil {
		return built{}, err
	}
	f := fpe{blk}
	return built{bijective: mode == "keep", passEmpty: true, body: func(dst, src []byte) ([]byte, error) {
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
		base := len(dst)
		outLen := len(local) + 1 + len(newDomain)
		all, out, vals, rad, scratch := fpeArea(dst, outLen, len(local))
		k := 0
		for _, c := range local {
			switch {
			case isLower(c):
				vals[k], rad[k] = c-'a', 35
			case isDigit(c):
				vals[k], rad[k] = c-'0'+26, 35
			case isUpper(c):
				vals[k], rad[k] = c-'A', 25
			default:
				continue
			}
			k++
		}
		f.encrypt(vals[:k], rad[:k], fnv64(domain), scratch)
		k = 0
		for i, c := range local {
			switch {
			case isLower(c) || isDigit(c):
				out[i] = emailAlphabet[vals[k]]
			case isUpper(c):
				out[i] = 'A' + vals[k]
			default:
				out[i] = c
				continue
			}
			k++
		}
		out[len(local)] = '@'
		copy(out[len(local)+1:], newDomain)
		return all[:base+outLen], nil
	}}, nil
}
