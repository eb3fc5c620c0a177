package provider

import (
	"context"
	"crypto/sha256"
	"encoding/hex"
	"encoding/json"
	"errors"
	"fmt"
	"math"
	"strings"
	"time"

	"github.com/hashicorp/terraform-plugin-framework-validators/stringvalidator"
	"github.com/hashicorp/terraform-plugin-framework/attr"
	"github.com/hashicorp/terraform-plugin-framework/path"
	"github.com/hashicorp/terraform-plugin-framework/resource"
	"github.com/hashicorp/terraform-plugin-framework/resource/schema"
	"github.com/hashicorp/terraform-plugin-framework/resource/schema/planmodifier"
	"github.com/hashicorp/terraform-plugin-framework/resource/schema/stringplanmodifier"
	"github.com/hashicorp/terraform-plugin-framework/schema/validator"
	"github.com/hashicorp/terraform-plugin-framework/types"
	"github.com/hashicorp/terraform-plugin-log/tflog"

	"github.com/stagingkit/terraform-provider-staging/internal/parity"
	"github.com/stagingkit/terraform-provider-staging/internal/registry"
	"github.com/stagingkit/terraform-provider-staging/internal/scaling"
)

var (
	_ resource.ResourceWithConfigure      = (*parityCheckResource)(nil)
	_ resource.ResourceWithModifyPlan     = (*parityCheckResource)(nil)
	_ resource.ResourceWithValidateConfig = (*parityCheckResource)(nil)
)

func newParityCheckResource() resource.Resource { return &parityCheckResource{} }

// parityCheckResource checks staging facts against production facts at
// plan time. It manages no remote object: its state is the last report.
type parityCheckResource struct{ data *providerData }

type parityCheckModel struct {
	ID          types.String  `tfsdk:"id"`
	Production  types.Dynamic `tfsdk:"production"`
	Staging     types.Dynamic `tfsdk:"staging"`
	Preset      types.String  `tfsdk:"preset"`
	Environment types.String  `tfsdk:"environment"`
	Rules       types.List    `tfsdk:"rule"`
	Exceptions  types.List    `tfsdk:"exception"`
	Report      types.String  `tfsdk:"report"`
	Violations  types.List    `tfsdk:"violations"`
	Score       types.Float64 `tfsdk:"score"`
	CheckedAt   types.String  `tfsdk:"checked_at"`
}

type parityRuleModel struct {
	Path       types.String  `tfsdk:"path"`
	Match      types.String  `tfsdk:"match"`
	MinRatio   types.Float64 `tfsdk:"min_ratio"`
	MaxRatio   types.Float64 `tfsdk:"max_ratio"`
	MaxLag     types.String  `tfsdk:"max_lag"`
	DeployedAt types.String  `tfsdk:"deployed_at"`
}

type parityExceptionModel struct {
	Path    types.String `tfsdk:"path"`
	Reason  types.String `tfsdk:"reason"`
	Expires types.String `tfsdk:"expires"`
}

// Match kinds in the order the documentation lists them.
var parityMatches = []string{
	parity.MatchExact, parity.MatchSameMajor, parity.MatchSameMinor, parity.MatchSameFamily,
	parity.MatchScaled, parity.MatchIgnore, parity.MatchMaxLag,
}

func (r *parityCheckResource) Metadata(_ context.Context, req resource.MetadataRequest, resp *resource.MetadataResponse) {
	resp.TypeName = req.ProviderTypeName + "_parity_check"
}

