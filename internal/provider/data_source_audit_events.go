package provider

import (
	"context"

	"github.com/hashicorp/terraform-plugin-framework-validators/int64validator"
	"github.com/hashicorp/terraform-plugin-framework-validators/stringvalidator"
	"github.com/hashicorp/terraform-plugin-framework/attr"
	"github.com/hashicorp/terraform-plugin-framework/datasource"
	"github.com/hashicorp/terraform-plugin-framework/datasource/schema"
	"github.com/hashicorp/terraform-plugin-framework/schema/validator"
	"github.com/hashicorp/terraform-plugin-framework/types"

	"github.com/stagingkit/terraform-provider-staging/internal/registry"
)

var _ datasource.DataSourceWithConfigure = (*auditEventsDataSource)(nil)

func newAuditEventsDataSource() datasource.DataSource { return &auditEventsDataSource{} }

// auditEventsDataSource reads the registry's audit log, newest first.
type auditEventsDataSource struct{ data *providerData }

type auditEventsModel struct {
	ObjectType types.String `tfsdk:"object_type"`
	Object     types.String `tfsdk:"object"`
	Actor      types.String `tfsdk:"actor"`
	Limit      types.Int64  `tfsdk:"limit"`
	Events     types.List   `tfsdk:"events"`
}

var auditEventAttrs = map[string]attr.Type{
	"id":          types.Int64Type,
	"time":        types.StringType,
	"actor":       types.StringType,
	"action":      types.StringType,
	"object_type": types.StringType,
	"object":      types.StringType,
	"before":      types.StringType,
	"after":       types.StringType,
}

func (d *auditEventsDataSource) Metadata(_ context.Context, req datasource.MetadataRequest, resp *datasource.MetadataResponse) {
	resp.TypeName = req.ProviderTypeName + "_audit_events"
}

func (d *auditEventsDataSource) Schema(_ context.Context, _ datasource.SchemaRequest, resp *datasource.SchemaResponse) {
	str := func(desc string) schema.StringAttribute {
		return schema.StringAttribute{MarkdownDescription: desc, Computed: true}
	}
	resp.Schema = schema.Schema{
		MarkdownDescription: "Recent events of the registry's audit log, newest first: who changed which team, environment or lease, when, and from what to what.",
		Attributes: map[string]schema.Attribute{
			"object_type": schema.StringAttribute{
				MarkdownDescription: "Only events about this kind of object: `team`, `environment`, `lease`, or `parity_check`.",
				Optional:            true,
				Validators:          []validator.String{stringvalidator.OneOf("team", "environment", "lease", "parity_check")},
			},
			"object": schema.StringAttribute{MarkdownDescription: "Only events about the object of this name (for leases, the environment's name).", Optional: true},
			"actor":  schema.StringAttribute{MarkdownDescription: "Only events caused by this actor.", Optional: true},
			"limit": schema.Int64Attribute{
				MarkdownDescription: "The most events to return; default 100.",
				Optional:            true,
				Validators:          []validator.Int64{int64validator.Between(1, 10000)},
			},
			"events": schema.ListNestedAttribute{
				MarkdownDescription: "The matching events, newest first.",
				Computed:            true,
				NestedObject: schema.NestedAttributeObject{Attributes: map[string]schema.Attribute{
					"id":          schema.Int64Attribute{MarkdownDescription: "Event number, increasing.", Computed: true},
					"time":        str("When it happened (RFC 3339)."),
					"actor":       str("Who did it."),
					"action":      str("What was done: `create`, `update`, `delete`, `acquire`, `renew` or `release`."),
					"object_type": str("The kind of object."),
					"object":      str("The object's name."),
					"before":      str("The object before the change, as JSON; empty for a creation."),
					"after":       str("The object after the change, as JSON; empty for a deletion."),
				}},
			},
		},
	}
}

func (d *auditEventsDataSource) Configure(_ context.Context, req datasource.ConfigureRequest, resp *datasource.ConfigureResponse) {
	d.data = providerDataFrom(req.ProviderData, &resp.Diagnostics)
}

func (d *auditEventsDataSource) Read(ctx context.Context, req datasource.ReadRequest, resp *datasource.ReadResponse) {
	var m auditEventsModel
	resp.Diagnostics.Append(req.Config.Get(ctx, &m)...)
	if resp.Diagnostics.HasError() {
		return
	}
	store := d.data.openStore(ctx, &resp.Diagnostics)
	if store == nil {
		return
	}
	evs, err := store.Events(ctx, registry.EventFilter{
		ObjectType: m.ObjectType.ValueString(),
		Object:     m.Object.ValueString(),
		Actor:      m.Actor.ValueString(),
		Limit:      int(m.Limit.ValueInt64()),
	})
	if err != nil {
		addRegistryError(&resp.Diagnostics, "Error Reading Staging Audit Events", err)
		return
	}
	items := make([]attr.Value, 0, len(evs))
	for _, e := range evs {
		obj, diags := types.ObjectValue(auditEventAttrs, map[string]attr.Value{
			"id":          types.Int64Value(e.ID),
			"time":        timeString(e.Time),
			"actor":       types.StringValue(e.Actor),
			"action":      types.StringValue(e.Action),
			"object_type": types.StringValue(e.ObjectType),
			"object":      types.StringValue(e.Object),
			"before":      types.StringValue(e.Before),
			"after":       types.StringValue(e.After),
		})
		resp.Diagnostics.Append(diags...)
		items = append(items, obj)
	}
	list, diags := types.ListValue(types.ObjectType{AttrTypes: auditEventAttrs}, items)
	resp.Diagnostics.Append(diags...)
	m.Events = list
	resp.Diagnostics.Append(resp.State.Set(ctx, m)...)
}
