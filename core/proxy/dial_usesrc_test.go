package proxy

import (
	"bufio"
	"fmt"
	"net"
	"net/http"
	"os"
	"os/exec"
	"path/filepath"
	"runtime"
	"strings"
	"testing"
	"time"

	"github.com/google/go-cmp/cmp"
	"golang.org/x/sys/unix"

	"github.com/varde-lb/varde/core/testenv"
)

// usesrc (full transparent proxying) needs a routed topology: a client,
// the proxy and a server in three network namespaces of their own
// (198.18.0.0/15, never the host's), the server routing back through the
// proxy, and the proxy delivering the server's replies to client
// addresses locally (a policy rule on its server-side link, a `local`
// route: no iptables needed).

// usesrcNet is the topology; its namespaces are named vdC/vdP/vdS + id.
type usesrcNet struct {
	client, proxy, server string
	// the proxy's links to the clients and to the server
	toClients, toServer string
}

func setupUsesrcNet(t *testing.T) usesrcNet {
	testenv.NeedRoot(t)
	ipTool := testenv.LookTool(t, "ip", "iproute2")
	id := fmt.Sprint(os.Getpid() % 100000)
	n := usesrcNet{client: "vdC" + id, proxy: "vdP" + id, server: "vdS" + id, toClients: "vdpc" + id, toServer: "vdps" + id}
	t.Cleanup(func() {
		for _, ns := range []string{n.client, n.proxy, n.server} {
			exec.Command(ipTool, "netns", "del", ns).Run() // its veth ends go with it
		}
	})
	cmds := [][]string{
		{"netns", "add", n.client}, {"netns", "add", n.proxy}, {"netns", "add", n.server},
		{"link", "add", "vdc" + id, "type", "veth", "peer", "name", "vdpc" + id},
		{"link", "add", "vds" + id, "type", "veth", "peer", "name", "vdps" + id},
		{"link", "set", "vdc" + id, "netns", n.client}, {"link", "set", "vdpc" + id, "netns", n.proxy},
		{"link", "set", "vds" + id, "netns", n.server}, {"link", "set", "vdps" + id, "netns", n.proxy},
		{"-n", n.client, "addr", "add", "198.18.0.1/24", "dev", "vdc" + id},
		{"-n", n.client, "addr", "add", "198.18.0.2/24", "dev", "vdc" + id},
		{"-n", n.client, "link", "set", "vdc" + id, "up"}, {"-n", n.client, "link", "set", "lo", "up"},
		{"-n", n.client, "route", "add", "default", "via", "198.18.0.254"},
		{"-n", n.proxy, "addr", "add", "198.18.0.254/24", "dev", "vdpc" + id},
		{"-n", n.proxy, "addr", "add", "198.18.1.254/24", "dev", "vdps" + id},
		{"-n", n.proxy, "link", "set", "vdpc" + id, "up"}, {"-n", n.proxy, "link", "set", "vdps" + id, "up"},
		{"-n", n.proxy, "link", "set", "lo", "up"},
		{"-n", n.server, "addr", "add", "198.18.1.2/24", "dev", "vds" + id},
		{"-n", n.server, "link", "set", "vds" + id, "up"}, {"-n", n.server, "link", "set", "lo", "up"},
		{"-n", n.server, "route", "add", "default", "via", "198.18.1.254"},
		// The server's replies to client addresses are for the proxy's
		// transparent sockets.
		{"-n", n.proxy, "rule", "add", "iif", "vdps" + id, "lookup", "100"},
		{"-n", n.proxy, "route", "add", "local", "198.18.0.0/24", "dev", "lo", "table", "100"},
	}
	for _, c := range cmds {
		if out, err := exec.Command(ipTool, c...).CombinedOutput(); err != nil {
			msg := fmt.Sprintf("network namespaces unavailable: ip %s: %v\n%s", strings.Join(c, " "), err, out)
			if testenv.InCI() {
				t.Fatal(msg) // CI runs as root with iproute2: this is a failure there
			}
			t.Skip(msg)
		}
	}
	return n
}

// inNetns runs fn on a thread moved into namespace ns: sockets fn opens
// belong to ns for their whole life, whatever thread uses them later.
func inNetns(t *testing.T, ns string, fn func()) {
	done := make(chan struct{})
	go func() {
		defer close(done)
		runtime.LockOSThread()
		orig, err := os.Open("/proc/thread-self/ns/net")
		if err != nil {
			t.Error(err)
			return
		}
		defer orig.Close()
		target, err := os.Open(filepath.Join("/run/netns", ns))
		if err != nil {
			t.Error(err)
			return
		}
		defer target.Close()
		if err := unix.Setns(int(target.Fd()), unix.CLONE_NEWNET); err != nil {
			t.Error(err)
			return
		}
		fn()
		if unix.Setns(int(orig.Fd()), unix.CLONE_NEWNET) == nil {
			runtime.UnlockOSThread() // else the thread ends with the goroutine
		}
	}()
	<-done
}

// peerServer answers "PATH from IP sameport=BOOL": the address the
// request came from and whether its port is the client's own (X-Port).
func peerServer(t *testing.T, n usesrcNet, addr string) {
	var l net.Listener
	var err error
	inNetns(t, n.server, func() { l, err = net.Listen("tcp", addr) })
	if err != nil {
		t.Fatal(err)
	}
	srv := &http.Server{Handler: http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		host, port, _ := net.SplitHostPort(r.RemoteAddr)
		fmt.Fprintf(w, "%s from %s sameport=%v", r.URL.Path, host, port == r.Header.Get("X-Port"))
	})}
	go srv.Serve(l)
	t.Cleanup(func() { srv.Close() })
}

