package masking

import (
	"net/netip"
	"strings"
	"unicode"
)

// valueValidator recognises a kind from sampled values. confirm is the
// loose check used when the column name already suggests the kind; detect
// is the strict check that may raise a kind on values alone (nil: never).
type valueValidator struct {
	kind        string
	confirm     func(string) bool
	detect      func(string) bool
	minFraction float64 // of samples that must pass detect
	weight      float64 // confidence of a value-only finding at 100%
	required    bool    // a name match whose values all fail is demoted
	strong      bool    // a minority of passing values flags the column (strongMinority)
	minHits     int     // least number of passing samples for a value-only finding (0: 1)
}

// Strong validators (an e-mail address, a card number with its Luhn check,
// an IBAN with its mod-97 check) rarely pass by chance, so a minority of
// values is enough to flag a column: strongMinority of the samples, with a
// confidence of at least strongConfidence. A column where one value in
// twenty is an e-mail address holds e-mail addresses.
//
// Card numbers, SSNs and person names pass by chance more often, so their
// minority is larger and needs a few hits:
//   - cardMinority: a random 16-digit identifier passes the Luhn check
//     1 time in 10 and carries a real issuer prefix for its length about
//     1 time in 3 (Visa 4 is 1/10 of 16-digit numbers, Mastercard 51-55
//     and 2221-2720 1/10, Maestro, Diners, Discover, JCB, UnionPay the
//     rest), so about 3.5% of random 16-digit ids pass isIssuedCardNumber
//     (measured in TestDetect_RandomIDsNotCards). A column of random ids
//     reaches 20% by chance with odds of 3e-10 at 100 samples, 5e-4 at 30
//     and, with the 3-hit floor, 1.4e-2 at 15.
//   - ssnMinority: the dashed AAA-GG-SSSS shape with a valid area, group
//     and serial is not what other identifiers look like (dates and
//     phones use other groupings); 20% and 2 hits.
//   - nameMinority: "First Last" with a first name from the list is what
//     a product or place name looks like rarely ("Victoria Station");
//     20% and 3 hits.
const (
	strongMinority   = 0.05
	strongConfidence = 0.6
	cardMinority     = 0.2
	ssnMinority      = 0.2
	nameMinority     = 0.2
)

var valueValidators = []valueValidator{
	{kind: KindEmail, confirm: isEmail, detect: isEmail, minFraction: strongMinority, weight: 0.95, required: false, strong: true},
	{kind: KindPhone, confirm: isPhoneLoose, detect: isPhoneStrict, minFraction: 0.8, weight: 0.8, required: true},
	{kind: KindCreditCard, confirm: isCardNumber, detect: isIssuedCardNumber, minFraction: cardMinority, minHits: 3, weight: 0.9, required: true, strong: true},
	{kind: KindIBAN, confirm: isIBAN, detect: isIBAN, minFraction: strongMinority, weight: 0.95, required: true, strong: true},
	{kind: KindIP, confirm: isIP, detect: isHostIP, minFraction: 0.8, weight: 0.85, required: true},
	{kind: KindNationalID, confirm: isIDLike, detect: isSSN, minFraction: ssnMinority, minHits: 2, weight: 0.8, required: true, strong: true},
	{kind: KindBirthDate, confirm: isDateLike},
	{kind: KindFirstName, confirm: isWordName, detect: isKnownFirstName, minFraction: 0.6, weight: 0.75},
	{kind: KindLastName, confirm: isWordName},
	{kind: KindFullName, confirm: personNameShaped, detect: isPersonName, minFraction: nameMinority, minHits: 3, weight: 0.85, required: true, strong: true},
	{kind: KindAddress, confirm: isAddressLoose, detect: isStreetAddress, minFraction: 0.6, weight: 0.8},
	{kind: KindUsername, confirm: isLoginLike, detect: isNameHandle, minFraction: 0.5, weight: 0.85},
}

// StrongValueKind reports the kind of personal data a single value is
// beyond doubt, whatever its column is called: an e-mail address (alone
// or inside text), an IBAN (with its mod-97 check), a card number (Luhn
// check and a real issuer prefix for its length) or a US SSN in its
// dashed form with a valid area, group and serial; "" otherwise. It is
// for output shown to people, where one such value is already a leak (a
// random 16-digit id passes as a card about 1 time in 30: such a column
// needs a rule, "keep" if it is safe to show).
func StrongValueKind(s string) string {
	s = strings.TrimSpace(s)
	switch {
	case isEmail(s) || embeddedEmail(s):
		return KindEmail
	case isIBAN(s):
		return KindIBAN
	case isIssuedCardNumber(s):
		return KindCreditCard
	case isSSN(s):
		return KindNationalID
	}
	return ""
}

