package tcpcheck

import (
	"bufio"
	"fmt"
	"net"
	"os"
	"path/filepath"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/varde-lb/varde/core/testenv"
)

// tcpCheckVarsConfig sets check variables between the steps of a tcp-check
// and sends them with send-lf.
const tcpCheckVarsConfig = `global
    set-var proc.site str(blue)
defaults
    mode tcp
    timeout connect 2s
    timeout client 5s
    timeout server 5s
frontend f
    bind 127.0.0.1:{{PORT}}
    default_backend b
backend b
    option tcp-check
    tcp-check set-var(check.cmd) str(PING)
    tcp-check set-var-fmt(check.line) "%[var(check.cmd)]-%[int(42)]-%[var(proc.site)]"
    tcp-check set-var(check.x) str(gone)
    tcp-check unset-var(check.x)
    tcp-check set-var(sess.n,ifnotexists) int(3)
    tcp-check send-lf %[var(check.line)]/[%[var(check.x)]]/%[var(sess.n)]\r\n
    tcp-check expect string OK
    tcp-check set-var(check.cmd) str(QUIT)
    tcp-check send-lf %[var(check.cmd)]%%\r\n
    tcp-check expect string BYE
    server s1 {{SERVER}} check inter 300ms
`

// lineRecorder answers OK to the first line and BYE to the second, and
// keeps what the first check sent.
func lineRecorder(t *testing.T) (string, func(string) string) {
	var mu sync.Mutex
	got := ""
	seen := make(chan struct{})
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
			go func() {
				defer c.Close()
				c.SetDeadline(time.Now().Add(3 * time.Second))
				br := bufio.NewReader(c)
				a, _ := br.ReadString('\n')
				fmt.Fprint(c, "OK\r\n")
				b, _ := br.ReadString('\n')
				fmt.Fprint(c, "BYE\r\n")
				mu.Lock()
				defer mu.Unlock()
				if got == "" {
					got = fmt.Sprintf("%q %q", a, b)
					close(seen)
				}
			}()
		}
	}()
	return l.Addr().String(), func(who string) string {
		select {
		case <-seen:
		case <-time.After(10 * time.Second):
			t.Fatalf("%s sent no check", who)
		}
		mu.Lock()
		defer mu.Unlock()
		return got
	}
}

// TestTCPCheckVarsDifferentialHAProxy: the bytes HAProxy 2.6 and varde
// send with tcp-check set-var/set-var-fmt/unset-var and send-lf.
func TestTCPCheckVarsDifferentialHAProxy(t *testing.T) {
	haproxy := testenv.LookTool(t, "haproxy", "haproxy")
	bin := testenv.VardeBinary(t)
	run := func(name, exe string, args ...string) string {
		addr, first := lineRecorder(t)
		cfg := strings.NewReplacer("{{SERVER}}", addr, "{{PORT}}", fmt.Sprint(testenv.FreePort(t))).Replace(tcpCheckVarsConfig)
		path := filepath.Join(t.TempDir(), name+".cfg")
		os.WriteFile(path, []byte(cfg), 0o644)
		cmd, _ := testenv.Start(t, exe, append(args, "-f", path)...)
		got := first(name)
		cmd.Process.Kill()
		return got
	}
	h := run("haproxy", haproxy, "-db")
	v := run("varde", bin, "run")
	if h != v {
		t.Errorf("check bytes differ:\nhaproxy %s\nvarde   %s", h, v)
	}
	if want := `"PING-42-blue/[]/3\r\n" "QUIT%\r\n"`; v != want {
		t.Errorf("varde sent %s, want %s", v, want)
	}
}
