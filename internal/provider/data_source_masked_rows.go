package provider

import (
	"context"
	"errors"
	"fmt"
	"maps"
	"slices"
	"strings"

	"github.com/hashicorp/terraform-plugin-framework-validators/int64validator"
	"github.com/hashicorp/terraform-plugin-framework-validators/stringvalidator"
	"github.com/hashicorp/terraform-plugin-framework/attr"
	"github.com/hashicorp/terraform-plugin-framework/datasource"
	"github.com/hashicorp/terraform-plugin-framework/datasource/schema"
	"github.com/hashicorp/terraform-plugin-framework/path"
	"github.com/hashicorp/terraform-plugin-framework/schema/validator"
	"github.com/hashicorp/terraform-plugin-framework/types"
	"github.com/jackc/pgx/v5"
	"github.com/jackc/pgx/v5/pgconn"
	"github.com/stagingkit/terraform-provider-staging/internal/masking"
	"github.com/stagingkit/terraform-provider-staging/internal/pgclone"
)

var (
	_ datasource.DataSourceWithConfigure      = (*maskedRowsDataSource)(nil)
	_ datasource.DataSourceWithValidateConfig = (*maskedRowsDataSource)(nil)
)

func newMaskedRowsDataSource() datasource.DataSource { return &maskedRowsDataSource{} }

// maskedRowsDataSource runs a read-only query and returns its rows masked.
type maskedRowsDataSource struct{ data *providerData }

type maskedRowsModel struct {
	Postgres types.String `tfsdk:"postgres"`
	Query    types.String `tfsdk:"query"`
	Limit    types.Int64  `tfsdk:"limit"`
	Rules    types.List   `tfsdk:"rule"`
	Columns  types.List   `tfsdk:"columns"`
	Rows     types.List   `tfsdk:"rows"`
}

type maskedRowsRuleModel struct {
	Column      types.String `tfsdk:"column"`
	Transformer types.String `tfsdk:"transformer"`
	Domain      types.String `tfsdk:"domain"`
	OnInvalid   types.String `tfsdk:"on_invalid"`
	Options     types.Map    `tfsdk:"options"`
}

// defaultMaskedRowsLimit caps the rows returned when no limit is set.
const defaultMaskedRowsLimit = 100

func (d *maskedRowsDataSource) Metadata(_ context.Context, req datasource.MetadataRequest, resp *datasource.MetadataResponse) {
	resp.TypeName = req.ProviderTypeName + "_masked_rows"
}

