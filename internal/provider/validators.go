package provider

import (
	"context"
	"errors"
	"fmt"
	"regexp"
	"strings"
	"time"

	"github.com/hashicorp/terraform-plugin-framework-validators/stringvalidator"
	"github.com/hashicorp/terraform-plugin-framework/diag"
	"github.com/hashicorp/terraform-plugin-framework/path"
	"github.com/hashicorp/terraform-plugin-framework/resource/schema/planmodifier"
	"github.com/hashicorp/terraform-plugin-framework/schema/validator"
	"github.com/hashicorp/terraform-plugin-framework/types"

	"github.com/stagingkit/terraform-provider-staging/internal/masking"
	"github.com/stagingkit/terraform-provider-staging/internal/registry"
)

// nameValidators check DNS-label names at plan time.
func nameValidators() []validator.String {
	return []validator.String{
		stringvalidator.LengthBetween(1, registry.MaxNameLength),
		stringvalidator.RegexMatches(regexp.MustCompile(`^[a-z]([a-z0-9-]*[a-z0-9])?$`),
			"must be a DNS label: lowercase letters, digits and hyphens, starting with a letter and not ending with a hyphen (for example \"pay-feature-x\")"),
	}
}

// durationValidator checks values registry.ParseDuration accepts.
type durationValidator struct{}

var _ validator.String = durationValidator{}

func (durationValidator) Description(context.Context) string {
	return "must be a positive duration such as \"72h\", \"90m\" or \"7d\""
}

func (v durationValidator) MarkdownDescription(ctx context.Context) string { return v.Description(ctx) }

func (durationValidator) ValidateString(_ context.Context, req validator.StringRequest, resp *validator.StringResponse) {
	if req.ConfigValue.IsNull() || req.ConfigValue.IsUnknown() {
		return
	}
	if _, err := registry.ParseDuration(req.ConfigValue.ValueString()); err != nil {
		resp.Diagnostics.AddAttributeError(req.Path, "Invalid Duration",
			fmt.Sprintf("Attribute %s value %q is not a valid duration: use a positive Go duration such as \"72h\" or \"90m\", or whole days or weeks such as \"7d\" or \"2w\".",
				req.Path, req.ConfigValue.ValueString()))
	}
}

// sameDurationAsState plans the prior state's spelling of a duration when
// the configuration spells the same duration differently ("72h" against an
// imported "3d"), so that the plan is empty rather than an update that
// changes nothing. Terraform accepts a planned value that differs from the
// configuration only in this case: the prior value, unchanged.
type sameDurationAsState struct{}

var _ planmodifier.String = sameDurationAsState{}

func (sameDurationAsState) Description(context.Context) string {
	return "keeps the prior spelling of a duration the configuration spells differently"
}

func (m sameDurationAsState) MarkdownDescription(ctx context.Context) string {
	return m.Description(ctx)
}

func (sameDurationAsState) PlanModifyString(_ context.Context, req planmodifier.StringRequest, resp *planmodifier.StringResponse) {
	if req.ConfigValue.IsNull() || req.ConfigValue.IsUnknown() || req.StateValue.IsNull() || req.StateValue.IsUnknown() {
		return
	}
	if d, err := registry.ParseDuration(req.StateValue.ValueString()); err == nil && sameDuration(req.ConfigValue, d) {
		resp.PlanValue = req.StateValue
	}
}

// parseOptionalDuration turns a validated, possibly null duration attribute
// into a time.Duration (0 when null).
func parseOptionalDuration(v types.String, p path.Path, diags *diag.Diagnostics) time.Duration {
	if v.IsNull() || v.IsUnknown() {
		return 0
	}
	d, err := registry.ParseDuration(v.ValueString())
	if err != nil {
		diags.AddAttributeError(p, "Invalid Duration", err.Error())
	}
	return d
}

// sameDuration reports whether the string s denotes d, so that "72h" in
// configuration and 3 days in the registry are not reported as drift.
func sameDuration(s types.String, d time.Duration) bool {
	if s.IsNull() || s.IsUnknown() {
		return false
	}
	got, err := registry.ParseDuration(s.ValueString())
	return err == nil && got == d
}

