package provider

import (
	"context"
	"fmt"
	"net/mail"
	"os"
	"regexp"
	"strings"
	"testing"

	"github.com/hashicorp/terraform-plugin-framework/attr"
	"github.com/hashicorp/terraform-plugin-framework/function"
	"github.com/hashicorp/terraform-plugin-framework/types"
	"github.com/hashicorp/terraform-plugin-testing/helper/resource"
	"github.com/hashicorp/terraform-plugin-testing/knownvalue"
	"github.com/hashicorp/terraform-plugin-testing/plancheck"
	"github.com/hashicorp/terraform-plugin-testing/statecheck"
	"github.com/hashicorp/terraform-plugin-testing/tfversion"

	"github.com/stagingkit/terraform-provider-staging/internal/masking"
)

// maskingFunctionTest runs the steps of a masking function test against the
// in-process provider, on Terraform versions with provider functions.
func maskingFunctionTest(t *testing.T, steps ...resource.TestStep) {
	t.Helper()
	resource.UnitTest(t, resource.TestCase{
		TerraformVersionChecks:   []tfversion.TerraformVersionCheck{tfversion.SkipBelow(tfversion.Version1_8_0)},
		ProtoV6ProviderFactories: factories(newTestClock()),
		Steps:                    steps,
	})
}

// maskDirect masks v through the engine as the clone does, for comparison
// with what the function returns.
func maskDirect(t *testing.T, secret string, spec masking.Spec, v string) string {
	t.Helper()
	key, err := masking.ParseKey(secret)
	if err != nil {
		t.Fatal(err)
	}
	tr, err := masking.New(spec, key)
	if err != nil {
		t.Fatal(err)
	}
	out, isNull, err := masking.Apply(tr, nil, []byte(v), false)
	if err != nil || isNull {
		t.Fatalf("masking %q with %+v: null %v, error %v", v, spec, isNull, err)
	}
	return string(out)
}

// validEmail checks that a masked value is a plain e-mail address that does
// not contain forbidden.
func validEmail(forbidden string) knownvalue.Check {
	return knownvalue.StringFunc(func(v string) error {
		a, err := mail.ParseAddress(v)
		if err != nil {
			return fmt.Errorf("%q is not an e-mail address: %w", v, err)
		}
		if a.Address != v {
			return fmt.Errorf("%q is not a plain e-mail address", v)
		}
		if strings.Contains(strings.ToLower(v), forbidden) {
			return fmt.Errorf("%q contains %q", v, forbidden)
		}
		return nil
	})
}

// luhnValid reports whether the digits of s pass the Luhn check.
func luhnValid(s string) bool {
	sum, double := 0, false
	for i := len(s) - 1; i >= 0; i-- {
		c := s[i]
		if c < '0' || c > '9' {
			continue
		}
		d := int(c - '0')
		if double {
			if d *= 2; d > 9 {
				d -= 9
			}
		}
		sum += d
		double = !double
	}
	return sum%10 == 0
}

// TestMaskFunction_contract pins the call documented in issue 3: the same
// valid address on every call with one key, another with another key, and
// never the original local part.
func TestMaskFunction_contract(t *testing.T) {
	const email = "alice.smith@example.com"
	want1 := maskDirect(t, "aafc95318abe3f8b94d212d6ec1ce6b11dae8fcaf7b907ed795f45552986f926", masking.Spec{Transformer: "email"}, email)
	want2 := maskDirect(t, "81ba88a888838da4883effbafcb5559a4f6fa398c8397d2b4fe9816c639ada75", masking.Spec{Transformer: "email"}, email)
	if want1 == want2 {
		t.Fatalf("keys k1 and k2 mask %q equally: %q", email, want1)
	}
	config := `
output "k1" {
  value = provider::staging::mask("alice.smith@example.com", "email", "aafc95318abe3f8b94d212d6ec1ce6b11dae8fcaf7b907ed795f45552986f926", {})
}
output "k1_again" {
  value = provider::staging::mask("alice.smith@example.com", "email", "aafc95318abe3f8b94d212d6ec1ce6b11dae8fcaf7b907ed795f45552986f926", {})
}
output "k2" {
  value = provider::staging::mask("alice.smith@example.com", "email", "81ba88a888838da4883effbafcb5559a4f6fa398c8397d2b4fe9816c639ada75", {})
}
`
	checks := []statecheck.StateCheck{
		statecheck.ExpectKnownOutputValue("k1", knownvalue.StringExact(want1)),
		statecheck.ExpectKnownOutputValue("k1", validEmail("alice")),
		statecheck.ExpectKnownOutputValue("k1_again", knownvalue.StringExact(want1)),
		statecheck.ExpectKnownOutputValue("k2", knownvalue.StringExact(want2)),
		statecheck.ExpectKnownOutputValue("k2", validEmail("alice")),
	}
	// The second step runs the functions again in a fresh plan and apply.
	maskingFunctionTest(t,
		resource.TestStep{Config: config, ConfigStateChecks: checks},
		resource.TestStep{Config: config, ConfigStateChecks: checks},
	)
}

