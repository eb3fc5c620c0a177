package scaling

import (
	_ "embed"
	"fmt"
	"regexp"
	"strings"
)

//go:embed ladders.txt
var laddersTxt string

// Size is an instance size found in the embedded size tables.
type Size struct {
	// Name is the size as written in the table, e.g. "m6i.xlarge".
	Name string
	// Provider is one of aws-ec2, aws-rds, aws-elasticache, gcp, azure.
	Provider string
	// Family is the family the size belongs to: "m6i", "db.r6g",
	// "cache.r6g", "n2-standard", "Dsv5".
	Family string
	// Index is the position of the size in its ladder, 0 for the smallest.
	Index int
	// Ladder lists every size of the family, smallest first.
	Ladder []string
}

// sizes maps a lower-cased size name to its entry.
var sizes = parseLadders(laddersTxt)

func parseLadders(txt string) map[string]Size {
	out := map[string]Size{}
	for n, line := range strings.Split(txt, "\n") {
		f := strings.Fields(line)
		if len(f) == 0 || strings.HasPrefix(f[0], "#") {
			continue
		}
		if len(f) < 4 || !strings.Contains(f[2], "{}") {
			panic(fmt.Sprintf("ladders.txt:%d: malformed line", n+1))
		}
		ladder := make([]string, 0, len(f)-3)
		for _, s := range f[3:] {
			ladder = append(ladder, strings.Replace(f[2], "{}", s, 1))
		}
		for i, name := range ladder {
			key := strings.ToLower(name)
			if _, dup := out[key]; dup {
				panic(fmt.Sprintf("ladders.txt:%d: duplicate size %s", n+1, name))
			}
			out[key] = Size{Name: name, Provider: f[0], Family: f[1], Index: i, Ladder: ladder}
		}
	}
	return out
}

// LookupSize finds name (case-insensitively) in the embedded size tables.
func LookupSize(name string) (Size, bool) {
	s, ok := sizes[strings.ToLower(strings.TrimSpace(name))]
	return s, ok
}

// StepSize moves name steps sizes down its ladder (up when steps is
// negative), stopping at the smallest (largest) size. The result keeps the
// letter case of name when name is all lower case. ok is false when name is
// in no ladder.
func StepSize(name string, steps int) (result string, ok bool) {
	s, ok := LookupSize(name)
	if !ok {
		return "", false
	}
	i := min(max(s.Index-steps, 0), len(s.Ladder)-1)
	return matchCase(name, s.Ladder[i]), true
}

// matchCase returns table-cased name in lower case when the user wrote
// theirs in lower case ("standard_d4s_v5").
func matchCase(user, name string) string {
	if user == strings.ToLower(user) {
		return strings.ToLower(name)
	}
	return name
}

var (
	awsClass  = regexp.MustCompile(`^((?:db|cache)\.)?([a-z][a-z0-9-]*)\.([a-z0-9-]+)$`)
	gcpType   = regexp.MustCompile(`^([a-z][a-z0-9]*-[a-z]+)-[0-9]+$`)
	gcpCustom = regexp.MustCompile(`^([a-z][a-z0-9]*-)?custom-[0-9]+-[0-9]+(-ext)?$`)
	azureSize = regexp.MustCompile(`^(?i:standard)_([A-Z]+)[0-9]+(?:-[0-9]+)?([a-z]*)(?:_([vV][0-9]+))?$`)
	gcpShared = regexp.MustCompile(`^(e2|f1|g1)-(micro|small|medium)$`)
	gcpFamFmt = map[string]string{"e2": "e2-shared-core", "f1": "n1-shared-core", "g1": "n1-shared-core"}
)

// Family returns the instance family of an instance class or machine type:
// "m6i" for "m6i.4xlarge", "db.r6g" for "db.r6g.large", "cache.r6g" for
// "cache.r6g.large", "n2-standard" for "n2-standard-4", "Dsv5" for
// "Standard_D4s_v5". Sizes in the embedded tables take their table family;
// others are recognised by their provider's naming scheme. ok is false when
// s looks like no instance class.
func Family(s string) (family string, ok bool) {
	if sz, ok := LookupSize(s); ok {
		return sz.Family, true
	}
	s = strings.TrimSpace(s)
	if m := azureSize.FindStringSubmatch(s); m != nil {
		return strings.ToUpper(m[1]) + strings.ToLower(m[2]) + strings.ToLower(m[3]), true
	}
	s = strings.ToLower(s)
	if m := awsClass.FindStringSubmatch(s); m != nil {
		return m[1] + m[2], true
	}
	if m := gcpShared.FindStringSubmatch(s); m != nil {
		return gcpFamFmt[m[1]], true
	}
	if m := gcpCustom.FindStringSubmatch(s); m != nil {
		prefix := m[1]
		if prefix == "" {
			prefix = "n1-"
		}
		return prefix + "custom", true
	}
	if m := gcpType.FindStringSubmatch(s); m != nil {
		return m[1], true
	}
	return "", false
}
