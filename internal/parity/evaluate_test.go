package parity

import (
	"encoding/json"
	"errors"
	"strings"
	"testing"
	"time"
)

var now = time.Date(2026, 11, 22, 0, 0, 0, 0, time.UTC)

func decode(t testing.TB, s string) any {
	t.Helper()
	var v any
	if err := json.Unmarshal([]byte(s), &v); err != nil {
		t.Fatalf("decode %s: %v", s, err)
	}
	return v
}

func ptr(f float64) *float64 { return &f }

func evaluate(t *testing.T, prod, stag string, rules []Rule) Report {
	t.Helper()
	r, err := Evaluate(Input{Production: decode(t, prod), Staging: decode(t, stag), Rules: rules, Now: now})
	if err != nil {
		t.Fatal(err)
	}
	return r
}

// TestEvaluate_violations has one case per violation type: each must fail
// with a message naming the path, both values and the rule, and the same
// rule must pass on matching facts.
func TestEvaluate_violations(t *testing.T) {
	tests := []struct {
		name       string
		rule       Rule
		prod, bad  string
		good       string
		inMessage  []string
		violations int
	}{
		{"exact", Rule{Path: "image", Match: MatchExact},
			`{"image": "app:1.2.3"}`, `{"image": "app:1.2.4"}`, `{"image": "app:1.2.3"}`,
			[]string{"image: ", `"app:1.2.4"`, `"app:1.2.3"`, "rule exact"}, 1},
		{"exact object", Rule{Path: "db", Match: MatchExact},
			`{"db": {"engine": "postgres", "port": 5432}}`, `{"db": {"engine": "mysql", "port": 5432}}`, `{"db": {"engine": "postgres", "port": 5432}}`,
			[]string{"db.engine: ", `"mysql"`, `"postgres"`}, 1},
		{"same_major", Rule{Path: "pg", Match: MatchSameMajor},
			`{"pg": "PostgreSQL 15.4 on x86_64-pc-linux-gnu"}`, `{"pg": "16.1"}`, `{"pg": "15.8"}`,
			[]string{"pg: ", `"16.1" is not the same major version as production "PostgreSQL 15.4`, "(version 15.4)", "rule same_major"}, 1},
		{"same_minor", Rule{Path: "v", Match: MatchSameMinor},
			`{"v": "v1.2.3"}`, `{"v": "1.3.0"}`, `{"v": "1.2.9-rc1"}`,
			[]string{"v: ", `"1.3.0"`, `"v1.2.3"`, "1.3", "1.2", "rule same_minor"}, 1},
		{"same_minor image tag", Rule{Path: "image", Match: MatchSameMinor},
			`{"image": "postgres:15.4-alpine"}`, `{"image": "postgres:15.6-alpine"}`, `{"image": "postgres:15.4"}`,
			[]string{"image: ", "15.6", "15.4"}, 1},
		{"unparseable version", Rule{Path: "v", Match: MatchSameMinor},
			`{"v": "1.2.3"}`, `{"v": "latest"}`, `{"v": "1.2"}`,
			[]string{"v: ", `"latest"`, "is not a version", `"1.2.3"`, "rule same_minor"}, 1},
		{"same_family", Rule{Path: "cls", Match: MatchSameFamily},
			`{"cls": "db.r6g.4xlarge"}`, `{"cls": "db.m6g.large"}`, `{"cls": "db.r6g.large"}`,
			[]string{"cls: ", `"db.m6g.large"`, "db.m6g", `"db.r6g.4xlarge"`, "db.r6g", "rule same_family"}, 1},
		{"same_family gcp", Rule{Path: "m", Match: MatchSameFamily},
			`{"m": "n2-standard-16"}`, `{"m": "e2-standard-4"}`, `{"m": "n2-standard-4"}`,
			[]string{"n2-standard", "e2-standard"}, 1},
		{"same_family azure", Rule{Path: "m", Match: MatchSameFamily},
			`{"m": "Standard_D16s_v5"}`, `{"m": "Standard_E4s_v5"}`, `{"m": "Standard_D4s_v5"}`,
			[]string{"Dsv5", "Esv5"}, 1},
		{"same_family not a class", Rule{Path: "m", Match: MatchSameFamily},
			`{"m": "m6i.large"}`, `{"m": "big"}`, `{"m": "m6i.metal"}`,
			[]string{`"big"`, "not an instance class"}, 1},
		{"scaled above production", Rule{Path: "replicas", Match: MatchScaled},
			`{"replicas": 6}`, `{"replicas": 8}`, `{"replicas": 2}`,
			[]string{"replicas: ", "staging 8", "1.333 times production 6", "0 < ratio, ratio <= 1", "rule scaled"}, 1},
		{"scaled zero", Rule{Path: "replicas", Match: MatchScaled},
			`{"replicas": 6}`, `{"replicas": 0}`, `{"replicas": 6}`,
			[]string{"staging 0"}, 1},
		{"scaled bounds", Rule{Path: "r", Match: MatchScaled, MinRatio: ptr(0.25), MaxRatio: ptr(0.5)},
			`{"r": 8}`, `{"r": 1}`, `{"r": 2}`,
			[]string{"0.125 times", "0.25 <= ratio, ratio <= 0.5", "rule scaled 0.25 <= ratio, ratio <= 0.5"}, 1},
		{"scaled quantity", Rule{Path: "mem", Match: MatchScaled},
			`{"mem": "4Gi"}`, `{"mem": "8Gi"}`, `{"mem": "512Mi"}`,
			[]string{`"8Gi"`, `"4Gi"`, "2 times"}, 1},
		{"scaled instance sizes", Rule{Path: "i", Match: MatchScaled},
			`{"i": "m6i.xlarge"}`, `{"i": "m6i.4xlarge"}`, `{"i": "m6i.large"}`,
			[]string{`"m6i.4xlarge"`, "larger than production", `"m6i.xlarge"`}, 1},
		{"scaled not a number", Rule{Path: "r", Match: MatchScaled},
			`{"r": 4}`, `{"r": "many"}`, `{"r": 4}`,
			[]string{`"many"`, "not a number or quantity"}, 1},
		{"missing in staging", Rule{Path: "s.*.image", Match: MatchExact},
			`{"s": {"a": {"image": "x"}, "b": {"image": "y"}}}`, `{"s": {"a": {"image": "x"}}}`, `{"s": {"a": {"image": "x"}, "b": {"image": "y"}}}`,
			[]string{"s.b.image: ", "staging has no value", `production has "y"`, "rule exact"}, 1},
		{"extra in staging", Rule{Path: "s", Match: MatchExact},
			`{"s": {"a": 1}}`, `{"s": {"a": 1, "debug": true}}`, `{"s": {"a": 1}}`,
			[]string{"s.debug: ", "staging has true while production has no value"}, 1},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			r := evaluate(t, tt.prod, tt.bad, []Rule{tt.rule})
			if len(r.Violations) != tt.violations {
				t.Fatalf("violations = %+v, want %d", r.Violations, tt.violations)
			}
			msg := r.Violations[0].Message
			for _, s := range tt.inMessage {
				if !strings.Contains(msg, s) {
					t.Errorf("message %q does not contain %q", msg, s)
				}
			}
			if r.Violations[0].Match != tt.rule.Match {
				t.Errorf("match = %q, want %q", r.Violations[0].Match, tt.rule.Match)
			}
			if r.Passed == r.Checked || r.Score >= 1 {
				t.Errorf("passed %d of %d, score %g", r.Passed, r.Checked, r.Score)
			}
			good := evaluate(t, tt.prod, tt.good, []Rule{tt.rule})
			if len(good.Violations) != 0 || good.Score != 1 || good.Checked == 0 {
				t.Errorf("matching facts: %+v", good)
			}
		})
	}
}

