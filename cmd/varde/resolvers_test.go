package main

import (
	"fmt"
	"io"
	"net"
	"net/http"
	"path/filepath"
	"slices"
	"strings"
	"testing"
	"time"

	"github.com/varde-lb/varde/core/dns/dnstest"
	"github.com/varde-lb/varde/core/testenv"
)

// Run-time resolution (docs/resolvers.md): a DNS server on loopback whose
// answers the test changes drives varde and, for the differential test,
// Debian's HAProxy 2.6 on the same configuration.

// ipBackends starts one HTTP server per loopback address, all on port,
// answering their own address.
func ipBackends(t *testing.T, port int, ips ...string) {
	t.Helper()
	for _, ip := range ips {
		l, err := net.Listen("tcp", net.JoinHostPort(ip, fmt.Sprint(port)))
		if err != nil {
			t.Fatal(err)
		}
		srv := &http.Server{Handler: http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
			io.WriteString(w, ip)
		})}
		go srv.Serve(l)
		t.Cleanup(func() { srv.Close() })
	}
}

const resolversCfg = `global
    stats socket SOCK level admin
defaults
    mode http
    timeout connect 1s
    timeout client 5s
    timeout server 5s
resolvers dns
    nameserver ns1 DNS
    timeout resolve 100ms
    timeout retry 100ms
    resolve_retries 2
    hold valid 100ms
    hold nx 400ms
    hold other 400ms
    hold refused 400ms
    hold timeout 400ms
frontend fe
    bind 127.0.0.1:FE
    default_backend be
backend be
    balance roundrobin
    server-template srv 3 app.test:BE resolvers dns init-addr none resolve-prefer ipv4
    server one one.test:BE resolvers dns init-addr none resolve-prefer ipv4
`

// lb is one load balancer under test.
type lb struct {
	name string
	sock string
	fe   int
}

// serverState is `show servers state be` reduced to name, address, op
// state, admin state and port per server.
func (l lb) serverState(t *testing.T) []string {
	var out []string
	for _, line := range strings.Split(adminCmd(t, l.sock, "show servers state be\n"), "\n") {
		f := strings.Fields(line)
		if len(f) < 19 || f[0] == "#" {
			continue
		}
		out = append(out, strings.Join([]string{f[3], f[4], f[5], f[6], f[18]}, " "))
	}
	return out
}

// served is the sorted set of backend addresses that answered n requests.
func (l lb) served(t *testing.T, n int) []string {
	seen := map[string]bool{}
	c := &http.Client{Timeout: 2 * time.Second, Transport: &http.Transport{DisableKeepAlives: true}}
	for i := 0; i < n; i++ {
		resp, err := c.Get(fmt.Sprintf("http://127.0.0.1:%d/", l.fe))
		if err != nil {
			seen["error"] = true
			continue
		}
		b, _ := io.ReadAll(resp.Body)
		resp.Body.Close()
		if resp.StatusCode != 200 {
			seen[fmt.Sprint(resp.StatusCode)] = true
			continue
		}
		seen[string(b)] = true
	}
	var out []string
	for k := range seen {
		out = append(out, k)
	}
	slices.Sort(out)
	return out
}

func startLB(t *testing.T, which string, dns *dnstest.Server, bePort int) lb {
	t.Helper()
	dir := t.TempDir()
	l := lb{name: which, sock: filepath.Join(dir, "admin.sock"), fe: testenv.FreePort(t)}
	r := strings.NewReplacer("SOCK", l.sock, "DNS", dns.Addr().String(), "FE", fmt.Sprint(l.fe), "BE", fmt.Sprint(bePort))
	cfg := writeFile(t, dir, "haproxy.cfg", r.Replace(resolversCfg))
	lbProc(t, which, cfg, l.fe)
	return l
}

// phase is one change of the DNS answers and what must follow.
type phase struct {
	name  string
	set   func(d *dnstest.Server)
	addrs []string // the addresses srv1..srv3, one must hold, as a sorted set ("-": none); nil: only one without

	serve []string // the addresses that answer requests, sorted
}

