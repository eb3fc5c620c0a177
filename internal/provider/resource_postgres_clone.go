package provider

import (
	"context"
	"crypto/hmac"
	"crypto/sha256"
	"encoding/hex"
	"encoding/json"
	"errors"
	"fmt"
	"sort"
	"strconv"
	"strings"
	"time"

	"github.com/hashicorp/terraform-plugin-framework-timeouts/resource/timeouts"
	"github.com/hashicorp/terraform-plugin-framework-validators/float64validator"
	"github.com/hashicorp/terraform-plugin-framework-validators/int64validator"
	"github.com/hashicorp/terraform-plugin-framework-validators/listvalidator"
	"github.com/hashicorp/terraform-plugin-framework-validators/stringvalidator"
	"github.com/hashicorp/terraform-plugin-framework/attr"
	"github.com/hashicorp/terraform-plugin-framework/path"
	"github.com/hashicorp/terraform-plugin-framework/resource"
	"github.com/hashicorp/terraform-plugin-framework/resource/schema"
	"github.com/hashicorp/terraform-plugin-framework/resource/schema/boolplanmodifier"
	"github.com/hashicorp/terraform-plugin-framework/resource/schema/int64planmodifier"
	"github.com/hashicorp/terraform-plugin-framework/resource/schema/listplanmodifier"
	"github.com/hashicorp/terraform-plugin-framework/resource/schema/mapplanmodifier"
	"github.com/hashicorp/terraform-plugin-framework/resource/schema/planmodifier"
	"github.com/hashicorp/terraform-plugin-framework/resource/schema/stringplanmodifier"
	"github.com/hashicorp/terraform-plugin-framework/schema/validator"
	"github.com/hashicorp/terraform-plugin-framework/types"
	"github.com/hashicorp/terraform-plugin-log/tflog"
	"github.com/jackc/pgx/v5"

	"github.com/stagingkit/terraform-provider-staging/internal/dsn"
	"github.com/stagingkit/terraform-provider-staging/internal/masking"
	"github.com/stagingkit/terraform-provider-staging/internal/pgclone"
	"github.com/stagingkit/terraform-provider-staging/internal/registry"
)

var (
	_ resource.ResourceWithConfigure      = (*postgresCloneResource)(nil)
	_ resource.ResourceWithModifyPlan     = (*postgresCloneResource)(nil)
	_ resource.ResourceWithValidateConfig = (*postgresCloneResource)(nil)
)

func newPostgresCloneResource() resource.Resource { return &postgresCloneResource{} }

// postgresCloneResource copies a production database into a staging
// database through masking rules and subsetting.
type postgresCloneResource struct{ data *providerData }

type postgresCloneModel struct {
	ID                     types.String   `tfsdk:"id"`
	Source                 types.String   `tfsdk:"source"`
	Target                 types.String   `tfsdk:"target"`
	Environment            types.String   `tfsdk:"environment"`
	Key                    types.String   `tfsdk:"key"`
	KeyVersion             types.Int64    `tfsdk:"key_version"`
	Schemas                types.List     `tfsdk:"schemas"`
	ExcludeSchemas         types.List     `tfsdk:"exclude_schemas"`
	Tables                 types.List     `tfsdk:"tables"`
	ExcludeTables          types.List     `tfsdk:"exclude_tables"`
	DefaultAction          types.String   `tfsdk:"default_action"`
	NullDanglingReferences types.Bool     `tfsdk:"null_dangling_references"`
	Parallelism            types.Int64    `tfsdk:"parallelism"`
	RefreshAfter           types.String   `tfsdk:"refresh_after"`
	Triggers               types.Map      `tfsdk:"triggers"`
	Rules                  types.List     `tfsdk:"rule"`
	Subsets                types.List     `tfsdk:"subset"`
	VirtualForeignKeys     types.List     `tfsdk:"virtual_foreign_key"`
	Timeouts               timeouts.Value `tfsdk:"timeouts"`

	PlannedRows         types.Map     `tfsdk:"planned_rows"`
	TableStats          types.Map     `tfsdk:"table_stats"`
	RowsTotal           types.Int64   `tfsdk:"rows_total"`
	BytesTotal          types.Int64   `tfsdk:"bytes_total"`
	SnapshotTime        types.String  `tfsdk:"snapshot_time"`
	ClonedAt            types.String  `tfsdk:"cloned_at"`
	DurationSeconds     types.Float64 `tfsdk:"duration_seconds"`
	PolicyHash          types.String  `tfsdk:"policy_hash"`
	TransformerVersions types.Map     `tfsdk:"transformer_versions"`
}

type cloneRuleModel struct {
	Table       types.String `tfsdk:"table"`
	Column      types.String `tfsdk:"column"`
	Transformer types.String `tfsdk:"transformer"`
	Domain      types.String `tfsdk:"domain"`
	OnInvalid   types.String `tfsdk:"on_invalid"`
	Options     types.Map    `tfsdk:"options"`
}

type cloneSubsetModel struct {
	Table   types.String  `tfsdk:"table"`
	Where   types.String  `tfsdk:"where"`
	Percent types.Float64 `tfsdk:"percent"`
}

type cloneVirtualFKModel struct {
	Table             types.String `tfsdk:"table"`
	Columns           types.List   `tfsdk:"columns"`
	ReferencesTable   types.String `tfsdk:"references_table"`
	ReferencesColumns types.List   `tfsdk:"references_columns"`
}

// tableStatsAttrs are the attributes of one table_stats entry.
var tableStatsAttrs = map[string]attr.Type{"rows": types.Int64Type, "bytes": types.Int64Type, "seconds": types.Float64Type}

