package parity

import (
	"cmp"
	"errors"
	"fmt"
	"math"
	"slices"
	"strconv"
	"strings"
	"time"

	"github.com/stagingkit/terraform-provider-staging/internal/scaling"
)

// Input is what [Evaluate] checks.
type Input struct {
	Production, Staging any
	Rules               []Rule
	Exceptions          []Exception
	// Preset is "" or "twelve-factor".
	Preset string
	// Now decides which exceptions have expired and how long a release
	// has been in staging; the zero value means time.Now().
	Now time.Time
}

// Violation is one failed check.
type Violation struct {
	// Path is the concrete path of the value ("services.api.image").
	Path       string `json:"path"`
	Production any    `json:"production"`
	Staging    any    `json:"staging"`
	// Match is the kind of the rule that failed.
	Match string `json:"match"`
	// Rule describes the rule: "exact", "scaled 0.1 <= ratio, ratio <= 1",
	// "same_minor (twelve-factor preset)".
	Rule string `json:"rule"`
	// Message is one sentence naming the path, both values and the rule.
	Message string `json:"message"`
}

// ExceptionApplied is a violation that an exception excused.
type ExceptionApplied struct {
	// Exception is the exception's path, as written.
	Exception string
	Reason    string
	// Expires is the zero time for exceptions that never expire.
	Expires   time.Time
	Violation Violation
}

// Report is the result of [Evaluate].
type Report struct {
	// Violations are the failed checks that no current exception excuses,
	// in path order.
	Violations []Violation
	// Checked counts every check, Passed the ones that passed.
	Checked, Passed int
	// Excepted lists the failed checks that an exception excused.
	Excepted []ExceptionApplied
	// Score is Passed/Checked, 1 when nothing was checked.
	Score float64
}

type compiledRule struct {
	rule   Rule
	path   scaling.Path
	label  string
	used   bool
	deploy scaling.Path // max_lag only
}

type compiledException struct {
	exc  Exception
	path scaling.Path
	used bool
}