// durationState returns a duration attribute's new state: the prior value
// when it denotes d (so "72h" stays "72h" rather than becoming "3d"), null
// when d is 0, else d in its canonical form.
func durationState(prior types.String, d time.Duration) types.String {
	switch {
	case d == 0:
		return types.StringNull()
	case sameDuration(prior, d):
		return prior
	}
	return types.StringValue(registry.FormatDuration(d))
}

// diagnostics is the framework's diagnostics list, shortened for helpers.
type diagnostics = diag.Diagnostics

// addRegistryError turns a registry error into a diagnostic that points at
// the attribute the user has to change, when there is one.
func addRegistryError(diags *diag.Diagnostics, summary string, err error) {
	var (
		ttl     *registry.TTLError
		quota   *registry.QuotaExceededError
		lease   *registry.LeaseConflictError
		tooNew  *registry.SchemaTooNewError
		missing *registry.NotFoundError
		attr    path.Path
		advice  string
		hasAttr bool
	)
	switch {
	case errors.As(err, &ttl):
		attr, hasAttr = path.Root("ttl"), true
		advice = "Choose a shorter ttl, or raise the team's max_ttl."
	case errors.As(err, &quota):
		attr, hasAttr = path.Root("team"), true
		advice = "Destroy one of the team's environments, or raise the team's max_environments."
	case errors.As(err, &lease):
		attr, hasAttr = path.Root("environment"), true
		advice = "Wait until the lease expires, ask its holder to release it, or pick another environment."
	case errors.As(err, &tooNew):
		advice = "Upgrade terraform-provider-staging to the version that wrote the registry."
	case errors.As(err, &missing):
		attr, hasAttr = path.Root(missing.Kind), true
		if missing.Kind == "lease" {
			attr = path.Root("id")
		}
	case errors.Is(err, registry.ErrAlreadyExists):
		attr, hasAttr = path.Root("name"), true
		advice = "Import the existing object, or choose another name."
	}
	detail := err.Error()
	if advice != "" {
		detail = advice + "\n\n" + detail
	}
	if hasAttr {
		diags.AddAttributeError(attr, summary, detail)
		return
	}
	diags.AddError(summary, detail)
}

// timeString renders a registry time for state: RFC 3339 in UTC, or null for
// the zero time.
func timeString(t time.Time) types.String {
	if t.IsZero() {
		return types.StringNull()
	}
	return types.StringValue(t.UTC().Format(time.RFC3339))
}

// maskingKeyValidator checks, at plan time, that a masking key is what
// masking.ParseKey accepts: 32 or more random bytes in hex or base64. The
// diagnostic never shows the key.
type maskingKeyValidator struct{}

var _ validator.String = maskingKeyValidator{}

func (maskingKeyValidator) Description(context.Context) string {
	return "must be at least 32 random bytes written as 64 or more hex characters or as base64, such as the output of `openssl rand -hex 32`"
}

func (v maskingKeyValidator) MarkdownDescription(ctx context.Context) string {
	return v.Description(ctx)
}

func (maskingKeyValidator) ValidateString(_ context.Context, req validator.StringRequest, resp *validator.StringResponse) {
	if req.ConfigValue.IsNull() || req.ConfigValue.IsUnknown() || req.ConfigValue.ValueString() == "" {
		return // empty keys get their own "Missing Masking Key" error where the key is used
	}
	if _, err := masking.ParseKey(req.ConfigValue.ValueString()); err != nil {
		resp.Diagnostics.AddAttributeError(req.Path, "Invalid Masking Key", maskingKeyDetail(req.Path.String(), err))
	}
}

// maskingKeyDetail explains why a masking key was refused, naming where it
// came from (an attribute, an argument or an environment variable).
func maskingKeyDetail(where string, err error) string {
	var ke *masking.KeyError
	if errors.As(err, &ke) {
		return fmt.Sprintf("%s is not a usable masking key: %s. A masking key must be at least 32 random bytes, written as 64 or more hex characters or as base64 (padded or not): "+
			"masking is deterministic, so a key chosen by a person could be guessed offline from one production value and its masked form. %s. "+
			"Whoever holds the key can reverse the bijective transformers (keyed pseudonymisation): keep it with production's secrets, out of reach of staging users.",
			where, ke.Reason, capitalize(masking.KeyHint))
	}
	return fmt.Sprintf("%s is not a usable masking key: %s", where, err)
}

func capitalize(s string) string {
	if s == "" {
		return s
	}
	return strings.ToUpper(s[:1]) + s[1:]
}
