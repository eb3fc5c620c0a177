package scaling

import (
	"encoding/json"
	"errors"
	"reflect"
	"strconv"
	"strings"
	"testing"
)

// decode builds a generic value the way the Terraform glue does.
func decode(t testing.TB, s string) any {
	t.Helper()
	var v any
	if err := json.Unmarshal([]byte(s), &v); err != nil {
		t.Fatalf("decode %s: %v", s, err)
	}
	return v
}

func mustRules(t testing.TB, s string) map[string]Rule {
	t.Helper()
	rules, err := ParseRules(decode(t, s).(map[string]any))
	if err != nil {
		t.Fatalf("ParseRules(%s): %v", s, err)
	}
	return rules
}

// TestScale_contract is the documented call shape of provider::staging::scale.
func TestScale_contract(t *testing.T) {
	prod := decode(t, `{"replicas": 6, "image": "app:1.2.3", "instance_type": "m6i.4xlarge"}`)
	rules := mustRules(t, `{"replicas": {"ratio": 0.25, "min": 1}, "instance_type": {"ladder": 2}}`)
	res, err := Scale(prod, rules)
	if err != nil {
		t.Fatal(err)
	}
	want := decode(t, `{"replicas": 2, "image": "app:1.2.3", "instance_type": "m6i.xlarge"}`)
	if !reflect.DeepEqual(res.Values, want) {
		t.Errorf("Values = %v, want %v", res.Values, want)
	}
	wantChanges := []Change{
		{Path: "instance_type", Production: "m6i.4xlarge", Staging: "m6i.xlarge", Rule: "ladder 2"},
		{Path: "replicas", Production: 6.0, Staging: 2.0, Rule: "ratio 0.25, min 1"},
	}
	if !reflect.DeepEqual(res.Changes, wantChanges) {
		t.Errorf("Changes = %#v, want %#v", res.Changes, wantChanges)
	}
}

