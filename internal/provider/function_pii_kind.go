package provider

import (
	"context"
	"encoding/json"
	"fmt"
	"math/big"
	"strings"

	"github.com/hashicorp/terraform-plugin-framework/attr"
	"github.com/hashicorp/terraform-plugin-framework/function"
	"github.com/hashicorp/terraform-plugin-framework/types"

	"github.com/stagingkit/terraform-provider-staging/internal/masking"
)

var _ function.Function = (*piiKindFunction)(nil)

func newPIIKindFunction() function.Function { return &piiKindFunction{} }

// piiKindFunction is provider::staging::pii_kind: the masking package's PII
// detector, for preconditions, checks and reviews of masking rules.
type piiKindFunction struct{}

// piiFindingType is the element type of the result's findings list.
var piiFindingType = types.ObjectType{AttrTypes: map[string]attr.Type{
	"kind":        types.StringType,
	"confidence":  types.NumberType,
	"reason":      types.StringType,
	"transformer": types.StringType,
}}

// piiResultTypes are the attribute types of the result object.
var piiResultTypes = map[string]attr.Type{
	"kind":                   types.StringType,
	"confidence":             types.NumberType,
	"reason":                 types.StringType,
	"suggested_transformer":  types.StringType,
	"suggested_domain":       types.StringType,
	"suggested_options_json": types.StringType,
	"findings":               types.ListType{ElemType: piiFindingType},
}

// piiKinds lists the kinds the detector reports, for the documentation.
var piiKinds = []string{
	masking.KindEmail, masking.KindPhone, masking.KindFirstName, masking.KindLastName, masking.KindFullName,
	masking.KindAddress, masking.KindBirthDate, masking.KindCreditCard, masking.KindIBAN, masking.KindNationalID,
	masking.KindIP, masking.KindFreeTextPII, masking.KindUsername, masking.KindCredential, masking.KindBinaryDocument,
	masking.KindPostalCode, masking.KindCompany,
}

func (f *piiKindFunction) Metadata(_ context.Context, _ function.MetadataRequest, resp *function.MetadataResponse) {
	resp.Name = "pii_kind"
}

func (f *piiKindFunction) Definition(_ context.Context, _ function.DefinitionRequest, resp *function.DefinitionResponse) {
	kinds := make([]string, len(piiKinds))
	for i, k := range piiKinds {
		kinds[i] = "`" + k + "`"
	}
	resp.Definition = function.Definition{
		Summary: "Detect the kind of personal data a column probably holds.",
		MarkdownDescription: "Runs the PII detector the clone uses on a column's name and a sample of its values, " +
			"and returns the most confident finding with a suggested masking rule, for `precondition` and `check` blocks " +
			"and for reviews of masking rules. The detector combines name patterns with value validators " +
			"(e-mail syntax, the Luhn check, IBAN check digits, phone patterns, IP parsing).\n\n" +
			"The result is an object:\n\n" +
			"- `kind` is one of " + strings.Join(kinds, ", ") + ", or null when nothing looks personal.\n" +
			"- `confidence` is a number from 0.5 to 1, or 0 when `kind` is null.\n" +
			"- `reason` says what the detector saw.\n" +
			"- `suggested_transformer`, `suggested_domain` and `suggested_options_json` are the suggested rule: " +
			"the arguments `transformer` and `options` (after `jsondecode`) of `provider::staging::mask`, " +
			"and the masking domain, which is the transformer's name unless the detector suggests another. They are null when `kind` is null.\n" +
			"- `findings` lists every kind found, most confident first, as `{ kind, confidence, reason, transformer }` objects.\n\n" +
			"An optional third argument gives the column's SQL type as PostgreSQL names it (`text`, `date`, `inet`, `bigint`); " +
			"it rules out kinds the type cannot hold and picks the suggested transformer for the type, " +
			"such as `digits` for a phone number stored as a number.",
		Parameters: []function.Parameter{
			function.StringParameter{
				Name:                "column_name",
				MarkdownDescription: "The column's name, optionally qualified by its table, such as `users.email`.",
			},
			function.ListParameter{
				Name:        "samples",
				ElementType: types.StringType,
				MarkdownDescription: "A sample of the column's values in text form; null elements are skipped. " +
					"An empty list lets the name alone decide.",
			},
		},
		VariadicParameter: function.StringParameter{
			Name:                "sql_type",
			MarkdownDescription: "The column's SQL type as PostgreSQL names it, such as `text` or `timestamp with time zone`; give it at most once.",
		},
		Return: function.ObjectReturn{AttributeTypes: piiResultTypes},
	}
}

