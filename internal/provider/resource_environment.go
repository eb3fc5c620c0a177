package provider

import (
	"context"
	"errors"
	"fmt"
	"time"

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
	_ resource.ResourceWithImportState = (*environmentResource)(nil)
	_ resource.ResourceWithConfigure   = (*environmentResource)(nil)
	_ resource.ResourceWithModifyPlan  = (*environmentResource)(nil)
)

func newEnvironmentResource() resource.Resource { return &environmentResource{} }

// environmentResource registers a staging environment.
type environmentResource struct{ data *providerData }

type environmentModel struct {
	ID         types.String `tfsdk:"id"`
	Name       types.String `tfsdk:"name"`
	Team       types.String `tfsdk:"team"`
	Owner      types.String `tfsdk:"owner"`
	Production types.String `tfsdk:"production"`
	TTL        types.String `tfsdk:"ttl"`
	Labels     types.Map    `tfsdk:"labels"`
	Namespace  types.String `tfsdk:"namespace"`
	Tags       types.Map    `tfsdk:"tags"`
	CreatedAt  types.String `tfsdk:"created_at"`
	ExpiresAt  types.String `tfsdk:"expires_at"`
	Expired    types.Bool   `tfsdk:"expired"`
}

func (r *environmentResource) Metadata(_ context.Context, req resource.MetadataRequest, resp *resource.MetadataResponse) {
	resp.TypeName = req.ProviderTypeName + "_environment"
}

func (r *environmentResource) Schema(_ context.Context, _ resource.SchemaRequest, resp *resource.SchemaResponse) {
	resp.Schema = schema.Schema{
		MarkdownDescription: "A staging environment registered in the shared registry: named, owned, expiring, and counted against its team's quota. " +
			"Its `namespace` and `tags` are meant to be used by every resource of the environment.",
		Attributes: map[string]schema.Attribute{
			"id": schema.StringAttribute{
				MarkdownDescription: "Registry identifier, assigned at creation. A new environment with the same name gets a new one.",
				Computed:            true,
				PlanModifiers:       []planmodifier.String{stringplanmodifier.UseStateForUnknown()},
			},
			"name": schema.StringAttribute{
				MarkdownDescription: "Unique environment name across the registry, a DNS label such as `pay-feature-x`. Changing it replaces the environment.",
				Required:            true,
				Validators:          nameValidators(),
				PlanModifiers:       []planmodifier.String{stringplanmodifier.RequiresReplace()},
			},
			"team": schema.StringAttribute{
				MarkdownDescription: "The team that owns the environment; it must exist in the registry (see `staging_team`). Changing it replaces the environment.",
				Required:            true,
				Validators:          nameValidators(),
				PlanModifiers:       []planmodifier.String{stringplanmodifier.RequiresReplace()},
			},
			"owner": schema.StringAttribute{
				MarkdownDescription: "The person responsible for the environment. Defaults to the provider's `actor`.",
				Optional:            true,
				Computed:            true,
			},
			"production": schema.StringAttribute{
				MarkdownDescription: "The production environment this one mirrors, such as `prod-eu`.",
				Optional:            true,
			},
			"ttl": schema.StringAttribute{
				MarkdownDescription: "Lifetime such as `72h` or `7d`, bounded by the team's `max_ttl`. Unset: the team's `default_ttl` (or `max_ttl`) applies, or the environment never expires. " +
					"Changing it re-bases `expires_at` on the time of the apply: that is how an environment is extended. " +
					"An imported environment's `ttl` is the registry's; it is kept while the configuration's means the same duration or, when unset, the team's default.",
				Optional:      true,
				Computed:      true,
				Validators:    []validator.String{durationValidator{}},
				PlanModifiers: []planmodifier.String{sameDurationAsState{}},
			},
			"labels": schema.MapAttribute{
				MarkdownDescription: "Free-form labels, used by `staging_environments` to select environments.",
				ElementType:         types.StringType,
				Optional:            true,
			},
			"namespace": schema.StringAttribute{
				MarkdownDescription: fmt.Sprintf("A DNS-safe prefix of at most %d characters for every resource of this environment, unique per environment name. Known at plan time.", registry.NamespaceMaxLength),
				Computed:            true,
			},
			"tags": schema.MapAttribute{
				MarkdownDescription: "Tags for every cloud resource of the environment (`staging-environment`, `staging-team`, `staging-owner`, `staging-expires-at`, `managed-by`), with keys and values in the character set AWS, Azure and GCP all accept.",
				ElementType:         types.StringType,
				Computed:            true,
			},
			"created_at": schema.StringAttribute{
				MarkdownDescription: "When the environment was registered (RFC 3339).",
				Computed:            true,
				PlanModifiers:       []planmodifier.String{stringplanmodifier.UseStateForUnknown()},
			},
			"expires_at": schema.StringAttribute{
				MarkdownDescription: "When the environment expires (RFC 3339), or null if it never does.",
				Computed:            true,
			},
			"expired": schema.BoolAttribute{
				MarkdownDescription: "Whether `expires_at` has passed. An expired environment shows a warning on every plan until it is extended or destroyed.",
				Computed:            true,
			},
		},
	}
}