// defaultCloneTimeout bounds a clone when the configuration sets none.
const defaultCloneTimeout = 2 * time.Hour

func (r *postgresCloneResource) Metadata(_ context.Context, req resource.MetadataRequest, resp *resource.MetadataResponse) {
	resp.TypeName = req.ProviderTypeName + "_postgres_clone"
}

func (r *postgresCloneResource) Schema(ctx context.Context, _ resource.SchemaRequest, resp *resource.SchemaResponse) {
	replace := []planmodifier.String{stringplanmodifier.RequiresReplace()}
	replaceList := []planmodifier.List{listplanmodifier.RequiresReplace()}
	strList := func(desc string) schema.ListAttribute {
		return schema.ListAttribute{MarkdownDescription: desc, ElementType: types.StringType, Optional: true, PlanModifiers: replaceList}
	}
	stable := func(desc string) schema.StringAttribute {
		return schema.StringAttribute{MarkdownDescription: desc, Computed: true, PlanModifiers: []planmodifier.String{stringplanmodifier.UseStateForUnknown()}}
	}
	resp.Schema = schema.Schema{
		MarkdownDescription: "Copies a production PostgreSQL database into a staging database: the schema from the catalog, and the data through masking rules " +
			"and foreign-key-safe subsetting, from one consistent snapshot, atomically. Production is only read, inside `READ ONLY` transactions. " +
			"Before anything is written (at plan time when the connections are known), every column is run through the PII detector: " +
			"a column that looks like personal data and has no rule fails, naming `schema.table.column`, the kind and a suggested rule. " +
			"The staging database keeps its previous content until the new copy is complete and verified, then the copy replaces it in one transaction. " +
			"Changing anything that shapes the data plans a new copy. The copy owns the schemas it copies in the staging database: " +
			"objects that exist only in the staging copies of those schemas are replaced with them, and destroying the resource drops them.",
		Attributes: map[string]schema.Attribute{
			"id": stable("Identifier of this copy."),
			"source": schema.StringAttribute{
				MarkdownDescription: "Name of the provider's `postgres` connection to copy from, usually the one with role `production`.",
				Required:            true, PlanModifiers: replace,
			},
			"target": schema.StringAttribute{
				MarkdownDescription: "Name of the provider's `postgres` connection to copy into. It must have role `staging` and must not be the source database.",
				Required:            true, PlanModifiers: replace,
			},
			"environment": schema.StringAttribute{
				MarkdownDescription: "Name of the `staging_environment` this copy belongs to; each copy's audit record (tables, rows, policy hash, transformer versions) is written to the registry's audit log.",
				Optional:            true,
				Validators:          nameValidators(),
			},
			"key": schema.StringAttribute{
				MarkdownDescription: "The environment's masking secret. Write-only: never stored in plan or state (Terraform 1.11 or newer). " +
					"The same key masks the same value the same way in every table and every run; another key gives unlinkable output. Change `key_version` to re-mask with a new key.",
				Required: true, Sensitive: true, WriteOnly: true,
			},
			"key_version": schema.Int64Attribute{
				MarkdownDescription: "Bump it when `key` changes: Terraform cannot see changes of a write-only value, and a new key needs a new copy.",
				Optional:            true,
				PlanModifiers:       []planmodifier.Int64{int64planmodifier.RequiresReplace()},
			},
			"schemas":         strList("Globs of schemas to copy. Default: every schema except the system ones."),
			"exclude_schemas": strList("Globs of schemas not to copy."),
			"tables":          strList("Globs of `schema.table` to copy. Default: every table of the copied schemas."),
			"exclude_tables":  strList("Globs of `schema.table` not to copy."),
			"default_action": schema.StringAttribute{
				MarkdownDescription: "What happens to columns without a rule: `keep` (the default) copies them as they are. Columns the PII detector flags still fail closed: give them a rule, `keep` included.",
				Optional:            true, PlanModifiers: replace,
				Validators: []validator.String{stringvalidator.OneOf(pgclone.ActionKeep)},
			},
			"null_dangling_references": schema.BoolAttribute{
				MarkdownDescription: "With subsetting, set nullable references to rows that are not copied to NULL instead of leaving the referencing rows out. Needed to subset across a cycle of foreign keys.",
				Optional:            true,
				PlanModifiers:       []planmodifier.Bool{boolplanmodifier.RequiresReplace()},
			},
			"parallelism": schema.Int64Attribute{
				MarkdownDescription: "Tables copied at once, each over its own pair of connections sharing one snapshot. Default: the number of CPU cores.",
				Optional:            true,
				Validators:          []validator.Int64{int64validator.Between(1, 64)},
			},
			"refresh_after": schema.StringAttribute{
				MarkdownDescription: "Age after which the copy is stale, such as `7d`: a plan after that replaces it with a fresh copy.",
				Optional:            true,
				Validators:          []validator.String{durationValidator{}},
			},
			"triggers": schema.MapAttribute{
				MarkdownDescription: "Arbitrary values whose change plans a fresh copy, such as a release version.",
				ElementType:         types.StringType, Optional: true,
				PlanModifiers: []planmodifier.Map{mapplanmodifier.RequiresReplace()},
			},
			"planned_rows": schema.MapAttribute{
				MarkdownDescription: "Rows per `schema.table` the copy is expected to hold, counted at plan time in a snapshot of the source (after subsetting).",
				ElementType:         types.Int64Type, Computed: true,
				PlanModifiers: []planmodifier.Map{mapplanmodifier.UseStateForUnknown()},
			},
			"table_stats": schema.MapAttribute{
				MarkdownDescription: "Per `schema.table`: `rows` and `bytes` copied and `seconds` taken.",
				ElementType:         types.ObjectType{AttrTypes: tableStatsAttrs}, Computed: true,
				PlanModifiers: []planmodifier.Map{mapplanmodifier.UseStateForUnknown()},
			},
			"rows_total":           schema.Int64Attribute{MarkdownDescription: "Rows copied in all.", Computed: true, PlanModifiers: []planmodifier.Int64{int64planmodifier.UseStateForUnknown()}},
			"bytes_total":          schema.Int64Attribute{MarkdownDescription: "Bytes copied in all (text COPY format, after masking).", Computed: true, PlanModifiers: []planmodifier.Int64{int64planmodifier.UseStateForUnknown()}},
			"snapshot_time":        stable("The source's time in the snapshot the copy was read from (RFC 3339)."),
			"cloned_at":            stable("When the copy completed (RFC 3339); `refresh_after` counts from here."),
			"duration_seconds":     schema.Float64Attribute{MarkdownDescription: "How long the copy took.", Computed: true},
			"policy_hash":          stable("SHA-256 of the masking and subsetting policy (never of the key): equal hashes mean equal policies."),
			"transformer_versions": schema.MapAttribute{MarkdownDescription: "`schema.table.column` to the version of the transformer that masked it.", ElementType: types.StringType, Computed: true, PlanModifiers: []planmodifier.Map{mapplanmodifier.UseStateForUnknown()}},
		},
		Blocks: map[string]schema.Block{
			"rule": schema.ListNestedBlock{
				MarkdownDescription: "How to mask one column. See the `mask` function for the transformers and their options.",
				PlanModifiers:       []planmodifier.List{listplanmodifier.RequiresReplace()},
				NestedObject: schema.NestedBlockObject{Attributes: map[string]schema.Attribute{
					"table":  schema.StringAttribute{MarkdownDescription: "`schema.table`, or `table` in schema `public`. A rule on a partitioned table covers its partitions.", Required: true},
					"column": schema.StringAttribute{MarkdownDescription: "Column name.", Required: true},
					"transformer": schema.StringAttribute{
						MarkdownDescription: "Transformer name, such as `email`, `phone`, `credit_card`, `full_name`, `date_shift` or `keep` (copy as is, declaring the column safe).",
						Required:            true,
						Validators:          []validator.String{stringvalidator.OneOf(masking.TransformerNames()...)},
					},
					"domain": schema.StringAttribute{
						MarkdownDescription: "Masking domain: columns that share a domain mask equal values equally, so joins on them still work. Default: the transformer's name.",
						Optional:            true,
					},
					"on_invalid": schema.StringAttribute{
						MarkdownDescription: "What happens to a value that is not valid for the transformer's format: `error` (the default) fails the copy, `redact` or `hash` replace it.",
						Optional:            true,
						Validators:          []validator.String{stringvalidator.OneOf(masking.OnInvalidError, masking.OnInvalidRedact, masking.OnInvalidHash)},
					},
					"options": schema.MapAttribute{
						MarkdownDescription: "Transformer options as strings, converted to each option's type (numbers, `true`/`false`, JSON for maps), such as `{ keep_issuer = \"true\" }`.",
						ElementType:         types.StringType, Optional: true,
					},
				}},
			},
			"subset": schema.ListNestedBlock{
				MarkdownDescription: "Copy only part of a root table; every table that references it follows, so that all references resolve.",
				PlanModifiers:       []planmodifier.List{listplanmodifier.RequiresReplace()},
				NestedObject: schema.NestedBlockObject{Attributes: map[string]schema.Attribute{
					"table": schema.StringAttribute{MarkdownDescription: "`schema.table` or `table` in `public`.", Required: true},
					"where": schema.StringAttribute{MarkdownDescription: "SQL condition on the table's columns, evaluated in the source snapshot.", Optional: true},
					"percent": schema.Float64Attribute{
						MarkdownDescription: "Share of the rows to copy, chosen deterministically from the primary key and the masking key, so two runs pick the same rows.",
						Optional:            true,
						Validators:          []validator.Float64{float64validator.Between(0.0001, 100)},
					},
				}},
			},
			"virtual_foreign_key": schema.ListNestedBlock{
				MarkdownDescription: "A relationship the catalog does not know, followed by subsetting like a foreign key.",
				PlanModifiers:       []planmodifier.List{listplanmodifier.RequiresReplace()},
				NestedObject: schema.NestedBlockObject{Attributes: map[string]schema.Attribute{
					"table":              schema.StringAttribute{MarkdownDescription: "The referencing table.", Required: true},
					"columns":            schema.ListAttribute{MarkdownDescription: "The referencing columns.", ElementType: types.StringType, Required: true, Validators: []validator.List{listvalidator.SizeAtLeast(1)}},
					"references_table":   schema.StringAttribute{MarkdownDescription: "The referenced table.", Required: true},
					"references_columns": schema.ListAttribute{MarkdownDescription: "The referenced columns, in the same order.", ElementType: types.StringType, Required: true, Validators: []validator.List{listvalidator.SizeAtLeast(1)}},
				}},
			},
			"timeouts": timeouts.Block(ctx, timeouts.Opts{Create: true}),
		},
	}
}

