package provider

import (
	"context"
	"errors"

	"github.com/hashicorp/terraform-plugin-framework-validators/int64validator"
	"github.com/hashicorp/terraform-plugin-framework/path"
	"github.com/hashicorp/terraform-plugin-framework/resource"
	"github.com/hashicorp/terraform-plugin-framework/resource/schema"
	"github.com/hashicorp/terraform-plugin-framework/resource/schema/planmodifier"
	"github.com/hashicorp/terraform-plugin-framework/resource/schema/stringplanmodifier"
	"github.com/hashicorp/terraform-plugin-framework/schema/validator"
	"github.com/hashicorp/terraform-plugin-framework/types"

	"github.com/stagingkit/terraform-provider-staging/internal/registry"
)

var (
	_ resource.ResourceWithImportState    = (*teamResource)(nil)
	_ resource.ResourceWithConfigure      = (*teamResource)(nil)
	_ resource.ResourceWithValidateConfig = (*teamResource)(nil)
)

func newTeamResource() resource.Resource { return &teamResource{} }

// teamResource manages a team: the unit that owns environments and carries
// their quota and TTL limits.
type teamResource struct{ data *providerData }

type teamModel struct {
	ID              types.String `tfsdk:"id"`
	Name            types.String `tfsdk:"name"`
	MaxEnvironments types.Int64  `tfsdk:"max_environments"`
	DefaultTTL      types.String `tfsdk:"default_ttl"`
	MaxTTL          types.String `tfsdk:"max_ttl"`
	Owners          types.Set    `tfsdk:"owners"`
	CreatedAt       types.String `tfsdk:"created_at"`
}

func (r *teamResource) Metadata(_ context.Context, req resource.MetadataRequest, resp *resource.MetadataResponse) {
	resp.TypeName = req.ProviderTypeName + "_team"
}

func (r *teamResource) Schema(_ context.Context, _ resource.SchemaRequest, resp *resource.SchemaResponse) {
	resp.Schema = schema.Schema{
		MarkdownDescription: "A team in the staging registry: it owns environments and sets their quota and TTL limits.",
		Attributes: map[string]schema.Attribute{
			"id": schema.StringAttribute{
				MarkdownDescription: "The team's name.",
				Computed:            true,
				PlanModifiers:       []planmodifier.String{stringplanmodifier.UseStateForUnknown()},
			},
			"name": schema.StringAttribute{
				MarkdownDescription: "Unique team name, a DNS label (lowercase letters, digits and hyphens). Changing it replaces the team.",
				Required:            true,
				Validators:          nameValidators(),
				PlanModifiers:       []planmodifier.String{stringplanmodifier.RequiresReplace()},
			},
			"max_environments": schema.Int64Attribute{
				MarkdownDescription: "The most environments the team may have registered at once; creating one more fails and lists them. Unset means no limit.",
				Optional:            true,
				Validators:          []validator.Int64{int64validator.AtLeast(1)},
			},
			"default_ttl": schema.StringAttribute{
				MarkdownDescription: "Lifetime given to the team's environments that set no `ttl`, such as `72h` or `7d`. Unset: such environments get `max_ttl`, or never expire if that is unset too.",
				Optional:            true,
				Validators:          []validator.String{durationValidator{}},
				PlanModifiers:       []planmodifier.String{sameDurationAsState{}},
			},
			"max_ttl": schema.StringAttribute{
				MarkdownDescription: "The longest `ttl` any of the team's environments may have, such as `14d`. Unset means no bound.",
				Optional:            true,
				Validators:          []validator.String{durationValidator{}},
				PlanModifiers:       []planmodifier.String{sameDurationAsState{}},
			},
			"owners": schema.SetAttribute{
				MarkdownDescription: "People or groups responsible for the team's environments.",
				ElementType:         types.StringType,
				Optional:            true,
			},
			"created_at": schema.StringAttribute{
				MarkdownDescription: "When the team was registered (RFC 3339).",
				Computed:            true,
				PlanModifiers:       []planmodifier.String{stringplanmodifier.UseStateForUnknown()},
			},
		},
	}
}

func (r *teamResource) Configure(_ context.Context, req resource.ConfigureRequest, resp *resource.ConfigureResponse) {
	r.data = providerDataFrom(req.ProviderData, &resp.Diagnostics)
}

func (r *teamResource) ValidateConfig(ctx context.Context, req resource.ValidateConfigRequest, resp *resource.ValidateConfigResponse) {
	var m teamModel
	resp.Diagnostics.Append(req.Config.Get(ctx, &m)...)
	if resp.Diagnostics.HasError() || m.DefaultTTL.IsNull() || m.DefaultTTL.IsUnknown() || m.MaxTTL.IsNull() || m.MaxTTL.IsUnknown() {
		return
	}
	def, err1 := registry.ParseDuration(m.DefaultTTL.ValueString())
	max, err2 := registry.ParseDuration(m.MaxTTL.ValueString())
	if err1 == nil && err2 == nil && def > max {
		resp.Diagnostics.AddAttributeError(path.Root("default_ttl"), "Invalid Team TTL",
			"default_ttl "+m.DefaultTTL.ValueString()+" is longer than max_ttl "+m.MaxTTL.ValueString()+"; make default_ttl at most max_ttl.")
	}
}