func (r *parityCheckResource) Schema(_ context.Context, _ resource.SchemaRequest, resp *resource.SchemaResponse) {
	resp.Schema = schema.Schema{
		MarkdownDescription: "Proves that staging matches production where it must. `rule` blocks, addressed by path, say how each part of the " +
			"`staging` facts must relate to `production`'s; `preset = \"twelve-factor\"` adds sensible defaults for the rest. " +
			"The check runs at plan time whenever the facts are known, and again at apply: every violation fails with one error naming " +
			"the path, both values and the rule. `exception` blocks tolerate a violation, with a reason, until they expire.\n\n" +
			"The check manages no remote object: there is nothing to import, reading keeps the last report, and destroying it only " +
			"removes it from state (audit events it wrote stay in the registry). Changing any argument re-runs the check in place.",
		Attributes: map[string]schema.Attribute{
			"id": schema.StringAttribute{
				MarkdownDescription: "A hash of the check's arguments when it was created; it does not change when they do.",
				Computed:            true,
				PlanModifiers:       []planmodifier.String{stringplanmodifier.UseStateForUnknown()},
			},
			"production": schema.DynamicAttribute{
				MarkdownDescription: "Production facts: any object, such as module inputs or a `staging_postgres_fingerprint`.",
				Required:            true,
			},
			"staging": schema.DynamicAttribute{
				MarkdownDescription: "Staging facts, usually of the same shape as `production`.",
				Required:            true,
			},
			"preset": schema.StringAttribute{
				MarkdownDescription: "Default rules for values that no `rule` covers, chosen by key name. `twelve-factor`: keys with the word " +
					"`version` must be `same_minor`; `image`, `engine` or `brand` must be `exact`; `replicas`, `count`, `size`, `class`, " +
					"`instance_type`, `machine_type` and `node_type` must be `scaled` (or `same_family` for instance classes).",
				Optional:   true,
				Validators: []validator.String{stringvalidator.OneOf(parity.PresetTwelveFactor)},
			},
			"environment": schema.StringAttribute{
				MarkdownDescription: "Name of the `staging_environment` the check is about. When set, every apply writes the report to the " +
					"registry's audit log (action `check`, object type `parity_check`); the environment must exist in the registry.",
				Optional:   true,
				Validators: nameValidators(),
			},
			"report": schema.StringAttribute{
				MarkdownDescription: "The report as JSON: `score`, `checked`, `passed`, `violations` and `excepted` (violations that an exception tolerates, with its reason and expiry).",
				Computed:            true,
			},
			"violations": schema.ListAttribute{
				MarkdownDescription: "Violations that no current exception excuses, each `{ path, rule, production, staging, message }` with the values rendered as text. " +
					"Always empty in state, because a violation fails the plan; it is known at plan time when the facts are.",
				ElementType: violationType,
				Computed:    true,
			},
			"score": schema.Float64Attribute{
				MarkdownDescription: "The share of checks that passed, from 0 to 1 (1 when nothing was checked). Violations that an exception excuses count as failed.",
				Computed:            true,
			},
			"checked_at": schema.StringAttribute{
				MarkdownDescription: "When the check last ran at apply (RFC 3339).",
				Computed:            true,
			},
		},
		Blocks: map[string]schema.Block{
			"rule": schema.ListNestedBlock{
				MarkdownDescription: "How the staging value at a path must relate to production's. A rule applies to every value at or under its path; " +
					"when several rules cover a value, the deepest path wins.",
				NestedObject: schema.NestedBlockObject{
					Attributes: map[string]schema.Attribute{
						"path": schema.StringAttribute{
							MarkdownDescription: "Dot-separated path into the facts; `*` matches any key or list index (`services.*.image`). It must match something in production or staging.",
							Required:            true,
						},
						"match": schema.StringAttribute{
							MarkdownDescription: "How staging must match: `exact`; `same_major` or `same_minor` (semantic, PostgreSQL-style and image-tag versions); " +
								"`same_family` (instance classes such as `m6i` or `db.r6g`); `scaled` (numbers, Kubernetes quantities or instance sizes of one ladder, " +
								"staging within `min_ratio`..`max_ratio` of production); `ignore`; `max_lag` (a release that differs from production's may stay in staging at most `max_lag`).",
							Required:   true,
							Validators: []validator.String{stringvalidator.OneOf(parityMatches...)},
						},
						"min_ratio": schema.Float64Attribute{
							MarkdownDescription: "For `scaled`: the smallest staging/production ratio allowed. Without it the ratio must be above 0.",
							Optional:            true,
						},
						"max_ratio": schema.Float64Attribute{
							MarkdownDescription: "For `scaled`: the largest staging/production ratio allowed. Without it staging must not exceed production.",
							Optional:            true,
						},
						"max_lag": schema.StringAttribute{
							MarkdownDescription: "For `max_lag`: how long a release may sit in staging without reaching production, such as `14d`, `2w` or `36h`.",
							Optional:            true,
							Validators:          []validator.String{parityDurationValidator{}},
						},
						"deployed_at": schema.StringAttribute{
							MarkdownDescription: "For `max_lag`: where staging records when it deployed the release, either a key next to the version (default `deployed_at`) " +
								"or a full path whose wildcards follow `path`'s (`services.*.deployed_at`). The value is an RFC 3339 time, a date or Unix seconds.",
							Optional: true,
						},
					},
				},
			},
			"exception": schema.ListNestedBlock{
				MarkdownDescription: "Tolerates violations at or under a path until a date. Past `expires` the violation fails the plan again.",
				NestedObject: schema.NestedBlockObject{
					Attributes: map[string]schema.Attribute{
						"path": schema.StringAttribute{
							MarkdownDescription: "Path of the tolerated values, with `*` wildcards; it must match something in production or staging.",
							Required:            true,
						},
						"reason": schema.StringAttribute{
							MarkdownDescription: "Why staging may differ; recorded in the report.",
							Required:            true,
							Validators:          []validator.String{stringvalidator.LengthAtLeast(1)},
						},
						"expires": schema.StringAttribute{
							MarkdownDescription: "When the exception stops applying: a date (`2026-12-31`, midnight UTC) or an RFC 3339 timestamp.",
							Required:            true,
							Validators:          []validator.String{parityTimeValidator{}},
						},
					},
				},
			},
		},
	}
}

