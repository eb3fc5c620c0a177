package provider

import (
	"context"
	"crypto/rand"
	"encoding/hex"
	"encoding/json"
	"errors"
	"fmt"
	"maps"
	"net"
	"slices"
	"strings"
	"time"

	"github.com/hashicorp/terraform-plugin-framework-validators/stringvalidator"
	"github.com/hashicorp/terraform-plugin-framework/attr"
	"github.com/hashicorp/terraform-plugin-framework/path"
	"github.com/hashicorp/terraform-plugin-framework/resource"
	"github.com/hashicorp/terraform-plugin-framework/resource/schema"
	"github.com/hashicorp/terraform-plugin-framework/resource/schema/booldefault"
	"github.com/hashicorp/terraform-plugin-framework/resource/schema/planmodifier"
	"github.com/hashicorp/terraform-plugin-framework/resource/schema/stringdefault"
	"github.com/hashicorp/terraform-plugin-framework/resource/schema/stringplanmodifier"
	"github.com/hashicorp/terraform-plugin-framework/schema/validator"
	"github.com/hashicorp/terraform-plugin-framework/types"
	"github.com/hashicorp/terraform-plugin-log/tflog"
	"github.com/jackc/pgx/v5/pgconn"

	"github.com/stagingkit/terraform-provider-staging/internal/dsn"
	"github.com/stagingkit/terraform-provider-staging/internal/isolation"
	"github.com/stagingkit/terraform-provider-staging/internal/registry"
)

var (
	_ resource.ResourceWithConfigure      = (*isolationCheckResource)(nil)
	_ resource.ResourceWithModifyPlan     = (*isolationCheckResource)(nil)
	_ resource.ResourceWithValidateConfig = (*isolationCheckResource)(nil)
)

func newIsolationCheckResource() resource.Resource { return &isolationCheckResource{} }

// isolationCheckResource is staging_isolation_check: proof, at every plan,
// that staging does not hold, equal or reach production. It manages no
// remote object; its state is the last report.
type isolationCheckResource struct{ data *providerData }

type isolationCheckModel struct {
	ID                           types.String `tfsdk:"id"`
	Environment                  types.String `tfsdk:"environment"`
	ConfigWO                     types.Map    `tfsdk:"config_wo"`
	ProductionHosts              types.List   `tfsdk:"production_hosts"`
	IncludeProductionConnections types.Bool   `tfsdk:"include_production_connections"`
	ProductionCIDRs              types.List   `tfsdk:"production_cidrs"`
	ProductionSecretFingerprints types.Map    `tfsdk:"production_secret_fingerprints"`
	DefaultForbiddenFlags        types.Bool   `tfsdk:"default_forbidden_flags"`
	ForbiddenFlags               types.List   `tfsdk:"forbidden_flag"`
	MaskingKeyWO                 types.String `tfsdk:"masking_key_wo"`
	Postgres                     types.String `tfsdk:"postgres"`
	ProbeProduction              types.String `tfsdk:"probe_production"`
	ProbeUser                    types.String `tfsdk:"probe_user"`
	ProbePasswordWO              types.String `tfsdk:"probe_password_wo"`
	ProbeTimeout                 types.String `tfsdk:"probe_timeout"`
	Enforce                      types.Bool   `tfsdk:"enforce"`
	Findings                     types.List   `tfsdk:"findings"`
	Report                       types.String `tfsdk:"report"`
	CheckedAt                    types.String `tfsdk:"checked_at"`
}

type forbiddenFlagModel struct {
	Name     types.String `tfsdk:"name"`
	Key      types.String `tfsdk:"key"`
	Values   types.List   `tfsdk:"values"`
	Contains types.String `tfsdk:"contains"`
	Reason   types.String `tfsdk:"reason"`
}

// findingType is the element type of findings.
var findingType = types.ObjectType{AttrTypes: map[string]attr.Type{
	"kind": types.StringType, "key": types.StringType, "message": types.StringType, "inconclusive": types.BoolType,
}}

// defaultProbeTimeout bounds the live probe unless probe_timeout says.
const defaultProbeTimeout = "5s"