func TestEvaluate_ruleErrors(t *testing.T) {
	prod := `{"db": {"version": "15.4"}, "replicas": 3}`
	tests := []struct {
		name  string
		rule  Rule
		is    error
		names string
	}{
		{"unknown match", Rule{Path: "db.version", Match: "same_patch"}, ErrUnknownMatch, `"db.version"`},
		{"min above max", Rule{Path: "replicas", Match: MatchScaled, MinRatio: ptr(0.8), MaxRatio: ptr(0.2)}, ErrRatioRange, `"replicas"`},
		{"negative ratio", Rule{Path: "replicas", Match: MatchScaled, MinRatio: ptr(-1)}, ErrRatioRange, `"replicas"`},
		{"path matches nothing", Rule{Path: "db.verison", Match: MatchExact}, ErrUnknownPath, `"db.verison"`},
		{"wildcard matches nothing", Rule{Path: "services.*.image", Match: MatchExact}, ErrUnknownPath, `"services.*.image"`},
		{"bad path", Rule{Path: "db..version", Match: MatchExact}, ErrInvalidRule, `"db..version"`},
		{"ratio on exact", Rule{Path: "replicas", Match: MatchExact, MaxRatio: ptr(1)}, ErrInvalidRule, `"replicas"`},
		{"max_lag without duration", Rule{Path: "db.version", Match: MatchMaxLag}, ErrInvalidRule, `"db.version"`},
		{"max_lag on other rule", Rule{Path: "db.version", Match: MatchExact, MaxLag: time.Hour}, ErrInvalidRule, `"db.version"`},
		{"max_lag path matches nothing", Rule{Path: "release.version", Match: MatchMaxLag, MaxLag: time.Hour}, ErrUnknownPath, `"release.version"`},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			_, err := Evaluate(Input{Production: decode(t, prod), Staging: decode(t, prod), Rules: []Rule{tt.rule}, Now: now})
			if !errors.Is(err, tt.is) {
				t.Fatalf("error %v is not %v", err, tt.is)
			}
			var re *RuleError
			if !errors.As(err, &re) || re.Path != tt.rule.Path {
				t.Errorf("error %v is not a *RuleError for %q", err, tt.rule.Path)
			}
			if !strings.Contains(err.Error(), tt.names) {
				t.Errorf("error %q does not name %s", err, tt.names)
			}
		})
	}
	if _, err := Evaluate(Input{Production: decode(t, prod), Staging: decode(t, prod), Preset: "eleven-factor"}); !errors.Is(err, ErrUnknownPreset) {
		t.Errorf("unknown preset: error %v", err)
	}
	for _, e := range []Exception{{Path: "replicas"}, {Path: "nowhere", Reason: "r"}, {Path: "", Reason: "r"}} {
		_, err := Evaluate(Input{Production: decode(t, prod), Staging: decode(t, prod), Exceptions: []Exception{e}})
		var ee *ExceptionError
		if !errors.As(err, &ee) {
			t.Errorf("exception %+v: error %v is not an *ExceptionError", e, err)
		}
	}
}