func TestScale_rules(t *testing.T) {
	tests := []struct {
		name, prod, rules, want string
		changes                 int
	}{
		{"ratio rounds up", `{"r": 10}`, `{"r": {"ratio": 0.3}}`, `{"r": 3}`, 1},
		{"ratio rounds down", `{"r": 7}`, `{"r": {"ratio": 0.5, "round": "down"}}`, `{"r": 3}`, 1},
		{"ratio rounds nearest", `{"r": 7}`, `{"r": {"ratio": 0.5, "round": "nearest"}}`, `{"r": 4}`, 1},
		{"ratio min", `{"r": 3}`, `{"r": {"ratio": 0.1, "min": 2}}`, `{"r": 2}`, 1},
		{"ratio max", `{"r": 100}`, `{"r": {"ratio": 0.5, "max": 10}}`, `{"r": 10}`, 1},
		{"ratio min above production keeps production", `{"r": 1}`, `{"r": {"ratio": 0.5, "min": 2}}`, `{"r": 1}`, 0},
		{"ratio min above production with allow_grow", `{"r": 1}`, `{"r": {"ratio": 0.5, "min": 2, "allow_grow": true}}`, `{"r": 2}`, 1},
		{"ratio fractional stays fractional", `{"r": 0.5}`, `{"r": {"ratio": 0.5}}`, `{"r": 0.25}`, 1},
		{"ratio fractional rounded on request", `{"r": 2.5}`, `{"r": {"ratio": 0.5, "round": "up"}}`, `{"r": 2}`, 1},
		{"ratio grow", `{"r": 2}`, `{"r": {"ratio": 2, "allow_grow": true}}`, `{"r": 4}`, 1},
		{"ratio zero", `{"r": 2}`, `{"r": {"ratio": 0}}`, `{"r": 0}`, 1},
		{"numeric strings in rule", `{"r": 8}`, `{"r": {"ratio": "0.5", "min": "1"}}`, `{"r": 4}`, 1},
		{"ratio unchanged records nothing", `{"r": 1}`, `{"r": {"ratio": 0.5}}`, `{"r": 1}`, 0},
		{"ladder clamps at smallest", `{"i": "t3.micro"}`, `{"i": {"ladder": 5}}`, `{"i": "t3.nano"}`, 1},
		{"ladder min size", `{"i": "m6i.4xlarge"}`, `{"i": {"ladder": 5, "min": "m6i.2xlarge"}}`, `{"i": "m6i.2xlarge"}`, 1},
		{"ladder up with allow_grow", `{"i": "m6i.large"}`, `{"i": {"ladder": -1, "allow_grow": true}}`, `{"i": "m6i.xlarge"}`, 1},
		{"ladder keeps lower case", `{"i": "standard_d8s_v5"}`, `{"i": {"ladder": 1}}`, `{"i": "standard_d4s_v5"}`, 1},
		{"quantity cpu millis", `{"c": "2000m"}`, `{"c": {"quantity": 0.25}}`, `{"c": "500m"}`, 1},
		{"quantity memory Gi", `{"m": "4Gi"}`, `{"m": {"quantity": 0.25}}`, `{"m": "1Gi"}`, 1},
		{"quantity memory to Mi", `{"m": "1Gi"}`, `{"m": {"quantity": 0.25}}`, `{"m": "256Mi"}`, 1},
		{"quantity rounds up to Mi", `{"m": "4Gi"}`, `{"m": {"quantity": 0.3}}`, `{"m": "1229Mi"}`, 1},
		{"quantity cores to millis", `{"c": "1.5"}`, `{"c": {"quantity": 0.25}}`, `{"c": "375m"}`, 1},
		{"quantity decimal G", `{"m": "1G"}`, `{"m": {"quantity": 0.25}}`, `{"m": "250M"}`, 1},
		{"quantity min", `{"c": "500m"}`, `{"c": {"quantity": 0.1, "min": "250m"}}`, `{"c": "250m"}`, 1},
		{"quantity min other unit", `{"m": "4Gi"}`, `{"m": {"quantity": 0.01, "min": "256Mi"}}`, `{"m": "256Mi"}`, 1},
		{"quantity max", `{"m": "16Gi"}`, `{"m": {"quantity": 0.5, "max": "4Gi"}}`, `{"m": "4Gi"}`, 1},
		{"quantity number", `{"c": 2}`, `{"c": {"quantity": 0.25}}`, `{"c": 0.5}`, 1},
		{"quantity min above production", `{"c": "100m"}`, `{"c": {"quantity": 0.5, "min": "250m"}}`, `{"c": "100m"}`, 0},
		{"set bool", `{"multi_az": true}`, `{"multi_az": {"set": false}}`, `{"multi_az": false}`, 1},
		{"set null", `{"x": 3}`, `{"x": {"set": null}}`, `{"x": null}`, 1},
		{"set object", `{"x": 3}`, `{"x": {"set": {"a": [1]}}}`, `{"x": {"a": [1]}}`, 1},
		{"set same value records nothing", `{"x": 3}`, `{"x": {"set": 3}}`, `{"x": 3}`, 0},
		{"typed object nulls ignored", `{"r": 4}`, `{"r": {"ratio": 0.5, "ladder": null, "set": null, "min": null}}`, `{"r": 2}`, 1},
		{"keep", `{"v": "15.4"}`, `{"v": {"keep": true}}`, `{"v": "15.4"}`, 0},
		{"keep parent and child", `{"a": {"b": 1}}`, `{"a": {"keep": true}, "a.b": {"keep": true}}`, `{"a": {"b": 1}}`, 0},
		{"wildcard over map", `{"s": {"a": {"r": 4}, "b": {"r": 8}}}`, `{"s.*.r": {"ratio": 0.5}}`, `{"s": {"a": {"r": 2}, "b": {"r": 4}}}`, 2},
		{"wildcard over list", `{"n": [{"r": 4}, {"r": 8}]}`, `{"n.*.r": {"ratio": 0.5}}`, `{"n": [{"r": 2}, {"r": 4}]}`, 2},
		{"list index", `{"n": [{"r": 4}, {"r": 8}]}`, `{"n.1.r": {"ratio": 0.5}}`, `{"n": [{"r": 4}, {"r": 4}]}`, 1},
		{"specific rule beats wildcard", `{"s": {"a": {"r": 4}, "b": {"r": 8}}}`, `{"s.*.r": {"ratio": 0.5}, "s.b.r": {"set": 1}}`, `{"s": {"a": {"r": 2}, "b": {"r": 1}}}`, 2},
		{"optional rule matching nothing", `{"r": 4}`, `{"x.*.r": {"ratio": 0.5, "optional": true}}`, `{"r": 4}`, 0},
		{"escaped dot in key", `{"labels": {"app.io/tier": 4}}`, `{"labels.app\\.io/tier": {"ratio": 0.5}}`, `{"labels": {"app.io/tier": 2}}`, 1},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			prod := decode(t, tt.prod)
			before, _ := json.Marshal(prod)
			res, err := Scale(prod, mustRules(t, tt.rules))
			if err != nil {
				t.Fatal(err)
			}
			if want := decode(t, tt.want); !reflect.DeepEqual(res.Values, want) {
				t.Errorf("Values = %v, want %v", res.Values, want)
			}
			if len(res.Changes) != tt.changes {
				t.Errorf("Changes = %+v, want %d entries", res.Changes, tt.changes)
			}
			if after, _ := json.Marshal(prod); string(after) != string(before) {
				t.Errorf("input mutated: %s became %s", before, after)
			}
		})
	}
}