// isIssuedCardNumber accepts a card number that passes the Luhn check and
// starts with a real issuer prefix (IIN) for its length: Visa 4 (13, 16,
// 19 digits), Mastercard 51-55 and 2221-2720 (16), American Express 34
// and 37 (15), Discover 6011, 644-649 and 65 (16-19), JCB 3528-3589
// (16-19), Diners Club 300-305, 36, 38-39 (14-16), UnionPay 62 (16-19),
// Maestro 50, 56-58, 6304, 6759, 676770, 676774 (12-19).
func isIssuedCardNumber(s string) bool {
	if !isCardNumber(s) {
		return false
	}
	d := make([]byte, 0, 19)
	for i := 0; i < len(s); i++ {
		if isDigit(s[i]) {
			d = append(d, s[i])
		}
	}
	n := len(d)
	p := func(k int) int {
		v := 0
		for _, c := range d[:k] {
			v = v*10 + int(c-'0')
		}
		return v
	}
	p1, p2, p3, p4 := p(1), p(2), p(3), p(4)
	switch {
	case p1 == 4:
		return n == 13 || n == 16 || n == 19
	case p2 >= 51 && p2 <= 55, p4 >= 2221 && p4 <= 2720:
		return n == 16
	case p2 == 34 || p2 == 37:
		return n == 15
	case p4 == 6011, p3 >= 644 && p3 <= 649, p2 == 65:
		return n >= 16 && n <= 19
	case p4 >= 3528 && p4 <= 3589:
		return n >= 16 && n <= 19
	case p3 >= 300 && p3 <= 305, p2 == 36, p2 == 38, p2 == 39:
		return n >= 14 && n <= 16
	case p2 == 62:
		return n >= 16 && n <= 19
	case p2 == 50, p2 >= 56 && p2 <= 58, p4 == 6304, p4 == 6759:
		return n >= 12 && n <= 19
	}
	return false
}

// isNameHandle accepts a login made of a person's names: a common given
// name, a dot, underscore or hyphen, and a surname-shaped word, optionally
// followed by digits ("mary.jones", "john_smith42").
func isNameHandle(s string) bool {
	i := strings.IndexAny(s, "._-")
	if i <= 0 || i == len(s)-1 || !commonFirstNames[strings.ToLower(s[:i])] {
		return false
	}
	rest := strings.TrimRight(s[i+1:], "0123456789")
	if len(rest) < 2 {
		return false
	}
	for _, r := range rest {
		if !unicode.IsLetter(r) {
			return false
		}
	}
	return true
}

// isLoginLike accepts what a login looks like: 2 to 64 characters of
// letters, digits, dots, underscores and hyphens, with a letter.
func isLoginLike(s string) bool {
	if len(s) < 2 || len(s) > 64 {
		return false
	}
	letter := false
	for _, r := range s {
		switch {
		case unicode.IsLetter(r):
			letter = true
		case unicode.IsDigit(r), r == '.', r == '_', r == '-':
		default:
			return false
		}
	}
	return letter
}

// embeddedPersonName reports a person's name inside longer text: a common
// given name, capitalised, followed by a capitalised word that is not an
// organisation word ("Spoke with Mary Jones about…").
func embeddedPersonName(s string) bool {
	words := strings.Fields(s)
	for i := 0; i+1 < len(words); i++ {
		w := strings.Trim(words[i], ",.;:!?()\"'")
		next := strings.Trim(words[i+1], ",.;:!?()\"'")
		if w == "" || next == "" || !unicode.IsUpper([]rune(w)[0]) || !commonFirstNames[strings.ToLower(w)] {
			continue
		}
		if nameWord(next) && len(next) > 1 && !organisationWords[strings.ToLower(next)] && !commonSentenceWords[strings.ToLower(next)] {
			return true
		}
	}
	return false
}

// commonSentenceWords are capitalised words that follow a given name in
// text without making it a person's full name.
var commonSentenceWords = map[string]bool{
	"the": true, "and": true, "or": true, "of": true, "in": true, "on": true, "at": true, "to": true,
	"is": true, "was": true, "street": true, "st": true, "road": true, "avenue": true, "hotel": true,
	"i": true, "a": true, "an": true,
}