// clientGet sends GET path from the client address src and returns the
// answer's body. It closes the connection, so a server connection bound
// to this client that were wrongly pooled would serve the next client.
func clientGet(t *testing.T, n usesrcNet, src, path string) string {
	var c net.Conn
	var err error
	inNetns(t, n.client, func() {
		d := net.Dialer{LocalAddr: &net.TCPAddr{IP: net.ParseIP(src)}, Timeout: 2 * time.Second}
		c, err = d.Dial("tcp", "198.18.0.254:80")
	})
	if err != nil {
		return "dial: " + err.Error()
	}
	defer c.Close()
	c.SetDeadline(time.Now().Add(5 * time.Second))
	_, port, _ := net.SplitHostPort(c.LocalAddr().String())
	fmt.Fprintf(c, "GET %s HTTP/1.1\r\nHost: h\r\nX-Port: %s\r\n\r\n", path, port)
	resp, err := http.ReadResponse(bufio.NewReader(c), nil)
	if err != nil {
		return "error: " + err.Error()
	}
	defer resp.Body.Close()
	var b strings.Builder
	bufio.NewReader(resp.Body).WriteTo(&b)
	return fmt.Sprintf("%d %s", resp.StatusCode, b.String())
}

const usesrcConfig = `defaults
    mode http
    timeout connect 1s
    timeout client 5s
    timeout server 5s

frontend fe
    bind 198.18.0.254:80
    use_backend client if { path_beg /client }
    use_backend fixed if { path_beg /fixed }
    use_backend plain if { path_beg /plain }
    use_backend ifgood if { path_beg /ifgood }
    use_backend ifwrong if { path_beg /ifwrong }
    default_backend clientip

backend clientip
    source 0.0.0.0 usesrc clientip
    server s 198.18.1.2:8080 check inter 200ms

backend client
    server s 198.18.1.2:8080 source 0.0.0.0 usesrc client

backend fixed
    source 198.18.1.254 usesrc 198.18.0.77
    server s 198.18.1.2:8080

backend plain
    server s 198.18.1.2:8080

backend ifgood
    source 0.0.0.0 interface {{TOSERVER}}
    server s 198.18.1.2:8080

backend ifwrong
    server s 198.18.1.2:8080 source 0.0.0.0 interface {{TOCLIENTS}}
`

// TestUseSrcDifferential: `source ... usesrc clientip|client|ADDR` and
// `source ... interface NAME` (the server-side link, or the client-side
// one that cannot reach the server: a 503) against
// HAProxy 2.6 in the three-namespace topology: the address (and whether
// the port) the server saw for two clients' requests in turn, so a server
// connection bound to one client is never reused for the other.
func TestUseSrcDifferential(t *testing.T) {
	n := setupUsesrcNet(t)
	haproxy := testenv.LookTool(t, "haproxy", "haproxy")
	varde := testenv.VardeBinary(t)
	peerServer(t, n, "198.18.1.2:8080")
	cfg := filepath.Join(t.TempDir(), "usesrc.cfg")
	text := strings.NewReplacer("{{TOSERVER}}", n.toServer, "{{TOCLIENTS}}", n.toClients).Replace(usesrcConfig)
	if err := os.WriteFile(cfg, []byte(text), 0o644); err != nil {
		t.Fatal(err)
	}
	run := func(t *testing.T, args ...string) []string {
		cmd, logPath := testenv.Start(t, "ip", append([]string{"netns", "exec", n.proxy}, args...)...)
		defer func() {
			unix.Kill(-cmd.Process.Pid, unix.SIGTERM)
			done := make(chan struct{})
			go func() { cmd.Wait(); close(done) }()
			select {
			case <-done:
			case <-time.After(3 * time.Second):
				unix.Kill(-cmd.Process.Pid, unix.SIGKILL)
				<-done
			}
		}()
		err := testenv.Until(15*time.Second, 50*time.Millisecond, func() error {
			if out := clientGet(t, n, "198.18.0.1", "/plain/ready"); !strings.HasPrefix(out, "200") {
				return fmt.Errorf("%s", out)
			}
			return nil
		})
		if err != nil {
			b, _ := os.ReadFile(logPath)
			t.Fatalf("%v: not answering: %v\n%s", args, err, b)
		}
		var out []string
		for _, q := range []struct{ src, path string }{
			{"198.18.0.1", "/ip"}, {"198.18.0.2", "/ip"}, {"198.18.0.1", "/client"},
			{"198.18.0.2", "/client"}, {"198.18.0.1", "/fixed"}, {"198.18.0.2", "/plain"},
			{"198.18.0.1", "/ifgood"}, {"198.18.0.1", "/ifwrong"},
		} {
			out = append(out, q.src+" "+clientGet(t, n, q.src, q.path))
			time.Sleep(100 * time.Millisecond) // the proxy sees the close first
		}
		return out
	}
	want := run(t, haproxy, "-db", "-f", cfg)
	lanes(t, func(t *testing.T) {
		got := run(t, varde, "run", "-f", cfg)
		for i := range want {
			t.Logf("haproxy %q", want[i])
		}
		if d := cmp.Diff(want, got); d != "" {
			t.Errorf("differs (-haproxy +varde)\n%s", d)
		}
	})
}