func (r *isolationCheckResource) Metadata(_ context.Context, req resource.MetadataRequest, resp *resource.MetadataResponse) {
	resp.TypeName = req.ProviderTypeName + "_isolation_check"
}

func (r *isolationCheckResource) Schema(_ context.Context, _ resource.SchemaRequest, resp *resource.SchemaResponse) {
	var flags []string
	for _, f := range isolation.DefaultForbiddenFlags() {
		flags = append(flags, "`"+f.Name+"`")
	}
	resp.Schema = schema.Schema{
		MarkdownDescription: "Proves, at every plan, that staging does not hold, equal or reach production. Each finding is one error naming a " +
			"configuration key or a database object and what it matched — never the value:\n\n" +
			"- `production_host`, `production_url`, `production_dsn`, `production_ip`: a value of `config_wo` names a production host " +
			"(`production_hosts` and the hosts of the provider's `production` connections) or an address inside `production_cidrs`;\n" +
			"- `production_secret`: a value whose Argon2id fingerprint equals one of `production_secret_fingerprints`;\n" +
			"- `forbidden_flag`: a setting such as `LIVE_PAYMENTS = \"true\"` or a live payment endpoint (`forbidden_flag` blocks, and defaults);\n" +
			"- `masking_key`, `credential_root_secret`: the masking key or the credential root secret inside the configuration;\n" +
			"- `foreign_server`, `user_mapping`, `dblink`, `subscription`: the staging database (`postgres`) holds a path back to production;\n" +
			"- `production_login`: the live probe logged in to production with staging's credentials.\n\n" +
			"The check runs in every plan in which its inputs are known, and again at apply. With `enforce = false` findings are warnings " +
			"and are kept in `findings` and `report`. Findings that cannot be decided — production unreachable from where Terraform runs, " +
			"a catalog the login may not read — are warnings of kind `inconclusive`, never a pass. Linked to an `environment`, every apply " +
			"writes the report to the registry's audit log. The check manages no remote object.",
		Attributes: map[string]schema.Attribute{
			"id": schema.StringAttribute{
				MarkdownDescription: "A random identifier given at creation.",
				Computed:            true,
				PlanModifiers:       []planmodifier.String{stringplanmodifier.UseStateForUnknown()},
			},
			"environment": schema.StringAttribute{
				MarkdownDescription: "The `staging_environment` checked; when set, every apply writes the report to the registry's audit log (action `check`, object type `isolation_check`).",
				Optional:            true,
				Validators:          nameValidators(),
			},
			"config_wo": schema.MapAttribute{
				MarkdownDescription: "Staging's configuration, key → value (environment variables, application settings, module inputs). Write-only: " +
					"never in plan or state (Terraform 1.11 or newer); findings name keys, never values.",
				ElementType: types.StringType,
				Optional:    true,
				Sensitive:   true,
				WriteOnly:   true,
			},
			"production_hosts": schema.ListAttribute{
				MarkdownDescription: "Production hosts: names, IP addresses, `*.domain` (subdomains) or `.domain` (the domain and its subdomains), optionally with `:port`.",
				ElementType:         types.StringType,
				Optional:            true,
			},
			"include_production_connections": schema.BoolAttribute{
				MarkdownDescription: "Also treat the host and port of every provider `postgres` connection with role `production` as a production host. Default `true`.",
				Optional:            true,
				Computed:            true,
				Default:             booldefault.StaticBool(true),
			},
			"production_cidrs": schema.ListAttribute{
				MarkdownDescription: "Production networks, such as `10.20.0.0/16` or `2001:db8::/32` (a bare address means just it).",
				ElementType:         types.StringType,
				Optional:            true,
			},
			"production_secret_fingerprints": schema.MapAttribute{
				MarkdownDescription: "Production secrets' fingerprints, name → `provider::staging::secret_fingerprint(secret, salt)` as production publishes them. " +
					"Every value of `config_wo` is hashed with each distinct salt and compared; the production secret itself is never an input.",
				ElementType: types.StringType,
				Optional:    true,
			},
			"default_forbidden_flags": schema.BoolAttribute{
				MarkdownDescription: "Apply the built-in forbidden flags too: " + strings.Join(flags, ", ") + ". Default `true`.",
				Optional:            true,
				Computed:            true,
				Default:             booldefault.StaticBool(true),
			},
			"masking_key_wo": schema.StringAttribute{
				MarkdownDescription: "The masking key, write-only, to make sure staging's configuration does not hold it. Default: the provider's `masking_key`. " +
					"The provider's `credential_root_secret` is always looked for too.",
				Optional:  true,
				Sensitive: true,
				WriteOnly: true,
			},
			"postgres": schema.StringAttribute{
				MarkdownDescription: "A provider connection (role `staging`) to the staging database, to look for foreign servers, user mappings, " +
					"`dblink` connection strings in functions and views, and subscriptions that point at production.",
				Optional: true,
			},
			"probe_production": schema.StringAttribute{
				MarkdownDescription: "A provider connection with role `production`: the live probe tries to log in to its server and database " +
					"as `probe_user` with `probe_password_wo` (staging's credentials), and passes only when production's authentication refuses them. " +
					"The production connection's own credentials are not used. The probe runs from where Terraform runs, not from staging's network: " +
					"unreachable is inconclusive, never a pass.",
				Optional: true,
			},
			"probe_user": schema.StringAttribute{
				MarkdownDescription: "The staging login the probe presents to production, such as `staging_postgres_role.app.name`.",
				Optional:            true,
			},
			"probe_password_wo": schema.StringAttribute{
				MarkdownDescription: "The staging password the probe presents, write-only, such as `ephemeral.staging_credential.db.value`.",
				Optional:            true,
				Sensitive:           true,
				WriteOnly:           true,
			},
			"probe_timeout": schema.StringAttribute{
				MarkdownDescription: "How long the probe waits for production, such as `3s`. Default `" + defaultProbeTimeout + "`.",
				Optional:            true,
				Computed:            true,
				Default:             stringdefault.StaticString(defaultProbeTimeout),
				Validators:          []validator.String{durationValidator{}},
			},
			"enforce": schema.BoolAttribute{
				MarkdownDescription: "Fail the plan on findings (default `true`); `false` reports them as warnings and keeps them in state.",
				Optional:            true,
				Computed:            true,
				Default:             booldefault.StaticBool(true),
			},
			"findings": schema.ListAttribute{
				MarkdownDescription: "The findings, each `{ kind, key, message, inconclusive }`. With `enforce = true` only inconclusive ones can reach state.",
				ElementType:         findingType,
				Computed:            true,
			},
			"report": schema.StringAttribute{
				MarkdownDescription: "The report as JSON: the configuration keys checked, the findings, whether the database was scanned and the probe's outcome (`refused`, `accepted`, `inconclusive` or `not run`).",
				Computed:            true,
			},
			"checked_at": schema.StringAttribute{
				MarkdownDescription: "When the check last ran at apply (RFC 3339).",
				Computed:            true,
			},
		},
		Blocks: map[string]schema.Block{
			"forbidden_flag": schema.ListNestedBlock{
				MarkdownDescription: "A setting staging must not have. It matches keys by `key` and values by `values` or `contains`; with neither, the key being present is enough.",
				NestedObject: schema.NestedBlockObject{Attributes: map[string]schema.Attribute{
					"name": schema.StringAttribute{
						MarkdownDescription: "Names the flag in findings.",
						Required:            true,
						Validators:          []validator.String{stringvalidator.LengthAtLeast(1)},
					},
					"key": schema.StringAttribute{
						MarkdownDescription: "The keys it applies to, a case-insensitive glob (`*` any characters, `?` one). Default `*`.",
						Optional:            true,
					},
					"values": schema.ListAttribute{
						MarkdownDescription: "Forbidden values (case-insensitive, trimmed), such as `[\"true\", \"1\"]`.",
						ElementType:         types.StringType,
						Optional:            true,
					},
					"contains": schema.StringAttribute{
						MarkdownDescription: "A forbidden part of a value (case-insensitive), such as a live endpoint's host.",
						Optional:            true,
					},
					"reason": schema.StringAttribute{
						MarkdownDescription: "Why it is forbidden, shown in the finding.",
						Optional:            true,
					},
				}},
			},
		},
	}
}

