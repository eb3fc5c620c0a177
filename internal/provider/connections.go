package provider

import (
	"context"
	"errors"
	"fmt"
	"maps"
	"regexp"
	"sort"
	"strings"
	"time"

	"github.com/hashicorp/terraform-plugin-framework-validators/stringvalidator"
	"github.com/hashicorp/terraform-plugin-framework/path"
	"github.com/hashicorp/terraform-plugin-framework/provider/schema"
	"github.com/hashicorp/terraform-plugin-framework/schema/validator"
	"github.com/hashicorp/terraform-plugin-framework/types"
	"github.com/hashicorp/terraform-plugin-log/tflog"
	"github.com/jackc/pgx/v5"

	"github.com/stagingkit/terraform-provider-staging/internal/dsn"
	"github.com/stagingkit/terraform-provider-staging/internal/pgclone"
)

// Connection roles. Objects that write refuse a production connection, and
// production connections are only read inside READ ONLY transactions.
const (
	roleProduction = "production"
	roleStaging    = "staging"
)

// postgresConnModel is one `postgres` block of the provider configuration.
type postgresConnModel struct {
	Name                 types.String `tfsdk:"name"`
	DSN                  types.String `tfsdk:"dsn"`
	Role                 types.String `tfsdk:"role"`
	LockTimeout          types.String `tfsdk:"lock_timeout"`
	StatementTimeout     types.String `tfsdk:"statement_timeout"`
	AllowPrivilegedLogin types.Bool   `tfsdk:"allow_privileged_login"`
}

func postgresConnBlock() schema.ListNestedBlock {
	return schema.ListNestedBlock{
		MarkdownDescription: "Named PostgreSQL connections. Terraform never stores provider configuration, so DSNs and passwords given here stay out of state and plan; " +
			"resources and data sources refer to a connection by `name`.",
		NestedObject: schema.NestedBlockObject{Attributes: map[string]schema.Attribute{
			"name": schema.StringAttribute{
				MarkdownDescription: "The name objects use to refer to this connection, such as `prod` or `staging`.",
				Required:            true,
				Validators: []validator.String{stringvalidator.RegexMatches(regexp.MustCompile(`^[a-zA-Z][a-zA-Z0-9_-]{0,62}$`),
					"must start with a letter and hold only letters, digits, '_' and '-' (at most 63 characters)")},
			},
			"dsn": schema.StringAttribute{
				MarkdownDescription: "Connection string, `postgres://user:password@host:port/database?sslmode=...` or `host=... dbname=...`. " +
					"It may come from a variable or an ephemeral resource. Never logged or stored.",
				Required:  true,
				Sensitive: true,
			},
			"role": schema.StringAttribute{
				MarkdownDescription: "`production` or `staging`. A production connection is only ever read: its sessions start with `default_transaction_read_only = on` " +
					"and `row_security = off`, run one statement at a time over the extended protocol inside `READ ONLY` transactions, and its login must not be able to change " +
					"production around a read-only transaction: not a superuser, not `REPLICATION` or `CREATEROLE`, not a member of `pg_execute_server_program`, " +
					"`pg_write_server_files` or `pg_signal_backend`, and not a member of a role that is any of these. Objects that write refuse it.",
				Required:   true,
				Validators: []validator.String{stringvalidator.OneOf(roleProduction, roleStaging)},
			},
			"lock_timeout": schema.StringAttribute{
				MarkdownDescription: fmt.Sprintf("The longest a read waits for a lock, such as `5s` (the default is %s). A copy holds ACCESS SHARE locks on the tables it reads; "+
					"when production DDL (a migration's `ALTER TABLE`, `VACUUM FULL`, `LOCK TABLE`) holds or waits for a conflicting lock, the read gives up after this long, "+
					"naming the blocking session, instead of queueing behind it while production traffic queues behind both.", pgclone.DefaultLockTimeout),
				Optional:   true,
				Validators: []validator.String{durationValidator{}},
			},
			"statement_timeout": schema.StringAttribute{
				MarkdownDescription: "The longest one statement of a read may run, such as `30m`; default: no limit. A clone's `COPY` of a large table is one statement.",
				Optional:            true,
				Validators:          []validator.String{durationValidator{}},
			},
			"allow_privileged_login": schema.BoolAttribute{
				MarkdownDescription: "Accept a production login that is (or can `SET ROLE` to) a superuser, has `REPLICATION` or `CREATEROLE`, or is a member of " +
					"`pg_execute_server_program`, `pg_write_server_files` or `pg_signal_backend`. A `READ ONLY` transaction does not stop such a login from changing production " +
					"(`COPY … TO PROGRAM`, `COPY … TO 'file'`, `dblink`, replication slots, ending sessions), so by default it is refused at plan time. " +
					"Prefer a login that only reads (`pg_read_all_data` and `BYPASSRLS`). Default `false`.",
				Optional: true,
			},
		}},
	}
}

