package parity

import (
	"encoding/json"
	"fmt"
	"time"
)

type jsonReport struct {
	Score      float64         `json:"score"`
	Checked    int             `json:"checked"`
	Passed     int             `json:"passed"`
	Violations []Violation     `json:"violations"`
	Excepted   []jsonException `json:"excepted"`
}

type jsonException struct {
	Path       string `json:"path"`
	Exception  string `json:"exception"`
	Reason     string `json:"reason"`
	Expires    string `json:"expires,omitempty"`
	Production any    `json:"production"`
	Staging    any    `json:"staging"`
	Match      string `json:"match"`
	Rule       string `json:"rule"`
	Message    string `json:"message"`
}

// JSON renders the report as a compact JSON object:
//
//	{"score":0.9,"checked":10,"passed":9,
//	 "violations":[{"path":…,"production":…,"staging":…,"match":…,"rule":…,"message":…}],
//	 "excepted":[{"path":…,"exception":…,"reason":…,"expires":"2026-12-31T00:00:00Z",…}]}
//
// Lists are never null; expires is left out for exceptions that never expire.
func (r Report) JSON() (string, error) {
	out := jsonReport{Score: r.Score, Checked: r.Checked, Passed: r.Passed, Violations: r.Violations, Excepted: []jsonException{}}
	if out.Violations == nil {
		out.Violations = []Violation{}
	}
	for _, e := range r.Excepted {
		j := jsonException{
			Path: e.Violation.Path, Exception: e.Exception, Reason: e.Reason,
			Production: e.Violation.Production, Staging: e.Violation.Staging,
			Match: e.Violation.Match, Rule: e.Violation.Rule, Message: e.Violation.Message,
		}
		if !e.Expires.IsZero() {
			j.Expires = e.Expires.UTC().Format(time.RFC3339)
		}
		out.Excepted = append(out.Excepted, j)
	}
	b, err := json.Marshal(out)
	if err != nil {
		return "", fmt.Errorf("parity: encoding report: %w", err)
	}
	return string(b), nil
}