func (r *environmentResource) Configure(_ context.Context, req resource.ConfigureRequest, resp *resource.ConfigureResponse) {
	r.data = providerDataFrom(req.ProviderData, &resp.Diagnostics)
}

// ModifyPlan fills in what is known before apply (namespace, owner, an
// unchanged expiry and the tags that follow from them) and warns about an
// expired environment.
func (r *environmentResource) ModifyPlan(ctx context.Context, req resource.ModifyPlanRequest, resp *resource.ModifyPlanResponse) {
	if req.Plan.Raw.IsNull() || r.data == nil {
		return // destroy, or the provider is not configured yet
	}
	var plan, config environmentModel
	resp.Diagnostics.Append(req.Plan.Get(ctx, &plan)...)
	resp.Diagnostics.Append(req.Config.Get(ctx, &config)...)
	var state *environmentModel
	if !req.State.Raw.IsNull() {
		state = &environmentModel{}
		resp.Diagnostics.Append(req.State.Get(ctx, state)...)
	}
	if resp.Diagnostics.HasError() {
		return
	}

	if !plan.Name.IsUnknown() {
		plan.Namespace = types.StringValue(registry.Namespace(plan.Name.ValueString()))
	}
	if config.Owner.IsNull() {
		if state != nil {
			plan.Owner = state.Owner
		} else {
			plan.Owner = types.StringValue(r.data.actor)
		}
	}
	if config.TTL.IsNull() {
		// Computed only so that an imported ttl the team defaults to can
		// stay: unset means the team's default, planned as null.
		plan.TTL = types.StringNull()
		if state != nil && !state.TTL.IsNull() && r.isTeamDefault(ctx, plan.Team, state.TTL, &resp.Diagnostics) {
			plan.TTL = state.TTL
		}
	}
	if state == nil {
		resp.Diagnostics.Append(resp.Plan.Set(ctx, plan)...)
		return
	}

	ttlChanged := !plan.TTL.Equal(state.TTL)
	if !ttlChanged {
		plan.ExpiresAt = state.ExpiresAt
	}
	changed := ttlChanged || !plan.Owner.Equal(state.Owner) || !plan.Production.Equal(state.Production) || !plan.Labels.Equal(state.Labels)
	if !changed {
		plan.Tags, plan.Expired = state.Tags, state.Expired
	} else if !ttlChanged && !plan.Owner.IsUnknown() {
		plan.Tags = r.tagsFor(ctx, plan, &resp.Diagnostics)
	}
	resp.Diagnostics.Append(resp.Plan.Set(ctx, plan)...)

	if !ttlChanged && !state.ExpiresAt.IsNull() {
		expires, err := time.Parse(time.RFC3339, state.ExpiresAt.ValueString())
		if err == nil && !r.data.now().Before(expires) {
			resp.Diagnostics.AddWarning("Staging Environment Expired",
				fmt.Sprintf("Staging environment %q expired at %s. Extend it by changing its ttl (the new ttl counts from the apply), "+
					"or destroy it: remove it from the configuration, or run terraform destroy -target with the address Terraform shows with this warning.", state.Name.ValueString(), state.ExpiresAt.ValueString()))
		}
	}
}