func (r *postgresCloneResource) Configure(_ context.Context, req resource.ConfigureRequest, resp *resource.ConfigureResponse) {
	r.data = providerDataFrom(req.ProviderData, &resp.Diagnostics)
}

func (r *postgresCloneResource) ValidateConfig(ctx context.Context, req resource.ValidateConfigRequest, resp *resource.ValidateConfigResponse) {
	var m postgresCloneModel
	resp.Diagnostics.Append(req.Config.Get(ctx, &m)...)
	if resp.Diagnostics.HasError() {
		return
	}
	if !m.Source.IsUnknown() && !m.Target.IsUnknown() && m.Source.ValueString() == m.Target.ValueString() {
		resp.Diagnostics.AddAttributeError(path.Root("target"), "Invalid Clone Target",
			fmt.Sprintf("source and target are both the connection %q: a clone never writes into the database it reads. Point target at the staging connection.", m.Source.ValueString()))
	}
	var subsets []cloneSubsetModel
	resp.Diagnostics.Append(m.Subsets.ElementsAs(ctx, &subsets, false)...)
	for i, s := range subsets {
		if s.Where.IsNull() && s.Percent.IsNull() {
			resp.Diagnostics.AddAttributeError(path.Root("subset").AtListIndex(i), "Invalid Subset",
				"A subset block needs where, percent, or both: it chooses the rows of its table.")
		}
	}
	var rules []cloneRuleModel
	resp.Diagnostics.Append(m.Rules.ElementsAs(ctx, &rules, false)...)
	seen := map[string]int{}
	for i, rule := range rules {
		if rule.Table.IsUnknown() || rule.Column.IsUnknown() {
			continue
		}
		k := pgclone.Qualify(rule.Table.ValueString()) + "." + rule.Column.ValueString()
		if j, dup := seen[k]; dup {
			resp.Diagnostics.AddAttributeError(path.Root("rule").AtListIndex(i), "Duplicate Masking Rule",
				fmt.Sprintf("Rules %d and %d both mask %s; keep one.", j, i, k))
		}
		seen[k] = i
		if _, err := ruleSpec(ctx, rule); err != nil {
			resp.Diagnostics.AddAttributeError(path.Root("rule").AtListIndex(i).AtName("options"), "Invalid Masking Rule", err.Error())
		}
	}
}

