package proxy

import (
	"os"
	"path/filepath"
	"testing"

	"github.com/varde-lb/varde/core/acl/acltest"
	"github.com/varde-lb/varde/core/config"
)

// A dynamic use_backend name resolves only to a backend of the frontend's
// mode: naming a tcp backend from an http frontend falls to
// default_backend, as an unknown name does.
func TestDynamicBackendKeepsMode(t *testing.T) {
	src := "defaults\n    timeout client 1s\n    timeout server 1s\n    timeout connect 1s\n" +
		"frontend fe\n    mode http\n    bind 127.0.0.1:1\n    use_backend be_%[req.hdr(x-be)]\n    default_backend app\n" +
		"backend app\n    mode http\n    server s1 127.0.0.1:2\n" +
		"backend be_web\n    mode http\n    server s1 127.0.0.1:3\n" +
		"backend be_raw\n    mode tcp\n    server s1 127.0.0.1:4\n"
	path := filepath.Join(t.TempDir(), "t.cfg")
	os.WriteFile(path, []byte(src), 0o644)
	set, d := config.LoadFiles([]string{path}, nil)
	if d.HasErrors() {
		t.Fatal(d.Err())
	}
	cfg, err := FromConfig(set.HAProxy)
	if err != nil {
		t.Fatal(err)
	}
	ch := cfg.Frontends[0].Chooser
	for be, want := range map[string]string{"web": "be_web", "raw": "app", "none": "app"} {
		if got, _ := ch.ChooseBackend(acltest.New("GET", "/", "X-Be: "+be)); got != want {
			t.Errorf("X-Be: %s: backend %q, want %q", be, got, want)
		}
	}
}