func TestParseRules(t *testing.T) {
	rules, err := ParseRules(decode(t, `[
		{"path": "image", "match": "exact"},
		{"path": "replicas", "match": "scaled", "min_ratio": 0.1, "max_ratio": 0.5, "max_lag": null},
		{"path": "release.version", "match": "max_lag", "max_lag": "14d", "deployed_at": "deployed_at"}]`))
	if err != nil {
		t.Fatal(err)
	}
	if len(rules) != 3 || *rules[1].MinRatio != 0.1 || *rules[1].MaxRatio != 0.5 || rules[2].MaxLag != 14*24*time.Hour {
		t.Errorf("ParseRules = %+v", rules)
	}
	rules, err = ParseRules(decode(t, `{"image": "exact", "replicas": {"match": "scaled", "max_ratio": 0.5}}`))
	if err != nil || len(rules) != 2 || rules[0].Path != "image" || rules[1].Match != MatchScaled {
		t.Errorf("ParseRules(map) = %+v, %v", rules, err)
	}
	bad := []struct{ raw, contains string }{
		{`[{"path": "a", "match": "same"}]`, "unknown match kind"},
		{`[{"path": "a"}]`, "match is required"},
		{`[{"path": "a", "match": "exact", "colour": 1}]`, `unknown attribute "colour"`},
		{`[{"path": "a", "match": "scaled", "min_ratio": "x"}]`, "min_ratio must be a number"},
		{`[{"path": "a", "match": "max_lag", "max_lag": "two weeks"}]`, "invalid duration"},
		{`[3]`, "want an object"},
		{`{"a": 3}`, "want a match kind"},
		{`"exact"`, "want a list"},
	}
	for _, b := range bad {
		if _, err := ParseRules(decode(t, b.raw)); err == nil || !strings.Contains(err.Error(), b.contains) {
			t.Errorf("ParseRules(%s) error %v, want %q", b.raw, err, b.contains)
		}
	}
}