func (r *isolationCheckResource) Configure(_ context.Context, req resource.ConfigureRequest, resp *resource.ConfigureResponse) {
	r.data = providerDataFrom(req.ProviderData, &resp.Diagnostics)
}

// ValidateConfig checks the production inventory and the probe's
// settings, naming the attribute at fault.
func (r *isolationCheckResource) ValidateConfig(ctx context.Context, req resource.ValidateConfigRequest, resp *resource.ValidateConfigResponse) {
	var m isolationCheckModel
	resp.Diagnostics.Append(req.Config.Get(ctx, &m)...)
	if resp.Diagnostics.HasError() {
		return
	}
	productionInventory(ctx, m, &resp.Diagnostics)
	if !m.ProbeProduction.IsNull() && !m.ProbeProduction.IsUnknown() && m.ProbeUser.IsNull() {
		resp.Diagnostics.AddAttributeError(path.Root("probe_user"), "Missing Probe Login",
			"probe_production is set, so the live probe needs the staging login to present: set probe_user (and probe_password_wo).")
	}
}

// productionInventory parses the declared production hosts, networks and
// fingerprints; known is false while one is unknown.
func productionInventory(ctx context.Context, m isolationCheckModel, diags *diagnostics) (prod isolation.Production, known bool) {
	if m.ProductionHosts.IsUnknown() || m.ProductionCIDRs.IsUnknown() || m.ProductionSecretFingerprints.IsUnknown() {
		return prod, false
	}
	known = true
	var hosts, cidrs []types.String
	var fps map[string]types.String
	diags.Append(m.ProductionHosts.ElementsAs(ctx, &hosts, false)...)
	diags.Append(m.ProductionCIDRs.ElementsAs(ctx, &cidrs, false)...)
	diags.Append(m.ProductionSecretFingerprints.ElementsAs(ctx, &fps, false)...)
	for i, h := range hosts {
		if h.IsUnknown() {
			known = false
			continue
		}
		p, err := isolation.ParseHostPattern(h.ValueString(), fmt.Sprintf("production_hosts[%d]", i))
		if err != nil {
			diags.AddAttributeError(path.Root("production_hosts").AtListIndex(i), "Invalid Production Host", err.Error()+
				`: give a name such as "db.prod.example.com", an IP address, "*.prod.example.com" for its subdomains, or any of them with ":port".`)
			continue
		}
		prod.Hosts = append(prod.Hosts, p)
	}
	for i, c := range cidrs {
		if c.IsUnknown() {
			known = false
			continue
		}
		p, err := isolation.ParseCIDR(c.ValueString())
		if err != nil {
			diags.AddAttributeError(path.Root("production_cidrs").AtListIndex(i), "Invalid Production CIDR", err.Error()+".")
			continue
		}
		prod.CIDRs = append(prod.CIDRs, isolation.CIDR{Prefix: p, Source: fmt.Sprintf("production_cidrs[%d]", i)})
	}
	for _, n := range slices.Sorted(maps.Keys(fps)) {
		if fps[n].IsUnknown() {
			known = false
			continue
		}
		f, err := isolation.ParseFingerprint(fps[n].ValueString())
		if err != nil {
			diags.AddAttributeError(path.Root("production_secret_fingerprints").AtMapKey(n), "Invalid Production Secret Fingerprint", err.Error()+".")
			continue
		}
		prod.Fingerprints = append(prod.Fingerprints, isolation.NamedFingerprint{Name: n, Fingerprint: f})
	}
	return prod, known
}

