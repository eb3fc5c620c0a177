package provider

import (
	"context"
	"regexp"
	"testing"

	"github.com/hashicorp/terraform-plugin-framework/function"
	"github.com/hashicorp/terraform-plugin-testing/helper/resource"
	"github.com/hashicorp/terraform-plugin-testing/knownvalue"
	"github.com/hashicorp/terraform-plugin-testing/statecheck"

	"github.com/stagingkit/terraform-provider-staging/internal/masking"
)

// TestPIIKindFunction_email checks an e-mail column: the kind, the
// confidence, the reason and a suggested rule that mask accepts.
func TestPIIKindFunction_email(t *testing.T) {
	want := maskDirect(t, "aafc95318abe3f8b94d212d6ec1ce6b11dae8fcaf7b907ed795f45552986f926", masking.Spec{Transformer: "email"}, "alice@example.com")
	maskingFunctionTest(t, resource.TestStep{
		Config: `
locals {
  email = provider::staging::pii_kind("staging_user.email", ["alice@example.com", "bob.smith@corp.example", null])
}
output "email" {
  value = local.email
}
output "masked" {
  value = provider::staging::mask("alice@example.com", local.email.suggested_transformer, "aafc95318abe3f8b94d212d6ec1ce6b11dae8fcaf7b907ed795f45552986f926", jsondecode(local.email.suggested_options_json))
}
`,
		ConfigStateChecks: []statecheck.StateCheck{
			statecheck.ExpectKnownOutputValue("email", knownvalue.ObjectExact(map[string]knownvalue.Check{
				"kind":                   knownvalue.StringExact("email"),
				"confidence":             knownvalue.Float64Exact(1),
				"reason":                 knownvalue.StringRegexp(regexp.MustCompile(`suggests email; 100% of sampled values are valid email values`)),
				"suggested_transformer":  knownvalue.StringExact("email"),
				"suggested_domain":       knownvalue.StringExact("email"),
				"suggested_options_json": knownvalue.StringExact("{}"),
				"findings": knownvalue.ListExact([]knownvalue.Check{knownvalue.ObjectExact(map[string]knownvalue.Check{
					"kind":        knownvalue.StringExact("email"),
					"confidence":  knownvalue.Float64Exact(1),
					"reason":      knownvalue.NotNull(),
					"transformer": knownvalue.StringExact("email"),
				})}),
			})),
			statecheck.ExpectKnownOutputValue("masked", knownvalue.StringExact(want)),
		},
	})
}

// TestPIIKindFunction_none checks a column without personal data: the kind
// is null and nothing is suggested.
func TestPIIKindFunction_none(t *testing.T) {
	maskingFunctionTest(t, resource.TestStep{
		Config: `
output "created_at" {
  value = provider::staging::pii_kind("created_at", ["2024-01-02 03:04:05+00", "2025-06-30 23:59:59.123456+02"])
}
output "typed" {
  value = provider::staging::pii_kind("created_at", ["2024-01-02 03:04:05+00"], "timestamp with time zone").kind == null
}
`,
		ConfigStateChecks: []statecheck.StateCheck{
			statecheck.ExpectKnownOutputValue("created_at", knownvalue.ObjectExact(map[string]knownvalue.Check{
				"kind":                   knownvalue.Null(),
				"confidence":             knownvalue.Float64Exact(0),
				"reason":                 knownvalue.StringExact("nothing in the column name or the 2 sampled values suggests personal data"),
				"suggested_transformer":  knownvalue.Null(),
				"suggested_domain":       knownvalue.Null(),
				"suggested_options_json": knownvalue.Null(),
				"findings":               knownvalue.ListSizeExact(0),
			})),
			statecheck.ExpectKnownOutputValue("typed", knownvalue.Bool(true)),
		},
	})
}

// TestPIIKindFunction_freeText checks a notes column whose values embed
// e-mail addresses and phone numbers.
func TestPIIKindFunction_freeText(t *testing.T) {
	maskingFunctionTest(t, resource.TestStep{
		Config: `
output "notes" {
  value = provider::staging::pii_kind("notes", [
    "Customer asked to be called back at +44 20 7946 0958 after 5pm",
    "Refund sent, confirmation to jane.doe@example.com",
    "Prefers e-mail",
  ])
}
`,
		ConfigStateChecks: []statecheck.StateCheck{
			statecheck.ExpectKnownOutputValue("notes", knownvalue.ObjectPartial(map[string]knownvalue.Check{
				"kind":                  knownvalue.StringExact(masking.KindFreeTextPII),
				"confidence":            knownvalue.Float64Exact(0.83),
				"reason":                knownvalue.StringExact("67% of sampled values contain an e-mail address or phone number"),
				"suggested_transformer": knownvalue.StringExact("text_scramble"),
			})),
		},
	})
}

