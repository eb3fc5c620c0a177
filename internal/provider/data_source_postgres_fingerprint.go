package provider

import (
	"context"
	"fmt"

	"github.com/hashicorp/terraform-plugin-framework/datasource"
	"github.com/hashicorp/terraform-plugin-framework/datasource/schema"
	"github.com/hashicorp/terraform-plugin-framework/path"
	"github.com/hashicorp/terraform-plugin-framework/types"
	"github.com/hashicorp/terraform-plugin-log/tflog"

	"github.com/stagingkit/terraform-provider-staging/internal/pgclone"
)

var _ datasource.DataSourceWithConfigure = (*postgresFingerprintDataSource)(nil)

func newPostgresFingerprintDataSource() datasource.DataSource {
	return &postgresFingerprintDataSource{}
}

// postgresFingerprintDataSource reads the live facts of a PostgreSQL
// database, the input of parity checks between production and staging.
type postgresFingerprintDataSource struct{ data *providerData }

type postgresFingerprintModel struct {
	Connection       types.String `tfsdk:"postgres"`
	Schemas          types.List   `tfsdk:"schemas"`
	SettingNames     types.List   `tfsdk:"setting_names"`
	ServerVersion    types.String `tfsdk:"server_version"`
	ServerVersionNum types.Int64  `tfsdk:"server_version_num"`
	Encoding         types.String `tfsdk:"encoding"`
	Collation        types.String `tfsdk:"collation"`
	CType            types.String `tfsdk:"ctype"`
	TimeZone         types.String `tfsdk:"time_zone"`
	Extensions       types.Map    `tfsdk:"extensions"`
	Settings         types.Map    `tfsdk:"settings"`
	Tables           types.Map    `tfsdk:"tables"`
	SchemaDigest     types.String `tfsdk:"schema_digest"`
}

func (d *postgresFingerprintDataSource) Metadata(_ context.Context, req datasource.MetadataRequest, resp *datasource.MetadataResponse) {
	resp.TypeName = req.ProviderTypeName + "_postgres_fingerprint"
}

func (d *postgresFingerprintDataSource) Schema(_ context.Context, _ datasource.SchemaRequest, resp *datasource.SchemaResponse) {
	strMap := func(desc string) schema.MapAttribute {
		return schema.MapAttribute{MarkdownDescription: desc, ElementType: types.StringType, Computed: true}
	}
	str := func(desc string) schema.StringAttribute {
		return schema.StringAttribute{MarkdownDescription: desc, Computed: true}
	}
	resp.Schema = schema.Schema{
		MarkdownDescription: "Live facts of a PostgreSQL database through a named connection of the provider: server version, extensions, encoding, collation, " +
			"time zone and selected settings, and a digest of every table's definition plus one for the whole schema. " +
			"Compare the fingerprints of production and staging in a `staging_parity_check` to catch an unapplied migration or a different extension version. " +
			"Everything is read in one `REPEATABLE READ READ ONLY` transaction, so a production connection is safe to use.",
		Attributes: map[string]schema.Attribute{
			"postgres": schema.StringAttribute{
				MarkdownDescription: "Name of a `postgres` block of the provider configuration.",
				Required:            true,
			},
			"schemas": schema.ListAttribute{
				MarkdownDescription: "Schemas whose tables are digested. Default: every schema except `pg_catalog`, `information_schema` and temporary ones.",
				ElementType:         types.StringType,
				Optional:            true,
			},
			"setting_names": schema.ListAttribute{
				MarkdownDescription: "Server settings to include in `settings`. Default: those that change query behaviour (`DateStyle`, `IntervalStyle`, `TimeZone`, `default_transaction_isolation`, `standard_conforming_strings`, `search_path`, `lc_*`).",
				ElementType:         types.StringType,
				Optional:            true,
			},
			"server_version":     str("Server version, such as `15.18`."),
			"server_version_num": schema.Int64Attribute{MarkdownDescription: "Server version as a number, such as `150018`.", Computed: true},
			"encoding":           str("Database encoding, such as `UTF8`."),
			"collation":          str("Database collation (`LC_COLLATE`)."),
			"ctype":              str("Database character classification (`LC_CTYPE`)."),
			"time_zone":          str("The session's `TimeZone` setting."),
			"extensions":         strMap("Installed extensions and their versions."),
			"settings":           strMap("The selected server settings and their values."),
			"tables":             strMap("`schema.table` to a digest of its columns, types, defaults, identity and generated columns, constraints, indexes and view definition."),
			"schema_digest":      str("A digest of all table digests, enum and domain types, and sequences: equal digests mean equal schemas."),
		},
	}
}

func (d *postgresFingerprintDataSource) Configure(_ context.Context, req datasource.ConfigureRequest, resp *datasource.ConfigureResponse) {
	d.data = providerDataFrom(req.ProviderData, &resp.Diagnostics)
}

func (d *postgresFingerprintDataSource) Read(ctx context.Context, req datasource.ReadRequest, resp *datasource.ReadResponse) {
	var m postgresFingerprintModel
	resp.Diagnostics.Append(req.Config.Get(ctx, &m)...)
	var opts pgclone.FingerprintOptions
	if !m.Schemas.IsNull() {
		resp.Diagnostics.Append(m.Schemas.ElementsAs(ctx, &opts.Schemas, false)...)
	}
	if !m.SettingNames.IsNull() {
		resp.Diagnostics.Append(m.SettingNames.ElementsAs(ctx, &opts.Settings, false)...)
	}
	if resp.Diagnostics.HasError() {
		return
	}
	conn, ok := d.data.connection(m.Connection.ValueString(), path.Root("postgres"), false, &resp.Diagnostics)
	if !ok {
		return
	}
	const summary = "Error Reading PostgreSQL Fingerprint"
	tx, done, ok := conn.readOnly(ctx, path.Root("postgres"), summary, &resp.Diagnostics)
	if !ok {
		return
	}
	defer done()
	fp, err := pgclone.ReadFingerprint(ctx, tx, opts)
	if err != nil {
		resp.Diagnostics.AddError(summary, fmt.Sprintf("Reading the catalog through connection %q: %s", conn.name, conn.sourceErrorDetail(ctx, err)))
		return
	}
	tflog.Debug(ctx, "read PostgreSQL fingerprint", map[string]any{"connection": conn.name, "tables": len(fp.Tables), "schema_digest": fp.SchemaDigest})

	m.ServerVersion = types.StringValue(fp.ServerVersion)
	m.ServerVersionNum = types.Int64Value(int64(fp.ServerVersionNum))
	m.Encoding = types.StringValue(fp.Encoding)
	m.Collation = types.StringValue(fp.Collation)
	m.CType = types.StringValue(fp.CType)
	m.TimeZone = types.StringValue(fp.TimeZone)
	m.SchemaDigest = types.StringValue(fp.SchemaDigest)
	for _, f := range []struct {
		dst *types.Map
		src map[string]string
	}{{&m.Extensions, fp.Extensions}, {&m.Settings, fp.Settings}, {&m.Tables, fp.Tables}} {
		v, diags := types.MapValueFrom(ctx, types.StringType, f.src)
		resp.Diagnostics.Append(diags...)
		*f.dst = v
	}
	resp.Diagnostics.Append(resp.State.Set(ctx, m)...)
}