// TestMaskFunction_domain checks that a shared domain makes two columns mask
// equally, and that it is not the default domain.
func TestMaskFunction_domain(t *testing.T) {
	const email = "bob@example.com"
	shared := maskDirect(t, "aafc95318abe3f8b94d212d6ec1ce6b11dae8fcaf7b907ed795f45552986f926", masking.Spec{Transformer: "email", Domain: "customer_email"}, email)
	byDefault := maskDirect(t, "aafc95318abe3f8b94d212d6ec1ce6b11dae8fcaf7b907ed795f45552986f926", masking.Spec{Transformer: "email"}, email)
	if shared == byDefault {
		t.Fatalf("domain customer_email masks %q as the default domain does: %q", email, shared)
	}
	maskingFunctionTest(t, resource.TestStep{
		Config: `
locals {
  customer_email = { domain = "customer_email" }
}
output "users_email" {
  value = provider::staging::mask("bob@example.com", "email", "aafc95318abe3f8b94d212d6ec1ce6b11dae8fcaf7b907ed795f45552986f926", local.customer_email)
}
output "orders_customer_email" {
  value = provider::staging::mask("bob@example.com", "email", "aafc95318abe3f8b94d212d6ec1ce6b11dae8fcaf7b907ed795f45552986f926", { domain = "customer_email" })
}
output "default_domain" {
  value = provider::staging::mask("bob@example.com", "email", "aafc95318abe3f8b94d212d6ec1ce6b11dae8fcaf7b907ed795f45552986f926", {})
}
`,
		ConfigStateChecks: []statecheck.StateCheck{
			statecheck.ExpectKnownOutputValue("users_email", knownvalue.StringExact(shared)),
			statecheck.ExpectKnownOutputValue("orders_customer_email", knownvalue.StringExact(shared)),
			statecheck.ExpectKnownOutputValue("default_domain", knownvalue.StringExact(byDefault)),
		},
	})
}