// Evaluate checks in.Staging against in.Production. Invalid rules, rules
// and exceptions whose path matches nothing in either side, and unknown
// presets are errors ([*RuleError], [*ExceptionError], ErrUnknownPreset),
// all reported, joined; failed checks are violations in the report.
func Evaluate(in Input) (Report, error) {
	now := in.Now
	if now.IsZero() {
		now = time.Now()
	}
	var errs []error
	if in.Preset != "" && in.Preset != PresetTwelveFactor {
		errs = append(errs, fmt.Errorf("%w %q (want %q or none)", ErrUnknownPreset, in.Preset, PresetTwelveFactor))
	}
	var lagRules []*compiledRule
	all := make([]*compiledRule, 0, len(in.Rules))
	for _, r := range in.Rules {
		if err := r.Validate(); err != nil {
			errs = append(errs, err)
			continue
		}
		c := &compiledRule{rule: r, path: scaling.MustParsePath(r.Path), label: r.String()}
		all = append(all, c)
		if r.Match == MatchMaxLag {
			da := r.DeployedAt
			if da == "" {
				da = DefaultDeployedAt
			}
			if !strings.Contains(da, ".") {
				da = parentPath(r.Path) + scaling.JoinPath([]string{da})
			}
			c.deploy = scaling.MustParsePath(da)
			lagRules = append(lagRules, c)
		}
	}
	var excs []*compiledException
	for _, e := range in.Exceptions {
		if err := e.Validate(); err != nil {
			errs = append(errs, err)
			continue
		}
		excs = append(excs, &compiledException{exc: e, path: scaling.MustParsePath(e.Path)})
	}
	if len(errs) > 0 {
		return Report{}, errors.Join(errs...)
	}

	ev := evaluator{now: now, excs: excs}
	presetCache := map[string]presetKind{}
	var best []*compiledRule
	visit(in.Production, in.Staging, func(segs []string, key string, pv any, pok bool, sv any, sok bool) {
		for _, e := range excs {
			if !e.used && e.path.MatchPrefix(segs) {
				e.used = true
			}
		}
		best = best[:0]
		bestLen, bestWild := -1, 0
		covered := false
		for _, c := range all {
			if !c.path.MatchPrefix(segs) {
				continue
			}
			c.used, covered = true, true
			if c.rule.Match == MatchMaxLag {
				continue
			}
			n, w := c.path.Len(), c.path.Wildcards()
			switch {
			case n > bestLen || (n == bestLen && w < bestWild):
				best, bestLen, bestWild = append(best[:0], c), n, w
			case n == bestLen && w == bestWild:
				best = append(best, c)
			}
		}
		if covered {
			if slices.ContainsFunc(best, func(c *compiledRule) bool { return c.rule.Match == MatchIgnore }) {
				return
			}
			for _, c := range best {
				ev.check(segs, c.rule, c.label, pv, pok, sv, sok)
			}
			return
		}
		if in.Preset == PresetTwelveFactor {
			kind, ok := presetCache[key]
			if !ok {
				kind = classifyKey(key)
				presetCache[key] = kind
			}
			if kind == presetNone {
				return
			}
			if r, ok := presetRule(kind, pv, sv); ok {
				ev.check(segs, r, r.String()+" (twelve-factor preset)", pv, pok, sv, sok)
			}
		}
	})
	for _, c := range lagRules {
		if ev.checkLag(c, in.Production, in.Staging) {
			c.used = true
		}
	}
	for _, c := range all {
		if !c.used {
			errs = append(errs, &RuleError{Path: c.rule.Path, Err: fmt.Errorf("%w: matches nothing in production or staging", ErrUnknownPath)})
		}
	}
	for _, e := range excs {
		if !e.used {
			errs = append(errs, &ExceptionError{Path: e.exc.Path, Err: fmt.Errorf("%w: matches nothing in production or staging", ErrUnknownPath)})
		}
	}
	if len(errs) > 0 {
		return Report{}, errors.Join(errs...)
	}
	r := ev.report
	slices.SortStableFunc(r.Violations, func(a, b Violation) int { return cmp.Compare(a.Path, b.Path) })
	slices.SortStableFunc(r.Excepted, func(a, b ExceptionApplied) int { return cmp.Compare(a.Violation.Path, b.Violation.Path) })
	r.Score = 1
	if r.Checked > 0 {
		r.Score = float64(r.Passed) / float64(r.Checked)
	}
	return r, nil
}

// parentPath returns the text of path up to and including its last
// unescaped dot ("services.*." for "services.*.version"), or "".
func parentPath(path string) string {
	last := -1
	for i := 0; i < len(path); i++ {
		switch path[i] {
		case '\\':
			i++
		case '.':
			last = i
		}
	}
	return path[:last+1]
}

// visit calls fn for every leaf of production, with the staging value at
// the same path, then for every leaf of staging under a path production
// lacks. Leaves are scalars and empty maps or lists; key is the last map key
// on the way. Order is unspecified; segs is reused between calls.
func visit(prod, stag any, fn func(segs []string, key string, pv any, pok bool, sv any, sok bool)) {
	visitNode(prod, true, stag, true, make([]string, 0, 8), "", fn)
}