// checkResult is one run of the check.
type checkResult struct {
	findings []isolation.Finding
	report   string
}

// isolationReport is the JSON of report.
type isolationReport struct {
	Keys     []string            `json:"keys"`
	Findings []isolation.Finding `json:"findings"`
	Database string              `json:"database"`
	Probe    string              `json:"probe"`
	Passed   bool                `json:"passed"`
}

// evaluate runs the check on the configuration (write-only values are
// only there). known is false when an input is not known yet.
func (r *isolationCheckResource) evaluate(ctx context.Context, m isolationCheckModel, diags *diagnostics) (checkResult, bool) {
	prod, known := productionInventory(ctx, m, diags)
	if diags.HasError() || !known || m.ConfigWO.IsUnknown() || m.MaskingKeyWO.IsUnknown() || m.Postgres.IsUnknown() ||
		m.ProbeProduction.IsUnknown() || m.ProbeUser.IsUnknown() || m.ProbePasswordWO.IsUnknown() || m.ForbiddenFlags.IsUnknown() {
		return checkResult{}, false
	}
	cfg := map[string]string{}
	for k, v := range m.ConfigWO.Elements() {
		s, ok := v.(types.String)
		if !ok || s.IsUnknown() {
			return checkResult{}, false
		}
		cfg[k] = s.ValueString()
	}
	if m.IncludeProductionConnections.IsNull() || m.IncludeProductionConnections.ValueBool() {
		prod.Hosts = append(prod.Hosts, r.connectionHosts()...)
	}
	flags, ok := forbiddenFlags(ctx, m, diags)
	if !ok {
		return checkResult{}, false
	}
	secrets := []isolation.NamedSecret{{Kind: isolation.FindingRootSecret, Name: "the provider's credential_root_secret", Value: string(r.data.credentialRoot)}}
	key := r.data.maskingKey
	if !m.MaskingKeyWO.IsNull() {
		key = m.MaskingKeyWO.ValueString()
	}
	secrets = append(secrets, isolation.NamedSecret{Kind: isolation.FindingMaskingKey, Name: "the masking key", Value: key})
	findings := isolation.CheckConfig(cfg, isolation.ConfigCheck{Production: prod, Flags: flags, Secrets: secrets})
	rep := isolationReport{Keys: slices.Sorted(maps.Keys(cfg)), Database: "not scanned", Probe: "not run"}
	if !m.Postgres.IsNull() {
		fs, ok := r.scanDatabase(ctx, m.Postgres.ValueString(), prod, diags)
		if !ok {
			return checkResult{}, false
		}
		findings, rep.Database = append(findings, fs...), "scanned"
	}
	if !m.ProbeProduction.IsNull() {
		f, outcome, ok := r.probe(ctx, m, diags)
		if !ok {
			return checkResult{}, false
		}
		rep.Probe = string(outcome)
		if f != nil {
			findings = append(findings, *f)
		}
	}
	isolation.SortFindings(findings)
	rep.Findings = findings
	if rep.Findings == nil {
		rep.Findings = []isolation.Finding{}
	}
	rep.Passed = !slices.ContainsFunc(findings, func(f isolation.Finding) bool { return !f.Inconclusive })
	js, err := json.Marshal(rep)
	if err != nil {
		diags.AddError("Error Encoding Staging Isolation Report", err.Error()+"\n\nPlease report this issue to the provider developers.")
		return checkResult{}, false
	}
	return checkResult{findings: findings, report: string(js)}, true
}