// TestMaskFunction_options checks that transformer options reach the
// transformer: keep_issuer (the default) keeps the first six digits of a
// card number, keep_issuer = false does not.
func TestMaskFunction_options(t *testing.T) {
	const card = "4111 1111 1111 1111"
	want := maskDirect(t, "aafc95318abe3f8b94d212d6ec1ce6b11dae8fcaf7b907ed795f45552986f926", masking.Spec{Transformer: "credit_card", Options: map[string]any{"keep_issuer": true}}, card)
	byDefault := maskDirect(t, "aafc95318abe3f8b94d212d6ec1ce6b11dae8fcaf7b907ed795f45552986f926", masking.Spec{Transformer: "credit_card"}, card)
	withoutIssuer := maskDirect(t, "aafc95318abe3f8b94d212d6ec1ce6b11dae8fcaf7b907ed795f45552986f926", masking.Spec{Transformer: "credit_card", Options: map[string]any{"keep_issuer": false}}, card)
	if want == withoutIssuer || want != byDefault {
		t.Fatalf("keep_issuer is not the default or makes no difference for %q", card)
	}
	maskingFunctionTest(t, resource.TestStep{
		Config: `
output "card" {
  value = provider::staging::mask("4111 1111 1111 1111", "credit_card", "aafc95318abe3f8b94d212d6ec1ce6b11dae8fcaf7b907ed795f45552986f926", { keep_issuer = true })
}
output "card_no_issuer" {
  value = provider::staging::mask("4111 1111 1111 1111", "credit_card", "aafc95318abe3f8b94d212d6ec1ce6b11dae8fcaf7b907ed795f45552986f926", { keep_issuer = false })
}
output "email_replaced" {
  value = provider::staging::mask("alice@corp.example", "email", "aafc95318abe3f8b94d212d6ec1ce6b11dae8fcaf7b907ed795f45552986f926", {
    domain_mode = "replace"
    replacement_domain = "example.org"
  })
}
output "email_nested" {
  value = provider::staging::mask("alice@corp.example", "email", "aafc95318abe3f8b94d212d6ec1ce6b11dae8fcaf7b907ed795f45552986f926", {
    options = { domain_mode = "replace", replacement_domain = "example.net" }
  })
}
output "dates" {
  value = [for d in ["1984-02-29", "2001-12-31"] : provider::staging::mask(d, "date_shift", "aafc95318abe3f8b94d212d6ec1ce6b11dae8fcaf7b907ed795f45552986f926", { max_days = 3, keep_year = true })]
}
`,
		ConfigStateChecks: []statecheck.StateCheck{
			statecheck.ExpectKnownOutputValue("card", knownvalue.StringExact(want)),
			statecheck.ExpectKnownOutputValue("card_no_issuer", knownvalue.StringExact(withoutIssuer)),
			statecheck.ExpectKnownOutputValue("card", knownvalue.StringFunc(func(v string) error {
				switch {
				case len(v) != len(card) || v[4] != ' ' || v[9] != ' ' || v[14] != ' ':
					return fmt.Errorf("%q does not keep the format of %q", v, card)
				case !strings.HasPrefix(v, "4111 11"):
					return fmt.Errorf("%q does not keep the issuer prefix 411111", v)
				case !luhnValid(v):
					return fmt.Errorf("%q fails the Luhn check", v)
				case v == card:
					return fmt.Errorf("the card number was not masked")
				}
				return nil
			})),
			statecheck.ExpectKnownOutputValue("email_replaced", knownvalue.StringRegexp(regexp.MustCompile(`^[a-z0-9]{5}@example\.org$`))),
			statecheck.ExpectKnownOutputValue("email_nested", knownvalue.StringRegexp(regexp.MustCompile(`^[a-z0-9]{5}@example\.net$`))),
			statecheck.ExpectKnownOutputValue("dates", knownvalue.ListExact([]knownvalue.Check{
				knownvalue.StringExact(maskDirect(t, "aafc95318abe3f8b94d212d6ec1ce6b11dae8fcaf7b907ed795f45552986f926", masking.Spec{Transformer: "date_shift", Options: map[string]any{"max_days": 3.0, "keep_year": true}}, "1984-02-29")),
				knownvalue.StringRegexp(regexp.MustCompile(`^2001-12-(2[89]|3[01])$`)),
			})),
		},
	})
}

// TestMaskFunction_null checks NULL handling: null in, null out, and the null
// transformer nulls every value.
func TestMaskFunction_null(t *testing.T) {
	maskingFunctionTest(t, resource.TestStep{
		// Terraform drops null outputs from state, so they sit in an object.
		Config: `
output "x" {
  value = {
    null_value       = provider::staging::mask(null, "email", "aafc95318abe3f8b94d212d6ec1ce6b11dae8fcaf7b907ed795f45552986f926", {})
    null_transformer = provider::staging::mask("alice@example.com", "null", "aafc95318abe3f8b94d212d6ec1ce6b11dae8fcaf7b907ed795f45552986f926", {})
    empty            = provider::staging::mask("", "email", "aafc95318abe3f8b94d212d6ec1ce6b11dae8fcaf7b907ed795f45552986f926", {})
  }
}
`,
		ConfigStateChecks: []statecheck.StateCheck{
			statecheck.ExpectKnownOutputValue("x", knownvalue.ObjectExact(map[string]knownvalue.Check{
				"null_value":       knownvalue.Null(),
				"null_transformer": knownvalue.Null(),
				"empty":            knownvalue.StringExact(""),
			})),
		},
	})
}

// TestMaskFunction_onInvalid checks the invalid-input policies other than
// the default error.
func TestMaskFunction_onInvalid(t *testing.T) {
	maskingFunctionTest(t, resource.TestStep{
		Config: `
output "redact" {
  value = provider::staging::mask("4111 1111 1111 1112", "credit_card", "aafc95318abe3f8b94d212d6ec1ce6b11dae8fcaf7b907ed795f45552986f926", { on_invalid = "redact", invalid_value = "0000" })
}
output "hash" {
  value = provider::staging::mask("4111 1111 1111 1112", "credit_card", "aafc95318abe3f8b94d212d6ec1ce6b11dae8fcaf7b907ed795f45552986f926", { on_invalid = "hash" })
}
`,
		ConfigStateChecks: []statecheck.StateCheck{
			statecheck.ExpectKnownOutputValue("redact", knownvalue.StringExact("0000")),
			statecheck.ExpectKnownOutputValue("hash", knownvalue.StringExact(maskDirect(t, "aafc95318abe3f8b94d212d6ec1ce6b11dae8fcaf7b907ed795f45552986f926",
				masking.Spec{Transformer: "credit_card", OnInvalid: "hash"}, "4111 1111 1111 1112"))),
			statecheck.ExpectKnownOutputValue("hash", knownvalue.StringRegexp(regexp.MustCompile(`^[0-9a-f]{32}$`))),
		},
	})
}

