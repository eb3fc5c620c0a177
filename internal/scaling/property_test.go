package scaling

import (
	"fmt"
	"math/rand/v2"
	"testing"
)

// TestScale_properties checks, over random stacks and rules, that scaled
// values never exceed production unless allowed, that min is respected
// whenever production is at least min, and that kept and unruled values
// stay identical.
func TestScale_properties(t *testing.T) {
	rng := rand.New(rand.NewPCG(1, 2))
	sizeNames := make([]string, 0, len(sizes))
	for _, s := range sizes {
		sizeNames = append(sizeNames, s.Name)
	}
	for iter := range 500 {
		services := map[string]any{}
		n := 1 + rng.IntN(6)
		for i := range n {
			services[fmt.Sprintf("svc%d", i)] = map[string]any{
				"replicas":      float64(rng.IntN(50)),
				"weight":        rng.Float64() * 10,
				"memory":        fmt.Sprintf("%d%s", 1+rng.IntN(64), []string{"Gi", "Mi", "G", "M"}[rng.IntN(4)]),
				"cpu":           fmt.Sprintf("%dm", 1+rng.IntN(8000)),
				"instance_type": sizeNames[rng.IntN(len(sizeNames))],
				"image":         fmt.Sprintf("app:%d.%d", rng.IntN(9), rng.IntN(9)),
				"untouched":     []any{float64(rng.IntN(9)), "x"},
			}
		}
		prod := map[string]any{"services": services}
		ratio := rng.Float64()
		minR := float64(rng.IntN(5))
		grow := rng.IntN(4) == 0
		if grow {
			ratio *= 3
		}
		rules := map[string]Rule{
			"services.*.replicas":      {Kind: KindRatio, Ratio: ratio, Min: &minR, AllowGrow: grow, Round: []string{"", RoundUp, RoundDown, RoundNearest}[rng.IntN(4)]},
			"services.*.weight":        {Kind: KindRatio, Ratio: ratio, AllowGrow: grow},
			"services.*.memory":        {Kind: KindQuantity, Ratio: ratio, MinQuantity: "256Mi", AllowGrow: grow},
			"services.*.cpu":           {Kind: KindQuantity, Ratio: ratio, AllowGrow: grow},
			"services.*.instance_type": {Kind: KindLadder, Steps: rng.IntN(4)},
			"services.*.image":         {Kind: KindKeep},
		}
		res, err := Scale(prod, rules)
		if err != nil {
			t.Fatalf("iteration %d: %v", iter, err)
		}
		out := res.Values.(map[string]any)["services"].(map[string]any)
		for name, p := range services {
			p, s := p.(map[string]any), out[name].(map[string]any)
			ctx := fmt.Sprintf("iteration %d %s ratio %g min %g grow %v", iter, name, ratio, minR, grow)
			pr, sr := p["replicas"].(float64), s["replicas"].(float64)
			if !grow && sr > pr {
				t.Errorf("%s: replicas %g exceeds production %g", ctx, sr, pr)
			}
			if pr >= minR && sr < minR {
				t.Errorf("%s: replicas %g below min %g", ctx, sr, minR)
			}
			if sr != float64(int(sr)) {
				t.Errorf("%s: replicas %g not an integer", ctx, sr)
			}
			if pw, sw := p["weight"].(float64), s["weight"].(float64); !grow && sw > pw {
				t.Errorf("%s: weight %g exceeds production %g", ctx, sw, pw)
			}
			for _, k := range []string{"memory", "cpu"} {
				pq, _ := ParseQuantity(p[k].(string))
				sq, err := ParseQuantity(s[k].(string))
				if err != nil {
					t.Fatalf("%s: %s %q does not parse: %v", ctx, k, s[k], err)
				}
				if !grow && sq.Value > pq.Value {
					t.Errorf("%s: %s %s exceeds production %s", ctx, k, s[k], p[k])
				}
				if k == "memory" && pq.Value >= 256<<20 && sq.Value < 256<<20 {
					t.Errorf("%s: memory %s below min 256Mi (production %s)", ctx, s[k], p[k])
				}
			}
			pi, _ := LookupSize(p["instance_type"].(string))
			si, ok := LookupSize(s["instance_type"].(string))
			if !ok || si.Family != pi.Family || si.Index > pi.Index {
				t.Errorf("%s: instance %s -> %s", ctx, p["instance_type"], s["instance_type"])
			}
			if !Equal(p["image"], s["image"]) || !Equal(p["untouched"], s["untouched"]) {
				t.Errorf("%s: kept values changed", ctx)
			}
		}
		for _, c := range res.Changes {
			if Equal(c.Production, c.Staging) {
				t.Errorf("iteration %d: change %+v changes nothing", iter, c)
			}
		}
	}
}
