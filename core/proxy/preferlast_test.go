package proxy

import (
	"bufio"
	"fmt"
	"io"
	"net"
	"net/http"
	"net/http/httptest"
	"os"
	"path/filepath"
	"strings"
	"testing"
	"time"

	"github.com/varde-lb/varde/core/config"
	"github.com/varde-lb/varde/core/testenv"
)

// TestPreferLastServer: on one kept-alive client connection, roundrobin
// alternates the servers, with option prefer-last-server or without,
// unless the server started an NTLM login on the kept connection: then its
// server is preferred (not with a hashing algorithm, which picks the same
// one anyway). Each case runs through /usr/sbin/haproxy and varde.
func TestPreferLastServer(t *testing.T) {
	haproxy := testenv.LookTool(t, "haproxy", "haproxy")
	addrs := namedServers(t, "a", "b")
	ntlm := map[string]string{}
	for _, name := range []string{"a", "b"} {
		srv := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
			w.Header().Set("X-Server", name)
			w.Header().Set("WWW-Authenticate", "NTLM")
			w.WriteHeader(401)
		}))
		t.Cleanup(srv.Close)
		ntlm[name] = strings.TrimPrefix(srv.URL, "http://")
	}
	pp := proxyV1Servers(t, "a", "b")
	for _, tc := range []struct {
		name, lines string
		ntlm, same  bool
	}{
		// varde keeps send-proxy connections private; HAProxy 2.6 does not
		// prefer their server, with the option or without.
		{"roundrobin send-proxy", "balance roundrobin\n    default-server send-proxy\n", false, false},
		{"roundrobin send-proxy prefer-last", "balance roundrobin\n    default-server send-proxy\n    option prefer-last-server\n", false, false},
		{"roundrobin", "balance roundrobin\n", false, false},
		{"roundrobin NTLM login", "balance roundrobin\n", true, true}, // HAProxy prefers the login's server without the option
		{"roundrobin prefer-last shared connection", "balance roundrobin\n    option prefer-last-server\n", false, false},
		{"roundrobin prefer-last private connection", "balance roundrobin\n    option prefer-last-server\n", true, true},
		{"leastconn prefer-last private connection", "balance leastconn\n    option prefer-last-server\n", true, true},
		{"source prefer-last private connection", "balance source\n    option prefer-last-server\n", true, true}, // same hash anyway
	} {
		addrs := addrs
		if tc.ntlm {
			addrs = ntlm
		}
		if strings.Contains(tc.lines, "send-proxy") {
			addrs = pp
		}
		t.Run(tc.name, func(t *testing.T) {
			render := func(port int) string {
				return fmt.Sprintf("defaults\n    mode http\n    timeout connect 1s\n    timeout client 5s\n    timeout server 5s\n"+
					"frontend f\n    bind 127.0.0.1:%d\n    default_backend b\nbackend b\n    %s    server a %s\n    server b %s\n",
					port, tc.lines, addrs["a"], addrs["b"])
			}
			hport := testenv.FreePort(t)
			hcfg := filepath.Join(t.TempDir(), "haproxy.cfg")
			os.WriteFile(hcfg, []byte(render(hport)), 0o644)
			testenv.Start(t, haproxy, "-db", "-f", hcfg)
			haddr := fmt.Sprintf("127.0.0.1:%d", hport)
			testenv.WaitTCP(t, haddr, 10*time.Second)
			if got := oneConnection(t, haddr); sameServer(got) != tc.same {
				t.Fatalf("haproxy: servers %v, want same=%v", got, tc.same)
			}
			set, d := config.LoadFiles(writeCfg(t, render(testenv.FreePort(t))), nil)
			if d.HasErrors() {
				t.Fatal(d.Err())
			}
			pcfg, err := FromConfig(set.HAProxy)
			if err != nil {
				t.Fatal(err)
			}
			pcfg.Frontends[0].Binds = nil
			_, addr := startEngine(t, pcfg)
			if got := oneConnection(t, addr); sameServer(got) != tc.same {
				t.Fatalf("varde: servers %v, want same=%v", got, tc.same)
			}
		})
	}
}

// oneConnection sends 4 requests on one kept-alive connection and returns
// the servers that answered.
func oneConnection(t *testing.T, addr string) []string {
	tr := &http.Transport{MaxConnsPerHost: 1, MaxIdleConnsPerHost: 1}
	defer tr.CloseIdleConnections()
	cl := &http.Client{Transport: tr, Timeout: 5 * time.Second}
	var got []string
	for i := 0; i < 4; i++ {
		resp, err := cl.Get("http://" + addr + "/")
		if err != nil {
			t.Fatal(err)
		}
		io.Copy(io.Discard, resp.Body)
		resp.Body.Close()
		got = append(got, resp.Header.Get("X-Server"))
	}
	return got
}

func sameServer(got []string) bool {
	return strings.Count(strings.Join(got, ""), got[0]) == len(got)
}

// proxyV1Servers are HTTP servers behind a PROXY protocol v1 line, each
// answering with its name in X-Server.
func proxyV1Servers(t *testing.T, names ...string) map[string]string {
	out := map[string]string{}
	for _, name := range names {
		srv := httptest.NewUnstartedServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
			w.Header().Set("X-Server", name)
		}))
		srv.Listener = ppListener{srv.Listener}
		srv.Start()
		t.Cleanup(srv.Close)
		out[name] = strings.TrimPrefix(srv.URL, "http://")
	}
	return out
}

type ppListener struct{ net.Listener }

// Accept reads the PROXY line of each connection before HTTP starts.
func (l ppListener) Accept() (net.Conn, error) {
	c, err := l.Listener.Accept()
	if err != nil {
		return nil, err
	}
	c.SetReadDeadline(time.Now().Add(5 * time.Second))
	br := bufio.NewReader(c)
	line, err := br.ReadString('\n')
	c.SetReadDeadline(time.Time{})
	if err != nil || !strings.HasPrefix(line, "PROXY ") {
		c.Close()
		return l.Accept()
	}
	return &ppConn{Conn: c, r: br}, nil
}

type ppConn struct {
	net.Conn
	r *bufio.Reader
}

func (c *ppConn) Read(b []byte) (int, error) { return c.r.Read(b) }