// TestMaskFunction_errors checks that each class of bad input fails with an
// error naming the argument at fault.
func TestMaskFunction_errors(t *testing.T) {
	for _, tc := range []struct {
		name, call string
		want       string
	}{
		{
			name: "unknown transformer",
			call: `provider::staging::mask("a@example.com", "emial", "aafc95318abe3f8b94d212d6ec1ce6b11dae8fcaf7b907ed795f45552986f926", {})`,
			want: `Invalid\s+value\s+for\s+"transformer"\s+parameter:\s+Unknown\s+transformer\s+"emial".\s+Valid\s+transformers\s+are:\s+address,\s+credit_card,`,
		},
		{
			name: "bad option value",
			call: `provider::staging::mask("4111 1111 1111 1111", "credit_card", "aafc95318abe3f8b94d212d6ec1ce6b11dae8fcaf7b907ed795f45552986f926", { keep_issuer = "maybe" })`,
			want: `Invalid\s+value\s+for\s+"options"\s+parameter:\s+Invalid\s+option\s+"keep_issuer"\s+of\s+transformer\s+"credit_card":\s+must\s+be\s+true\s+or\s+false`,
		},
		{
			name: "option out of range",
			call: `provider::staging::mask("2001-12-31", "date_shift", "aafc95318abe3f8b94d212d6ec1ce6b11dae8fcaf7b907ed795f45552986f926", { max_days = 0 })`,
			want: `Invalid\s+value\s+for\s+"options"\s+parameter:\s+Invalid\s+option\s+"max_days"\s+of\s+transformer\s+"date_shift":\s+must\s+be\s+a\s+whole\s+number\s+from\s+1`,
		},
		{
			name: "unknown option",
			call: `provider::staging::mask("a@example.com", "email", "aafc95318abe3f8b94d212d6ec1ce6b11dae8fcaf7b907ed795f45552986f926", { keep_issuer = true })`,
			want: `Invalid\s+value\s+for\s+"options"\s+parameter:\s+Invalid\s+option\s+"keep_issuer"\s+of\s+transformer\s+"email":\s+unknown\s+option;\s+valid\s+options\s+are:\s+domain_map,\s+domain_mode,\s+invalid_value,\s+local_part,\s+replacement_domain,\s+small_domain`,
		},
		{
			name: "bad on_invalid",
			call: `provider::staging::mask("a@example.com", "email", "aafc95318abe3f8b94d212d6ec1ce6b11dae8fcaf7b907ed795f45552986f926", { on_invalid = "skip" })`,
			want: `Invalid\s+value\s+for\s+"options"\s+parameter:\s+Invalid\s+option\s+"on_invalid"\s+of\s+transformer\s+"email":\s+must\s+be\s+one\s+of\s+error,\s+redact,\s+hash`,
		},
		{
			name: "options not an object",
			call: `provider::staging::mask("a@example.com", "email", "aafc95318abe3f8b94d212d6ec1ce6b11dae8fcaf7b907ed795f45552986f926", "keep")`,
			want: `Invalid\s+value\s+for\s+"options"\s+parameter:\s+Invalid\s+options:\s+want\s+an\s+object\s+holding\s+the\s+transformer's\s+options,.*got\s+a\s+string`,
		},
		{
			name: "domain not a string",
			call: `provider::staging::mask("a@example.com", "email", "aafc95318abe3f8b94d212d6ec1ce6b11dae8fcaf7b907ed795f45552986f926", { domain = ["a"] })`,
			want: `Invalid\s+value\s+for\s+"options"\s+parameter:\s+Invalid\s+options:\s+domain\s+must\s+be\s+a\s+string,\s+got\s+a\s+list`,
		},
		{
			name: "empty key",
			call: `provider::staging::mask("a@example.com", "email", "", {})`,
			want: `Invalid\s+value\s+for\s+"key"\s+parameter:\s+The\s+masking\s+key\s+is\s+empty`,
		},
		{
			name: "passphrase key",
			call: `provider::staging::mask("a@example.com", "email", "fixture-key", {})`,
			want: `Invalid\s+value\s+for\s+"key"\s+parameter:\s+The\s+key\s+argument\s+is\s+not\s+a\s+usable\s+masking\s+key.*openssl\s+rand\s+-hex\s+32`,
		},
		{
			name: "malformed card number",
			call: `provider::staging::mask("4111 1111 1111 1112", "credit_card", "aafc95318abe3f8b94d212d6ec1ce6b11dae8fcaf7b907ed795f45552986f926", {})`,
			want: `Invalid\s+value\s+for\s+"value"\s+parameter:\s+The\s+value\s+is\s+not\s+valid\s+for\s+transformer\s+"credit_card":\s+the\s+Luhn\s+check\s+digit\s+does\s+not\s+match.\s+Set\s+on_invalid`,
		},
	} {
		t.Run(tc.name, func(t *testing.T) {
			maskingFunctionTest(t, resource.TestStep{
				Config:      fmt.Sprintf("output \"x\" {\n  value = %s\n}\n", tc.call),
				ExpectError: regexp.MustCompile(`(?s)` + tc.want),
			})
		})
	}
}