// ruleSpec converts a rule block into a masking spec, typing each option
// as the transformer's catalog declares it.
func ruleSpec(ctx context.Context, rule cloneRuleModel) (masking.Spec, error) {
	spec := masking.Spec{Transformer: rule.Transformer.ValueString(), Domain: rule.Domain.ValueString(), OnInvalid: rule.OnInvalid.ValueString()}
	if rule.Options.IsNull() || rule.Options.IsUnknown() {
		return spec, nil
	}
	raw := map[string]string{}
	if d := rule.Options.ElementsAs(ctx, &raw, false); d.HasError() {
		return spec, errors.New("options must be a map of strings")
	}
	types := map[string]string{}
	for _, info := range masking.Catalog() {
		if info.Name == spec.Transformer {
			for _, o := range info.Options {
				types[o.Name] = o.Type
			}
		}
	}
	spec.Options = map[string]any{}
	for k, v := range raw {
		switch types[k] {
		case "number":
			f, err := strconv.ParseFloat(v, 64)
			if err != nil {
				return spec, fmt.Errorf("option %q of transformer %q must be a number, got %q", k, spec.Transformer, v)
			}
			spec.Options[k] = f
		case "bool":
			b, err := strconv.ParseBool(v)
			if err != nil {
				return spec, fmt.Errorf("option %q of transformer %q must be true or false, got %q", k, spec.Transformer, v)
			}
			spec.Options[k] = b
		case "map":
			var m map[string]any
			if err := json.Unmarshal([]byte(v), &m); err != nil {
				return spec, fmt.Errorf("option %q of transformer %q must be a JSON object (use jsonencode), got %q", k, spec.Transformer, v)
			}
			spec.Options[k] = m
		default:
			spec.Options[k] = v
		}
	}
	return spec, nil
}

// options builds the engine's options from the configuration. key may be
// the zero key at plan time.
func (r *postgresCloneResource) options(ctx context.Context, m postgresCloneModel, key masking.Key, keySecret string, diags *diagnostics) pgclone.Options {
	list := func(l types.List) []string {
		var out []string
		if !l.IsNull() && !l.IsUnknown() {
			diags.Append(l.ElementsAs(ctx, &out, false)...)
		}
		return out
	}
	opts := pgclone.Options{
		IncludeSchemas: list(m.Schemas), ExcludeSchemas: list(m.ExcludeSchemas),
		IncludeTables: list(m.Tables), ExcludeTables: list(m.ExcludeTables),
		DefaultAction: m.DefaultAction.ValueString(),
		Key:           key,
		Parallelism:   int(m.Parallelism.ValueInt64()),
	}
	var rules []cloneRuleModel
	diags.Append(m.Rules.ElementsAs(ctx, &rules, false)...)
	for _, rule := range rules {
		spec, err := ruleSpec(ctx, rule)
		if err != nil {
			continue // reported by ValidateConfig
		}
		opts.Rules = append(opts.Rules, pgclone.ColumnRule{Table: rule.Table.ValueString(), Column: rule.Column.ValueString(), Spec: spec})
	}
	var subsets []cloneSubsetModel
	diags.Append(m.Subsets.ElementsAs(ctx, &subsets, false)...)
	for _, s := range subsets {
		opts.Subset.Subsets = append(opts.Subset.Subsets, pgclone.Subset{Table: s.Table.ValueString(), Where: s.Where.ValueString(), Percent: s.Percent.ValueFloat64()})
	}
	var vfks []cloneVirtualFKModel
	diags.Append(m.VirtualForeignKeys.ElementsAs(ctx, &vfks, false)...)
	for _, v := range vfks {
		opts.Subset.VirtualForeignKeys = append(opts.Subset.VirtualForeignKeys, pgclone.VirtualForeignKey{
			Table: v.Table.ValueString(), Columns: list(v.Columns), RefTable: v.ReferencesTable.ValueString(), RefColumns: list(v.ReferencesColumns)})
	}
	opts.Subset.NullDangling = m.NullDanglingReferences.ValueBool()
	opts.Subset.Seed = subsetSeed(keySecret)
	return opts
}