// TestPIIKindFunction_sqlType checks that the SQL type picks the suggested
// transformer, and that a suggestion with options feeds mask as is.
func TestPIIKindFunction_sqlType(t *testing.T) {
	shifted := maskDirect(t, "aafc95318abe3f8b94d212d6ec1ce6b11dae8fcaf7b907ed795f45552986f926", masking.Spec{Transformer: "date_shift", Options: map[string]any{"max_days": 365.0}}, "1980-01-02")
	maskingFunctionTest(t, resource.TestStep{
		Config: `
locals {
  birth_date = provider::staging::pii_kind("date_of_birth", ["1980-01-02", "1975-12-31"], "date")
}
output "birth_date" {
  value = local.birth_date
}
output "masked_birth_date" {
  value = provider::staging::mask("1980-01-02", local.birth_date.suggested_transformer, "aafc95318abe3f8b94d212d6ec1ce6b11dae8fcaf7b907ed795f45552986f926", jsondecode(local.birth_date.suggested_options_json))
}
output "phone_as_number" {
  value = provider::staging::pii_kind("mobile_number", ["447700900123", "447700900456"], "bigint").suggested_transformer
}
output "phone_as_text" {
  value = provider::staging::pii_kind("mobile_number", ["+44 7700 900123", "+44 7700 900456"]).suggested_transformer
}
`,
		ConfigStateChecks: []statecheck.StateCheck{
			statecheck.ExpectKnownOutputValue("birth_date", knownvalue.ObjectPartial(map[string]knownvalue.Check{
				"kind":                   knownvalue.StringExact(masking.KindBirthDate),
				"suggested_transformer":  knownvalue.StringExact("date_shift"),
				"suggested_domain":       knownvalue.StringExact("date_shift"),
				"suggested_options_json": knownvalue.StringExact(`{"max_days":365}`),
			})),
			statecheck.ExpectKnownOutputValue("masked_birth_date", knownvalue.StringExact(shifted)),
			statecheck.ExpectKnownOutputValue("phone_as_number", knownvalue.StringExact("digits")),
			statecheck.ExpectKnownOutputValue("phone_as_text", knownvalue.StringExact("phone")),
		},
	})
}

// TestPIIKindFunction_errors checks the argument errors of pii_kind.
func TestPIIKindFunction_errors(t *testing.T) {
	maskingFunctionTest(t,
		resource.TestStep{
			Config: `
output "x" {
  value = provider::staging::pii_kind("email", ["a@example.com"], "text", "varchar")
}
`,
			ExpectError: regexp.MustCompile(`Invalid\s+value\s+for\s+"sql_type"\s+parameter:\s+Too\s+many\s+arguments`),
		},
		resource.TestStep{
			Config: `
output "x" {
  value = provider::staging::pii_kind("email", null)
}
`,
			ExpectError: regexp.MustCompile(`Invalid\s+function\s+argument`),
		},
	)
}

// TestPIIKindFunction_definition checks that the definition is valid.
func TestPIIKindFunction_definition(t *testing.T) {
	resp := &function.DefinitionResponse{}
	newPIIKindFunction().Definition(context.Background(), function.DefinitionRequest{}, resp)
	var v function.DefinitionValidateResponse
	resp.Definition.ValidateImplementation(context.Background(), function.DefinitionValidateRequest{FuncName: "pii_kind"}, &v)
	if v.Diagnostics.HasError() {
		t.Errorf("invalid definition: %v", v.Diagnostics)
	}
}

// TestPIIKindFunction_example applies the documented example.
func TestPIIKindFunction_example(t *testing.T) {
	maskingFunctionTest(t, resource.TestStep{
		Config: exampleConfig(t, "pii_kind"),
		ConfigStateChecks: []statecheck.StateCheck{
			statecheck.ExpectKnownOutputValue("unmasked_pii", knownvalue.ObjectExact(map[string]knownvalue.Check{
				"users.notes": knownvalue.StringExact("free_text_pii: suggested transformer text_scramble"),
			})),
		},
	})
}
