package provider

import (
	"context"
	"errors"
	"fmt"
	"regexp"
	"slices"
	"strings"
	"time"

	"github.com/hashicorp/terraform-plugin-framework-validators/int64validator"
	"github.com/hashicorp/terraform-plugin-framework-validators/listvalidator"
	"github.com/hashicorp/terraform-plugin-framework-validators/resourcevalidator"
	"github.com/hashicorp/terraform-plugin-framework-validators/stringvalidator"
	"github.com/hashicorp/terraform-plugin-framework/attr"
	"github.com/hashicorp/terraform-plugin-framework/path"
	"github.com/hashicorp/terraform-plugin-framework/resource"
	"github.com/hashicorp/terraform-plugin-framework/resource/schema"
	"github.com/hashicorp/terraform-plugin-framework/resource/schema/int64default"
	"github.com/hashicorp/terraform-plugin-framework/resource/schema/listdefault"
	"github.com/hashicorp/terraform-plugin-framework/resource/schema/listplanmodifier"
	"github.com/hashicorp/terraform-plugin-framework/resource/schema/planmodifier"
	"github.com/hashicorp/terraform-plugin-framework/resource/schema/stringdefault"
	"github.com/hashicorp/terraform-plugin-framework/resource/schema/stringplanmodifier"
	"github.com/hashicorp/terraform-plugin-framework/schema/validator"
	"github.com/hashicorp/terraform-plugin-framework/types"
	"github.com/hashicorp/terraform-plugin-log/tflog"
	"github.com/jackc/pgx/v5"

	"github.com/stagingkit/terraform-provider-staging/internal/dsn"
	"github.com/stagingkit/terraform-provider-staging/internal/isolation"
	"github.com/stagingkit/terraform-provider-staging/internal/registry"
)

var (
	_ resource.ResourceWithConfigure        = (*postgresRoleResource)(nil)
	_ resource.ResourceWithModifyPlan       = (*postgresRoleResource)(nil)
	_ resource.ResourceWithImportState      = (*postgresRoleResource)(nil)
	_ resource.ResourceWithConfigValidators = (*postgresRoleResource)(nil)
)

func newPostgresRoleResource() resource.Resource { return &postgresRoleResource{} }

// postgresRoleResource is staging_postgres_role: a least-privileged login
// in a staging database, holding exactly its preset.
type postgresRoleResource struct{ data *providerData }

// What destroy does with the objects a role owns.
const (
	ownedReassign = "reassign"
	ownedDrop     = "drop"
)

// minRolePasswordLength is the shortest password_wo accepted.
const minRolePasswordLength = isolation.MinPasswordLength

type postgresRoleModel struct {
	ID                   types.String `tfsdk:"id"`
	Postgres             types.String `tfsdk:"postgres"`
	Name                 types.String `tfsdk:"name"`
	Environment          types.String `tfsdk:"environment"`
	Preset               types.String `tfsdk:"preset"`
	Schemas              types.List   `tfsdk:"schemas"`
	DefaultPrivilegesFor types.List   `tfsdk:"default_privileges_for"`
	ConnectionLimit      types.Int64  `tfsdk:"connection_limit"`
	ValidUntil           types.String `tfsdk:"valid_until"`
	PasswordWO           types.String `tfsdk:"password_wo"`
	PasswordWOVersion    types.Int64  `tfsdk:"password_wo_version"`
	OwnedOnDestroy       types.String `tfsdk:"owned_objects_on_destroy"`
	Database             types.String `tfsdk:"database"`
	Drift                types.List   `tfsdk:"drift"`
}

func (r *postgresRoleResource) Metadata(_ context.Context, req resource.MetadataRequest, resp *resource.MetadataResponse) {
	resp.TypeName = req.ProviderTypeName + "_postgres_role"
}