// runMask calls the mask function's Run directly, so that a test sees the
// function's own error text rather than Terraform's rendering, which quotes
// the configuration.
func runMask(t *testing.T, value, transformer, key string, options attr.Value) (types.String, *function.FuncError) {
	t.Helper()
	req := function.RunRequest{Arguments: function.NewArgumentsData([]attr.Value{
		types.StringValue(value), types.StringValue(transformer), types.StringValue(key), types.DynamicValue(options),
	})}
	resp := &function.RunResponse{Result: function.NewResultData(types.StringUnknown())}
	newMaskFunction().Run(context.Background(), req, resp)
	out, _ := resp.Result.Value().(types.String)
	return out, resp.Error
}

// TestMaskFunction_errorsHideSecrets checks that errors never contain the
// value or the key.
func TestMaskFunction_errorsHideSecrets(t *testing.T) {
	const key = "08ef4e2832d4de931b44fb82dec3a5b9cbac81fde31db38620ad943a1be12768"
	empty := types.ObjectValueMust(map[string]attr.Type{}, map[string]attr.Value{})
	for _, tc := range []struct {
		value, transformer string
		options            attr.Value
		arg                int64
	}{
		{"4111 1111 1111 1112", "credit_card", empty, maskArgValue},
		{"4111111111111112", "credit_card", empty, maskArgValue},
		{"alice..smith@example.com", "email", empty, maskArgValue},
		{"NL00 ABNA 0417 1643 00", "iban", empty, maskArgValue},
		{"1984-13-45", "date_shift", empty, maskArgValue},
		{`{"email": "alice..smith@example.com"}`, "json", types.ObjectValueMust(
			map[string]attr.Type{"paths": types.ObjectType{AttrTypes: map[string]attr.Type{"$.email": types.ObjectType{AttrTypes: map[string]attr.Type{"transformer": types.StringType}}}}},
			map[string]attr.Value{"paths": types.ObjectValueMust(
				map[string]attr.Type{"$.email": types.ObjectType{AttrTypes: map[string]attr.Type{"transformer": types.StringType}}},
				map[string]attr.Value{"$.email": types.ObjectValueMust(map[string]attr.Type{"transformer": types.StringType}, map[string]attr.Value{"transformer": types.StringValue("email")})},
			)}), maskArgValue},
		{"alice@example.com", "emial", empty, maskArgTransformer},
		{"alice@example.com", "email", types.ObjectValueMust(map[string]attr.Type{"on_invalid": types.StringType}, map[string]attr.Value{"on_invalid": types.StringValue("skip")}), maskArgOptions},
	} {
		t.Run(tc.transformer+" "+tc.value, func(t *testing.T) {
			_, err := runMask(t, tc.value, tc.transformer, key, tc.options)
			if err == nil {
				t.Fatal("no error")
			}
			if err.FunctionArgument == nil || *err.FunctionArgument != tc.arg {
				t.Errorf("the error names argument %v, want %d: %s", err.FunctionArgument, tc.arg, err.Text)
			}
			if tc.transformer == "json" && !strings.Contains(err.Text, `transformer "email" (nested in "json")`) {
				t.Errorf("the error does not say which nested transformer failed: %s", err.Text)
			}
			for _, secret := range []string{tc.value, strings.ReplaceAll(tc.value, " ", ""), "alice", key} {
				if strings.Contains(err.Text, secret) {
					t.Errorf("the error contains %q: %s", secret, err.Text)
				}
			}
		})
	}
	if _, err := runMask(t, "alice@example.com", "email", "", empty); err == nil || *err.FunctionArgument != maskArgKey {
		t.Errorf("an empty key gives %v, want an error naming the key", err)
	}
}

