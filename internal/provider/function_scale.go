package provider

import (
	"context"
	"errors"
	"fmt"
	"strings"

	"github.com/hashicorp/terraform-plugin-framework/attr"
	"github.com/hashicorp/terraform-plugin-framework/function"
	"github.com/hashicorp/terraform-plugin-framework/types"

	"github.com/stagingkit/terraform-provider-staging/internal/scaling"
)

var _ function.Function = (*scaleFunction)(nil)

func newScaleFunction() function.Function { return &scaleFunction{} }

// scaleFunction is provider::staging::scale: production inputs and scaling
// rules in, staging inputs and the list of changes out.
type scaleFunction struct{}

// scaleChangeType is the element type of the result's changes list.
var scaleChangeType = types.ObjectType{AttrTypes: map[string]attr.Type{
	"path":       types.StringType,
	"production": types.StringType,
	"staging":    types.StringType,
	"rule":       types.StringType,
}}

func (f *scaleFunction) Metadata(_ context.Context, _ function.MetadataRequest, resp *function.MetadataResponse) {
	resp.Name = "scale"
}

func (f *scaleFunction) Definition(_ context.Context, _ function.DefinitionRequest, resp *function.DefinitionResponse) {
	resp.Definition = function.Definition{
		Summary: "Derive staging inputs from production inputs by scaling rules.",
		MarkdownDescription: "Applies scaling rules, addressed by path, to production inputs and returns " +
			"`{ values = <staging inputs, same shape>, changes = [{ path, production, staging, rule }] }`.\n\n" +
			"Paths are dot separated; `*` matches any map key or list index (`services.*.replicas`). " +
			"Each rule is an object holding only the attributes it needs:\n\n" +
			"- `ratio` multiplies a number (`{ ratio = 0.25, min = 1 }`); integers round up by default (`round` = `up`, `down`, `nearest` or `none`), `min` and `max` clamp the result.\n" +
			"- `ladder` steps an instance size down its family (`{ ladder = 2 }` turns `m6i.4xlarge` into `m6i.xlarge`), for AWS EC2, RDS and ElastiCache classes, GCP machine types and Azure VM sizes; `min` names the smallest size allowed.\n" +
			"- `quantity` multiplies a Kubernetes quantity (`{ quantity = 0.5, min = \"250m\" }` on `\"2000m\"` or `\"4Gi\"`).\n" +
			"- `set` replaces the value (`{ set = false }`).\n" +
			"- `keep` asserts the value stays identical (`{ keep = true }`).\n\n" +
			"Values without a rule are kept. Staging never exceeds production unless the rule sets `allow_grow = true`; " +
			"`optional = true` lets a rule match nothing. In `changes`, `production` and `staging` are the values rendered as text " +
			"(strings as they are, numbers in shortest form, other values as JSON, `null`), so that the list has one element type. " +
			"A rule that names no path of the inputs, would grow a value, names a size that is in no ladder, or has an unknown attribute " +
			"fails with an error naming the path and the value. When part of the arguments is not known yet, the result is unknown.",
		Parameters: []function.Parameter{
			function.DynamicParameter{
				Name:                "production",
				MarkdownDescription: "The production inputs: any object, map or list, nested as deep as needed.",
			},
			function.DynamicParameter{
				Name:                "rules",
				MarkdownDescription: "A map from path to rule object, such as `{ replicas = { ratio = 0.25, min = 1 }, instance_type = { ladder = 2 } }`.",
			},
		},
		Return: function.DynamicReturn{},
	}
}

func (f *scaleFunction) Run(ctx context.Context, req function.RunRequest, resp *function.RunResponse) {
	var production, rules types.Dynamic
	resp.Error = req.Arguments.Get(ctx, &production, &rules)
	if resp.Error != nil {
		return
	}
	prod, err := toGo(ctx, production)
	if errors.Is(err, errUnknownValue) {
		resp.Error = resp.Result.Set(ctx, types.DynamicUnknown())
		return
	}
	if err != nil {
		resp.Error = function.NewArgumentFuncError(0, "Invalid production inputs: "+err.Error())
		return
	}
	rawRules, err := toGo(ctx, rules)
	if errors.Is(err, errUnknownValue) {
		resp.Error = resp.Result.Set(ctx, types.DynamicUnknown())
		return
	}
	if err != nil {
		resp.Error = function.NewArgumentFuncError(1, "Invalid scaling rules: "+err.Error())
		return
	}
	ruleMap, ok := rawRules.(map[string]any)
	if !ok {
		resp.Error = function.NewArgumentFuncError(1, fmt.Sprintf(
			"Invalid scaling rules: want a map from path to rule object, such as { replicas = { ratio = 0.25 } }, got %s.", scaling.FormatValue(rawRules)))
		return
	}
	parsed, err := scaling.ParseRules(ruleMap)
	if err != nil {
		resp.Error = function.NewArgumentFuncError(1, "Invalid scaling rules:\n"+indentErrors(err))
		return
	}
	result, err := scaling.Scale(prod, parsed)
	if err != nil {
		// Every error of Scale is about a rule applied to the inputs: a
		// path that matches nothing, growth, a size in no ladder.
		resp.Error = function.NewArgumentFuncError(1, "The scaling rules do not fit the production inputs:\n"+indentErrors(err))
		return
	}
	out, err := scaleResultValue(result)
	if err != nil {
		resp.Error = function.NewFuncError("Unable to build the result of scale: " + err.Error() + ". Please report this issue to the provider developers.")
		return
	}
	resp.Error = resp.Result.Set(ctx, types.DynamicValue(out))
}

// scaleResultValue builds the { values, changes } object.
func scaleResultValue(r scaling.Result) (attr.Value, error) {
	values, err := fromGo(r.Values)
	if err != nil {
		return nil, err
	}
	changes := make([]attr.Value, 0, len(r.Changes))
	for _, c := range r.Changes {
		obj, diags := types.ObjectValue(scaleChangeType.AttrTypes, map[string]attr.Value{
			"path":       types.StringValue(c.Path),
			"production": types.StringValue(plainValue(c.Production)),
			"staging":    types.StringValue(plainValue(c.Staging)),
			"rule":       types.StringValue(c.Rule),
		})
		if diags.HasError() {
			return nil, fmt.Errorf("building a change: %v", diags)
		}
		changes = append(changes, obj)
	}
	list, diags := types.ListValue(scaleChangeType, changes)
	if diags.HasError() {
		return nil, fmt.Errorf("building the changes: %v", diags)
	}
	obj, diags := types.ObjectValue(
		map[string]attr.Type{"values": values.Type(context.Background()), "changes": list.Type(context.Background())},
		map[string]attr.Value{"values": values, "changes": list},
	)
	if diags.HasError() {
		return nil, fmt.Errorf("building the result: %v", diags)
	}
	return obj, nil
}

// indentErrors renders a joined error one line per error, each with a dash.
func indentErrors(err error) string {
	lines := strings.Split(err.Error(), "\n")
	for i, l := range lines {
		lines[i] = "- " + l
	}
	return strings.Join(lines, "\n")
}