func (r *postgresRoleResource) Schema(_ context.Context, _ resource.SchemaRequest, resp *resource.SchemaResponse) {
	replace := []planmodifier.String{stringplanmodifier.RequiresReplace()}
	resp.Schema = schema.Schema{
		MarkdownDescription: "A least-privileged login role in a staging database, holding exactly the privileges of its `preset` on the listed " +
			"`schemas` — no more. The password is write-only (`password_wo`, Terraform 1.11 or newer): it never reaches the plan or the state, " +
			"and is sent to PostgreSQL as a SCRAM-SHA-256 verifier, so it does not appear in the server's statement log either. " +
			"Feed it from `staging_credential`, and rotate by bumping `password_wo_version`.\n\n" +
			"Every refresh reads the role's attributes, memberships and privileges (anywhere in the database, including default privileges) " +
			"and lists what differs from the preset in `drift`; the plan then shows an update that revokes what is extra and grants what is missing. " +
			"Changes to roles and grants in one database are serialised with an advisory lock, so parallel applies do not fail with " +
			"\"tuple concurrently updated\".\n\n" +
			"When the staging login is a superuser, the role also records its grants in the database's `" + isolation.GrantCatalogSchema + ".grants` table, " +
			"and an event trigger gives them again whenever a schema of that name is created or renamed into place — which is how " +
			"`staging_postgres_clone` swaps in a re-copy — so the role keeps its preset across re-copies. Without a superuser, a re-copy " +
			"leaves the role without privileges on the new copy until the next apply repairs the drift.",
		Attributes: map[string]schema.Attribute{
			"id": schema.StringAttribute{
				MarkdownDescription: "`<postgres>/<name>`.",
				Computed:            true,
				PlanModifiers:       []planmodifier.String{stringplanmodifier.UseStateForUnknown()},
			},
			"postgres": schema.StringAttribute{
				MarkdownDescription: "The provider `postgres` connection of the staging database; a connection with role `production` is refused at plan.",
				Required:            true,
				PlanModifiers:       replace,
			},
			"name": schema.StringAttribute{
				MarkdownDescription: "The role's name, at most 63 characters. With `environment` set it must start with the environment's `namespace` " +
					"followed by `_` or `-`, such as `\"${staging_environment.feature.namespace}_app\"`.",
				Required:      true,
				PlanModifiers: replace,
				Validators: []validator.String{
					stringvalidator.RegexMatches(regexp.MustCompile(`^[A-Za-z_][A-Za-z0-9_-]{0,62}$`),
						"must start with a letter or '_' and hold only letters, digits, '_' and '-' (at most 63 characters)"),
					stringvalidator.RegexMatches(regexp.MustCompile(`^(?i:[^p]|p[^g]|pg[^_])`), "must not start with \"pg_\", which PostgreSQL reserves"),
				},
			},
			"environment": schema.StringAttribute{
				MarkdownDescription: "The `staging_environment` the role belongs to. Its `namespace` must prefix `name`, and `valid_until` defaults to its `expires_at`.",
				Optional:            true,
				Validators:          nameValidators(),
			},
			"preset": schema.StringAttribute{
				MarkdownDescription: "The privileges on each listed schema: `read_only` (`USAGE` on the schema, `SELECT` on tables and sequences), " +
					"`read_write` (adds `INSERT`, `UPDATE`, `DELETE` on tables and `USAGE` on sequences) or `owner` (adds `CREATE` on the schema, " +
					"`TRUNCATE`, `REFERENCES` and `TRIGGER` on tables and `UPDATE` on sequences). Tables include views, materialized views, " +
					"partitioned and foreign tables. The same privileges are given as default privileges for tables and sequences that " +
					"`default_privileges_for` roles create later.",
				Required:   true,
				Validators: []validator.String{stringvalidator.OneOf(isolation.Presets...)},
			},
			"schemas": schema.ListAttribute{
				MarkdownDescription: "The schemas the preset covers. Default `[\"public\"]`. The provider's own catalogs (`stagingkit_roles`, `stagingkit_clone`) and the system schemas are refused. A schema that does not exist yet is covered once it does (when the grant catalog's trigger is installed, at once; otherwise at the next apply).",
				ElementType:         types.StringType,
				Optional:            true,
				Computed:            true,
				Default:             listdefault.StaticValue(types.ListValueMust(types.StringType, []attr.Value{types.StringValue("public")})),
				Validators: []validator.List{listvalidator.SizeAtLeast(1), listvalidator.UniqueValues(), listvalidator.ValueStringsAre(
					stringvalidator.LengthBetween(1, 63),
					// The catalogs the provider keeps in the database: a role
					// that could write the grant catalog could make the
					// re-grant trigger run its SQL as whoever re-copies.
					stringvalidator.NoneOf(isolation.GrantCatalogSchema, "stagingkit_clone", "information_schema", "pg_catalog", "pg_toast"))},
			},
			"default_privileges_for": schema.ListAttribute{
				MarkdownDescription: "The roles whose future tables and sequences in the schemas the role gets its preset on (`ALTER DEFAULT PRIVILEGES FOR ROLE …`): " +
					"whoever runs migrations and clones. Default: the connection's login.",
				ElementType:   types.StringType,
				Optional:      true,
				Computed:      true,
				PlanModifiers: []planmodifier.List{listplanmodifier.UseStateForUnknown()},
				Validators:    []validator.List{listvalidator.UniqueValues()},
			},
			"connection_limit": schema.Int64Attribute{
				MarkdownDescription: "The most concurrent sessions the role may open; -1 (default) for no limit.",
				Optional:            true,
				Computed:            true,
				Default:             int64default.StaticInt64(-1),
				Validators:          []validator.Int64{int64validator.AtLeast(-1)},
			},
			"valid_until": schema.StringAttribute{
				MarkdownDescription: "When the role's password stops working (RFC 3339). Defaults to the environment's `expires_at` when `environment` is set " +
					"(and follows it when the environment is extended), else never.",
				Optional:   true,
				Computed:   true,
				Validators: []validator.String{rfc3339Validator{}},
			},
			"password_wo": schema.StringAttribute{
				MarkdownDescription: fmt.Sprintf("The role's password, write-only: never in plan or state. At least %d characters of ASCII, such as "+
					"`ephemeral.staging_credential.<name>.value`. It is set when the role is created and whenever `password_wo_version` changes. "+
					"Without it the role has no password (for certificate or other authentication); removing it removes the password.", minRolePasswordLength),
				Optional:   true,
				Sensitive:  true,
				WriteOnly:  true,
				Validators: []validator.String{stringvalidator.LengthAtLeast(minRolePasswordLength)},
			},
			"password_wo_version": schema.Int64Attribute{
				MarkdownDescription: "Change it to set `password_wo` again (rotation): Terraform cannot see a write-only value change.",
				Optional:            true,
			},
			"owned_objects_on_destroy": schema.StringAttribute{
				MarkdownDescription: "What destroy does with the objects the role owns in the database: `reassign` (default) them to the connection's login, or `drop` them. " +
					"Either way its privileges are revoked and its sessions terminated before the role is dropped.",
				Optional:   true,
				Computed:   true,
				Default:    stringdefault.StaticString(ownedReassign),
				Validators: []validator.String{stringvalidator.OneOf(ownedReassign, ownedDrop)},
			},
			"database": schema.StringAttribute{
				MarkdownDescription: "The database the privileges are in.",
				Computed:            true,
				PlanModifiers:       []planmodifier.String{stringplanmodifier.UseStateForUnknown()},
			},
			"drift": schema.ListAttribute{
				MarkdownDescription: "What the last refresh found different from the preset (changed by hand): privileges lacking or beyond the preset, " +
					"memberships, role attributes. Always empty after an apply.",
				ElementType: types.StringType,
				Computed:    true,
			},
		},
	}
}

