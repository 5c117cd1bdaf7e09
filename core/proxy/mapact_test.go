package proxy

import (
	"fmt"
	"io"
	"net/http"
	"net/http/httptest"
	"os"
	"path/filepath"
	"strings"
	"testing"
	"time"

	"github.com/varde-lb/varde/core/config"
	"github.com/varde-lb/varde/core/sample"
)

// The engine shares one list per file between the use_backend map, the
// ACL and the actions: set-map (request) and add-acl (response, from a
// header the server sends) change routing and filtering of later requests.
func TestMapActionsInEngine(t *testing.T) {
	srv := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		if b := r.Header.Get("X-Report"); b != "" {
			w.Header().Set("X-Abuser", b)
		}
		io.WriteString(w, "server")
	}))
	defer srv.Close()
	dir := t.TempDir()
	os.WriteFile(filepath.Join(dir, "hosts.map"), []byte("a.example.com be_a\n"), 0o644)
	os.WriteFile(filepath.Join(dir, "block.acl"), nil, 0o644)
	cfg := filepath.Join(dir, "v.cfg")
	os.WriteFile(cfg, []byte(fmt.Sprintf(`defaults
    mode http
    timeout connect 1s
    timeout client 5s
    timeout server 5s
frontend fe
    bind 127.0.0.1:1
    acl blocked req.hdr(host) -i -f %[1]s/block.acl
    http-request deny if blocked
    http-request set-map(%[1]s/hosts.map) %%[req.hdr(x-set-host)] %%[req.hdr(x-set-backend)] if { req.hdr(x-set-host) -m found }
    http-request del-map(%[1]s/hosts.map) %%[req.hdr(x-del-host)] if { req.hdr(x-del-host) -m found }
    http-response add-acl(%[1]s/block.acl) %%[res.hdr(x-abuser)] if { res.hdr(x-abuser) -m found }
    use_backend %%[req.hdr(host),lower,map(%[1]s/hosts.map,be_def)]
    default_backend be_def
backend be_a
    http-request return status 200 content-type text/plain string a
backend be_def
    http-request return status 200 content-type text/plain string def
backend be_srv
    server s1 %[2]s
`, dir, strings.TrimPrefix(srv.URL, "http://"))), 0o644)
	set, d := config.LoadFiles([]string{cfg}, nil)
	if d.HasErrors() {
		t.Fatal(d.Err())
	}
	refs := sample.NewPatRefs()
	pcfg, err := withPatRefs(refs, func() (*Config, error) { return FromConfig(set.HAProxy) })
	if err != nil {
		t.Fatal(err)
	}
	var addr string
	sample.WithPatRefs(refs, func() { _, addr = startEngine(t, pcfg) })
	get := func(host string, hdrs ...string) string {
		t.Helper()
		req, _ := http.NewRequest("GET", "http://"+addr+"/", nil)
		req.Host = host
		for _, h := range hdrs {
			k, v, _ := strings.Cut(h, ": ")
			req.Header.Set(k, v)
		}
		c := &http.Client{Timeout: 5 * time.Second, Transport: &http.Transport{DisableKeepAlives: true}}
		res, err := c.Do(req)
		if err != nil {
			t.Fatal(err)
		}
		defer res.Body.Close()
		b, _ := io.ReadAll(res.Body)
		if res.StatusCode != 200 {
			return res.Status
		}
		return string(b)
	}
	steps := []struct {
		host string
		hdrs []string
		want string
	}{
		{"a.example.com", nil, "a"},
		{"n.example.com", nil, "def"},
		{"x", []string{"X-Set-Host: n.example.com", "X-Set-Backend: be_srv"}, "def"},
		{"n.example.com", nil, "server"},
		{"N.Example.COM", []string{"X-Report: evil.example.com"}, "server"},
		{"EVIL.example.com", nil, "403 Forbidden"},
		{"x", []string{"X-Del-Host: n.example.com"}, "def"},
		{"n.example.com", nil, "def"},
	}
	for i, s := range steps {
		if got := get(s.host, s.hdrs...); got != s.want {
			t.Errorf("step %d Host %s %v: %q, want %q", i, s.host, s.hdrs, got, s.want)
		}
	}
	if got := refs.Lookup(dir + "/block.acl").Entries(); len(got) != 1 || got[0].Key != "evil.example.com" {
		t.Errorf("block.acl after add-acl: %+v", got)
	}
}
