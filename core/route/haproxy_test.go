package route

import (
	"bufio"
	"fmt"
	"net"
	"net/http"
	"os"
	"os/exec"
	"path/filepath"
	"strings"
	"testing"
	"time"

	"github.com/varde-lb/varde/core/acl"
	"github.com/varde-lb/varde/core/acl/acltest"
	"github.com/varde-lb/varde/core/testenv"
)

// frontendRules is the routing part of one frontend, read both by HAProxy
// and by this test (acl and use_backend lines split on spaces).
const frontendRules = `
  acl is_api path_beg /api
  acl is_static path_end .css .js
  acl is_static path_beg -i /static
  acl host_admin hdr(host) -i admin.example.com
  acl has_uid url_param(uid) -m found
  acl lan src 127.0.0.0/8
  acl post method POST
  acl beta cook(beta) 1
  acl many_xff hdr_cnt(x-forwarded-for) gt 1
  use_backend b_admin if host_admin lan
  use_backend b_api if is_api !post || { hdr_beg(host) -i api. }
  use_backend b_static if is_static
  use_backend b_uid if has_uid
  use_backend b_beta if beta METH_GET
  use_backend b_reg if { path_reg ^/v[0-9]+/items$ }
  use_backend b_dom if { hdr_dom(host) -i example.org }
  use_backend b_xff if many_xff || { url_sub -i DEBUG }
  use_backend b_not unless { path_beg / }
  default_backend b_default
`

type probe struct {
	method, uri string
	headers     []string
}

func probes() []probe {
	var ps []probe
	hosts := []string{"www.example.com", "admin.example.com", "ADMIN.example.com", "api.example.net", "shop.example.org", "example.org:8080", "notexample.org"}
	paths := []string{"/", "/api/v1", "/API/v1", "/static/a.png", "/Static/x", "/app.js", "/x.css?y", "/cart?uid=7", "/cart?xuid=7", "/v2/items", "/v2/items/1", "/debug?mode=x", "/?q=Debug", "*"}
	for i, h := range hosts {
		for j, p := range paths {
			m := "GET"
			if (i+j)%4 == 0 {
				m = "POST"
			}
			hdrs := []string{"Host: " + h}
			if (i*j)%5 == 1 {
				hdrs = append(hdrs, "Cookie: a=b; beta=1")
			}
			if (i+j)%6 == 2 {
				hdrs = append(hdrs, "X-Forwarded-For: 10.0.0.1, 10.0.0.2")
			}
			if p == "*" {
				m = "OPTIONS"
			}
			ps = append(ps, probe{method: m, uri: p, headers: hdrs})
		}
	}
	return ps
}