func (r *postgresRoleResource) ConfigValidators(context.Context) []resource.ConfigValidator {
	return []resource.ConfigValidator{
		resourcevalidator.RequiredTogether(path.MatchRoot("password_wo"), path.MatchRoot("password_wo_version")),
	}
}

func (r *postgresRoleResource) Configure(_ context.Context, req resource.ConfigureRequest, resp *resource.ConfigureResponse) {
	r.data = providerDataFrom(req.ProviderData, &resp.Diagnostics)
}

// ModifyPlan refuses a production connection, checks the name against the
// environment's namespace, plans valid_until from the environment's
// expiry and an empty drift.
func (r *postgresRoleResource) ModifyPlan(ctx context.Context, req resource.ModifyPlanRequest, resp *resource.ModifyPlanResponse) {
	if req.Plan.Raw.IsNull() || r.data == nil {
		return
	}
	var plan, cfg postgresRoleModel
	resp.Diagnostics.Append(req.Plan.Get(ctx, &plan)...)
	resp.Diagnostics.Append(req.Config.Get(ctx, &cfg)...)
	if resp.Diagnostics.HasError() {
		return
	}
	if !plan.Postgres.IsUnknown() {
		if _, ok := r.data.connection(plan.Postgres.ValueString(), path.Root("postgres"), true, &resp.Diagnostics); !ok {
			return
		}
	}
	var state *postgresRoleModel
	if !req.State.Raw.IsNull() {
		state = &postgresRoleModel{}
		resp.Diagnostics.Append(req.State.Get(ctx, state)...)
	}
	if cfg.ValidUntil.IsNull() {
		plan.ValidUntil = types.StringNull()
	}
	if !plan.Environment.IsNull() {
		env, known := r.environment(ctx, plan.Environment, &resp.Diagnostics)
		switch {
		case !known && cfg.ValidUntil.IsNull():
			plan.ValidUntil = types.StringUnknown()
		case known:
			checkNamespace(plan.Name, env, &resp.Diagnostics)
			if cfg.ValidUntil.IsNull() {
				plan.ValidUntil = timeString(env.ExpiresAt)
				if state != nil && sameInstant(state.ValidUntil, env.ExpiresAt) {
					plan.ValidUntil = state.ValidUntil
				}
			}
		}
	}
	plan.Drift = types.ListValueMust(types.StringType, nil)
	if state != nil && len(state.Drift.Elements()) > 0 {
		resp.Diagnostics.AddWarning("Staging Role Drift",
			fmt.Sprintf("Role %q was changed outside Terraform; this apply repairs it:\n- %s", state.Name.ValueString(), strings.Join(stringElems(state.Drift), "\n- ")))
	}
	resp.Diagnostics.Append(resp.Plan.Set(ctx, plan)...)
}