func isEmail(s string) bool {
	at := strings.LastIndexByte(s, '@')
	if at <= 0 || at > 64 || !strings.Contains(s[at+1:], ".") || !validDomain([]byte(s[at+1:])) {
		return false
	}
	local := s[:at]
	if local[0] == '.' || local[len(local)-1] == '.' || strings.Contains(local, "..") {
		return false
	}
	for i := 0; i < len(local); i++ {
		if local[i] != '.' && !isAtext(local[i]) {
			return false
		}
	}
	return true
}

// phoneShape counts digits and reports whether s uses only phone characters.
func phoneShape(s string) (digits int, seps bool, plus bool, ok bool) {
	for i := 0; i < len(s); i++ {
		c := s[i]
		switch {
		case isDigit(c):
			digits++
		case c == '+' && i == 0:
			plus = true
		case phoneSep(c):
			seps = true
		default:
			return 0, false, false, false
		}
	}
	return digits, seps, plus, true
}

func isPhoneLoose(s string) bool {
	d, _, _, ok := phoneShape(s)
	return ok && d >= 6 && d <= 15
}

func isPhoneStrict(s string) bool {
	d, seps, plus, ok := phoneShape(s)
	if !ok || d < 7 || d > 15 || !(seps || plus) {
		return false
	}
	// Dates and versions use separators too; phones do not look like them.
	return !isDateLike(s)
}

func isCardNumber(s string) bool {
	d := 0
	same := true
	for i := 0; i < len(s); i++ {
		c := s[i]
		switch {
		case isDigit(c):
			if d > 0 && c != s[0] {
				same = false
			}
			d++
		case c == ' ' || c == '-':
		default:
			return false
		}
	}
	return d >= 13 && d <= 19 && !same && luhnValid([]byte(s))
}

func isIBAN(s string) bool {
	b := []byte(s)
	n := 0
	for _, c := range b {
		if c == ' ' {
			continue
		}
		if !(isDigit(c) || isUpper(c)) {
			return false
		}
		n++
	}
	c := strings.ReplaceAll(s, " ", "")
	return n >= 15 && n <= 34 && isUpper(c[0]) && isUpper(c[1]) && isDigit(c[2]) && isDigit(c[3]) && ibanMod97(b) == 1
}

func isIP(s string) bool {
	if i := strings.IndexByte(s, '/'); i >= 0 {
		s = s[:i]
	}
	a, err := netip.ParseAddr(s)
	return err == nil && (a.Is4() && strings.Count(s, ".") == 3 || a.Is6())
}

// isHostIP accepts single addresses, not network ranges.
func isHostIP(s string) bool { return !strings.Contains(s, "/") && isIP(s) }

func isSSN(s string) bool {
	if len(s) != 11 || s[3] != '-' || s[6] != '-' {
		return false
	}
	for i, c := range []byte(s) {
		if i != 3 && i != 6 && !isDigit(c) {
			return false
		}
	}
	// The SSA never issues area 000, 666 or 900-999, group 00 or serial
	// 0000.
	return s[:3] != "000" && s[:3] != "666" && s[0] != '9' && s[4:6] != "00" && s[7:] != "0000"
}

// isIDLike accepts identifier-shaped values: 5 to 20 letters and digits
// with at least 4 digits, optionally separated.
func isIDLike(s string) bool {
	d, n := 0, 0
	for i := 0; i < len(s); i++ {
		c := s[i]
		switch {
		case isDigit(c):
			d++
			n++
		case isUpper(c) || isLower(c):
			n++
		case c == '-' || c == ' ' || c == '.' || c == '/':
		default:
			return false
		}
	}
	return d >= 4 && n >= 5 && n <= 20
}

func isDateLike(s string) bool {
	if _, _, _, n, ok := parseISODate([]byte(s)); ok && (n == len(s) || s[n] == ' ' || s[n] == 'T') {
		return true
	}
	// dd/mm/yyyy, mm/dd/yyyy, dd.mm.yyyy
	if len(s) == 10 && (s[2] == '/' || s[2] == '.') && s[5] == s[2] {
		_, ok1 := num([]byte(s[:2]))
		_, ok2 := num([]byte(s[3:5]))
		_, ok3 := num([]byte(s[6:]))
		return ok1 && ok2 && ok3
	}
	return false
}

func isWordName(s string) bool {
	words := strings.Fields(s)
	if len(words) == 0 || len(words) > 2 {
		return false
	}
	for _, w := range words {
		if !nameWord(w) {
			return false
		}
	}
	return true
}

