package scaling

import (
	"errors"
	"testing"
)

func TestParseQuantity(t *testing.T) {
	tests := []struct {
		in     string
		value  float64
		suffix string
	}{
		{"2000m", 2, "m"},
		{"4Gi", 4 << 30, "Gi"},
		{"1.5", 1.5, ""},
		{"512Mi", 512 << 20, "Mi"},
		{"1G", 1e9, "G"},
		{"1k", 1e3, "k"},
		{"100Ki", 102400, "Ki"},
		{"1e3", 1000, ""},
		{"1E6", 1e6, ""},
		{"1E", 1e18, "E"},
		{".5", 0.5, ""},
		{"+2", 2, ""},
		{"250u", 250e-6, "u"},
	}
	for _, tt := range tests {
		q, err := ParseQuantity(tt.in)
		if err != nil {
			t.Errorf("ParseQuantity(%q): %v", tt.in, err)
			continue
		}
		if q.Value != tt.value || q.Suffix != tt.suffix {
			t.Errorf("ParseQuantity(%q) = %+v, want {%g %q}", tt.in, q, tt.value, tt.suffix)
		}
	}
	for _, s := range []string{"", "Gi", "4GB", "4 Gi", "abc", "1.2.3", "1e", "1ee3"} {
		if q, err := ParseQuantity(s); !errors.Is(err, ErrBadQuantity) {
			t.Errorf("ParseQuantity(%q) = %+v, %v; want ErrBadQuantity", s, q, err)
		}
	}
}

func TestQuantity_String(t *testing.T) {
	for in, want := range map[string]string{"4Gi": "4Gi", "2000m": "2000m", "1.5": "1500m", "1024Mi": "1024Mi", "0": "0", "1e3": "1000"} {
		q, err := ParseQuantity(in)
		if err != nil {
			t.Fatal(err)
		}
		if got := q.String(); got != want {
			t.Errorf("ParseQuantity(%q).String() = %q, want %q", in, got, want)
		}
	}
}

func FuzzParseQuantity(f *testing.F) {
	for _, s := range []string{"2000m", "4Gi", "1.5", "1e3", "-1", "1E"} {
		f.Add(s)
	}
	f.Fuzz(func(t *testing.T, s string) {
		q, err := ParseQuantity(s)
		if err != nil {
			return
		}
		// Formatting must give back a quantity of the same value.
		back, err := ParseQuantity(q.String())
		if err != nil {
			t.Fatalf("%q formats as %q which does not parse: %v", s, q.String(), err)
		}
		if d := back.Value - q.Value; d > 1e-6*max(1, q.Value) || d < -1e-6*max(1, -q.Value, q.Value) {
			t.Fatalf("%q = %g formats as %q = %g", s, q.Value, q.String(), back.Value)
		}
	})
}
