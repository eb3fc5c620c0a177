package provider

import (
	"context"
	"testing"

	"github.com/hashicorp/terraform-plugin-framework/providerserver"
	"github.com/hashicorp/terraform-plugin-go/tfprotov6"
	"github.com/hashicorp/terraform-plugin-go/tftypes"
)

// v0CloneState is the state a version-0 staging_postgres_clone wrote:
// no owner_id, and a timeouts block with create only.
const v0CloneState = `{
  "id": "clone-0123456789abcdef", "source": "prod", "target": "staging", "environment": null,
  "key": null, "key_version": 1, "schemas": null, "exclude_schemas": null, "tables": null, "exclude_tables": null,
  "default_action": null, "null_dangling_references": null, "parallelism": null, "refresh_after": "7d",
  "triggers": null, "rule": [{"table": "customers", "column": "email", "transformer": "email", "domain": null, "on_invalid": null, "options": null}],
  "subset": [], "virtual_foreign_key": [], "timeouts": {"create": "30m"},
  "planned_rows": {"public.customers": 10}, "table_stats": {"public.customers": {"rows": 10, "bytes": 300, "seconds": 0.5}},
  "rows_total": 10, "bytes_total": 300, "snapshot_time": "2026-11-01T10:00:00Z", "cloned_at": "2026-11-01T10:00:05Z",
  "duration_seconds": 5, "policy_hash": "abc", "transformer_versions": {"public.customers.email": "email/2"}
}`

// TestPostgresClone_upgradeStateFromV0 upgrades a version-0 state through
// the provider server, as Terraform does on the first plan after an
// upgrade: everything is kept, and the new attributes are null.
func TestPostgresClone_upgradeStateFromV0(t *testing.T) {
	ctx := context.Background()
	server, err := providerserver.NewProtocol6WithError(New("test")())()
	if err != nil {
		t.Fatal(err)
	}
	resp, err := server.UpgradeResourceState(ctx, &tfprotov6.UpgradeResourceStateRequest{
		TypeName: "staging_postgres_clone", Version: 0, RawState: &tfprotov6.RawState{JSON: []byte(v0CloneState)},
	})
	if err != nil {
		t.Fatal(err)
	}
	for _, d := range resp.Diagnostics {
		t.Errorf("diagnostic: %s: %s", d.Summary, d.Detail)
	}
	if resp.UpgradedState == nil {
		t.Fatal("no upgraded state")
	}
	schemaResp, err := server.GetProviderSchema(ctx, &tfprotov6.GetProviderSchemaRequest{})
	if err != nil {
		t.Fatal(err)
	}
	typ := schemaResp.ResourceSchemas["staging_postgres_clone"].ValueType()
	v, err := resp.UpgradedState.Unmarshal(typ)
	if err != nil {
		t.Fatal(err)
	}
	var attrs map[string]tftypes.Value
	if err := v.As(&attrs); err != nil {
		t.Fatal(err)
	}
	var id, cloned string
	_ = attrs["id"].As(&id)
	_ = attrs["cloned_at"].As(&cloned)
	if id != "clone-0123456789abcdef" || cloned != "2026-11-01T10:00:05Z" {
		t.Errorf("id %q, cloned_at %q: the upgrade lost values", id, cloned)
	}
	if !attrs["owner_id"].IsNull() {
		t.Errorf("owner_id = %v, want null", attrs["owner_id"])
	}
	var to map[string]tftypes.Value
	if err := attrs["timeouts"].As(&to); err != nil {
		t.Fatal(err)
	}
	var create string
	_ = to["create"].As(&create)
	if create != "30m" || !to["update"].IsNull() {
		t.Errorf("timeouts = %v", to)
	}
}