// environment looks the environment up in the registry; known is false
// when it is unknown or not registered yet (created by the same apply).
func (r *postgresRoleResource) environment(ctx context.Context, name types.String, diags *diagnostics) (registry.Environment, bool) {
	if name.IsUnknown() || name.IsNull() {
		return registry.Environment{}, false
	}
	store := r.data.openStore(ctx, diags)
	if store == nil {
		return registry.Environment{}, false
	}
	env, err := store.GetEnvironment(ctx, name.ValueString())
	if errors.Is(err, registry.ErrNotFound) {
		return registry.Environment{}, false
	}
	if err != nil {
		addRegistryError(diags, "Error Reading Staging Environment", err)
		return registry.Environment{}, false
	}
	return env, true
}

// checkNamespace requires the role's name to start with the
// environment's namespace.
func checkNamespace(name types.String, env registry.Environment, diags *diagnostics) {
	if name.IsUnknown() || env.Namespace == "" {
		return
	}
	n := name.ValueString()
	if !strings.HasPrefix(n, env.Namespace+"_") && !strings.HasPrefix(n, env.Namespace+"-") {
		diags.AddAttributeError(path.Root("name"), "Role Outside the Environment's Namespace",
			fmt.Sprintf("Role %q belongs to environment %q, whose namespace is %q: its name must start with %q or %q, "+
				"such as name = \"${staging_environment.<name>.namespace}_app\".", n, env.Name, env.Namespace, env.Namespace+"_", env.Namespace+"-"))
	}
}

// sameInstant reports whether an RFC 3339 attribute denotes t.
func sameInstant(s types.String, t time.Time) bool {
	if s.IsNull() || s.IsUnknown() {
		return t.IsZero() && s.IsNull()
	}
	got, err := time.Parse(time.RFC3339, s.ValueString())
	return err == nil && got.Equal(t)
}

// stringElems returns a list of strings' elements.
func stringElems(l types.List) []string {
	var out []string
	for _, v := range l.Elements() {
		if s, ok := v.(types.String); ok {
			out = append(out, s.ValueString())
		}
	}
	return out
}

// domainRole builds the isolation role from a plan or state.
func (m postgresRoleModel) domainRole(diags *diagnostics) isolation.Role {
	role := isolation.Role{
		Name: m.Name.ValueString(), Preset: m.Preset.ValueString(),
		Schemas: stringElems(m.Schemas), DefaultFor: stringElems(m.DefaultPrivilegesFor),
		ConnectionLimit: int(m.ConnectionLimit.ValueInt64()),
	}
	if !m.ValidUntil.IsNull() && !m.ValidUntil.IsUnknown() {
		t, err := time.Parse(time.RFC3339, m.ValidUntil.ValueString())
		if err != nil {
			diags.AddAttributeError(path.Root("valid_until"), "Invalid Expiry", err.Error())
		}
		role.ValidUntil = t
	}
	return role
}