func (r *parityCheckResource) Configure(_ context.Context, req resource.ConfigureRequest, resp *resource.ConfigureResponse) {
	r.data = providerDataFrom(req.ProviderData, &resp.Diagnostics)
}

// ValidateConfig checks each rule and exception on its own; checks that
// need the facts (paths that match nothing) wait for ModifyPlan.
func (r *parityCheckResource) ValidateConfig(ctx context.Context, req resource.ValidateConfigRequest, resp *resource.ValidateConfigResponse) {
	var cfg parityCheckModel
	resp.Diagnostics.Append(req.Config.Get(ctx, &cfg)...)
	if resp.Diagnostics.HasError() {
		return
	}
	parityRules(ctx, cfg.Rules, &resp.Diagnostics)
	parityExceptions(ctx, cfg.Exceptions, &resp.Diagnostics)
}

// ModifyPlan runs the check when the facts and rules are known: violations
// and rules that do not fit the facts fail the plan, and the report is
// planned.
func (r *parityCheckResource) ModifyPlan(ctx context.Context, req resource.ModifyPlanRequest, resp *resource.ModifyPlanResponse) {
	if req.Plan.Raw.IsNull() || r.data == nil {
		return // destroy, or the provider is not configured yet
	}
	var plan parityCheckModel
	resp.Diagnostics.Append(req.Plan.Get(ctx, &plan)...)
	var state *parityCheckModel
	if !req.State.Raw.IsNull() {
		state = &parityCheckModel{}
		resp.Diagnostics.Append(req.State.Get(ctx, state)...)
	}
	if resp.Diagnostics.HasError() {
		return
	}
	report, known := r.evaluate(ctx, plan, &resp.Diagnostics)
	if !known || resp.Diagnostics.HasError() {
		return
	}
	r.setReport(&plan, report, &resp.Diagnostics)
	// Scores compare as float64: the state's went through Terraform's
	// arbitrary-precision numbers (2/3 comes back with more digits).
	if state != nil && !(plan.Report.Equal(state.Report) && plan.Score.ValueFloat64() == state.Score.ValueFloat64() && plan.Violations.Equal(state.Violations)) {
		// The report changes (time passed, or inputs changed): the apply
		// runs the check again.
		plan.CheckedAt = types.StringUnknown()
	}
	resp.Diagnostics.Append(resp.Plan.Set(ctx, plan)...)
}

func (r *parityCheckResource) Create(ctx context.Context, req resource.CreateRequest, resp *resource.CreateResponse) {
	var plan parityCheckModel
	resp.Diagnostics.Append(req.Plan.Get(ctx, &plan)...)
	if resp.Diagnostics.HasError() {
		return
	}
	if plan.ID.IsUnknown() {
		plan.ID = types.StringValue(parityCheckID(ctx, plan))
	}
	r.apply(ctx, &plan, &resp.Diagnostics)
	if resp.Diagnostics.HasError() {
		return
	}
	resp.Diagnostics.Append(resp.State.Set(ctx, plan)...)
}

