package main

import (
	"errors"
	"fmt"
	"os"
	"path/filepath"
	"sort"
	"strings"

	"github.com/hashicorp/hcl/v2"
	"github.com/hashicorp/hcl/v2/hclsyntax"
	"github.com/zclconf/go-cty/cty"
)

// The markers terraform-docs uses; the table goes between them.
const (
	Begin = "<!-- BEGIN_TF_DOCS -->"
	End   = "<!-- END_TF_DOCS -->"
)

// Module is what the table shows of one module.
type Module struct {
	Requirements []Requirement
	Resources    []Resource
	Modules      []Call
	Inputs       []Input
	Outputs      []Output
}

// Requirement is the Terraform version or a provider's version constraint.
type Requirement struct{ Name, Version string }

// Resource is a managed resource, data source or ephemeral resource.
type Resource struct{ Mode, Type, Name string }

// Call is a module call.
type Call struct{ Name, Source string }

// Input is a variable: Default is its HCL source, "" when required.
type Input struct {
	Name, Description, Type, Default string
	Required                         bool
}

// Output is an output value.
type Output struct{ Name, Description string }

// Load reads every .tf file of dir (not of subdirectories).
func Load(dir string) (*Module, error) {
	files, err := filepath.Glob(filepath.Join(dir, "*.tf"))
	if err != nil {
		return nil, err
	}
	if len(files) == 0 {
		return nil, fmt.Errorf("%s: no .tf files", dir)
	}
	sort.Strings(files)
	m := &Module{}
	for _, f := range files {
		src, err := os.ReadFile(f)
		if err != nil {
			return nil, err
		}
		if err := m.add(f, src); err != nil {
			return nil, err
		}
	}
	sort.Slice(m.Inputs, func(i, j int) bool {
		// terraform-docs lists required inputs first, each group by name.
		if m.Inputs[i].Required != m.Inputs[j].Required {
			return m.Inputs[i].Required
		}
		return m.Inputs[i].Name < m.Inputs[j].Name
	})
	sort.Slice(m.Outputs, func(i, j int) bool { return m.Outputs[i].Name < m.Outputs[j].Name })
	sort.Slice(m.Resources, func(i, j int) bool {
		a, b := m.Resources[i], m.Resources[j]
		return a.Type+"."+a.Name < b.Type+"."+b.Name
	})
	sort.Slice(m.Modules, func(i, j int) bool { return m.Modules[i].Name < m.Modules[j].Name })
	return m, nil
}

func (m *Module) add(filename string, src []byte) error {
	f, diags := hclsyntax.ParseConfig(src, filename, hcl.InitialPos)
	if diags.HasErrors() {
		return errors.New(diags.Error())
	}
	body := f.Body.(*hclsyntax.Body)
	text := func(e hclsyntax.Expression) string {
		r := e.Range()
		return string(src[r.Start.Byte:r.End.Byte])
	}
	str := func(b *hclsyntax.Body, name string) string {
		a, ok := b.Attributes[name]
		if !ok {
			return ""
		}
		v, d := a.Expr.Value(nil)
		if d.HasErrors() || v.Type() != cty.String || v.IsNull() {
			return text(a.Expr)
		}
		return v.AsString()
	}
	for _, b := range body.Blocks {
		switch b.Type {
		case "terraform":
			if v := str(b.Body, "required_version"); v != "" {
				m.Requirements = append(m.Requirements, Requirement{"terraform", v})
			}
			for _, rp := range b.Body.Blocks {
				if rp.Type != "required_providers" {
					continue
				}
				names := make([]string, 0, len(rp.Body.Attributes))
				for n := range rp.Body.Attributes {
					names = append(names, n)
				}
				sort.Strings(names)
				for _, n := range names {
					v, d := rp.Body.Attributes[n].Expr.Value(nil)
					version := ""
					if !d.HasErrors() && v.Type().IsObjectType() && v.Type().HasAttribute("version") {
						version = v.GetAttr("version").AsString()
					}
					m.Requirements = append(m.Requirements, Requirement{n, version})
				}
			}
		case "variable":
			in := Input{Name: b.Labels[0], Description: str(b.Body, "description"), Type: "any", Required: true}
			if a, ok := b.Body.Attributes["type"]; ok {
				in.Type = text(a.Expr)
			}
			if a, ok := b.Body.Attributes["default"]; ok {
				in.Default, in.Required = text(a.Expr), false
			}
			m.Inputs = append(m.Inputs, in)
		case "output":
			m.Outputs = append(m.Outputs, Output{Name: b.Labels[0], Description: str(b.Body, "description")})
		case "resource", "data", "ephemeral":
			m.Resources = append(m.Resources, Resource{Mode: b.Type, Type: b.Labels[0], Name: b.Labels[1]})
		case "module":
			m.Modules = append(m.Modules, Call{Name: b.Labels[0], Source: str(b.Body, "source")})
		}
	}
	return nil
}