// subsetSeed derives the seed of percent subsets from the masking secret:
// the same key picks the same rows, and the secret itself is never sent to
// the server.
func subsetSeed(secret string) string {
	if secret == "" {
		return ""
	}
	h := hmac.New(sha256.New, []byte(secret))
	h.Write([]byte("terraform-provider-staging subset seed v1"))
	return hex.EncodeToString(h.Sum(nil))[:32]
}

// configKey reads the write-only key from the configuration.
func configKey(ctx context.Context, cfg interface {
	GetAttribute(context.Context, path.Path, any) diagnostics
}, diags *diagnostics) (types.String, bool) {
	var key types.String
	diags.Append(cfg.GetAttribute(ctx, path.Root("key"), &key)...)
	return key, !diags.HasError()
}

// analyze opens a read-only snapshot of the source and checks the policy,
// turning problems into diagnostics that name the column and what to do.
func (r *postgresCloneResource) analyze(ctx context.Context, m postgresCloneModel, secret string, diags *diagnostics) (pgclone.Analysis, bool) {
	src, ok := r.data.connection(m.Source.ValueString(), path.Root("source"), false, diags)
	if !ok {
		return pgclone.Analysis{}, false
	}
	if _, ok := r.data.connection(m.Target.ValueString(), path.Root("target"), true, diags); !ok {
		return pgclone.Analysis{}, false
	}
	if src.unknown {
		return pgclone.Analysis{}, false
	}
	opts := r.options(ctx, m, masking.Key{}, secret, diags)
	if diags.HasError() {
		return pgclone.Analysis{}, false
	}
	tx, done, ok := src.readOnly(ctx, path.Root("source"), "Error Reading Clone Source", diags)
	if !ok {
		return pgclone.Analysis{}, false
	}
	defer done()
	a, err := pgclone.Analyze(ctx, tx, opts)
	if err != nil {
		var se *pgclone.SubsetError
		if errors.As(err, &se) {
			diags.AddAttributeError(path.Root("subset"), "Invalid Subset", se.Error())
			return pgclone.Analysis{}, false
		}
		diags.AddAttributeError(path.Root("source"), "Error Reading Clone Source", err.Error())
		return pgclone.Analysis{}, false
	}
	addProblems(m, a.Problems, diags)
	return a, !diags.HasError()
}

// addProblems reports policy problems, each at the rule it concerns when
// there is one.
func addProblems(m postgresCloneModel, problems []pgclone.Problem, diags *diagnostics) {
	ruleIndex := map[string]int{}
	var rules []cloneRuleModel
	_ = m.Rules.ElementsAs(context.Background(), &rules, false)
	for i, r := range rules {
		ruleIndex[pgclone.Qualify(r.Table.ValueString())+"."+r.Column.ValueString()] = i
	}
	for _, p := range problems {
		name := p.Table
		if p.Column != "" {
			name += "." + p.Column
		}
		at := path.Root("rule")
		if i, ok := ruleIndex[pgclone.Qualify(p.Table)+"."+p.Column]; ok {
			at = at.AtListIndex(i)
		}
		switch p.Kind {
		case pgclone.ProblemUnmaskedPII:
			detail := fmt.Sprintf("Column %s looks like personal data (%s) and has no masking rule, so it would reach staging unmasked.", name, p.Detail)
			if p.Suggested != nil {
				detail += "\n\nAdd a rule such as:\n\n" + suggestedRule(p.Table, p.Column, *p.Suggested) +
					"\nor, if the column is safe to copy as it is, a rule with transformer = \"keep\"."
			}
			diags.AddAttributeError(at, "Unmasked Personal Data", detail)
		case pgclone.ProblemNonBijectiveUnique:
			diags.AddAttributeError(at, "Masking Rule Breaks Uniqueness",
				fmt.Sprintf("Column %s is in a primary key or unique index, but %s. Use a bijective transformer (email, phone, credit_card, iban, digits, uuid, ip, format_preserving, or hash with length >= 32).", name, p.Detail))
		case pgclone.ProblemUnknownTable, pgclone.ProblemUnknownColumn:
			diags.AddAttributeError(at, "Masking Rule Names Nothing", fmt.Sprintf("%s: %s. Fix the rule's table or column, or remove it.", name, p.Detail))
		default:
			diags.AddAttributeError(at, "Invalid Masking Rule", fmt.Sprintf("%s: %s", name, p.Detail))
		}
	}
}

// suggestedRule renders a rule block a user can paste.
func suggestedRule(table, column string, s masking.Spec) string {
	var b strings.Builder
	fmt.Fprintf(&b, "  rule {\n    table       = %q\n    column      = %q\n    transformer = %q\n", strings.TrimPrefix(table, "public."), column, s.Transformer)
	if s.Domain != "" && s.Domain != s.Transformer {
		fmt.Fprintf(&b, "    domain      = %q\n", s.Domain)
	}
	if len(s.Options) > 0 {
		keys := make([]string, 0, len(s.Options))
		for k := range s.Options {
			keys = append(keys, k)
		}
		sort.Strings(keys)
		b.WriteString("    options     = {")
		for i, k := range keys {
			if i > 0 {
				b.WriteString(",")
			}
			fmt.Fprintf(&b, " %s = %q", k, fmt.Sprint(s.Options[k]))
		}
		b.WriteString(" }\n")
	}
	b.WriteString("  }\n")
	return b.String()
}