// Read keeps the state: there is nothing to read back.
func (r *parityCheckResource) Read(context.Context, resource.ReadRequest, *resource.ReadResponse) {}

func (r *parityCheckResource) Update(ctx context.Context, req resource.UpdateRequest, resp *resource.UpdateResponse) {
	var plan, state parityCheckModel
	resp.Diagnostics.Append(req.Plan.Get(ctx, &plan)...)
	resp.Diagnostics.Append(req.State.Get(ctx, &state)...)
	if resp.Diagnostics.HasError() {
		return
	}
	if plan.ID.IsUnknown() {
		plan.ID = state.ID
	}
	r.apply(ctx, &plan, &resp.Diagnostics)
	if resp.Diagnostics.HasError() {
		return
	}
	resp.Diagnostics.Append(resp.State.Set(ctx, plan)...)
}

// Delete removes nothing: the check has no remote object, and the audit
// events it wrote stay in the registry.
func (r *parityCheckResource) Delete(context.Context, resource.DeleteRequest, *resource.DeleteResponse) {
}

// apply runs the check again (the facts may have been unknown at plan, or
// an exception may have expired since), fills in the computed attributes
// and writes the audit event.
func (r *parityCheckResource) apply(ctx context.Context, m *parityCheckModel, diags *diagnostics) {
	report, known := r.evaluate(ctx, *m, diags)
	if diags.HasError() {
		return
	}
	if !known {
		diags.AddError("Unknown Staging Parity Check Arguments",
			"The facts or rules of the parity check are still unknown at apply. Please report this issue to the provider developers.")
		return
	}
	if m.Report.IsUnknown() || m.Score.IsUnknown() || m.Violations.IsUnknown() {
		r.setReport(m, report, diags)
	}
	// Otherwise keep the planned report: Terraform requires the applied
	// values to match known planned ones, and the check just passed again.
	if m.CheckedAt.IsUnknown() {
		m.CheckedAt = timeString(r.data.now())
	}
	if m.Environment.IsNull() || diags.HasError() {
		return
	}
	store := r.data.openStore(ctx, diags)
	if store == nil {
		return
	}
	env := m.Environment.ValueString()
	if _, err := store.GetEnvironment(ctx, env); err != nil {
		if errors.Is(err, registry.ErrNotFound) {
			diags.AddAttributeError(path.Root("environment"), "Staging Environment Not Found",
				fmt.Sprintf("The parity check is linked to environment %q, which is not in the registry, so its report cannot be recorded. "+
					"Create the environment with a staging_environment resource (and refer to its name, so that it exists first), fix the name, "+
					"or remove environment.\n\n%s", env, err))
			return
		}
		addRegistryError(diags, "Error Recording Staging Parity Check", err)
		return
	}
	if _, err := store.RecordEvent(ctx, r.data.actor, registry.Event{
		Action: "check", ObjectType: "parity_check", Object: env, After: m.Report.ValueString(),
	}); err != nil {
		addRegistryError(diags, "Error Recording Staging Parity Check", err)
		return
	}
	tflog.Debug(ctx, "recorded staging parity check", map[string]any{"environment": env, "score": m.Score.ValueFloat64()})
}

// setReport fills report, violations and score from a report.
func (r *parityCheckResource) setReport(m *parityCheckModel, report parity.Report, diags *diagnostics) {
	js, err := report.JSON()
	if err != nil {
		diags.AddError("Error Encoding Staging Parity Report", err.Error()+"\n\nPlease report this issue to the provider developers.")
		return
	}
	vs, err := violationsValue(report.Violations)
	if err != nil {
		diags.AddError("Error Encoding Staging Parity Report", err.Error()+"\n\nPlease report this issue to the provider developers.")
		return
	}
	m.Report, m.Violations, m.Score = types.StringValue(js), vs, types.Float64Value(report.Score)
}

