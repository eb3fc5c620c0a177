package provider

import (
	"context"
	"crypto/hmac"
	"crypto/rand"
	"crypto/sha256"
	"encoding/hex"
	"encoding/json"
	"errors"
	"fmt"
	"maps"
	"os"
	"slices"
	"strconv"
	"strings"
	"sync"
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
	"github.com/hashicorp/terraform-plugin-framework/resource/schema/int64planmodifier"
	"github.com/hashicorp/terraform-plugin-framework/resource/schema/listplanmodifier"
	"github.com/hashicorp/terraform-plugin-framework/resource/schema/mapplanmodifier"
	"github.com/hashicorp/terraform-plugin-framework/resource/schema/planmodifier"
	"github.com/hashicorp/terraform-plugin-framework/resource/schema/stringplanmodifier"
	"github.com/hashicorp/terraform-plugin-framework/schema/validator"
	"github.com/hashicorp/terraform-plugin-framework/types"
	"github.com/hashicorp/terraform-plugin-go/tfprotov6"
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
	_ resource.ResourceWithUpgradeState   = (*postgresCloneResource)(nil)
)

func newPostgresCloneResource() resource.Resource { return &postgresCloneResource{} }

// postgresCloneResource copies a production database into a staging
// database through masking rules and subsetting.
type postgresCloneResource struct{ data *providerData }

