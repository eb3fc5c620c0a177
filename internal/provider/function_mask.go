package provider

import (
	"context"
	"errors"
	"fmt"
	"sort"
	"strings"

	"github.com/hashicorp/terraform-plugin-framework/function"
	"github.com/hashicorp/terraform-plugin-framework/types"

	"github.com/stagingkit/terraform-provider-staging/internal/masking"
)

var _ function.Function = (*maskFunction)(nil)

func newMaskFunction() function.Function { return &maskFunction{} }

// maskFunction is provider::staging::mask: one value through the masking
// engine, by the same path (masking.New, then masking.Apply) as the clone.
type maskFunction struct{}

// Argument positions of mask, for errors that name the argument.
const (
	maskArgValue int64 = iota
	maskArgTransformer
	maskArgKey
	maskArgOptions
)

func (f *maskFunction) Metadata(_ context.Context, _ function.MetadataRequest, resp *function.MetadataResponse) {
	resp.Name = "mask"
}

func (f *maskFunction) Definition(_ context.Context, _ function.DefinitionRequest, resp *function.DefinitionResponse) {
	resp.Definition = function.Definition{
		Summary:             "Mask one value with a keyed, deterministic transformer.",
		MarkdownDescription: maskDescription(),
		Parameters: []function.Parameter{
			function.StringParameter{
				Name:                "value",
				AllowNullValue:      true,
				MarkdownDescription: "The value to mask, in PostgreSQL text form (as the clone sees it). A null value returns null.",
			},
			function.StringParameter{
				Name:                "transformer",
				MarkdownDescription: "The transformer's name, such as `email`; see the list above.",
			},
			function.StringParameter{
				Name: "key",
				MarkdownDescription: "The environment's masking key: at least 32 random bytes written as 64 or more hex characters or as base64, such as the output of `openssl rand -hex 32`; " +
					"the transformers' AES keys are derived from it with HKDF-SHA256. A key that is recognisable text (words, year-like numbers, repeated runs, the base64 of a phrase) is refused, since a typed phrase could be guessed from one value and its masked form; no check can prove a key random, so generate it. " +
					"It never appears in errors. Pass it from a sensitive variable: the result is then sensitive too.",
			},
			function.DynamicParameter{
				Name: "options",
				MarkdownDescription: "An object holding only what the transformer needs, `{}` for nothing. " +
					"`domain` and `on_invalid` set the masking domain and the invalid-input policy, " +
					"`options` holds transformer options verbatim, and every other attribute is a transformer option.",
			},
		},
		Return: function.StringReturn{},
	}
}

// maskDescription documents mask, listing the transformers of the catalog.
func maskDescription() string {
	var b strings.Builder
	b.WriteString("Masks one value exactly as the PostgreSQL clone does and returns the masked value. " +
		"The output is a function of the key, the domain and the value only: the same call always returns the same result, " +
		"another key gives an unlinkable result, and values that share a `domain` mask equally whatever column they come from, " +
		"so joins on masked values still work. Bijective transformers keep distinct values distinct, " +
		"so they may mask primary-key and unique columns; they encrypt with NIST SP 800-38G FF1 and refuse values with fewer than " +
		"1,000,000 possible encryptions (FF1's minimum domain) where the format cannot be widened.\n\n" +
		"Bijective masking is keyed pseudonymisation, not anonymisation: whoever holds the key can reverse it. " +
		"The key is a production secret that staging users must never hold: at least 32 random bytes in hex or base64, " +
		"such as the output of `openssl rand -hex 32`. Masked values also keep some of the input, listed per transformer below (\"keeps\").\n\n" +
		"The `options` argument is an object:\n\n" +
		"- `domain` (string) separates keyed outputs; it defaults to the transformer's name. " +
		"Use the same domain, such as `customer_email`, wherever the same data is masked.\n" +
		"- `on_invalid` (string) is the policy for a value that is not valid for the transformer's format: " +
		"`error` (the default) fails, `redact` returns the `invalid_value` option (default `REDACTED`), " +
		"`hash` returns a keyed 32-character hex hash.\n" +
		"- `options` (object) holds transformer options verbatim, as an alternative to listing them beside `domain`: " +
		"`{ domain = \"customer_email\", options = { domain_mode = \"replace\", replacement_domain = \"example.org\" } }`.\n" +
		"- Every other attribute is a transformer option, such as `{ keep_issuer = true }` for `credit_card`.\n\n" +
		"Errors name the argument at fault: an unknown transformer, an unknown option or an option of the wrong type or range, " +
		"an empty or guessable key, or a value that is not valid for the format when `on_invalid` is `error`. " +
		"Errors never contain the value or the key. A null value returns null, and the `null` transformer returns null for every value.\n\n" +
		"Transformers:\n\n")
	for _, info := range masking.Catalog() {
		fmt.Fprintf(&b, "- `%s`", info.Name)
		if info.Bijective {
			b.WriteString(" (bijective)")
		}
		b.WriteString(": " + maskSentence(info.Description))
		if info.Keeps != "" {
			b.WriteString(" Keeps: " + maskSentence(info.Keeps))
		}
		if len(info.Options) > 0 {
			names := make([]string, len(info.Options))
			for i, o := range info.Options {
				names[i] = "`" + o.Name + "`"
			}
			b.WriteString(" Options: " + strings.Join(names, ", ") + ".")
		}
		b.WriteString("\n")
	}
	return b.String()
}