// connectionHosts are the host patterns of the provider's production
// connections.
func (r *isolationCheckResource) connectionHosts() []isolation.HostPattern {
	var out []isolation.HostPattern
	for _, name := range slices.Sorted(maps.Keys(r.data.conns)) {
		c := r.data.conns[name]
		if c.role != roleProduction || c.unknown {
			continue
		}
		cfg, err := pgconn.ParseConfig(c.dsn)
		if err != nil {
			continue // the connection's own use reports it
		}
		src := fmt.Sprintf("the host of production connection %q", name)
		add := func(host string, port uint16) {
			if strings.HasPrefix(host, "/") {
				return // a Unix socket
			}
			if p, err := isolation.ParseHostPattern(fmt.Sprintf("[%s]:%d", host, port), src); err == nil {
				out = append(out, p)
			}
		}
		add(cfg.Host, cfg.Port)
		for _, fb := range cfg.Fallbacks {
			add(fb.Host, fb.Port)
		}
	}
	return out
}

// forbiddenFlags returns the defaults (unless turned off) and the
// declared flags.
func forbiddenFlags(ctx context.Context, m isolationCheckModel, diags *diagnostics) ([]isolation.ForbiddenFlag, bool) {
	var flags []isolation.ForbiddenFlag
	if m.DefaultForbiddenFlags.IsNull() || m.DefaultForbiddenFlags.ValueBool() {
		flags = isolation.DefaultForbiddenFlags()
	}
	var models []forbiddenFlagModel
	diags.Append(m.ForbiddenFlags.ElementsAs(ctx, &models, false)...)
	for _, fm := range models {
		if fm.Key.IsUnknown() || fm.Values.IsUnknown() || fm.Contains.IsUnknown() || fm.Name.IsUnknown() {
			return nil, false
		}
		f := isolation.ForbiddenFlag{Name: fm.Name.ValueString(), Key: "*", Contains: fm.Contains.ValueString(), Reason: fm.Reason.ValueString()}
		if !fm.Key.IsNull() {
			f.Key = fm.Key.ValueString()
		}
		diags.Append(fm.Values.ElementsAs(ctx, &f.Values, false)...)
		flags = append(flags, f)
	}
	return flags, !diags.HasError()
}