func visitNode(p any, pok bool, s any, sok bool, segs []string, key string, fn func([]string, string, any, bool, any, bool)) {
	if !pok {
		// Staging only: report its leaves.
		switch t := s.(type) {
		case map[string]any:
			if len(t) > 0 {
				for k, c := range t {
					visitNode(nil, false, c, true, append(segs, k), k, fn)
				}
				return
			}
		case []any:
			if len(t) > 0 {
				for i, c := range t {
					visitNode(nil, false, c, true, append(segs, strconv.Itoa(i)), key, fn)
				}
				return
			}
		}
		fn(segs, key, nil, false, s, true)
		return
	}
	switch t := p.(type) {
	case map[string]any:
		if len(t) > 0 {
			sm, _ := s.(map[string]any)
			for k, c := range t {
				sc, ok := sm[k]
				visitNode(c, true, sc, ok && sok, append(segs, k), k, fn)
			}
			for k, c := range sm {
				if _, ok := t[k]; !ok {
					visitNode(nil, false, c, true, append(segs, k), k, fn)
				}
			}
			return
		}
	case []any:
		if len(t) > 0 {
			sl, _ := s.([]any)
			for i, c := range t {
				var sc any
				if i < len(sl) {
					sc = sl[i]
				}
				visitNode(c, true, sc, sok && i < len(sl), append(segs, strconv.Itoa(i)), key, fn)
			}
			for i := len(t); i < len(sl); i++ {
				visitNode(nil, false, sl[i], true, append(segs, strconv.Itoa(i)), key, fn)
			}
			return
		}
	}
	fn(segs, key, p, true, s, sok)
	// Staging may hold a subtree where production has a leaf.
	switch t := s.(type) {
	case map[string]any:
		for k, c := range t {
			visitNode(nil, false, c, true, append(segs, k), k, fn)
		}
	case []any:
		for i, c := range t {
			visitNode(nil, false, c, true, append(segs, strconv.Itoa(i)), key, fn)
		}
	}
}

type evaluator struct {
	now    time.Time
	excs   []*compiledException
	report Report
}

// check runs one rule on one leaf and records the outcome.
func (ev *evaluator) check(segs []string, r Rule, label string, pv any, pok bool, sv any, sok bool) {
	ev.report.Checked++
	msg := compare(r, label, pv, pok, sv, sok)
	if msg == "" {
		ev.report.Passed++
		return
	}
	path := scaling.JoinPath(segs)
	ev.fail(segs, Violation{Path: path, Production: pv, Staging: sv, Match: r.Match, Rule: label, Message: path + ": " + msg})
}

// fail records a violation, or the exception that excuses it.
func (ev *evaluator) fail(segs []string, v Violation) {
	var active, expired *compiledException
	for _, e := range ev.excs {
		if !e.path.MatchPrefix(segs) {
			continue
		}
		e.used = true
		if e.exc.Expires.IsZero() || ev.now.Before(e.exc.Expires) {
			if active == nil || e.path.Len() > active.path.Len() {
				active = e
			}
		} else if expired == nil || e.exc.Expires.After(expired.exc.Expires) {
			expired = e
		}
	}
	if active != nil {
		ev.report.Excepted = append(ev.report.Excepted, ExceptionApplied{
			Exception: active.exc.Path, Reason: active.exc.Reason, Expires: active.exc.Expires, Violation: v,
		})
		return
	}
	if expired != nil {
		v.Message = strings.TrimSuffix(v.Message, ".") + fmt.Sprintf("; the exception %q (%s) expired on %s.",
			expired.exc.Path, expired.exc.Reason, expired.exc.Expires.UTC().Format(time.DateOnly))
	}
	ev.report.Violations = append(ev.report.Violations, v)
}

