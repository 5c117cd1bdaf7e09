package main

import (
	"bufio"
	"fmt"
	"io"
	"net"
	"net/http"
	"os"
	"path/filepath"
	"regexp"
	"slices"
	"strings"
	"sync"
	"syscall"
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
    log 127.0.0.1:SYSLOG local0
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
	name   string
	sock   string
	fe     int
	syslog *syslogRecv
}

// syslogRecv collects the syslog messages sent to it: "<PRI>text" with
// the header up to the tag's ": " left out.
type syslogRecv struct {
	conn *net.UDPConn
	mu   sync.Mutex
	msgs []string
}

func newSyslogRecv(t *testing.T) *syslogRecv {
	c, err := net.ListenUDP("udp", &net.UDPAddr{IP: net.IPv4(127, 0, 0, 1)})
	if err != nil {
		t.Fatal(err)
	}
	r := &syslogRecv{conn: c}
	t.Cleanup(func() { c.Close() })
	go func() {
		buf := make([]byte, 4096)
		for {
			n, err := c.Read(buf)
			if err != nil {
				return
			}
			m := strings.TrimRight(string(buf[:n]), "\n")
			pri, _, _ := strings.Cut(m, ">")
			if _, text, ok := strings.Cut(m, "]: "); ok {
				r.mu.Lock()
				r.msgs = append(r.msgs, pri+"> "+text)
				r.mu.Unlock()
			}
		}
	}()
	return r
}

// take returns the messages received so far and forgets them.
func (r *syslogRecv) take() []string {
	r.mu.Lock()
	defer r.mu.Unlock()
	out := r.msgs
	r.msgs = nil
	return out
}

