package masking

import (
	"bytes"
	"sort"
	"strings"
	"unicode"
	"unicode/utf8"
)

// The dictionaries are generated here from syllables (our own data, no
// third-party name lists): every combination of a prefix and an ending.
var (
	firstNamePrefixes = []string{"Al", "Ar", "Bel", "Ber", "Cal", "Car", "Dar", "Del", "Ed", "El", "Em", "Fal", "Fer", "Gal", "Gil", "Hal", "Har", "Il", "Is", "Jan", "Jor", "Kal", "Kir", "Lar", "Lin", "Mar", "Mir", "Nal", "Nor", "Ol", "Or", "Pal", "Per", "Ral", "Ros", "Sal", "Ser", "Tal", "Ter", "Ul", "Val", "Ver", "Wil", "Yan", "Zar"}
	firstNameEndings  = []string{"a", "ia", "ina", "ella", "ette", "ine", "yn", "en", "on", "an", "o", "ie", "y", "iel", "ian", "ric", "win", "ton", "mond", "ald", "ard", "is", "us", "ene", "ora", "ise"}
	lastNamePrefixes  = []string{"Ash", "Black", "Bram", "Brook", "Cald", "Clay", "Cold", "Dun", "East", "Fair", "Farr", "Green", "Hart", "Hawk", "Hol", "Kings", "Lang", "Lock", "Mar", "Mer", "North", "Oak", "Pem", "Red", "Ren", "Sher", "Stan", "Thorn", "West", "White", "Wood", "Wynd", "Ald", "Bel", "Corn", "Dal", "Els", "Gar", "Hen", "Mill"}
	lastNameEndings   = []string{"ford", "wood", "ley", "ton", "field", "well", "by", "worth", "more", "dale", "ridge", "brook", "stone", "man", "son", "er", "ham", "wick", "croft", "gate", "hurst", "mere", "shaw", "thorpe", "ville", "combe", "den", "ell", "ing", "holt"}
	streetTypes       = []string{"Street", "Avenue", "Road", "Lane", "Drive", "Way", "Court", "Place", "Terrace", "Close", "Crescent", "Row"}

	firstNames = combine(firstNamePrefixes, firstNameEndings)
	lastNames  = combine(lastNamePrefixes, lastNameEndings)
)

func combine(prefixes, endings []string) [][]byte {
	seen := map[string]bool{}
	var out []string
	for _, p := range prefixes {
		for _, e := range endings {
			// Avoid a doubled letter at the seam ("Ella" from "El"+"la" is fine,
			// "Alla" from "Al"+"la" too; "Belll" would not be).
			s := p + e
			if strings.Contains(s, "lll") || seen[s] {
				continue
			}
			seen[s] = true
			out = append(out, s)
		}
	}
	sort.Strings(out)
	res := make([][]byte, len(out))
	for i, s := range out {
		res[i] = []byte(s)
	}
	return res
}

func init() {
	nameOpts := []OptionInfo{}
	register(entry{
		info: Info{Name: "first_name", Options: nameOpts,
			Description: "Replaces a given name with one from an embedded dictionary of generated names, chosen by a keyed hash of the case-folded input; keeps all-upper or all-lower case. first_name, last_name and full_name with the same domain agree on each name."},
		make: func(b *build) (built, error) { return newName(b, false) },
	})
	register(entry{
		info: Info{Name: "last_name", Options: nameOpts,
			Description: "Replaces a family name with one from an embedded dictionary of generated names (see first_name)."},
		make: func(b *build) (built, error) { return newName(b, true) },
	})
	register(entry{
		info: Info{Name: "full_name", Options: nameOpts,
			Description: `Replaces each word of a full name: the last with a family name, the others with given names; "Last, First" order is kept.`},
		make: newFullName,
	})
	register(entry{
		info: Info{Name: "address",
			Description: `Replaces a postal address with a generated one ("<number> <street> <type>"), adding a city and a postcode when the input has comma-separated parts. Not bijective.`},
		validate: true, make: newAddress,
	})
}

// caseStyle of a value: 0 as in the dictionary (Title), 1 upper, 2 lower.
func caseStyle(src []byte) int {
	upper, lower := false, false
	for _, c := range src {
		if isUpper(c) {
			upper = true
		} else if isLower(c) {
			lower = true
		}
	}
	switch {
	case upper && !lower:
		return 1
	case lower && !upper:
		return 2
	}
	return 0
}

func appendCased(dst, word []byte, style int) []byte {
	n := len(dst)
	dst = append(dst, word...)
	switch style {
	case 1:
		for i := n; i < len(dst); i++ {
			if isLower(dst[i]) {
				dst[i] -= 'a' - 'A'
			}
		}
	case 2:
		for i := n; i < len(dst); i++ {
			if isUpper(dst[i]) {
				dst[i] += 'a' - 'A'
			}
		}
	}
	return dst
}