// TestMaskFunction_description checks that the documentation lists every
// transformer of the catalog.
func TestMaskFunction_description(t *testing.T) {
	resp := &function.DefinitionResponse{}
	newMaskFunction().Definition(context.Background(), function.DefinitionRequest{}, resp)
	for _, info := range masking.Catalog() {
		if !strings.Contains(resp.Definition.MarkdownDescription, "- `"+info.Name+"`") {
			t.Errorf("the description does not list transformer %s", info.Name)
		}
		if !strings.Contains(resp.Definition.MarkdownDescription, "Keeps: "+info.Keeps) {
			t.Errorf("the description does not say what %s keeps", info.Name)
		}
	}
	for _, want := range []string{"keyed pseudonymisation", "openssl rand -hex 32", "FF1"} {
		if !strings.Contains(resp.Definition.MarkdownDescription, want) {
			t.Errorf("the description does not mention %q", want)
		}
	}
	var v function.DefinitionValidateResponse
	resp.Definition.ValidateImplementation(context.Background(), function.DefinitionValidateRequest{FuncName: "mask"}, &v)
	if v.Diagnostics.HasError() {
		t.Errorf("invalid definition: %v", v.Diagnostics)
	}
}

// TestMaskFunction_unknown checks that arguments known only after apply
// (a key or an option) give an unknown result at plan time, not an error.
func TestMaskFunction_unknown(t *testing.T) {
	want := maskDirect(t, "aafc95318abe3f8b94d212d6ec1ce6b11dae8fcaf7b907ed795f45552986f926", masking.Spec{Transformer: "email", Domain: "aafc95318abe3f8b94d212d6ec1ce6b11dae8fcaf7b907ed795f45552986f926"}, "alice@example.com")
	maskingFunctionTest(t, resource.TestStep{
		Config: `
resource "terraform_data" "secret" {
  input = "aafc95318abe3f8b94d212d6ec1ce6b11dae8fcaf7b907ed795f45552986f926"
}
output "x" {
  value = provider::staging::mask("alice@example.com", "email", terraform_data.secret.output, { domain = terraform_data.secret.output })
}
`,
		ConfigPlanChecks: resource.ConfigPlanChecks{PreApply: []plancheck.PlanCheck{
			plancheck.ExpectUnknownOutputValue("x"),
		}},
		ConfigStateChecks: []statecheck.StateCheck{
			statecheck.ExpectKnownOutputValue("x", knownvalue.StringExact(want)),
		},
	})
}

// TestMaskFunction_example applies the documented example, which masks
// with a fake demo key declared in the example itself.
func TestMaskFunction_example(t *testing.T) {
	const demoKey = "5c0ffee5deadbeef0123456789abcdef00112233445566778899aabbccddeeff"
	spec := masking.Spec{Transformer: "email", Domain: "customer_email", OnInvalid: "redact"}
	maskingFunctionTest(t, resource.TestStep{
		Config: exampleConfig(t, "mask"),
		ConfigStateChecks: []statecheck.StateCheck{
			statecheck.ExpectKnownOutputValue("staging_email", knownvalue.StringExact(
				maskDirect(t, demoKey, masking.Spec{Transformer: "email"}, "alice.smith@example.com"))),
			statecheck.ExpectKnownOutputValue("staging_card", knownvalue.StringRegexp(regexp.MustCompile(`^4111 11\d\d( \d{4}){2}$`))),
			statecheck.ExpectKnownOutputValue("staging_customer_emails", knownvalue.ListExact([]knownvalue.Check{
				knownvalue.StringExact(maskDirect(t, demoKey, spec, "bob@example.com")),
				knownvalue.StringExact("REDACTED"),
			})),
		},
	})
}

// exampleConfig returns the documented example of a function. The test
// harness adds the provider requirement that the example leaves out.
func exampleConfig(t *testing.T, name string) string {
	t.Helper()
	b, err := os.ReadFile("../../examples/functions/" + name + "/function.tf")
	if err != nil {
		t.Fatal(err)
	}
	return string(b)
}
