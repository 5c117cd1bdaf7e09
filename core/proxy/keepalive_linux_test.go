package proxy

import (
	"fmt"
	"net"
	"net/http"
	"os/exec"
	"strings"
	"testing"
	"time"

	"github.com/varde-lb/varde/core/testenv"
)

// TestServerConnKeepAlive: the engine's connections to servers carry TCP
// keep-alive (as Go's dialer gives its own), so an idle connection to a
// server that vanished is eventually noticed; a client's connection has
// it only under option clitcpka/tcpka, as in HAProxy. ss shows the
// kernel's keep-alive timer on varde's ends.
func TestServerConnKeepAlive(t *testing.T) {
	ssBin := testenv.LookTool(t, "ss", "iproute2")
	for _, clitcpka := range []bool{false, true} {
		t.Run(fmt.Sprintf("clitcpka=%v", clitcpka), func(t *testing.T) {
			b1, _ := backend(t, "b1", func(w http.ResponseWriter, r *http.Request) { fmt.Fprint(w, "ok") })
			cfg := simpleConfig(hostport(b1))
			cfg.Frontends[0].TCPKeepAlive = clitcpka
			_, addr := startEngine(t, cfg)
			resp, err := http.Get("http://" + addr + "/")
			if err != nil {
				t.Fatal(err)
			}
			body(t, resp)
			_, port, _ := net.SplitHostPort(hostport(b1))
			out := ssUntil(t, ssBin, "( dport = :"+port+" )", "127.0.0.1:"+port)
			if !strings.Contains(out, "timer:(keepalive") {
				t.Fatalf("varde's connection to the server has no keep-alive timer:\n%s", out)
			}
			// The client's connection, still open in http.Get's pool:
			// varde's end (source port = the frontend's).
			_, fport, _ := net.SplitHostPort(addr)
			out = ssUntil(t, ssBin, "( sport = :"+fport+" )", "127.0.0.1:"+fport)
			if got := strings.Contains(out, "timer:(keepalive"); got != clitcpka {
				t.Fatalf("varde's end of the client connection: keep-alive timer %v, want %v:\n%s", got, clitcpka, out)
			}
		})
	}
}

// ssUntil lists the established sockets matching filter until one shows
// want.
func ssUntil(t *testing.T, ssBin, filter, want string) string {
	t.Helper()
	var out []byte
	err := testenv.Until(5*time.Second, 50*time.Millisecond, func() error {
		var err error
		out, err = exec.Command(ssBin, "-tnoH", "state", "established", filter).CombinedOutput()
		if err != nil {
			return fmt.Errorf("ss: %v: %s", err, out)
		}
		if !strings.Contains(string(out), want) {
			return fmt.Errorf("no connection %s yet:\n%s", want, out)
		}
		return nil
	})
	if err != nil {
		t.Fatal(err)
	}
	return string(out)
}
