// Package provider is the Terraform glue of terraform-provider-staging: it
// maps Terraform schemas to the domain packages under internal/ and turns
// their errors into diagnostics. Domain logic does not live here.
package provider

import (
	"context"
	"errors"
	"fmt"
	"os"
	"os/user"
	"strconv"
	"sync"
	"time"

	"github.com/hashicorp/terraform-plugin-framework/datasource"
	"github.com/hashicorp/terraform-plugin-framework/diag"
	"github.com/hashicorp/terraform-plugin-framework/ephemeral"
	"github.com/hashicorp/terraform-plugin-framework/function"
	"github.com/hashicorp/terraform-plugin-framework/path"
	"github.com/hashicorp/terraform-plugin-framework/provider"
	"github.com/hashicorp/terraform-plugin-framework/provider/schema"
	"github.com/hashicorp/terraform-plugin-framework/resource"
	"github.com/hashicorp/terraform-plugin-framework/schema/validator"
	"github.com/hashicorp/terraform-plugin-framework/types"
	"github.com/hashicorp/terraform-plugin-log/tflog"

	"github.com/stagingkit/terraform-provider-staging/internal/isolation"
	"github.com/stagingkit/terraform-provider-staging/internal/registry"
)

// Environment variables read when the provider block leaves a value unset.
const (
	EnvRegistry = "STAGING_REGISTRY"
	EnvActor    = "STAGING_ACTOR"
	// EnvMaskingKey holds the masking secret data sources use.
	EnvMaskingKey = "STAGING_MASKING_KEY"
	// EnvCredentialRootSecret holds the root secret staging_credential
	// derives from.
	EnvCredentialRootSecret = "STAGING_CREDENTIAL_ROOT_SECRET"
)

var (
	_ provider.Provider              = (*stagingProvider)(nil)
	_ provider.ProviderWithFunctions = (*stagingProvider)(nil)

	_ provider.ProviderWithEphemeralResources = (*stagingProvider)(nil)
)

// Option changes how New builds the provider; tests use it to inject a clock.
type Option func(*stagingProvider)

// WithClock makes the provider read time from clock instead of time.Now, so
// expiry can be tested without sleeping.
func WithClock(clock func() time.Time) Option {
	return func(p *stagingProvider) { p.clock = clock }
}

// New returns a constructor of the provider, as providerserver expects.
func New(version string, opts ...Option) func() provider.Provider {
	return func() provider.Provider {
		p := &stagingProvider{version: version, clock: time.Now}
		for _, o := range opts {
			o(p)
		}
		return p
	}
}

type stagingProvider struct {
	version string
	clock   func() time.Time
}

type providerModel struct {
	Registry   types.String `tfsdk:"registry"`
	Actor      types.String `tfsdk:"actor"`
	MaskingKey types.String `tfsdk:"masking_key"`
	// CredentialRootSecret is what staging_credential derives from.
	CredentialRootSecret types.String        `tfsdk:"credential_root_secret"`
	Postgres             []postgresConnModel `tfsdk:"postgres"`
}

func (p *stagingProvider) Metadata(_ context.Context, _ provider.MetadataRequest, resp *provider.MetadataResponse) {
	resp.TypeName = "staging"
	resp.Version = p.version
}