// ModifyPlan checks the masking policy against the source before anything
// is written, shows the expected rows per table, and plans a fresh copy
// when the current one is older than refresh_after.
func (r *postgresCloneResource) ModifyPlan(ctx context.Context, req resource.ModifyPlanRequest, resp *resource.ModifyPlanResponse) {
	if req.Plan.Raw.IsNull() || r.data == nil {
		return
	}
	var plan postgresCloneModel
	resp.Diagnostics.Append(req.Plan.Get(ctx, &plan)...)
	if resp.Diagnostics.HasError() {
		return
	}
	var state *postgresCloneModel
	if !req.State.Raw.IsNull() {
		state = &postgresCloneModel{}
		resp.Diagnostics.Append(req.State.Get(ctx, state)...)
	}
	if state != nil {
		// Staleness: an old copy is replaced by a fresh one.
		if age, stale := r.stale(*state, plan); stale {
			// Terraform replaces only for paths whose value changes: the
			// copy's time does (it becomes unknown).
			resp.RequiresReplace = append(resp.RequiresReplace, path.Root("cloned_at"))
			resp.Diagnostics.AddWarning("Staging Data Is Stale",
				fmt.Sprintf("The copy was made %s ago (at %s), longer than refresh_after %s: this plan replaces it with a fresh copy.",
					registry.FormatDuration(age.Truncate(time.Minute)), state.ClonedAt.ValueString(), plan.RefreshAfter.ValueString()))
			unknownResults(&plan)
		} else if len(resp.RequiresReplace) == 0 {
			resp.Diagnostics.Append(resp.Plan.Set(ctx, plan)...)
			return // an in-place update: no new copy, nothing to check
		}
	}
	key, ok := configKey(ctx, req.Config, &resp.Diagnostics)
	if !ok || key.IsUnknown() {
		resp.Diagnostics.Append(resp.Plan.Set(ctx, plan)...)
		return
	}
	if key.ValueString() == "" {
		resp.Diagnostics.AddAttributeError(path.Root("key"), "Missing Masking Key",
			"key is empty: set it to the environment's masking secret (for example from an ephemeral resource or a sensitive variable). There is no default key.")
		return
	}
	a, ok := r.analyze(ctx, plan, key.ValueString(), &resp.Diagnostics)
	if !ok {
		return
	}
	planned := map[string]int64{}
	for _, t := range a.Tables {
		planned[t.Name] = t.Rows
	}
	v, d := types.MapValueFrom(ctx, types.Int64Type, planned)
	resp.Diagnostics.Append(d...)
	plan.PlannedRows = v
	resp.Diagnostics.Append(resp.Plan.Set(ctx, plan)...)
}

// stale reports whether the copy in state is older than refresh_after.
func (r *postgresCloneResource) stale(state, plan postgresCloneModel) (time.Duration, bool) {
	if plan.RefreshAfter.IsNull() || plan.RefreshAfter.IsUnknown() || state.ClonedAt.IsNull() {
		return 0, false
	}
	d, err := registry.ParseDuration(plan.RefreshAfter.ValueString())
	if err != nil {
		return 0, false
	}
	at, err := time.Parse(time.RFC3339, state.ClonedAt.ValueString())
	if err != nil {
		return 0, false
	}
	age := r.data.now().Sub(at)
	return age, age >= d
}

// unknownResults marks everything a new copy recomputes as unknown.
func unknownResults(m *postgresCloneModel) {
	m.ID = types.StringUnknown()
	m.PlannedRows = types.MapUnknown(types.Int64Type)
	m.TableStats = types.MapUnknown(types.ObjectType{AttrTypes: tableStatsAttrs})
	m.RowsTotal = types.Int64Unknown()
	m.BytesTotal = types.Int64Unknown()
	m.SnapshotTime = types.StringUnknown()
	m.ClonedAt = types.StringUnknown()
	m.DurationSeconds = types.Float64Unknown()
	m.PolicyHash = types.StringUnknown()
	m.TransformerVersions = types.MapUnknown(types.StringType)
}

