package logpipe

import (
	"context"
	"io"
	"log/slog"
	"os"
	"path/filepath"
	"testing"

	"github.com/varde-lb/varde/core/config"
	"github.com/varde-lb/varde/core/diag"
	"github.com/varde-lb/varde/core/generation"
	"github.com/varde-lb/varde/core/sample"
)

// A log-format is compiled once, at Prepare, in the generation's map set:
// its map converter is one user of the file, and starting the pipeline
// adds no other (a user nobody reads would be rebuilt on every change).
func TestLogFormatMapCompiledOnce(t *testing.T) {
	dir := t.TempDir()
	hosts := filepath.Join(dir, "hosts.map")
	if err := os.WriteFile(hosts, []byte("a be_a\n"), 0o644); err != nil {
		t.Fatal(err)
	}
	src := "global\n  log stdout format raw local0\ndefaults\n  mode http\n  log global\n" +
		"frontend f\n  bind 127.0.0.1:1\n  log-format \"%[str(a),map(" + hosts + ",-)]\"\n  default_backend b\n" +
		"backend b\n  server s 127.0.0.1:1\n"
	d := &diag.List{}
	c := config.Parse("h.cfg", []byte(src), os.Getenv, d)
	if d.HasErrors() {
		t.Fatal(d)
	}
	g := &generation.Generation{Set: &config.Set{HAProxy: c},
		Opts: generation.Options{Logger: slog.New(slog.DiscardHandler), Stdout: io.Discard, Stderr: io.Discard}}
	refs := sample.NewPatRefs()
	var pt generation.Part
	sample.WithPatRefs(refs, func() { pt = prepare(g, d) })
	if pt == nil || d.HasErrors() {
		t.Fatalf("prepare: %v", d)
	}
	r := refs.Lookup(hosts)
	if r == nil {
		t.Fatal("the log-format's map is not in the generation's set")
	}
	if err := pt.Start(context.Background()); err != nil {
		t.Fatal(err)
	}
	defer pt.Stop(context.Background())
	if n := len(r.Users()); n != 1 {
		t.Errorf("%d users of %s after Start, want 1 (the log-format, compiled once)", n, hosts)
	}
}
