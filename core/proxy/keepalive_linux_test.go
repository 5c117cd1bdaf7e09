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

// TestServerConnKeepAlive: the engine's connections to servers and from
// clients carry TCP keep-alive (as Go's dialer and listeners give theirs),
// so an idle connection to a peer that vanished is eventually noticed: what
// option tcpka/clitcpka/srvtcpka ask. ss shows the kernel's keep-alive
// timer on varde's ends of both connections.
func TestServerConnKeepAlive(t *testing.T) {
	ssBin := testenv.LookTool(t, "ss", "iproute2")
	b1, _ := backend(t, "b1", func(w http.ResponseWriter, r *http.Request) { fmt.Fprint(w, "ok") })
	_, addr := startEngine(t, simpleConfig(hostport(b1)))
	resp, err := http.Get("http://" + addr + "/")
	if err != nil {
		t.Fatal(err)
	}
	body(t, resp)
	_, port, _ := net.SplitHostPort(hostport(b1))
	var out []byte
	err = testenv.Until(5*time.Second, 50*time.Millisecond, func() error {
		out, err = exec.Command(ssBin, "-tnoH", "state", "established", "( dport = :"+port+" )").CombinedOutput()
		if err != nil {
			return fmt.Errorf("ss: %v: %s", err, out)
		}
		if !strings.Contains(string(out), "127.0.0.1:"+port) {
			return fmt.Errorf("no pooled connection to the server yet:\n%s", out)
		}
		return nil
	})
	if err != nil {
		t.Fatal(err)
	}
	if !strings.Contains(string(out), "timer:(keepalive") {
		t.Fatalf("varde's connection to the server has no keep-alive timer:\n%s", out)
	}
	// The client's connection, still open in http.Get's pool: varde's end
	// (source port = the frontend's) has keep-alive from Go's listener.
	_, fport, _ := net.SplitHostPort(addr)
	out, err = exec.Command(ssBin, "-tnoH", "state", "established", "( sport = :"+fport+" )").CombinedOutput()
	if err != nil || !strings.Contains(string(out), "timer:(keepalive") {
		t.Fatalf("varde's end of the client connection has no keep-alive timer (%v):\n%s", err, out)
	}
}
