package proxy

import (
	"os"
	"path/filepath"
	"strings"
	"testing"

	"github.com/varde-lb/varde/core/config"
	"github.com/varde-lb/varde/core/diag"
)

// policyConfig prepares an engine configuration from cfg with Lua files
// beside it (the Lua engine is linked in through plugins/all, never
// imported by this package).
func policyConfig(t *testing.T, cfg string, files map[string]string) (*Config, string) {
	t.Helper()
	dir := t.TempDir()
	for name, src := range files {
		os.WriteFile(filepath.Join(dir, name), []byte(src), 0o644)
	}
	path := filepath.Join(dir, "h.cfg")
	os.WriteFile(path, []byte(cfg), 0o644)
	set, d := config.LoadFiles([]string{path}, nil)
	if d.HasErrors() {
		t.Fatalf("parse: %v", d.Items())
	}
	var pd diag.List
	out, ok := engineConfig(set.HAProxy, &pd)
	var msgs []string
	for _, it := range pd.Items() {
		msgs = append(msgs, it.String())
	}
	if !ok {
		return nil, strings.Join(msgs, "\n")
	}
	t.Cleanup(func() {
		for _, p := range out.Policies {
			p.Policy.Close()
		}
	})
	return out, ""
}

const policyDefaults = "defaults\n    mode http\n    timeout connect 1s\n    timeout client 1s\n    timeout server 1s\n"

func TestPoliciesPluggedIn(t *testing.T) {
	out, errs := policyConfig(t, policyDefaults+`frontend fe
    bind 127.0.0.1:8
    policy route.lua
    default_backend app
backend app
    balance roundrobin
    policy pick.lua fallback leastconn
    policy more.lua
    server a 127.0.0.1:1
listen both
    bind 127.0.0.1:9
    policy both.lua
    server b 127.0.0.1:1
`, map[string]string{
		"route.lua": "function choose_backend(req) return nil end",
		"pick.lua":  "function choose_server(req, s) return nil end",
		"more.lua":  "function sticky_key(req) return nil end\nfunction health(s, r) return nil end",
		"both.lua":  "function choose_backend(req) return nil end\nfunction choose_server(req, s) return nil end",
	})
	if errs != "" {
		t.Fatal(errs)
	}
	app, both := out.Backends[0], out.Backends[1]
	if app.ServerPolicy == nil || app.Sticky == nil || app.HealthJudge == nil || app.Balance.Algorithm != "leastconn" {
		t.Errorf("app: %+v", app)
	}
	if both.ServerPolicy == nil || out.Frontends[0].Policy == nil || out.Frontends[1].Policy == nil {
		t.Error("a policy was not plugged in")
	}
	if len(out.Policies) != 4 {
		t.Errorf("%d policies compiled, want 4 (a listen's once)", len(out.Policies))
	}
}

func TestPolicyRefusals(t *testing.T) {
	for _, tc := range []struct {
		name, cfg, want string
		files           map[string]string
	}{
		{"fallback without choose_server", "backend b\n    policy h.lua fallback leastconn\n    server a 127.0.0.1:1\n",
			"h.cfg:10: error: policy: h.lua has `fallback leastconn` but defines no choose_server",
			map[string]string{"h.lua": "function health(s, r) return nil end"}},
		{"choose_server in a frontend", "frontend f\n    bind 127.0.0.1:8\n    policy p.lua\n    default_backend b\nbackend b\n    server a 127.0.0.1:1\n",
			"h.cfg:8: error: policy: p.lua defines choose_server, which only a backend or listen asks",
			map[string]string{"p.lua": "function choose_server(req, s) return nil end"}},
		{"runtime error at load", "backend b\n    policy p.lua\n    server a 127.0.0.1:1\n",
			"h.cfg:10: error: policy: p.lua:2: boom",
			map[string]string{"p.lua": "function health(s, r) end\nerror('boom')"}},
	} {
		t.Run(tc.name, func(t *testing.T) {
			cfg := policyDefaults + "frontend x\n    bind 127.0.0.1:8\n    default_backend b\n"
			if strings.HasPrefix(tc.cfg, "frontend") {
				cfg = policyDefaults
			}
			_, errs := policyConfig(t, cfg+tc.cfg, tc.files)
			if !strings.Contains(errs, strings.TrimPrefix(tc.want, "h.cfg")) {
				t.Errorf("errors:\n%s\nwant %s", errs, tc.want)
			}
		})
	}
}