// pgConnection is a configured connection, resolved at Configure time.
type pgConnection struct {
	name, dsn, role string
	// source says how read sessions are opened (all of a production
	// connection's sessions are).
	source pgclone.SourceSettings
	// unknown is set when the DSN is not known yet (plan before apply).
	unknown bool
}

// postgresConnections validates the provider's postgres blocks.
func postgresConnections(models []postgresConnModel, diags *diagnostics) map[string]pgConnection {
	conns := make(map[string]pgConnection, len(models))
	for i, m := range models {
		name := m.Name.ValueString()
		if _, dup := conns[name]; dup {
			diags.AddAttributeError(path.Root("postgres").AtListIndex(i).AtName("name"), "Duplicate PostgreSQL Connection",
				fmt.Sprintf("Two postgres blocks are named %q; give each connection its own name.", name))
			continue
		}
		at := path.Root("postgres").AtListIndex(i)
		src := pgclone.SourceSettings{
			LockTimeout:          parseOptionalDuration(m.LockTimeout, at.AtName("lock_timeout"), diags),
			StatementTimeout:     parseOptionalDuration(m.StatementTimeout, at.AtName("statement_timeout"), diags),
			AllowPrivilegedLogin: m.AllowPrivilegedLogin.ValueBool(),
		}
		conns[name] = pgConnection{name: name, dsn: m.DSN.ValueString(), role: m.Role.ValueString(), source: src, unknown: m.DSN.IsUnknown()}
	}
	return conns
}

// connectionNames lists the configured connection names for messages.
func (d *providerData) connectionNames() string {
	if len(d.conns) == 0 {
		return "none are configured"
	}
	names := make([]string, 0, len(d.conns))
	for n := range d.conns {
		names = append(names, fmt.Sprintf("%q", n))
	}
	sort.Strings(names)
	return "configured: " + strings.Join(names, ", ")
}

// connection resolves a connection name given in attribute at. An object
// that writes passes write=true and is refused a production connection.
func (d *providerData) connection(name string, at path.Path, write bool, diags *diagnostics) (pgConnection, bool) {
	c, ok := d.conns[name]
	if !ok {
		diags.AddAttributeError(at, "Unknown PostgreSQL Connection",
			fmt.Sprintf("No postgres block of the provider is named %q (%s). Add one to the provider configuration or fix the name.", name, d.connectionNames()))
		return pgConnection{}, false
	}
	if write && c.role == roleProduction {
		diags.AddAttributeError(at, "Production Connection Refused",
			fmt.Sprintf("Connection %q has role \"production\", and this object writes to its database. Production is only ever read: "+
				"point this attribute at a connection with role \"staging\".", name))
		return pgConnection{}, false
	}
	return c, true
}

// connectTimeout bounds connecting to a configured PostgreSQL server.
const connectTimeout = 15 * time.Second

// connect opens a session on the connection. Errors never contain the
// password.
func (c pgConnection) connect(ctx context.Context) (*pgx.Conn, error) { return c.connectWith(ctx, nil) }

// connectWith opens a session whose startup packet carries params, so
// they hold before the first statement.
func (c pgConnection) connectWith(ctx context.Context, params map[string]string) (*pgx.Conn, error) {
	if c.unknown {
		return nil, fmt.Errorf("the DSN of connection %q is not known yet", c.name)
	}
	cfg, err := pgx.ParseConfig(c.dsn)
	if err != nil {
		return nil, fmt.Errorf("the DSN of connection %q cannot be parsed: %w", c.name, dsn.Scrub(err, c.dsn))
	}
	if cfg.ConnectTimeout == 0 || cfg.ConnectTimeout > connectTimeout {
		cfg.ConnectTimeout = connectTimeout
	}
	cfg.RuntimeParams["application_name"] = "terraform-provider-staging"
	maps.Copy(cfg.RuntimeParams, params)
	conn, err := pgx.ConnectConfig(ctx, cfg)
	if err != nil {
		return nil, fmt.Errorf("connecting to %s (connection %q): %w", dsn.Describe(c.dsn), c.name, dsn.Scrub(err, c.dsn))
	}
	return conn, nil
}