// serverState is `show servers state be` reduced to name, address, op
// state, admin state, fqdn and port per server.
func (l lb) serverState(t *testing.T) []string {
	var out []string
	for _, line := range strings.Split(adminCmd(t, l.sock, "show servers state be\n"), "\n") {
		f := strings.Fields(line)
		if len(f) < 19 || f[0] == "#" {
			continue
		}
		out = append(out, strings.Join([]string{f[3], f[4], f[5], f[6], f[17], f[18]}, " "))
	}
	// show stat's status and addr columns of the servers.
	addrCol := -1
	for _, line := range strings.Split(adminCmd(t, l.sock, "show stat\n"), "\n") {
		f := strings.Split(line, ",")
		if strings.HasPrefix(line, "# ") {
			addrCol = slices.Index(f, "addr")
		}
		if len(f) > 17 && f[0] == "be" && f[1] != "BACKEND" {
			addr := "?"
			if addrCol > 0 && addrCol < len(f) {
				addr = f[addrCol]
			}
			out = append(out, f[1]+" status "+f[17]+" addr "+addr)
		}
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
	return startLBWith(t, which, dns.Addr().String(), bePort)
}

// startLBWith starts one load balancer on resolversCfg with nameserver
// address ns.
func startLBWith(t *testing.T, which, ns string, bePort int) lb {
	t.Helper()
	dir := t.TempDir()
	l := lb{name: which, sock: filepath.Join(dir, "admin.sock"), fe: testenv.FreePort(t), syslog: newSyslogRecv(t)}
	r := strings.NewReplacer("SOCK", l.sock, "DNS", ns, "FE", fmt.Sprint(l.fe), "BE", fmt.Sprint(bePort),
		"SYSLOG", fmt.Sprint(l.syslog.conn.LocalAddr().(*net.UDPAddr).Port))
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
	{"the template's name refused (past hold refused)", func(d *dnstest.Server) {
		d.Set("app.test", dnstest.Record{RCode: 5})
	}, []string{"-", "-", "-", "-"}, []string{"503"}},
	{"answers again", func(d *dnstest.Server) {
		d.SetAddrs("app.test", "127.0.0.4")
	}, []string{"-", "-", "-", "127.0.0.4"}, []string{"127.0.0.4"}},
	{"the template's name fails (SERVFAIL past hold other)", func(d *dnstest.Server) {
		d.Set("app.test", dnstest.Record{RCode: 2})
	}, []string{"-", "-", "-", "-"}, []string{"503"}},
	{"answers again with two", func(d *dnstest.Server) {
		d.SetAddrs("app.test", "127.0.0.5", "127.0.0.2")
	}, []string{"-", "-", "127.0.0.2", "127.0.0.5"}, []string{"127.0.0.2", "127.0.0.5"}},
}

// events keeps the resolution messages of a syslog stream (the request
// logs are left out).
func events(msgs []string) []string {
	var out []string
	for _, m := range msgs {
		if strings.Contains(m, "changed its IP") || strings.Contains(m, "maintenance") || strings.Contains(m, "resolves again") || strings.Contains(m, "thanks to valid DNS") {
			out = append(out, m)
		}
	}
	return out
}

// sameEvents compares two message streams name by name: the messages
// about one's resolution and about the template's in their order, the
// two streams' interleaving being a matter of timing.
func sameEvents(a, b []string) bool {
	split := func(msgs []string) (one, rest []string) {
		for _, m := range msgs {
			if strings.Contains(m, "/one ") {
				one = append(one, m)
			} else {
				rest = append(rest, m)
			}
		}
		return one, rest
	}
	a1, a2 := split(a)
	b1, b2 := split(b)
	return slices.Equal(a1, b1) && slices.Equal(a2, b2)
}

// addrSet is the sorted addresses of a state.
func addrSet(state []string) []string {
	var out []string
	for _, s := range state {
		if strings.Contains(s, " status ") {
			continue
		}
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
		if v, h := settledEvents(lbs); !sameEvents(v, h) {
			t.Errorf("%s: log messages differ:\nvarde   %q\nhaproxy %q", ph.name, v, h)
		} else {
			t.Logf("%s: %q", ph.name, v)
		}
		v, h := lbs[0].served(t, 12), lbs[1].served(t, 12)
		if !slices.Equal(v, h) || (ph.serve != nil && !slices.Equal(v, ph.serve)) {
			t.Errorf("%s: served by varde %v, haproxy %v, want %v", ph.name, v, h, ph.serve)
		}
	}
	// show resolvers: the same lines (the counters' values depend on timing).
	digits := regexp.MustCompile(`[0-9]+`)
	for _, cmd := range []string{"show resolvers\n", "show resolvers dns\n", "show resolvers nope\n"} {
		v := digits.ReplaceAllString(adminCmd(t, lbs[0].sock, cmd), "N")
		h := digits.ReplaceAllString(adminCmd(t, lbs[1].sock, cmd), "N")
		if v != h {
			t.Errorf("%q:\nvarde:\n%s\nhaproxy:\n%s", cmd, v, h)
		}
	}
	if out := adminCmd(t, lbs[0].sock, "show resolvers\n"); !regexp.MustCompile(`sent: +[1-9]`).MatchString(out) || !regexp.MustCompile(`valid: +[1-9]`).MatchString(out) || !regexp.MustCompile(`nx: +[1-9]`).MatchString(out) {
		t.Errorf("varde's counters did not count:\n%s", out)
	}
	// set server fqdn: the same answers, then one takes the address the
	// template left free.
	dns.SetAddrs("app.test", "127.0.0.2", "127.0.0.3", "127.0.0.4", "127.0.0.5")
	for _, cmd := range []string{"set server be/one fqdn app.test\n", "set server be/one fqdn app.test\n", "set server be/srv1 fqdn bad/name\n", "set server be/nope fqdn x.test\n"} {
		v, h := adminCmd(t, lbs[0].sock, cmd), adminCmd(t, lbs[1].sock, cmd)
		if v != h {
			t.Errorf("%q: varde %q, haproxy %q", cmd, v, h)
		}
	}
	err = testenv.Until(5*time.Second, 100*time.Millisecond, func() error {
		v, h := lbs[0].serverState(t), lbs[1].serverState(t)
		if got := addrSet(v); slices.Contains(got, "-") || !slices.Equal(v, h) {
			return fmt.Errorf("after set server fqdn:\nvarde   %q\nhaproxy %q", v, h)
		}
		return nil
	})
	if err != nil {
		t.Error(err)
	}
	// The operator's maintenance and resolution maintenance together: a
	// server the answer has no address for, forced into maintenance and
	// back.
	settledEvents(lbs) // the last step's messages are in, and left out
	dns.SetAddrs("app.test", "127.0.0.2", "127.0.0.3")
	twoAddrs := func(addrs []string) bool {
		return !slices.ContainsFunc(addrs, func(a string) bool { return a != "-" && a != "127.0.0.2" && a != "127.0.0.3" })
	}
	if err := sameStates(t, lbs, twoAddrs); err != nil { // resolution settled (hold valid, no IP for the last server)
		t.Fatalf("after the answer shrank to two: %v", err)
	}
	for _, cmd := range []string{"set server be/srv3 state maint\n", "set server be/srv3 state ready\n", "set server be/srv1 state drain\n", "set server be/srv1 state ready\n"} {
		v, h := adminCmd(t, lbs[0].sock, cmd), adminCmd(t, lbs[1].sock, cmd)
		if v != h {
			t.Errorf("%q: varde %q, haproxy %q", cmd, v, h)
		}
		if err := sameStates(t, lbs, twoAddrs); err != nil {
			t.Errorf("after %q: %v", cmd, err)
		}
	}
	if v, h := settledEvents(lbs); !sameEvents(v, h) {
		t.Errorf("operator and resolution maintenance: log messages differ:\nvarde   %q\nhaproxy %q", v, h)
	}
}

// sameStates polls `show servers state` (and show stat) on both load
// balancers until they are equal, their addresses pass ok (nil: any),
// and a second poll finds them unchanged; bounded in time and count.
func sameStates(t *testing.T, lbs []lb, ok func([]string) bool) error {
	var prev []string
	return testenv.Until(5*time.Second, 50*time.Millisecond, func() error {
		v, h := lbs[0].serverState(t), lbs[1].serverState(t)
		switch {
		case !slices.Equal(v, h):
			prev = nil
			return fmt.Errorf("servers state differ:\nvarde   %q\nhaproxy %q", v, h)
		case ok != nil && !ok(addrSet(v)):
			prev = nil
			return fmt.Errorf("addresses %v", addrSet(v))
		case !slices.Equal(v, prev):
			prev = v
			return fmt.Errorf("servers state still changing: %q", v)
		}
		return nil
	})
}

// settledEvents collects both load balancers' resolution messages until
// the two streams match and two polls in a row bring nothing new, or
// 3 s have passed: the messages of a change follow it within no fixed
// delay.
func settledEvents(lbs []lb) (v, h []string) {
	quiet := 0
	for start := time.Now(); time.Since(start) < 3*time.Second && quiet < 2; {
		time.Sleep(50 * time.Millisecond)
		nv, nh := events(lbs[0].syslog.take()), events(lbs[1].syslog.take())
		v, h = append(v, nv...), append(h, nh...)
		quiet++
		if len(nv)+len(nh) > 0 || !sameEvents(v, h) {
			quiet = 0
		}
	}
	return v, h
}

// addrBackend serves HTTP on addr, answering its own address.
func addrBackend(t *testing.T, addr string) {
	t.Helper()
	l, err := net.Listen("tcp", addr)
	if err != nil {
		t.Fatal(err)
	}
	srv := &http.Server{Handler: http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		io.WriteString(w, addr)
	})}
	go srv.Serve(l)
	t.Cleanup(func() { srv.Close() })
}