// nameWord accepts a capitalised word of letters, apostrophes and hyphens.
func nameWord(w string) bool {
	for i, r := range w {
		switch {
		case i == 0 && !unicode.IsUpper(r):
			return false
		case unicode.IsLetter(r), r == '\'', r == '-', r == '.' && i == len(w)-1:
		default:
			return false
		}
	}
	return w != ""
}

func isKnownFirstName(s string) bool {
	return commonFirstNames[strings.ToLower(strings.TrimSpace(s))]
}

// isPersonName accepts 2 to 4 capitalised words whose first (or, for "Last,
// First", second) is a common given name.
func isPersonName(s string) bool {
	first := s
	if i := strings.IndexByte(s, ','); i >= 0 {
		first = strings.TrimSpace(s[i+1:])
		s = s[:i] + " " + first
	}
	words := strings.Fields(s)
	if len(words) < 2 || len(words) > 4 {
		return false
	}
	for _, w := range words {
		if !nameWord(w) {
			return false
		}
	}
	fw := strings.Fields(first)
	return len(fw) > 0 && commonFirstNames[strings.ToLower(fw[0])]
}

// organisationWords mark a company's or an organisation's name.
var organisationWords = map[string]bool{
	"ltd": true, "ltd.": true, "limited": true, "inc": true, "inc.": true, "llc": true, "llp": true,
	"gmbh": true, "ag": true, "sa": true, "s.a.": true, "s.p.a.": true, "spa": true, "srl": true,
	"bv": true, "b.v.": true, "nv": true, "plc": true, "corp": true, "corp.": true, "corporation": true,
	"co": true, "co.": true, "company": true, "group": true, "holding": true, "holdings": true,
	"partners": true, "associates": true, "traders": true, "trading": true, "industries": true,
	"international": true, "solutions": true, "services": true, "systems": true, "foundation": true,
	"university": true, "school": true, "bank": true, "hotel": true, "restaurant": true, "shop": true,
	"store": true, "the": true, "of": true, "and": true, "for": true, "kg": true, "oy": true, "ab": true,
	"as": true, "pty": true, "kk": true, "sarl": true, "sas": true,
}

// personNameShaped accepts what a person's name looks like without knowing
// the given name: 2 to 4 capitalised words of letters (or "Last, First"),
// none of them a word of an organisation's name.
func personNameShaped(s string) bool {
	if isPersonName(s) {
		return true
	}
	if i := strings.IndexByte(s, ','); i >= 0 {
		s = s[:i] + " " + s[i+1:]
	}
	words := strings.Fields(s)
	if len(words) < 2 || len(words) > 4 {
		return false
	}
	for _, w := range words {
		if !nameWord(w) || organisationWords[strings.ToLower(w)] {
			return false
		}
	}
	return true
}

// shapedFraction is the share of samples personNameShaped accepts.
func shapedFraction(samples []string) float64 {
	if len(samples) == 0 {
		return 0
	}
	n := 0
	for _, s := range samples {
		if personNameShaped(s) {
			n++
		}
	}
	return float64(n) / float64(len(samples))
}

var streetWords = map[string]bool{
	"street": true, "st": true, "st.": true, "avenue": true, "ave": true, "ave.": true, "road": true, "rd": true,
	"rd.": true, "lane": true, "ln": true, "boulevard": true, "blvd": true, "drive": true, "dr": true,
	"dr.": true, "way": true, "court": true, "ct": true, "place": true, "pl": true, "terrace": true,
	"close": true, "crescent": true, "square": true, "highway": true, "hwy": true, "parkway": true,
	"pkwy": true, "row": true, "straße": true, "strasse": true, "weg": true, "allee": true, "platz": true,
	"rue": true, "via": true, "calle": true, "avenida": true, "gasse": true, "straat": true,
}

func isStreetAddress(s string) bool {
	words := strings.Fields(strings.ToLower(strings.ReplaceAll(s, ",", " ")))
	hasNum, hasStreet := false, false
	for _, w := range words {
		if w[0] >= '0' && w[0] <= '9' {
			hasNum = true
		}
		if streetWords[w] || strings.HasSuffix(w, "straße") || strings.HasSuffix(w, "strasse") || strings.HasSuffix(w, "weg") || strings.HasSuffix(w, "straat") {
			hasStreet = true
		}
	}
	return hasNum && hasStreet && len(words) >= 2
}