// scanDatabase looks for paths back to production in the staging
// database of connection name.
func (r *isolationCheckResource) scanDatabase(ctx context.Context, name string, prod isolation.Production, diags *diagnostics) ([]isolation.Finding, bool) {
	at := path.Root("postgres")
	c, ok := r.data.connection(name, at, false, diags)
	if !ok {
		return nil, false
	}
	if c.role != roleStaging {
		diags.AddAttributeError(at, "Staging Connection Required",
			fmt.Sprintf("Connection %q has role %q; postgres names the staging database to look for paths back to production, so it needs a connection with role \"staging\".", name, c.role))
		return nil, false
	}
	if c.unknown {
		return nil, false
	}
	conn, err := c.connect(ctx)
	if err != nil {
		diags.AddAttributeError(at, "Error Checking Staging Database", "Check that the server is reachable and the credentials of the connection are right.\n\n"+err.Error())
		return nil, false
	}
	defer conn.Close(context.WithoutCancel(ctx))
	fs, err := isolation.ScanDatabase(ctx, conn, prod)
	if err != nil {
		diags.AddAttributeError(at, "Error Checking Staging Database", fmt.Sprintf("Connection %q: %s", name, dsn.Scrub(err, c.dsn)))
		return nil, false
	}
	return fs, true
}

// probe tries staging's credentials against production.
func (r *isolationCheckResource) probe(ctx context.Context, m isolationCheckModel, diags *diagnostics) (*isolation.Finding, isolation.ProbeOutcome, bool) {
	at := path.Root("probe_production")
	name := m.ProbeProduction.ValueString()
	c, ok := r.data.connection(name, at, false, diags)
	if !ok {
		return nil, "", false
	}
	if c.role != roleProduction {
		diags.AddAttributeError(at, "Production Connection Required",
			fmt.Sprintf("Connection %q has role %q; the probe tries staging's credentials against production, so probe_production needs a connection with role \"production\".", name, c.role))
		return nil, "", false
	}
	if c.unknown {
		return nil, "", false
	}
	if m.ProbePasswordWO.IsNull() || m.ProbePasswordWO.ValueString() == "" {
		diags.AddAttributeError(path.Root("probe_password_wo"), "Missing Probe Password",
			"The live probe needs the staging password to present to production: set probe_password_wo, such as ephemeral.staging_credential.<name>.value.")
		return nil, "", false
	}
	cfg, err := pgconn.ParseConfig(c.dsn)
	if err != nil {
		diags.AddAttributeError(at, "Invalid Production Connection", fmt.Sprintf("The DSN of connection %q cannot be parsed: %s", name, dsn.Scrub(err, c.dsn)))
		return nil, "", false
	}
	timeout := parseOptionalDuration(m.ProbeTimeout, path.Root("probe_timeout"), diags)
	if timeout == 0 {
		timeout = 5 * time.Second
	}
	user := m.ProbeUser.ValueString()
	outcome, why := isolation.Probe(ctx, cfg, user, m.ProbePasswordWO.ValueString(), timeout)
	tflog.Debug(ctx, "isolation probe", map[string]any{"connection": name, "user": user, "outcome": string(outcome)})
	key := fmt.Sprintf("live probe of %s/%s as %q", net.JoinHostPort(cfg.Host, fmt.Sprint(cfg.Port)), cfg.Database, user)
	switch outcome {
	case isolation.ProbeAccepted:
		return &isolation.Finding{Kind: isolation.FindingProductionLogin, Key: key,
			Message: "production accepted staging's login and password: the same credentials are valid in production; give staging its own"}, outcome, true
	case isolation.ProbeInconclusive:
		return &isolation.Finding{Kind: isolation.FindingInconclusive, Key: key, Inconclusive: true,
			Message: why + "; run the check from inside staging's network to decide, this is not a pass"}, outcome, true
	}
	return nil, outcome, true
}