func (f *piiKindFunction) Run(ctx context.Context, req function.RunRequest, resp *function.RunResponse) {
	var name string
	var samples []types.String
	var sqlTypes []string
	resp.Error = req.Arguments.Get(ctx, &name, &samples, &sqlTypes)
	if resp.Error != nil {
		return
	}
	if len(sqlTypes) > 1 {
		resp.Error = function.NewArgumentFuncError(2, fmt.Sprintf(
			"Too many arguments: pii_kind takes at most one SQL type after the samples, got %d.", len(sqlTypes)))
		return
	}
	col := masking.Column{Name: name}
	if len(sqlTypes) == 1 {
		col.SQLType = sqlTypes[0]
	}
	for _, s := range samples {
		if !s.IsNull() && !s.IsUnknown() {
			col.Samples = append(col.Samples, s.ValueString())
		}
	}
	result, err := piiKindResult(masking.Detect(col), len(col.Samples))
	if err != nil {
		resp.Error = function.NewFuncError("Unable to build the result of pii_kind: " + err.Error() +
			". Please report this issue to the provider developers.")
		return
	}
	resp.Error = resp.Result.Set(ctx, result)
}

// piiKindResult builds the result object from the detector's findings.
func piiKindResult(findings []masking.Finding, sampled int) (types.Object, error) {
	list := make([]attr.Value, 0, len(findings))
	for _, fd := range findings {
		obj, diags := types.ObjectValue(piiFindingType.AttrTypes, map[string]attr.Value{
			"kind":        types.StringValue(fd.Kind),
			"confidence":  types.NumberValue(big.NewFloat(fd.Confidence)),
			"reason":      types.StringValue(fd.Reason),
			"transformer": types.StringValue(fd.Suggested.Transformer),
		})
		if diags.HasError() {
			return types.ObjectNull(piiResultTypes), fmt.Errorf("building a finding: %v", diags)
		}
		list = append(list, obj)
	}
	findingList, diags := types.ListValue(piiFindingType, list)
	if diags.HasError() {
		return types.ObjectNull(piiResultTypes), fmt.Errorf("building the findings: %v", diags)
	}
	attrs := map[string]attr.Value{
		"kind":                   types.StringNull(),
		"confidence":             types.NumberValue(big.NewFloat(0)),
		"reason":                 types.StringValue(noPIIReason(sampled)),
		"suggested_transformer":  types.StringNull(),
		"suggested_domain":       types.StringNull(),
		"suggested_options_json": types.StringNull(),
		"findings":               findingList,
	}
	if len(findings) > 0 {
		top := findings[0]
		opts, err := suggestedOptionsJSON(top.Suggested)
		if err != nil {
			return types.ObjectNull(piiResultTypes), err
		}
		domain := top.Suggested.Domain
		if domain == "" {
			domain = top.Suggested.Transformer
		}
		attrs["kind"] = types.StringValue(top.Kind)
		attrs["confidence"] = types.NumberValue(big.NewFloat(top.Confidence))
		attrs["reason"] = types.StringValue(top.Reason)
		attrs["suggested_transformer"] = types.StringValue(top.Suggested.Transformer)
		attrs["suggested_domain"] = types.StringValue(domain)
		attrs["suggested_options_json"] = types.StringValue(opts)
	}
	obj, diags := types.ObjectValue(piiResultTypes, attrs)
	if diags.HasError() {
		return types.ObjectNull(piiResultTypes), fmt.Errorf("building the result: %v", diags)
	}
	return obj, nil
}

// suggestedOptionsJSON encodes a suggested spec as the options argument of
// mask: the transformer options, plus domain and on_invalid when the
// suggestion sets them.
func suggestedOptionsJSON(s masking.Spec) (string, error) {
	m := make(map[string]any, len(s.Options)+2)
	nested := false
	for k, v := range s.Options {
		m[k] = v
		nested = nested || k == "domain" || k == "on_invalid" || k == "options"
	}
	if nested {
		// mask reads these names as its own; nest the options verbatim.
		m = map[string]any{"options": s.Options}
	}
	if s.Domain != "" {
		m["domain"] = s.Domain
	}
	if s.OnInvalid != "" {
		m["on_invalid"] = s.OnInvalid
	}
	b, err := json.Marshal(m)
	if err != nil {
		return "", fmt.Errorf("encoding the suggested options: %w", err)
	}
	return string(b), nil
}

// noPIIReason is the reason given when the detector finds nothing, worded
// like the detector's own reasons.
func noPIIReason(sampled int) string {
	if sampled == 0 {
		return "nothing in the column name suggests personal data, and there are no sampled values"
	}
	return fmt.Sprintf("nothing in the column name or the %d sampled values suggests personal data", sampled)
}
