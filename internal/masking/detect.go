package masking

import (
	"sort"
	"strings"
	"unicode"
)

// Kinds of personal data reported by [Detect].
const (
	KindEmail       = "email"
	KindPhone       = "phone"
	KindFirstName   = "first_name"
	KindLastName    = "last_name"
	KindFullName    = "full_name"
	KindAddress     = "address"
	KindBirthDate   = "birth_date"
	KindCreditCard  = "credit_card"
	KindIBAN        = "iban"
	KindNationalID  = "national_id"
	KindIP          = "ip"
	KindFreeTextPII = "free_text_pii"
	// KindUsername is a login or user name, which often is a person's
	// name ("first.last") or e-mail local part.
	KindUsername = "username"
	// KindCredential is a secret: a password (hashed or not), its salt, a
	// token, an API key or a client secret. Hashes of passwords can be
	// cracked offline.
	KindCredential = "credential"
	// KindBinaryDocument is a picture, scan or document stored in a bytea
	// column or a large object.
	KindBinaryDocument = "binary_document"
	// KindPostalCode is a postal or ZIP code: with a birth date it
	// identifies most people.
	KindPostalCode = "postal_code"
	// KindCompany is a person's company or employer.
	KindCompany = "company"
)

// Column is what the detector looks at: a column's name, its SQL type as
// PostgreSQL names it (format_type), and a sample of non-NULL values in text
// form.
type Column struct {
	Name    string
	SQLType string
	Samples []string
}

// Finding is one kind of personal data a column probably holds.
type Finding struct {
	Kind       string
	Confidence float64 // 0..1
	Reason     string
	Suggested  Spec
}

// minConfidence is the confidence below which nothing is reported.
const minConfidence = 0.5

// nameRule recognises a kind from the column name.
type nameRule struct {
	kind   string
	strong []string // whole tokens or joined substrings that name the kind
}

var nameRules = []nameRule{
	{KindEmail, []string{"email", "e_mail", "emailaddress", "mail"}},
	{KindPhone, []string{"phone", "mobile", "cell", "cellphone", "telephone", "tel", "fax", "msisdn", "phonenumber", "mobilenumber", "contactnumber"}},
	{KindFirstName, []string{"firstname", "givenname", "forename", "fname", "first", "given"}},
	{KindLastName, []string{"lastname", "surname", "familyname", "lname", "maidenname"}},
	{KindFullName, []string{"fullname", "name", "cardholder", "holdername", "contactname", "customername", "personname", "holder"}},
	{KindAddress, []string{"address", "addr", "street", "streetaddress", "addressline", "address1", "address2", "addressline1", "addressline2"}},
	{KindBirthDate, []string{"dob", "birthdate", "dateofbirth", "birthday", "birth", "born"}},
	{KindCreditCard, []string{"cardnumber", "creditcard", "ccnumber", "ccnum", "pan", "cardno", "cc"}},
	{KindIBAN, []string{"iban"}},
	{KindNationalID, []string{"ssn", "socialsecurity", "socialsecuritynumber", "nationalid", "taxid", "tin", "passport", "passportnumber", "nino", "nationalinsurance", "sin", "driverlicense", "driverslicense", "licensenumber", "personalid", "idnumber", "nationalidentifier", "taxnumber", "bsn", "cpf", "aadhaar", "personnummer", "nin"}},
	{KindIP, []string{"ip", "ipaddress", "ipaddr", "ipv4", "ipv6", "remoteaddr", "clientaddr", "remoteip", "clientip"}},
	{KindUsername, []string{"username", "login", "loginname", "userlogin", "screenname", "handle", "nickname"}},
	{KindPostalCode, []string{"postalcode", "postcode", "zip", "zipcode", "postal", "plz"}},
	{KindCompany, []string{"company", "companyname", "employer", "employername", "organization", "organisation", "organizationname", "organisationname", "workplace"}},
}

