// Command moduledocs writes the inputs and outputs table of every module
// under a directory into the module's README.md, between
// <!-- BEGIN_TF_DOCS --> and <!-- END_TF_DOCS -->, in the format
// terraform-docs' markdown table renderer uses (requirements, resources,
// inputs, outputs), read from the module's .tf files with hashicorp/hcl.
//
// Usage (from the repository root; make generate and make test run it):
//
//	go run ./internal/moduledocs modules          rewrite the tables
//	go run ./internal/moduledocs -check modules   fail when a table is stale
package main

import (
	"flag"
	"fmt"
	"os"
	"path/filepath"
	"sort"
)

func main() {
	check := flag.Bool("check", false, "fail instead of writing when a README's table is out of date")
	flag.Parse()
	root := "modules"
	if flag.NArg() > 0 {
		root = flag.Arg(0)
	}
	if err := run(root, *check); err != nil {
		fmt.Fprintln(os.Stderr, "moduledocs:", err)
		os.Exit(1)
	}
}

func run(root string, check bool) error {
	entries, err := os.ReadDir(root)
	if err != nil {
		return err
	}
	var stale []string
	names := make([]string, 0, len(entries))
	for _, e := range entries {
		if e.IsDir() {
			names = append(names, e.Name())
		}
	}
	sort.Strings(names)
	for _, name := range names {
		dir := filepath.Join(root, name)
		m, err := Load(dir)
		if err != nil {
			return err
		}
		readmePath := filepath.Join(dir, "README.md")
		old, err := os.ReadFile(readmePath)
		if err != nil {
			return fmt.Errorf("%s: every module needs a README.md with %s and %s markers: %w", dir, Begin, End, err)
		}
		updated, err := Inject(string(old), m.Markdown())
		if err != nil {
			return fmt.Errorf("%s: %w", readmePath, err)
		}
		if updated == string(old) {
			continue
		}
		if check {
			stale = append(stale, readmePath)
			continue
		}
		if err := os.WriteFile(readmePath, []byte(updated), 0o644); err != nil {
			return err
		}
		fmt.Println("moduledocs: updated", readmePath)
	}
	if len(stale) > 0 {
		return fmt.Errorf("out of date: %v; run make generate and commit the result", stale)
	}
	return nil
}
