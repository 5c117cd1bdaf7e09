package proxy

import (
	"fmt"
	"net/http"
	"os"
	"path/filepath"
	"regexp"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/varde-lb/varde/core/testenv"
)

const backendSrcConfig = `global
    log 127.0.0.1:{{SYSLOG}} local0
defaults
    mode {{MODE}}
    log global
    timeout connect 2s
    timeout client 5s
    timeout server 5s
frontend fe
    bind 127.0.0.1:{{PORT}}
    log-format "{{MODE}} %bi:%bp %{+X}bp"
    default_backend be
backend be
    server s1 {{SERVER}}
`

// TestBackendSourceLogged: %bi:%bp is the address the proxy connected to
// the server from, the peer the server saw, in http and tcp mode; the
// same assertion holds for HAProxy 2.6 on the same configuration (the
// ports differ between runs, so each side is checked against its server).
func TestBackendSourceLogged(t *testing.T) {
	haproxy := testenv.LookTool(t, "haproxy", "haproxy")
	var mu sync.Mutex
	var peers []string
	srv, _ := backend(t, "b1", func(w http.ResponseWriter, r *http.Request) {
		mu.Lock()
		peers = append(peers, r.RemoteAddr)
		mu.Unlock()
		w.Header().Set("Connection", "close")
		fmt.Fprint(w, "ok")
	})
	slPort, logged := startUDPSyslog(t, regexp.MustCompile(`(http|tcp) ([0-9.]+:[0-9]+) ([0-9A-F]{4})`))
	dir := t.TempDir()
	for _, bin := range []string{haproxy, testenv.VardeBinary(t)} {
		for _, mode := range []string{"http", "tcp"} {
			port := testenv.FreePort(t)
			text := strings.NewReplacer("{{SYSLOG}}", fmt.Sprint(slPort), "{{PORT}}", fmt.Sprint(port), "{{MODE}}", mode, "{{SERVER}}", hostport(srv)).Replace(backendSrcConfig)
			cfg := filepath.Join(dir, fmt.Sprintf("%s-%s.cfg", filepath.Base(bin), mode))
			os.WriteFile(cfg, []byte(text), 0o644)
			args := []string{"-db", "-f", cfg}
			if bin != haproxy {
				args = []string{"run", "-f", cfg}
			}
			cmd, _ := testenv.Start(t, bin, args...)
			addr := fmt.Sprintf("127.0.0.1:%d", port)
			testenv.WaitTCP(t, addr, 10*time.Second)
			c := &http.Client{Transport: &http.Transport{DisableKeepAlives: true}, Timeout: 5 * time.Second}
			resp, err := c.Get("http://" + addr + "/")
			if err != nil {
				t.Fatalf("%s %s: %v", filepath.Base(bin), mode, err)
			}
			resp.Body.Close()
			mu.Lock()
			peer := peers[len(peers)-1]
			mu.Unlock()
			err = testenv.Until(5*time.Second, 10*time.Millisecond, func() error {
				logged.mu.Lock()
				defer logged.mu.Unlock()
				for _, m := range logged.got {
					if m[1] == mode && m[2] == peer {
						var port int
						fmt.Sscanf(m[3], "%X", &port)
						if want := peer[strings.LastIndexByte(peer, ':')+1:]; fmt.Sprint(port) != want {
							return fmt.Errorf("%%{+X}bp %s is not port %s", m[3], want)
						}
						return nil
					}
				}
				return fmt.Errorf("no %s line with %%bi:%%bp %s (the server's peer) among %q", mode, peer, logged.got)
			})
			if err != nil {
				t.Errorf("%s: %v", filepath.Base(bin), err)
			}
			cmd.Process.Kill()
			cmd.Wait()
		}
	}
}