// credentialTokens name a secret wherever they appear in a column name;
// credentialJoined are the same for names written as one word.
var (
	credentialTokens = map[string]bool{
		"password": true, "passwd": true, "pwd": true, "passphrase": true, "pass": true, "secret": true,
		"token": true, "apikey": true, "credential": true, "credentials": true, "salt": true, "otp": true,
		"privatekey": true, "pin": true, "totp": true, "mfa": true,
	}
	credentialJoined = []string{"password", "passwd", "apikey", "accesskey", "secretkey", "privatekey", "authtoken", "accesstoken", "refreshtoken", "clientsecret", "sessiontoken"}
	// credentialNegative describe a property of a secret, not the secret.
	credentialNegative = map[string]bool{
		"at": true, "count": true, "cnt": true, "attempts": true, "length": true, "len": true, "expires": true,
		"expiry": true, "exp": true, "expiration": true, "type": true, "policy": true, "required": true,
		"changed": true, "updated": true, "created": true, "sent": true, "version": true, "is": true,
		"has": true, "enabled": true, "flag": true, "hint": true, "strength": true, "id": true, "ids": true,
		"last4": true, "prefix": true, "scope": true, "scopes": true, "name": true, "kind": true,
		"algorithm": true, "algo": true, "rotated": true, "used": true, "last": true,
	}
	// documentTokens name a picture or document in a binary column.
	documentTokens = map[string]bool{
		"photo": true, "picture": true, "pic": true, "image": true, "img": true, "avatar": true,
		"thumbnail": true, "thumb": true, "scan": true, "document": true, "doc": true, "attachment": true,
		"file": true, "content": true, "signature": true, "pdf": true, "selfie": true, "portrait": true,
		"resume": true, "cv": true, "passport": true, "license": true, "licence": true, "blob": true,
		"upload": true, "contract": true, "letter": true, "xray": true, "fingerprint": true, "face": true,
	}
)

// credentialName reports whether a column name names a secret.
func credentialName(toks []string) bool {
	joined := strings.Join(toks, "")
	for _, t := range toks {
		if credentialNegative[t] {
			return false
		}
	}
	for _, t := range toks {
		if credentialTokens[t] {
			return true
		}
	}
	if len(toks) >= 2 && toks[len(toks)-2] == "api" && toks[len(toks)-1] == "key" {
		return true
	}
	for _, j := range credentialJoined {
		if strings.Contains(joined, j) {
			return true
		}
	}
	return false
}

// tokenOnly words match whole tokens only ("fullname" contains "lname").
var tokenOnly = map[string]bool{"fname": true, "lname": true, "birth": true, "holder": true}

// negativeTokens turn a name match off: they describe a property of the
// data (a flag, a counter, a setting), not the data itself.
var negativeTokens = map[string]bool{
	"verified": true, "enabled": true, "confirmed": true, "opt": true, "optin": true, "optout": true,
	"count": true, "cnt": true, "flag": true, "status": true, "type": true, "template": true,
	"hash": true, "digest": true, "format": true, "provider": true, "valid": true, "validated": true,
	"sent": true, "whitelist": true, "allowlist": true, "blocklist": true, "blacklist": true,
	"version": true, "required": true, "notifications": true, "preference": true, "preferences": true,
	"policy": true, "setting": true, "settings": true, "length": true, "len": true, "masked": true,
	"at": true, "total": true, "qty": true,
	"attempts": true, "last4": true, "brand": true, "expiry": true, "exp": true, "country": true,
	"domain": true, "server": true, "host": true, "port": true, "subject": true, "queue": true,
	"code": true, "prefix": true, "range": true, "limit": true, "bounced": true, "changed": true,
	"updated": true, "created": true, "is": true, "has": true, "allowed": true, "mac": true,
	"wallet": true, "key": true, "token": true, "unsubscribed": true, "frequency": true,
	"language": true, "locale": true, "timezone": true, "zone": true, "year": true, "month": true,
	"place": true, "certificate": true, "place_of": true, "rate": true, "extension": true,
}

// objectTokens are things that have names but are not people.
var objectTokens = map[string]bool{
	"product": true, "company": true, "org": true, "organization": true, "organisation": true,
	"business": true, "file": true, "filename": true, "table": true, "host": true, "hostname": true,
	"domain": true, "brand": true, "category": true, "project": true, "team": true, "app": true,
	"bucket": true, "service": true, "plan": true, "role": true, "street": true, "city": true,
	"country": true, "region": true, "item": true, "tag": true, "event": true, "campaign": true,
	"db": true, "database": true, "schema": true, "column": true, "model": true, "device": true,
	"feature": true, "group": true, "repo": true, "branch": true, "package": true, "job": true,
	"task": true, "store": true, "shop": true, "merchant": true, "bank": true, "vendor": true,
	"supplier": true, "display": true, "user": true, "username": true, "screen": true, "nick": true,
	"nickname": true, "image": true, "sku": true, "state": true, "metric": true, "index": true,
	"environment": true, "env": true, "account": true, "queue": true, "topic": true, "label": true,
	"stage": true, "step": true, "field": true, "attribute": true, "variant": true, "course": true,
	"school": true, "department": true, "warehouse": true, "carrier": true, "font": true,
	"class": true, "type": true, "method": true, "function": true, "resource": true, "cluster": true,
	"node": true, "plugin": true, "module": true, "route": true, "path": true, "key": true,
	"middle": true, "first": false, "last": false, "title": true, "legal": false, "trade": true,
}

