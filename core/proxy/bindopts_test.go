package proxy

import (
	"context"
	"fmt"
	"io"
	"log/slog"
	"net"
	"os"
	"path/filepath"
	"strings"
	"testing"
	"time"

	"github.com/varde-lb/varde/core/testenv"
)

const bindOptsConfig = `defaults
    mode http
    timeout connect 2s
    timeout client 5s
    timeout server 5s
frontend v6only
    bind :::%[1]d v6only
    default_backend be
frontend dual
    bind :::%[2]d
    default_backend be
frontend lo
    bind 127.0.0.1:%[3]d interface lo
    default_backend be
frontend tproxy
    bind 127.0.0.1:%[4]d transparent
    default_backend be
backend be
    server s1 %[5]s
`

// bindProbe says, per port and client family, whether an HTTP request
// was answered.
func bindProbe(t *testing.T, ports []int) string {
	var out []string
	for _, p := range ports {
		for _, host := range []string{"127.0.0.1", "::1"} {
			addr := net.JoinHostPort(host, fmt.Sprint(p))
			res := "refused"
			if c, err := net.DialTimeout("tcp", addr, time.Second); err == nil {
				c.SetDeadline(time.Now().Add(3 * time.Second))
				io.WriteString(c, "GET / HTTP/1.1\r\nHost: x\r\nConnection: close\r\n\r\n")
				b, _ := io.ReadAll(c)
				c.Close()
				res = strings.SplitN(string(b), "\r\n", 2)[0]
			}
			out = append(out, fmt.Sprintf("%d/%s: %s", len(out)/2, host, res))
		}
	}
	return strings.Join(out, "; ")
}

// TestBindOptionsDifferential: v6only, interface and transparent binds
// admit the same clients in HAProxy 2.6 and varde (IPv4 and IPv6 on
// loopback), and a dual-stack control bind admits both.
func TestBindOptionsDifferential(t *testing.T) {
	if os.Geteuid() != 0 {
		t.Skip("interface and transparent need root")
	}
	haproxy := testenv.LookTool(t, "haproxy", "haproxy")
	web := namedBackend(t, "s1")
	hp := testenv.FreePorts(t, 4)
	cfgPath := filepath.Join(t.TempDir(), "h.cfg")
	os.WriteFile(cfgPath, []byte(fmt.Sprintf(bindOptsConfig, hp[0], hp[1], hp[2], hp[3], web)), 0o644)
	_, logPath := testenv.Start(t, haproxy, "-db", "-f", cfgPath)
	testenv.WaitListening(t, "haproxy", logPath, hp[1], hp[2], hp[3])
	h := bindProbe(t, hp)

	vp := testenv.FreePorts(t, 4)
	cfg := loadProxyConfig(t, fmt.Sprintf(bindOptsConfig, vp[0], vp[1], vp[2], vp[3], web))
	e, err := New(cfg, slog.New(slog.NewTextHandler(io.Discard, nil)))
	if err != nil {
		t.Fatal(err)
	}
	if err := e.Start(); err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() {
		ctx, cancel := context.WithTimeout(context.Background(), 5*time.Second)
		defer cancel()
		e.Stop(ctx)
	})
	v := bindProbe(t, vp)
	t.Logf("haproxy: %s", h)
	if h != v {
		t.Errorf("clients admitted differ:\nhaproxy %s\nvarde   %s", h, v)
	}
	if !strings.HasPrefix(v, "0/127.0.0.1: refused; 0/::1: HTTP/1.1 200") {
		t.Errorf("v6only bind: %s", v)
	}
}