func (r *postgresCloneResource) Create(ctx context.Context, req resource.CreateRequest, resp *resource.CreateResponse) {
	var plan postgresCloneModel
	resp.Diagnostics.Append(req.Plan.Get(ctx, &plan)...)
	key, _ := configKey(ctx, req.Config, &resp.Diagnostics)
	if resp.Diagnostics.HasError() {
		return
	}
	if key.ValueString() == "" {
		resp.Diagnostics.AddAttributeError(path.Root("key"), "Missing Masking Key", "key is empty: set it to the environment's masking secret. There is no default key.")
		return
	}
	timeout, d := plan.Timeouts.Create(ctx, defaultCloneTimeout)
	resp.Diagnostics.Append(d...)
	if resp.Diagnostics.HasError() {
		return
	}
	ctx, cancel := context.WithTimeout(ctx, timeout)
	defer cancel()

	src, ok := r.data.connection(plan.Source.ValueString(), path.Root("source"), false, &resp.Diagnostics)
	if !ok {
		return
	}
	dst, ok := r.data.connection(plan.Target.ValueString(), path.Root("target"), true, &resp.Diagnostics)
	if !ok {
		return
	}
	// The environment must exist before anything is copied for it.
	var store registry.Store
	if !plan.Environment.IsNull() {
		if store = r.data.openStore(ctx, &resp.Diagnostics); store == nil {
			return
		}
		if _, err := store.GetEnvironment(ctx, plan.Environment.ValueString()); err != nil {
			addRegistryError(&resp.Diagnostics, "Error Cloning PostgreSQL Database", err)
			return
		}
	}
	mk, err := masking.DeriveKey([]byte(key.ValueString()))
	if err != nil {
		resp.Diagnostics.AddAttributeError(path.Root("key"), "Invalid Masking Key", err.Error())
		return
	}
	opts := r.options(ctx, plan, mk, key.ValueString(), &resp.Diagnostics)
	if resp.Diagnostics.HasError() {
		return
	}
	opts.Progress = func(p pgclone.TableProgress) {
		tflog.Info(ctx, "copying table", map[string]any{
			"table": p.Table, "rows": p.Rows, "total_rows": p.TotalRows,
			"rows_per_second": int64(p.RowsPerSecond), "percent": fmt.Sprintf("%.1f", p.Percent), "done": p.Done,
		})
	}
	srcCfg, err := pgx.ParseConfig(src.dsn)
	if err != nil {
		resp.Diagnostics.AddAttributeError(path.Root("source"), "Error Cloning PostgreSQL Database", dsn.Scrub(err, src.dsn).Error())
		return
	}
	dstCfg, err := pgx.ParseConfig(dst.dsn)
	if err != nil {
		resp.Diagnostics.AddAttributeError(path.Root("target"), "Error Cloning PostgreSQL Database", dsn.Scrub(err, dst.dsn).Error())
		return
	}
	tflog.Info(ctx, "cloning PostgreSQL database", map[string]any{"source": src.name, "target": dst.name})
	res, err := pgclone.Clone(ctx, srcCfg, dstCfg, opts)
	if err != nil {
		r.cloneError(plan, err, src, dst, &resp.Diagnostics)
		return
	}
	for col, n := range res.CoincidentalMatches {
		tflog.Info(ctx, "masked values that equal another production value by chance (format-preserving masking of a dense value space)",
			map[string]any{"column": col, "count": n})
	}
	r.setResult(ctx, &plan, res, &resp.Diagnostics)
	if store != nil {
		after, _ := json.Marshal(auditRecord(plan, res))
		if _, err := store.RecordEvent(ctx, r.data.actor, registry.Event{Action: "clone", ObjectType: "postgres_clone",
			Object: plan.Environment.ValueString(), After: string(after)}); err != nil {
			resp.Diagnostics.AddWarning("Clone Not Recorded in the Registry",
				"The copy succeeded, but its audit record could not be written to the registry: "+err.Error())
		}
	}
	resp.Diagnostics.Append(resp.State.Set(ctx, plan)...)
}

// cloneError explains a failed clone; the staging database is unchanged.
func (r *postgresCloneResource) cloneError(m postgresCloneModel, err error, src, dst pgConnection, diags *diagnostics) {
	const summary = "Error Cloning PostgreSQL Database"
	err = dsn.Scrub(dsn.Scrub(err, src.dsn), dst.dsn)
	var (
		problems *pgclone.ProblemsError
		leak     *pgclone.LeakError
		subset   *pgclone.SubsetError
	)
	unchanged := "The staging database was left as it was."
	switch {
	case errors.As(err, &problems):
		addProblems(m, problems.Problems, diags)
	case errors.As(err, &leak):
		diags.AddError("Masked Data Leak Detected", "Masking left production values unchanged in identifier columns, more often than chance explains; nothing was replaced. "+unchanged+
			" Use a rule that changes every value of these columns (check options such as keep_prefix).\n\n"+leak.Error())
	case errors.As(err, &subset):
		diags.AddAttributeError(path.Root("subset"), "Invalid Subset", subset.Error())
	case errors.Is(err, pgclone.ErrSameDatabase):
		diags.AddAttributeError(path.Root("target"), summary, fmt.Sprintf("Connections %q and %q point at the same database; a clone never writes into the database it reads.", src.name, dst.name))
	case errors.Is(err, context.DeadlineExceeded):
		diags.AddError(summary, "The copy did not finish within the create timeout; raise timeouts.create or subset more. "+unchanged+"\n\n"+err.Error())
	default:
		diags.AddError(summary, unchanged+"\n\n"+err.Error())
	}
}

// auditRecord is what the registry keeps about one copy.
func auditRecord(m postgresCloneModel, res pgclone.Result) map[string]any {
	tables := map[string]map[string]int64{}
	for _, t := range res.Tables {
		tables[t.Name] = map[string]int64{"rows": t.Rows, "bytes": t.Bytes}
	}
	return map[string]any{
		"source": m.Source.ValueString(), "target": m.Target.ValueString(),
		"snapshot_time": res.SnapshotTime.UTC().Format(time.RFC3339), "duration_seconds": res.Duration.Seconds(),
		"policy_hash": res.PolicyHash, "transformer_versions": res.TransformerVersions, "tables": tables,
		"source_server_version": res.ServerVersion, "coincidental_matches": res.CoincidentalMatches,
	}
}