func (p *stagingProvider) Schema(_ context.Context, _ provider.SchemaRequest, resp *provider.SchemaResponse) {
	resp.Schema = schema.Schema{
		MarkdownDescription: "Staging environments as code: a shared registry of environments with owners, expiry, quotas and leases, " +
			"and named PostgreSQL connections that objects refer to instead of carrying credentials.",
		Attributes: map[string]schema.Attribute{
			"registry": schema.StringAttribute{
				MarkdownDescription: "Where the environment registry lives: a PostgreSQL DSN (`postgres://…` or keyword/value `host=… dbname=…`) for a registry shared by teams, or a file path for the embedded SQLite registry. " +
					"Defaults to the `" + EnvRegistry + "` environment variable, else `registry.db` under the user's data directory " +
					"(`$XDG_DATA_HOME/terraform-provider-staging` or `~/.local/share/terraform-provider-staging` on Linux). Never logged.",
				Optional:  true,
				Sensitive: true,
			},
			"actor": schema.StringAttribute{
				MarkdownDescription: "Who is acting, recorded in the audit log and used as the default owner and lease holder. " +
					"Defaults to `" + EnvActor + "`, then CI variables (`GITHUB_ACTOR`, `GITLAB_USER_LOGIN`, `BUILDKITE_BUILD_CREATOR_EMAIL`, `CIRCLE_USERNAME`), then the operating-system user.",
				Optional: true,
			},
			"masking_key": schema.StringAttribute{
				MarkdownDescription: "The masking key that data sources such as `staging_masked_rows` mask with (resources take their own write-only `key`): " +
					"at least 32 random bytes written as 64 or more hex characters or as base64, such as the output of `openssl rand -hex 32`. " +
					"Defaults to `" + EnvMaskingKey + "`. Provider configuration is never stored, so the key stays out of state. " +
					"Whoever holds it can reverse bijective masking: it is a production secret.",
				Optional:   true,
				Sensitive:  true,
				Validators: []validator.String{maskingKeyValidator{}},
			},
			"credential_root_secret": schema.StringAttribute{
				MarkdownDescription: "The root secret `staging_credential` derives every credential from (HKDF-SHA256), at least 32 bytes, such as the output of `openssl rand -hex 32`. " +
					"Defaults to `" + EnvCredentialRootSecret + "`. Provider configuration is never stored: feed it from an ephemeral variable or a secret manager. " +
					"Whoever holds it can derive every staging credential, so keep it out of staging's own configuration.",
				Optional:  true,
				Sensitive: true,
			},
		},
		Blocks: map[string]schema.Block{
			"postgres": postgresConnBlock(),
		},
	}
}

func (p *stagingProvider) Configure(ctx context.Context, req provider.ConfigureRequest, resp *provider.ConfigureResponse) {
	var cfg providerModel
	resp.Diagnostics.Append(req.Config.Get(ctx, &cfg)...)
	if resp.Diagnostics.HasError() {
		return
	}
	if cfg.Registry.IsUnknown() {
		resp.Diagnostics.AddAttributeError(path.Root("registry"), "Unknown Staging Registry",
			"The provider cannot open the registry because its location is not known until apply. "+
				"Set registry to a value known at plan time (a variable or literal), or use the "+EnvRegistry+" environment variable.")
		return
	}
	location := cfg.Registry.ValueString()
	if location == "" {
		location = os.Getenv(EnvRegistry)
	}
	if ci, _ := strconv.ParseBool(os.Getenv("CI")); ci && !registry.IsPostgresDSN(location) {
		resp.Diagnostics.AddAttributeWarning(path.Root("registry"), "Embedded Staging Registry in CI",
			"CI is set and the registry is the embedded SQLite file on this runner's disk, which disappears with the runner: "+
				"every environment registered here would be forgotten, and nothing could find or clean it up. "+
				"Set registry (or "+EnvRegistry+") to the team's PostgreSQL registry, such as postgres://staging@registry-db/staging.")
	}
	actor := cfg.Actor.ValueString()
	if cfg.Actor.IsUnknown() || actor == "" {
		actor = DefaultActor()
	}
	ctx = tflog.SetField(ctx, "registry", registry.Redact(location))
	tflog.Debug(ctx, "configured staging provider", map[string]any{"actor": actor})
	conns := postgresConnections(cfg.Postgres, &resp.Diagnostics)
	if resp.Diagnostics.HasError() {
		return
	}
	maskingKey := cfg.MaskingKey.ValueString()
	if maskingKey == "" {
		maskingKey = os.Getenv(EnvMaskingKey)
	}
	root := cfg.CredentialRootSecret.ValueString()
	if root == "" {
		root = os.Getenv(EnvCredentialRootSecret)
	} else if len(root) < isolation.MinRootSecretLength {
		resp.Diagnostics.AddAttributeError(path.Root("credential_root_secret"), "Invalid Credential Root Secret",
			fmt.Sprintf("credential_root_secret is shorter than %d bytes: give at least 128 bits, such as the output of `openssl rand -hex 32`.", isolation.MinRootSecretLength))
		return
	}
	data := &providerData{location: location, actor: actor, clock: p.clock, version: p.version, conns: conns, maskingKey: maskingKey, credentialRoot: []byte(root)}
	resp.ResourceData = data
	resp.DataSourceData = data
	resp.EphemeralResourceData = data
}