func (r *teamResource) Create(ctx context.Context, req resource.CreateRequest, resp *resource.CreateResponse) {
	var plan teamModel
	resp.Diagnostics.Append(req.Plan.Get(ctx, &plan)...)
	team := r.domainTeam(ctx, plan, &resp.Diagnostics)
	if resp.Diagnostics.HasError() {
		return
	}
	store := r.data.openStore(ctx, &resp.Diagnostics)
	if store == nil {
		return
	}
	created, err := store.CreateTeam(ctx, r.data.actor, team)
	if err != nil {
		addRegistryError(&resp.Diagnostics, "Error Creating Staging Team", err)
		return
	}
	r.setState(ctx, &plan, created, &resp.Diagnostics)
	resp.Diagnostics.Append(resp.State.Set(ctx, plan)...)
}

func (r *teamResource) Read(ctx context.Context, req resource.ReadRequest, resp *resource.ReadResponse) {
	var state teamModel
	resp.Diagnostics.Append(req.State.Get(ctx, &state)...)
	if resp.Diagnostics.HasError() {
		return
	}
	store := r.data.openStore(ctx, &resp.Diagnostics)
	if store == nil {
		return
	}
	team, err := store.GetTeam(ctx, state.Name.ValueString())
	if errors.Is(err, registry.ErrNotFound) {
		resp.State.RemoveResource(ctx)
		return
	}
	if err != nil {
		addRegistryError(&resp.Diagnostics, "Error Reading Staging Team", err)
		return
	}
	r.setState(ctx, &state, team, &resp.Diagnostics)
	resp.Diagnostics.Append(resp.State.Set(ctx, state)...)
}

func (r *teamResource) Update(ctx context.Context, req resource.UpdateRequest, resp *resource.UpdateResponse) {
	var plan teamModel
	resp.Diagnostics.Append(req.Plan.Get(ctx, &plan)...)
	team := r.domainTeam(ctx, plan, &resp.Diagnostics)
	if resp.Diagnostics.HasError() {
		return
	}
	store := r.data.openStore(ctx, &resp.Diagnostics)
	if store == nil {
		return
	}
	updated, err := store.UpdateTeam(ctx, r.data.actor, team)
	if err != nil {
		addRegistryError(&resp.Diagnostics, "Error Updating Staging Team", err)
		return
	}
	r.setState(ctx, &plan, updated, &resp.Diagnostics)
	resp.Diagnostics.Append(resp.State.Set(ctx, plan)...)
}

func (r *teamResource) Delete(ctx context.Context, req resource.DeleteRequest, resp *resource.DeleteResponse) {
	var state teamModel
	resp.Diagnostics.Append(req.State.Get(ctx, &state)...)
	if resp.Diagnostics.HasError() {
		return
	}
	store := r.data.openStore(ctx, &resp.Diagnostics)
	if store == nil {
		return
	}
	err := store.DeleteTeam(ctx, r.data.actor, state.Name.ValueString())
	if err != nil && !errors.Is(err, registry.ErrNotFound) {
		addRegistryError(&resp.Diagnostics, "Error Deleting Staging Team", err)
	}
}

func (r *teamResource) ImportState(ctx context.Context, req resource.ImportStateRequest, resp *resource.ImportStateResponse) {
	resource.ImportStatePassthroughID(ctx, path.Root("name"), req, resp)
}

// domainTeam converts a plan into a registry team.
func (r *teamResource) domainTeam(ctx context.Context, m teamModel, diags *diagnostics) registry.Team {
	t := registry.Team{
		Name:            m.Name.ValueString(),
		MaxEnvironments: int(m.MaxEnvironments.ValueInt64()),
		DefaultTTL:      parseOptionalDuration(m.DefaultTTL, path.Root("default_ttl"), diags),
		MaxTTL:          parseOptionalDuration(m.MaxTTL, path.Root("max_ttl"), diags),
	}
	if !m.Owners.IsNull() && !m.Owners.IsUnknown() {
		diags.Append(m.Owners.ElementsAs(ctx, &t.Owners, false)...)
	}
	return t
}

// setState copies a registry team into m, keeping the user's spelling of
// durations that mean the same thing.
func (r *teamResource) setState(ctx context.Context, m *teamModel, t registry.Team, diags *diagnostics) {
	m.ID = types.StringValue(t.Name)
	m.Name = types.StringValue(t.Name)
	m.MaxEnvironments = types.Int64Null()
	if t.MaxEnvironments > 0 {
		m.MaxEnvironments = types.Int64Value(int64(t.MaxEnvironments))
	}
	m.DefaultTTL = durationState(m.DefaultTTL, t.DefaultTTL)
	m.MaxTTL = durationState(m.MaxTTL, t.MaxTTL)
	switch {
	case len(t.Owners) == 0 && !m.Owners.IsUnknown() && len(m.Owners.Elements()) == 0:
		// Keep null or the empty set, as written.
	case len(t.Owners) == 0:
		m.Owners = types.SetNull(types.StringType)
	default:
		owners, d := types.SetValueFrom(ctx, types.StringType, t.Owners)
		diags.Append(d...)
		m.Owners = owners
	}
	m.CreatedAt = timeString(t.CreatedAt)
}