// maskSentence makes s end with a period.
func maskSentence(s string) string {
	s = strings.TrimSpace(s)
	if s != "" && !strings.HasSuffix(s, ".") {
		s += "."
	}
	return s
}

func (f *maskFunction) Run(ctx context.Context, req function.RunRequest, resp *function.RunResponse) {
	var value types.String
	var transformer, key string
	var options types.Dynamic
	resp.Error = req.Arguments.Get(ctx, &value, &transformer, &key, &options)
	if resp.Error != nil {
		return
	}
	spec, err := maskSpec(ctx, transformer, options)
	if errors.Is(err, errUnknownValue) {
		resp.Error = resp.Result.Set(ctx, types.StringUnknown())
		return
	}
	if err != nil {
		resp.Error = function.NewArgumentFuncError(maskArgOptions, "Invalid options: "+err.Error()+".")
		return
	}
	mk, err := masking.ParseKey(key)
	if err != nil {
		resp.Error = maskError(err, transformer)
		return
	}
	t, err := masking.New(spec, mk)
	if err != nil {
		resp.Error = maskError(err, transformer)
		return
	}
	out, isNull, err := masking.Apply(t, nil, []byte(value.ValueString()), value.IsNull())
	if err != nil {
		resp.Error = maskError(err, transformer)
		return
	}
	if isNull {
		resp.Error = resp.Result.Set(ctx, types.StringNull())
		return
	}
	resp.Error = resp.Result.Set(ctx, types.StringValue(string(out)))
}

// maskSpec builds the masking spec from the transformer name and the options
// argument: domain and on_invalid are the spec's own fields, options is
// merged verbatim, everything else is a transformer option. This is the
// shape of the json transformer's nested specs.
func maskSpec(ctx context.Context, transformer string, options types.Dynamic) (masking.Spec, error) {
	spec := masking.Spec{Transformer: transformer, Options: map[string]any{}}
	raw, err := toGo(ctx, options)
	if err != nil {
		if errors.Is(err, errUnknownValue) {
			return spec, err
		}
		return spec, err
	}
	m, ok := raw.(map[string]any)
	if !ok {
		return spec, fmt.Errorf("want an object holding the transformer's options, such as {} or { keep_issuer = true }, got %s", maskValueKind(raw))
	}
	for _, k := range maskSortedKeys(m) {
		v := m[k]
		switch k {
		case "domain", "on_invalid":
			if v == nil {
				continue
			}
			s, ok := v.(string)
			if !ok {
				return spec, fmt.Errorf("%s must be a string, got %s", k, maskValueKind(v))
			}
			if k == "domain" {
				spec.Domain = s
			} else {
				spec.OnInvalid = s
			}
		case "options":
			if v == nil {
				continue
			}
			nested, ok := v.(map[string]any)
			if !ok {
				return spec, fmt.Errorf("options must be an object of transformer options, got %s", maskValueKind(v))
			}
			for nk, nv := range nested {
				spec.Options[nk] = nv
			}
		default:
			spec.Options[k] = v
		}
	}
	return spec, nil
}

// maskError turns an error of the masking engine into a function error that
// names the argument at fault. None of the engine's errors carries the value
// or the key. transformer is the one the call names, which differs from
// the one at fault when json nests another.
func maskError(err error, transformer string) *function.FuncError {
	var unknown *masking.UnknownTransformerError
	var option *masking.OptionError
	var invalid *masking.InvalidInputError
	var badKey *masking.KeyError
	switch {
	case errors.As(err, &unknown):
		return function.NewArgumentFuncError(maskArgTransformer, fmt.Sprintf(
			"Unknown transformer %q. Valid transformers are: %s.", unknown.Name, strings.Join(masking.TransformerNames(), ", ")))
	case errors.As(err, &option):
		return function.NewArgumentFuncError(maskArgOptions, fmt.Sprintf(
			"Invalid option %q of transformer %q: %s.", option.Option, option.Transformer, option.Reason))
	case errors.Is(err, masking.ErrEmptySecret):
		return function.NewArgumentFuncError(maskArgKey,
			"The masking key is empty. Pass the environment's masking key; there is no default key. "+capitalize(masking.KeyHint)+".")
	case errors.As(err, &badKey):
		return function.NewArgumentFuncError(maskArgKey, maskingKeyDetail("The key argument", err))
	case errors.As(err, &invalid):
		at := fmt.Sprintf("transformer %q", invalid.Transformer)
		if invalid.Transformer != transformer {
			at += fmt.Sprintf(" (nested in %q)", transformer)
		}
		return function.NewArgumentFuncError(maskArgValue, fmt.Sprintf(
			"The value is not valid for %s: %s. Set on_invalid to \"redact\" or \"hash\" in the options to mask such values instead.",
			at, invalid.Reason))
	}
	return function.NewFuncError("Unable to mask the value: " + err.Error() +
		". Please report this issue to the provider developers.")
}

// maskValueKind names the Terraform kind of a value converted by toGo, for errors.
func maskValueKind(v any) string {
	switch v.(type) {
	case nil:
		return "null"
	case string:
		return "a string"
	case bool:
		return "a bool"
	case float64:
		return "a number"
	case []any:
		return "a list"
	case map[string]any:
		return "an object"
	}
	return fmt.Sprintf("%T", v)
}

// maskSortedKeys returns the keys of m in order, so that errors are stable.
func maskSortedKeys(m map[string]any) []string {
	keys := make([]string, 0, len(m))
	for k := range m {
		keys = append(keys, k)
	}
	sort.Strings(keys)
	return keys
}
