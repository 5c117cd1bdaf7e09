package proxy

import (
	"fmt"
	"os"
	"path/filepath"
	"strings"
	"testing"
	"time"

	"github.com/google/go-cmp/cmp"
	"github.com/varde-lb/varde/core/testenv"
)

const setSrcConfig = `defaults
    mode http
    timeout connect 2s
    timeout client 10s
    timeout server 10s
    option forwardfor
    option originalto
frontend fe
    bind 127.0.0.1:{{PORT}}
    http-request set-src hdr(x-real-ip) if { req.hdr(x-real-ip) -m found }
    http-request set-src-port int(4242) if { path /port }
    http-request set-dst str(10.9.8.7) if { path /dst }
    http-request set-dst-port int(8081) if { path /dst }
    http-request deny deny_status 403 if { src 192.0.2.66 }
    http-request set-header X-Src %[src]
    http-request set-header X-Srcport %[src_port] if { path /port }
    http-request set-header X-Dst %[dst]:%[dst_port] if { path /dst }
    default_backend app
backend app
    option originalto header X-Orig except 10.0.0.0/8
    server s1 {{BACKEND}}
`

// TestSetSrcDifferentialHAProxy: what later rules, ACLs and
// X-Forwarded-For see after set-src/set-dst, on one keep-alive connection
// (the rewrite lasts one transaction), in HAProxy 2.6 and varde.
func TestSetSrcDifferentialHAProxy(t *testing.T) {
	haproxy := testenv.LookTool(t, "haproxy", "haproxy")
	b, _ := backend(t, "echo", echoXHeaders)
	reqs := [][]string{{
		"GET /a HTTP/1.1\r\nHost: h\r\nX-Real-IP: 192.0.2.9\r\n\r\n",
		"GET /b HTTP/1.1\r\nHost: h\r\n\r\n",
		"GET /port HTTP/1.1\r\nHost: h\r\n\r\n",
		"GET /dst HTTP/1.1\r\nHost: h\r\n\r\n",
		"GET /c HTTP/1.1\r\nHost: h\r\nX-Real-IP: not-an-address\r\n\r\n",
		"GET /d HTTP/1.1\r\nHost: h\r\nX-Real-IP: 2001:db8::1\r\n\r\n",
	}, {"GET /e HTTP/1.1\r\nHost: h\r\nX-Real-IP: 192.0.2.66\r\n\r\n"}}
	hport := testenv.FreePort(t)
	hcfg := filepath.Join(t.TempDir(), "haproxy.cfg")
	os.WriteFile(hcfg, []byte(renderVarsConfig(setSrcConfig, hport, hostport(b))), 0o644)
	testenv.Start(t, haproxy, "-db", "-f", hcfg)
	haddr := fmt.Sprintf("127.0.0.1:%d", hport)
	testenv.WaitTCP(t, haddr, 10*time.Second)
	hOut := varsExchange(t, haddr, reqs)

	vport := testenv.FreePort(t)
	startVardeText(t, renderVarsConfig(setSrcConfig, vport, hostport(b)), vport)
	vOut := varsExchange(t, fmt.Sprintf("127.0.0.1:%d", vport), reqs)
	if d := cmp.Diff(hOut, vOut); d != "" {
		t.Errorf("answers differ (-haproxy +varde)\n%s", d)
	}
	if len(vOut) != 7 || strings.Contains(vOut[3], "X-Orig") {
		t.Errorf("X-Original-To sent for a destination in the except network: %q", vOut[3])
	}
	if len(vOut) != 7 || !strings.Contains(vOut[1], "X-Src: 127.0.0.1") {
		t.Errorf("set-src outlived its transaction: %q", vOut)
	}
	all := strings.Join(vOut, "\n")
	for _, want := range []string{"X-Forwarded-For: 192.0.2.9\nX-Orig: 127.0.0.1\nX-Real-Ip: 192.0.2.9\nX-Src: 192.0.2.9", "X-Srcport: 4242", "X-Dst: 10.9.8.7:8081", "X-Src: 2001:db8::1", "403", "X-Orig: 127.0.0.1"} {
		if !strings.Contains(all, want) {
			t.Errorf("missing %q in:\n%s", want, all)
		}
	}
}