func TestEvaluate_exceptions(t *testing.T) {
	prod := decode(t, `{"db": {"version": "15.4", "engine": "postgres"}}`)
	stag := decode(t, `{"db": {"version": "16.1", "engine": "postgres"}}`)
	rules := []Rule{{Path: "db", Match: MatchExact}}
	tests := []struct {
		name       string
		exc        Exception
		excepted   int
		violations int
		message    string
	}{
		{"active", Exception{Path: "db.version", Reason: "testing the 16 upgrade", Expires: now.Add(24 * time.Hour)}, 1, 0, ""},
		{"never expires", Exception{Path: "db.*", Reason: "upgrade"}, 1, 0, ""},
		{"parent path", Exception{Path: "db", Reason: "upgrade", Expires: now.Add(time.Hour)}, 1, 0, ""},
		{"expired", Exception{Path: "db.version", Reason: "testing the 16 upgrade", Expires: time.Date(2026, 11, 1, 0, 0, 0, 0, time.UTC)}, 0, 1,
			`exception "db.version" (testing the 16 upgrade) expired on 2026-11-01`},
		{"expires now", Exception{Path: "db.version", Reason: "r", Expires: now}, 0, 1, "expired on 2026-11-22"},
		{"unrelated", Exception{Path: "db.engine", Reason: "r"}, 0, 1, ""},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			r, err := Evaluate(Input{Production: prod, Staging: stag, Rules: rules, Exceptions: []Exception{tt.exc}, Now: now})
			if err != nil {
				t.Fatal(err)
			}
			if len(r.Excepted) != tt.excepted || len(r.Violations) != tt.violations {
				t.Fatalf("excepted %+v, violations %+v", r.Excepted, r.Violations)
			}
			if tt.excepted > 0 && (r.Excepted[0].Reason != tt.exc.Reason || r.Excepted[0].Violation.Path != "db.version") {
				t.Errorf("excepted = %+v", r.Excepted[0])
			}
			if tt.message != "" && !strings.Contains(r.Violations[0].Message, tt.message) {
				t.Errorf("message %q does not contain %q", r.Violations[0].Message, tt.message)
			}
			if r.Checked != 2 || r.Passed != 1 {
				t.Errorf("checked %d passed %d, want 2 and 1", r.Checked, r.Passed)
			}
		})
	}
}