// isTeamDefault reports whether ttl is the duration team gives an
// environment that sets none.
func (r *environmentResource) isTeamDefault(ctx context.Context, team, ttl types.String, diags *diagnostics) bool {
	if team.IsUnknown() || team.IsNull() {
		return false
	}
	store := r.data.openStore(ctx, diags)
	if store == nil {
		return false
	}
	t := teamOf(ctx, store, team.ValueString())
	if t == nil {
		return false
	}
	def, err := registry.EffectiveTTL(*t, 0)
	return err == nil && def != 0 && sameDuration(ttl, def)
}

// tagsFor computes the tags of the planned environment, whose expires_at is
// known.
func (r *environmentResource) tagsFor(ctx context.Context, m environmentModel, diags *diagnostics) types.Map {
	e := registry.Environment{Name: m.Name.ValueString(), Team: m.Team.ValueString(), Owner: m.Owner.ValueString()}
	if !m.ExpiresAt.IsNull() {
		t, err := time.Parse(time.RFC3339, m.ExpiresAt.ValueString())
		if err != nil {
			return types.MapUnknown(types.StringType)
		}
		e.ExpiresAt = t
	}
	tags, d := types.MapValueFrom(ctx, types.StringType, registry.Tags(e))
	diags.Append(d...)
	return tags
}

func (r *environmentResource) domainEnvironment(ctx context.Context, m environmentModel, diags *diagnostics) registry.Environment {
	e := registry.Environment{
		Name:       m.Name.ValueString(),
		Team:       m.Team.ValueString(),
		Owner:      m.Owner.ValueString(),
		Production: m.Production.ValueString(),
		TTL:        parseOptionalDuration(m.TTL, path.Root("ttl"), diags),
		Labels:     map[string]string{},
	}
	if !m.Labels.IsNull() && !m.Labels.IsUnknown() {
		diags.Append(m.Labels.ElementsAs(ctx, &e.Labels, false)...)
	}
	return e
}

// setState copies a registry environment into m. Configured spellings are
// kept where they mean the same (ttl "72h" and "3d"); anything else that
// differs is drift and shows in the next plan. After a create or update the
// ttl is kept as planned (keepTTL); on read, team tells a ttl the team
// defaulted from one set out of band.
func (r *environmentResource) setState(ctx context.Context, m *environmentModel, e registry.Environment, keepTTL bool, team *registry.Team, diags *diagnostics) {
	m.ID = types.StringValue(e.ID)
	m.Name = types.StringValue(e.Name)
	m.Team = types.StringValue(e.Team)
	m.Owner = types.StringValue(e.Owner)
	m.Production = types.StringNull()
	if e.Production != "" {
		m.Production = types.StringValue(e.Production)
	}
	switch {
	case keepTTL || sameDuration(m.TTL, e.TTL):
	case m.TTL.IsNull() && team != nil:
		// Not set in configuration: the team's default applies, unless the
		// registry says otherwise.
		if def, err := registry.EffectiveTTL(*team, 0); err != nil || def != e.TTL {
			m.TTL = durationState(m.TTL, e.TTL)
		}
	default:
		m.TTL = durationState(m.TTL, e.TTL)
	}
	switch {
	case len(e.Labels) == 0 && !m.Labels.IsUnknown() && len(m.Labels.Elements()) == 0:
		// Keep null or the empty map, as written.
	case len(e.Labels) == 0:
		m.Labels = types.MapNull(types.StringType)
	default:
		labels, d := types.MapValueFrom(ctx, types.StringType, e.Labels)
		diags.Append(d...)
		m.Labels = labels
	}
	m.Namespace = types.StringValue(e.Namespace)
	tags, d := types.MapValueFrom(ctx, types.StringType, registry.Tags(e))
	diags.Append(d...)
	m.Tags = tags
	m.CreatedAt = timeString(e.CreatedAt)
	m.ExpiresAt = timeString(e.ExpiresAt)
	m.Expired = types.BoolValue(e.Expired(r.data.now()))
}