func (d *maskedRowsDataSource) Schema(_ context.Context, _ datasource.SchemaRequest, resp *datasource.SchemaResponse) {
	resp.Schema = schema.Schema{
		MarkdownDescription: "Runs a query against a connection inside a `READ ONLY` transaction and returns its rows masked through rules, for fixtures and inspection. " +
			"It fails closed like the clone: a result column that looks like personal data and has no rule (`keep` included) fails, naming it and suggesting a rule. " +
			"Each result column is judged by the table column it is read from (as the server's row description says), so renaming it with `AS` hides nothing; " +
			"a column read through a view or materialized view is followed to the base table column it comes from, and one computed in a view fails unless it has a rule; " +
			"a computed column, whose source cannot be told, needs a rule (`keep` if it is safe to show). " +
			"A column without a rule that returns even one e-mail address, IBAN (check digits), card number (Luhn check and a real issuer prefix for its length) or US SSN in its dashed form fails too, however few of the rows it is. " +
			"It masks with the provider's `masking_key` (or `STAGING_MASKING_KEY`), which is never stored; the masked rows are, in state.",
		Attributes: map[string]schema.Attribute{
			"postgres": schema.StringAttribute{MarkdownDescription: "Name of a `postgres` block of the provider configuration.", Required: true},
			"query": schema.StringAttribute{
				MarkdownDescription: "One `SELECT`, `WITH`, `VALUES` or `TABLE` statement whose rows to return (a final semicolon is allowed). " +
					"It is sent alone over the extended protocol as a cursor (`DECLARE … CURSOR FOR` your query, then `FETCH`), inside a `READ ONLY` transaction of a session " +
					"that starts read-only: the server refuses a second statement, a data-modifying `WITH`, `SELECT … FOR UPDATE`, `nextval` and any write. " +
					"Other statements (`COMMIT`, `SET`, `DELETE`, `COPY`) fail at plan time.",
				Required:   true,
				Validators: []validator.String{stringvalidator.LengthAtLeast(1)},
			},
			"limit": schema.Int64Attribute{
				MarkdownDescription: fmt.Sprintf("The most rows to return; default %d.", defaultMaskedRowsLimit),
				Optional:            true,
				Validators:          []validator.Int64{int64validator.Between(1, 10000)},
			},
			"columns": schema.ListAttribute{MarkdownDescription: "The result's column names, in order.", ElementType: types.StringType, Computed: true},
			"rows": schema.ListAttribute{
				MarkdownDescription: "The masked rows: maps from column name to the value as text (null for NULL).",
				ElementType:         types.MapType{ElemType: types.StringType},
				Computed:            true,
			},
		},
		Blocks: map[string]schema.Block{
			"rule": schema.ListNestedBlock{
				MarkdownDescription: "How to mask one result column.",
				NestedObject: schema.NestedBlockObject{Attributes: map[string]schema.Attribute{
					"column": schema.StringAttribute{MarkdownDescription: "Result column name.", Required: true},
					"transformer": schema.StringAttribute{
						MarkdownDescription: "Transformer name (see the `mask` function).",
						Required:            true,
						Validators:          []validator.String{stringvalidator.OneOf(masking.TransformerNames()...)},
					},
					"domain":     schema.StringAttribute{MarkdownDescription: "Masking domain; default the transformer's name.", Optional: true},
					"on_invalid": schema.StringAttribute{MarkdownDescription: "`error` (default), `redact` or `hash`.", Optional: true, Validators: []validator.String{stringvalidator.OneOf(masking.OnInvalidError, masking.OnInvalidRedact, masking.OnInvalidHash)}},
					"options":    schema.MapAttribute{MarkdownDescription: "Transformer options as strings, as in `staging_postgres_clone`.", ElementType: types.StringType, Optional: true},
				}},
			},
		},
	}
}

func (d *maskedRowsDataSource) Configure(_ context.Context, req datasource.ConfigureRequest, resp *datasource.ConfigureResponse) {
	d.data = providerDataFrom(req.ProviderData, &resp.Diagnostics)
}

// ValidateConfig refuses a query that is not one row-returning statement
// before any server sees it.
func (d *maskedRowsDataSource) ValidateConfig(ctx context.Context, req datasource.ValidateConfigRequest, resp *datasource.ValidateConfigResponse) {
	var q types.String
	resp.Diagnostics.Append(req.Config.GetAttribute(ctx, path.Root("query"), &q)...)
	if q.IsNull() || q.IsUnknown() {
		return
	}
	if err := pgclone.CheckQuery(q.ValueString()); err != nil {
		resp.Diagnostics.AddAttributeError(path.Root("query"), "Invalid Query",
			"query must be exactly one SELECT, WITH, VALUES or TABLE statement, which only returns rows: "+err.Error()+".")
	}
}

// columnSource is the table column a result column is read from. via
// names the views and materialized views it was followed through; when
// unresolved is set, the column is read from view column viewColumn of
// via's last view, whose base table column cannot be told.
type columnSource struct {
	table, column, sqlType string
	via                    []string
	unresolved             bool
	viewColumn             string
}

// maxViewDepth bounds how many views deep a column's lineage is followed.
const maxViewDepth = 16

// relColumn is a column of a relation as a row description names it.
type relColumn struct {
	rel uint32
	num int16
}

