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

// uniqueIDConfig: the id is read by a set-var rule before the request is
// forwarded (the fetch builds it then, with txn.v still "early"), sent in unique-id-header after the
// rules' headers, and read again in the response.
const uniqueIDConfig = `defaults
    mode http
    timeout connect 2s
    timeout client 10s
    timeout server 10s
frontend fe
    bind 127.0.0.1:{{PORT}}
    unique-id-format "%[path]:%[req.hdr(x-a)]:%[var(txn.v)]"
    unique-id-header X-Req-ID
    http-request set-var(txn.v) str(early) if { path /early }
    http-request set-var(txn.id) unique-id if { path /early }
    http-request set-header X-Uid %[var(txn.id)] if { path /early }
    http-request set-var(txn.v) str(late)
    http-response set-header X-Res %[unique-id]
    default_backend app
backend app
    server s1 {{BACKEND}}
`

func TestUniqueIDDifferentialHAProxy(t *testing.T) {
	haproxy := testenv.LookTool(t, "haproxy", "haproxy")
	b, _ := backend(t, "echo", echoXHeaders)
	reqs := [][]string{{"GET /early HTTP/1.1\r\nHost: h\r\nX-A: 1\r\n\r\n", "GET /plain HTTP/1.1\r\nHost: h\r\n\r\n"}}
	hport := testenv.FreePort(t)
	hcfg := filepath.Join(t.TempDir(), "haproxy.cfg")
	os.WriteFile(hcfg, []byte(renderVarsConfig(uniqueIDConfig, hport, hostport(b))), 0o644)
	testenv.Start(t, haproxy, "-db", "-f", hcfg)
	haddr := fmt.Sprintf("127.0.0.1:%d", hport)
	testenv.WaitTCP(t, haddr, 10*time.Second)
	hOut := varsExchange(t, haddr, reqs)

	vport := testenv.FreePort(t)
	startVardeText(t, renderVarsConfig(uniqueIDConfig, vport, hostport(b)), vport)
	vOut := varsExchange(t, fmt.Sprintf("127.0.0.1:%d", vport), reqs)
	if d := cmp.Diff(hOut, vOut); d != "" {
		t.Errorf("answers differ (-haproxy +varde)\n%s", d)
	}
	if len(vOut) != 2 || !strings.Contains(vOut[1], "X-Req-Id: /plain::late") || !strings.Contains(vOut[0], "X-Req-Id: /early:1:early") {
		t.Errorf("unexpected answers:\n%s", strings.Join(vOut, "\n"))
	}
}