func TestEvaluate_maxLag(t *testing.T) {
	rule := Rule{Path: "release.version", Match: MatchMaxLag, MaxLag: 14 * 24 * time.Hour}
	tests := []struct {
		name, prod, stag string
		rule             Rule
		message          string
	}{
		{"lagging release", `{"release": {"version": "1.3.2"}}`, `{"release": {"version": "1.4.0", "deployed_at": "2026-11-01T00:00:00Z"}}`, rule,
			`release.version: release 1.4.0 has been in staging for 21 days without reaching production, which runs "1.3.2" (rule max_lag 14d).`},
		{"recent release", `{"release": {"version": "1.3.2"}}`, `{"release": {"version": "1.4.0", "deployed_at": "2026-11-15"}}`, rule, ""},
		{"released", `{"release": {"version": "1.4.0"}}`, `{"release": {"version": "1.4.0", "deployed_at": "2026-01-01"}}`, rule, ""},
		{"staging behind production", `{"release": {"version": "1.5.0"}}`, `{"release": {"version": "1.4.0", "deployed_at": "2026-01-01"}}`, rule, ""},
		{"no deployed_at", `{"release": {"version": "1.3.2"}}`, `{"release": {"version": "1.4.0"}}`, rule, "staging has no release.deployed_at"},
		{"unix seconds", `{"release": {"version": "1"}}`, `{"release": {"version": "2", "deployed_at": 1700000000}}`, rule, "has been in staging for"},
		{"wildcards and own deployed_at path",
			`{"svc": {"a": {"v": "1"}, "b": {"v": "1"}}}`,
			`{"svc": {"a": {"v": "2"}, "b": {"v": "1"}}, "deploys": {"a": "2026-10-01"}}`,
			Rule{Path: "svc.*.v", Match: MatchMaxLag, MaxLag: 336 * time.Hour, DeployedAt: "deploys.*"},
			"svc.a.v: release 2 has been in staging for 52 days"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			r := evaluate(t, tt.prod, tt.stag, []Rule{tt.rule})
			if tt.message == "" {
				if len(r.Violations) != 0 || r.Checked == 0 {
					t.Errorf("report = %+v", r)
				}
				return
			}
			if len(r.Violations) != 1 || !strings.Contains(r.Violations[0].Message, tt.message) {
				t.Errorf("violations = %+v, want one with %q", r.Violations, tt.message)
			}
		})
	}
}

func TestEvaluate_twelveFactor(t *testing.T) {
	prod := decode(t, `{
		"api": {"image": "app:1.2.3", "replicas": 6, "instance_type": "m6i.4xlarge", "memory_size": "4Gi", "name": "api-prod"},
		"db": {"engine": "postgres", "engine_version": "15.4", "instance_class": "db.r6g.4xlarge", "account_id": "111"}}`)
	good := decode(t, `{
		"api": {"image": "app:1.2.3", "replicas": 2, "instance_type": "m6i.xlarge", "memory_size": "1Gi", "name": "api-staging"},
		"db": {"engine": "postgres", "engine_version": "15.4", "instance_class": "db.r6g.large", "account_id": "222"}}`)
	r, err := Evaluate(Input{Production: prod, Staging: good, Preset: PresetTwelveFactor, Now: now})
	if err != nil {
		t.Fatal(err)
	}
	if len(r.Violations) != 0 || r.Checked != 7 || r.Score != 1 {
		t.Errorf("good staging: checked %d, violations %+v", r.Checked, r.Violations)
	}
	bad := decode(t, `{
		"api": {"image": "app:1.2.4", "replicas": 12, "instance_type": "c6i.xlarge", "memory_size": "4Gi", "name": "api-staging"},
		"db": {"engine": "mysql", "engine_version": "15.6", "instance_class": "db.r6g.large", "account_id": "222"}}`)
	r, err = Evaluate(Input{Production: prod, Staging: bad, Preset: PresetTwelveFactor, Now: now})
	if err != nil {
		t.Fatal(err)
	}
	var got []string
	for _, v := range r.Violations {
		got = append(got, v.Path+"="+v.Match)
		if !strings.Contains(v.Rule, "twelve-factor preset") {
			t.Errorf("rule %q does not name the preset", v.Rule)
		}
	}
	want := "api.image=exact api.instance_type=same_family api.replicas=scaled db.engine=exact db.engine_version=same_minor"
	if strings.Join(got, " ") != want {
		t.Errorf("violations %v, want %s", got, want)
	}
	// Explicit rules override the preset.
	r, err = Evaluate(Input{Production: prod, Staging: bad, Preset: PresetTwelveFactor, Now: now, Rules: []Rule{
		{Path: "api.image", Match: MatchSameMinor},
		{Path: "db.engine", Match: MatchIgnore},
		{Path: "*.engine_version", Match: MatchSameMajor},
	}})
	if err != nil {
		t.Fatal(err)
	}
	got = got[:0]
	for _, v := range r.Violations {
		got = append(got, v.Path)
	}
	if strings.Join(got, " ") != "api.instance_type api.replicas" {
		t.Errorf("with overrides: violations %v", got)
	}
}

