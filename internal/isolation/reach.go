package isolation

import (
	"context"
	"errors"
	"fmt"
	"net"
	"strings"
	"time"

	"github.com/jackc/pgx/v5"
	"github.com/jackc/pgx/v5/pgconn"
)

// ScanDatabase looks in a staging database for paths back to production:
// foreign servers whose options name a production host (and the user
// mappings that give them credentials), functions, views and materialized
// views whose text holds a connection string to production (dblink and
// friends), and subscriptions whose connection string does. Each query
// runs on its own, outside a transaction, so that one the login may not
// run (subscriptions need a superuser or pg_read_all_settings… and are
// hidden otherwise) becomes an inconclusive finding without stopping the
// others.
func ScanDatabase(ctx context.Context, db DB, prod Production) ([]Finding, error) {
	var out []Finding
	servers := map[string]bool{}
	rows, err := db.Query(ctx, `SELECT s.srvname, w.fdwname, coalesce(array_to_string(s.srvoptions, ' '), '')
		FROM pg_foreign_server s JOIN pg_foreign_data_wrapper w ON w.oid = s.srvfdw ORDER BY 1`)
	if err != nil {
		return nil, fmt.Errorf("reading foreign servers: %w", err)
	}
	type object struct{ name, extra, text string }
	list, err := pgx.CollectRows(rows, func(r pgx.CollectableRow) (object, error) {
		var o object
		return o, r.Scan(&o.name, &o.extra, &o.text)
	})
	if err != nil {
		return nil, fmt.Errorf("reading foreign servers: %w", err)
	}
	for _, o := range list {
		key := fmt.Sprintf("foreign server %q", o.name)
		for _, f := range prod.hostFindings(key, o.text) {
			f.Kind = FindingForeignServer
			f.Message = fmt.Sprintf("(wrapper %s) %s", o.extra, f.Message)
			out = append(out, f)
			servers[o.name] = true
		}
	}
	if len(servers) > 0 {
		rows, err := db.Query(ctx, `SELECT srvname, usename FROM pg_user_mappings ORDER BY 1, 2`)
		if err != nil {
			return nil, fmt.Errorf("reading user mappings: %w", err)
		}
		maps, err := pgx.CollectRows(rows, func(r pgx.CollectableRow) (object, error) {
			var o object
			return o, r.Scan(&o.name, &o.extra)
		})
		if err != nil {
			return nil, fmt.Errorf("reading user mappings: %w", err)
		}
		for _, m := range maps {
			if servers[m.name] {
				out = append(out, Finding{Kind: FindingUserMapping, Key: fmt.Sprintf("user mapping for %q on server %q", m.extra, m.name),
					Message: "gives credentials for a foreign server that points at production"})
			}
		}
	}
	rows, err = db.Query(ctx, `
		SELECT 'function ' || p.oid::regprocedure::text, p.prosrc
		  FROM pg_proc p JOIN pg_namespace n ON n.oid = p.pronamespace JOIN pg_language l ON l.oid = p.prolang
		 WHERE n.nspname NOT IN ('pg_catalog', 'information_schema') AND l.lanname NOT IN ('c', 'internal') AND p.prosrc ~* '(://|host\s*=|hostaddr\s*=)'
		UNION ALL
		SELECT 'view ' || quote_ident(schemaname) || '.' || quote_ident(viewname), definition FROM pg_views
		 WHERE schemaname NOT IN ('pg_catalog', 'information_schema') AND definition ~* '(://|host\s*=|hostaddr\s*=)'
		UNION ALL
		SELECT 'materialized view ' || quote_ident(schemaname) || '.' || quote_ident(matviewname), definition FROM pg_matviews
		 WHERE definition ~* '(://|host\s*=|hostaddr\s*=)'
		ORDER BY 1`)
	if err != nil {
		return nil, fmt.Errorf("reading functions and views: %w", err)
	}
	code, err := pgx.CollectRows(rows, func(r pgx.CollectableRow) (object, error) {
		var o object
		return o, r.Scan(&o.name, &o.text)
	})
	if err != nil {
		return nil, fmt.Errorf("reading functions and views: %w", err)
	}
	for _, o := range code {
		for _, f := range prod.hostFindings(o.name, o.text) {
			f.Kind = FindingDblink
			f.Message = "its text " + f.Message
			out = append(out, f)
		}
	}
	rows, err = db.Query(ctx, `SELECT subname, subconninfo FROM pg_subscription WHERE subdbid = (SELECT oid FROM pg_database WHERE datname = current_database()) ORDER BY 1`)
	if err == nil {
		var subs []object
		subs, err = pgx.CollectRows(rows, func(r pgx.CollectableRow) (object, error) {
			var o object
			return o, r.Scan(&o.name, &o.text)
		})
		for _, o := range subs {
			for _, f := range prod.hostFindings(fmt.Sprintf("subscription %q", o.name), o.text) {
				f.Kind = FindingSubscription
				f.Message = "replicates from production: " + strings.Replace(f.Message, "holds a connection string whose host", "its connection string's host", 1)
				out = append(out, f)
			}
		}
	}
	var pe *pgconn.PgError
	if errors.As(err, &pe) && pe.Code == "42501" {
		out = append(out, Finding{Kind: FindingInconclusive, Key: "subscriptions", Inconclusive: true,
			Message: "the staging login may not read pg_subscription.subconninfo (a superuser may), so subscriptions from production could not be checked"})
	} else if err != nil {
		return nil, fmt.Errorf("reading subscriptions: %w", err)
	}
	SortFindings(out)
	return out, nil
}

