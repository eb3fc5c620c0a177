package provider

import (
	"context"
	"encoding/json"
	"fmt"
	"strings"

	"github.com/hashicorp/terraform-plugin-framework/attr"
	"github.com/hashicorp/terraform-plugin-framework/datasource"
	"github.com/hashicorp/terraform-plugin-framework/datasource/schema"
	"github.com/hashicorp/terraform-plugin-framework/path"
	"github.com/hashicorp/terraform-plugin-framework/types"

	"github.com/stagingkit/terraform-provider-staging/internal/pgclone"
)

var _ datasource.DataSourceWithConfigure = (*piiScanDataSource)(nil)

func newPIIScanDataSource() datasource.DataSource { return &piiScanDataSource{} }

// piiScanDataSource lists the columns of a database that look like
// personal data: the starting point of a masking policy.
type piiScanDataSource struct{ data *providerData }

type piiScanModel struct {
	Postgres       types.String `tfsdk:"postgres"`
	Schemas        types.List   `tfsdk:"schemas"`
	ExcludeSchemas types.List   `tfsdk:"exclude_schemas"`
	Tables         types.List   `tfsdk:"tables"`
	ExcludeTables  types.List   `tfsdk:"exclude_tables"`
	Columns        types.List   `tfsdk:"columns"`
	SuggestedRules types.String `tfsdk:"suggested_rules"`
}

var piiColumnAttrs = map[string]attr.Type{
	"table": types.StringType, "column": types.StringType, "sql_type": types.StringType,
	"kind": types.StringType, "confidence": types.Float64Type, "reason": types.StringType,
	"suggested_transformer": types.StringType, "suggested_domain": types.StringType, "suggested_options_json": types.StringType,
	"suggested_on_invalid": types.StringType,
}

func (d *piiScanDataSource) Metadata(_ context.Context, req datasource.MetadataRequest, resp *datasource.MetadataResponse) {
	resp.TypeName = req.ProviderTypeName + "_pii_scan"
}

func (d *piiScanDataSource) Schema(_ context.Context, _ datasource.SchemaRequest, resp *datasource.SchemaResponse) {
	strList := func(desc string) schema.ListAttribute {
		return schema.ListAttribute{MarkdownDescription: desc, ElementType: types.StringType, Optional: true}
	}
	str := func(desc string) schema.StringAttribute {
		return schema.StringAttribute{MarkdownDescription: desc, Computed: true}
	}
	resp.Schema = schema.Schema{
		MarkdownDescription: "Scans a database for columns that look like personal data, from their names, types and up to 1,000 values each sampled across the whole table, " +
			"and suggests a masking rule for each: the starting point of a `staging_postgres_clone` policy. " +
			"Each suggestion passes on the values it was made from, fits the column's `varchar(n)` (where the detector's transformer could write longer values, such as an e-mail on `varchar(20)`, it is `format_preserving` or `text_scramble`, which keep each value's length), and keeps as little as the column allows: the same rule the clone's plan error proposes. " +
			"It runs the same detector the clone uses to fail closed, inside one `READ ONLY` transaction.",
		Attributes: map[string]schema.Attribute{
			"postgres":        schema.StringAttribute{MarkdownDescription: "Name of a `postgres` block of the provider configuration.", Required: true},
			"schemas":         strList("Globs of schemas to scan. Default: every schema except the system ones."),
			"exclude_schemas": strList("Globs of schemas not to scan."),
			"tables":          strList("Globs of `schema.table` to scan."),
			"exclude_tables":  strList("Globs of `schema.table` not to scan."),
			"columns": schema.ListNestedAttribute{
				MarkdownDescription: "Columns that look like personal data, by table and column.",
				Computed:            true,
				NestedObject: schema.NestedAttributeObject{Attributes: map[string]schema.Attribute{
					"table":                  str("`schema.table`."),
					"column":                 str("Column name."),
					"sql_type":               str("The column's SQL type."),
					"kind":                   str("The most likely kind of personal data: `email`, `phone`, `first_name`, `last_name`, `full_name`, `address`, `birth_date`, `credit_card`, `iban`, `national_id`, `ip`, `free_text_pii`, `username`, `credential`, `binary_document`, `postal_code` or `company`."),
					"confidence":             schema.Float64Attribute{MarkdownDescription: "How sure the detector is, from 0 to 1.", Computed: true},
					"reason":                 str("Why the detector thinks so."),
					"suggested_transformer":  str("The transformer of the suggested rule."),
					"suggested_domain":       str("The masking domain of the suggested rule."),
					"suggested_options_json": str("The options of the suggested rule, as a JSON object of strings: `jsondecode()` of it is the rule's `options`."),
					"suggested_on_invalid":   str("The `on_invalid` of the suggested rule, `\"\"` when the sampled values are all valid for its format."),
				}},
			},
			"suggested_rules": str("A `rule` block for every column found, ready to paste into a `staging_postgres_clone`."),
		},
	}
}

