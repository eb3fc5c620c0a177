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
	_ resource.ResourceWithImportState = (*leaseResource)(nil)
	_ resource.ResourceWithConfigure   = (*leaseResource)(nil)
	_ resource.ResourceWithModifyPlan  = (*leaseResource)(nil)
)

func newLeaseResource() resource.Resource { return &leaseResource{} }

// leaseResource is an exclusive, expiring claim on an environment.
type leaseResource struct{ data *providerData }

type leaseModel struct {
	ID          types.String `tfsdk:"id"`
	Environment types.String `tfsdk:"environment"`
	Duration    types.String `tfsdk:"duration"`
	Reason      types.String `tfsdk:"reason"`
	Holder      types.String `tfsdk:"holder"`
	AcquiredAt  types.String `tfsdk:"acquired_at"`
	ExpiresAt   types.String `tfsdk:"expires_at"`
	Expired     types.Bool   `tfsdk:"expired"`
}

func (r *leaseResource) Metadata(_ context.Context, req resource.MetadataRequest, resp *resource.MetadataResponse) {
	resp.TypeName = req.ProviderTypeName + "_lease"
}

func (r *leaseResource) Schema(_ context.Context, _ resource.SchemaRequest, resp *resource.SchemaResponse) {
	resp.Schema = schema.Schema{
		MarkdownDescription: "An exclusive claim on a shared staging environment for a while. Taking a lease that someone else holds fails, naming the holder, the reason and until when; " +
			"expired leases never block. Changing `duration` renews a lease that is still active. An expired lease cannot be renewed, because someone else may have taken the environment in the meantime: " +
			"replace the resource to take a new one (`terraform apply -replace=<this resource's address>`). Destroying the resource releases the lease.",
		Attributes: map[string]schema.Attribute{
			"id": schema.StringAttribute{
				MarkdownDescription: "Lease identifier; import a lease by it.",
				Computed:            true,
				PlanModifiers:       []planmodifier.String{stringplanmodifier.UseStateForUnknown()},
			},
			"environment": schema.StringAttribute{
				MarkdownDescription: "Name of the environment to claim. Changing it releases this lease and takes a new one.",
				Required:            true,
				Validators:          nameValidators(),
				PlanModifiers:       []planmodifier.String{stringplanmodifier.RequiresReplace()},
			},
			"duration": schema.StringAttribute{
				MarkdownDescription: "How long the claim lasts, such as `2h` or `1d`. Changing it renews an active lease: the new duration counts from the apply. It cannot renew an expired lease; replace the resource to take a new one.",
				Required:            true,
				Validators:          []validator.String{durationValidator{}},
				PlanModifiers:       []planmodifier.String{sameDurationAsState{}},
			},
			"reason": schema.StringAttribute{
				MarkdownDescription: "Why the environment is claimed; shown to whoever is refused.",
				Optional:            true,
			},
			"holder": schema.StringAttribute{
				MarkdownDescription: "Who holds the lease: the provider's `actor` when it was taken.",
				Computed:            true,
				PlanModifiers:       []planmodifier.String{stringplanmodifier.UseStateForUnknown()},
			},
			"acquired_at": schema.StringAttribute{
				MarkdownDescription: "When the lease was taken (RFC 3339).",
				Computed:            true,
				PlanModifiers:       []planmodifier.String{stringplanmodifier.UseStateForUnknown()},
			},
			"expires_at": schema.StringAttribute{
				MarkdownDescription: "When the lease stops blocking others (RFC 3339).",
				Computed:            true,
			},
			"expired": schema.BoolAttribute{
				MarkdownDescription: "Whether the lease has expired; an expired lease no longer protects the environment and cannot be renewed.",
				Computed:            true,
			},
		},
	}
}

func (r *leaseResource) Configure(_ context.Context, req resource.ConfigureRequest, resp *resource.ConfigureResponse) {
	r.data = providerDataFrom(req.ProviderData, &resp.Diagnostics)
}

// ModifyPlan keeps the expiry when only the reason changes, and warns when
// the lease has expired: it no longer protects the environment, and an
// update would be refused, so the way forward is a new lease.
func (r *leaseResource) ModifyPlan(ctx context.Context, req resource.ModifyPlanRequest, resp *resource.ModifyPlanResponse) {
	if req.Plan.Raw.IsNull() || req.State.Raw.IsNull() || r.data == nil {
		return
	}
	var plan, state leaseModel
	resp.Diagnostics.Append(req.Plan.Get(ctx, &plan)...)
	resp.Diagnostics.Append(req.State.Get(ctx, &state)...)
	if resp.Diagnostics.HasError() {
		return
	}
	renewing := !plan.Duration.Equal(state.Duration)
	if !renewing {
		plan.ExpiresAt = state.ExpiresAt
		plan.Expired = state.Expired
		resp.Diagnostics.Append(resp.Plan.Set(ctx, plan)...)
	}
	expires, err := time.Parse(time.RFC3339, state.ExpiresAt.ValueString())
	if err != nil || r.data.now().Before(expires) || len(resp.RequiresReplace) > 0 {
		return // still active, or being replaced by a new lease anyway
	}
	detail := fmt.Sprintf("The lease on environment %q expired at %s and no longer protects it. ", state.Environment.ValueString(), state.ExpiresAt.ValueString())
	if renewing {
		detail += "Changing duration cannot renew an expired lease, so this apply will fail. "
	}
	resp.Diagnostics.AddWarning("Staging Lease Expired", detail+replaceLeaseAdvice)
}

