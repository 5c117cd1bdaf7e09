package http

import (
	"bufio"
	"fmt"
	"io"
	"net"
	"net/http"
	"os"
	"path/filepath"
	"sort"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/google/go-cmp/cmp"
	"github.com/varde-lb/varde/core/testenv"
)

// checkVarsConfig sets check variables and sends them in the request of
// an HTTP check (uri-lf, hdr values, body-lf).
const checkVarsConfig = `global
    set-var proc.site str(blue)
defaults
    mode http
    timeout connect 2s
    timeout client 5s
    timeout server 5s
backend b
    option httpchk
    http-check set-var(check.path) str(/health)
    http-check set-var-fmt(check.who) "lb-%[var(proc.site)]"
    http-check set-var(check.gone) str(x)
    http-check unset-var(check.gone)
    http-check set-var(check.path,ifnotexists) str(/never)
    http-check set-var(sess.n) int(7)
    http-check send meth POST uri-lf %[var(check.path)]?n=%[var(sess.n)] ver HTTP/1.1 hdr Host h.example hdr X-Who %[var(check.who)] hdr X-Gone "[%[var(check.gone)]]" hdr X-Lit 100%% body-lf "who=%[var(check.who)]"
    http-check expect status 200
    server s1 {{SERVER}} check inter 300ms
{{LISTEN}}
`

// recorder is an HTTP server that keeps the first check request it gets.
type recorder struct {
	mu   sync.Mutex
	got  string
	seen chan struct{}
}

func startRecorder(t *testing.T) (*recorder, string) {
	r := &recorder{seen: make(chan struct{})}
	l, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { l.Close() })
	go func() {
		for {
			c, err := l.Accept()
			if err != nil {
				return
			}
			go r.serve(c)
		}
	}()
	return r, l.Addr().String()
}

func (r *recorder) serve(c net.Conn) {
	defer c.Close()
	c.SetDeadline(time.Now().Add(3 * time.Second))
	req, err := http.ReadRequest(bufio.NewReader(c))
	if err != nil {
		return
	}
	body, _ := io.ReadAll(req.Body)
	var hs []string
	for k, v := range req.Header {
		if strings.HasPrefix(k, "X-") || k == "Content-Length" {
			hs = append(hs, k+": "+strings.Join(v, ","))
		}
	}
	sort.Strings(hs)
	io.WriteString(c, "HTTP/1.1 200 OK\r\nContent-Length: 0\r\nConnection: close\r\n\r\n")
	r.mu.Lock()
	defer r.mu.Unlock()
	if r.got == "" {
		r.got = fmt.Sprintf("%s %s %s host=%s\n%s\n%s", req.Method, req.RequestURI, req.Proto, req.Host, strings.Join(hs, "\n"), body)
		close(r.seen)
	}
}

func (r *recorder) first(t *testing.T, who string) string {
	select {
	case <-r.seen:
	case <-time.After(10 * time.Second):
		t.Fatalf("%s sent no check", who)
	}
	r.mu.Lock()
	defer r.mu.Unlock()
	return r.got
}

// TestCheckVarsDifferentialHAProxy: the check request HAProxy 2.6 and
// varde send with http-check set-var/set-var-fmt/unset-var and the
// log-format parts of http-check send.
func TestCheckVarsDifferentialHAProxy(t *testing.T) {
	haproxy := testenv.LookTool(t, "haproxy", "haproxy")
	bin := testenv.VardeBinary(t)
	run := func(name, exe string, args ...string) string {
		rec, addr := startRecorder(t)
		port := testenv.FreePort(t)
		listen := fmt.Sprintf("frontend f\n    bind 127.0.0.1:%d\n    default_backend b", port)
		cfg := strings.NewReplacer("{{SERVER}}", addr, "{{LISTEN}}", listen).Replace(checkVarsConfig)
		path := filepath.Join(t.TempDir(), name+".cfg")
		os.WriteFile(path, []byte(cfg), 0o644)
		cmd, _ := testenv.Start(t, exe, append(args, "-f", path)...)
		got := rec.first(t, name)
		cmd.Process.Kill()
		return got
	}
	h := run("haproxy", haproxy, "-db")
	v := run("varde", bin, "run")
	if d := cmp.Diff(h, v); d != "" {
		t.Errorf("check request (-haproxy +varde)\n%s", d)
	}
	for _, want := range []string{"POST /health?n=7 HTTP/1.1 host=h.example", "X-Who: lb-blue", "X-Gone: []", "X-Lit: 100%", "who=lb-blue"} {
		if !strings.Contains(v, want) {
			t.Errorf("varde's check request lacks %q:\n%s", want, v)
		}
	}
}
