package terratest

import (
	"os"
	"os/exec"
	"path/filepath"
	"regexp"
	"slices"
	"strings"
	"testing"

	"github.com/hashicorp/hcl/v2"
	"github.com/hashicorp/hcl/v2/hclsyntax"
)

// snippetContext declares what the tour's snippets refer to without
// declaring it themselves (the environment of the earlier sections, the
// variables holding DSNs and keys), keyed by the address a snippet uses.
var snippetContext = map[string]string{
	"var.registry_dsn":                          "variable \"registry_dsn\" {\n  type      = string\n  sensitive = true\n  ephemeral = true\n}\n",
	"var.prod_dsn":                              "variable \"prod_dsn\" {\n  type      = string\n  sensitive = true\n  ephemeral = true\n}\n",
	"var.staging_dsn":                           "variable \"staging_dsn\" {\n  type      = string\n  sensitive = true\n  ephemeral = true\n}\n",
	"var.masking_key":                           "variable \"masking_key\" {\n  type      = string\n  sensitive = true\n  ephemeral = true\n}\n",
	"var.credential_root_secret":                "variable \"credential_root_secret\" {\n  type      = string\n  sensitive = true\n  ephemeral = true\n}\n",
	"staging_environment.checkout":              "resource \"staging_environment\" \"checkout\" {\n  name = \"pay-checkout\"\n  team = staging_team.payments.name\n  ttl  = \"7d\"\n}\n",
	"staging_team.payments":                     "resource \"staging_team\" \"payments\" {\n  name = \"payments\"\n}\n",
	"staging_environment.feature":               "resource \"staging_environment\" \"feature\" {\n  name = \"pay-feature-x\"\n  team = staging_team.payments.name\n  ttl  = \"72h\"\n}\n",
	"data.staging_postgres_fingerprint.prod":    "data \"staging_postgres_fingerprint\" \"prod\" {\n  postgres = \"prod\"\n}\n",
	"data.staging_postgres_fingerprint.staging": "data \"staging_postgres_fingerprint\" \"staging\" {\n  postgres = \"staging\"\n}\n",
}

// gitModuleSource matches this repository's modules as a git source.
var gitModuleSource = regexp.MustCompile(`"git::https://github\.com/stagingkit/terraform-provider-staging\.git//modules/([a-z-]+)\?ref=[^"]*"`)

// TestSnippets_runAsWritten extracts every HCL snippet of README.md and of
// the modules' READMEs and checks that it is formatted and that Terraform
// validates it, with the provider built from this checkout; snippets that
// touch no database are planned as well. What a snippet refers to without
// declaring it comes from snippetContext; blocks of providers that cannot be
// installed here (aws_*) are left out; this repository's git module
// sources are pointed at the checkout.
func TestSnippets_runAsWritten(t *testing.T) {
	requireAcc(t)
	root := repoRoot(t)
	files := []string{filepath.Join(root, "README.md")}
	more, _ := filepath.Glob(filepath.Join(root, "modules", "*", "README.md"))
	files = append(files, more...)
	cfg := cliConfig(t)
	fence := regexp.MustCompile("(?s)```hcl\n(.*?)```")
	n := 0
	for _, f := range files {
		b, err := os.ReadFile(f)
		if err != nil {
			t.Fatal(err)
		}
		rel, _ := filepath.Rel(root, f)
		for i, m := range fence.FindAllStringSubmatch(string(b), -1) {
			n++
			t.Run(strings.ReplaceAll(rel, "/", "_")+"_"+string(rune('a'+i)), func(t *testing.T) {
				checkSnippet(t, root, cfg, m[1], true)
			})
		}
	}
	if n < 10 {
		t.Fatalf("found %d snippets; the extraction is broken", n)
	}
}

func checkSnippet(t *testing.T, root, cliCfg, src string, plan bool) {
	dir := t.TempDir()
	body := dropForeignBlocks(t, src)
	if gitModuleSource.MatchString(body) {
		if err := os.CopyFS(filepath.Join(dir, "modules"), os.DirFS(filepath.Join(root, "modules"))); err != nil {
			t.Fatal(err)
		}
		body = gitModuleSource.ReplaceAllString(body, `"./modules/$1"`)
	}
	if err := os.WriteFile(filepath.Join(dir, "snippet.tf"), []byte(body), 0o644); err != nil {
		t.Fatal(err)
	}
	declared, referenced := addresses(t, body)
	var ctx strings.Builder
	if !strings.Contains(body, "required_providers") {
		ctx.WriteString("terraform {\n  required_providers {\n    staging = { source = \"stagingkit/staging\" }\n  }\n}\n")
	}
	// Add what is referenced and not declared, and what that refers to.
	for added := true; added; {
		added = false
		for _, r := range slices.Sorted(func(yield func(string) bool) {
			for k := range referenced {
				if !yield(k) {
					return
				}
			}
		}) {
			if declared[r] {
				continue
			}
			c, ok := snippetContext[r]
			if !ok {
				continue
			}
			ctx.WriteString(c)
			declared[r] = true
			_, more := addresses(t, c)
			for k := range more {
				if !referenced[k] {
					referenced[k], added = true, true
				}
			}
		}
	}
	if err := os.WriteFile(filepath.Join(dir, "context.tf"), []byte(ctx.String()), 0o644); err != nil {
		t.Fatal(err)
	}
	env := append(os.Environ(), "TF_CLI_CONFIG_FILE="+cliCfg, "CHECKPOINT_DISABLE=1",
		"STAGING_REGISTRY="+filepath.Join(dir, "registry.db"), "STAGING_ACTOR=snippets@example.com")
	run := func(args ...string) {
		t.Helper()
		cmd := exec.Command("terraform", args...)
		cmd.Dir, cmd.Env = dir, env
		if out, err := cmd.CombinedOutput(); err != nil {
			t.Fatalf("terraform %s failed on the snippet:\n%s\n%s", strings.Join(args, " "), src, out)
		}
	}
	run("fmt", "-check", "-diff", "snippet.tf")
	run("init", "-input=false", "-backend=false")
	run("validate", "-no-color")
	if plan && !strings.Contains(body+ctx.String(), "postgres") && !strings.Contains(body, "module ") {
		run("plan", "-input=false", "-no-color", "-lock=false")
	}
}