// replaceLeaseAdvice tells the holder of an expired lease how to take a new
// one.
const replaceLeaseAdvice = "Take a new lease by replacing this resource (terraform apply -replace=<this resource's address>), or destroy it if you no longer need the environment."

func (r *leaseResource) setState(m *leaseModel, l registry.Lease) {
	m.ID = types.StringValue(l.ID)
	m.Environment = types.StringValue(l.Environment)
	m.Holder = types.StringValue(l.Holder)
	m.Reason = types.StringNull()
	if l.Reason != "" {
		m.Reason = types.StringValue(l.Reason)
	}
	m.AcquiredAt = timeString(l.AcquiredAt)
	m.ExpiresAt = timeString(l.ExpiresAt)
	m.Expired = types.BoolValue(!l.Active(r.data.now()))
}

func (r *leaseResource) Create(ctx context.Context, req resource.CreateRequest, resp *resource.CreateResponse) {
	var plan leaseModel
	resp.Diagnostics.Append(req.Plan.Get(ctx, &plan)...)
	d := parseOptionalDuration(plan.Duration, path.Root("duration"), &resp.Diagnostics)
	if resp.Diagnostics.HasError() {
		return
	}
	store := r.data.openStore(ctx, &resp.Diagnostics)
	if store == nil {
		return
	}
	l, err := store.AcquireLease(ctx, r.data.actor, registry.Lease{Environment: plan.Environment.ValueString(), Reason: plan.Reason.ValueString()}, d)
	if err != nil {
		addRegistryError(&resp.Diagnostics, "Error Taking Staging Lease", err)
		return
	}
	r.setState(&plan, l)
	resp.Diagnostics.Append(resp.State.Set(ctx, plan)...)
}

func (r *leaseResource) Read(ctx context.Context, req resource.ReadRequest, resp *resource.ReadResponse) {
	var state leaseModel
	resp.Diagnostics.Append(req.State.Get(ctx, &state)...)
	if resp.Diagnostics.HasError() {
		return
	}
	store := r.data.openStore(ctx, &resp.Diagnostics)
	if store == nil {
		return
	}
	l, err := store.GetLease(ctx, state.ID.ValueString())
	if errors.Is(err, registry.ErrNotFound) {
		resp.State.RemoveResource(ctx)
		return
	}
	if err != nil {
		addRegistryError(&resp.Diagnostics, "Error Reading Staging Lease", err)
		return
	}
	if state.Duration.IsNull() {
		// Imported: the duration the lease was taken for.
		state.Duration = types.StringValue(registry.FormatDuration(l.ExpiresAt.Sub(l.AcquiredAt)))
	}
	r.setState(&state, l)
	resp.Diagnostics.Append(resp.State.Set(ctx, state)...)
}

func (r *leaseResource) Update(ctx context.Context, req resource.UpdateRequest, resp *resource.UpdateResponse) {
	var plan, state leaseModel
	resp.Diagnostics.Append(req.Plan.Get(ctx, &plan)...)
	resp.Diagnostics.Append(req.State.Get(ctx, &state)...)
	d := parseOptionalDuration(plan.Duration, path.Root("duration"), &resp.Diagnostics)
	if resp.Diagnostics.HasError() {
		return
	}
	if plan.Duration.Equal(state.Duration) {
		d = 0 // only the reason changed: keep the expiry
	}
	store := r.data.openStore(ctx, &resp.Diagnostics)
	if store == nil {
		return
	}
	l, err := store.RenewLease(ctx, r.data.actor, state.ID.ValueString(), plan.Reason.ValueString(), d)
	if err != nil {
		addRenewError(&resp.Diagnostics, err)
		return
	}
	r.setState(&plan, l)
	resp.Diagnostics.Append(resp.State.Set(ctx, plan)...)
}

// addRenewError explains a refused renewal. Both refusals leave the lease as
// it was, and both end the same way: a new lease, once the environment is free.
func addRenewError(diags *diagnostics, err error) {
	const summary = "Error Renewing Staging Lease"
	var (
		conflict *registry.LeaseConflictError
		expired  *registry.LeaseExpiredError
	)
	switch {
	case errors.As(err, &conflict):
		diags.AddError(summary, "Another lease on the environment is active, so this one cannot be renewed. "+
			"Wait until it expires or ask its holder to release it, then take a new lease: terraform apply -replace=<this resource's address>.\n\n"+err.Error())
	case errors.As(err, &expired):
		diags.AddError(summary, "An expired lease cannot be renewed: someone else may have held the environment since it expired. "+
			replaceLeaseAdvice+"\n\n"+err.Error())
	default:
		addRegistryError(diags, summary, err)
	}
}

func (r *leaseResource) Delete(ctx context.Context, req resource.DeleteRequest, resp *resource.DeleteResponse) {
	var state leaseModel
	resp.Diagnostics.Append(req.State.Get(ctx, &state)...)
	if resp.Diagnostics.HasError() {
		return
	}
	store := r.data.openStore(ctx, &resp.Diagnostics)
	if store == nil {
		return
	}
	if err := store.ReleaseLease(ctx, r.data.actor, state.ID.ValueString()); err != nil && !errors.Is(err, registry.ErrNotFound) {
		addRegistryError(&resp.Diagnostics, "Error Releasing Staging Lease", err)
	}
}

func (r *leaseResource) ImportState(ctx context.Context, req resource.ImportStateRequest, resp *resource.ImportStateResponse) {
	resource.ImportStatePassthroughID(ctx, path.Root("id"), req, resp)
}