// sourceColumns maps result columns (by position) to the table columns
// they are read from, as the server's row description says (table OID and
// attribute number); computed columns are absent. The server names a view
// or materialized view column as the origin of what is read through it,
// so those are followed to their base table column: each view's
// definition is described (prepared, never run) and its output column at
// the same position gives the next origin. A view column that is computed,
// or whose definition cannot be described, is returned unresolved.
func sourceColumns(ctx context.Context, tx pgx.Tx, fields []pgconn.FieldDescription) (map[int]columnSource, error) {
	out := map[int]columnSource{}
	for i, f := range fields {
		if f.TableOID == 0 || f.TableAttributeNumber == 0 {
			continue
		}
		cur := relColumn{f.TableOID, int16(f.TableAttributeNumber)}
		var via []string
		for depth := 0; ; depth++ {
			var kind string
			var src columnSource
			err := tx.QueryRow(ctx, `
SELECT c.relkind::text, n.nspname || '.' || c.relname, a.attname, pg_catalog.format_type(a.atttypid, a.atttypmod)
FROM pg_catalog.pg_attribute a
JOIN pg_catalog.pg_class c ON c.oid = a.attrelid
JOIN pg_catalog.pg_namespace n ON n.oid = c.relnamespace
WHERE a.attrelid = $1 AND a.attnum = $2`, cur.rel, cur.num).Scan(&kind, &src.table, &src.column, &src.sqlType)
			if errors.Is(err, pgx.ErrNoRows) {
				break // a system column or a relation gone: computed
			}
			if err != nil {
				return nil, err
			}
			if kind != "v" && kind != "m" {
				src.via = via
				out[i] = src
				break
			}
			via = append(via, src.table)
			next, ok := viewColumnOrigin(ctx, tx, cur, depth)
			if !ok {
				out[i] = columnSource{table: src.table, column: src.column, sqlType: src.sqlType, via: via, unresolved: true, viewColumn: src.column}
				break
			}
			cur = next
		}
	}
	return out, nil
}

// viewColumnOrigin describes the definition of view (or materialized
// view) column c.rel/c.num and returns the origin the server gives for its
// output at that position; ok is false when it has none (computed), the
// definition cannot be described, or the lineage is too deep.
func viewColumnOrigin(ctx context.Context, tx pgx.Tx, c relColumn, depth int) (relColumn, bool) {
	if depth >= maxViewDepth {
		return relColumn{}, false
	}
	var def string
	if err := tx.QueryRow(ctx, `SELECT pg_catalog.pg_get_viewdef($1::oid)`, c.rel).Scan(&def); err != nil {
		return relColumn{}, false
	}
	// A savepoint keeps a failed description from aborting the
	// transaction the cursor lives in.
	sp, err := tx.Begin(ctx)
	if err != nil {
		return relColumn{}, false
	}
	defer func() { _ = sp.Rollback(ctx) }()
	desc, err := sp.Conn().PgConn().Prepare(ctx, "", strings.TrimSuffix(strings.TrimSpace(def), ";"), nil)
	if err != nil || int(c.num) > len(desc.Fields) || c.num < 1 {
		return relColumn{}, false
	}
	f := desc.Fields[c.num-1]
	if f.TableOID == 0 || f.TableAttributeNumber == 0 {
		return relColumn{}, false
	}
	return relColumn{f.TableOID, int16(f.TableAttributeNumber)}, true
}

// maskedRowsCursor is the cursor the query runs as.
const maskedRowsCursor = "staging_masked_rows"