// report adds one diagnostic per finding: errors when enforced (warnings
// otherwise), inconclusive ones always warnings.
func reportFindings(findings []isolation.Finding, enforce bool, diags *diagnostics) {
	for _, f := range findings {
		// The key, not the map entry: Terraform prints the source line of
		// the attribute an error points at.
		at := path.Root("config_wo")
		switch f.Kind {
		case isolation.FindingForeignServer, isolation.FindingUserMapping, isolation.FindingDblink, isolation.FindingSubscription:
			at = path.Root("postgres")
		case isolation.FindingProductionLogin:
			at = path.Root("probe_production")
		case isolation.FindingInconclusive:
			at = path.Root("probe_production")
			if f.Key == "subscriptions" {
				at = path.Root("postgres")
			}
		}
		detail := fmt.Sprintf("%s: %s %s.", f.Kind, f.Key, f.Message)
		switch {
		case f.Inconclusive:
			diags.AddAttributeWarning(at, "Staging Isolation Check Inconclusive", detail)
		case enforce:
			diags.AddAttributeError(at, "Staging Isolation Violation", detail)
		default:
			diags.AddAttributeWarning(at, "Staging Isolation Violation", detail)
		}
	}
}

// findingsValue converts findings to the findings attribute.
func findingsValue(fs []isolation.Finding) types.List {
	vs := make([]attr.Value, len(fs))
	for i, f := range fs {
		vs[i] = types.ObjectValueMust(findingType.AttrTypes, map[string]attr.Value{
			"kind": types.StringValue(f.Kind), "key": types.StringValue(f.Key), "message": types.StringValue(f.Message), "inconclusive": types.BoolValue(f.Inconclusive),
		})
	}
	return types.ListValueMust(findingType, vs)
}

// ModifyPlan runs the check when its inputs are known.
func (r *isolationCheckResource) ModifyPlan(ctx context.Context, req resource.ModifyPlanRequest, resp *resource.ModifyPlanResponse) {
	if req.Plan.Raw.IsNull() || r.data == nil {
		return
	}
	var plan, cfg isolationCheckModel
	resp.Diagnostics.Append(req.Plan.Get(ctx, &plan)...)
	resp.Diagnostics.Append(req.Config.Get(ctx, &cfg)...)
	if resp.Diagnostics.HasError() {
		return
	}
	cfg.IncludeProductionConnections, cfg.DefaultForbiddenFlags, cfg.ProbeTimeout = plan.IncludeProductionConnections, plan.DefaultForbiddenFlags, plan.ProbeTimeout
	res, known := r.evaluate(ctx, cfg, &resp.Diagnostics)
	if !known || resp.Diagnostics.HasError() {
		return
	}
	reportFindings(res.findings, plan.Enforce.IsNull() || plan.Enforce.ValueBool(), &resp.Diagnostics)
	plan.Findings, plan.Report = findingsValue(res.findings), types.StringValue(res.report)
	var state *isolationCheckModel
	if !req.State.Raw.IsNull() {
		state = &isolationCheckModel{}
		resp.Diagnostics.Append(req.State.Get(ctx, state)...)
	}
	if state == nil || !state.Report.Equal(plan.Report) {
		plan.CheckedAt = types.StringUnknown()
	}
	resp.Diagnostics.Append(resp.Plan.Set(ctx, plan)...)
}