// proxiedGet sends a PROXY header then a GET over one connection and
// returns "STATUS BODY".
func proxiedGet(t *testing.T, addr, header string) string {
	c, err := net.DialTimeout("tcp", addr, 2*time.Second)
	if err != nil {
		return "error"
	}
	defer c.Close()
	c.SetDeadline(time.Now().Add(3 * time.Second))
	io.WriteString(c, header+"GET / HTTP/1.1\r\nHost: x\r\nConnection: close\r\n\r\n")
	resp, err := http.ReadResponse(bufio.NewReader(c), nil)
	if err != nil {
		return "error"
	}
	b, _ := io.ReadAll(resp.Body)
	resp.Body.Close()
	return fmt.Sprint(resp.StatusCode, " ", string(b))
}

// portPair is a free port p with p+1 free too.
func portPair(t *testing.T) int {
	t.Helper()
	for i := 0; i < 50; i++ {
		p := testenv.FreePort(t)
		if l, err := net.Listen("tcp", fmt.Sprintf("127.0.0.1:%d", p+1)); err == nil {
			l.Close()
			return p
		}
	}
	t.Fatal("no two consecutive free ports")
	return 0
}

// TestServerAddressFormsAgainstHAProxy: servers without a fixed
// destination (0.0.0.0, no port, +N, -N) connect where HAProxy 2.6
// connects them: the client's destination address and port, plus the
// offset. Both run the same configuration, one after the other.
func TestServerAddressFormsAgainstHAProxy(t *testing.T) {
	if testing.Short() {
		t.Skip("starts varde and haproxy")
	}
	testenv.LookTool(t, "haproxy", "haproxy")
	p1, p2, p3, p4, p5, p6, p7 := portPair(t), testenv.FreePort(t), testenv.FreePort(t), portPair(t)+1, testenv.FreePort(t), portPair(t), testenv.FreePort(t)
	want := []string{
		fmt.Sprintf("127.0.0.1:%d", p1+1), // fe1 127.0.0.1:p1, server 0.0.0.0:+1
		fmt.Sprintf("127.0.0.1:%d", p2),   // fe2 127.0.0.6:p2, server 127.0.0.1 (no port)
		fmt.Sprintf("127.0.0.7:%d", p3),   // fe3 127.0.0.8:p3, server 127.0.0.7:0
		fmt.Sprintf("127.0.0.1:%d", p4-1), // fe4 127.0.0.1:p4, server 127.0.0.1:-1
		fmt.Sprintf("127.0.0.7:%d", p3),   // fe5 127.0.0.7:p5, server 0.0.0.0:p3
		fmt.Sprintf("127.0.0.1:%d", p6+1), // listen tcp 127.0.0.1:p6, server 0.0.0.0:+1
	}
	for _, a := range append(want[:4:4], want[5]) {
		addrBackend(t, a)
	}
	cfg := fmt.Sprintf(`defaults
    mode http
    timeout connect 1s
    timeout client 5s
    timeout server 5s
frontend fe1
    bind 127.0.0.1:%[1]d
    default_backend b1
backend b1
    server s 0.0.0.0:+1
frontend fe2
    bind 127.0.0.6:%[2]d
    default_backend b2
backend b2
    server s 127.0.0.1
frontend fe3
    bind 127.0.0.8:%[3]d
    default_backend b3
backend b3
    server s 127.0.0.7:0
frontend fe4
    bind 127.0.0.1:%[4]d
    default_backend b4
backend b4
    server s 127.0.0.1:-1
frontend fe5
    bind 127.0.0.7:%[5]d
    default_backend b5
backend b5
    server s 0.0.0.0:%[3]d
listen tcp6
    mode tcp
    bind 127.0.0.1:%[6]d
    server s 0.0.0.0:+1
listen pp7
    bind 127.0.0.1:%[7]d accept-proxy
    server s 0.0.0.0:0
`, p1, p2, p3, p4, p5, p6, p7)
	fronts := []string{fmt.Sprintf("127.0.0.1:%d", p1), fmt.Sprintf("127.0.0.6:%d", p2), fmt.Sprintf("127.0.0.8:%d", p3),
		fmt.Sprintf("127.0.0.1:%d", p4), fmt.Sprintf("127.0.0.7:%d", p5), fmt.Sprintf("127.0.0.1:%d", p6)}
	got := map[string][]string{}
	for _, which := range []string{"varde", "haproxy"} {
		t.Run(which, func(t *testing.T) {
			dir := t.TempDir()
			path := writeFile(t, dir, "haproxy.cfg", cfg)
			lbProc(t, which, path, p1)
			c := &http.Client{Timeout: 2 * time.Second, Transport: &http.Transport{DisableKeepAlives: true}}
			for _, fe := range fronts {
				resp, err := c.Get("http://" + fe + "/")
				if err != nil {
					got[which] = append(got[which], "error")
					continue
				}
				b, _ := io.ReadAll(resp.Body)
				resp.Body.Close()
				got[which] = append(got[which], fmt.Sprint(resp.StatusCode, " ", string(b)))
			}
			// accept-proxy: the destination is the PROXY header's.
			got[which] = append(got[which], proxiedGet(t, fmt.Sprintf("127.0.0.1:%d", p7), fmt.Sprintf("PROXY TCP4 127.0.0.9 127.0.0.7 5555 %d\r\n", p3)))
		})
	}
	want = append(want, fmt.Sprintf("127.0.0.7:%d", p3)) // pp7: the header's destination
	for i := range want {
		want[i] = "200 " + want[i]
	}
	if !slices.Equal(got["varde"], want) || !slices.Equal(got["haproxy"], want) {
		t.Errorf("answers:\nvarde   %q\nhaproxy %q\nwant    %q", got["varde"], got["haproxy"], want)
	}
}

