package scaling

import (
	"errors"
	"reflect"
	"slices"
	"strings"
	"testing"
)

func TestParsePath(t *testing.T) {
	tests := []struct {
		in    string
		segs  []string
		wild  []bool
		wilds int
	}{
		{"a", []string{"a"}, []bool{false}, 0},
		{"services.*.replicas", []string{"services", "*", "replicas"}, []bool{false, true, false}, 1},
		{"nodes.0.size", []string{"nodes", "0", "size"}, []bool{false, false, false}, 0},
		{`labels.app\.io/name`, []string{"labels", "app.io/name"}, []bool{false, false}, 0},
		{`a.\*`, []string{"a", "*"}, []bool{false, false}, 0},
	}
	for _, tt := range tests {
		p, err := ParsePath(tt.in)
		if err != nil {
			t.Fatalf("ParsePath(%q): %v", tt.in, err)
		}
		if !reflect.DeepEqual(p.segs, tt.segs) || !reflect.DeepEqual(p.wild, tt.wild) || p.Wildcards() != tt.wilds {
			t.Errorf("ParsePath(%q) = %v %v", tt.in, p.segs, p.wild)
		}
		if p.String() != tt.in {
			t.Errorf("String() = %q, want %q", p.String(), tt.in)
		}
	}
	for _, s := range []string{"", ".", "a.", ".a", "a..b", `a\`} {
		if _, err := ParsePath(s); !errors.Is(err, ErrBadPath) {
			t.Errorf("ParsePath(%q) error = %v, want ErrBadPath", s, err)
		}
	}
}

func TestFind(t *testing.T) {
	v := decode(t, `{"services": {"api": {"replicas": 3}, "web": {"replicas": 2}, "job": {}}, "nodes": [{"size": "a"}, {"size": "b"}]}`)
	tests := []struct {
		path string
		want []string
	}{
		{"services.*.replicas", []string{"services.api.replicas", "services.web.replicas"}},
		{"nodes.*.size", []string{"nodes.0.size", "nodes.1.size"}},
		{"nodes.1.size", []string{"nodes.1.size"}},
		{"nodes.01.size", nil},
		{"nodes.2.size", nil},
		{"*", []string{"nodes", "services"}},
		{"services.api.replicas.x", nil},
	}
	for _, tt := range tests {
		var got []string
		for _, n := range Find(v, MustParsePath(tt.path)) {
			got = append(got, JoinPath(n.Segments))
		}
		slices.Sort(got)
		if !reflect.DeepEqual(got, tt.want) {
			t.Errorf("Find(%s) = %v, want %v", tt.path, got, tt.want)
		}
	}
}

func TestPath_matchAndBind(t *testing.T) {
	p := MustParsePath("services.*.version")
	segs := []string{"services", "api", "version"}
	if !p.Match(segs) || p.Match(segs[:2]) || !MustParsePath("services.*").MatchPrefix(segs) {
		t.Error("Match/MatchPrefix")
	}
	if got := MustParsePath("services.*.deployed_at").Bind(p, segs).String(); got != "services.api.deployed_at" {
		t.Errorf("Bind = %q", got)
	}
}

func TestWalk(t *testing.T) {
	v := decode(t, `{"b": [1, {"c": true}], "a": {}, "d": {"e": null}}`)
	var got []string
	Walk(v, func(l Leaf) { got = append(got, JoinPath(l.Segments)+"="+FormatValue(l.Value)+"@"+l.Key) })
	want := "a={}@a b.0=1@b b.1.c=true@c d.e=null@e"
	if s := strings.Join(got, " "); s != want {
		t.Errorf("Walk = %q, want %q", s, want)
	}
}

func FuzzParsePath(f *testing.F) {
	for _, s := range []string{"a.b", "services.*.replicas", `a\.b.c`, `\*`} {
		f.Add(s)
	}
	f.Fuzz(func(t *testing.T, s string) {
		p, err := ParsePath(s)
		if err != nil {
			return
		}
		// A concrete path rendered by JoinPath parses back to itself.
		q, err := ParsePath(JoinPath(p.segs))
		if err != nil || !reflect.DeepEqual(q.segs, p.segs) {
			t.Fatalf("JoinPath(%q) = %q does not round-trip: %v", p.segs, JoinPath(p.segs), err)
		}
	})
}