// readOnly connects and starts the only kind of transaction a production
// connection gets: REPEATABLE READ READ ONLY, so that every query sees one
// snapshot and none can write. The session itself starts read-only (see
// pgclone.SourceSettings.Params), and on a production connection a login
// that could write around a READ ONLY transaction is refused. Failures
// become diagnostics on attribute at; done rolls back and disconnects.
func (c pgConnection) readOnly(ctx context.Context, at path.Path, summary string, diags *diagnostics) (tx pgx.Tx, done func(), ok bool) {
	conn, err := c.connectWith(ctx, c.source.Params())
	if err != nil {
		diags.AddAttributeError(at, summary, "Check that the server is reachable and the credentials of the connection are right.\n\n"+err.Error())
		return nil, nil, false
	}
	closeConn := func() { _ = conn.Close(context.WithoutCancel(ctx)) }
	if c.role == roleProduction {
		if _, err := c.source.CheckSourceRole(ctx, conn); err != nil {
			closeConn()
			var pe *pgclone.PrivilegedLoginError
			if errors.As(err, &pe) {
				diags.AddAttributeError(at, "Privileged Production Login",
					fmt.Sprintf("Connection %q: %s.", c.name, err))
			} else {
				diags.AddAttributeError(at, summary, fmt.Sprintf("Connection %q: %s", c.name, dsn.Scrub(err, c.dsn)))
			}
			return nil, nil, false
		}
		c.warnWritePrivileges(ctx, conn, at, diags)
	}
	tx, err = conn.BeginTx(ctx, pgx.TxOptions{IsoLevel: pgx.RepeatableRead, AccessMode: pgx.ReadOnly})
	if err != nil {
		closeConn()
		diags.AddAttributeError(at, summary, fmt.Sprintf("Starting a read-only transaction on connection %q: %s", c.name, dsn.Scrub(err, c.dsn)))
		return nil, nil, false
	}
	return tx, func() {
		_ = tx.Rollback(context.WithoutCancel(ctx))
		closeConn()
	}, true
}

// maxListedTables bounds the tables a write-privilege warning lists.
const maxListedTables = 10

// warnWritePrivileges warns when the production login owns or may change
// tables: the provider only reads, but such a login could write through a
// session of its own (dblink with its credentials), so a read-only role is
// the guarantee that does not depend on the provider.
func (c pgConnection) warnWritePrivileges(ctx context.Context, conn *pgx.Conn, at path.Path, diags *diagnostics) {
	ws, err := pgclone.WritePrivileges(ctx, conn, nil)
	if err != nil {
		tflog.Warn(ctx, "cannot read the production login's table privileges", map[string]any{"connection": c.name, "error": dsn.Scrub(err, c.dsn).Error()})
		return
	}
	if len(ws) == 0 {
		return
	}
	var b strings.Builder
	for i, w := range ws {
		if i == maxListedTables {
			fmt.Fprintf(&b, "\n  - and %d more tables", len(ws)-i)
			break
		}
		fmt.Fprintf(&b, "\n  - %s: %s", w.Table, strings.Join(w.Privileges, ", "))
	}
	diags.AddAttributeWarning(at, "Production Login Can Write",
		fmt.Sprintf("The login of connection %q owns or may change tables of production:%s\n\n"+
			"This provider only reads them, inside READ ONLY transactions of sessions that start read-only, but a query could reach them through a session "+
			"of its own (dblink with the login's credentials). A login that cannot write is a guarantee that does not depend on this provider: "+
			"connect with a read-only role (one granted only pg_read_all_data, or SELECT on the schemas it reads, and BYPASSRLS).", c.name, b.String()))
}

// sourceErrorDetail explains an error of a read on this connection: a lock
// timeout names the sessions that blocked it (read on a fresh session), a
// row-level security or privilege error says what the login needs. The
// password is scrubbed.
func (c pgConnection) sourceErrorDetail(ctx context.Context, err error) string {
	msg := dsn.Scrub(err, c.dsn).Error()
	if pgclone.IsLockTimeout(err) {
		lt := c.source.LockTimeout
		if lt == 0 {
			lt = pgclone.DefaultLockTimeout
		}
		le := &pgclone.SourceLockTimeoutError{Timeout: lt, Err: err}
		cctx, cancel := context.WithTimeout(context.WithoutCancel(ctx), 10*time.Second)
		defer cancel()
		if conn, cerr := c.connectWith(cctx, c.source.Params()); cerr == nil {
			le.Blockers, _ = pgclone.LockBlockers(cctx, conn)
			_ = conn.Close(cctx)
		}
		return le.Error() + "\n\n" + msg
	}
	if hint := pgclone.SourceHint(err); hint != "" {
		return hint + "\n\n" + msg
	}
	return msg
}