// TestResolversStartAgainstHAProxy: the addresses servers start with
// (init-addr libc by default, with and without resolvers, and an IP
// method) and their fqdn, compared with HAProxy's show servers state
// before any DNS answer (the nameserver never answers).
func TestResolversStartAgainstHAProxy(t *testing.T) {
	if testing.Short() {
		t.Skip("starts varde and haproxy")
	}
	testenv.LookTool(t, "haproxy", "haproxy")
	silent, err := net.ListenUDP("udp", &net.UDPAddr{IP: net.IPv4(127, 0, 0, 1)})
	if err != nil {
		t.Fatal(err)
	}
	defer silent.Close()
	cfg := `global
    stats socket SOCK level admin
defaults
    mode http
    timeout connect 1s
    timeout client 5s
    timeout server 5s
resolvers dns
    nameserver ns1 DNS
frontend fe
    bind 127.0.0.1:FE
    default_backend be
backend be
    server a localhost:80
    server b localhost:80 resolvers dns
    server c localhost:80 resolvers dns resolve-prefer ipv6 init-addr libc
    server d name.invalid:80 resolvers dns
    server e name.invalid:80 resolvers dns init-addr 10.0.0.7
    server f name.invalid resolvers dns init-addr none,10.0.0.8
    server-template t 2 localhost:81 resolvers dns
`
	got := map[string][]string{}
	for _, which := range []string{"varde", "haproxy"} {
		t.Run(which, func(t *testing.T) {
			dir := t.TempDir()
			l := lb{name: which, sock: filepath.Join(dir, "admin.sock"), fe: testenv.FreePort(t)}
			r := strings.NewReplacer("SOCK", l.sock, "DNS", silent.LocalAddr().String(), "FE", fmt.Sprint(l.fe))
			lbProc(t, which, writeFile(t, dir, "haproxy.cfg", r.Replace(cfg)), l.fe)
			got[which] = l.serverState(t)
		})
	}
	t.Logf("%q", got["varde"])
	if !slices.Equal(got["varde"], got["haproxy"]) || len(got["varde"]) == 0 {
		t.Errorf("start states differ:\nvarde   %q\nhaproxy %q", got["varde"], got["haproxy"])
	}
}