func (d *piiScanDataSource) Configure(_ context.Context, req datasource.ConfigureRequest, resp *datasource.ConfigureResponse) {
	d.data = providerDataFrom(req.ProviderData, &resp.Diagnostics)
}

func (d *piiScanDataSource) Read(ctx context.Context, req datasource.ReadRequest, resp *datasource.ReadResponse) {
	var m piiScanModel
	resp.Diagnostics.Append(req.Config.Get(ctx, &m)...)
	list := func(l types.List) []string {
		var out []string
		if !l.IsNull() {
			resp.Diagnostics.Append(l.ElementsAs(ctx, &out, false)...)
		}
		return out
	}
	opts := pgclone.Options{IncludeSchemas: list(m.Schemas), ExcludeSchemas: list(m.ExcludeSchemas), IncludeTables: list(m.Tables), ExcludeTables: list(m.ExcludeTables)}
	if resp.Diagnostics.HasError() {
		return
	}
	conn, ok := d.data.connection(m.Postgres.ValueString(), path.Root("postgres"), false, &resp.Diagnostics)
	if !ok {
		return
	}
	const summary = "Error Scanning PostgreSQL for Personal Data"
	tx, done, ok := conn.readOnly(ctx, path.Root("postgres"), summary, &resp.Diagnostics)
	if !ok {
		return
	}
	defer done()
	found, err := pgclone.ScanPII(ctx, tx, opts)
	if err != nil {
		resp.Diagnostics.AddError(summary, fmt.Sprintf("Scanning through connection %q: %s", conn.name, conn.sourceErrorDetail(ctx, err)))
		return
	}
	items := make([]attr.Value, 0, len(found))
	var rules strings.Builder
	for _, f := range found {
		top := f.Findings[0]
		b, err := json.Marshal(optionStrings(top.Suggested.Options))
		if err != nil {
			resp.Diagnostics.AddError(summary, "Encoding the suggested options: "+err.Error()+"\n\nPlease report this issue to the provider developers.")
			return
		}
		opts := string(b)
		domain := top.Suggested.Domain
		if domain == "" {
			domain = top.Suggested.Transformer
		}
		obj, diags := types.ObjectValue(piiColumnAttrs, map[string]attr.Value{
			"table": types.StringValue(f.Table), "column": types.StringValue(f.Column), "sql_type": types.StringValue(f.SQLType),
			"kind": types.StringValue(top.Kind), "confidence": types.Float64Value(top.Confidence), "reason": types.StringValue(top.Reason),
			"suggested_transformer": types.StringValue(top.Suggested.Transformer), "suggested_domain": types.StringValue(domain),
			"suggested_options_json": types.StringValue(opts), "suggested_on_invalid": types.StringValue(top.Suggested.OnInvalid),
		})
		resp.Diagnostics.Append(diags...)
		items = append(items, obj)
		rules.WriteString(suggestedRule(f.Table, f.Column, top.Suggested))
	}
	lv, diags := types.ListValue(types.ObjectType{AttrTypes: piiColumnAttrs}, items)
	resp.Diagnostics.Append(diags...)
	m.Columns = lv
	m.SuggestedRules = types.StringValue(rules.String())
	resp.Diagnostics.Append(resp.State.Set(ctx, m)...)
}