func (r *postgresCloneResource) setResult(ctx context.Context, m *postgresCloneModel, res pgclone.Result, diags *diagnostics) {
	if m.ID.IsUnknown() || m.ID.IsNull() {
		sum := sha256.Sum256([]byte(res.PolicyHash + res.SnapshotTime.String() + m.Target.ValueString()))
		m.ID = types.StringValue("clone-" + hex.EncodeToString(sum[:8]))
	}
	stats := map[string]attr.Value{}
	var rows, bytes int64
	for _, t := range res.Tables {
		obj, d := types.ObjectValue(tableStatsAttrs, map[string]attr.Value{
			"rows": types.Int64Value(t.Rows), "bytes": types.Int64Value(t.Bytes), "seconds": types.Float64Value(t.Duration.Seconds()),
		})
		diags.Append(d...)
		stats[t.Name] = obj
		rows += t.Rows
		bytes += t.Bytes
	}
	sv, d := types.MapValue(types.ObjectType{AttrTypes: tableStatsAttrs}, stats)
	diags.Append(d...)
	m.TableStats = sv
	m.RowsTotal = types.Int64Value(rows)
	m.BytesTotal = types.Int64Value(bytes)
	m.SnapshotTime = timeString(res.SnapshotTime)
	m.ClonedAt = timeString(r.data.now())
	m.DurationSeconds = types.Float64Value(res.Duration.Round(time.Millisecond).Seconds())
	m.PolicyHash = types.StringValue(res.PolicyHash)
	tv, d := types.MapValueFrom(ctx, types.StringType, res.TransformerVersions)
	diags.Append(d...)
	m.TransformerVersions = tv
	if m.PlannedRows.IsUnknown() {
		// Not known at plan (connections unknown then): the copy's own counts.
		planned := map[string]int64{}
		for _, t := range res.Tables {
			planned[t.Name] = t.Rows
		}
		pv, d := types.MapValueFrom(ctx, types.Int64Type, planned)
		diags.Append(d...)
		m.PlannedRows = pv
	}
}

// Read checks that the copy is still in the staging database: if its
// tables are gone, the resource is removed from state and the next plan
// copies again.
func (r *postgresCloneResource) Read(ctx context.Context, req resource.ReadRequest, resp *resource.ReadResponse) {
	var state postgresCloneModel
	resp.Diagnostics.Append(req.State.Get(ctx, &state)...)
	if resp.Diagnostics.HasError() || r.data == nil {
		return
	}
	dst, ok := r.data.connection(state.Target.ValueString(), path.Root("target"), true, &resp.Diagnostics)
	if !ok || dst.unknown {
		return
	}
	tables := map[string]attr.Value{}
	if !state.TableStats.IsNull() && !state.TableStats.IsUnknown() {
		tables = state.TableStats.Elements()
	}
	if len(tables) == 0 {
		return
	}
	conn, err := dst.connect(ctx)
	if err != nil {
		resp.Diagnostics.AddAttributeError(path.Root("target"), "Error Reading PostgreSQL Clone",
			"Check that the staging server is reachable and the credentials of the connection are right.\n\n"+err.Error())
		return
	}
	defer conn.Close(context.WithoutCancel(ctx))
	names := make([]string, 0, len(tables))
	for n := range tables {
		names = append(names, n)
	}
	var present int
	err = conn.QueryRow(ctx, `SELECT count(*) FROM unnest($1::text[]) AS n WHERE to_regclass(quote_ident(split_part(n, '.', 1)) || '.' || quote_ident(split_part(n, '.', 2))) IS NOT NULL`, names).Scan(&present)
	if err != nil {
		resp.Diagnostics.AddAttributeError(path.Root("target"), "Error Reading PostgreSQL Clone", err.Error())
		return
	}
	if present < len(names) {
		tflog.Warn(ctx, "cloned tables are missing from the staging database; the copy will be made again", map[string]any{"missing": len(names) - present})
		resp.State.RemoveResource(ctx)
		return
	}
	resp.Diagnostics.Append(resp.State.Set(ctx, state)...)
}

// Update changes only what shapes no data (parallelism, environment,
// refresh_after, timeouts): everything else plans a new copy.
func (r *postgresCloneResource) Update(ctx context.Context, req resource.UpdateRequest, resp *resource.UpdateResponse) {
	var plan, state postgresCloneModel
	resp.Diagnostics.Append(req.Plan.Get(ctx, &plan)...)
	resp.Diagnostics.Append(req.State.Get(ctx, &state)...)
	if resp.Diagnostics.HasError() {
		return
	}
	plan.DurationSeconds = state.DurationSeconds
	resp.Diagnostics.Append(resp.State.Set(ctx, plan)...)
}

// Delete removes the copied schemas from the staging database.
func (r *postgresCloneResource) Delete(ctx context.Context, req resource.DeleteRequest, resp *resource.DeleteResponse) {
	var state postgresCloneModel
	resp.Diagnostics.Append(req.State.Get(ctx, &state)...)
	if resp.Diagnostics.HasError() {
		return
	}
	dst, ok := r.data.connection(state.Target.ValueString(), path.Root("target"), true, &resp.Diagnostics)
	if !ok {
		return
	}
	schemas := map[string]bool{}
	for n := range state.TableStats.Elements() {
		s, _, _ := strings.Cut(n, ".")
		schemas[s] = true
	}
	list := make([]string, 0, len(schemas))
	for s := range schemas {
		list = append(list, s)
	}
	sort.Strings(list)
	cfg, err := pgx.ParseConfig(dst.dsn)
	if err != nil {
		resp.Diagnostics.AddAttributeError(path.Root("target"), "Error Deleting PostgreSQL Clone", dsn.Scrub(err, dst.dsn).Error())
		return
	}
	if _, err := pgclone.Drop(ctx, cfg, "", list); err != nil {
		resp.Diagnostics.AddError("Error Deleting PostgreSQL Clone", dsn.Scrub(err, dst.dsn).Error())
	}
}
