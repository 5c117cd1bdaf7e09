package main

import (
	"fmt"
	"io"
	"log/slog"
	"os"
	"path/filepath"

	"github.com/varde-lb/varde/scripting/vectors"
)

func init() {
	register(&command{
		name:    "policy",
		summary: "run request vectors through a Lua/WASM policy and print pass/fail per vector (docs/policies.md)",
		usage:   "test FILE.lua|FILE.wasm VECTORS.json",
		run:     runPolicy,
	})
}

// runPolicy is `varde policy test FILE VECTORS`: exit 0 when every vector
// passes, 1 when one fails or the policy does not compile, 2 on usage.
func runPolicy(args []string, stdout, stderr io.Writer) int {
	c := commands["policy"]
	fs := newFlagSet(c, stdout, stderr)
	if code := parseFlags(fs, args, stdout); code >= 0 {
		return code
	}
	if fs.NArg() != 3 || fs.Arg(0) != "test" {
		fs.Usage()
		return 2
	}
	path, vecPath := fs.Arg(1), fs.Arg(2)
	data, err := os.ReadFile(vecPath)
	if err != nil {
		fmt.Fprintf(stderr, "varde policy test: %v\n", err)
		return 1
	}
	f, err := vectors.Parse(data)
	if err != nil {
		fmt.Fprintf(stderr, "varde policy test: %s: %v\n", vecPath, err)
		return 1
	}
	if abs, err := filepath.Abs(path); err == nil {
		path = abs
	}
	// Failures are printed per vector; the engine's rate-limited log
	// would only repeat them.
	prev := slog.Default()
	slog.SetDefault(slog.New(slog.DiscardHandler))
	defer slog.SetDefault(prev)
	results, err := vectors.Run(path, f)
	if err != nil {
		fmt.Fprintf(stderr, "varde policy test: %v\n", err)
		return 1
	}
	failed := 0
	for _, r := range results {
		if r.Pass {
			fmt.Fprintf(stdout, "PASS %s\n", r.Name)
			continue
		}
		failed++
		fmt.Fprintf(stdout, "FAIL %s\n", r.Name)
		for _, m := range r.Fails {
			fmt.Fprintf(stdout, "     %s\n", m)
		}
	}
	fmt.Fprintf(stdout, "%d passed, %d failed\n", len(results)-failed, failed)
	if failed > 0 {
		return 1
	}
	return 0
}