// ambiguousTokens are the object tokens that name what is shown for an
// account or a user: with "name", a person's name as often as a thing's.
var ambiguousTokens = map[string]bool{"display": true, "screen": true, "nick": true, "account": true, "public": true, "shown": true}

// ambiguousNameConf marks a "*_name" column that may hold a person's or a
// thing's name; Detect reports it when the sampled values are shaped like
// person names (personNameShaped).
const ambiguousNameConf = 0.49

// ambiguousName reports a name like display_name: "name" and an
// ambiguous token, no other object token.
func ambiguousName(toks []string) bool {
	hasName, amb := false, false
	for _, t := range toks {
		switch {
		case t == "name":
			hasName = true
		case ambiguousTokens[t]:
			amb = true
		case objectTokens[t]:
			return false
		}
	}
	return hasName && amb
}

// personTokens qualify "name" as a person's name.
var personTokens = map[string]bool{
	"customer": true, "contact": true, "person": true, "employee": true, "holder": true,
	"cardholder": true, "recipient": true, "sender": true, "owner": true, "author": true,
	"patient": true, "member": true, "guest": true, "client": true, "billing": true,
	"shipping": true, "beneficiary": true, "passenger": true, "student": true, "applicant": true,
	"signer": true, "emergency": true, "full": true, "legal": true, "buyer": true, "payee": true,
	"driver": true, "tenant": true, "parent": true, "guardian": true, "spouse": true, "manager": true,
	"doctor": true, "teacher": true, "attendee": true, "subscriber": true, "traveler": true,
	"traveller": true, "candidate": true, "lead": true, "visitor": true, "volunteer": true,
}

// nameTokens splits a column name into lower-case words (snake, kebab and
// camel case).
func nameTokens(name string) []string {
	var toks []string
	var cur []rune
	flush := func() {
		if len(cur) > 0 {
			toks = append(toks, strings.ToLower(string(cur)))
			cur = cur[:0]
		}
	}
	rs := []rune(name)
	for i, r := range rs {
		switch {
		case !unicode.IsLetter(r) && !unicode.IsDigit(r):
			flush()
		case unicode.IsUpper(r) && i > 0 && (unicode.IsLower(rs[i-1]) || (i+1 < len(rs) && unicode.IsLower(rs[i+1]) && unicode.IsUpper(rs[i-1]))):
			flush()
			cur = append(cur, r)
		default:
			cur = append(cur, r)
		}
	}
	flush()
	return toks
}

// typeClass buckets a PostgreSQL type name.
func typeClass(t string) string {
	t = strings.ToLower(strings.TrimSpace(t))
	switch {
	case t == "":
		return "unknown"
	case strings.HasPrefix(t, "bool"):
		return "bool"
	case strings.HasPrefix(t, "timestamp"), t == "date", strings.HasPrefix(t, "time"):
		if t == "date" || strings.HasPrefix(t, "timestamp") {
			return "date"
		}
		return "time"
	case t == "inet" || t == "cidr":
		return "inet"
	case strings.Contains(t, "int") || strings.HasPrefix(t, "numeric") || strings.HasPrefix(t, "decimal") ||
		t == "real" || strings.HasPrefix(t, "double") || strings.HasPrefix(t, "float") || t == "money" ||
		strings.Contains(t, "serial"):
		return "number"
	case t == "uuid" || t == "bytea" || strings.HasPrefix(t, "interval") || t == "oid" || strings.HasPrefix(t, "bit"):
		return "opaque"
	case strings.HasPrefix(t, "json"):
		return "json"
	}
	return "text"
}

// kindAllowed reports whether a column of type class tc can hold kind.
func kindAllowed(kind, tc string) bool {
	switch tc {
	case "bool", "opaque", "time":
		return false
	case "date":
		return kind == KindBirthDate
	case "inet":
		return kind == KindIP
	case "number":
		return kind == KindPhone || kind == KindCreditCard || kind == KindNationalID
	case "json":
		return kind == KindFreeTextPII
	}
	return true
}