// TestResolversSurviveReload: a reload keeps the addresses resolution gave
// (core/resolve Inherit): with the nameserver silent after the first
// answers, the reloaded configuration still serves from them instead of
// putting every init-addr none server in maintenance.
func TestResolversSurviveReload(t *testing.T) {
	if testing.Short() {
		t.Skip("starts varde")
	}
	dns, err := dnstest.Start()
	if err != nil {
		t.Fatal(err)
	}
	defer dns.Close()
	bePort := testenv.FreePort(t)
	ipBackends(t, bePort, "127.0.0.2", "127.0.0.3")
	dns.SetAddrs("app.test", "127.0.0.2", "127.0.0.3")
	dns.SetAddrs("one.test", "127.0.0.3")
	dir := t.TempDir()
	l := lb{name: "varde", sock: filepath.Join(dir, "admin.sock"), fe: testenv.FreePort(t), syslog: newSyslogRecv(t)}
	r := strings.NewReplacer("SOCK", l.sock, "DNS", dns.Addr().String(), "FE", fmt.Sprint(l.fe), "BE", fmt.Sprint(bePort),
		"SYSLOG", fmt.Sprint(l.syslog.conn.LocalAddr().(*net.UDPAddr).Port))
	// The silence lasts less than hold timeout: the servers keep their
	// addresses.
	src := strings.Replace(resolversCfg, "hold timeout 400ms", "hold timeout 1m", 1)
	cfg := writeFile(t, dir, "haproxy.cfg", r.Replace(src))
	cmd, logPath := testenv.Start(t, testenv.VardeBinary(t), "run", "-f", cfg)
	testenv.WaitListening(t, "varde", logPath, l.fe)
	var before []string
	err = testenv.Until(5*time.Second, 100*time.Millisecond, func() error {
		before = l.serverState(t)
		if got := addrSet(before); !slices.Equal(got, []string{"-", "127.0.0.2", "127.0.0.3", "127.0.0.3"}) {
			return fmt.Errorf("addresses %v", got)
		}
		return nil
	})
	if err != nil {
		t.Fatal(err)
	}
	dns.Set("app.test", dnstest.Record{Drop: true})
	dns.Set("one.test", dnstest.Record{Drop: true})
	// The reloaded configuration has one more server, to see it is live.
	writeFile(t, dir, "haproxy.cfg", r.Replace(src)+"    server extra 127.0.0.9:1 disabled\n")
	if err := cmd.Process.Signal(syscall.SIGHUP); err != nil {
		t.Fatal(err)
	}
	err = testenv.Until(10*time.Second, 100*time.Millisecond, func() error {
		st := l.serverState(t)
		if !slices.ContainsFunc(st, func(s string) bool { return strings.HasPrefix(s, "extra ") }) {
			return fmt.Errorf("not reloaded yet: %q", st)
		}
		if !slices.Equal(st[:4], before[:4]) {
			return fmt.Errorf("after reload %q, before %q", st[:4], before[:4])
		}
		return nil
	})
	if err != nil {
		t.Fatal(err)
	}
	if got := l.served(t, 12); !slices.Equal(got, []string{"127.0.0.2", "127.0.0.3"}) {
		t.Errorf("served after reload by %v", got)
	}
}