// evaluate runs the check on m. known is false, without diagnostics, when
// a fact, rule or exception is not known yet. Bad rules and violations are
// attribute errors.
func (r *parityCheckResource) evaluate(ctx context.Context, m parityCheckModel, diags *diagnostics) (parity.Report, bool) {
	rules, ruleModels, rulesKnown := parityRules(ctx, m.Rules, diags)
	excs, excModels, excsKnown := parityExceptions(ctx, m.Exceptions, diags)
	if diags.HasError() || !rulesKnown || !excsKnown || m.Preset.IsUnknown() {
		return parity.Report{}, false
	}
	prod, err := toGo(ctx, m.Production)
	if errors.Is(err, errUnknownValue) {
		return parity.Report{}, false
	}
	if err != nil {
		diags.AddAttributeError(path.Root("production"), "Invalid Production Facts", err.Error())
		return parity.Report{}, false
	}
	stag, err := toGo(ctx, m.Staging)
	if errors.Is(err, errUnknownValue) {
		return parity.Report{}, false
	}
	if err != nil {
		diags.AddAttributeError(path.Root("staging"), "Invalid Staging Facts", err.Error())
		return parity.Report{}, false
	}
	report, err := parity.Evaluate(parity.Input{
		Production: prod, Staging: stag, Rules: rules, Exceptions: excs,
		Preset: m.Preset.ValueString(), Now: r.data.now(),
	})
	if err != nil {
		addParityErrors(diags, err, ruleModels, excModels)
		return parity.Report{}, true
	}
	now := r.data.now()
	for _, v := range report.Violations {
		diags.AddAttributeError(violationAttr(v, rules), "Staging Parity Violation", violationDetail(v, now))
	}
	return report, true
}

// violationAttr is where a violation points: the rule block that failed,
// or staging for the preset's rules.
func violationAttr(v parity.Violation, rules []parity.Rule) path.Path {
	segs := pathSegments(v.Path)
	best, bestLen := -1, -1
	for i, r := range rules {
		if r.Match != v.Match {
			continue
		}
		p, err := scaling.ParsePath(r.Path)
		if err != nil || !p.MatchPrefix(segs) || p.Len() <= bestLen {
			continue
		}
		best, bestLen = i, p.Len()
	}
	if best < 0 || strings.Contains(v.Rule, "preset") {
		return path.Root("staging")
	}
	return path.Root("rule").AtListIndex(best).AtName("path")
}

// pathSegments splits a concrete path as scaling.JoinPath writes it.
func pathSegments(s string) []string {
	p, err := scaling.ParsePath(s)
	if err != nil {
		return strings.Split(s, ".")
	}
	segs := make([]string, p.Len())
	for i := range segs {
		segs[i], _ = p.Segment(i)
	}
	return segs
}

func violationDetail(v parity.Violation, now time.Time) string {
	facts := fmt.Sprintf("%s\n\nPath: %s\nProduction: %s\nStaging: %s\nRule: %s\n\n",
		v.Message, v.Path, scaling.FormatValue(v.Production), scaling.FormatValue(v.Staging), v.Rule)
	if strings.Contains(v.Message, "; the exception ") {
		return facts + "The exception that tolerated this drift has expired. Change staging so that the value satisfies the rule, " +
			"or, if the drift must last longer, move the exception's expires to a later date and check that its reason still holds."
	}
	return facts + fmt.Sprintf("Change staging (or the rule) so that the value satisfies the rule. If the drift is intended for a while, "+
		"add an exception with a reason and an expiry date:\n\n"+
		"  exception {\n    path    = %q\n    reason  = \"why staging may differ\"\n    expires = %q\n  }",
		v.Path, now.AddDate(0, 0, 30).Format(time.DateOnly))
}

