package masking

import (
	"encoding/json"
	"errors"
	"slices"
	"strconv"
	"strings"
)

// detectSpecial handles the kinds that do not follow the name-and-values
// scheme of [Detect]: secrets (whose names hold words such as "hash" or
// "token" that otherwise mark a column as not personal), pictures and
// documents in binary columns, and JSON with personal data at some path.
// It returns nil when none applies.
func detectSpecial(c Column, tc string) []Finding {
	toks := nameTokens(c.Name)
	typ := strings.ToLower(strings.TrimSpace(c.SQLType))
	var samples []string
	for _, s := range c.Samples {
		if s = strings.TrimSpace(s); s != "" {
			samples = append(samples, s)
		}
	}
	if typ == "bytea" || typ == "oid" || typ == "lo" {
		doc := slices.ContainsFunc(toks, func(t string) bool { return documentTokens[t] })
		magic := 0
		for _, s := range samples {
			if documentMagic(s) {
				magic++
			}
		}
		if doc || magic > 0 {
			reason := "column name " + quote(c.Name) + " names a picture or document in a " + typ + " column"
			if magic > 0 {
				reason = pct(float64(magic)/float64(len(samples))) + " of sampled values are images or documents (file signature)"
			}
			spec := Spec{Transformer: "redact", Options: map[string]any{"value": ""}}
			if typ != "bytea" {
				spec = Spec{Transformer: "null"} // a large object reference: no object in staging
			}
			return []Finding{{Kind: KindBinaryDocument, Confidence: 0.9, Reason: reason, Suggested: spec}}
		}
	}
	if tc != "bool" {
		hits := 0
		for _, s := range samples {
			if isCredentialValue(s) {
				hits++
			}
		}
		byName := credentialName(toks)
		if byName || (len(samples) > 0 && float64(hits)/float64(len(samples)) >= 0.6) {
			reason := "column name " + quote(c.Name) + " names a secret"
			if !byName {
				reason = pct(float64(hits)/float64(len(samples))) + " of sampled values look like password hashes, tokens or API keys"
			}
			return []Finding{{Kind: KindCredential, Confidence: 0.9, Reason: reason, Suggested: fitSpec(credentialSpec(c.SQLType), samples)}}
		}
	}
	if tc == "json" && len(samples) > 0 {
		paths := jsonPIIPaths(samples)
		if len(paths) > 0 {
			names := slices.Sorted(mapsKeys(paths))
			return []Finding{{Kind: KindFreeTextPII, Confidence: 0.9,
				Reason:    "sampled JSON holds personal data at " + strings.Join(names, ", "),
				Suggested: Spec{Transformer: "json", Options: map[string]any{"paths": paths}}}}
		}
	}
	return nil
}

func mapsKeys[V any](m map[string]V) func(func(string) bool) {
	return func(yield func(string) bool) {
		for k := range m {
			if !yield(k) {
				return
			}
		}
	}
}

// credentialSpec masks a secret with a keyed hash that fits the column.
func credentialSpec(sqlType string) Spec {
	spec := Spec{Transformer: "hash"}
	if n := varcharLen(sqlType); n > 0 && n < 32 {
		spec.Options = map[string]any{"length": float64(n)}
	}
	return spec
}

// varcharLen returns n of "character varying(n)", "varchar(n)" or
// "character(n)"; 0 otherwise.
func varcharLen(sqlType string) int {
	t := strings.ToLower(sqlType)
	i, j := strings.IndexByte(t, '('), strings.IndexByte(t, ')')
	if i < 0 || j < i || !(strings.HasPrefix(t, "character") || strings.HasPrefix(t, "varchar") || strings.HasPrefix(t, "char")) {
		return 0
	}
	n, err := strconv.Atoi(t[i+1 : j])
	if err != nil {
		return 0
	}
	return n
}