// TestResolversTCPAgainstHAProxy: a tcp@ nameserver (DNS over TCP), the
// same answers through HAProxy 2.6 and varde: the servers' states and the
// addresses serving requests.
func TestResolversTCPAgainstHAProxy(t *testing.T) {
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
	ipBackends(t, bePort, "127.0.0.2", "127.0.0.3")
	dns.SetAddrs("app.test", "127.0.0.2", "127.0.0.3")
	dns.SetAddrs("one.test", "127.0.0.3")
	ns := "tcp@" + dns.TCPAddr().String()
	lbs := []lb{startLBWith(t, "varde", ns, bePort), startLBWith(t, "haproxy", ns, bePort)}
	err = testenv.Until(5*time.Second, 100*time.Millisecond, func() error {
		v, h := lbs[0].serverState(t), lbs[1].serverState(t)
		if got := addrSet(v); !slices.Equal(got, []string{"-", "127.0.0.2", "127.0.0.3", "127.0.0.3"}) || !slices.Equal(v, h) {
			return fmt.Errorf("varde   %q\nhaproxy %q", v, h)
		}
		return nil
	})
	if err != nil {
		t.Fatal(err)
	}
	if v, h := lbs[0].served(t, 12), lbs[1].served(t, 12); !slices.Equal(v, h) || !slices.Equal(v, []string{"127.0.0.2", "127.0.0.3"}) {
		t.Errorf("served by varde %v, haproxy %v", v, h)
	}
}