// TestSameBackendAsHAProxy sends the same requests through HAProxy, through
// the compiled rules and through the varde binary, and compares the
// backend chosen.
func TestSameBackendAsHAProxy(t *testing.T) {
	if testing.Short() {
		t.Skip("starts haproxy and varde")
	}
	haproxy := testenv.LookTool(t, "haproxy", "haproxy")

	set := acl.NewSet()
	var specs []RuleSpec
	def := ""
	backends := map[string]bool{}
	for _, line := range strings.Split(frontendRules, "\n") {
		w := strings.Fields(line)
		switch {
		case len(w) == 0:
		case w[0] == "acl":
			if err := set.Add(w[1], w[2:]); err != nil {
				t.Fatal(err)
			}
		case w[0] == "use_backend":
			specs = append(specs, RuleSpec{Backend: w[1], Cond: w[2:]})
			backends[w[1]] = true
		case w[0] == "default_backend":
			def = w[1]
			backends[w[1]] = true
		}
	}
	chooser, err := Compile(specs, def, set.Lookup, func(b string) bool { return backends[b] })
	if err != nil {
		t.Fatal(err)
	}

	// The token proves answers come from our processes, not from whatever
	// else may have grabbed a port in the meantime.
	token := fmt.Sprintf("route-%d", os.Getpid())
	servers := map[string]string{}
	for b := range backends {
		servers[b] = namedServer(t, b)
	}
	writeCfg := func(port int) string {
		var cfg strings.Builder
		fmt.Fprintf(&cfg, "global\n  nbthread 1\ndefaults\n  mode http\n  timeout connect 2s\n  timeout client 5s\n  timeout server 5s\n")
		fmt.Fprintf(&cfg, "frontend f\n  bind 127.0.0.1:%d\n  http-response set-header X-Token %s\n%s\n", port, token, frontendRules)
		for b, addr := range servers {
			fmt.Fprintf(&cfg, "backend %s\n  server s %s\n", b, addr)
		}
		path := filepath.Join(t.TempDir(), "haproxy.cfg")
		if err := os.WriteFile(path, []byte(cfg.String()), 0o644); err != nil {
			t.Fatal(err)
		}
		return path
	}
	ports := testenv.FreePorts(t, 2)
	hPort, vPort := ports[0], ports[1]
	hCfg := writeCfg(hPort)
	if out, err := exec.Command(haproxy, "-c", "-f", hCfg).CombinedOutput(); err != nil {
		t.Fatalf("haproxy -c: %v\n%s", err, out)
	}
	_, hLog := testenv.Start(t, haproxy, "-f", hCfg, "-db")
	// The same configuration under the varde binary: the engine's request
	// view and rule evaluation must route like HAProxy too.
	_, vLog := testenv.Start(t, testenv.VardeBinary(t), "run", "-f", writeCfg(vPort))
	testenv.WaitListening(t, "haproxy", hLog, hPort)
	testenv.WaitListening(t, "varde", vLog, vPort)

	seen := map[string]int{}
	for _, p := range probes() {
		actual, err := sendProbe(hPort, token, p)
		if err != nil {
			t.Fatalf("haproxy: %+v: %v", p, err)
		}
		req := acltest.New(p.method, p.uri, p.headers...).WithSrc("127.0.0.1:40000")
		want, _ := chooser.ChooseBackend(req)
		if want != actual {
			t.Errorf("%s %s %q: HAProxy chose %s, core/route %s", p.method, p.uri, p.headers, actual, want)
		}
		engine, err := sendProbe(vPort, token, p)
		if err != nil {
			logs, _ := os.ReadFile(vLog)
			t.Fatalf("varde: %+v: %v\n%s", p, err, logs)
		}
		if engine != actual {
			t.Errorf("%s %s %q: HAProxy chose %s, the varde binary %s", p.method, p.uri, p.headers, actual, engine)
		}
		seen[actual]++
	}
	// The probes must exercise most rules, or the comparison proves little.
	if len(seen) < len(backends)-1 {
		t.Errorf("probes reached only %v", seen)
	}
}

func namedServer(t *testing.T, name string) string {
	l, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	srv := &http.Server{Handler: http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		w.Header().Set("X-Backend", name)
	}), ReadHeaderTimeout: 5 * time.Second, DisableGeneralOptionsHandler: true}
	go srv.Serve(l)
	t.Cleanup(func() { srv.Close() })
	return l.Addr().String()
}

func sendProbe(port int, token string, p probe) (string, error) {
	conn, err := net.DialTimeout("tcp", fmt.Sprintf("127.0.0.1:%d", port), 3*time.Second)
	if err != nil {
		return "", err
	}
	defer conn.Close()
	conn.SetDeadline(time.Now().Add(5 * time.Second))
	var b strings.Builder
	fmt.Fprintf(&b, "%s %s HTTP/1.1\r\n", p.method, p.uri)
	for _, h := range p.headers {
		b.WriteString(h + "\r\n")
	}
	if p.method == "POST" {
		b.WriteString("Content-Length: 0\r\n")
	}
	b.WriteString("Connection: close\r\n\r\n")
	if _, err := conn.Write([]byte(b.String())); err != nil {
		return "", err
	}
	resp, err := http.ReadResponse(bufio.NewReader(conn), nil)
	if err != nil {
		return "", err
	}
	resp.Body.Close()
	if resp.StatusCode != 200 || resp.Header.Get("X-Token") != token {
		return "", fmt.Errorf("status %d, token %q: not our haproxy", resp.StatusCode, resp.Header.Get("X-Token"))
	}
	return resp.Header.Get("X-Backend"), nil
}