// ProbeOutcome is what a live probe of production found.
type ProbeOutcome string

// Probe outcomes.
const (
	// ProbeRefused: production's authentication refused the credentials.
	ProbeRefused ProbeOutcome = "refused"
	// ProbeAccepted: production let the staging credentials in.
	ProbeAccepted ProbeOutcome = "accepted"
	// ProbeInconclusive: production could not be asked (unreachable from
	// here, timed out, too many connections, …).
	ProbeInconclusive ProbeOutcome = "inconclusive"
)

// Probe tries to log in to production (cfg: parsed from production's
// connection string, for its hosts, database and TLS settings) as user
// with password, within timeout, and says what production's
// authentication answered. why explains an inconclusive outcome; it
// never holds the password.
func Probe(ctx context.Context, cfg *pgconn.Config, user, password string, timeout time.Duration) (outcome ProbeOutcome, why string) {
	c := cfg.Copy()
	c.User, c.Password = user, password
	c.ConnectTimeout = timeout
	c.RuntimeParams = map[string]string{"application_name": "terraform-provider-staging isolation probe"}
	c.ValidateConnect, c.AfterConnect, c.OnNotice, c.OnNotification = nil, nil, nil, nil
	ctx, cancel := context.WithTimeout(ctx, timeout+time.Second)
	defer cancel()
	conn, err := pgconn.ConnectConfig(ctx, c)
	if err == nil {
		_ = conn.Close(ctx)
		return ProbeAccepted, ""
	}
	var pe *pgconn.PgError
	if errors.As(err, &pe) {
		switch {
		case pe.Code == "28P01" || pe.Code == "28000":
			return ProbeRefused, ""
		case pe.Code == "3D000":
			// The database is checked after authentication succeeded.
			return ProbeAccepted, ""
		}
		return ProbeInconclusive, fmt.Sprintf("production answered SQLSTATE %s (%s) before deciding on the credentials", pe.Code, pe.Message)
	}
	var ne net.Error
	if errors.As(err, &ne) && ne.Timeout() || errors.Is(err, context.DeadlineExceeded) {
		return ProbeInconclusive, fmt.Sprintf("production did not answer within %s from where Terraform runs", timeout)
	}
	return ProbeInconclusive, "production could not be reached from where Terraform runs: " + scrubPassword(err.Error(), password)
}

// scrubPassword removes a password from a message.
func scrubPassword(msg, password string) string {
	if password == "" {
		return msg
	}
	return strings.ReplaceAll(msg, password, "…")
}