// nameKind returns the kinds the column name suggests, with a confidence.
func nameKind(name string) map[string]float64 {
	toks := nameTokens(name)
	joined := strings.Join(toks, "")
	has := map[string]bool{}
	for _, t := range toks {
		has[t] = true
	}
	// "code" marks a code, not personal data, except in a postal code.
	postal := strings.Contains(joined, "postalcode") || strings.Contains(joined, "postcode") || strings.Contains(joined, "zipcode")
	for _, t := range toks {
		if negativeTokens[t] && !(postal && t == "code") {
			return nil
		}
	}
	if len(toks) > 1 && (toks[0] == "num" || toks[0] == "n" || toks[0] == "number") {
		return nil // num_emails, number_of_phones
	}
	out := map[string]float64{}
	// A trailing "id" makes a reference to another row, unless the name is
	// a national identifier ("national_id", "tax_id").
	idRef := len(toks) > 1 && (toks[len(toks)-1] == "id" || toks[len(toks)-1] == "ids" || toks[len(toks)-1] == "uuid")
	for _, r := range nameRules {
		for _, s := range r.strong {
			if has[s] || (len(s) >= 5 && !tokenOnly[s] && strings.Contains(joined, s)) {
				out[r.kind] = max(out[r.kind], 0.8)
			}
		}
	}
	if idRef {
		nid := out[KindNationalID]
		clear(out)
		if nid > 0 {
			out[KindNationalID] = nid
		}
	}
	if out[KindIP] > 0 || strings.Contains(joined, "macaddr") {
		delete(out, KindAddress)
	}
	// Refine the ambiguous words.
	if out[KindAddress] > 0 && (has["email"] || has["mail"] && !has["mailing"] || has["ip"] || has["remote"] || has["client"] && !has["billing"]) {
		delete(out, KindAddress)
	}
	if has["street"] && has["name"] {
		delete(out, KindAddress) // a street name alone identifies nobody
	}
	if has["mailing"] {
		delete(out, KindEmail)
		out[KindAddress] = 0.8
	}
	if out[KindEmail] > 0 {
		delete(out, KindFullName)
		delete(out, KindAddress)
	}
	if out[KindFirstName] > 0 || out[KindLastName] > 0 {
		delete(out, KindFullName)
		if (has["first"] || has["given"]) && !has["name"] && !strings.Contains(joined, "firstname") && !strings.Contains(joined, "givenname") {
			delete(out, KindFirstName)
		}
	}
	if out[KindFullName] > 0 {
		object, person := false, false
		for _, t := range toks {
			object = object || objectTokens[t]
			person = person || personTokens[t]
		}
		switch {
		case object && !person && ambiguousName(toks):
			// display_name, account_name: a person's or a thing's name;
			// the values decide (see personNameShaped).
			out[KindFullName] = ambiguousNameConf
		case object && !person:
			delete(out, KindFullName)
		case person || joined != "name":
		default:
			out[KindFullName] = 0.45 // a bare "name": the values decide
		}
	}
	if out[KindCreditCard] > 0 && has["cc"] && !(has["number"] || has["num"] || has["no"]) && joined != "cc" {
		delete(out, KindCreditCard)
	}
	if out[KindPhone] > 0 && has["cell"] && len(toks) > 1 && !has["number"] && !has["phone"] {
		delete(out, KindPhone)
	}
	if has["birth"] && (has["place"] || has["country"] || has["city"]) {
		delete(out, KindBirthDate)
	}
	if out[KindUsername] > 0 && (out[KindIP] > 0 || out[KindEmail] > 0) {
		delete(out, KindUsername) // last_login_ip, login_email
	}
	if out[KindPostalCode] > 0 && (has["file"] || has["archive"] || has["compressed"]) {
		delete(out, KindPostalCode) // zip_file
	}
	if out[KindCompany] > 0 && (has["size"] || has["industry"] || has["sector"]) {
		delete(out, KindCompany)
	}
	return out
}

