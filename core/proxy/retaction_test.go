package proxy

import (
	"bufio"
	"bytes"
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

// returnConfig exercises every payload form of http-request return and of
// deny; {{DIR}} holds the files, the backend is dead (a request that
// reaches it gets 503).
const returnConfig = `defaults
    mode http
    timeout connect 1s
    timeout client 5s
    timeout server 5s

http-errors myerrs
    errorfile 403 {{DIR}}/s403.http
    errorfile 503 {{DIR}}/e503.http

frontend fe
    bind 127.0.0.1:{{PORT}}
    errorfile 403 {{DIR}}/e403.http
    errorfile 503 {{DIR}}/d503.http
    errorfiles myerrs 503
    http-request deny deny_status 503 if { path /deny503 }
    http-request return status 403 errorfiles myerrs if { path /rset }
    http-request return status 404 errorfiles myerrs if { path /rset404 }
    http-request return status 200 content-type text/plain string "hello" hdr X-Foo bar if { path /s }
    http-request return status 201 content-type "text/plain; charset=utf-8" lf-string "host=%[req.hdr(host)] path=%[path]" hdr X-Host "%[req.hdr(host)]" hdr X-Two "a b" if { path /lf }
    http-request return content-type text/plain file {{DIR}}/body.txt if { path /f }
    http-request return status 202 content-type text/html lf-file {{DIR}}/body.lf if { path /lff }
    http-request return status 503 default-errorfiles if { path /d503 }
    http-request return status 403 default-errorfiles if { path /d403 }
    http-request return status 404 if { path /n }
    http-request return status 299 if { path /r299 }
    http-request return status 302 hdr Location /there if { path /r302 }
    http-request return status 418 if { path /teapot }
    http-request return status 503 errorfile {{DIR}}/e503.http if { path /ef }
    http-request return status 503 errorfile {{DIR}}/elf.http if { path /eflf }
    http-request deny deny_status 429 content-type text/plain string "slow" hdr Retry-After 10 if { path /deny }
    http-request deny status 401 hdr WWW-Authenticate "Basic realm=x" if { path /deny401 }
    http-request deny if { path /d403plain }
    default_backend be

backend be
    retries 0
    errorfiles myerrs
    errorfile 503 {{DIR}}/d503.http
    server s 127.0.0.1:1
`

var returnRequests = []string{
	"GET /s HTTP/1.1\r\nHost: ex.com\r\n\r\n",
	"GET /lf HTTP/1.1\r\nHost: ex.com\r\n\r\n",
	"GET /lf HTTP/1.0\r\n\r\n", // no host: the empty sample
	"GET /f HTTP/1.1\r\nHost: ex.com\r\n\r\n",
	"GET /lff HTTP/1.1\r\nHost: ex.com\r\n\r\n",
	"GET /d503 HTTP/1.1\r\nHost: ex.com\r\n\r\n",
	"GET /d403 HTTP/1.1\r\nHost: ex.com\r\n\r\n",
	"GET /n HTTP/1.1\r\nHost: ex.com\r\n\r\n",
	"GET /r299 HTTP/1.1\r\nHost: ex.com\r\n\r\n",
	"GET /r302 HTTP/1.1\r\nHost: ex.com\r\n\r\n",
	"GET /teapot HTTP/1.1\r\nHost: ex.com\r\n\r\n",
	"GET /ef HTTP/1.1\r\nHost: ex.com\r\n\r\n",
	"GET /eflf HTTP/1.1\r\nHost: ex.com\r\n\r\n",
	"GET /deny HTTP/1.1\r\nHost: ex.com\r\n\r\n",
	"GET /deny401 HTTP/1.1\r\nHost: ex.com\r\n\r\n",
	"GET /d403plain HTTP/1.1\r\nHost: ex.com\r\n\r\n",
	"HEAD /s HTTP/1.1\r\nHost: ex.com\r\n\r\n",
	"GET /s HTTP/1.0\r\n\r\n",
	"GET /deny503 HTTP/1.1\r\nHost: ex.com\r\n\r\n", // the set's page: errorfiles after errorfile wins
	"GET /dead HTTP/1.1\r\nHost: ex.com\r\n\r\n",    // the backend's errorfile after errorfiles wins
	"GET /rset HTTP/1.1\r\nHost: ex.com\r\n\r\n",
	"GET /rset404 HTTP/1.1\r\nHost: ex.com\r\n\r\n", // not in the set: empty answer
}

func writeReturnFiles(t *testing.T, dir string) {
	files := map[string]string{
		"body.txt":  "file body\n",
		"body.lf":   "<p>%[req.hdr(host)]</p>\n",
		"e503.http": "HTTP/1.0 503 Service Unavailable\r\nCache-Control: no-cache\r\nContent-Type: text/html\r\n\r\n<html>custom503</html>\n",
		"elf.http":  "HTTP/1.0 503 Service Unavailable\nX-Custom: Yes\nContent-Type: text/html\n\n<html>lf only</html>\n",
		"s403.http": "HTTP/1.0 403 Forbidden\r\nContent-Type: text/html\r\n\r\nfrom-set-403\n",
		"d503.http": "HTTP/1.0 503 Service Unavailable\r\nContent-Type: text/html\r\n\r\nfrom-direct\n",
		"e403.http": "HTTP/1.0 403 Forbidden\r\nContent-Type: text/html\r\n\r\n<html>custom403</html>\n",
	}
	for name, text := range files {
		if err := os.WriteFile(filepath.Join(dir, name), []byte(text), 0o644); err != nil {
			t.Fatal(err)
		}
	}
}

// replyExchange sends each request on its own connection and returns the
// exact bytes of each response (head and body), and whether the server
// kept the connection.
func replyExchange(t *testing.T, addr string, reqs []string) []string {
	var out []string
	for _, raw := range reqs {
		c, err := net.Dial("tcp", addr)
		if err != nil {
			t.Fatal(err)
		}
		c.SetDeadline(time.Now().Add(5 * time.Second))
		io.WriteString(c, raw)
		var got bytes.Buffer
		br := bufio.NewReader(io.TeeReader(c, &got))
		resp, err := http.ReadResponse(br, &http.Request{Method: strings.Fields(raw)[0]})
		if err != nil {
			t.Fatalf("%q: %v", raw, err)
		}
		io.ReadAll(resp.Body)
		resp.Body.Close()
		// Is the connection still usable? A closed one reads EOF at once.
		c.SetReadDeadline(time.Now().Add(200 * time.Millisecond))
		_, err = c.Read(make([]byte, 1))
		kept := err != nil && strings.Contains(err.Error(), "timeout")
		c.Close()
		out = append(out, fmt.Sprintf("%s\n--- kept=%v", got.String(), kept))
	}
	return out
}

func renderReturnConfig(port int, dir string) string {
	s := strings.ReplaceAll(returnConfig, "{{PORT}}", fmt.Sprint(port))
	return strings.ReplaceAll(s, "{{DIR}}", dir)
}

// TestReturnDifferentialHAProxy runs the same return/deny rules in HAProxy
// 2.6 and in varde and compares the exact bytes of every answer.
func TestReturnDifferentialHAProxy(t *testing.T) {
	haproxy := testenv.LookTool(t, "haproxy", "haproxy")
	dir := t.TempDir()
	writeReturnFiles(t, dir)

	hport := testenv.FreePort(t)
	hcfg := filepath.Join(dir, "haproxy.cfg")
	os.WriteFile(hcfg, []byte(renderReturnConfig(hport, dir)), 0o644)
	testenv.Start(t, haproxy, "-db", "-f", hcfg)
	haddr := fmt.Sprintf("127.0.0.1:%d", hport)
	testenv.WaitTCP(t, haddr, 10*time.Second)
	hOut := replyExchange(t, haddr, returnRequests)

	vport := testenv.FreePort(t)
	vcfg := filepath.Join(dir, "varde.cfg")
	os.WriteFile(vcfg, []byte(renderReturnConfig(vport, dir)), 0o644)
	set, d := config.LoadFiles([]string{vcfg}, nil)
	if d.HasErrors() {
		t.Fatal(d.Err())
	}
	pcfg, err := FromConfig(set.HAProxy)
	if err != nil {
		t.Fatal(err)
	}
	startEngine(t, pcfg)
	vOut := replyExchange(t, fmt.Sprintf("127.0.0.1:%d", vport), returnRequests)

	for i := range returnRequests {
		if d := cmp.Diff(hOut[i], vOut[i]); d != "" {
			t.Errorf("%q: answers differ (-haproxy +varde)\n%s", returnRequests[i], d)
		}
	}
}

// TestReturnMissingFile: a payload file that cannot be read is an error
// when the configuration is prepared, never an empty answer.
func TestReturnMissingFile(t *testing.T) {
	for _, kind := range []string{"file", "lf-file", "errorfile"} {
		dir := t.TempDir()
		cfg := filepath.Join(dir, "v.cfg")
		text := "defaults\n    mode http\nfrontend fe\n    bind 127.0.0.1:1\n    http-request return status 503 "
		if kind != "errorfile" {
			text += "content-type text/plain "
		}
		text += kind + " " + dir + "/missing\n"
		os.WriteFile(cfg, []byte(text), 0o644)
		set, d := config.LoadFiles([]string{cfg}, nil)
		if d.HasErrors() {
			t.Fatalf("%s: the parser should accept it: %v", kind, d.Err())
		}
		_, err := FromConfig(set.HAProxy)
		if err == nil || !strings.Contains(err.Error(), "missing") {
			t.Errorf("%s: err = %v, want the missing file named", kind, err)
		}
	}
}

// FuzzRawPage: rewriting an errorfile's head never panics, keeps the body
// byte for byte and ends every head line with CRLF.
func FuzzRawPage(f *testing.F) {
	f.Add([]byte("HTTP/1.0 503 Service Unavailable\r\nCache-Control: no-cache\r\n\r\nbody"))
	f.Add([]byte("HTTP/1.0 503 X\nA: B\n\nbody\n\n"))
	f.Add([]byte("no head at all"))
	f.Fuzz(func(t *testing.T, b []byte) {
		out := rawPage(b)
		head, body, ok := strings.Cut(string(b), "\n\r\n")
		if !ok {
			head, body, ok = strings.Cut(string(b), "\n\n")
		}
		if !ok {
			if !bytes.Equal(out, b) {
				t.Fatalf("page without a head changed: %q -> %q", b, out)
			}
			return
		}
		if !strings.HasSuffix(string(out), body) {
			t.Fatalf("body changed: %q -> %q", b, out)
		}
		gotHead := strings.TrimSuffix(string(out), body)
		if strings.Count(gotHead, "\r\n") != strings.Count(head, "\n")+2 {
			t.Fatalf("head lines: %q -> %q", head, gotHead)
		}
	})
}