type postgresCloneModel struct {
	ID                     types.String   `tfsdk:"id"`
	OwnerID                types.String   `tfsdk:"owner_id"`
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
	AllowDroppedDependents types.Bool     `tfsdk:"allow_dropped_dependents"`
	ExcludeObjects         types.List     `tfsdk:"exclude_objects"`
	OnDrift                types.String   `tfsdk:"on_drift"`
	RoleMap                types.Map      `tfsdk:"role_map"`
	Parallelism            types.Int64    `tfsdk:"parallelism"`
	RefreshAfter           types.String   `tfsdk:"refresh_after"`
	Triggers               types.Map      `tfsdk:"triggers"`
	Rules                  types.List     `tfsdk:"rule"`
	Subsets                types.List     `tfsdk:"subset"`
	VirtualForeignKeys     types.List     `tfsdk:"virtual_foreign_key"`
	Timeouts               timeouts.Value `tfsdk:"timeouts"`

	PlannedRows         types.Map     `tfsdk:"planned_rows"`
	TableStats          types.Map     `tfsdk:"table_stats"`
	Phases              types.Map     `tfsdk:"phases"`
	RowsTotal           types.Int64   `tfsdk:"rows_total"`
	BytesTotal          types.Int64   `tfsdk:"bytes_total"`
	SnapshotTime        types.String  `tfsdk:"snapshot_time"`
	ClonedAt            types.String  `tfsdk:"cloned_at"`
	DurationSeconds     types.Float64 `tfsdk:"duration_seconds"`
	PolicyHash          types.String  `tfsdk:"policy_hash"`
	TransformerVersions types.Map     `tfsdk:"transformer_versions"`
	Objects             types.Map     `tfsdk:"objects"`
	Skipped             types.List    `tfsdk:"skipped"`
	Drift               types.List    `tfsdk:"drift"`
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

// Values of on_drift.
const (
	onDriftWarn   = "warn"
	onDriftRecopy = "recopy"
)

// tableStatsAttrs are the attributes of one table_stats entry.
var tableStatsAttrs = map[string]attr.Type{"rows": types.Int64Type, "bytes": types.Int64Type, "seconds": types.Float64Type}

// phaseAttrs are the attributes of one element of phases.
var phaseAttrs = map[string]attr.Type{"start_seconds": types.Float64Type, "seconds": types.Float64Type, "busy_seconds": types.Float64Type}

// defaultCloneTimeout bounds a clone when the configuration sets none.
const defaultCloneTimeout = 2 * time.Hour

func (r *postgresCloneResource) Metadata(_ context.Context, req resource.MetadataRequest, resp *resource.MetadataResponse) {
	resp.TypeName = req.ProviderTypeName + "_postgres_clone"
}

func (r *postgresCloneResource) Schema(ctx context.Context, _ resource.SchemaRequest, resp *resource.SchemaResponse) {
	// Only what changes the database written replaces the resource: every
	// other change that plans a new copy is an in-place update (see
	// ModifyPlan), so that a failed re-copy leaves the previous one.
	replace := []planmodifier.String{stringplanmodifier.RequiresReplace()}
	strList := func(desc string) schema.ListAttribute {
		return schema.ListAttribute{MarkdownDescription: desc, ElementType: types.StringType, Optional: true}
	}
	stable := func(desc string) schema.StringAttribute {
		return schema.StringAttribute{MarkdownDescription: desc, Computed: true, PlanModifiers: []planmodifier.String{stringplanmodifier.UseStateForUnknown()}}
	}
	resp.Schema = schema.Schema{
		Version: 1,
		MarkdownDescription: "Copies a production PostgreSQL database into a staging database: the schema from the catalog, and the data through masking rules " +
			"and foreign-key-safe subsetting, from one consistent snapshot, atomically. Production is only read, inside `READ ONLY` transactions. " +
			"Before anything is written (at plan time when the connections are known), every column is run through the PII detector: " +
			"a column that looks like personal data and has no rule fails, naming `schema.table.column`, the kind and a suggested rule. " +
			"The staging database keeps its previous content until the new copy is complete and verified, then the copy replaces it in one transaction. " +
			"The copy owns the schemas it copies in the staging database: objects that exist only in the staging copies of those schemas are replaced with them.\n\n" +
			"**What is copied.** From the copied schemas: tables, partitioned tables and partitions with their storage parameters (autovacuum is off on each table while it loads and production's setting is given back before the swap), column defaults, identity and stored generated columns (recomputed from the masked data), " +
			"sequences and their values, enums, domains and their checks, composite and range types, collations, functions, procedures, aggregates, operators and casts, views, " +
			"materialized views (created, refreshed from the masked data, then indexed; an unpopulated one stays unpopulated), primary, unique, exclusion, check and foreign keys, indexes, extended statistics, " +
			"triggers (created after the data load, so they do not fire during it, with their enabled state), row-level security (enabled, forced) and policies, " +
			"grants to roles that exist in staging (mapped through `role_map`), comments, and the extensions they use. Table inheritance (outside partitioning) is kept. Objects are created in dependency order (`pg_depend`). " +
			"Function bodies are production's text; while the copy is built under a work name, bodies that say `public.x` are bound to the new copy, so that checks, " +
			"expression indexes, generated columns, domain checks and materialized-view refreshes compute from the masked staging data, never from the previous copy, " +
			"and the verbatim bodies are put back in the transaction that swaps the copy in (SQL built in strings and run with `EXECUTE` is not rewritten). " +
			"Checks and indexes that call functions are built once all tables are loaded. Partitions whose partition key is masked are loaded through their root, which routes each row; " +
			"rules on array columns mask each element (NULL elements kept). Schema and table names may hold dots: write them quoted, as in SQL (`\"sales.eu\".orders`).\n\n" +
			"**What is skipped, and reported.** Listed in a plan warning and in `skipped`: publications, subscriptions, foreign servers, user mappings, event triggers and foreign tables " +
			"(never copied: they are paths out of staging, or back to production); objects left out through `allow_dropped_dependents` or `exclude_objects`; " +
			"a table that inherits from a table not copied (copied as a plain table); grants and policies for roles staging does not have " +
			"(a policy only for such roles applies to no one there). Known only once the copy runs, so listed in `skipped` after apply but not at plan: " +
			"storage parameters the staging server refuses (from a newer PostgreSQL major version than staging's), and TOAST storage parameters of a table whose TOAST table production kept from a dropped column. " +
			"Ownership is not copied: the staging login owns the copy. `objects` counts what was created, per kind.\n\n" +
			"**What is refused at plan time.** A column that looks like personal data without a rule; a rule on a primary-key, unique or foreign-key column (or one under an exclusion constraint WITH =) that is not bijective under the column's equality (its base type through any domains; citext, nondeterministic collations and unique indexes on lower(), upper() or a citext cast compare ignoring case; any other index expression over the column, an exclusion constraint with another operator, and a unique index on a function of the whole row, which covers every column, are refused unless the rule is keep or null); a rule whose outputs the column's type cannot hold (longer than varchar(n) for any value of n characters, judged from each transformer's longest output, outside an integer type or numeric(p,s), or too few values for FF1); a rule on a column whose type is a domain with CHECK constraints when a masked sampled value fails them (checked by casting the masked samples in the read-only source transaction; when they pass, the plan warns that only the samples were checked); a rule naming nothing; " +
			"a rule whose transformer refuses some of the column's sampled values as invalid while `on_invalid` is \"error\" (the default), since the apply would fail at the first such row (values longer than the 4,096 characters the sample keeps are not judged); " +
			"excluding a table that a copied foreign key references or a copied view reads (unless `allow_dropped_dependents`); a C function, whose library only production has " +
			"(unless `exclude_objects`); an extension the staging server cannot create (unless `exclude_objects`); a column of type `oid` or `lo` in a database with large objects, unless a rule nulls it; a `tsvector` beside masked columns without a rule " +
			"(it holds the production words it was derived from).\n\n" +
			"**Re-copies are in-place updates.** Changing what shapes the data (`key_version`, `rule`, `subset`, `virtual_foreign_key`, `schemas`, `exclude_schemas`, " +
			"`tables`, `exclude_tables`, `default_action`, `null_dangling_references`, `allow_dropped_dependents`, `exclude_objects`, `role_map`, `triggers`), or a copy older than `refresh_after`, plans an update that builds the new copy " +
			"in shadow schemas beside the old one and swaps it in atomically: a failed, timed-out or killed re-copy leaves staging exactly as it was, and the state unchanged. " +
			"Only a change of `source` or `target` (the databases read and written) replaces the resource.\n\n" +
			"**Destroying drops the copy.** `terraform destroy`, removing the resource, and `terraform apply -replace` (and a change of `source` or `target`) drop the copied schemas " +
			"from the staging database; with `-replace` staging is empty until the new copy completes. To replace without a gap, use " +
			"`lifecycle { create_before_destroy = true }` and set `environment`: the new copy is swapped in over the old one, and the old instance's destroy then finds " +
			"the schemas no longer its own and leaves them.\n\n" +
			"**Owner catalog.** Each clone has a stable `owner_id`. The staging database records, in table `" + pgclone.CatalogSchema + ".schema_owners` " +
			"(schema, owner, environment, source connection, time), which clone holds each copied schema; a clone only replaces or drops schemas it holds. " +
			"A second clone aimed at schemas another clone holds is refused before anything is copied, naming the other owner (at plan time already for an update, or when the environments differ; a new clone of no or the same environment gets a plan warning, as it may be the replacement of the holder); " +
			"a clone of the same `environment` takes the schemas over (that is how a `create_before_destroy` successor replaces its predecessor), and the clone that held them warns at its next plan. " +
			"Clones made by earlier versions of the provider record their schemas on their next update. " +
			"The swap waits for sessions reading the previous copy with a bounded lock timeout and retries with backoff; when it gives up, the error names the sessions (pid, user, application, state).",
		Attributes: map[string]schema.Attribute{
			"id": stable("Identifier of this clone, kept through re-copies."),
			"owner_id": stable("Random identifier of this clone as the owner of the schemas it copies, recorded in the staging database's owner catalog (`" + pgclone.CatalogSchema + ".schema_owners`). " +
				"Created with the resource and kept through updates; destroying the resource drops only the schemas recorded for it."),
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
				MarkdownDescription: "The environment's masking key: at least 32 random bytes written as 64 or more hex characters or as base64, such as the output of `openssl rand -hex 32`; a key that is recognisable text (words, year-like numbers, repeated runs) is refused, though no check can prove a key random. " +
					"Write-only: never stored in plan or state (Terraform 1.11 or newer). " +
					"The same key masks the same value the same way in every table and every run; another key gives unlinkable output. Change `key_version` to re-mask with a new key. " +
					"Bijective masking is keyed pseudonymisation: whoever holds the key can reverse it, so it is a production secret that staging users must never hold.",
				Required: true, Sensitive: true, WriteOnly: true,
				Validators: []validator.String{maskingKeyValidator{}},
			},
			"key_version": schema.Int64Attribute{
				MarkdownDescription: "Bump it when `key` changes: Terraform cannot see changes of a write-only value, and a new key needs a new copy (an in-place update).",
				Optional:            true,
			},
			"schemas":         strList("Globs of schemas to copy. Default: every schema except the system ones."),
			"exclude_schemas": strList("Globs of schemas not to copy."),
			"tables":          strList("Globs of `schema.table` to copy. Default: every table of the copied schemas."),
			"exclude_tables":  strList("Globs of `schema.table` not to copy."),
			"default_action": schema.StringAttribute{
				MarkdownDescription: "What happens to columns without a rule: `keep` (the default) copies them as they are. Columns the PII detector flags still fail closed: give them a rule, `keep` included.",
				Optional:            true,
				Validators:          []validator.String{stringvalidator.OneOf(pgclone.ActionKeep)},
			},
			"allow_dropped_dependents": schema.BoolAttribute{
				MarkdownDescription: "Let the copy leave out foreign keys that reference tables it does not copy, and views and materialized views that read them. " +
					"Without it, excluding such a table (`tables`, `exclude_tables`, `schemas`, `exclude_schemas`) fails the plan, naming each foreign key and view. What is left out is listed in `skipped`.",
				Optional: true,
			},
			"exclude_objects": schema.ListAttribute{
				MarkdownDescription: "Globs of `schema.name` of functions, procedures, aggregates, views and materialized views of the copied schemas, and names of extensions, to leave out of the copy: " +
					"the way past an object staging cannot reproduce, such as a C function whose library only production has, or an extension the staging server does not have. " +
					"Objects that use them fail to be created. Listed in `skipped`.",
				ElementType: types.StringType, Optional: true,
			},
			"role_map": schema.MapAttribute{
				MarkdownDescription: "Production role to staging role, for the grants and row-level security policies the copy reproduces. " +
					"A role not named keeps its name; grants and policy roles whose role does not exist in staging are left out and listed in `skipped`.",
				ElementType: types.StringType, Optional: true,
			},
			"on_drift": schema.StringAttribute{
				MarkdownDescription: "What a refresh does when objects of the copied schemas were added, dropped or changed in staging by hand since the copy (listed in `drift`): " +
					"`warn` (the default) warns, naming them, and keeps them (they may be migrations being tried in staging); `recopy` also plans a fresh copy (an in-place update) that puts production's schema back.",
				Optional:   true,
				Validators: []validator.String{stringvalidator.OneOf(onDriftWarn, onDriftRecopy)},
			},
			"null_dangling_references": schema.BoolAttribute{
				MarkdownDescription: "With subsetting, set nullable references to rows that are not copied to NULL instead of leaving the referencing rows out. Needed to subset across a cycle of foreign keys.",
				Optional:            true,
			},
			"parallelism": schema.Int64Attribute{
				MarkdownDescription: "Tables copied at once, each over its own pair of connections sharing one snapshot. Default: the number of CPU cores.",
				Optional:            true,
				Validators:          []validator.Int64{int64validator.Between(1, 64)},
			},
			"refresh_after": schema.StringAttribute{
				MarkdownDescription: "Age after which the copy is stale, such as `7d`: a plan after that makes a fresh copy (an in-place update).",
				Optional:            true,
				Validators:          []validator.String{durationValidator{}},
			},
			"triggers": schema.MapAttribute{
				MarkdownDescription: "Arbitrary values whose change plans a fresh copy (an in-place update), such as a release version.",
				ElementType:         types.StringType, Optional: true,
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
			"phases": schema.MapAttribute{
				MarkdownDescription: "Where the last copy's time went, by step: `analysis`, `schema`, `copy`, `indexes`, `foreign_keys`, `leak_check`, `post_data` and `swap`. " +
					"Each has `start_seconds` (from the start of the copy), `seconds` (from its first task's start to its last task's end) and `busy_seconds` " +
					"(its tasks' time summed over the workers). Copies, index builds and foreign-key validations overlap, so their `seconds` overlap and " +
					"`busy_seconds` may exceed `seconds`.",
				ElementType: types.ObjectType{AttrTypes: phaseAttrs}, Computed: true,
				PlanModifiers: []planmodifier.Map{mapplanmodifier.UseStateForUnknown()},
			},
			"rows_total":       schema.Int64Attribute{MarkdownDescription: "Rows copied in all.", Computed: true, PlanModifiers: []planmodifier.Int64{int64planmodifier.UseStateForUnknown()}},
			"bytes_total":      schema.Int64Attribute{MarkdownDescription: "Bytes copied in all (text COPY format, after masking).", Computed: true, PlanModifiers: []planmodifier.Int64{int64planmodifier.UseStateForUnknown()}},
			"snapshot_time":    stable("The source's time in the snapshot the copy was read from (RFC 3339)."),
			"cloned_at":        stable("When the copy completed (RFC 3339); `refresh_after` counts from here."),
			"duration_seconds": schema.Float64Attribute{MarkdownDescription: "How long the copy took.", Computed: true},
			"policy_hash":      stable("SHA-256 of the masking and subsetting policy (never of the key): equal hashes mean equal policies."),
			"objects": schema.MapAttribute{
				MarkdownDescription: "Schema objects the copy created in staging, per kind: `table`, `partition`, `view`, `materialized_view`, `sequence`, `enum`, `domain`, " +
					"`composite_type`, `range_type`, `collation`, `function`, `procedure`, `aggregate`, `operator`, `cast`, `constraint`, `foreign_key`, `index`, `statistics`, `trigger`, `policy`, `row_security`, `grant`, `comment`.",
				ElementType: types.Int64Type, Computed: true,
				PlanModifiers: []planmodifier.Map{mapplanmodifier.UseStateForUnknown()},
			},
			"skipped": schema.ListAttribute{
				MarkdownDescription: "What the copy did not reproduce, and why: objects never copied by design (publications, subscriptions, foreign servers, user mappings, event triggers, foreign tables), " +
					"objects left out through `allow_dropped_dependents` or `exclude_objects`, grants and policies for roles staging does not have, storage parameters staging cannot keep.",
				ElementType: types.StringType, Computed: true,
				PlanModifiers: []planmodifier.List{listplanmodifier.UseStateForUnknown()},
			},
			"drift": schema.ListAttribute{
				MarkdownDescription: "Objects of the copied schemas added, dropped or changed in staging by hand since the copy, as the last refresh found them, such as `dropped trigger audit on orders in schema public`.",
				ElementType:         types.StringType, Computed: true,
				PlanModifiers: []planmodifier.List{listplanmodifier.UseStateForUnknown()},
			},
			"transformer_versions": schema.MapAttribute{MarkdownDescription: "`schema.table.column` to the version of the transformer that masked it.", ElementType: types.StringType, Computed: true, PlanModifiers: []planmodifier.Map{mapplanmodifier.UseStateForUnknown()}},
		},
		Blocks: map[string]schema.Block{
			"rule": schema.ListNestedBlock{
				MarkdownDescription: "How to mask one column. See the `mask` function for the transformers and their options.",
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
				NestedObject: schema.NestedBlockObject{Attributes: map[string]schema.Attribute{
					"table":              schema.StringAttribute{MarkdownDescription: "The referencing table.", Required: true},
					"columns":            schema.ListAttribute{MarkdownDescription: "The referencing columns.", ElementType: types.StringType, Required: true, Validators: []validator.List{listvalidator.SizeAtLeast(1)}},
					"references_table":   schema.StringAttribute{MarkdownDescription: "The referenced table.", Required: true},
					"references_columns": schema.ListAttribute{MarkdownDescription: "The referenced columns, in the same order.", ElementType: types.StringType, Required: true, Validators: []validator.List{listvalidator.SizeAtLeast(1)}},
				}},
			},
			"timeouts": timeouts.Block(ctx, timeouts.Opts{Create: true, Update: true}),
		},
	}
}

func (r *postgresCloneResource) Configure(_ context.Context, req resource.ConfigureRequest, resp *resource.ConfigureResponse) {
	r.data = providerDataFrom(req.ProviderData, &resp.Diagnostics)
}

// UpgradeState upgrades version 0 (before owner_id and timeouts.update):
// the new attributes are null, which the stored JSON already says by
// leaving them out. A null owner_id makes Delete drop only schemas that no
// owner holds, and the next update gives the clone an owner.
func (r *postgresCloneResource) UpgradeState(context.Context) map[int64]resource.StateUpgrader {
	return map[int64]resource.StateUpgrader{
		0: {StateUpgrader: func(_ context.Context, req resource.UpgradeStateRequest, resp *resource.UpgradeStateResponse) {
			if req.RawState == nil || req.RawState.JSON == nil {
				resp.Diagnostics.AddError("Unable to Upgrade Resource State",
					"The stored state of staging_postgres_clone (version 0) has no JSON form. Please report this issue to the provider developers.")
				return
			}
			resp.DynamicValue = &tfprotov6.DynamicValue{JSON: req.RawState.JSON}
		}},
	}
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
	// Blocks made by dynamic over values not known yet (a variable, or
	// data.staging_pii_scan.x.columns) are unknown here: they are checked
	// when known, at plan or apply.
	subsets, _ := knownElements[cloneSubsetModel](ctx, m.Subsets, &resp.Diagnostics)
	for i, s := range subsets {
		if s.Where.IsNull() && s.Percent.IsNull() {
			resp.Diagnostics.AddAttributeError(path.Root("subset").AtListIndex(i), "Invalid Subset",
				"A subset block needs where, percent, or both: it chooses the rows of its table.")
		}
	}
	rules, _ := knownElements[cloneRuleModel](ctx, m.Rules, &resp.Diagnostics)
	seen := map[string]int{}
	for i, rule := range rules {
		if rule.Table.IsUnknown() || rule.Column.IsUnknown() || rule.Transformer.IsUnknown() {
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

// knownElements converts a list of nested blocks; ok is false, with no
// diagnostics, while the list is unknown (a dynamic block over a value
// known only later) or null.
func knownElements[T any](ctx context.Context, l types.List, diags *diagnostics) ([]T, bool) {
	if l.IsNull() || l.IsUnknown() {
		return nil, !l.IsUnknown()
	}
	var out []T
	d := l.ElementsAs(ctx, &out, false)
	diags.Append(d...)
	return out, !d.HasError()
}

// configKnown reports whether every value the analysis needs is known:
// with a dynamic block over a value that is not known yet, the policy is
// checked at apply, before anything is copied.
func configKnown(ctx context.Context, m postgresCloneModel) bool {
	for _, l := range []types.List{m.Schemas, m.ExcludeSchemas, m.Tables, m.ExcludeTables, m.ExcludeObjects, m.Rules, m.Subsets, m.VirtualForeignKeys} {
		if l.IsUnknown() {
			return false
		}
		for _, e := range l.Elements() {
			if e.IsUnknown() {
				return false
			}
			if o, ok := e.(types.Object); ok {
				for _, a := range o.Attributes() {
					if a.IsUnknown() {
						return false
					}
				}
			}
		}
	}
	return !m.DefaultAction.IsUnknown() && !m.NullDanglingReferences.IsUnknown() && !m.RoleMap.IsUnknown()
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
	rules, _ := knownElements[cloneRuleModel](ctx, m.Rules, diags)
	for _, rule := range rules {
		spec, err := ruleSpec(ctx, rule)
		if err != nil {
			continue // reported by ValidateConfig
		}
		opts.Rules = append(opts.Rules, pgclone.ColumnRule{Table: rule.Table.ValueString(), Column: rule.Column.ValueString(), Spec: spec})
	}
	subsets, _ := knownElements[cloneSubsetModel](ctx, m.Subsets, diags)
	for _, s := range subsets {
		opts.Subset.Subsets = append(opts.Subset.Subsets, pgclone.Subset{Table: s.Table.ValueString(), Where: s.Where.ValueString(), Percent: s.Percent.ValueFloat64()})
	}
	vfks, _ := knownElements[cloneVirtualFKModel](ctx, m.VirtualForeignKeys, diags)
	for _, v := range vfks {
		opts.Subset.VirtualForeignKeys = append(opts.Subset.VirtualForeignKeys, pgclone.VirtualForeignKey{
			Table: v.Table.ValueString(), Columns: list(v.Columns), RefTable: v.ReferencesTable.ValueString(), RefColumns: list(v.ReferencesColumns)})
	}
	opts.Subset.NullDangling = m.NullDanglingReferences.ValueBool()
	opts.AllowDroppedDependents = m.AllowDroppedDependents.ValueBool()
	opts.ExcludeObjects = list(m.ExcludeObjects)
	if !m.RoleMap.IsNull() && !m.RoleMap.IsUnknown() {
		diags.Append(m.RoleMap.ElementsAs(ctx, &opts.RoleMap, false)...)
	}
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
		diags.AddAttributeError(path.Root("source"), "Error Reading Clone Source", src.sourceErrorDetail(ctx, err))
		return pgclone.Analysis{}, false
	}
	addProblems(m, a.Problems, diags)
	for _, w := range a.Warnings {
		diags.AddAttributeWarning(path.Root("rule"), "Checked on Sampled Values Only", w)
	}
	if len(a.NotCopied) > 0 || len(a.Skipped) > 0 {
		var b strings.Builder
		for _, n := range a.NotCopied {
			fmt.Fprintf(&b, "\n  - %s", n)
		}
		for _, s := range a.Skipped {
			fmt.Fprintf(&b, "\n  - %s", s)
		}
		diags.AddAttributeWarning(path.Root("source"), "Objects Not Copied",
			"The copy will not reproduce these objects of production in staging:"+b.String()+"\n\nAfter the apply, the attribute skipped lists them with everything else left out.")
	}
	return a, !diags.HasError()
}

// addProblems reports policy problems, each at the rule it concerns when
// there is one.
func addProblems(m postgresCloneModel, problems []pgclone.Problem, diags *diagnostics) {
	ruleIndex := map[string]int{}
	rules, _ := knownElements[cloneRuleModel](context.Background(), m.Rules, &diagnostics{})
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
			// p.Detail is the evidence only ("looks like email (confidence
			// ...)"); the missing rule and the keep advice are said here, once.
			detail := fmt.Sprintf("Column %s has no masking rule and %s, so it would reach staging unmasked.", name, p.Detail)
			if p.Suggested != nil {
				detail += "\n\nAdd a rule such as:\n\n" + suggestedRule(p.Table, p.Column, *p.Suggested) + "\nor"
			} else {
				detail += "\n\nAdd a masking rule for it, or"
			}
			detail += ", if the column is safe to copy as it is, a rule with transformer = \"keep\"."
			diags.AddAttributeError(at, "Unmasked Personal Data", detail)
		case pgclone.ProblemNonBijectiveUnique:
			diags.AddAttributeError(at, "Masking Rule Breaks Uniqueness",
				fmt.Sprintf("Column %s is in a primary key, unique index or foreign key, so masked values must stay distinct under its equality and valid for its type, but %s.", name, p.Detail))
		case pgclone.ProblemOutputDoesNotFit:
			diags.AddAttributeError(at, "Masked Values Do Not Fit the Column", fmt.Sprintf("Column %s: %s.", name, p.Detail))
		case pgclone.ProblemExcludedDependency:
			diags.AddAttributeError(path.Root("exclude_tables"), "Copy Would Drop Objects",
				fmt.Sprintf("%s: %s.", name, p.Detail))
		case pgclone.ProblemUnreproducible:
			diags.AddAttributeError(path.Root("exclude_objects"), "Object Cannot Be Reproduced in Staging", fmt.Sprintf("%s: %s.", name, p.Detail))
		case pgclone.ProblemForeignKeyMasking:
			diags.AddAttributeError(at, "Foreign Key Ends Masked Differently", fmt.Sprintf("%s: %s.", name, p.Detail))
		case pgclone.ProblemDerivedData:
			diags.AddAttributeError(at, "Derived Column Would Leak", fmt.Sprintf("%s: %s.", name, p.Detail))
		case pgclone.ProblemInvalidSamples:
			diags.AddAttributeError(at, "Masking Rule Would Fail on Production Values", fmt.Sprintf("Column %s: %s.", name, p.Detail))
		case pgclone.ProblemLargeObjects:
			diags.AddAttributeError(at, "Large Objects Are Not Copied", fmt.Sprintf("%s: %s.", name, p.Detail))
		case pgclone.ProblemUnknownTable, pgclone.ProblemUnknownColumn:
			diags.AddAttributeError(at, "Masking Rule Names Nothing", fmt.Sprintf("%s: %s. Fix the rule's table or column, or remove it.", name, p.Detail))
		default:
			diags.AddAttributeError(at, "Invalid Masking Rule", fmt.Sprintf("%s: %s", name, p.Detail))
		}
	}
}

// suggestedRule renders a rule block a user can paste: options as the
// strings the options attribute takes (maps such as json's paths as a JSON
// object), and on_invalid when the suggestion has one.
func suggestedRule(table, column string, s masking.Spec) string {
	var b strings.Builder
	fmt.Fprintf(&b, "  rule {\n    table       = %q\n    column      = %q\n    transformer = %q\n", strings.TrimPrefix(table, "public."), column, s.Transformer)
	if s.Domain != "" && s.Domain != s.Transformer {
		fmt.Fprintf(&b, "    domain      = %q\n", s.Domain)
	}
	if s.OnInvalid != "" {
		fmt.Fprintf(&b, "    on_invalid  = %q\n", s.OnInvalid)
	}
	if opts := optionStrings(s.Options); len(opts) > 0 {
		b.WriteString("    options     = {")
		for i, k := range slices.Sorted(maps.Keys(opts)) {
			if i > 0 {
				b.WriteString(",")
			}
			fmt.Fprintf(&b, " %s = %q", k, opts[k])
		}
		b.WriteString(" }\n")
	}
	b.WriteString("  }\n")
	return b.String()
}

// optionStrings writes transformer options the way the rule's options
// attribute takes them: strings, numbers and booleans as text, maps and
// lists as JSON.
func optionStrings(opts map[string]any) map[string]string {
	out := make(map[string]string, len(opts))
	for k, v := range opts {
		switch x := v.(type) {
		case string:
			out[k] = x
		case float64:
			out[k] = strconv.FormatFloat(x, 'f', -1, 64)
		case bool:
			out[k] = strconv.FormatBool(x)
		default:
			j, err := json.Marshal(x)
			if err != nil {
				j = []byte(fmt.Sprint(x))
			}
			out[k] = string(j)
		}
	}
	return out
}

// ModifyPlan checks the masking policy against the source before anything
// is written, shows the expected rows per table, and plans a fresh copy (an
// in-place update) when what shapes the data changed or the current copy
// is older than refresh_after.
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
		if state.OwnerID.IsNull() || state.OwnerID.ValueString() == "" {
			// A clone made before owners existed (state version 0) gets
			// its owner at the next apply, which this plan makes an update.
			plan.OwnerID = types.StringUnknown()
		}
		age, stale := r.stale(*state, plan)
		if stale {
			resp.Diagnostics.AddWarning("Staging Data Is Stale",
				fmt.Sprintf("The copy was made %s ago (at %s), longer than refresh_after %s: this plan makes a fresh copy.",
					registry.FormatDuration(age.Truncate(time.Minute)), state.ClonedAt.ValueString(), plan.RefreshAfter.ValueString()))
		}
		drifted := plan.OnDrift.ValueString() == onDriftRecopy && len(state.Drift.Elements()) > 0
		if drifted {
			resp.Diagnostics.AddWarning("Staging Schema Changed by Hand",
				fmt.Sprintf("%d objects of the copied schemas changed in staging since the copy (see drift) and on_drift is \"recopy\": this plan makes a fresh copy.", len(state.Drift.Elements())))
		}
		outdated := versionChanges(ctx, *state, plan)
		if len(outdated) > 0 {
			resp.Diagnostics.AddWarning("Masking Algorithms Changed",
				"Columns of the copy in staging were masked by transformer versions this provider no longer produces, so their masked values differ from what a copy made now would hold: "+
					"this plan makes a fresh copy.\n\n  - "+strings.Join(outdated, "\n  - "))
		}
		if !stale && !drifted && len(outdated) == 0 && !dataChanged(*state, plan) {
			resp.Diagnostics.Append(resp.Plan.Set(ctx, plan)...)
			return // an update that makes no new copy: nothing to check
		}
		// A new copy, built beside the current one and swapped in.
		unknownResults(&plan)
	}
	key, ok := configKey(ctx, req.Config, &resp.Diagnostics)
	if !ok || key.IsUnknown() || !configKnown(ctx, plan) {
		// Checked at apply, before anything is copied.
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
	r.checkOwners(ctx, plan, state, a, &resp.Diagnostics)
	resp.Diagnostics.Append(resp.Plan.Set(ctx, plan)...)
}