func (p *stagingProvider) Resources(context.Context) []func() resource.Resource {
	return []func() resource.Resource{
		newTeamResource,
		newEnvironmentResource,
		newLeaseResource,
		newParityCheckResource,
		newPostgresCloneResource,
		newPostgresRoleResource,
		newIsolationCheckResource,
	}
}

// EphemeralResources lists the ephemeral resources (Terraform 1.10 or newer).
func (p *stagingProvider) EphemeralResources(context.Context) []func() ephemeral.EphemeralResource {
	return []func() ephemeral.EphemeralResource{
		newCredentialEphemeral,
	}
}

func (p *stagingProvider) DataSources(context.Context) []func() datasource.DataSource {
	return []func() datasource.DataSource{
		newEnvironmentsDataSource,
		newAuditEventsDataSource,
		newPostgresFingerprintDataSource,
		newPIIScanDataSource,
		newMaskedRowsDataSource,
	}
}

// Functions lists the provider-defined functions (Terraform 1.8 or newer).
func (p *stagingProvider) Functions(context.Context) []func() function.Function {
	return []func() function.Function{
		newMaskFunction,
		newPIIKindFunction,
		newScaleFunction,
		newParityViolationsFunction,
		newSecretFingerprintFunction,
	}
}

// DefaultActor names who is acting when the provider block does not say:
// STAGING_ACTOR, then the identity CI systems expose, then the OS user.
func DefaultActor() string {
	for _, v := range []struct{ env, prefix string }{
		{EnvActor, ""},
		{"GITHUB_ACTOR", "github:"},
		{"GITLAB_USER_LOGIN", "gitlab:"},
		{"BUILDKITE_BUILD_CREATOR_EMAIL", "buildkite:"},
		{"CIRCLE_USERNAME", "circleci:"},
		{"USER", ""},
		{"USERNAME", ""},
	} {
		if s := os.Getenv(v.env); s != "" {
			return v.prefix + s
		}
	}
	if u, err := user.Current(); err == nil && u.Username != "" {
		return u.Username
	}
	return "unknown"
}

// providerData is what Configure hands to every resource and data source.
// The registry is opened on first use, so that objects which do not need it
// work even when it is unreachable.
type providerData struct {
	location string
	actor    string
	version  string
	clock    func() time.Time
	// conns are the named PostgreSQL connections of the provider block.
	conns map[string]pgConnection
	// maskingKey is the secret data sources mask with; "" when unset.
	maskingKey string
	// credentialRoot is what staging_credential derives from; empty when
	// unset.
	credentialRoot []byte

	once  sync.Once
	store registry.Store
	err   error
}

// Store opens the registry once per provider process.
func (d *providerData) Store(ctx context.Context) (registry.Store, error) {
	d.once.Do(func() {
		d.store, d.err = registry.Open(ctx, d.location, registry.Options{
			Clock:     d.clock,
			WrittenBy: "terraform-provider-staging " + d.version,
		})
	})
	return d.store, d.err
}

// now is the provider clock's time at the precision the registry keeps.
func (d *providerData) now() time.Time { return d.clock().UTC().Truncate(time.Second) }

// openStore returns the registry or adds a diagnostic that says why it could
// not be opened and what to do.
func (d *providerData) openStore(ctx context.Context, diags *diag.Diagnostics) registry.Store {
	s, err := d.Store(ctx)
	if err == nil {
		return s
	}
	where := registry.Redact(d.location)
	if where == "" {
		where = "the default embedded registry"
	}
	advice := fmt.Sprintf("Check that the registry is reachable and the credentials are right (provider attribute \"registry\" or %s).", EnvRegistry)
	var tooNew *registry.SchemaTooNewError
	if errors.As(err, &tooNew) {
		advice = "A newer terraform-provider-staging has upgraded this registry; upgrade the provider to use it."
	}
	diags.AddError("Unable to Open Staging Registry",
		fmt.Sprintf("The provider could not open the environment registry at %s. %s\n\n%s", where, advice, err))
	return nil
}

// providerDataFrom extracts the provider data in a resource's or data
// source's Configure; it returns nil (without error) before the provider is
// configured.
func providerDataFrom(v any, diags *diag.Diagnostics) *providerData {
	if v == nil {
		return nil
	}
	d, ok := v.(*providerData)
	if !ok {
		diags.AddError("Unexpected Provider Data",
			fmt.Sprintf("Expected *providerData, got %T. Please report this issue to the provider developers.", v))
		return nil
	}
	return d
}