// session connects to the role's staging connection.
func (r *postgresRoleResource) session(ctx context.Context, m postgresRoleModel, summary string, diags *diagnostics) (*pgx.Conn, pgConnection, bool) {
	c, ok := r.data.connection(m.Postgres.ValueString(), path.Root("postgres"), true, diags)
	if !ok {
		return nil, c, false
	}
	conn, err := c.connect(ctx)
	if err != nil {
		diags.AddAttributeError(path.Root("postgres"), summary, "Check that the server is reachable and the credentials of the connection are right.\n\n"+err.Error())
		return nil, c, false
	}
	return conn, c, true
}

func (r *postgresRoleResource) Create(ctx context.Context, req resource.CreateRequest, resp *resource.CreateResponse) {
	var plan postgresRoleModel
	resp.Diagnostics.Append(req.Plan.Get(ctx, &plan)...)
	if resp.Diagnostics.HasError() {
		return
	}
	r.apply(ctx, req.Config, &plan, true, "Error Creating Staging PostgreSQL Role", &resp.Diagnostics)
	if resp.Diagnostics.HasError() {
		return
	}
	resp.Diagnostics.Append(resp.State.Set(ctx, plan)...)
}

func (r *postgresRoleResource) Update(ctx context.Context, req resource.UpdateRequest, resp *resource.UpdateResponse) {
	var plan, state postgresRoleModel
	resp.Diagnostics.Append(req.Plan.Get(ctx, &plan)...)
	resp.Diagnostics.Append(req.State.Get(ctx, &state)...)
	if resp.Diagnostics.HasError() {
		return
	}
	setPassword := !plan.PasswordWOVersion.Equal(state.PasswordWOVersion)
	r.apply(ctx, req.Config, &plan, setPassword, "Error Updating Staging PostgreSQL Role", &resp.Diagnostics)
	if resp.Diagnostics.HasError() {
		return
	}
	resp.Diagnostics.Append(resp.State.Set(ctx, plan)...)
}

// configLike is the configuration of a create or update request.
type configLike interface {
	GetAttribute(ctx context.Context, p path.Path, target any) diagnostics
}

// apply makes the database hold the planned role, setting the password
// from the configuration when setPassword, and completes the plan's
// computed values.
func (r *postgresRoleResource) apply(ctx context.Context, cfg configLike, plan *postgresRoleModel, setPassword bool, summary string, diags *diagnostics) {
	if plan.Environment.ValueString() != "" {
		// Checked again here: at plan the environment may not have been
		// registered yet.
		env, known := r.environment(ctx, plan.Environment, diags)
		if !known {
			if !diags.HasError() {
				diags.AddAttributeError(path.Root("environment"), "Staging Environment Not Found",
					fmt.Sprintf("Environment %q is not in the registry. Create it with a staging_environment resource and refer to its name, so that it exists first.", plan.Environment.ValueString()))
			}
			return
		}
		if checkNamespace(plan.Name, env, diags); diags.HasError() {
			return
		}
		if plan.ValidUntil.IsUnknown() {
			plan.ValidUntil = timeString(env.ExpiresAt)
		}
	}
	// Without password_wo, setting the password removes it.
	password := isolation.PasswordChange{Set: setPassword}
	if setPassword {
		var pw types.String
		diags.Append(cfg.GetAttribute(ctx, path.Root("password_wo"), &pw)...)
		if !pw.IsNull() && !pw.IsUnknown() {
			v, err := isolation.SCRAMVerifier(pw.ValueString())
			if err != nil {
				diags.AddAttributeError(path.Root("password_wo"), "Invalid Role Password", err.Error()+".")
				return
			}
			password.Verifier = v
		}
	}
	conn, c, ok := r.session(ctx, *plan, summary, diags)
	if !ok {
		return
	}
	defer conn.Close(context.WithoutCancel(ctx))
	if plan.DefaultPrivilegesFor.IsUnknown() {
		var login string
		if err := conn.QueryRow(ctx, "SELECT current_user").Scan(&login); err != nil {
			diags.AddError(summary, dsn.Scrub(err, c.dsn).Error())
			return
		}
		plan.DefaultPrivilegesFor = types.ListValueMust(types.StringType, []attr.Value{types.StringValue(login)})
	}
	role := plan.domainRole(diags)
	if diags.HasError() {
		return
	}
	reg := isolation.Registration{Environment: plan.Environment.ValueString(), PasswordWOVersion: plan.PasswordWOVersion.ValueInt64()}
	err := pgx.BeginFunc(ctx, conn, func(tx pgx.Tx) error { return isolation.ApplyRole(ctx, tx, role, reg, password) })
	if err != nil {
		diags.AddError(summary, fmt.Sprintf("Role %q on connection %q: %s", role.Name, c.name, dsn.Scrub(err, c.dsn)))
		return
	}
	if has, err := isolation.HasRegrant(ctx, conn); err == nil && !has {
		diags.AddWarning("Staging Role Grants Not Kept Across Re-copies",
			fmt.Sprintf("Role %q holds its preset now, but %s. Give the connection a superuser login once to install the trigger, or re-apply after each re-copy.", role.Name, isolation.ErrNoRegrant))
	}
	var db string
	if err := conn.QueryRow(ctx, "SELECT current_database()").Scan(&db); err != nil {
		diags.AddError(summary, dsn.Scrub(err, c.dsn).Error())
		return
	}
	plan.ID = types.StringValue(plan.Postgres.ValueString() + "/" + role.Name)
	plan.Database = types.StringValue(db)
	plan.Drift = types.ListValueMust(types.StringType, nil)
	tflog.Debug(ctx, "applied staging role", map[string]any{"role": role.Name, "preset": role.Preset, "password_changed": password.Set})
}

