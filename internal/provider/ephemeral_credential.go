package provider

import (
	"context"
	"errors"
	"fmt"

	"github.com/hashicorp/terraform-plugin-framework-validators/int64validator"
	"github.com/hashicorp/terraform-plugin-framework-validators/stringvalidator"
	"github.com/hashicorp/terraform-plugin-framework/ephemeral"
	"github.com/hashicorp/terraform-plugin-framework/ephemeral/schema"
	"github.com/hashicorp/terraform-plugin-framework/path"
	"github.com/hashicorp/terraform-plugin-framework/schema/validator"
	"github.com/hashicorp/terraform-plugin-framework/types"

	"github.com/stagingkit/terraform-provider-staging/internal/isolation"
)

var (
	_ ephemeral.EphemeralResourceWithConfigure      = (*credentialEphemeral)(nil)
	_ ephemeral.EphemeralResourceWithValidateConfig = (*credentialEphemeral)(nil)
)

func newCredentialEphemeral() ephemeral.EphemeralResource { return &credentialEphemeral{} }

// credentialEphemeral is staging_credential: a secret derived from the
// provider's root secret, the environment, the credential's name and its
// version, so that every run sees the same value and it is never stored.
type credentialEphemeral struct{ data *providerData }

// Credential types.
const (
	credentialPassword = "password"
	credentialToken    = "token"
	credentialEd25519  = "ed25519"
)

type credentialModel struct {
	Environment      types.String `tfsdk:"environment"`
	Name             types.String `tfsdk:"name"`
	Version          types.Int64  `tfsdk:"version"`
	Type             types.String `tfsdk:"type"`
	Length           types.Int64  `tfsdk:"length"`
	Lower            types.Bool   `tfsdk:"lower"`
	Upper            types.Bool   `tfsdk:"upper"`
	Numeric          types.Bool   `tfsdk:"numeric"`
	Special          types.Bool   `tfsdk:"special"`
	MinLower         types.Int64  `tfsdk:"min_lower"`
	MinUpper         types.Int64  `tfsdk:"min_upper"`
	MinNumeric       types.Int64  `tfsdk:"min_numeric"`
	MinSpecial       types.Int64  `tfsdk:"min_special"`
	OverrideSpecial  types.String `tfsdk:"override_special"`
	Exclude          types.String `tfsdk:"exclude"`
	Bytes            types.Int64  `tfsdk:"bytes"`
	Encoding         types.String `tfsdk:"encoding"`
	Value            types.String `tfsdk:"value"`
	PrivateKeyPEM    types.String `tfsdk:"private_key_pem"`
	PublicKeyPEM     types.String `tfsdk:"public_key_pem"`
	PublicKeyOpenSSH types.String `tfsdk:"public_key_openssh"`
}

// Attributes that only one credential type takes.
var (
	passwordOnlyAttrs = []string{"length", "lower", "upper", "numeric", "special", "min_lower", "min_upper", "min_numeric", "min_special", "override_special", "exclude"}
	tokenOnlyAttrs    = []string{"bytes", "encoding"}
)

func (e *credentialEphemeral) Metadata(_ context.Context, req ephemeral.MetadataRequest, resp *ephemeral.MetadataResponse) {
	resp.TypeName = req.ProviderTypeName + "_credential"
}