// versionChanges lists, as "column: why", the columns of the copy in
// state whose transformer version differs from the version this provider
// writes for the same transformer (for example FF1's /v2 replacing the
// Feistel network's /v1). A column whose rule now names another
// transformer is left out: the rule change plans the copy and says why.
func versionChanges(ctx context.Context, state, plan postgresCloneModel) []string {
	if state.TransformerVersions.IsNull() || state.TransformerVersions.IsUnknown() {
		return nil
	}
	var versions map[string]string
	if d := state.TransformerVersions.ElementsAs(ctx, &versions, false); d.HasError() {
		return nil
	}
	ruled := map[string]string{} // "schema.table.column" -> transformer
	rules, _ := knownElements[cloneRuleModel](ctx, plan.Rules, &diagnostics{})
	for _, r := range rules {
		ruled[pgclone.Qualify(r.Table.ValueString())+"."+r.Column.ValueString()] = r.Transformer.ValueString()
	}
	var out []string
	for _, col := range slices.Sorted(maps.Keys(versions)) {
		old := versions[col]
		name, _, _ := strings.Cut(old, "/")
		if t, ok := ruled[col]; ok && t != name {
			continue
		}
		if why := masking.VersionChange(old); why != "" {
			out = append(out, col+": "+why)
		}
	}
	return out
}