func TestScale_changesOrderAndPaths(t *testing.T) {
	prod := decode(t, `{"s": {"b": {"r": 8}, "a": {"r": 4}}, "n": [{"r": 2}]}`)
	res, err := Scale(prod, mustRules(t, `{"s.*.r": {"ratio": 0.5}, "n.*.r": {"ratio": 0.5}}`))
	if err != nil {
		t.Fatal(err)
	}
	var paths []string
	for _, c := range res.Changes {
		paths = append(paths, c.Path)
	}
	if got, want := strings.Join(paths, " "), "n.0.r s.a.r s.b.r"; got != want {
		t.Errorf("change paths = %q, want %q", got, want)
	}
}

func TestScale_outputSharesNothing(t *testing.T) {
	prod := decode(t, `{"a": {"b": [1, 2]}, "r": 4}`)
	res, err := Scale(prod, mustRules(t, `{"r": {"ratio": 0.5}}`))
	if err != nil {
		t.Fatal(err)
	}
	res.Values.(map[string]any)["a"].(map[string]any)["b"].([]any)[0] = 99.0
	if got := prod.(map[string]any)["a"].(map[string]any)["b"].([]any)[0]; got != 1.0 {
		t.Errorf("output aliases input: input became %v", got)
	}
}

func TestScale_errors(t *testing.T) {
	tests := []struct {
		name, prod, rules string
		is                error
		contains          []string
	}{
		{"unknown path", `{"replicas": 3}`, `{"replica": {"ratio": 0.5}}`, ErrUnknownPath, []string{`"replica"`}},
		{"wildcard matching nothing", `{"services": {}}`, `{"services.*.replicas": {"ratio": 0.5}}`, ErrUnknownPath, []string{`"services.*.replicas"`}},
		{"ratio above one", `{"replicas": 3}`, `{"replicas": {"ratio": 1.5}}`, ErrGrow, []string{`"replicas"`, "1.5", "allow_grow"}},
		{"ladder up without allow_grow", `{"i": "m6i.large"}`, `{"i": {"ladder": -1}}`, ErrGrow, []string{`"i"`}},
		{"quantity above one", `{"c": "1"}`, `{"c": {"quantity": 2}}`, ErrGrow, []string{`"c"`, "quantity 2"}},
		{"size not in ladder", `{"instance_type": "m9z.large"}`, `{"instance_type": {"ladder": 1}}`, ErrNotInLadder, []string{`"instance_type"`, `"m9z.large"`}},
		{"size not in ladder under wildcard", `{"s": {"a": {"i": "x1.huge"}}}`, `{"s.*.i": {"ladder": 1}}`, ErrNotInLadder, []string{`"s.a.i"`, `"s.*.i"`, `"x1.huge"`}},
		{"ladder min in another family", `{"i": "m6i.4xlarge"}`, `{"i": {"ladder": 1, "min": "t3.small"}}`, ErrInvalidRule, []string{`"t3.small"`}},
		{"ladder min unknown", `{"i": "m6i.4xlarge"}`, `{"i": {"ladder": 1, "min": "zz"}}`, ErrNotInLadder, []string{`"zz"`}},
		{"ratio on string", `{"r": "six"}`, `{"r": {"ratio": 0.5}}`, ErrValue, []string{`"six"`}},
		{"ratio on negative", `{"r": -1}`, `{"r": {"ratio": 0.5}}`, ErrValue, []string{"-1"}},
		{"quantity on garbage", `{"c": "lots"}`, `{"c": {"quantity": 0.5}}`, ErrValue, []string{`"lots"`}},
		{"ladder on number", `{"i": 3}`, `{"i": {"ladder": 1}}`, ErrValue, []string{`"i"`}},
		{"keep conflicts", `{"v": 1}`, `{"v": {"keep": true}, "*": {"ratio": 0.5}}`, ErrConflict, []string{`"v"`, "keep"}},
		{"keep parent conflicts with child rule", `{"db": {"r": 2}}`, `{"db": {"keep": true}, "db.r": {"ratio": 0.5}}`, ErrConflict, []string{`"db.r"`, `"db"`}},
		{"equally specific", `{"a": {"b": 2}}`, `{"a.*": {"ratio": 0.5}, "*.b": {"ratio": 0.25}}`, ErrConflict, []string{`"a.*"`, `"*.b"`}},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			raw := decode(t, tt.rules).(map[string]any)
			rules, err := ParseRules(raw)
			if err == nil {
				_, err = Scale(decode(t, tt.prod), rules)
			}
			if err == nil {
				t.Fatal("no error")
			}
			if !errors.Is(err, tt.is) {
				t.Errorf("error %q is not %v", err, tt.is)
			}
			var pe *PathError
			if !errors.As(err, &pe) {
				t.Errorf("error %q is not a *PathError", err)
			}
			for _, s := range tt.contains {
				if !strings.Contains(err.Error(), s) {
					t.Errorf("error %q does not mention %s", err, s)
				}
			}
		})
	}
}