func (e *credentialEphemeral) Schema(_ context.Context, _ ephemeral.SchemaRequest, resp *ephemeral.SchemaResponse) {
	classBool := func(what string) schema.BoolAttribute {
		return schema.BoolAttribute{MarkdownDescription: "Whether the password may hold " + what + ". Default `true`.", Optional: true}
	}
	classMin := func(what, flag string) schema.Int64Attribute {
		return schema.Int64Attribute{
			MarkdownDescription: "The least number of " + what + " in the password. Default 1 when `" + flag + "` is true, else 0.",
			Optional:            true, Validators: []validator.Int64{int64validator.AtLeast(0)},
		}
	}
	resp.Schema = schema.Schema{
		MarkdownDescription: "A staging secret — a password, a token or an ed25519 key pair — that exists only while Terraform runs: " +
			"it is never written to the plan or the state, and feeds write-only attributes (such as `staging_postgres_role.password_wo`), " +
			"provider blocks and other ephemeral contexts (Terraform 1.10 or newer).\n\n" +
			"Terraform opens an ephemeral resource again in every plan and apply, so a random value would change each run. " +
			"The value is therefore **derived**: HKDF-SHA256 of the provider's `credential_root_secret`, keyed by `environment`, `name`, " +
			"`version`, the type and its settings, then mapped onto the password policy's alphabet by rejection sampling (every character " +
			"equally likely), encoded as a token, or used as the seed of an ed25519 key. Every run sees the same value until `version` " +
			"changes; bump it (and the consumer's `password_wo_version`) to rotate. Whoever holds the root secret can derive every " +
			"credential: keep it in a secret manager, never in staging's own configuration (`staging_isolation_check` reports it there).",
		Attributes: map[string]schema.Attribute{
			"environment": schema.StringAttribute{
				MarkdownDescription: "The staging environment the credential belongs to, usually `staging_environment.<name>.name`. " +
					"Credentials of different environments are unrelated. The registry is not consulted.",
				Required:   true,
				Validators: nameValidators(),
			},
			"name": schema.StringAttribute{
				MarkdownDescription: "What the credential is for, such as `app-db` or `deploy-key`; unique within the environment.",
				Required:            true,
				Validators:          []validator.String{stringvalidator.LengthBetween(1, 128)},
			},
			"version": schema.Int64Attribute{
				MarkdownDescription: "Bump to rotate: another version gives an unrelated value. Default 1.",
				Optional:            true,
				Validators:          []validator.Int64{int64validator.AtLeast(1)},
			},
			"type": schema.StringAttribute{
				MarkdownDescription: "`password` (default), `token` or `ed25519`.",
				Optional:            true,
				Validators:          []validator.String{stringvalidator.OneOf(credentialPassword, credentialToken, credentialEd25519)},
			},
			"length": schema.Int64Attribute{
				MarkdownDescription: fmt.Sprintf("Password length, %d to %d characters. Default 32.", isolation.MinPasswordLength, isolation.MaxPasswordLength),
				Optional:            true,
			},
			"lower":       classBool("lowercase letters"),
			"upper":       classBool("uppercase letters"),
			"numeric":     classBool("digits"),
			"special":     classBool("special characters"),
			"min_lower":   classMin("lowercase letters", "lower"),
			"min_upper":   classMin("uppercase letters", "upper"),
			"min_numeric": classMin("digits", "numeric"),
			"min_special": classMin("special characters", "special"),
			"override_special": schema.StringAttribute{
				MarkdownDescription: "The special characters to draw from instead of the default `" + isolation.DefaultSpecialChars + "` " +
					"(chosen to need no quoting in a shell, a URL or a libpq connection string).",
				Optional: true,
			},
			"exclude": schema.StringAttribute{
				MarkdownDescription: "Characters the password never holds, such as `0O1lI` for passwords people read.",
				Optional:            true,
			},
			"bytes": schema.Int64Attribute{
				MarkdownDescription: fmt.Sprintf("Token size in bytes, %d to %d. Default 32.", isolation.MinTokenBytes, isolation.MaxTokenBytes),
				Optional:            true,
			},
			"encoding": schema.StringAttribute{
				MarkdownDescription: "Token encoding: `base64url` (default, unpadded) or `hex`.",
				Optional:            true,
				Validators:          []validator.String{stringvalidator.OneOf(isolation.EncodingBase64URL, isolation.EncodingHex)},
			},
			"value": schema.StringAttribute{
				MarkdownDescription: "The password or the token; for `ed25519`, the private key in PEM (as `private_key_pem`).",
				Computed:            true,
				Sensitive:           true,
			},
			"private_key_pem": schema.StringAttribute{
				MarkdownDescription: "For `ed25519`: the private key as a PKCS #8 PEM block.",
				Computed:            true,
				Sensitive:           true,
			},
			"public_key_pem": schema.StringAttribute{
				MarkdownDescription: "For `ed25519`: the public key as a PKIX PEM block.",
				Computed:            true,
			},
			"public_key_openssh": schema.StringAttribute{
				MarkdownDescription: "For `ed25519`: the public key as an OpenSSH `authorized_keys` line.",
				Computed:            true,
			},
		},
	}
}