// addParityErrors turns the errors of parity.Evaluate into attribute
// errors on the rule or exception blocks they name.
func addParityErrors(diags *diagnostics, err error, rules []parityRuleModel, excs []parityExceptionModel) {
	var errs []error
	if j, ok := err.(interface{ Unwrap() []error }); ok {
		errs = j.Unwrap()
	} else {
		errs = []error{err}
	}
	for _, e := range errs {
		var re *parity.RuleError
		var ee *parity.ExceptionError
		found := false
		switch {
		case errors.As(e, &re):
			for i, m := range rules {
				if m.Path.ValueString() == re.Path {
					found = true
					diags.AddAttributeError(path.Root("rule").AtListIndex(i).AtName("path"), "Invalid Staging Parity Rule",
						fmt.Sprintf("%s.\n\nCheck the path against the production and staging facts: segments are separated by dots, and * matches any key or list index.", e))
				}
			}
		case errors.As(e, &ee):
			for i, m := range excs {
				if m.Path.ValueString() == ee.Path {
					found = true
					diags.AddAttributeError(path.Root("exception").AtListIndex(i).AtName("path"), "Invalid Staging Parity Exception",
						fmt.Sprintf("%s.\n\nCheck the path against the production and staging facts, or remove the exception.", e))
				}
			}
		case errors.Is(e, parity.ErrUnknownPreset):
			found = true
			diags.AddAttributeError(path.Root("preset"), "Invalid Staging Parity Preset", e.Error())
		}
		if !found {
			diags.AddError("Error Checking Staging Parity", e.Error())
		}
	}
}

// parityRules converts the rule blocks, adding an attribute error for each
// invalid one. known is false when a block or value is not known yet.
func parityRules(ctx context.Context, list types.List, diags *diagnostics) ([]parity.Rule, []parityRuleModel, bool) {
	if list.IsUnknown() {
		return nil, nil, false
	}
	var models []parityRuleModel
	diags.Append(list.ElementsAs(ctx, &models, false)...)
	if diags.HasError() {
		return nil, nil, false
	}
	rules := make([]parity.Rule, 0, len(models))
	known := true
	for i, m := range models {
		at := path.Root("rule").AtListIndex(i)
		if m.Path.IsUnknown() || m.Match.IsUnknown() || m.MinRatio.IsUnknown() || m.MaxRatio.IsUnknown() || m.MaxLag.IsUnknown() || m.DeployedAt.IsUnknown() {
			known = false
			continue
		}
		r := parity.Rule{Path: m.Path.ValueString(), Match: m.Match.ValueString(), DeployedAt: m.DeployedAt.ValueString()}
		if !m.MinRatio.IsNull() {
			f := m.MinRatio.ValueFloat64()
			r.MinRatio = &f
		}
		if !m.MaxRatio.IsNull() {
			f := m.MaxRatio.ValueFloat64()
			r.MaxRatio = &f
		}
		if !m.MaxLag.IsNull() {
			d, err := parity.ParseDuration(m.MaxLag.ValueString())
			if err != nil {
				continue // reported by parityDurationValidator
			}
			r.MaxLag = d
		}
		if err := r.Validate(); err != nil {
			if errors.Is(err, parity.ErrUnknownMatch) {
				continue // reported by the match validator
			}
			diags.AddAttributeError(at.AtName(ruleErrorAttr(r, err)), "Invalid Staging Parity Rule", err.Error()+".")
			continue
		}
		rules = append(rules, r)
	}
	return rules, models, known
}

// ruleErrorAttr names the rule attribute that Validate's error is about.
func ruleErrorAttr(r parity.Rule, err error) string {
	negative := func(p *float64) bool { return p != nil && (*p < 0 || math.IsNaN(*p) || math.IsInf(*p, 0)) }
	switch {
	case errors.Is(err, parity.ErrRatioRange):
		if negative(r.MaxRatio) && !negative(r.MinRatio) {
			return "max_ratio"
		}
		return "min_ratio"
	case r.Match != parity.MatchScaled && r.MinRatio != nil:
		return "min_ratio"
	case r.Match != parity.MatchScaled && r.MaxRatio != nil:
		return "max_ratio"
	case r.Match == parity.MatchMaxLag && r.MaxLag <= 0:
		return "max_lag"
	case r.Match != parity.MatchMaxLag && r.MaxLag != 0:
		return "max_lag"
	case r.DeployedAt != "" && strings.Contains(err.Error(), "deployed_at"):
		return "deployed_at"
	}
	return "path"
}