func isAddressLoose(s string) bool {
	hasDigit, hasLetter := false, false
	for _, r := range s {
		hasDigit = hasDigit || unicode.IsDigit(r)
		hasLetter = hasLetter || unicode.IsLetter(r)
	}
	return hasDigit && hasLetter && strings.Contains(s, " ")
}

// embeddedEmail reports an e-mail address inside longer text.
func embeddedEmail(s string) bool {
	for i := 0; i < len(s); i++ {
		if s[i] != '@' {
			continue
		}
		l := i
		for l > 0 && (isAtext(s[l-1]) || s[l-1] == '.') {
			l--
		}
		r := i + 1
		for r < len(s) && (isDigit(s[r]) || isUpper(s[r]) || isLower(s[r]) || s[r] == '-' || s[r] == '.') {
			r++
		}
		cand := strings.Trim(s[l:r], ".")
		if isEmail(cand) {
			return true
		}
	}
	return false
}

// embeddedPhone reports a phone number inside longer text: "+" followed by
// 8-15 digits with separators, or the North American 3-3-4 shape.
func embeddedPhone(s string) bool {
	for i := 0; i < len(s); i++ {
		c := s[i]
		if c != '+' && c != '(' && !isDigit(c) {
			continue
		}
		if i > 0 && (isDigit(s[i-1]) || isLower(s[i-1]) || isUpper(s[i-1]) || s[i-1] == '-') {
			continue
		}
		j, d, groups, inGroup := i, 0, []int{}, 0
		for j < len(s) && (isDigit(s[j]) || phoneSep(s[j]) || (j == i && s[j] == '+')) {
			if isDigit(s[j]) {
				d++
				inGroup++
			} else if inGroup > 0 {
				groups = append(groups, inGroup)
				inGroup = 0
			}
			j++
		}
		if inGroup > 0 {
			groups = append(groups, inGroup)
		}
		switch {
		case c == '+' && d >= 8 && d <= 15:
			return true
		case len(groups) >= 3 && groups[len(groups)-1] == 4 && groups[len(groups)-2] == 3 && groups[len(groups)-3] == 3:
			return true
		}
		i = j
	}
	return false
}

// commonFirstNames is a short list of common given names, used only to tell
// person names from other names in sampled values.
var commonFirstNames = func() map[string]bool {
	m := map[string]bool{}
	for _, n := range strings.Fields(`james john robert michael william david richard joseph thomas charles
christopher daniel matthew anthony mark donald steven paul andrew joshua kenneth kevin brian george
timothy ronald edward jason jeffrey ryan jacob gary nicholas eric jonathan stephen larry justin scott
brandon benjamin samuel gregory alexander frank patrick raymond jack dennis jerry tyler aaron jose adam
nathan henry douglas zachary peter kyle noah ethan jeremy walter christian keith roger terry austin sean
gerald carl harold dylan arthur lawrence jordan jesse bryan billy bruce gabriel joe logan alan juan
albert willie elijah wayne randy vincent mason roy ralph bobby russell bradley philip eugene
mary patricia jennifer linda elizabeth barbara susan jessica sarah karen lisa nancy betty sandra margaret
ashley kimberly emily donna michelle carol amanda melissa deborah stephanie dorothy rebecca sharon laura
cynthia amy kathleen angela shirley brenda emma anna pamela nicole samantha katherine christine helen
debra rachel carolyn janet maria catherine heather diane olivia julie joyce victoria ruth virginia lauren
kelly christina joan evelyn judith andrea hannah megan cheryl jacqueline martha madison teresa gloria
sara janice ann kathryn abigail sophia frances jean alice judy isabella julia grace amber denise danielle
marilyn beverly charlotte natalie theresa diana brittany doris kayla alexis lori marie
hans peter klaus jürgen stefan andreas thomas wolfgang michael uwe anna ursula monika petra sabine
jean pierre michel marie nathalie isabelle sophie camille lucas louis hugo léa chloé manon
giuseppe giovanni antonio mario luigi francesco marco giulia francesca chiara sofia
josé antonio manuel francisco carmen lucía pablo javier alejandro sergio elena laura
jan piet kees anouk sanne lars anders erik ingrid astrid sven olga ivan dmitri natalia tatiana
wei li ming hiroshi yuki haruto sakura mohammed ahmed ali fatima aisha omar priya raj amit
ana carlos luis miguel jorge pedro rafael bruno diego fernando ricardo isabel beatriz`) {
		m[n] = true
	}
	return m
}()