func (e *credentialEphemeral) Configure(_ context.Context, req ephemeral.ConfigureRequest, resp *ephemeral.ConfigureResponse) {
	e.data = providerDataFrom(req.ProviderData, &resp.Diagnostics)
}

// ValidateConfig refuses settings of another credential type and, when
// the settings are known, a password policy that cannot be met or is too
// weak, naming the attribute at fault.
func (e *credentialEphemeral) ValidateConfig(ctx context.Context, req ephemeral.ValidateConfigRequest, resp *ephemeral.ValidateConfigResponse) {
	var m credentialModel
	resp.Diagnostics.Append(req.Config.Get(ctx, &m)...)
	if resp.Diagnostics.HasError() || m.Type.IsUnknown() {
		return
	}
	typ := m.credentialType()
	foreign := map[string][]string{
		credentialPassword: tokenOnlyAttrs,
		credentialToken:    passwordOnlyAttrs,
		credentialEd25519:  append(append([]string{}, passwordOnlyAttrs...), tokenOnlyAttrs...),
	}[typ]
	set := m.setAttributes()
	for _, name := range foreign {
		if set[name] {
			resp.Diagnostics.AddAttributeError(path.Root(name), "Setting of Another Credential Type",
				fmt.Sprintf("%s does not apply to a credential of type %q: remove it, or set type to the kind of credential it belongs to.", name, typ))
		}
	}
	if resp.Diagnostics.HasError() {
		return
	}
	switch typ {
	case credentialPassword:
		if p, known := m.policy(); known {
			addPolicyError(&resp.Diagnostics, p.Validate())
		}
	case credentialToken:
		if !m.Bytes.IsUnknown() && !m.Bytes.IsNull() {
			if n := m.Bytes.ValueInt64(); n < isolation.MinTokenBytes || n > isolation.MaxTokenBytes {
				resp.Diagnostics.AddAttributeError(path.Root("bytes"), "Invalid Token Size",
					fmt.Sprintf("bytes is %d; a token must be %d to %d bytes long.", n, isolation.MinTokenBytes, isolation.MaxTokenBytes))
			}
		}
	}
}

// Open derives the credential.
func (e *credentialEphemeral) Open(ctx context.Context, req ephemeral.OpenRequest, resp *ephemeral.OpenResponse) {
	var m credentialModel
	resp.Diagnostics.Append(req.Config.Get(ctx, &m)...)
	if resp.Diagnostics.HasError() || e.data == nil {
		return
	}
	root := e.data.credentialRoot
	if len(root) == 0 {
		resp.Diagnostics.AddError("Missing Credential Root Secret",
			"staging_credential derives its value from the provider's credential_root_secret, which is not set. "+
				"Set credential_root_secret in the provider block from an ephemeral variable or a secret manager, or set the "+
				EnvCredentialRootSecret+" environment variable. Generate one with `openssl rand -hex 32`.")
		return
	}
	scope := isolation.Scope{Environment: m.Environment.ValueString(), Name: m.Name.ValueString(), Version: 1}
	if !m.Version.IsNull() {
		scope.Version = m.Version.ValueInt64()
	}
	m.Value, m.PrivateKeyPEM, m.PublicKeyPEM, m.PublicKeyOpenSSH = types.StringNull(), types.StringNull(), types.StringNull(), types.StringNull()
	var err error
	switch m.credentialType() {
	case credentialPassword:
		p, _ := m.policy()
		var pw string
		if pw, err = isolation.Password(root, scope, p); err == nil {
			m.Value = types.StringValue(pw)
		}
	case credentialToken:
		n, enc := int64(32), isolation.EncodingBase64URL
		if !m.Bytes.IsNull() {
			n = m.Bytes.ValueInt64()
		}
		if !m.Encoding.IsNull() {
			enc = m.Encoding.ValueString()
		}
		var tok string
		if tok, err = isolation.Token(root, scope, int(n), enc); err == nil {
			m.Value = types.StringValue(tok)
		}
	case credentialEd25519:
		var kp isolation.KeyPair
		if kp, err = isolation.Ed25519(root, scope); err == nil {
			m.Value, m.PrivateKeyPEM = types.StringValue(kp.PrivateKeyPEM), types.StringValue(kp.PrivateKeyPEM)
			m.PublicKeyPEM, m.PublicKeyOpenSSH = types.StringValue(kp.PublicKeyPEM), types.StringValue(kp.PublicKeyOpenSSH)
		}
	}
	if errors.Is(err, isolation.ErrRootSecretTooShort) {
		resp.Diagnostics.AddError("Invalid Credential Root Secret", "The provider's credential_root_secret (or "+EnvCredentialRootSecret+") is too short: "+err.Error()+".")
		return
	}
	if err != nil {
		addPolicyError(&resp.Diagnostics, err)
		return
	}
	resp.Diagnostics.Append(resp.Result.Set(ctx, m)...)
}

