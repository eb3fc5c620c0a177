package main

import (
	"os"
	"path/filepath"
	"strings"
	"testing"
)

const sampleModule = `
terraform {
  required_version = ">= 1.11"
  required_providers {
    staging = {
      source  = "stagingkit/staging"
      version = ">= 0.1.0, < 1.0.0"
    }
  }
}

variable "ttl" {
  description = "Lifetime | bounded."
  type        = string
  default     = "72h"
}

variable "name" {
  description = "The name."
  type        = string
}

variable "lease" {
  description = "A lease."
  type = object({
    duration = string
  })
  default = null
}

resource "staging_environment" "this" {
  name = var.name
}

data "staging_pii_scan" "prod" {
  postgres = "prod"
}

output "namespace" {
  description = "The namespace."
  value       = staging_environment.this.namespace
}
`

func writeModule(t *testing.T, readme string) string {
	t.Helper()
	root := t.TempDir()
	dir := filepath.Join(root, "env")
	if err := os.MkdirAll(dir, 0o755); err != nil {
		t.Fatal(err)
	}
	if err := os.WriteFile(filepath.Join(dir, "main.tf"), []byte(sampleModule), 0o644); err != nil {
		t.Fatal(err)
	}
	if err := os.WriteFile(filepath.Join(dir, "README.md"), []byte(readme), 0o644); err != nil {
		t.Fatal(err)
	}
	return root
}

func TestMarkdown_terraformDocsTable(t *testing.T) {
	m, err := Load(filepath.Join(writeModule(t, ""), "env"))
	if err != nil {
		t.Fatal(err)
	}
	md := m.Markdown()
	for _, want := range []string{
		"| <a name=\"requirement_terraform\"></a> [terraform](#requirement\\_terraform) | >= 1.11 |",
		"| <a name=\"requirement_staging\"></a> [staging](#requirement\\_staging) | >= 0.1.0, < 1.0.0 |",
		"| [staging_environment.this](https://registry.terraform.io/providers/stagingkit/staging/latest/docs/resources/environment) | resource |",
		"| [data.staging_pii_scan.prod](https://registry.terraform.io/providers/stagingkit/staging/latest/docs/data-sources/pii_scan) | data source |",
		"| <a name=\"input_name\"></a> [name](#input\\_name) | The name. | `string` | n/a | yes |",
		"| <a name=\"input_ttl\"></a> [ttl](#input\\_ttl) | Lifetime \\| bounded. | `string` | `\"72h\"` | no |",
		"<pre>object({<br/>    duration = string<br/>  })</pre> | `null` | no |",
		"| <a name=\"output_namespace\"></a> [namespace](#output\\_namespace) | The namespace. |",
	} {
		if !strings.Contains(md, want) {
			t.Errorf("table lacks %q:\n%s", want, md)
		}
	}
	// Required inputs come first.
	if strings.Index(md, "input_name") > strings.Index(md, "input_lease") {
		t.Errorf("required input name is not listed before optional ones:\n%s", md)
	}
}

func TestRun_writesThenChecks(t *testing.T) {
	root := writeModule(t, "# env\n\n"+Begin+"\nstale\n"+End+"\n")
	if err := run(root, true); err == nil || !strings.Contains(err.Error(), "out of date") {
		t.Fatalf("check on a stale table: %v, want out of date", err)
	}
	if err := run(root, false); err != nil {
		t.Fatal(err)
	}
	if err := run(root, true); err != nil {
		t.Fatalf("check after generating: %v", err)
	}
	b, _ := os.ReadFile(filepath.Join(root, "env", "README.md"))
	if !strings.HasPrefix(string(b), "# env\n\n"+Begin+"\n## Requirements") || !strings.HasSuffix(string(b), End+"\n") {
		t.Fatalf("README = %s", b)
	}
}

func TestInject_needsMarkers(t *testing.T) {
	if _, err := Inject("# no markers\n", "table"); err == nil {
		t.Fatal("a README without markers was accepted")
	}
	root := writeModule(t, "# env\n")
	if err := run(root, false); err == nil || !strings.Contains(err.Error(), "markers") {
		t.Fatalf("run on a README without markers: %v", err)
	}
}