// dataChanged reports whether the plan changes what shapes the copied
// data, so that it needs a new copy.
func dataChanged(state, plan postgresCloneModel) bool {
	pairs := [][2]attr.Value{
		{state.KeyVersion, plan.KeyVersion},
		{state.Schemas, plan.Schemas}, {state.ExcludeSchemas, plan.ExcludeSchemas},
		{state.Tables, plan.Tables}, {state.ExcludeTables, plan.ExcludeTables},
		{state.DefaultAction, plan.DefaultAction}, {state.NullDanglingReferences, plan.NullDanglingReferences},
		{state.AllowDroppedDependents, plan.AllowDroppedDependents}, {state.ExcludeObjects, plan.ExcludeObjects}, {state.RoleMap, plan.RoleMap},
		{state.Triggers, plan.Triggers},
		{state.Rules, plan.Rules}, {state.Subsets, plan.Subsets}, {state.VirtualForeignKeys, plan.VirtualForeignKeys},
	}
	for _, p := range pairs {
		if !p[0].Equal(p[1]) {
			return true
		}
	}
	return false
}

// checkOwners reads the staging database's owner catalog (read-only) and
// reports schemas the planned copy would write that another clone holds,
// and extensions of production the staging server cannot create.
// It is an error on an update, and for a new clone whose environment
// differs from the holder's; otherwise a warning, since a new clone may be
// the replacement of the holder (whose destroy runs first). The copy checks
// again before it starts and in the swap.
func (r *postgresCloneResource) checkOwners(ctx context.Context, plan postgresCloneModel, state *postgresCloneModel, a pgclone.Analysis, diags *diagnostics) {
	dst, ok := r.data.connection(plan.Target.ValueString(), path.Root("target"), true, &diagnostics{})
	if !ok || dst.unknown || plan.Environment.IsUnknown() {
		return
	}
	schemas := map[string]bool{}
	for _, t := range a.Tables {
		schemas[pgclone.SplitName(t.Name).Schema] = true
	}
	conn, err := dst.connect(ctx)
	if err != nil {
		tflog.Warn(ctx, "cannot read the staging database's owner catalog at plan time", map[string]any{"error": err.Error()})
		return
	}
	defer conn.Close(context.WithoutCancel(ctx))
	// Extensions production has that the staging server cannot create.
	if missing, err := pgclone.MissingExtensions(ctx, conn, a.Extensions); err != nil {
		tflog.Warn(ctx, "cannot read the staging server's available extensions at plan time", map[string]any{"error": dsn.Scrub(err, dst.dsn).Error()})
	} else if len(missing) > 0 {
		diags.AddAttributeError(path.Root("target"), "Extension Not Available in Staging",
			fmt.Sprintf("Production has extensions that the staging server (connection %q) cannot create, so the copy would fail: %s. "+
				"Install their packages on the staging server, or leave them out with exclude_objects (objects that use them then fail to be created).",
				dst.name, strings.Join(missing, ", ")))
	}
	// Roles that grants and policies name and staging does not have.
	if missing, err := pgclone.MissingRoles(ctx, conn, a.Roles); err != nil {
		tflog.Warn(ctx, "cannot read the staging server's roles at plan time", map[string]any{"error": dsn.Scrub(err, dst.dsn).Error()})
	} else if len(missing) > 0 {
		diags.AddAttributeWarning(path.Root("role_map"), "Roles Missing in Staging",
			fmt.Sprintf("Grants or row-level security policies of production name roles the staging server (connection %q) does not have: %s. "+
				"The copy leaves those grants out, and policies that apply only to them (they would apply to no one); skipped will list them. "+
				"Create the roles in staging, or map them to staging roles with role_map.", dst.name, strings.Join(missing, ", ")))
	}
	recs, err := pgclone.Owners(ctx, conn, slices.Sorted(maps.Keys(schemas)))
	if err != nil {
		tflog.Warn(ctx, "cannot read the staging database's owner catalog at plan time", map[string]any{"error": dsn.Scrub(err, dst.dsn).Error()})
		return
	}
	owner := pgclone.Owner{Environment: plan.Environment.ValueString()}
	if state != nil {
		owner.ID = state.OwnerID.ValueString()
	}
	for _, s := range slices.Sorted(maps.Keys(recs)) {
		rec := recs[s]
		if !owner.Conflicts(rec) {
			continue
		}
		detail := fmt.Sprintf("Schema %q of the staging database (connection %q) is held by another staging_postgres_clone: %s.\n\n"+
			"Two clones writing the same schemas would replace each other's copies. Point target at another database, limit the schemas copied, "+
			"or destroy the other clone first. The owner catalog is table %s.schema_owners of the staging database.",
			s, dst.name, ownerText(rec), pgclone.CatalogSchema)
		if state == nil && (rec.Owner.Environment == "" || owner.Environment == "") {
			diags.AddAttributeWarning(path.Root("target"), "Staging Schemas Held by Another Clone",
				detail+"\n\nIf this plan replaces that clone (its destroy runs first), ignore this warning; otherwise the apply will be refused before copying.")
			continue
		}
		diags.AddAttributeError(path.Root("target"), "Staging Schemas Held by Another Clone", detail)
	}
}

