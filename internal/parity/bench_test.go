package parity

import (
	"fmt"
	"testing"
	"time"

	"github.com/stagingkit/terraform-provider-staging/internal/scaling"
)

// stack generates a production stack description with services*10 leaves.
func stack(services int) map[string]any {
	types := []string{"m6i.4xlarge", "r6g.2xlarge", "n2-standard-16", "Standard_D16s_v5", "db.r6g.4xlarge"}
	svcs := make(map[string]any, services)
	for i := range services {
		svcs[fmt.Sprintf("svc%04d", i)] = map[string]any{
			"replicas":       float64(2 + i%10),
			"image":          fmt.Sprintf("registry.example.com/app%d:1.%d.%d", i, i%7, i%3),
			"instance_type":  types[i%len(types)],
			"cpu":            "2000m",
			"memory":         "4Gi",
			"engine":         "postgres",
			"engine_version": "15.4",
			"multi_az":       true,
			"retention_days": float64(30),
			"release":        map[string]any{"version": "1.4.0"},
		}
	}
	return map[string]any{"services": svcs}
}

var benchScaling = map[string]scaling.Rule{
	"services.*.replicas":       {Kind: scaling.KindRatio, Ratio: 0.25, Min: ptr(1)},
	"services.*.instance_type":  {Kind: scaling.KindLadder, Steps: 2},
	"services.*.cpu":            {Kind: scaling.KindQuantity, Ratio: 0.25, MinQuantity: "250m"},
	"services.*.memory":         {Kind: scaling.KindQuantity, Ratio: 0.25},
	"services.*.multi_az":       {Kind: scaling.KindSet, Value: false},
	"services.*.retention_days": {Kind: scaling.KindSet, Value: float64(7)},
	"services.*.image":          {Kind: scaling.KindKeep},
	"services.*.engine_version": {Kind: scaling.KindKeep},
}

var benchRules = []Rule{
	{Path: "services.*.multi_az", Match: MatchIgnore},
	{Path: "services.*.retention_days", Match: MatchIgnore},
	{Path: "services.*.cpu", Match: MatchScaled, MinRatio: ptr(0.1)},
	{Path: "services.*.memory", Match: MatchScaled, MinRatio: ptr(0.1)},
	{Path: "services.*.release.version", Match: MatchMaxLag, MaxLag: 14 * 24 * time.Hour},
}

// TestScaleAndParity_stack is the benchmark's scenario as a test: a stack
// scaled by the rules passes parity with the twelve-factor preset.
func TestScaleAndParity_stack(t *testing.T) {
	prod := stack(1000)
	n := 0
	scaling.Walk(prod, func(scaling.Leaf) { n++ })
	if n != 10000 {
		t.Fatalf("stack has %d leaves, want 10000", n)
	}
	res, err := scaling.Scale(prod, benchScaling)
	if err != nil {
		t.Fatal(err)
	}
	if len(res.Changes) != 6000 {
		t.Errorf("%d changes, want 6000", len(res.Changes))
	}
	r, err := Evaluate(Input{Production: prod, Staging: res.Values, Rules: benchRules, Preset: PresetTwelveFactor, Now: now})
	if err != nil {
		t.Fatal(err)
	}
	if len(r.Violations) != 0 || r.Checked != 8000 {
		t.Errorf("checked %d, violations %d: %+v", r.Checked, len(r.Violations), r.Violations[:min(3, len(r.Violations))])
	}
}

func BenchmarkScaleAndParity10k(b *testing.B) {
	prod := stack(1000)
	b.ReportAllocs()
	for b.Loop() {
		res, err := scaling.Scale(prod, benchScaling)
		if err != nil {
			b.Fatal(err)
		}
		if _, err := Evaluate(Input{Production: prod, Staging: res.Values, Rules: benchRules, Preset: PresetTwelveFactor, Now: now}); err != nil {
			b.Fatal(err)
		}
	}
}

// BenchmarkEvaluate10k measures parity alone on the scaled stack.
func BenchmarkEvaluate10k(b *testing.B) {
	prod := stack(1000)
	res, err := scaling.Scale(prod, benchScaling)
	if err != nil {
		b.Fatal(err)
	}
	b.ReportAllocs()
	for b.Loop() {
		if _, err := Evaluate(Input{Production: prod, Staging: res.Values, Rules: benchRules, Preset: PresetTwelveFactor, Now: now}); err != nil {
			b.Fatal(err)
		}
	}
}
