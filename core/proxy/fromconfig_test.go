package proxy

import (
	"io"
	"net"
	"os"
	"path/filepath"
	"strings"
	"testing"
	"time"

	"github.com/varde-lb/varde/core/config"
)

func loadProxyConfig(t *testing.T, text string) *Config {
	t.Helper()
	path := filepath.Join(t.TempDir(), "haproxy.cfg")
	os.WriteFile(path, []byte(text), 0o644)
	set, d := config.LoadFiles([]string{path}, nil)
	if d.HasErrors() {
		t.Fatal(d.Err())
	}
	c, err := FromConfig(set.HAProxy)
	if err != nil {
		t.Fatal(err)
	}
	return c
}

func TestFromConfigTCPUseBackendBySource(t *testing.T) {
	echoAddr := rawServer(t, func(c net.Conn) { io.WriteString(c, "echo:"); io.Copy(c, c) })
	cfg := loadProxyConfig(t, `defaults
    mode tcp
    timeout connect 1s
    timeout client 5s
    timeout server 5s
frontend in
    bind 127.0.0.1:1
    acl local src 127.0.0.0/8
    use_backend echo if local
    default_backend nowhere
backend echo
    server e1 `+echoAddr+`
backend nowhere
    server n1 `+closedPort(t)+`
`)
	cfg.Frontends[0].Binds = nil
	_, addr := startEngine(t, cfg)
	c, err := net.Dial("tcp", addr)
	if err != nil {
		t.Fatal(err)
	}
	defer c.Close()
	c.SetDeadline(time.Now().Add(5 * time.Second))
	io.WriteString(c, "hi")
	c.(*net.TCPConn).CloseWrite()
	got, _ := io.ReadAll(c)
	if string(got) != "echo:hi" {
		t.Fatalf("got %q", got)
	}
}

func TestFromConfigMapping(t *testing.T) {
	cfg := loadProxyConfig(t, `global
    maxconn 500
    tune.bufsize 32768
defaults
    mode http
    timeout connect 2s
    timeout client 10s
    timeout server 20s
    timeout http-request 3s
    retries 2
listen app
    bind 127.0.0.1:1
    option forwardfor except 10.0.0.0/8 header X-Real if-none
    option http-server-close
    option redispatch
    server a 127.0.0.1:1 weight 5 maxconn 10 maxqueue 3
    server b 127.0.0.1:2 backup
`)
	fe, be := cfg.Frontends[0], cfg.Backends[0]
	got := []any{cfg.MaxConn, cfg.BufSize, fe.DefaultBackend, fe.Timeouts.HTTPRequest, be.Timeouts.Server, be.Retries,
		be.Redispatch, be.ConnMode, fe.ForwardFor.Header, fe.ForwardFor.IfNone, fe.ForwardFor.Except.String(),
		be.Servers[0].Weight, be.Servers[0].MaxConn, be.Servers[0].MaxQueue, be.Servers[1].Backup}
	want := []any{500, 32768, "app", 3 * time.Second, 20 * time.Second, 2,
		true, ServerClose, "X-Real", true, "10.0.0.0/8",
		5, int64(10), int64(3), true}
	for i := range want {
		if got[i] != want[i] {
			t.Errorf("field %d: got %v, want %v", i, got[i], want[i])
		}
	}
	if !strings.HasPrefix(fe.Binds[0], "127.0.0.1:") {
		t.Errorf("binds %v", fe.Binds)
	}
}
