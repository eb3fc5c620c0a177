package provider

import (
	"context"

	"github.com/hashicorp/terraform-plugin-framework/attr"
	"github.com/hashicorp/terraform-plugin-framework/datasource"
	"github.com/hashicorp/terraform-plugin-framework/datasource/schema"
	"github.com/hashicorp/terraform-plugin-framework/types"

	"github.com/stagingkit/terraform-provider-staging/internal/registry"
)

var _ datasource.DataSourceWithConfigure = (*environmentsDataSource)(nil)

func newEnvironmentsDataSource() datasource.DataSource { return &environmentsDataSource{} }

// environmentsDataSource lists registry environments; it is the input of
// cleanup jobs.
type environmentsDataSource struct{ data *providerData }

type environmentsModel struct {
	Team         types.String `tfsdk:"team"`
	Production   types.String `tfsdk:"production"`
	Labels       types.Map    `tfsdk:"labels"`
	ExpiredOnly  types.Bool   `tfsdk:"expired_only"`
	Environments types.List   `tfsdk:"environments"`
}

// environmentSummaryAttrs are the attributes of one listed environment.
var environmentSummaryAttrs = map[string]attr.Type{
	"id":         types.StringType,
	"name":       types.StringType,
	"team":       types.StringType,
	"owner":      types.StringType,
	"production": types.StringType,
	"ttl":        types.StringType,
	"labels":     types.MapType{ElemType: types.StringType},
	"namespace":  types.StringType,
	"created_at": types.StringType,
	"expires_at": types.StringType,
	"expired":    types.BoolType,
}

func (d *environmentsDataSource) Metadata(_ context.Context, req datasource.MetadataRequest, resp *datasource.MetadataResponse) {
	resp.TypeName = req.ProviderTypeName + "_environments"
}

func (d *environmentsDataSource) Schema(_ context.Context, _ datasource.SchemaRequest, resp *datasource.SchemaResponse) {
	str := func(desc string) schema.StringAttribute {
		return schema.StringAttribute{MarkdownDescription: desc, Computed: true}
	}
	resp.Schema = schema.Schema{
		MarkdownDescription: "Lists environments in the registry, optionally filtered by team, production, labels or expiry: the input of a cleanup job. Filters combine with AND.",
		Attributes: map[string]schema.Attribute{
			"team":         schema.StringAttribute{MarkdownDescription: "Only environments of this team.", Optional: true},
			"production":   schema.StringAttribute{MarkdownDescription: "Only environments mirroring this production environment.", Optional: true},
			"labels":       schema.MapAttribute{MarkdownDescription: "Only environments carrying all of these labels with these values.", ElementType: types.StringType, Optional: true},
			"expired_only": schema.BoolAttribute{MarkdownDescription: "Only environments whose expiry has passed.", Optional: true},
			"environments": schema.ListNestedAttribute{
				MarkdownDescription: "The matching environments, oldest first.",
				Computed:            true,
				NestedObject: schema.NestedAttributeObject{Attributes: map[string]schema.Attribute{
					"id":         str("Registry identifier."),
					"name":       str("Environment name."),
					"team":       str("Owning team."),
					"owner":      str("Responsible person."),
					"production": str("The production environment it mirrors, or null."),
					"ttl":        str("Lifetime, or null if it never expires."),
					"labels":     schema.MapAttribute{MarkdownDescription: "Labels.", ElementType: types.StringType, Computed: true},
					"namespace":  str("Resource-name prefix."),
					"created_at": str("Registration time (RFC 3339)."),
					"expires_at": str("Expiry (RFC 3339), or null."),
					"expired":    schema.BoolAttribute{MarkdownDescription: "Whether the expiry has passed.", Computed: true},
				}},
			},
		},
	}
}

func (d *environmentsDataSource) Configure(_ context.Context, req datasource.ConfigureRequest, resp *datasource.ConfigureResponse) {
	d.data = providerDataFrom(req.ProviderData, &resp.Diagnostics)
}

func (d *environmentsDataSource) Read(ctx context.Context, req datasource.ReadRequest, resp *datasource.ReadResponse) {
	var m environmentsModel
	resp.Diagnostics.Append(req.Config.Get(ctx, &m)...)
	f := registry.EnvironmentFilter{
		Team:        m.Team.ValueString(),
		Production:  m.Production.ValueString(),
		ExpiredOnly: m.ExpiredOnly.ValueBool(),
	}
	if !m.Labels.IsNull() {
		resp.Diagnostics.Append(m.Labels.ElementsAs(ctx, &f.Labels, false)...)
	}
	if resp.Diagnostics.HasError() {
		return
	}
	store := d.data.openStore(ctx, &resp.Diagnostics)
	if store == nil {
		return
	}
	envs, err := store.ListEnvironments(ctx, f)
	if err != nil {
		addRegistryError(&resp.Diagnostics, "Error Listing Staging Environments", err)
		return
	}
	now := d.data.now()
	items := make([]attr.Value, 0, len(envs))
	for _, e := range envs {
		labels, diags := types.MapValueFrom(ctx, types.StringType, e.Labels)
		resp.Diagnostics.Append(diags...)
		ttl := types.StringNull()
		if e.TTL > 0 {
			ttl = types.StringValue(registry.FormatDuration(e.TTL))
		}
		production := types.StringNull()
		if e.Production != "" {
			production = types.StringValue(e.Production)
		}
		obj, diags := types.ObjectValue(environmentSummaryAttrs, map[string]attr.Value{
			"id":         types.StringValue(e.ID),
			"name":       types.StringValue(e.Name),
			"team":       types.StringValue(e.Team),
			"owner":      types.StringValue(e.Owner),
			"production": production,
			"ttl":        ttl,
			"labels":     labels,
			"namespace":  types.StringValue(e.Namespace),
			"created_at": timeString(e.CreatedAt),
			"expires_at": timeString(e.ExpiresAt),
			"expired":    types.BoolValue(e.Expired(now)),
		})
		resp.Diagnostics.Append(diags...)
		items = append(items, obj)
	}
	list, diags := types.ListValue(types.ObjectType{AttrTypes: environmentSummaryAttrs}, items)
	resp.Diagnostics.Append(diags...)
	m.Environments = list
	resp.Diagnostics.Append(resp.State.Set(ctx, m)...)
}