// Detect reports the kinds of personal data column c probably holds, most
// confident first; it returns nil when nothing looks personal.
func Detect(c Column) []Finding {
	if elem, ok := strings.CutSuffix(strings.TrimSpace(c.SQLType), "[]"); ok {
		// An array is judged by its elements (samples in array literal
		// form are split; already split ones are kept).
		c.SQLType, c.Samples = elem, arrayElements(c.Samples)
	}
	tc := typeClass(c.SQLType)
	if f := detectSpecial(c, tc); f != nil {
		return f
	}
	byName := nameKind(c.Name)
	var samples []string
	for _, s := range c.Samples {
		if s = strings.TrimSpace(s); s != "" {
			samples = append(samples, s)
		}
	}
	conf := map[string]float64{}
	reason := map[string]string{}
	for kind, s := range byName {
		if kindAllowed(kind, tc) {
			conf[kind], reason[kind] = s, "column name "+quote(c.Name)+" suggests "+kind
		}
	}
	if _, ok := conf[KindUsername]; !ok && kindAllowed(KindUsername, tc) && accountLikeName(c.Name) {
		// created_by, owner, account: a login or a person's handle as
		// often as an id; the values decide (isNameHandle).
		conf[KindUsername], reason[KindUsername] = 0.45, "column name "+quote(c.Name)+" names who owns or made a row"
	}
	if tc == "inet" {
		conf[KindIP] = max(conf[KindIP], 0.75)
		reason[KindIP] = "column type " + c.SQLType + " holds IP addresses"
	}
	if len(samples) > 0 && tc != "bool" && tc != "opaque" {
		for _, v := range valueValidators {
			if !kindAllowed(v.kind, tc) {
				continue
			}
			nameConf := conf[v.kind]
			check := v.confirm
			if nameConf < minConfidence {
				check = v.detect
			}
			if check == nil {
				continue
			}
			hits := 0
			for _, s := range samples {
				if check(s) {
					hits++
				}
			}
			f := float64(hits) / float64(len(samples))
			switch {
			case nameConf >= minConfidence && f > 0, nameConf > 0 && f >= v.minFraction:
				conf[v.kind] = min(1, max(nameConf, 0.7)+0.3*f)
				reason[v.kind] += "; " + pct(f) + " of sampled values are valid " + v.kind + " values"
			case nameConf > 0 && (v.required || nameConf < minConfidence) && f == 0:
				// The name says one thing, the values another.
				conf[v.kind] = nameConf * 0.6
				reason[v.kind] += "; but no sampled value looks like one"
			case nameConf == 0 && f >= v.minFraction && hits >= min(v.minHits, len(samples)):
				conf[v.kind] = v.weight * f
				if v.strong {
					conf[v.kind] = max(conf[v.kind], strongConfidence+0.35*f)
				}
				reason[v.kind] = pct(f) + " of sampled values are valid " + v.kind + " values"
			}
		}
		// A name that may be a person's or a thing's: person-shaped
		// values decide.
		if byName[KindFullName] == ambiguousNameConf && kindAllowed(KindFullName, tc) {
			if f := shapedFraction(samples); f >= 0.8 {
				conf[KindFullName] = 0.7 + 0.3*f
				reason[KindFullName] = "column name " + quote(c.Name) + " may name a person; " + pct(f) + " of sampled values are shaped like person names"
			}
		}
		// Embedded e-mail addresses or phone numbers in free text (or in
		// markup such as XML, without spaces), and people's names in
		// sentences.
		if tc == "text" || tc == "json" || tc == "unknown" {
			hits, named := 0, 0
			for _, s := range samples {
				if (containsSpace(s) || !isEmail(s)) && embeddedEmail(s) || containsSpace(s) && embeddedPhone(s) {
					hits++
				} else if len(strings.Fields(s)) >= 4 && embeddedPersonName(s) {
					named++
				}
			}
			if hits > 0 && conf[KindEmail] < 0.5 && conf[KindPhone] < 0.5 {
				f := float64(hits) / float64(len(samples))
				conf[KindFreeTextPII] = 0.6 + 0.35*f
				reason[KindFreeTextPII] = pct(f) + " of sampled values contain an e-mail address or phone number"
			}
			if fn := float64(named) / float64(len(samples)); named > 0 && fn >= 0.1 && conf[KindFreeTextPII] == 0 && maxConf(conf) < minConfidence {
				conf[KindFreeTextPII] = 0.6 + 0.35*fn
				reason[KindFreeTextPII] = pct(fn) + " of sampled values are sentences that name a person (a common given name and a surname)"
			}
		}
	}
	var out []Finding
	for kind, cf := range conf {
		if cf < minConfidence {
			continue
		}
		out = append(out, Finding{Kind: kind, Confidence: round2(cf), Reason: reason[kind], Suggested: fitSpec(suggest(kind, tc, c.SQLType, samples), samples)})
	}
	sort.Slice(out, func(i, j int) bool {
		if out[i].Confidence != out[j].Confidence {
			return out[i].Confidence > out[j].Confidence
		}
		return out[i].Kind < out[j].Kind
	})
	return out
}

