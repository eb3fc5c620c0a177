package provider

import (
	"context"
	"path/filepath"
	"testing"

	"github.com/hashicorp/terraform-plugin-framework/provider"
	"github.com/hashicorp/terraform-plugin-framework/tfsdk"
	"github.com/hashicorp/terraform-plugin-framework/types"
)

// configureWith runs the provider's Configure with registry set to location
// and returns its diagnostics' warnings' summaries.
func configureWith(t *testing.T, location string) []string {
	t.Helper()
	ctx := context.Background()
	p := New("test")()
	var sch provider.SchemaResponse
	p.Schema(ctx, provider.SchemaRequest{}, &sch)
	cfg := tfsdk.Config{Schema: sch.Schema}
	state := tfsdk.State{Schema: sch.Schema}
	m := providerModel{
		Registry: types.StringValue(location), Actor: types.StringNull(), MaskingKey: types.StringNull(),
		CredentialRootSecret: types.StringNull(),
	}
	if d := state.Set(ctx, &m); d.HasError() {
		t.Fatal(d)
	}
	cfg.Raw = state.Raw
	var resp provider.ConfigureResponse
	p.Configure(ctx, provider.ConfigureRequest{Config: cfg}, &resp)
	if resp.Diagnostics.HasError() {
		t.Fatalf("configure: %v", resp.Diagnostics)
	}
	var out []string
	for _, w := range resp.Diagnostics.Warnings() {
		out = append(out, w.Summary())
	}
	return out
}

func TestProviderConfigure_embeddedRegistryInCI(t *testing.T) {
	file := filepath.Join(t.TempDir(), "registry.db")
	t.Setenv("CI", "true")
	if w := configureWith(t, file); len(w) != 1 || w[0] != "Embedded Staging Registry in CI" {
		t.Fatalf("CI with the embedded registry: warnings %v, want the embedded-registry warning", w)
	}
	if w := configureWith(t, "postgres://staging@registry-db.internal/staging"); len(w) != 0 {
		t.Fatalf("CI with a PostgreSQL registry: warnings %v, want none", w)
	}
	t.Setenv("CI", "")
	if w := configureWith(t, file); len(w) != 0 {
		t.Fatalf("outside CI: warnings %v, want none", w)
	}
}