// ownerText describes the holder of a schema for messages.
func ownerText(rec pgclone.OwnerRecord) string {
	env := "no environment"
	if rec.Owner.Environment != "" {
		env = fmt.Sprintf("environment %q", rec.Owner.Environment)
	}
	return fmt.Sprintf("owner %s, %s, source connection %q, copied at %s", rec.Owner.ID, env, rec.Owner.Source, rec.UpdatedAt.UTC().Format(time.RFC3339))
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

// unknownResults marks everything a new copy recomputes as unknown; the
// clone's id and owner_id stay.
func unknownResults(m *postgresCloneModel) {
	m.PlannedRows = types.MapUnknown(types.Int64Type)
	m.TableStats = types.MapUnknown(types.ObjectType{AttrTypes: tableStatsAttrs})
	m.Phases = types.MapUnknown(types.ObjectType{AttrTypes: phaseAttrs})
	m.RowsTotal = types.Int64Unknown()
	m.BytesTotal = types.Int64Unknown()
	m.SnapshotTime = types.StringUnknown()
	m.ClonedAt = types.StringUnknown()
	m.DurationSeconds = types.Float64Unknown()
	m.PolicyHash = types.StringUnknown()
	m.TransformerVersions = types.MapUnknown(types.StringType)
	m.Objects = types.MapUnknown(types.Int64Type)
	m.Skipped = types.ListUnknown(types.StringType)
	m.Drift = types.ListUnknown(types.StringType)
}

// Create makes the first copy under a new owner.
func (r *postgresCloneResource) Create(ctx context.Context, req resource.CreateRequest, resp *resource.CreateResponse) {
	var plan postgresCloneModel
	resp.Diagnostics.Append(req.Plan.Get(ctx, &plan)...)
	key, _ := configKey(ctx, req.Config, &resp.Diagnostics)
	if resp.Diagnostics.HasError() {
		return
	}
	timeout, d := plan.Timeouts.Create(ctx, defaultCloneTimeout)
	resp.Diagnostics.Append(d...)
	if resp.Diagnostics.HasError() {
		return
	}
	plan.OwnerID = types.StringValue(newOwnerID())
	if r.copy(ctx, &plan, key.ValueString(), timeout, &resp.Diagnostics) {
		resp.Diagnostics.Append(resp.State.Set(ctx, plan)...)
	}
}

// newOwnerID returns a random 128-bit identifier in hex.
func newOwnerID() string {
	b := make([]byte, 16)
	_, _ = rand.Read(b) // never fails (crypto/rand)
	return hex.EncodeToString(b)
}

// copy makes a new copy for m (Create, and Update when the plan says so),
// built beside the current one and swapped in, and sets m's results. It
// reports whether it succeeded; on failure staging and the state keep the
// previous copy.
func (r *postgresCloneResource) copy(ctx context.Context, m *postgresCloneModel, key string, timeout time.Duration, diags *diagnostics) bool {
	plan := *m
	if key == "" {
		diags.AddAttributeError(path.Root("key"), "Missing Masking Key", "key is empty: set it to the environment's masking secret. There is no default key.")
		return false
	}
	ctx, cancel := context.WithTimeout(ctx, timeout)
	defer cancel()

	src, ok := r.data.connection(plan.Source.ValueString(), path.Root("source"), false, diags)
	if !ok {
		return false
	}
	dst, ok := r.data.connection(plan.Target.ValueString(), path.Root("target"), true, diags)
	if !ok {
		return false
	}
	// The environment must exist before anything is copied for it.
	var store registry.Store
	if !plan.Environment.IsNull() {
		if store = r.data.openStore(ctx, diags); store == nil {
			return false
		}
		if _, err := store.GetEnvironment(ctx, plan.Environment.ValueString()); err != nil {
			addRegistryError(diags, "Error Cloning PostgreSQL Database", err)
			return false
		}
	}
	mk, err := masking.ParseKey(key)
	if err != nil {
		diags.AddAttributeError(path.Root("key"), "Invalid Masking Key", maskingKeyDetail("key", err))
		return false
	}
	opts := r.options(ctx, plan, mk, key, diags)
	if diags.HasError() {
		return false
	}
	opts.Source = src.source // read-only startup parameters, timeouts, privileged-login policy
	opts.Owner = pgclone.Owner{ID: plan.OwnerID.ValueString(), Environment: plan.Environment.ValueString(), Source: src.name}
	opts.Hold = testHold()
	opts.Progress = func(p pgclone.TableProgress) {
		tflog.Info(ctx, "copying table", map[string]any{
			"table": p.Table, "rows": p.Rows, "total_rows": p.TotalRows,
			"rows_per_second": int64(p.RowsPerSecond), "percent": fmt.Sprintf("%.1f", p.Percent), "done": p.Done,
			"eta_seconds": int64(p.Remaining.Round(time.Second).Seconds()),
		})
	}
	srcCfg, err := pgx.ParseConfig(src.dsn)
	if err != nil {
		diags.AddAttributeError(path.Root("source"), "Error Cloning PostgreSQL Database", dsn.Scrub(err, src.dsn).Error())
		return false
	}
	dstCfg, err := pgx.ParseConfig(dst.dsn)
	if err != nil {
		diags.AddAttributeError(path.Root("target"), "Error Cloning PostgreSQL Database", dsn.Scrub(err, dst.dsn).Error())
		return false
	}
	tflog.Info(ctx, "cloning PostgreSQL database", map[string]any{"source": src.name, "target": dst.name, "owner_id": opts.Owner.ID})
	res, err := pgclone.Clone(ctx, srcCfg, dstCfg, opts)
	if err != nil {
		r.cloneError(plan, err, src, dst, diags)
		return false
	}
	for col, n := range res.CoincidentalMatches {
		tflog.Info(ctx, "masked values that equal another production value by chance (format-preserving masking of a dense value space)",
			map[string]any{"column": col, "count": n})
	}
	r.setResult(ctx, &plan, res, diags)
	if store != nil {
		after, _ := json.Marshal(auditRecord(plan, res))
		if _, err := store.RecordEvent(ctx, r.data.actor, registry.Event{Action: "clone", ObjectType: "postgres_clone",
			Object: plan.Environment.ValueString(), After: string(after)}); err != nil {
			diags.AddWarning("Clone Not Recorded in the Registry",
				"The copy succeeded, but its audit record could not be written to the registry: "+err.Error())
		}
	}
	*m = plan
	return true
}

// cloneError explains a failed clone; the staging database is unchanged.
func (r *postgresCloneResource) cloneError(m postgresCloneModel, err error, src, dst pgConnection, diags *diagnostics) {
	const summary = "Error Cloning PostgreSQL Database"
	err = dsn.Scrub(dsn.Scrub(err, src.dsn), dst.dsn)
	var (
		problems *pgclone.ProblemsError
		leak     *pgclone.LeakError
		subset   *pgclone.SubsetError
		login    *pgclone.PrivilegedLoginError
		locked   *pgclone.SourceLockTimeoutError
		owner    *pgclone.OwnerError
		swap     *pgclone.LockTimeoutError
		exts     *pgclone.MissingExtensionsError
	)
	unchanged := "The staging database was left as it was."
	switch {
	case errors.As(err, &login):
		diags.AddAttributeError(path.Root("source"), "Privileged Production Login", fmt.Sprintf("Connection %q: %s. %s", src.name, login, unchanged))
	case errors.As(err, &locked):
		diags.AddAttributeError(path.Root("source"), summary, locked.Error()+"\n\n"+unchanged)
	case pgclone.SourceHint(err) != "":
		diags.AddAttributeError(path.Root("source"), summary, pgclone.SourceHint(err)+" "+unchanged+"\n\n"+err.Error())
	case errors.As(err, &problems):
		addProblems(m, problems.Problems, diags)
	case errors.As(err, &leak):
		diags.AddError("Masked Data Leak Detected", "Masking left production values unchanged in identifier columns, more often than chance explains; nothing was replaced. "+unchanged+
			" Use a rule that changes every value of these columns (check options such as keep_prefix).\n\n"+leak.Error())
	case errors.As(err, &subset):
		diags.AddAttributeError(path.Root("subset"), "Invalid Subset", subset.Error())
	case errors.Is(err, pgclone.ErrSameDatabase):
		diags.AddAttributeError(path.Root("target"), summary, fmt.Sprintf("Connections %q and %q point at the same database; a clone never writes into the database it reads.", src.name, dst.name))
	case errors.As(err, &owner):
		diags.AddAttributeError(path.Root("target"), "Staging Schemas Held by Another Clone",
			"Another staging_postgres_clone holds schemas this copy would replace: two clones must not write the same schemas of one database. "+
				"Point target at another database, destroy the other clone first, or, if this resource replaces that one (create_before_destroy), give both the same environment. "+
				unchanged+"\n\n"+owner.Error())
	case errors.As(err, &exts):
		diags.AddAttributeError(path.Root("target"), "Extension Not Available in Staging", exts.Error()+". "+unchanged)
	case errors.As(err, &swap):
		diags.AddAttributeError(path.Root("target"), "Staging Swap Blocked",
			"The new copy is complete, but sessions of the staging database kept locks on the previous copy's tables, so it could not be swapped in. "+
				"Stop or wait for them and apply again. "+unchanged+"\n\n"+swap.Error())
	case errors.Is(err, context.DeadlineExceeded):
		diags.AddError(summary, "The copy did not finish within its timeout; raise timeouts.create (a first copy) or timeouts.update (a re-copy), or subset more. "+unchanged+"\n\n"+err.Error())
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
	phases := map[string]attr.Value{}
	for _, ph := range res.Phases {
		obj, d := types.ObjectValue(phaseAttrs, map[string]attr.Value{
			"start_seconds": types.Float64Value(ph.Start.Round(time.Millisecond).Seconds()),
			"seconds":       types.Float64Value(ph.Duration.Round(time.Millisecond).Seconds()),
			"busy_seconds":  types.Float64Value(ph.Busy.Round(time.Millisecond).Seconds()),
		})
		diags.Append(d...)
		phases[ph.Key] = obj
	}
	pv, d := types.MapValue(types.ObjectType{AttrTypes: phaseAttrs}, phases)
	diags.Append(d...)
	m.Phases = pv
	m.RowsTotal = types.Int64Value(rows)
	m.BytesTotal = types.Int64Value(bytes)
	m.SnapshotTime = timeString(res.SnapshotTime)
	m.ClonedAt = timeString(r.data.now())
	m.DurationSeconds = types.Float64Value(res.Duration.Round(time.Millisecond).Seconds())
	m.PolicyHash = types.StringValue(res.PolicyHash)
	tv, d := types.MapValueFrom(ctx, types.StringType, res.TransformerVersions)
	diags.Append(d...)
	m.TransformerVersions = tv
	objects := map[string]int64{}
	for k, n := range res.Objects {
		objects[k] = int64(n)
	}
	ov, d := types.MapValueFrom(ctx, types.Int64Type, objects)
	diags.Append(d...)
	m.Objects = ov
	skipped := []string{}
	for _, n := range res.NotCopied {
		skipped = append(skipped, n.String())
	}
	skipped = append(skipped, res.Skipped...)
	sl, d := types.ListValueFrom(ctx, types.StringType, skipped)
	diags.Append(d...)
	m.Skipped = sl
	m.Drift = types.ListValueMust(types.StringType, []attr.Value{}) // a fresh copy has none
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
		// Schema and table names may hold dots: split as the copy named them.
		sn := pgclone.SplitName(n)
		names = append(names, pgx.Identifier{sn.Schema, sn.Name}.Sanitize())
	}
	var present int
	err = conn.QueryRow(ctx, `SELECT count(*) FROM unnest($1::text[]) AS n WHERE to_regclass(n) IS NOT NULL`, names).Scan(&present)
	if err != nil {
		resp.Diagnostics.AddAttributeError(path.Root("target"), "Error Reading PostgreSQL Clone", err.Error())
		return
	}
	if present < len(names) {
		tflog.Warn(ctx, "cloned tables are missing from the staging database; the copy will be made again", map[string]any{"missing": len(names) - present})
		resp.State.RemoveResource(ctx)
		return
	}
	// Schemas another clone has taken over (a clone of the same
	// environment from another configuration): this one no longer holds
	// them, and its destroy will leave them alone.
	if own := state.OwnerID.ValueString(); own != "" {
		recs, err := pgclone.Owners(ctx, conn, stateSchemas(state))
		if err != nil {
			resp.Diagnostics.AddAttributeError(path.Root("target"), "Error Reading PostgreSQL Clone", dsn.Scrub(err, dst.dsn).Error())
			return
		}
		for _, s := range slices.Sorted(maps.Keys(recs)) {
			if rec := recs[s]; rec.Owner.ID != own {
				resp.Diagnostics.AddAttributeWarning(path.Root("owner_id"), "Staging Copy Taken Over",
					fmt.Sprintf("Schema %q of the staging database (connection %q) is now held by another clone (owner %s, environment %q, source connection %q, since %s), "+
						"not by this one (owner %s). That is expected after a create_before_destroy replacement; otherwise a second configuration of the same environment "+
						"writes this database. Until this clone copies again, its destroy leaves the schema alone.",
						s, dst.name, rec.Owner.ID, rec.Owner.Environment, rec.Owner.Source, rec.UpdatedAt.UTC().Format(time.RFC3339), own))
			}
		}
	}
	// Objects changed in staging by hand since the copy.
	drift, err := pgclone.Drift(ctx, conn, stateSchemas(state))
	if err != nil {
		resp.Diagnostics.AddAttributeError(path.Root("target"), "Error Reading PostgreSQL Clone", dsn.Scrub(err, dst.dsn).Error())
		return
	}
	if drift == nil {
		drift = []string{}
	}
	if len(drift) > 0 {
		const limit = 20
		shown := drift[:min(len(drift), limit)]
		more := ""
		if len(drift) > limit {
			more = fmt.Sprintf("\n  ... and %d more (see the drift attribute)", len(drift)-limit)
		}
		next := "They are kept (they may be migrations being tried in staging); set on_drift = \"recopy\" to have the plan make a fresh copy that puts production's schema back."
		if state.OnDrift.ValueString() == onDriftRecopy {
			next = "on_drift is \"recopy\": the plan makes a fresh copy that puts production's schema back."
		}
		resp.Diagnostics.AddWarning("Staging Schema Changed by Hand",
			fmt.Sprintf("Since the copy, these objects of the copied schemas changed in the staging database (connection %q):\n  - %s%s\n\n%s",
				dst.name, strings.Join(shown, "\n  - "), more, next))
	}
	dv, d := types.ListValueFrom(ctx, types.StringType, drift)
	resp.Diagnostics.Append(d...)
	state.Drift = dv
	resp.Diagnostics.Append(resp.State.Set(ctx, state)...)
}

// Update makes a new copy when the plan says so (its cloned_at is
// unknown: see ModifyPlan), beside the current one and swapped in; else it
// only stores the plan. A clone made before owners existed (state version
// 0) gets its owner here, recording the schemas it holds.
func (r *postgresCloneResource) Update(ctx context.Context, req resource.UpdateRequest, resp *resource.UpdateResponse) {
	var plan, state postgresCloneModel
	resp.Diagnostics.Append(req.Plan.Get(ctx, &plan)...)
	resp.Diagnostics.Append(req.State.Get(ctx, &state)...)
	if resp.Diagnostics.HasError() {
		return
	}
	adopt := state.OwnerID.IsNull() || state.OwnerID.ValueString() == ""
	if adopt {
		plan.OwnerID = types.StringValue(newOwnerID())
		if !r.adopt(ctx, plan, state, &resp.Diagnostics) {
			return
		}
	} else {
		plan.OwnerID = state.OwnerID
		if plan.Environment.ValueString() != state.Environment.ValueString() && !plan.ClonedAt.IsUnknown() {
			// The owner catalog records the environment (a clone of the
			// same environment may take the schemas over): keep it current.
			if !r.adopt(ctx, plan, state, &resp.Diagnostics) {
				return
			}
		}
	}
	if !plan.ClonedAt.IsUnknown() {
		plan.DurationSeconds = state.DurationSeconds
		resp.Diagnostics.Append(resp.State.Set(ctx, plan)...)
		return
	}
	key, _ := configKey(ctx, req.Config, &resp.Diagnostics)
	timeout, d := plan.Timeouts.Update(ctx, defaultCloneTimeout)
	resp.Diagnostics.Append(d...)
	if resp.Diagnostics.HasError() {
		return
	}
	if r.copy(ctx, &plan, key.ValueString(), timeout, &resp.Diagnostics) {
		resp.Diagnostics.Append(resp.State.Set(ctx, plan)...)
		return
	}
	if adopt {
		// The copy failed, but the owner is recorded: keep it.
		state.OwnerID = plan.OwnerID
		resp.Diagnostics.Append(resp.State.Set(ctx, state)...)
	}
}

// adopt records plan's owner as the holder of the schemas the state's copy
// made, for a clone made before owners existed.
func (r *postgresCloneResource) adopt(ctx context.Context, plan, state postgresCloneModel, diags *diagnostics) bool {
	dst, ok := r.data.connection(state.Target.ValueString(), path.Root("target"), true, diags)
	if !ok {
		return false
	}
	cfg, err := pgx.ParseConfig(dst.dsn)
	if err != nil {
		diags.AddAttributeError(path.Root("target"), "Error Updating PostgreSQL Clone", dsn.Scrub(err, dst.dsn).Error())
		return false
	}
	owner := pgclone.Owner{ID: plan.OwnerID.ValueString(), Environment: plan.Environment.ValueString(), Source: state.Source.ValueString()}
	if err := pgclone.Adopt(ctx, cfg, owner, stateSchemas(state)); err != nil {
		diags.AddAttributeError(path.Root("target"), "Error Updating PostgreSQL Clone",
			"Recording this clone as the owner of its schemas in the staging database failed; nothing was changed.\n\n"+dsn.Scrub(err, dst.dsn).Error())
		return false
	}
	return true
}

// stateSchemas lists the schemas of the tables a copy in state made.
func stateSchemas(m postgresCloneModel) []string {
	schemas := map[string]bool{}
	for n := range m.TableStats.Elements() {
		schemas[pgclone.SplitName(n).Schema] = true
	}
	return slices.Sorted(maps.Keys(schemas))
}

// Delete drops the schemas this clone holds in the staging database (see
// pgclone.Drop): schemas a create_before_destroy successor or another
// clone of the same environment took over are left alone.
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
	cfg, err := pgx.ParseConfig(dst.dsn)
	if err != nil {
		resp.Diagnostics.AddAttributeError(path.Root("target"), "Error Deleting PostgreSQL Clone", dsn.Scrub(err, dst.dsn).Error())
		return
	}
	schemas := stateSchemas(state)
	dropped, err := pgclone.Drop(ctx, cfg, state.OwnerID.ValueString(), schemas)
	if err != nil {
		resp.Diagnostics.AddError("Error Deleting PostgreSQL Clone", dsn.Scrub(err, dst.dsn).Error())
		return
	}
	tflog.Info(ctx, "dropped the clone's schemas", map[string]any{"dropped": dropped, "owner_id": state.OwnerID.ValueString()})
	if len(dropped) < len(schemas) {
		tflog.Info(ctx, "schemas held by another clone (such as a create_before_destroy successor) were left in place")
	}
}

// envTestHold is for the provider's own tests only: when set to
// "<phase>:<marker file>", a clone that reaches that phase (one of the
// pgclone.Hold* constants: copy, index, validate, swap) writes the
// provider's process id to the marker file and stops there, so that a test
// can kill the process at that point. Unset, it does nothing.
const envTestHold = "STAGING_TEST_HOLD"

// testHold returns the pgclone.Options.Hold that envTestHold asks for, or
// nil.
func testHold() func(string) {
	phase, marker, ok := strings.Cut(os.Getenv(envTestHold), ":")
	if !ok || marker == "" {
		return nil
	}
	var once sync.Once
	return func(p string) {
		if p != phase {
			return
		}
		once.Do(func() {
			tmp := marker + ".tmp"
			if os.WriteFile(tmp, []byte(strconv.Itoa(os.Getpid())), 0o600) == nil {
				_ = os.Rename(tmp, marker)
			}
		})
		time.Sleep(10 * time.Minute) // until the test kills the process
	}
}