// TestResolversReloadNoLeak: each generation's nameserver sockets close
// with it: 50 reloads of a resolving configuration leave varde with the
// open files it had after the first.
func TestResolversReloadNoLeak(t *testing.T) {
	if testing.Short() {
		t.Skip("starts varde")
	}
	dns, err := dnstest.Start()
	if err != nil {
		t.Fatal(err)
	}
	defer dns.Close()
	bePort := testenv.FreePort(t)
	ipBackends(t, bePort, "127.0.0.2")
	dns.SetAddrs("app.test", "127.0.0.2")
	dns.SetAddrs("one.test", "127.0.0.2")
	dir := t.TempDir()
	l := lb{name: "varde", sock: filepath.Join(dir, "admin.sock"), fe: testenv.FreePort(t), syslog: newSyslogRecv(t)}
	r := strings.NewReplacer("SOCK", l.sock, "DNS", dns.Addr().String(), "FE", fmt.Sprint(l.fe), "BE", fmt.Sprint(bePort),
		"SYSLOG", fmt.Sprint(l.syslog.conn.LocalAddr().(*net.UDPAddr).Port))
	cfg := writeFile(t, dir, "haproxy.cfg", r.Replace(resolversCfg))
	cmd, logPath := testenv.Start(t, testenv.VardeBinary(t), "run", "-f", cfg)
	testenv.WaitListening(t, "varde", logPath, l.fe)
	fds := func() int {
		ents, err := os.ReadDir(fmt.Sprintf("/proc/%d/fd", cmd.Process.Pid))
		if err != nil {
			t.Fatalf("varde's open files: %v", err)
		}
		return len(ents)
	}
	reload := func(n int) {
		writeFile(t, dir, "haproxy.cfg", r.Replace(resolversCfg)+fmt.Sprintf("    server extra%d 127.0.0.9:1 disabled\n", n))
		if err := cmd.Process.Signal(syscall.SIGHUP); err != nil {
			t.Fatal(err)
		}
		err := testenv.Until(10*time.Second, 20*time.Millisecond, func() error {
			st, err := serversStateOnce(l.sock) // the socket is rebound during a reload
			if err != nil {
				return err
			}
			if !strings.Contains(st, fmt.Sprintf(" extra%d ", n)) {
				return fmt.Errorf("reload %d not done: %q", n, st)
			}
			if strings.Contains(st, " 127.0.0.2 ") {
				return nil // the new generation resolves (its sockets are open)
			}
			return fmt.Errorf("reload %d: nothing resolved: %q", n, st)
		})
		if err != nil {
			t.Fatal(err)
		}
	}
	reload(0)
	base := fds()
	for n := 1; n <= 50; n++ {
		reload(n)
	}
	err = testenv.Until(5*time.Second, 50*time.Millisecond, func() error {
		if got := fds(); got > base+3 {
			return fmt.Errorf("varde has %d open files after 50 reloads, %d after the first", got, base)
		}
		return nil
	})
	if err != nil {
		t.Fatal(err)
	}
}

// serversStateOnce is `show servers state be`, an error when the admin
// socket does not answer.
func serversStateOnce(sock string) (string, error) {
	c, err := net.DialTimeout("unix", sock, time.Second)
	if err != nil {
		return "", err
	}
	defer c.Close()
	c.SetDeadline(time.Now().Add(2 * time.Second))
	if _, err := io.WriteString(c, "show servers state be\n"); err != nil {
		return "", err
	}
	b, err := io.ReadAll(c)
	return string(b), err
}