func round2(f float64) float64 { return float64(int(f*100+0.5)) / 100 }

func pct(f float64) string { return itoa(int(f*100+0.5)) + "%" }

func itoa(i int) string { return string(appendUint(nil, uint64(i))) }

func quote(s string) string { return "\"" + s + "\"" }

func containsSpace(s string) bool { return strings.ContainsAny(s, " \n\t") }

// suggest is the rule Detect proposes for kind on a column of type class tc
// (sqlType as PostgreSQL names it) before fitSpec fits it to the samples.
func suggest(kind, tc, sqlType string, samples []string) Spec {
	switch kind {
	case KindBirthDate:
		spec := Spec{Transformer: "timestamp_shift", Options: map[string]any{"max_days": 365.0}}
		t := strings.ToLower(sqlType)
		if t == "date" || (tc == "text" && allDates(samples)) {
			spec.Transformer = "date_shift"
		}
		return spec
	case KindNationalID:
		return Spec{Transformer: "digits"}
	case KindFreeTextPII:
		return Spec{Transformer: "text_scramble"}
	case KindCreditCard, KindPhone:
		if tc == "number" {
			return Spec{Transformer: "digits"}
		}
	case KindUsername:
		return Spec{Transformer: "format_preserving"}
	case KindCredential:
		return credentialSpec(sqlType)
	case KindPostalCode, KindCompany:
		return Spec{Transformer: "text_scramble"}
	}
	return Spec{Transformer: kind}
}

// allDates reports whether every sample is a bare ISO date.
func allDates(samples []string) bool {
	for _, s := range samples {
		if _, _, _, n, ok := parseISODate([]byte(s)); !ok || n != len(s) {
			return false
		}
	}
	return true
}

// accountTokens name who owns, made or changed a row.
var accountTokens = map[string]bool{
	"by": true, "owner": true, "author": true, "assignee": true, "account": true, "user": true,
	"creator": true, "reporter": true, "requester": true, "approver": true, "editor": true, "agent": true,
	"modifier": true, "reviewer": true, "submitter": true, "operator": true,
}

// accountLikeName reports a column named for who owns or made a row
// (created_by, owner, account), which may hold a person's login.
func accountLikeName(name string) bool {
	for _, t := range nameTokens(name) {
		if accountTokens[t] {
			return true
		}
	}
	return false
}

// maxConf is the highest confidence in conf.
func maxConf(conf map[string]float64) float64 {
	m := 0.0
	for _, c := range conf {
		m = max(m, c)
	}
	return m
}

// ArrayElements is arrayElements for callers outside the package.
func ArrayElements(samples []string) []string { return arrayElements(samples) }

// arrayElements splits samples written as PostgreSQL array literals
// ({a,"b c",NULL}, nested) into their non-NULL elements; other samples
// are kept as they are.
func arrayElements(samples []string) []string {
	var out []string
	for _, s := range samples {
		t := strings.TrimSpace(s)
		if i := strings.Index(t, "={"); strings.HasPrefix(t, "[") && i > 0 {
			t = t[i+1:] // bounds decoration
		}
		if !strings.HasPrefix(t, "{") {
			out = append(out, s)
			continue
		}
		var cur strings.Builder
		quoted, inQuotes, escaped := false, false, false
		flush := func() {
			if v := cur.String(); quoted || (v != "" && !strings.EqualFold(v, "NULL")) {
				out = append(out, v)
			}
			cur.Reset()
			quoted = false
		}
		for i := 0; i < len(t); i++ {
			c := t[i]
			switch {
			case escaped:
				cur.WriteByte(c)
				escaped = false
			case c == '\\':
				escaped = true
			case c == '"':
				inQuotes, quoted = !inQuotes, true
			case inQuotes:
				cur.WriteByte(c)
			case c == '{':
			case c == ',' || c == '}':
				if cur.Len() > 0 || quoted {
					flush()
				}
			case c == ' ' || c == '\t' || c == '\n':
			default:
				cur.WriteByte(c)
			}
		}
	}
	return out
}