// documentMagic reports a bytea value (PostgreSQL hex output, \x...) that
// starts with the signature of an image or document format.
func documentMagic(s string) bool {
	if !strings.HasPrefix(s, `\x`) {
		return false
	}
	h := strings.ToLower(s[2:])
	for _, sig := range []string{
		"89504e470d0a1a0a",     // PNG
		"ffd8ff",               // JPEG
		"47494638",             // GIF
		"25504446",             // PDF
		"49492a00", "4d4d002a", // TIFF
		"424d",             // BMP
		"504b0304",         // ZIP containers: docx, xlsx, odt
		"d0cf11e0a1b11ae1", // OLE: doc, xls
		"52494646",         // RIFF: webp, wav
	} {
		if strings.HasPrefix(h, sig) {
			return true
		}
	}
	return false
}

// isCredentialValue recognises password hashes in crypt formats and
// well-known token and key shapes.
func isCredentialValue(s string) bool {
	for _, p := range []string{"$2a$", "$2b$", "$2y$", "$argon2", "$scrypt$", "$pbkdf2", "pbkdf2_sha256$", "$6$", "$5$", "$1$",
		"ghp_", "gho_", "ghs_", "github_pat_", "xoxb-", "xoxp-", "xoxa-", "sk_live_", "sk_test_", "rk_live_", "glpat-", "AKIA", "ASIA", "AIza"} {
		if strings.HasPrefix(s, p) && len(s) >= 16 {
			return true
		}
	}
	// A JSON Web Token: three base64url parts, the first a JSON header.
	if strings.HasPrefix(s, "eyJ") && strings.Count(s, ".") == 2 {
		return true
	}
	return false
}

// jsonPIIPaths walks sampled JSON documents and returns, for each path
// whose values look personal (by key name or by value), the nested spec
// the json transformer needs, fitted to the sampled values.
func jsonPIIPaths(samples []string) map[string]any {
	found := map[string]string{}    // path -> kind
	values := map[string][]string{} // path -> sampled values
	for _, s := range samples {
		var v any
		d := json.NewDecoder(strings.NewReader(s))
		d.UseNumber()
		if d.Decode(&v) != nil {
			continue
		}
		walkJSON(v, "$", "", func(path, key, val string) {
			values[path] = append(values[path], val)
			if found[path] != "" {
				return
			}
			col := Column{Name: key, SQLType: "text", Samples: []string{val}}
			if key == "" {
				col.Name = "value"
			}
			for _, f := range Detect(col) {
				if f.Kind != KindFreeTextPII {
					found[path] = f.Kind
				}
				break
			}
		})
	}
	out := map[string]any{}
	for path, kind := range found {
		spec := fitSpec(suggest(kind, "text", "text", values[path]), values[path])
		nested := map[string]any{"transformer": spec.Transformer}
		if spec.OnInvalid != "" {
			nested["on_invalid"] = spec.OnInvalid
		}
		if len(spec.Options) > 0 {
			nested["options"] = spec.Options
		}
		out[path] = nested
	}
	return out
}

// walkJSON calls leaf for every string and number in v with its path
// ("$.a.b", arrays as "[*]") and the nearest object key.
func walkJSON(v any, path, key string, leaf func(path, key, val string)) {
	switch x := v.(type) {
	case map[string]any:
		for k, c := range x {
			walkJSON(c, path+"."+k, k, leaf)
		}
	case []any:
		for _, c := range x {
			walkJSON(c, path+"[*]", key, leaf)
		}
	case string:
		leaf(path, key, x)
	case json.Number:
		leaf(path, key, x.String())
	}
}

// fitSpec makes a suggestion pass on the data it was made from: when a
// sampled value is not valid for the transformer's format, the spec gets
// on_invalid = "hash" (the value is masked by a keyed hash instead of
// failing the copy).
func fitSpec(spec Spec, samples []string) Spec {
	t, err := New(spec, judgeKey)
	if err != nil {
		return spec
	}
	for _, s := range samples {
		if _, err := MaskString(t, s); err != nil {
			var inv *InvalidInputError
			if errors.As(err, &inv) {
				spec.OnInvalid = OnInvalidHash
				return spec
			}
		}
	}
	return spec
}
