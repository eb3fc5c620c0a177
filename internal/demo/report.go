package main

import (
	"encoding/json"
	"fmt"
	"os"
	"path/filepath"
	"slices"
	"text/tabwriter"
	"time"
)

// outputs are examples/complete's outputs, as `terraform output -json`
// prints them.
type outputs struct {
	Environment struct {
		Value struct {
			Name       string `json:"name"`
			Namespace  string `json:"namespace"`
			Team       string `json:"team"`
			Owner      string `json:"owner"`
			Production string `json:"production"`
			ExpiresAt  string `json:"expires_at"`
		} `json:"value"`
	} `json:"environment"`
	Lease struct {
		Value *struct {
			Holder    string `json:"holder"`
			Reason    string `json:"reason"`
			ExpiresAt string `json:"expires_at"`
		} `json:"value"`
	} `json:"lease"`
	AppConfig struct {
		Value map[string]string `json:"value"`
	} `json:"app_config"`
	Shrunk struct {
		Value []string `json:"value"`
	} `json:"shrunk"`
	Database struct {
		Value struct {
			RoleName string `json:"role_name"`
		} `json:"value"`
	} `json:"database"`
	ParityReport struct {
		Value map[string]string `json:"value"`
	} `json:"parity_report"`
	IsolationFindings struct {
		Value []struct {
			Kind         string `json:"kind"`
			Key          string `json:"key"`
			Message      string `json:"message"`
			Inconclusive bool   `json:"inconclusive"`
		} `json:"value"`
	} `json:"isolation_findings"`
	IsolationReport struct {
		Value string `json:"value"`
	} `json:"isolation_report"`
}

func parseOutputs(b []byte) (outputs, error) {
	var o outputs
	if err := json.Unmarshal(b, &o); err != nil {
		return o, fmt.Errorf("reading terraform output -json: %w", err)
	}
	return o, nil
}

// summary prints the environment and its lease.
func summary(raw []byte) error {
	o, err := parseOutputs(raw)
	if err != nil {
		return err
	}
	e := o.Environment.Value
	fmt.Println()
	fmt.Println("== The staging environment ==")
	tw := tabwriter.NewWriter(os.Stdout, 0, 4, 2, ' ', 0)
	fmt.Fprintf(tw, "  environment\t%s (namespace %s)\n", e.Name, e.Namespace)
	fmt.Fprintf(tw, "  team, owner\t%s, %s\n", e.Team, e.Owner)
	fmt.Fprintf(tw, "  mirrors\t%s\n", e.Production)
	fmt.Fprintf(tw, "  expires\t%s\n", until(e.ExpiresAt))
	if l := o.Lease.Value; l != nil {
		fmt.Fprintf(tw, "  leased by\t%s until %s (%s)\n", l.Holder, until(l.ExpiresAt), l.Reason)
	} else {
		fmt.Fprintf(tw, "  leased by\tnobody\n")
	}
	fmt.Fprintf(tw, "  application login\t%s (password derived by staging_credential, never stored)\n", o.Database.Value.RoleName)
	return tw.Flush()
}

// until renders an RFC 3339 time with how far away it is.
func until(ts string) string {
	t, err := time.Parse(time.RFC3339, ts)
	if err != nil {
		return ts
	}
	d := time.Until(t).Round(time.Minute)
	if d >= 24*time.Hour {
		return fmt.Sprintf("%s (in %dd %dh)", ts, d/(24*time.Hour), d%(24*time.Hour)/time.Hour)
	}
	return fmt.Sprintf("%s (in %s)", ts, d)
}

// checks prints the application's staging configuration, what was shrunk,
// the parity reports and the isolation findings, and how to look further.
func checks(raw []byte, dir string) error {
	o, err := parseOutputs(raw)
	if err != nil {
		return err
	}
	fmt.Println()
	fmt.Println("== The application's staging configuration (DATABASE_URL without its password) ==")
	keys := make([]string, 0, len(o.AppConfig.Value))
	for k := range o.AppConfig.Value {
		keys = append(keys, k)
	}
	slices.Sort(keys)
	for _, k := range keys {
		fmt.Printf("  %s=%s\n", k, o.AppConfig.Value[k])
	}
	fmt.Println()
	fmt.Println("== The application's inputs: what staging shrank ==")
	for _, s := range o.Shrunk.Value {
		fmt.Println("  " + s)
	}
	fmt.Println()
	fmt.Println("== Parity with production ==")
	for _, name := range []string{"database", "app"} {
		var r struct {
			Score      float64 `json:"score"`
			Checked    int     `json:"checked"`
			Passed     int     `json:"passed"`
			Violations []struct {
				Message string `json:"message"`
			} `json:"violations"`
			Excepted []any `json:"excepted"`
		}
		if err := json.Unmarshal([]byte(o.ParityReport.Value[name]), &r); err != nil {
			return fmt.Errorf("parity report %s: %w", name, err)
		}
		label := map[string]string{"database": "database (version, encoding, extensions, tables)", "app": "application inputs (versions, images, engines, sizes)"}[name]
		fmt.Printf("  %s: %d of %d checks passed, %d violations, %d excepted\n", label, r.Passed, r.Checked, len(r.Violations), len(r.Excepted))
		for _, v := range r.Violations {
			fmt.Println("    " + v.Message)
		}
	}
	fmt.Println()
	fmt.Println("== Isolation from production ==")
	if len(o.IsolationFindings.Value) == 0 {
		fmt.Println("  findings: none")
	}
	for _, f := range o.IsolationFindings.Value {
		fmt.Printf("  %s %s: %s (inconclusive: %v)\n", f.Kind, f.Key, f.Message, f.Inconclusive)
	}
	var rep struct {
		Probe string `json:"probe"`
	}
	if json.Unmarshal([]byte(o.IsolationReport.Value), &rep) == nil && rep.Probe != "" {
		fmt.Printf("  live probe of production with staging's login: %s\n", rep.Probe)
	}
	fmt.Println()
	fmt.Println("Look further: . " + filepath.Join(dir, "env.sh") + " && terraform -chdir=" + workDir(dir) + " plan")
	return nil
}