var resolverPhases = []phase{
	{"nothing resolves: every server in MAINT (resolution)", func(d *dnstest.Server) {},
		[]string{"-", "-", "-", "-"}, []string{"503"}},
	{"two addresses for the template, one for one", func(d *dnstest.Server) {
		d.SetAddrs("app.test", "127.0.0.2", "127.0.0.3")
		d.SetAddrs("one.test", "127.0.0.4")
	}, []string{"-", "127.0.0.2", "127.0.0.3", "127.0.0.4"}, []string{"127.0.0.2", "127.0.0.3", "127.0.0.4"}},
	{"an address replaced", func(d *dnstest.Server) {
		d.SetAddrs("app.test", "127.0.0.3", "127.0.0.5")
	}, []string{"-", "127.0.0.3", "127.0.0.4", "127.0.0.5"}, []string{"127.0.0.3", "127.0.0.4", "127.0.0.5"}},
	{"an address removed", func(d *dnstest.Server) {
		d.SetAddrs("app.test", "127.0.0.3")
	}, []string{"-", "-", "127.0.0.3", "127.0.0.4"}, []string{"127.0.0.3", "127.0.0.4"}},
	{"one's name disappears (NX past hold nx)", func(d *dnstest.Server) {
		d.Set("one.test", dnstest.Record{RCode: 3})
	}, []string{"-", "-", "-", "127.0.0.3"}, []string{"127.0.0.3"}},
	{"the template fills up", func(d *dnstest.Server) {
		d.SetAddrs("app.test", "127.0.0.2", "127.0.0.3", "127.0.0.4", "127.0.0.5")
	}, nil, nil}, // three of the four, as HAProxy's record order picks them
}

// addrSet is the sorted addresses of a state.
func addrSet(state []string) []string {
	var out []string
	for _, s := range state {
		out = append(out, strings.Fields(s)[1])
	}
	slices.Sort(out)
	return out
}

// TestResolversAgainstHAProxy runs the same resolvers configuration
// through HAProxy 2.6 and varde against one fake DNS server and compares,
// after each change of its answers, each server's address and states and
// the backend addresses that served requests.
func TestResolversAgainstHAProxy(t *testing.T) {
	if testing.Short() {
		t.Skip("starts varde and haproxy")
	}
	testenv.LookTool(t, "haproxy", "haproxy")
	dns, err := dnstest.Start()
	if err != nil {
		t.Fatal(err)
	}
	defer dns.Close()
	bePort := testenv.FreePort(t)
	ipBackends(t, bePort, "127.0.0.2", "127.0.0.3", "127.0.0.4", "127.0.0.5")
	lbs := []lb{startLB(t, "varde", dns, bePort), startLB(t, "haproxy", dns, bePort)}
	for _, ph := range resolverPhases {
		ph.set(dns)
		states := map[string][]string{}
		err := testenv.Until(5*time.Second, 100*time.Millisecond, func() error {
			for _, l := range lbs {
				st := l.serverState(t)
				got := addrSet(st)
				if ph.addrs == nil && (len(got) != 4 || got[0] != "-" || got[1] == "-") {
					return fmt.Errorf("%s: addresses %v, want one server without", l.name, got)
				}
				if ph.addrs != nil && !slices.Equal(got, ph.addrs) {
					return fmt.Errorf("%s: addresses %v, want %v", l.name, got, ph.addrs)
				}
				states[l.name] = st
			}
			if !slices.Equal(states["varde"], states["haproxy"]) {
				return fmt.Errorf("servers state differ:\nvarde   %q\nhaproxy %q", states["varde"], states["haproxy"])
			}
			return nil
		})
		if err != nil {
			t.Fatalf("%s: %v", ph.name, err)
		}
		t.Logf("%s: %q", ph.name, states["varde"])
		v, h := lbs[0].served(t, 12), lbs[1].served(t, 12)
		if !slices.Equal(v, h) || (ph.serve != nil && !slices.Equal(v, ph.serve)) {
			t.Errorf("%s: served by varde %v, haproxy %v, want %v", ph.name, v, h, ph.serve)
		}
	}
}
