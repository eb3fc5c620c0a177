package registry_test

import (
	"fmt"
	"testing"
	"time"

	"github.com/stagingkit/terraform-provider-staging/internal/registry"
)

// benchEnvironments is the registry size the list benchmark runs against.
const benchEnvironments = 10000

// BenchmarkCreateEnvironment measures one registration (transaction, quota
// check, insert and audit event) into a registry that grows to b.N entries.
func BenchmarkCreateEnvironment(b *testing.B) {
	for _, be := range backends(b) {
		s := be.open(b, newFakeClock())
		if _, err := s.CreateTeam(ctx, "bench", registry.Team{Name: "bench"}); err != nil {
			b.Fatal(err)
		}
		round := 0
		b.Run(be.name, func(b *testing.B) {
			round++ // the benchmark body runs once per b.N tried
			b.ReportAllocs()
			b.ResetTimer()
			for i := 0; i < b.N; i++ {
				if _, err := s.CreateEnvironment(ctx, "bench", registry.Environment{
					Name: fmt.Sprintf("env-%d-%d", round, i), Team: "bench", Owner: "bench", TTL: time.Hour,
					Labels: map[string]string{"shard": fmt.Sprint(i % 10)},
				}); err != nil {
					b.Fatal(err)
				}
			}
			b.ReportMetric(float64(b.N)/b.Elapsed().Seconds(), "envs/s")
		})
	}
}

// BenchmarkListEnvironments10k measures listing a registry of 10,000
// environments: all of them, and one label's tenth.
func BenchmarkListEnvironments10k(b *testing.B) {
	for _, be := range backends(b) {
		s := be.open(b, newFakeClock())
		if _, err := s.CreateTeam(ctx, "bench", registry.Team{Name: "bench"}); err != nil {
			b.Fatal(err)
		}
		for i := 0; i < benchEnvironments; i++ {
			if _, err := s.CreateEnvironment(ctx, "bench", registry.Environment{
				Name: fmt.Sprintf("env-%d", i), Team: "bench", Owner: "bench", TTL: time.Hour,
				Labels: map[string]string{"shard": fmt.Sprint(i % 10)},
			}); err != nil {
				b.Fatal(err)
			}
		}
		for _, c := range []struct {
			name string
			f    registry.EnvironmentFilter
			want int
		}{
			{"all", registry.EnvironmentFilter{}, benchEnvironments},
			{"label", registry.EnvironmentFilter{Labels: map[string]string{"shard": "3"}}, benchEnvironments / 10},
		} {
			b.Run(be.name+"/"+c.name, func(b *testing.B) {
				b.ReportAllocs()
				for i := 0; i < b.N; i++ {
					got, err := s.ListEnvironments(ctx, c.f)
					if err != nil {
						b.Fatal(err)
					}
					if len(got) != c.want {
						b.Fatalf("listed %d, want %d", len(got), c.want)
					}
				}
			})
		}
	}
}