// compare returns "" when the values satisfy r, otherwise the sentence
// (without the path) that explains why not.
func compare(r Rule, label string, pv any, pok bool, sv any, sok bool) string {
	switch {
	case !sok:
		return fmt.Sprintf("staging has no value while production has %s (rule %s).", fv(pv), label)
	case !pok:
		return fmt.Sprintf("staging has %s while production has no value (rule %s).", fv(sv), label)
	case pv == nil && sv == nil:
		return ""
	}
	switch r.Match {
	case MatchExact:
		if scaling.Equal(pv, sv) {
			return ""
		}
		return fmt.Sprintf("staging %s differs from production %s (rule %s).", fv(sv), fv(pv), label)
	case MatchSameMajor, MatchSameMinor:
		pver, perr := versionOf(pv)
		sver, serr := versionOf(sv)
		switch {
		case perr != nil && serr != nil:
			return fmt.Sprintf("neither staging %s nor production %s is a version that %s can compare (rule %s).", fv(sv), fv(pv), r.Match, label)
		case serr != nil:
			return fmt.Sprintf("staging %s is not a version that %s can compare with production %s (rule %s).", fv(sv), r.Match, fv(pv), label)
		case perr != nil:
			return fmt.Sprintf("production %s is not a version that %s can compare with staging %s (rule %s).", fv(pv), r.Match, fv(sv), label)
		}
		if pver.Major != sver.Major {
			return fmt.Sprintf("staging %s%s is not the same major version as production %s%s (rule %s).", fv(sv), versionNote(sv, sver), fv(pv), versionNote(pv, pver), label)
		}
		if r.Match == MatchSameMinor && pver.Minor != sver.Minor {
			return fmt.Sprintf("staging %s%s is not the same minor version as production %s%s (rule %s).", fv(sv), versionNote(sv, sver), fv(pv), versionNote(pv, pver), label)
		}
		return ""
	case MatchSameFamily:
		pf, pok := familyOf(pv)
		sf, sok := familyOf(sv)
		switch {
		case !sok:
			return fmt.Sprintf("staging %s is not an instance class, so it cannot be in the family of production %s (rule %s).", fv(sv), fv(pv), label)
		case !pok:
			return fmt.Sprintf("production %s is not an instance class, so staging %s cannot be in its family (rule %s).", fv(pv), fv(sv), label)
		case pf != sf:
			return fmt.Sprintf("staging %s is in family %s but production %s is in family %s (rule %s).", fv(sv), sf, fv(pv), pf, label)
		}
		return ""
	case MatchScaled:
		return compareScaled(r, label, pv, sv)
	}
	return ""
}

// versionNote names the version read from v, as " (version 15.4)", when
// v's text does not already start with it (such as "PostgreSQL 15.4 on …"),
// so that messages say each version once.
func versionNote(v any, ver Version) string {
	short := fmt.Sprintf("%d.%d", ver.Major, ver.Minor)
	text := strings.TrimPrefix(strings.TrimSpace(fmt.Sprint(v)), "v")
	if text == fmt.Sprint(ver.Major) || strings.HasPrefix(text, short) {
		return ""
	}
	return " (version " + short + ")"
}

// fv formats a value for a message.
func fv(v any) string { return scaling.FormatValue(v) }

func versionOf(v any) (Version, error) {
	switch t := v.(type) {
	case string:
		return ParseVersion(t)
	case float64:
		return ParseVersion(strconv.FormatFloat(t, 'f', -1, 64))
	}
	return Version{}, fmt.Errorf("%w: %s", ErrNotVersion, scaling.FormatValue(v))
}

func familyOf(v any) (string, bool) {
	s, ok := v.(string)
	if !ok {
		return "", false
	}
	return scaling.Family(s)
}

// magnitude returns a number or a quantity string in base units.
func magnitude(v any) (float64, bool) {
	if f, ok := scaling.Number(v); ok {
		return f, true
	}
	if s, ok := v.(string); ok {
		if q, err := scaling.ParseQuantity(s); err == nil {
			return q.Value, true
		}
	}
	return 0, false
}

func compareScaled(r Rule, label string, pv, sv any) string {
	// Instance sizes of one ladder: staging must not be larger.
	if ps, ok := pv.(string); ok {
		if ss, ok := sv.(string); ok {
			pz, pok := scaling.LookupSize(ps)
			sz, sok := scaling.LookupSize(ss)
			if pok && sok {
				switch {
				case pz.Family != sz.Family:
					return fmt.Sprintf("staging %s is in family %s but production %s is in family %s, so they do not scale (rule %s).", fv(sv), sz.Family, fv(pv), pz.Family, label)
				case sz.Index > pz.Index && (r.MaxRatio == nil || *r.MaxRatio <= 1):
					return fmt.Sprintf("staging %s is larger than production %s (rule %s).", fv(sv), fv(pv), label)
				}
				return ""
			}
		}
	}
	pm, pok := magnitude(pv)
	sm, sok := magnitude(sv)
	switch {
	case !sok:
		return fmt.Sprintf("staging %s is not a number or quantity that scaled can compare with production %s (rule %s).", fv(sv), fv(pv), label)
	case !pok:
		return fmt.Sprintf("production %s is not a number or quantity that scaled can compare with staging %s (rule %s).", fv(pv), fv(sv), label)
	case pm == 0 && sm == 0:
		return ""
	case pm == 0:
		return fmt.Sprintf("staging %s is not a fraction of production %s (rule %s).", fv(sv), fv(pv), label)
	}
	ratio := sm / pm
	lo := r.MinRatio == nil && ratio > 0 || r.MinRatio != nil && ratio >= *r.MinRatio-1e-12
	hi := r.MaxRatio == nil && ratio <= 1+1e-12 || r.MaxRatio != nil && ratio <= *r.MaxRatio+1e-12
	if lo && hi {
		return ""
	}
	return fmt.Sprintf("staging %s is %s times production %s, outside %s (rule %s).",
		fv(sv), strconv.FormatFloat(math.Round(ratio*1000)/1000, 'g', -1, 64), fv(pv), r.ratioRange(), label)
}