func TestEvaluate_specificity(t *testing.T) {
	prod := decode(t, `{"s": {"a": {"v": "1.2.0"}, "b": {"v": "1.2.0"}}}`)
	stag := decode(t, `{"s": {"a": {"v": "1.3.0"}, "b": {"v": "1.3.0"}}}`)
	r, err := Evaluate(Input{Production: prod, Staging: stag, Now: now, Rules: []Rule{
		{Path: "s", Match: MatchExact},
		{Path: "s.*.v", Match: MatchSameMajor},
		{Path: "s.b.v", Match: MatchSameMinor},
	}})
	if err != nil {
		t.Fatal(err)
	}
	if len(r.Violations) != 1 || r.Violations[0].Path != "s.b.v" || r.Violations[0].Match != MatchSameMinor || r.Checked != 2 {
		t.Errorf("report %+v", r)
	}
}

func TestReport_JSON(t *testing.T) {
	r, err := Evaluate(Input{
		Production: decode(t, `{"a": 1, "b": "x", "c": 3}`),
		Staging:    decode(t, `{"a": 2, "b": "y", "c": 3}`),
		Rules:      []Rule{{Path: "*", Match: MatchExact}},
		Exceptions: []Exception{{Path: "b", Reason: "known", Expires: time.Date(2026, 12, 31, 0, 0, 0, 0, time.UTC)}},
		Now:        now,
	})
	if err != nil {
		t.Fatal(err)
	}
	s, err := r.JSON()
	if err != nil {
		t.Fatal(err)
	}
	var got map[string]any
	if err := json.Unmarshal([]byte(s), &got); err != nil {
		t.Fatal(err)
	}
	if got["checked"] != 3.0 || got["passed"] != 1.0 || got["score"].(float64) < 0.33 || got["score"].(float64) > 0.34 {
		t.Errorf("JSON = %s", s)
	}
	v := got["violations"].([]any)[0].(map[string]any)
	if v["path"] != "a" || v["production"] != 1.0 || v["staging"] != 2.0 || v["match"] != "exact" || v["message"] == "" {
		t.Errorf("violation JSON = %v", v)
	}
	e := got["excepted"].([]any)[0].(map[string]any)
	if e["path"] != "b" || e["reason"] != "known" || e["expires"] != "2026-12-31T00:00:00Z" {
		t.Errorf("excepted JSON = %v", e)
	}
	empty, _ := Report{Score: 1}.JSON()
	if empty != `{"score":1,"checked":0,"passed":0,"violations":[],"excepted":[]}` {
		t.Errorf("empty JSON = %s", empty)
	}
}

func TestEvaluate_shapes(t *testing.T) {
	tests := []struct {
		name, prod, stag string
		want             string // violation paths
		checked          int
	}{
		{"longer staging list", `{"l": [1, 2]}`, `{"l": [1, 2, 3]}`, "l.2", 3},
		{"shorter staging list", `{"l": [1, 2]}`, `{"l": [1]}`, "l.1", 2},
		{"object where production has a scalar", `{"x": 1}`, `{"x": {"a": 1}}`, "x x.a", 2},
		{"scalar where production has an object", `{"x": {"a": 1}}`, `{"x": 1}`, "x.a", 1},
		{"empty containers", `{"x": {}, "y": []}`, `{"x": {}, "y": []}`, "", 2},
		{"null on both sides", `{"x": null}`, `{"x": null}`, "", 1},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			rules := []Rule{{Path: "*", Match: MatchExact}}
			r := evaluate(t, tt.prod, tt.stag, rules)
			var got []string
			for _, v := range r.Violations {
				got = append(got, v.Path)
			}
			if strings.Join(got, " ") != tt.want || r.Checked != tt.checked {
				t.Errorf("violations %v, checked %d; want %q, %d", got, r.Checked, tt.want, tt.checked)
			}
		})
	}
}
