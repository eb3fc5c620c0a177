package scaling

import (
	"strings"
	"testing"
)

// TestStepSize_families steps one size of every provider family class.
func TestStepSize_families(t *testing.T) {
	tests := []struct {
		provider, size string
		steps          int
		want           string
	}{
		{"aws-ec2", "m6i.4xlarge", 2, "m6i.xlarge"},
		{"aws-ec2", "m6i.16xlarge", 1, "m6i.12xlarge"},
		{"aws-ec2", "t3.2xlarge", 3, "t3.medium"},
		{"aws-ec2", "t3.small", 9, "t3.nano"},
		{"aws-ec2", "r6g.large", 1, "r6g.medium"},
		{"aws-ec2", "c7g.4xlarge", 1, "c7g.2xlarge"},
		{"aws-ec2", "c5.18xlarge", 1, "c5.12xlarge"},
		{"aws-rds", "db.r6g.4xlarge", 2, "db.r6g.xlarge"},
		{"aws-rds", "db.r6g.large", 1, "db.r6g.large"},
		{"aws-rds", "db.t4g.medium", 1, "db.t4g.small"},
		{"aws-elasticache", "cache.r6g.2xlarge", 1, "cache.r6g.xlarge"},
		{"aws-elasticache", "cache.m5.12xlarge", 1, "cache.m5.4xlarge"},
		{"aws-elasticache", "cache.t4g.medium", 2, "cache.t4g.micro"},
		{"gcp", "n2-standard-16", 2, "n2-standard-4"},
		{"gcp", "n2-standard-2", 1, "n2-standard-2"},
		{"gcp", "e2-standard-8", 1, "e2-standard-4"},
		{"gcp", "e2-medium", 2, "e2-micro"},
		{"gcp", "c3-standard-22", 1, "c3-standard-8"},
		{"azure", "Standard_D16s_v5", 2, "Standard_D4s_v5"},
		{"azure", "Standard_D96s_v5", 1, "Standard_D64s_v5"},
		{"azure", "Standard_E20s_v5", 1, "Standard_E16s_v5"},
		{"azure", "Standard_B4ms", 2, "Standard_B2s"},
		{"azure", "Standard_B2s_v2", 1, "Standard_B2s_v2"},
		{"azure", "Standard_F8s_v2", 1, "Standard_F4s_v2"},
	}
	for _, tt := range tests {
		t.Run(tt.size, func(t *testing.T) {
			sz, ok := LookupSize(tt.size)
			if !ok {
				t.Fatalf("%s not in the tables", tt.size)
			}
			if sz.Provider != tt.provider {
				t.Errorf("provider = %s, want %s", sz.Provider, tt.provider)
			}
			got, ok := StepSize(tt.size, tt.steps)
			if !ok || got != tt.want {
				t.Errorf("StepSize(%s, %d) = %q, %v; want %q", tt.size, tt.steps, got, ok, tt.want)
			}
		})
	}
}

func TestStepSize_unknown(t *testing.T) {
	for _, s := range []string{"", "m6i.metal", "m9z.large", "n2-standard-3", "Standard_D3s_v5", "large"} {
		if got, ok := StepSize(s, 1); ok {
			t.Errorf("StepSize(%q) = %q, want not found", s, got)
		}
	}
}

// TestLadders_wellFormed checks the embedded tables: every family has at
// least two sizes and sizes of one family share their family's name.
func TestLadders_wellFormed(t *testing.T) {
	providers := map[string]int{}
	for name, sz := range sizes {
		providers[sz.Provider]++
		if len(sz.Ladder) < 2 {
			t.Errorf("%s: family %s has %d sizes", name, sz.Family, len(sz.Ladder))
		}
		if strings.ToLower(sz.Ladder[sz.Index]) != name {
			t.Errorf("%s: index %d points at %s", name, sz.Index, sz.Ladder[sz.Index])
		}
		if fam, ok := Family(sz.Name); !ok || fam != sz.Family {
			t.Errorf("Family(%s) = %q, want %q", sz.Name, fam, sz.Family)
		}
	}
	for _, p := range []string{"aws-ec2", "aws-rds", "aws-elasticache", "gcp", "azure"} {
		if providers[p] == 0 {
			t.Errorf("no sizes for %s", p)
		}
	}
}

func TestFamily(t *testing.T) {
	tests := []struct{ in, want string }{
		{"m6i.large", "m6i"},
		{"m6i.4xlarge", "m6i"},
		{"m6i.metal", "m6i"},
		{"x2iedn.xlarge", "x2iedn"},
		{"db.r6g.large", "db.r6g"},
		{"cache.r6g.large", "cache.r6g"},
		{"n2-standard-4", "n2-standard"},
		{"a2-highgpu-1", "a2-highgpu"},
		{"n2-custom-4-16384", "n2-custom"},
		{"custom-2-4096", "n1-custom"},
		{"e2-micro", "e2-shared-core"},
		{"Standard_D4s_v5", "Dsv5"},
		{"standard_d4s_v5", "Dsv5"},
		{"Standard_D4ads_v6", "Dadsv6"},
		{"Standard_B2ms", "B"},
		{"Standard_M64ms", "Mms"},
	}
	for _, tt := range tests {
		if got, ok := Family(tt.in); !ok || got != tt.want {
			t.Errorf("Family(%q) = %q, %v; want %q", tt.in, got, ok, tt.want)
		}
	}
	for _, s := range []string{"", "large", "app:1.2.3", "15.4", "hello world"} {
		if got, ok := Family(s); ok {
			t.Errorf("Family(%q) = %q, want no family", s, got)
		}
	}
}