// parityExceptions converts the exception blocks, adding an attribute error
// for each invalid one.
func parityExceptions(ctx context.Context, list types.List, diags *diagnostics) ([]parity.Exception, []parityExceptionModel, bool) {
	if list.IsUnknown() {
		return nil, nil, false
	}
	var models []parityExceptionModel
	diags.Append(list.ElementsAs(ctx, &models, false)...)
	if diags.HasError() {
		return nil, nil, false
	}
	excs := make([]parity.Exception, 0, len(models))
	known := true
	for i, m := range models {
		if m.Path.IsUnknown() || m.Reason.IsUnknown() || m.Expires.IsUnknown() {
			known = false
			continue
		}
		expires, err := parity.ParseTime(m.Expires.ValueString())
		if err != nil {
			continue // reported by parityTimeValidator
		}
		e := parity.Exception{Path: m.Path.ValueString(), Reason: m.Reason.ValueString(), Expires: expires}
		if err := e.Validate(); err != nil {
			attrName := "path"
			if strings.TrimSpace(e.Reason) == "" {
				attrName = "reason"
			}
			diags.AddAttributeError(path.Root("exception").AtListIndex(i).AtName(attrName), "Invalid Staging Parity Exception", err.Error()+".")
			continue
		}
		excs = append(excs, e)
	}
	return excs, models, known
}

// parityCheckID hashes the check's arguments as they are at creation.
func parityCheckID(ctx context.Context, m parityCheckModel) string {
	args := map[string]any{"preset": m.Preset.ValueString(), "environment": m.Environment.ValueString()}
	for name, v := range map[string]attr.Value{"production": m.Production, "staging": m.Staging, "rule": m.Rules, "exception": m.Exceptions} {
		g, err := toGo(ctx, v)
		if err != nil {
			g = v.String()
		}
		args[name] = g
	}
	b, _ := json.Marshal(args) // plain values: cannot fail
	sum := sha256.Sum256(b)
	return hex.EncodeToString(sum[:8])
}

// parityDurationValidator checks durations parity.ParseDuration accepts.
type parityDurationValidator struct{}

var _ validator.String = parityDurationValidator{}

func (parityDurationValidator) Description(context.Context) string {
	return "must be a positive duration such as \"14d\", \"2w\" or \"36h\""
}

func (v parityDurationValidator) MarkdownDescription(ctx context.Context) string {
	return v.Description(ctx)
}

func (parityDurationValidator) ValidateString(_ context.Context, req validator.StringRequest, resp *validator.StringResponse) {
	if req.ConfigValue.IsNull() || req.ConfigValue.IsUnknown() {
		return
	}
	d, err := parity.ParseDuration(req.ConfigValue.ValueString())
	if err == nil && d <= 0 {
		err = fmt.Errorf("duration %q is not positive", req.ConfigValue.ValueString())
	}
	if err != nil {
		resp.Diagnostics.AddAttributeError(req.Path, "Invalid Duration",
			fmt.Sprintf("Attribute %s value %q is not a valid duration: use numbers with units such as \"14d\", \"2w\", \"36h\" or \"1d12h\".\n\n%s",
				req.Path, req.ConfigValue.ValueString(), err))
	}
}

// parityTimeValidator checks dates and timestamps parity.ParseTime accepts.
type parityTimeValidator struct{}

var _ validator.String = parityTimeValidator{}

func (parityTimeValidator) Description(context.Context) string {
	return "must be a date (2026-12-31) or an RFC 3339 timestamp (2026-12-31T18:00:00Z)"
}

func (v parityTimeValidator) MarkdownDescription(ctx context.Context) string {
	return v.Description(ctx)
}

func (parityTimeValidator) ValidateString(_ context.Context, req validator.StringRequest, resp *validator.StringResponse) {
	if req.ConfigValue.IsNull() || req.ConfigValue.IsUnknown() {
		return
	}
	if _, err := parity.ParseTime(req.ConfigValue.ValueString()); err != nil {
		resp.Diagnostics.AddAttributeError(req.Path, "Invalid Date",
			fmt.Sprintf("Attribute %s value %q is not a valid date: use a date such as \"2026-12-31\" (midnight UTC) or an RFC 3339 timestamp such as \"2026-12-31T18:00:00Z\".",
				req.Path, req.ConfigValue.ValueString()))
	}
}