func (r *isolationCheckResource) Create(ctx context.Context, req resource.CreateRequest, resp *resource.CreateResponse) {
	var plan, cfg isolationCheckModel
	resp.Diagnostics.Append(req.Plan.Get(ctx, &plan)...)
	resp.Diagnostics.Append(req.Config.Get(ctx, &cfg)...)
	if resp.Diagnostics.HasError() {
		return
	}
	b := make([]byte, 8)
	_, _ = rand.Read(b)
	plan.ID = types.StringValue("isolation-" + hex.EncodeToString(b))
	r.apply(ctx, &plan, cfg, &resp.Diagnostics)
	if resp.Diagnostics.HasError() {
		return
	}
	resp.Diagnostics.Append(resp.State.Set(ctx, plan)...)
}

// Read keeps the state: the check runs in every plan.
func (r *isolationCheckResource) Read(context.Context, resource.ReadRequest, *resource.ReadResponse) {
}

func (r *isolationCheckResource) Update(ctx context.Context, req resource.UpdateRequest, resp *resource.UpdateResponse) {
	var plan, cfg isolationCheckModel
	resp.Diagnostics.Append(req.Plan.Get(ctx, &plan)...)
	resp.Diagnostics.Append(req.Config.Get(ctx, &cfg)...)
	if resp.Diagnostics.HasError() {
		return
	}
	r.apply(ctx, &plan, cfg, &resp.Diagnostics)
	if resp.Diagnostics.HasError() {
		return
	}
	resp.Diagnostics.Append(resp.State.Set(ctx, plan)...)
}

// Delete removes nothing: the audit events stay in the registry.
func (r *isolationCheckResource) Delete(context.Context, resource.DeleteRequest, *resource.DeleteResponse) {
}

// apply runs the check again (inputs may have been unknown at plan), keeps
// planned results when they were known (Terraform requires it), and
// writes the audit event.
func (r *isolationCheckResource) apply(ctx context.Context, m *isolationCheckModel, cfg isolationCheckModel, diags *diagnostics) {
	cfg.IncludeProductionConnections, cfg.DefaultForbiddenFlags, cfg.ProbeTimeout = m.IncludeProductionConnections, m.DefaultForbiddenFlags, m.ProbeTimeout
	res, known := r.evaluate(ctx, cfg, diags)
	if diags.HasError() {
		return
	}
	if !known {
		diags.AddError("Unknown Staging Isolation Check Arguments",
			"The check's inputs are still unknown at apply. Please report this issue to the provider developers.")
		return
	}
	enforce := m.Enforce.IsNull() || m.Enforce.ValueBool()
	if m.Findings.IsUnknown() || m.Report.IsUnknown() {
		reportFindings(res.findings, enforce, diags)
		m.Findings, m.Report = findingsValue(res.findings), types.StringValue(res.report)
	} else if enforce {
		// Errors found now still stop the apply.
		var errs diagnostics
		reportFindings(res.findings, true, &errs)
		for _, d := range errs.Errors() {
			diags.Append(d)
		}
	}
	if diags.HasError() {
		return
	}
	if m.CheckedAt.IsUnknown() {
		m.CheckedAt = timeString(r.data.now())
	}
	if m.Environment.IsNull() {
		return
	}
	store := r.data.openStore(ctx, diags)
	if store == nil {
		return
	}
	env := m.Environment.ValueString()
	if _, err := store.GetEnvironment(ctx, env); err != nil {
		if errors.Is(err, registry.ErrNotFound) {
			diags.AddAttributeError(path.Root("environment"), "Staging Environment Not Found",
				fmt.Sprintf("The isolation check is linked to environment %q, which is not in the registry, so its report cannot be recorded. "+
					"Create the environment with a staging_environment resource and refer to its name, fix the name, or remove environment.", env))
			return
		}
		addRegistryError(diags, "Error Recording Staging Isolation Check", err)
		return
	}
	if _, err := store.RecordEvent(ctx, r.data.actor, registry.Event{
		Action: "check", ObjectType: "isolation_check", Object: env, After: m.Report.ValueString(),
	}); err != nil {
		addRegistryError(diags, "Error Recording Staging Isolation Check", err)
	}
}
