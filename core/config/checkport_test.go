package config

import (
	"errors"
	"os"
	"os/exec"
	"path/filepath"
	"testing"

	"github.com/varde-lb/varde/core/testenv"
)

// TestCheckPortFromTCPCheckConnect: a server without a port may be checked
// when the tcp-check rules start with `connect port N` (the Kubernetes API
// load balancer's usual form), and not otherwise; haproxy -c agrees.
func TestCheckPortFromTCPCheckConnect(t *testing.T) {
	const head = "defaults\n mode tcp\n timeout client 1s\n timeout server 1s\n timeout connect 1s\n" +
		"frontend f\n bind 127.0.0.1:9999\n default_backend b\nbackend b\n option tcp-check\n"
	rows := []struct {
		name, rules string
		ok          bool
	}{
		{"first rule connects to a port", " tcp-check connect port 6443\n", true},
		{"connect without a port", " tcp-check connect\n", false},
		{"no rules", "", false},
	}
	haproxy := ""
	if !testing.Short() {
		haproxy = testenv.LookTool(t, "haproxy", "haproxy")
	}
	for _, r := range rows {
		t.Run(r.name, func(t *testing.T) {
			src := head + r.rules + " server s 172.16.0.1 check\n"
			_, d := load(t, src)
			if got := len(errorsOf(d)) == 0; got != r.ok {
				t.Errorf("varde accepted=%v, want %v: %v", got, r.ok, d.Items())
			}
			if haproxy == "" {
				return
			}
			p := filepath.Join(t.TempDir(), "h.cfg")
			os.WriteFile(p, []byte(src), 0o644)
			err := exec.Command(haproxy, "-c", "-f", p).Run()
			var ee *exec.ExitError
			if err != nil && !errors.As(err, &ee) {
				t.Fatal(err)
			}
			if got := err == nil; got != r.ok {
				t.Errorf("haproxy -c accepted=%v, want %v", got, r.ok)
			}
		})
	}
}
