package main

import (
	"context"
	"fmt"
	"os"
	"os/exec"
	"path/filepath"
	"regexp"
	"slices"
	"strconv"
	"strings"
	"time"
)

// pgcopydbTool is the pgcopydb binary the bench runs, or why it does not.
type pgcopydbTool struct {
	path    string
	version string // "0.10", from pgcopydb --version
	skip    string // set when pgcopydb is not measured: one line saying why and how to install it
}

const pgcopydbInstall = "apt-get install -y pgcopydb"

// findPgcopydb finds pgcopydb on PATH or where Debian puts it
// (/usr/lib/postgresql/<version>/bin), installing the Debian package first
// when it is missing and the bench runs as root with apt-get.
func findPgcopydb(ctx context.Context) pgcopydbTool {
	if p := lookPgcopydb(); p != "" {
		return pgcopydbTool{path: p, version: pgcopydbVersion(ctx, p)}
	}
	if os.Geteuid() != 0 {
		return pgcopydbTool{skip: "pgcopydb is not installed and the bench is not running as root to install it: skipped (install it with: sudo " + pgcopydbInstall + ")"}
	}
	if _, err := exec.LookPath("apt-get"); err != nil {
		return pgcopydbTool{skip: "pgcopydb is not installed and there is no apt-get to install it: skipped (install pgcopydb 0.10 or newer, https://github.com/dimitri/pgcopydb, on PATH)"}
	}
	fmt.Fprintln(os.Stderr, "pgcopydb is not installed: "+pgcopydbInstall)
	ctx, cancel := context.WithTimeout(ctx, 10*time.Minute)
	defer cancel()
	out, err := aptGet(ctx, "install", "-y", "pgcopydb")
	if err != nil {
		// The package lists may be missing or stale.
		if _, uerr := aptGet(ctx, "update"); uerr == nil {
			out, err = aptGet(ctx, "install", "-y", "pgcopydb")
		}
	}
	if err != nil {
		return pgcopydbTool{skip: fmt.Sprintf("pgcopydb is not installed and %s failed (%v: %s): skipped (install it with: apt-get update && %s)",
			pgcopydbInstall, err, tail(strings.TrimSpace(string(out)), 1), pgcopydbInstall)}
	}
	if p := lookPgcopydb(); p != "" {
		return pgcopydbTool{path: p, version: pgcopydbVersion(ctx, p)}
	}
	return pgcopydbTool{skip: "pgcopydb was installed but its binary is neither on PATH nor in /usr/lib/postgresql/*/bin: skipped"}
}

func aptGet(ctx context.Context, args ...string) ([]byte, error) {
	cmd := exec.CommandContext(ctx, "apt-get", args...)
	cmd.Env = append(os.Environ(), "DEBIAN_FRONTEND=noninteractive")
	return cmd.CombinedOutput()
}

// lookPgcopydb returns pgcopydb's path on PATH or in the newest
// /usr/lib/postgresql/*/bin, or "".
func lookPgcopydb() string {
	if p, err := exec.LookPath("pgcopydb"); err == nil {
		return p
	}
	matches, _ := filepath.Glob("/usr/lib/postgresql/*/bin/pgcopydb")
	slices.SortFunc(matches, func(a, b string) int { return versionOfDir(b) - versionOfDir(a) })
	if len(matches) > 0 {
		return matches[0]
	}
	return ""
}

// versionOfDir is the major version in /usr/lib/postgresql/<version>/bin/x.
func versionOfDir(path string) int {
	v, _ := strconv.Atoi(filepath.Base(filepath.Dir(filepath.Dir(path))))
	return v
}

var versionRE = regexp.MustCompile(`\d+\.\d+(\.\d+)?`)

func pgcopydbVersion(ctx context.Context, path string) string {
	out, _ := exec.CommandContext(ctx, path, "--version").CombinedOutput()
	for _, line := range strings.Split(string(out), "\n") {
		if strings.Contains(line, "pgcopydb") {
			if v := versionRE.FindString(line); v != "" {
				return v
			}
		}
	}
	return "?"
}