// Read refreshes the role: gone means removed from state; otherwise its
// limits, expiry and drift from the preset. An imported role recovers its
// configuration from its registration comment, or from its privileges.
func (r *postgresRoleResource) Read(ctx context.Context, req resource.ReadRequest, resp *resource.ReadResponse) {
	var m postgresRoleModel
	resp.Diagnostics.Append(req.State.Get(ctx, &m)...)
	if resp.Diagnostics.HasError() || r.data == nil {
		return
	}
	const summary = "Error Reading Staging PostgreSQL Role"
	conn, c, ok := r.session(ctx, m, summary, &resp.Diagnostics)
	if !ok {
		return
	}
	defer conn.Close(context.WithoutCancel(ctx))
	st, err := isolation.ReadRole(ctx, conn, m.Name.ValueString(), stringElems(m.Schemas))
	if err != nil {
		resp.Diagnostics.AddError(summary, dsn.Scrub(err, c.dsn).Error())
		return
	}
	if !st.Exists {
		tflog.Info(ctx, "staging role is gone; removing it from state", map[string]any{"role": m.Name.ValueString()})
		resp.State.RemoveResource(ctx)
		return
	}
	if m.Preset.IsNull() { // import
		r.adopt(&m, st)
	}
	m.ConnectionLimit = types.Int64Value(int64(st.Attributes.ConnectionLimit))
	if !sameInstant(m.ValidUntil, st.Attributes.ValidUntil) {
		m.ValidUntil = timeString(st.Attributes.ValidUntil)
	}
	m.Database = types.StringValue(st.Database)
	drift, err := st.Drift(m.domainRole(&resp.Diagnostics))
	if err != nil {
		resp.Diagnostics.AddAttributeError(path.Root("preset"), summary, err.Error())
		return
	}
	m.Drift = listOfStrings(drift)
	resp.Diagnostics.Append(resp.State.Set(ctx, m)...)
}