// credentialType is the configured type, password by default.
func (m credentialModel) credentialType() string {
	if m.Type.IsNull() {
		return credentialPassword
	}
	return m.Type.ValueString()
}

// setAttributes lists the type-specific attributes given in configuration.
func (m credentialModel) setAttributes() map[string]bool {
	set := func(v interface{ IsNull() bool }) bool { return !v.IsNull() }
	return map[string]bool{
		"length": set(m.Length), "lower": set(m.Lower), "upper": set(m.Upper), "numeric": set(m.Numeric), "special": set(m.Special),
		"min_lower": set(m.MinLower), "min_upper": set(m.MinUpper), "min_numeric": set(m.MinNumeric), "min_special": set(m.MinSpecial),
		"override_special": set(m.OverrideSpecial), "exclude": set(m.Exclude), "bytes": set(m.Bytes), "encoding": set(m.Encoding),
	}
}

// policy builds the password policy with defaults; known is false while
// a setting is unknown.
func (m credentialModel) policy() (p isolation.PasswordPolicy, known bool) {
	for _, v := range []interface{ IsUnknown() bool }{m.Length, m.Lower, m.Upper, m.Numeric, m.Special, m.MinLower, m.MinUpper, m.MinNumeric, m.MinSpecial, m.OverrideSpecial, m.Exclude} {
		if v.IsUnknown() {
			return p, false
		}
	}
	allowed := func(b types.Bool) bool { return b.IsNull() || b.ValueBool() }
	least := func(n types.Int64, allowed bool) int {
		if n.IsNull() {
			if allowed {
				return 1
			}
			return 0
		}
		return int(n.ValueInt64())
	}
	p = isolation.PasswordPolicy{Length: 32, Lower: allowed(m.Lower), Upper: allowed(m.Upper), Digits: allowed(m.Numeric), Special: allowed(m.Special),
		SpecialChars: m.OverrideSpecial.ValueString(), Exclude: m.Exclude.ValueString()}
	if !m.Length.IsNull() {
		p.Length = int(m.Length.ValueInt64())
	}
	p.MinLower, p.MinUpper = least(m.MinLower, p.Lower), least(m.MinUpper, p.Upper)
	p.MinDigits, p.MinSpecial = least(m.MinNumeric, p.Digits), least(m.MinSpecial, p.Special)
	return p, true
}

// addPolicyError turns a credential policy error into an attribute error.
func addPolicyError(diags *diagnostics, err error) {
	if err == nil {
		return
	}
	var pe *isolation.PolicyError
	if errors.As(err, &pe) {
		diags.AddAttributeError(path.Root(pe.Field), "Invalid Credential Policy",
			fmt.Sprintf("%s %s.", pe.Field, pe.Msg))
		return
	}
	diags.AddError("Error Deriving Staging Credential", err.Error())
}