// teamOf reads the environment's team, for telling a defaulted ttl from an
// explicit one; nil when it cannot be read.
func teamOf(ctx context.Context, store registry.Store, name string) *registry.Team {
	t, err := store.GetTeam(ctx, name)
	if err != nil {
		return nil
	}
	return &t
}

func (r *environmentResource) Create(ctx context.Context, req resource.CreateRequest, resp *resource.CreateResponse) {
	var plan environmentModel
	resp.Diagnostics.Append(req.Plan.Get(ctx, &plan)...)
	env := r.domainEnvironment(ctx, plan, &resp.Diagnostics)
	if resp.Diagnostics.HasError() {
		return
	}
	store := r.data.openStore(ctx, &resp.Diagnostics)
	if store == nil {
		return
	}
	created, err := store.CreateEnvironment(ctx, r.data.actor, env)
	if err != nil {
		addRegistryError(&resp.Diagnostics, "Error Creating Staging Environment", err)
		return
	}
	r.setState(ctx, &plan, created, true, nil, &resp.Diagnostics)
	resp.Diagnostics.Append(resp.State.Set(ctx, plan)...)
}

func (r *environmentResource) Read(ctx context.Context, req resource.ReadRequest, resp *resource.ReadResponse) {
	var state environmentModel
	resp.Diagnostics.Append(req.State.Get(ctx, &state)...)
	if resp.Diagnostics.HasError() {
		return
	}
	store := r.data.openStore(ctx, &resp.Diagnostics)
	if store == nil {
		return
	}
	env, err := store.GetEnvironment(ctx, state.Name.ValueString())
	if errors.Is(err, registry.ErrNotFound) {
		resp.State.RemoveResource(ctx)
		return
	}
	if err != nil {
		addRegistryError(&resp.Diagnostics, "Error Reading Staging Environment", err)
		return
	}
	imported := state.ID.IsNull() || state.ID.ValueString() == ""
	if !imported && env.ID != state.ID.ValueString() {
		// The environment this state managed was deleted and another one
		// with the same name registered: ours is gone.
		resp.State.RemoveResource(ctx)
		return
	}
	// An import cannot tell a ttl the team defaulted from one set to the
	// same duration: it records the registry's, which the next plan keeps
	// either way (ModifyPlan).
	team := teamOf(ctx, store, env.Team)
	if imported {
		team = nil
	}
	r.setState(ctx, &state, env, false, team, &resp.Diagnostics)
	resp.Diagnostics.Append(resp.State.Set(ctx, state)...)
}

func (r *environmentResource) Update(ctx context.Context, req resource.UpdateRequest, resp *resource.UpdateResponse) {
	var plan environmentModel
	resp.Diagnostics.Append(req.Plan.Get(ctx, &plan)...)
	env := r.domainEnvironment(ctx, plan, &resp.Diagnostics)
	if resp.Diagnostics.HasError() {
		return
	}
	store := r.data.openStore(ctx, &resp.Diagnostics)
	if store == nil {
		return
	}
	updated, err := store.UpdateEnvironment(ctx, r.data.actor, env)
	if err != nil {
		addRegistryError(&resp.Diagnostics, "Error Updating Staging Environment", err)
		return
	}
	r.setState(ctx, &plan, updated, true, nil, &resp.Diagnostics)
	resp.Diagnostics.Append(resp.State.Set(ctx, plan)...)
}

func (r *environmentResource) Delete(ctx context.Context, req resource.DeleteRequest, resp *resource.DeleteResponse) {
	var state environmentModel
	resp.Diagnostics.Append(req.State.Get(ctx, &state)...)
	if resp.Diagnostics.HasError() {
		return
	}
	store := r.data.openStore(ctx, &resp.Diagnostics)
	if store == nil {
		return
	}
	err := store.DeleteEnvironment(ctx, r.data.actor, state.Name.ValueString())
	if err != nil && !errors.Is(err, registry.ErrNotFound) {
		addRegistryError(&resp.Diagnostics, "Error Deleting Staging Environment", err)
	}
}

func (r *environmentResource) ImportState(ctx context.Context, req resource.ImportStateRequest, resp *resource.ImportStateResponse) {
	resource.ImportStatePassthroughID(ctx, path.Root("name"), req, resp)
}