// adopt fills an imported role's configuration from its registration, or
// infers it from its privileges.
func (r *postgresRoleResource) adopt(m *postgresRoleModel, st isolation.RoleState) {
	m.ID = types.StringValue(m.Postgres.ValueString() + "/" + m.Name.ValueString())
	m.OwnedOnDestroy = types.StringValue(ownedReassign)
	m.Drift = types.ListValueMust(types.StringType, nil)
	if st.Registered {
		reg := st.Registration
		m.Preset, m.Schemas = types.StringValue(reg.Preset), listOfStrings(reg.Schemas)
		m.DefaultPrivilegesFor = listOfStrings(reg.DefaultFor)
		if reg.Environment != "" {
			m.Environment = types.StringValue(reg.Environment)
		}
		if reg.PasswordWOVersion != 0 {
			m.PasswordWOVersion = types.Int64Value(reg.PasswordWOVersion)
		}
		return
	}
	var schemas, creators []string
	for _, p := range st.Privileges {
		if p.Kind == isolation.KindSchema && p.Privilege == "USAGE" {
			schemas = append(schemas, p.Schema)
		}
		if p.Kind == isolation.KindDefaultTable && p.Schema != "" && !slices.Contains(creators, p.Object) {
			creators = append(creators, p.Object)
		}
	}
	m.Preset, m.Schemas, m.DefaultPrivilegesFor = types.StringValue(isolation.InferPreset(st.Privileges)), listOfStrings(schemas), listOfStrings(creators)
}

// listOfStrings is a list value of strings (empty, not null, for none).
func listOfStrings(ss []string) types.List {
	vs := make([]attr.Value, len(ss))
	for i, s := range ss {
		vs[i] = types.StringValue(s)
	}
	return types.ListValueMust(types.StringType, vs)
}

// Delete terminates the role's sessions, reassigns or drops what it owns,
// revokes its privileges and drops it.
func (r *postgresRoleResource) Delete(ctx context.Context, req resource.DeleteRequest, resp *resource.DeleteResponse) {
	var m postgresRoleModel
	resp.Diagnostics.Append(req.State.Get(ctx, &m)...)
	if resp.Diagnostics.HasError() {
		return
	}
	const summary = "Error Deleting Staging PostgreSQL Role"
	conn, c, ok := r.session(ctx, m, summary, &resp.Diagnostics)
	if !ok {
		return
	}
	defer conn.Close(context.WithoutCancel(ctx))
	var terminated int
	err := pgx.BeginFunc(ctx, conn, func(tx pgx.Tx) error {
		var err error
		terminated, err = isolation.DropRole(ctx, tx, m.Name.ValueString(), m.OwnedOnDestroy.ValueString() == ownedDrop)
		return err
	})
	if err != nil {
		resp.Diagnostics.AddError(summary, fmt.Sprintf("Role %q on connection %q: %s", m.Name.ValueString(), c.name, dsn.Scrub(err, c.dsn)))
		return
	}
	tflog.Info(ctx, "dropped staging role", map[string]any{"role": m.Name.ValueString(), "sessions_terminated": terminated})
}

// ImportState takes `<postgres>/<name>`.
func (r *postgresRoleResource) ImportState(ctx context.Context, req resource.ImportStateRequest, resp *resource.ImportStateResponse) {
	conn, name, ok := strings.Cut(req.ID, "/")
	if !ok || conn == "" || name == "" {
		resp.Diagnostics.AddError("Invalid Import ID",
			fmt.Sprintf("Import a staging role as <postgres connection>/<role name>, such as staging/pay-x-abc123_app; got %q.", req.ID))
		return
	}
	resp.Diagnostics.Append(resp.State.SetAttribute(ctx, path.Root("postgres"), conn)...)
	resp.Diagnostics.Append(resp.State.SetAttribute(ctx, path.Root("name"), name)...)
	resp.Diagnostics.Append(resp.State.SetAttribute(ctx, path.Root("id"), req.ID)...)
}

// rfc3339Validator checks RFC 3339 timestamps.
type rfc3339Validator struct{}

var _ validator.String = rfc3339Validator{}

func (rfc3339Validator) Description(context.Context) string {
	return "must be an RFC 3339 timestamp such as \"2026-12-31T18:00:00Z\""
}

func (v rfc3339Validator) MarkdownDescription(ctx context.Context) string { return v.Description(ctx) }

func (rfc3339Validator) ValidateString(_ context.Context, req validator.StringRequest, resp *validator.StringResponse) {
	if req.ConfigValue.IsNull() || req.ConfigValue.IsUnknown() {
		return
	}
	if _, err := time.Parse(time.RFC3339, req.ConfigValue.ValueString()); err != nil {
		resp.Diagnostics.AddAttributeError(req.Path, "Invalid Timestamp",
			fmt.Sprintf("%s must be an RFC 3339 timestamp such as \"2026-12-31T18:00:00Z\"; got %q.", req.Path, req.ConfigValue.ValueString()))
	}
}