func TestParseRules_errors(t *testing.T) {
	tests := []struct {
		name, rules, contains string
	}{
		{"not an object", `{"r": 0.5}`, "want an object"},
		{"no kind", `{"r": {"min": 1}}`, "needs one of"},
		{"two kinds", `{"r": {"ratio": 0.5, "ladder": 1}}`, "both ratio and ladder"},
		{"unknown attribute", `{"r": {"ratio": 0.5, "minimum": 1}}`, `unknown attribute "minimum"`},
		{"attribute of another kind", `{"r": {"set": 1, "min": 1}}`, "min does not apply to a set rule"},
		{"ratio not a number", `{"r": {"ratio": "half"}}`, `ratio must be a number, got "half"`},
		{"negative ratio", `{"r": {"ratio": -0.5}}`, "0 or more"},
		{"min above max", `{"r": {"ratio": 0.5, "min": 5, "max": 2}}`, "min is greater than max"},
		{"quantity min bad", `{"r": {"quantity": 0.5, "min": "lots"}}`, "invalid quantity"},
		{"quantity min above max", `{"r": {"quantity": 0.5, "min": "1Gi", "max": "1Mi"}}`, "min is greater than max"},
		{"bad round", `{"r": {"ratio": 0.5, "round": "sideways"}}`, `round "sideways"`},
		{"fractional ladder", `{"r": {"ladder": 1.5}}`, "whole number"},
		{"keep false", `{"r": {"keep": false}}`, "keep must be true"},
		{"allow_grow not bool", `{"r": {"ratio": 0.5, "allow_grow": "yes"}}`, "allow_grow must be a bool"},
		{"bad path", `{"a..b": {"ratio": 0.5}}`, "empty segment"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			_, err := ParseRules(decode(t, tt.rules).(map[string]any))
			if err == nil {
				t.Fatal("no error")
			}
			if !errors.Is(err, ErrInvalidRule) {
				t.Errorf("error %q is not ErrInvalidRule", err)
			}
			if !strings.Contains(err.Error(), tt.contains) {
				t.Errorf("error %q does not contain %q", err, tt.contains)
			}
		})
	}
}

func TestScale_reportsEveryError(t *testing.T) {
	_, err := Scale(decode(t, `{"a": 1}`), mustRules(t, `{"x": {"ratio": 0.5}, "y": {"ratio": 0.5}}`))
	if err == nil || !strings.Contains(err.Error(), `"x"`) || !strings.Contains(err.Error(), `"y"`) {
		t.Errorf("error %v should name both x and y", err)
	}
}

func TestRule_String(t *testing.T) {
	rules := mustRules(t, `{
		"a": {"ratio": 0.25, "min": 1, "max": 4, "round": "down"},
		"b": {"quantity": 0.5, "min": "250m"},
		"c": {"ladder": 2, "min": "t3.small"},
		"d": {"set": false},
		"e": {"keep": true},
		"f": {"ratio": 2, "allow_grow": true}}`)
	want := map[string]string{
		"a": "ratio 0.25, min 1, max 4, round down",
		"b": "quantity 0.5, min 250m",
		"c": "ladder 2, min t3.small",
		"d": "set false",
		"e": "keep",
		"f": "ratio 2, allow_grow",
	}
	for k, w := range want {
		if got := rules[k].String(); got != w {
			t.Errorf("%s: String() = %q, want %q", k, got, w)
		}
	}
}

// BenchmarkScale10k scales a generated stack of 1,000 services with 10
// leaves each.
func BenchmarkScale10k(b *testing.B) {
	svcs := map[string]any{}
	for i := range 1000 {
		m := map[string]any{"replicas": float64(2 + i%10), "instance_type": "m6i.4xlarge", "cpu": "2000m", "memory": "4Gi", "multi_az": true, "image": "app:1.2.3"}
		for j := range 4 {
			m[string(rune('a'+j))] = float64(j)
		}
		svcs[strings.Repeat("s", 1+i%3)+strconv.Itoa(i)] = m
	}
	prod := map[string]any{"services": svcs}
	rules := map[string]Rule{
		"services.*.replicas":      {Kind: KindRatio, Ratio: 0.25},
		"services.*.instance_type": {Kind: KindLadder, Steps: 2},
		"services.*.cpu":           {Kind: KindQuantity, Ratio: 0.25},
		"services.*.memory":        {Kind: KindQuantity, Ratio: 0.25},
		"services.*.multi_az":      {Kind: KindSet, Value: false},
		"services.*.image":         {Kind: KindKeep},
	}
	b.ReportAllocs()
	for b.Loop() {
		if _, err := Scale(prod, rules); err != nil {
			b.Fatal(err)
		}
	}
}
