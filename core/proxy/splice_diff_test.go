package proxy

import (
	"bufio"
	"bytes"
	"crypto/sha256"
	"encoding/hex"
	"fmt"
	"io"
	"net"
	"net/http"
	"os"
	"path/filepath"
	"strings"
	"testing"
	"time"

	"github.com/google/go-cmp/cmp"
	"github.com/varde-lb/varde/core/config"
	"github.com/varde-lb/varde/core/testenv"
)

// spliceDiffConfig runs the splice keywords; {{EXTRA}} is a global line.
const spliceDiffConfig = `global
    maxconn 100
{{EXTRA}}
defaults
    mode http
    timeout connect 2s
    timeout client 10s
    timeout server 10s
    option splice-auto

frontend web
    bind 127.0.0.1:{{PORT}}
    {{FRONT}}
    default_backend app

backend app
    {{BACK}}
    server s1 {{S1}}
`

// TestDifferentialSplice runs the same haproxy.cfg with option
// splice-auto/-request/-response (and their negations, and global
// nosplice) through HAProxy 2.6 and varde, and compares what the client
// receives for large Content-Length and chunked bodies both ways,
// pipelined on one connection: status, framing, and the body's digest.
func TestDifferentialSplice(t *testing.T) {
	testenv.LookTool(t, "haproxy", "haproxy") // skip early without HAProxy
	backendAddr := spliceBackend(t)
	upload := bodyOf(2<<20 + 9)
	var w bytes.Buffer
	fmt.Fprintf(&w, "POST /sum HTTP/1.1\r\nHost: t\r\nContent-Length: %d\r\n\r\n", len(upload))
	w.Write(upload)
	fmt.Fprintf(&w, "GET /big?n=%d HTTP/1.1\r\nHost: t\r\n\r\n", 3<<20+1)
	w.WriteString("GET /chunked HTTP/1.1\r\nHost: t\r\n\r\n")
	w.WriteString("POST /sum HTTP/1.1\r\nHost: t\r\nTransfer-Encoding: chunked\r\n\r\n")
	w.Write(chunkedOf(chunkSizes))
	reqs := w.Bytes()
	cases := []struct{ name, extra, front, back string }{
		{"splice-auto", "", "", ""},
		{"request only", "", "option splice-request", "no option splice-auto"},
		{"response only", "", "no option splice-request", "option splice-response"},
		{"nosplice", "    nosplice", "", ""},
	}
	for _, tc := range cases {
		t.Run(tc.name, func(t *testing.T) {
			render := func(port int) string {
				r := strings.NewReplacer("{{EXTRA}}", tc.extra, "{{FRONT}}", tc.front, "{{BACK}}", tc.back,
					"{{PORT}}", fmt.Sprint(port), "{{S1}}", backendAddr)
				return r.Replace(spliceDiffConfig)
			}
			dir := t.TempDir()
			hport := testenv.FreePort(t)
			startHAProxyText(t, render(hport))
			haddr := fmt.Sprintf("127.0.0.1:%d", hport)
			testenv.WaitTCP(t, haddr, 10*time.Second)
			hOut := spliceDiffRun(t, haddr, reqs, 4)

			vport := testenv.FreePort(t)
			vcfg := filepath.Join(dir, "varde.cfg")
			os.WriteFile(vcfg, []byte(render(vport)), 0o644)
			set, d := config.LoadFiles([]string{vcfg}, nil)
			if d.HasErrors() {
				t.Fatal(d.Err())
			}
			pcfg, err := FromConfig(set.HAProxy)
			if err != nil {
				t.Fatal(err)
			}
			t.Setenv("VARDE_LOOPS", "1")
			e, _ := startEngine(t, pcfg)
			vOut := spliceDiffRun(t, fmt.Sprintf("127.0.0.1:%d", vport), reqs, 4)
			if d := cmp.Diff(hOut, vOut); d != "" {
				t.Errorf("what the client received differs (-haproxy +varde)\n%s", d)
			}
			if spliced := e.SplicedBytes.Load(); (tc.name == "nosplice") != (spliced == 0) {
				t.Errorf("varde spliced %d bytes", spliced)
			}
		})
	}
}

// spliceDiffRun writes reqs on one connection and reads n responses:
// status, whether chunked, and the digest of each body.
func spliceDiffRun(t *testing.T, addr string, reqs []byte, n int) []string {
	c, err := net.Dial("tcp", addr)
	if err != nil {
		t.Fatal(err)
	}
	defer c.Close()
	c.SetDeadline(time.Now().Add(20 * time.Second))
	go c.Write(reqs)
	br := bufio.NewReader(c)
	var out []string
	for i := 0; i < n; i++ {
		resp, err := http.ReadResponse(br, nil)
		if err != nil {
			out = append(out, "error: "+err.Error())
			break
		}
		b, err := io.ReadAll(resp.Body)
		sum := sha256.Sum256(b)
		out = append(out, fmt.Sprintf("%d chunked=%v len=%d sha=%s err=%v", resp.StatusCode,
			len(resp.TransferEncoding) > 0, len(b), hex.EncodeToString(sum[:8]), err))
	}
	return out
}

// TestSpliceOptions: option splice-* lines (defaults inherited, `no`
// negations, both proxies combined) decide each direction as documented.
func TestSpliceOptions(t *testing.T) {
	cases := []struct {
		name, defaults, front, back string
		req, resp                   bool
	}{
		{"nothing: varde's default", "", "", "", true, true},
		{"no splice-auto in the backend", "", "", "no option splice-auto", false, false},
		{"no splice-response in the frontend", "", "no option splice-response", "", true, false},
		{"frontend enables what the backend negates", "", "option splice-request", "no option splice-auto", true, false},
		{"defaults negate, backend enables responses", "no option splice-auto", "", "option splice-response", false, true},
		{"own option beats inherited auto", "option splice-auto", "no option splice-request", "no option splice-request", false, true},
	}
	for _, tc := range cases {
		t.Run(tc.name, func(t *testing.T) {
			text := fmt.Sprintf("defaults\n    mode http\n    %s\nfrontend f\n    bind 127.0.0.1:1\n    %s\n    default_backend b\nbackend b\n    %s\n    server s 127.0.0.1:2\n", tc.defaults, tc.front, tc.back)
			path := filepath.Join(t.TempDir(), "h.cfg")
			os.WriteFile(path, []byte(text), 0o644)
			set, d := config.LoadFiles([]string{path}, nil)
			if d.HasErrors() {
				t.Fatal(d.Err())
			}
			fe, be := spliceSetOf(set.HAProxy.Frontends[0]), spliceSetOf(set.HAProxy.Backends[0])
			req, resp := spliceOn(fe.Request, be.Request), spliceOn(fe.Response, be.Response)
			if req != tc.req || resp != tc.resp {
				t.Fatalf("request %v response %v, want %v %v", req, resp, tc.req, tc.resp)
			}
		})
	}
}