// checkLag runs a max_lag rule on every value its path matches in staging
// and reports whether the path matched anything in either side.
func (ev *evaluator) checkLag(c *compiledRule, prod, stag any) bool {
	nodes := scaling.Find(stag, c.path)
	matched := len(nodes) > 0 || len(scaling.Find(prod, c.path)) > 0
	slices.SortFunc(nodes, func(a, b scaling.Node) int { return slices.Compare(a.Segments, b.Segments) })
	for _, n := range nodes {
		ev.report.Checked++
		path := scaling.JoinPath(n.Segments)
		pv, pok := scaling.Lookup(prod, n.Segments)
		v := Violation{Path: path, Production: pv, Staging: n.Value, Match: MatchMaxLag, Rule: c.label}
		if pok && scaling.Equal(pv, n.Value) {
			ev.report.Passed++
			continue
		}
		if pok {
			// A staging release older than production's reached production.
			pver, perr := versionOf(pv)
			sver, serr := versionOf(n.Value)
			if perr == nil && serr == nil && sver.Compare(pver) < 0 {
				ev.report.Passed++
				continue
			}
		}
		rel := scaling.FormatValue(n.Value)
		if s, ok := n.Value.(string); ok {
			rel = s
		}
		where := "which has no release at this path"
		if pok {
			where = "which runs " + scaling.FormatValue(pv)
		}
		dpath := c.deploy.Bind(c.path, n.Segments)
		var at time.Time
		var err error
		dv, dok := scaling.Lookup(stag, pathSegments(dpath))
		if !dok {
			err = fmt.Errorf("staging has no %s", dpath)
		} else {
			at, err = timeOf(dv)
		}
		if err != nil {
			v.Message = fmt.Sprintf("%s: cannot tell how long release %s has been in staging without reaching production, %s: %v (rule %s).", path, rel, where, err, c.label)
			ev.fail(n.Segments, v)
			continue
		}
		age := ev.now.Sub(at)
		if age <= c.rule.MaxLag {
			ev.report.Passed++
			continue
		}
		v.Message = fmt.Sprintf("%s: release %s has been in staging for %s without reaching production, %s (rule %s).",
			path, rel, formatAge(age), where, c.label)
		ev.fail(n.Segments, v)
	}
	return matched
}

func pathSegments(p scaling.Path) []string {
	segs := make([]string, p.Len())
	for i := range segs {
		segs[i], _ = p.Segment(i)
	}
	return segs
}

func timeOf(v any) (time.Time, error) {
	if f, ok := scaling.Number(v); ok {
		return time.Unix(int64(f), 0).UTC(), nil
	}
	if s, ok := v.(string); ok {
		return ParseTime(s)
	}
	return time.Time{}, fmt.Errorf("deployed_at %s is not a time", scaling.FormatValue(v))
}

func formatAge(d time.Duration) string {
	days := int(d / (24 * time.Hour))
	switch {
	case days == 1:
		return "1 day"
	case days > 1:
		return fmt.Sprintf("%d days", days)
	}
	return d.Round(time.Minute).String()
}