func (d *maskedRowsDataSource) Read(ctx context.Context, req datasource.ReadRequest, resp *datasource.ReadResponse) {
	var m maskedRowsModel
	resp.Diagnostics.Append(req.Config.Get(ctx, &m)...)
	var rules []maskedRowsRuleModel
	resp.Diagnostics.Append(m.Rules.ElementsAs(ctx, &rules, false)...)
	if resp.Diagnostics.HasError() {
		return
	}
	const summary = "Error Reading Masked Rows"
	if d.data.maskingKey == "" {
		resp.Diagnostics.AddError("Missing Masking Key",
			"staging_masked_rows masks with the provider's masking_key: set it in the provider block (for example from a sensitive variable) or in "+EnvMaskingKey+". There is no default key.")
		return
	}
	key, err := masking.ParseKey(d.data.maskingKey)
	if err != nil {
		resp.Diagnostics.AddError("Invalid Masking Key", maskingKeyDetail("The provider's masking_key (or "+EnvMaskingKey+")", err))
		return
	}
	// Rules by column, each built once.
	byColumn := map[string]masking.Transformer{}
	for i, rule := range rules {
		at := path.Root("rule").AtListIndex(i)
		spec, err := ruleSpec(ctx, cloneRuleModel{Transformer: rule.Transformer, Domain: rule.Domain, OnInvalid: rule.OnInvalid, Options: rule.Options})
		if err == nil {
			var t masking.Transformer
			if t, err = masking.New(spec, key); err == nil {
				byColumn[rule.Column.ValueString()] = t
				continue
			}
		}
		resp.Diagnostics.AddAttributeError(at, "Invalid Masking Rule", err.Error())
	}
	if resp.Diagnostics.HasError() {
		return
	}
	conn, ok := d.data.connection(m.Postgres.ValueString(), path.Root("postgres"), false, &resp.Diagnostics)
	if !ok {
		return
	}
	tx, done, ok := conn.readOnly(ctx, path.Root("postgres"), summary, &resp.Diagnostics)
	if !ok {
		return
	}
	defer done()
	limit := int64(defaultMaskedRowsLimit)
	if !m.Limit.IsNull() {
		limit = m.Limit.ValueInt64()
	}
	query := m.Query.ValueString()
	if err := pgclone.CheckQuery(query); err != nil {
		resp.Diagnostics.AddAttributeError(path.Root("query"), "Invalid Query",
			"query must be exactly one SELECT, WITH, VALUES or TABLE statement, which only returns rows: "+err.Error()+".")
		return
	}
	// The query is never wrapped: it is declared as a cursor, alone in one
	// extended-protocol message (the server refuses several statements
	// there, and DECLARE takes only a row-returning query), then fetched
	// with every value as text, the form the transformers take.
	pg := tx.Conn().PgConn()
	if _, err := pg.ExecParams(ctx, "DECLARE "+maskedRowsCursor+" NO SCROLL CURSOR FOR "+query, nil, nil, nil, nil).Close(); err != nil {
		resp.Diagnostics.AddAttributeError(path.Root("query"), summary, "The query failed: "+conn.sourceErrorDetail(ctx, err))
		return
	}
	rr := pg.ExecParams(ctx, fmt.Sprintf("FETCH FORWARD %d FROM %s", limit, maskedRowsCursor), nil, nil, nil, nil)
	var (
		names   []string
		records [][]*string
	)
	fields := slices.Clone(rr.FieldDescriptions())
	for _, f := range fields {
		names = append(names, f.Name)
	}
	for rr.NextRow() {
		raw := rr.Values()
		rec := make([]*string, len(raw))
		for i, v := range raw {
			if v != nil {
				s := string(v)
				rec[i] = &s
			}
		}
		records = append(records, rec)
	}
	if _, err := rr.Close(); err != nil {
		resp.Diagnostics.AddAttributeError(path.Root("query"), summary, "The query failed: "+conn.sourceErrorDetail(ctx, err))
		return
	}
	for _, name := range slices.Sorted(maps.Keys(byColumn)) {
		if !slices.Contains(names, name) {
			resp.Diagnostics.AddAttributeError(path.Root("rule"), "Masking Rule Names Nothing",
				fmt.Sprintf("The query returns no column %q (it returns %s). Fix the rule's column or remove the rule.", name, strings.Join(names, ", ")))
		}
	}
	// Fail closed: a column that looks personal needs a rule. Each result
	// column is judged by the table column it comes from (renaming it with
	// AS hides nothing); a computed one, whose source cannot be told, needs
	// a rule too.
	sources, err := sourceColumns(ctx, tx, fields)
	if err != nil {
		resp.Diagnostics.AddAttributeError(path.Root("query"), summary, "Reading where the result columns come from: "+conn.sourceErrorDetail(ctx, err))
		return
	}
	for i, name := range names {
		if byColumn[name] != nil {
			continue
		}
		src, known := sources[i]
		if known && src.unresolved {
			resp.Diagnostics.AddAttributeError(path.Root("rule"), "Unmasked View Column",
				fmt.Sprintf("Result column %q is read from column %q of %s, which is computed there (or its definition could not be read), so the table column it comes from, and whether it holds personal data, cannot be told. "+
					"Query the base tables directly instead of the view, or add a rule for it:\n\n  rule {\n    column      = %q\n    transformer = \"keep\"  # if it is safe to show, or a masking transformer\n  }",
					name, src.viewColumn, strings.Join(src.via, " -> "), name))
			continue
		}
		if !known {
			resp.Diagnostics.AddAttributeError(path.Root("rule"), "Unmasked Computed Column",
				fmt.Sprintf("Result column %q is computed, not read from a table column, so whether it holds personal data cannot be told from its source. "+
					"Add a rule for it:\n\n  rule {\n    column      = %q\n    transformer = \"keep\"  # if it is safe to show, or a masking transformer\n  }", name, name))
			continue
		}
		var samples []string
		for _, rec := range records {
			if rec[i] != nil {
				samples = append(samples, *rec[i])
			}
		}
		f := masking.Detect(masking.Column{Name: src.column, SQLType: src.sqlType, Samples: samples})
		if len(f) == 0 && src.column != name {
			f = masking.Detect(masking.Column{Name: name, SQLType: src.sqlType, Samples: samples})
		}
		if len(f) == 0 {
			// The rows are shown: one e-mail address, IBAN, issued card
			// number or dashed SSN among them
			// is a leak, however few of the values it is.
			hits, kind, values := 0, "", samples
			if strings.HasSuffix(src.sqlType, "[]") {
				values = masking.ArrayElements(samples)
			}
			for _, v := range values {
				if k := masking.StrongValueKind(v); k != "" {
					hits, kind = hits+1, k
				}
			}
			if hits > 0 {
				resp.Diagnostics.AddAttributeError(path.Root("rule"), "Unmasked Personal Data",
					fmt.Sprintf("Result column %q returned %d value(s) that are or contain %s data (of %d returned) and has no rule. Add one such as:\n\n  rule {\n    column      = %q\n    transformer = \"text_scramble\"\n  }\n\nor transformer = \"keep\" if it is safe to show.",
						name, hits, kind, len(samples), name))
				continue
			}
		}
		if len(f) > 0 {
			from := ""
			switch {
			case len(src.via) > 0:
				from = fmt.Sprintf(" (it is %s.%s, read through %s)", src.table, src.column, strings.Join(src.via, " -> "))
			case src.column != name:
				from = fmt.Sprintf(" (it is %s.%s)", src.table, src.column)
			}
			resp.Diagnostics.AddAttributeError(path.Root("rule"), "Unmasked Personal Data",
				fmt.Sprintf("Result column %q%s looks like personal data (%s, confidence %.2f: %s) and has no rule. Add one such as:\n\n  rule {\n    column      = %q\n    transformer = %q\n  }\n\nor transformer = \"keep\" if it is safe to show.",
					name, from, f[0].Kind, f[0].Confidence, f[0].Reason, name, f[0].Suggested.Transformer))
		}
	}
	if resp.Diagnostics.HasError() {
		return
	}
	out := make([]attr.Value, 0, len(records))
	var buf []byte
	for _, rec := range records {
		row := map[string]attr.Value{}
		for i, name := range names {
			v := rec[i]
			if t := byColumn[name]; t != nil {
				var src []byte
				if v != nil {
					src = []byte(*v)
				}
				masked, isNull, err := masking.Apply(t, buf[:0], src, v == nil)
				if err != nil {
					resp.Diagnostics.AddAttributeError(path.Root("rule"), summary, fmt.Sprintf("Masking column %q: %s", name, err))
					return
				}
				buf = masked
				v = nil
				if !isNull {
					s := string(masked)
					v = &s
				}
			}
			row[name] = types.StringPointerValue(v)
		}
		mv, diags := types.MapValue(types.StringType, row)
		resp.Diagnostics.Append(diags...)
		out = append(out, mv)
	}
	lv, diags := types.ListValue(types.MapType{ElemType: types.StringType}, out)
	resp.Diagnostics.Append(diags...)
	m.Rows = lv
	cols, diags := types.ListValueFrom(ctx, types.StringType, names)
	resp.Diagnostics.Append(diags...)
	m.Columns = cols
	resp.Diagnostics.Append(resp.State.Set(ctx, m)...)
}