// foreignPrefixes are the resource types of providers that cannot be
// installed here: snippets using them are checked without those blocks.
var foreignPrefixes = []string{"aws_", "local_"}

// dropForeignBlocks removes top-level blocks of providers that cannot be
// installed here (resource and data types in foreignPrefixes).
func dropForeignBlocks(t *testing.T, src string) string {
	t.Helper()
	f, diags := hclsyntax.ParseConfig([]byte(src), "snippet.tf", hcl.InitialPos)
	if diags.HasErrors() {
		t.Fatalf("snippet does not parse: %v\n%s", diags, src)
	}
	var out strings.Builder
	last := 0
	for _, b := range f.Body.(*hclsyntax.Body).Blocks {
		if (b.Type == "resource" || b.Type == "data") && slices.ContainsFunc(foreignPrefixes, func(p string) bool { return strings.HasPrefix(b.Labels[0], p) }) {
			r := b.Range()
			out.WriteString(src[last:r.Start.Byte])
			last = r.End.Byte
		}
	}
	out.WriteString(src[last:])
	return out.String()
}

// addresses returns the addresses src declares and those it refers to.
func addresses(t *testing.T, src string) (declared, referenced map[string]bool) {
	t.Helper()
	f, diags := hclsyntax.ParseConfig([]byte(src), "x.tf", hcl.InitialPos)
	if diags.HasErrors() {
		t.Fatalf("does not parse: %v\n%s", diags, src)
	}
	declared, referenced = map[string]bool{}, map[string]bool{}
	for _, b := range f.Body.(*hclsyntax.Body).Blocks {
		switch b.Type {
		case "variable":
			declared["var."+b.Labels[0]] = true
		case "resource":
			declared[b.Labels[0]+"."+b.Labels[1]] = true
		case "data", "ephemeral":
			declared[b.Type+"."+b.Labels[0]+"."+b.Labels[1]] = true
		}
	}
	_ = hclsyntax.VisitAll(f.Body.(*hclsyntax.Body), func(n hclsyntax.Node) hcl.Diagnostics {
		e, ok := n.(hclsyntax.Expression)
		if !ok {
			return nil
		}
		for _, tr := range e.Variables() {
			parts := []string{tr.RootName()}
			for _, step := range tr[1:] {
				if a, ok := step.(hcl.TraverseAttr); ok {
					parts = append(parts, a.Name)
				}
			}
			switch {
			case parts[0] == "var" && len(parts) > 1:
				referenced["var."+parts[1]] = true
			case (parts[0] == "data" || parts[0] == "ephemeral") && len(parts) > 2:
				referenced[strings.Join(parts[:3], ".")] = true
			case len(parts) > 1:
				referenced[parts[0]+"."+parts[1]] = true
			}
		}
		return nil
	})
	return declared, referenced
}

// TestSnippets_examplesValidate runs terraform validate in every directory
// of examples/ that docs/ is generated from, as the docs show them.
func TestSnippets_examplesValidate(t *testing.T) {
	requireAcc(t)
	root := repoRoot(t)
	cfg := cliConfig(t)
	var dirs []string
	_ = filepath.WalkDir(filepath.Join(root, "examples"), func(p string, d os.DirEntry, err error) error {
		if err == nil && d.IsDir() && d.Name() == ".terraform" {
			return filepath.SkipDir
		}
		if err == nil && !d.IsDir() && strings.HasSuffix(p, ".tf") && !slices.Contains(dirs, filepath.Dir(p)) {
			dirs = append(dirs, filepath.Dir(p))
		}
		return nil
	})
	if len(dirs) < 10 {
		t.Fatalf("found %d example directories", len(dirs))
	}
	for _, src := range dirs {
		rel, _ := filepath.Rel(root, src)
		if rel == filepath.Join("examples", "complete") {
			continue // refers to ../../modules; make modules-check validates it
		}
		t.Run(strings.ReplaceAll(rel, "/", "_"), func(t *testing.T) {
			t.Parallel()
			var all strings.Builder
			entries, _ := os.ReadDir(src)
			for _, e := range entries {
				if e.IsDir() || !strings.HasSuffix(e.Name(), ".tf") {
					continue
				}
				b, err := os.ReadFile(filepath.Join(src, e.Name()))
				if err != nil {
					t.Fatal(err)
				}
				all.Write(b)
				all.WriteString("\n")
			}
			checkSnippet(t, root, cfg, all.String(), false)
		})
	}
}