// namePRF returns a keyed 64-bit value of the case-folded word. scratch
// must hold len(word)+16 bytes.
func namePRF(p prf, scratch, word []byte) uint64 {
	w := scratch[16 : 16+len(word)]
	for i, c := range word {
		if isUpper(c) {
			c += 'a' - 'A'
		}
		w[i] = c
	}
	hi, _ := p.sum(scratch[:16], 0, w)
	return hi
}

func nameBlocks(b *build) (first, last prf, err error) {
	fb, err := b.key.block("names", b.domain, "first")
	if err != nil {
		return prf{}, prf{}, err
	}
	lb, err := b.key.block("names", b.domain, "last")
	if err != nil {
		return prf{}, prf{}, err
	}
	return prf{fb}, prf{lb}, nil
}

// withScratch reserves n scratch bytes beyond dst's length and returns the
// scratch and dst, whose spare capacity now holds at least n bytes.
func withScratch(dst []byte, n int) (scratch, out []byte) {
	base := len(dst)
	all := grow(dst, n)
	return all[base:], all[:base]
}

func newName(b *build, last bool) (built, error) {
	pf, pl, err := nameBlocks(b)
	if err != nil {
		return built{}, err
	}
	p, dict := pf, firstNames
	if last {
		p, dict = pl, lastNames
	}
	return built{passEmpty: true, body: func(dst, src []byte) ([]byte, error) {
		// Scratch goes beyond the longest dictionary word so that appending
		// the name does not overwrite it before it is read.
		scratch, dst := withScratch(dst, 64+len(src)+16)
		scratch = scratch[64:]
		h := namePRF(p, scratch, src)
		return appendCased(dst, dict[uniform(h, len(dict))], caseStyle(src)), nil
	}}, nil
}

func newFullName(b *build) (built, error) {
	pf, pl, err := nameBlocks(b)
	if err != nil {
		return built{}, err
	}
	return built{passEmpty: true, body: func(dst, src []byte) ([]byte, error) {
		style := caseStyle(src)
		scratch, dst := withScratch(dst, 40*len(src)+64+len(src)+16)
		scratch = scratch[40*len(src)+64:]
		// "Last, First Middle" keeps its order.
		if c := bytes.IndexByte(src, ','); c >= 0 {
			lastPart, rest := bytes.TrimSpace(src[:c]), bytes.TrimSpace(src[c+1:])
			dst = appendCased(dst, lastNames[uniform(namePRF(pl, scratch, lastPart), len(lastNames))], style)
			dst = append(dst, ',')
			for w := range bytes.FieldsSeq(rest) {
				dst = append(dst, ' ')
				dst = appendCased(dst, firstNames[uniform(namePRF(pf, scratch, w), len(firstNames))], style)
			}
			return dst, nil
		}
		words := 0
		for range bytes.FieldsSeq(src) {
			words++
		}
		i := 0
		for w := range bytes.FieldsSeq(src) {
			if i > 0 {
				dst = append(dst, ' ')
			}
			if i == words-1 && words > 1 {
				dst = appendCased(dst, lastNames[uniform(namePRF(pl, scratch, w), len(lastNames))], style)
			} else {
				dst = appendCased(dst, firstNames[uniform(namePRF(pf, scratch, w), len(firstNames))], style)
			}
			i++
		}
		return dst, nil
	}}, nil
}

func newAddress(b *build) (built, error) {
	blk, err := b.block("address")
	if err != nil {
		return built{}, err
	}
	p := prf{blk}
	return built{passEmpty: true, body: func(dst, src []byte) ([]byte, error) {
		if !utf8.Valid(src) {
			return dst, invalidReason("the value is not valid UTF-8")
		}
		parts := bytes.Count(src, []byte{','}) + 1
		scratch, dst := withScratch(dst, 160)
		hi, lo := p.sum(scratch, 0, src)
		base := len(dst)
		dst = appendUint(dst, uint64(1+uniform(hi, 9999)))
		dst = append(dst, ' ')
		dst = append(dst, lastNames[uniform(lo, len(lastNames))]...)
		dst = append(dst, ' ')
		dst = append(dst, streetTypes[uniform(hi*0x9e3779b97f4a7c15, len(streetTypes))]...)
		if parts > 1 {
			dst = append(dst, ", "...)
			dst = append(dst, lastNames[uniform(lo*0x9e3779b97f4a7c15, len(lastNames))]...)
		}
		if parts > 2 {
			dst = append(dst, ", "...)
			pc := uniform(hi^lo, 90000) + 10000
			dst = appendUint(dst, uint64(pc))
		}
		if caseStyle(src) == 1 {
			for i := base; i < len(dst); i++ {
				dst[i] = byte(unicode.ToUpper(rune(dst[i])))
			}
		}
		return dst, nil
	}}, nil
}

func appendUint(dst []byte, v uint64) []byte {
	var b [20]byte
	i := len(b)
	for {
		i--
		b[i] = byte('0' + v%10)
		v /= 10
		if v == 0 {
			break
		}
	}
	return append(dst, b[i:]...)
}