// Markdown renders the tables the way terraform-docs' "markdown table"
// formatter does.
func (m *Module) Markdown() string {
	var b strings.Builder
	b.WriteString("## Requirements\n\n")
	if len(m.Requirements) == 0 {
		b.WriteString("No requirements.\n")
	} else {
		b.WriteString("| Name | Version |\n|------|---------|\n")
		for _, r := range m.Requirements {
			fmt.Fprintf(&b, "| <a name=\"requirement_%s\"></a> [%s](#requirement\\_%s) | %s |\n", r.Name, r.Name, escapeName(r.Name), cell(r.Version))
		}
	}
	b.WriteString("\n## Modules\n\n")
	if len(m.Modules) == 0 {
		b.WriteString("No modules.\n")
	} else {
		b.WriteString("| Name | Source | Version |\n|------|--------|---------|\n")
		for _, c := range m.Modules {
			fmt.Fprintf(&b, "| <a name=\"module_%s\"></a> [%s](#module\\_%s) | %s | n/a |\n", c.Name, c.Name, escapeName(c.Name), c.Source)
		}
	}
	b.WriteString("\n## Resources\n\n")
	if len(m.Resources) == 0 {
		b.WriteString("No resources.\n")
	} else {
		b.WriteString("| Name | Type |\n|------|------|\n")
		for _, r := range m.Resources {
			kind, dir, prefix := "resource", "resources", ""
			switch r.Mode {
			case "data":
				kind, dir, prefix = "data source", "data-sources", "data."
			case "ephemeral":
				kind, dir, prefix = "ephemeral resource", "ephemeral-resources", "ephemeral."
			}
			fmt.Fprintf(&b, "| [%s%s.%s](https://registry.terraform.io/providers/stagingkit/staging/latest/docs/%s/%s) | %s |\n",
				prefix, r.Type, r.Name, dir, strings.TrimPrefix(r.Type, "staging_"), kind)
		}
	}
	b.WriteString("\n## Inputs\n\n")
	if len(m.Inputs) == 0 {
		b.WriteString("No inputs.\n")
	} else {
		b.WriteString("| Name | Description | Type | Default | Required |\n|------|-------------|------|---------|:--------:|\n")
		for _, in := range m.Inputs {
			def, req := "n/a", "yes"
			if !in.Required {
				def, req = code(in.Default), "no"
			}
			fmt.Fprintf(&b, "| <a name=\"input_%s\"></a> [%s](#input\\_%s) | %s | %s | %s | %s |\n",
				in.Name, in.Name, escapeName(in.Name), cell(in.Description), code(in.Type), def, req)
		}
	}
	b.WriteString("\n## Outputs\n\n")
	if len(m.Outputs) == 0 {
		b.WriteString("No outputs.\n")
	} else {
		b.WriteString("| Name | Description |\n|------|-------------|\n")
		for _, o := range m.Outputs {
			fmt.Fprintf(&b, "| <a name=\"output_%s\"></a> [%s](#output\\_%s) | %s |\n", o.Name, o.Name, escapeName(o.Name), cell(o.Description))
		}
	}
	return b.String()
}

// Inject replaces what is between the markers of readme with table.
func Inject(readme, table string) (string, error) {
	i := strings.Index(readme, Begin)
	j := strings.Index(readme, End)
	if i < 0 || j < i {
		return "", fmt.Errorf("no %s … %s markers: add them where the inputs and outputs table goes", Begin, End)
	}
	return readme[:i+len(Begin)] + "\n" + table + readme[j:], nil
}

// escapeName escapes underscores in anchors' link text, as terraform-docs does.
func escapeName(s string) string { return strings.ReplaceAll(s, "_", "\\_") }

// cell makes text fit one table cell.
func cell(s string) string {
	s = strings.TrimSpace(s)
	s = strings.ReplaceAll(s, "|", "\\|")
	return strings.ReplaceAll(s, "\n", "<br/>")
}

// code renders an HCL type or default: inline code on one line, a <pre>
// block with <br/> line breaks when it spans several.
func code(s string) string {
	s = strings.TrimSpace(s)
	if !strings.Contains(s, "\n") {
		return "`" + strings.ReplaceAll(s, "|", "\\|") + "`"
	}
	lines := strings.Split(s, "\n")
	for i, l := range lines {
		l = strings.ReplaceAll(l, "|", "\\|")
		l = strings.ReplaceAll(l, "<", "&lt;")
		lines[i] = strings.ReplaceAll(l, ">", "&gt;")
	}
	return "<pre>" + strings.Join(lines, "<br/>") + "</pre>"
}
