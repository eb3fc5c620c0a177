package provider

import (
	"context"
	"errors"
	"fmt"

	"github.com/hashicorp/terraform-plugin-framework/attr"
	"github.com/hashicorp/terraform-plugin-framework/function"
	"github.com/hashicorp/terraform-plugin-framework/types"

	"github.com/stagingkit/terraform-provider-staging/internal/parity"
)

var _ function.Function = (*parityViolationsFunction)(nil)

func newParityViolationsFunction() function.Function { return &parityViolationsFunction{} }

// parityViolationsFunction is provider::staging::parity_violations: the
// evaluation of staging_parity_check as a function, for preconditions and
// check blocks.
type parityViolationsFunction struct{}

// violationType is the element type of violation lists, in this function
// and in staging_parity_check's violations attribute.
var violationType = types.ObjectType{AttrTypes: map[string]attr.Type{
	"path":       types.StringType,
	"rule":       types.StringType,
	"production": types.StringType,
	"staging":    types.StringType,
	"message":    types.StringType,
}}

func (f *parityViolationsFunction) Metadata(_ context.Context, _ function.MetadataRequest, resp *function.MetadataResponse) {
	resp.Name = "parity_violations"
}

func (f *parityViolationsFunction) Definition(_ context.Context, _ function.DefinitionRequest, resp *function.DefinitionResponse) {
	resp.Definition = function.Definition{
		Summary: "List where staging facts break parity rules against production facts.",
		MarkdownDescription: "Evaluates parity rules as `staging_parity_check` does and returns the violations, " +
			"a list of `{ path, rule, production, staging, message }` objects (empty when staging matches), " +
			"for use in `precondition`, `postcondition` and `check` blocks.\n\n" +
			"Rules are either a map from path to a match kind or a rule object " +
			"(`{ \"postgres.version\" = \"same_minor\", \"api.replicas\" = { match = \"scaled\", max_ratio = 0.5 } }`), " +
			"or a list of rule objects with a `path` (`[{ path = \"services.*.image\", match = \"exact\" }]`). " +
			"A rule object holds `match` (`exact`, `same_major`, `same_minor`, `same_family`, `scaled`, `ignore` or `max_lag`) " +
			"and, where they apply, `min_ratio`, `max_ratio`, `max_lag` (such as `\"14d\"`) and `deployed_at`. " +
			"`production` and `staging` in the result are the values rendered as text (strings as they are, numbers in shortest form, other values as JSON, `null`).\n\n" +
			"Unlike the resource, the function takes no exceptions and no preset, and `max_lag` measures against the time of the " +
			"Terraform run (functions cannot use the provider's configuration or clock). A malformed rule, or one whose path matches " +
			"nothing in either production or staging, is an error. When part of the arguments is not known yet, the result is unknown.",
		Parameters: []function.Parameter{
			function.DynamicParameter{
				Name:                "production",
				MarkdownDescription: "The production facts: any object, map or list.",
			},
			function.DynamicParameter{
				Name:                "staging",
				MarkdownDescription: "The staging facts, usually of the same shape as production's.",
			},
			function.DynamicParameter{
				Name:                "rules",
				MarkdownDescription: "The parity rules: a map from path to match kind or rule object, or a list of rule objects with a path.",
			},
		},
		Return: function.ListReturn{ElementType: violationType},
	}
}

func (f *parityViolationsFunction) Run(ctx context.Context, req function.RunRequest, resp *function.RunResponse) {
	var production, staging, rules types.Dynamic
	resp.Error = req.Arguments.Get(ctx, &production, &staging, &rules)
	if resp.Error != nil {
		return
	}
	unknown := func() { resp.Error = resp.Result.Set(ctx, types.ListUnknown(violationType)) }
	var args [3]any
	for i, v := range []types.Dynamic{production, staging, rules} {
		g, err := toGo(ctx, v)
		if errors.Is(err, errUnknownValue) {
			unknown()
			return
		}
		if err != nil {
			resp.Error = function.NewArgumentFuncError(int64(i), "Invalid argument: "+err.Error())
			return
		}
		args[i] = g
	}
	parsed, err := parity.ParseRules(args[2])
	if err != nil {
		resp.Error = function.NewArgumentFuncError(2, "Invalid parity rules:\n"+indentErrors(err))
		return
	}
	report, err := parity.Evaluate(parity.Input{Production: args[0], Staging: args[1], Rules: parsed})
	if err != nil {
		resp.Error = function.NewArgumentFuncError(2, "The parity rules do not fit the facts:\n"+indentErrors(err))
		return
	}
	list, err := violationsValue(report.Violations)
	if err != nil {
		resp.Error = function.NewFuncError("Unable to build the result of parity_violations: " + err.Error() + ". Please report this issue to the provider developers.")
		return
	}
	resp.Error = resp.Result.Set(ctx, list)
}

// violationsValue converts violations into a list of violationType, never
// null.
func violationsValue(vs []parity.Violation) (types.List, error) {
	elems := make([]attr.Value, 0, len(vs))
	for _, v := range vs {
		obj, diags := types.ObjectValue(violationType.AttrTypes, map[string]attr.Value{
			"path":       types.StringValue(v.Path),
			"rule":       types.StringValue(v.Rule),
			"production": types.StringValue(plainValue(v.Production)),
			"staging":    types.StringValue(plainValue(v.Staging)),
			"message":    types.StringValue(v.Message),
		})
		if diags.HasError() {
			return types.ListNull(violationType), fmt.Errorf("building a violation: %v", diags)
		}
		elems = append(elems, obj)
	}
	list, diags := types.ListValue(violationType, elems)
	if diags.HasError() {
		return types.ListNull(violationType), fmt.Errorf("building the violations: %v", diags)
	}
	return list, nil
}
