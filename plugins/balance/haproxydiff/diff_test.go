package haproxydiff

import (
	"bufio"
	"fmt"
	"net"
	"net/http"
	"net/netip"
	"os"
	"path/filepath"
	"strconv"
	"strings"
	"testing"
	"time"

	"github.com/varde-lb/varde/core"
	"github.com/varde-lb/varde/core/acl/acltest"
	"github.com/varde-lb/varde/core/testenv"
	bt "github.com/varde-lb/varde/plugins/balance/balancetest"

	_ "github.com/varde-lb/varde/plugins/all"
)

// request is one request of a case: its target, Host header, extra header
// lines and the client address it comes from.
type request struct {
	uri, host string
	headers   []string
	src       netip.Addr
}

type diffCase struct {
	name    string
	spec    core.BalanceSpec
	cfg     string // the balance/hash-type lines of the HAProxy backend
	weights []int
	reqs    []request
	// counts compares only how many requests each server got (for
	// algorithms whose order legitimately differs, e.g. roundrobin).
	counts bool
}

func uris(n int, f func(i int) string) []request {
	out := make([]request, n)
	for i := range out {
		out[i] = request{uri: f(i), host: "www.example.com"}
	}
	return out
}

var pathWords = []string{"img", "css", "api", "v1", "users", "static", "a", "b", "index.html", "logo.png", "x"}

func path(i int) string {
	var b strings.Builder
	for d := 0; d <= i%4; d++ {
		b.WriteString("/")
		b.WriteString(pathWords[(i*7+d*3)%len(pathWords)])
		if (i+d)%3 == 0 {
			b.WriteString(strconv.Itoa(i * 31))
		}
	}
	return b.String()
}

func cases() []diffCase {
	var cs []diffCase
	u := func(i int) string { return path(i) + "?q=" + strconv.Itoa(i%17) }
	for _, fn := range []string{"sdbm", "djb2", "wt6", "crc32"} {
		cs = append(cs, diffCase{
			name: "uri map-based " + fn, weights: []int{1, 2, 3, 1},
			spec: core.BalanceSpec{Algorithm: "uri", HashType: "map-based", HashFunc: fn},
			cfg:  "balance uri\n  hash-type map-based " + fn, reqs: uris(150, u),
		})
	}
	cs = append(cs,
		diffCase{
			name: "uri map-based avalanche", weights: []int{2, 1, 1},
			spec: core.BalanceSpec{Algorithm: "uri", HashAvalanche: true},
			cfg:  "balance uri\n  hash-type map-based sdbm avalanche", reqs: uris(150, u),
		},
		diffCase{
			name: "uri len depth whole", weights: []int{1, 1, 1, 1, 1},
			spec: core.BalanceSpec{Algorithm: "uri", Args: []string{"len", "12", "depth", "2", "whole"}},
			cfg:  "balance uri len 12 depth 2 whole", reqs: uris(150, u),
		},
		diffCase{
			name: "uri path-only", weights: []int{1, 1, 1},
			spec: core.BalanceSpec{Algorithm: "uri", Args: []string{"path-only"}},
			cfg:  "balance uri path-only",
			reqs: uris(120, func(i int) string {
				if i%2 == 0 {
					return "http://www.example.com" + u(i)
				}
				return u(i)
			}),
		},
		diffCase{
			name: "uri consistent", weights: []int{1, 2, 1, 3},
			spec: core.BalanceSpec{Algorithm: "uri", HashType: "consistent"},
			cfg:  "balance uri\n  hash-type consistent", reqs: uris(150, u),
		},
		diffCase{
			name: "uri consistent equal weights", weights: []int{1, 1, 1, 1},
			spec: core.BalanceSpec{Algorithm: "uri", HashType: "consistent"},
			cfg:  "balance uri\n  hash-type consistent", reqs: uris(150, u),
		},
		diffCase{
			name: "uri consistent weighted avalanche", weights: []int{1, 2, 1, 3},
			spec: core.BalanceSpec{Algorithm: "uri", HashType: "consistent", HashAvalanche: true},
			cfg:  "balance uri\n  hash-type consistent sdbm avalanche", reqs: uris(150, u),
		},
		diffCase{
			name: "source map-based avalanche", weights: []int{1, 1, 2, 1},
			spec: core.BalanceSpec{Algorithm: "source", HashAvalanche: true},
			cfg:  "balance source\n  hash-type map-based sdbm avalanche",
			reqs: sources(120),
		},
		diffCase{
			name: "uri consistent avalanche", weights: []int{1, 1, 1, 1, 1},
			spec: core.BalanceSpec{Algorithm: "uri", HashType: "consistent", HashAvalanche: true},
			cfg:  "balance uri\n  hash-type consistent sdbm avalanche", reqs: uris(150, u),
		},
		diffCase{
			// Requests without the parameter fall back to the map's round
			// robin, interleaved with hashed ones: the order must match too.
			name: "url_param with fallback", weights: []int{1, 2, 1},
			spec: core.BalanceSpec{Algorithm: "url_param", Args: []string{"uid"}},
			cfg:  "balance url_param uid",
			reqs: uris(150, func(i int) string {
				switch i % 5 {
				case 0:
					return "/cart"
				case 1:
					return "/cart?lang=fr"
				}
				return "/cart?lang=en&uid=" + strconv.Itoa(i*i) + "&x=1"
			}),
		},
		diffCase{
			// Consistent hashing falls back to walking the ring's points.
			name: "url_param consistent with fallback", weights: []int{1, 2, 1},
			spec: core.BalanceSpec{Algorithm: "url_param", Args: []string{"uid"}, HashType: "consistent"},
			cfg:  "balance url_param uid\n  hash-type consistent",
			reqs: uris(150, func(i int) string {
				if i%3 == 0 {
					return "/cart"
				}
				return "/cart?uid=" + strconv.Itoa(i*i)
			}),
		},
		diffCase{
			name: "hdr use_domain_only", weights: []int{1, 1, 2},
			spec: core.BalanceSpec{Algorithm: "hdr", Param: "host", Args: []string{"use_domain_only"}},
			cfg:  "balance hdr(host) use_domain_only",
			reqs: func() []request {
				var rs []request
				for i := range 120 {
					host := fmt.Sprintf("www.site%d.example%d.com", i, i%3)
					if i%4 == 0 {
						host = fmt.Sprintf("site%d.org", i)
					}
					rs = append(rs, request{uri: "/", host: host})
				}
				return rs
			}(),
		},
		diffCase{
			name: "hdr missing falls back", weights: []int{1, 1, 1},
			spec: core.BalanceSpec{Algorithm: "hdr", Param: "X-Tenant"},
			cfg:  "balance hdr(X-Tenant)",
			reqs: func() []request {
				var rs []request
				for i := range 90 {
					r := request{uri: "/", host: "h"}
					if i%3 != 0 {
						r.headers = []string{"X-Tenant: tenant-" + strconv.Itoa(i*13)}
					}
					rs = append(rs, r)
				}
				return rs
			}(),
		},
		diffCase{
			// As in the seed configs: a User-Agent's first comma ends the key.
			name: "hdr user-agent", weights: []int{1, 1, 1, 1},
			spec: core.BalanceSpec{Algorithm: "hdr", Param: "User-Agent"},
			cfg:  "balance hdr(User-Agent)",
			reqs: func() []request {
				var rs []request
				for i := range 100 {
					ua := fmt.Sprintf("Mozilla/5.0 (X11; Linux x86_64) AppleWebKit/%d.36 (KHTML, like Gecko) Chrome/%d", 500+i%13, i)
					rs = append(rs, request{uri: "/", host: "h", headers: []string{"User-Agent: " + ua}})
				}
				return rs
			}(),
		},
		diffCase{
			name: "source map-based", weights: []int{1, 1, 2, 1},
			spec: core.BalanceSpec{Algorithm: "source"},
			cfg:  "balance source",
			reqs: sources(120),
		},
		diffCase{
			name: "source consistent", weights: []int{1, 1, 1},
			spec: core.BalanceSpec{Algorithm: "source", HashType: "consistent"},
			cfg:  "balance source\n  hash-type consistent",
			reqs: sources(120),
		},
		diffCase{
			name: "static-rr", weights: []int{3, 1, 2},
			spec: core.BalanceSpec{Algorithm: "static-rr"},
			cfg:  "balance static-rr",
			reqs: uris(60, func(int) string { return "/" }),
		},
		diffCase{
			name: "leastconn sequential", weights: []int{1, 1, 1},
			spec: core.BalanceSpec{Algorithm: "leastconn"},
			cfg:  "balance leastconn",
			reqs: uris(30, func(int) string { return "/" }),
		},
		diffCase{
			name: "first without maxconn", weights: []int{1, 1, 1},
			spec: core.BalanceSpec{Algorithm: "first"},
			cfg:  "balance first",
			reqs: uris(10, func(int) string { return "/" }),
		},
		diffCase{
			name: "roundrobin equal weights", weights: []int{1, 1, 1},
			spec: core.BalanceSpec{Algorithm: "roundrobin"},
			cfg:  "balance roundrobin",
			reqs: uris(30, func(int) string { return "/" }),
		},
		diffCase{
			name: "roundrobin weighted counts", weights: []int{1, 2, 3},
			spec: core.BalanceSpec{Algorithm: "roundrobin"},
			cfg:  "balance roundrobin", counts: true,
			reqs: uris(60, func(int) string { return "/" }),
		},
	)
	return cs
}

func sources(n int) []request {
	out := make([]request, n)
	for i := range out {
		out[i] = request{uri: "/", host: "h", src: netip.AddrFrom4([4]byte{127, byte(1 + i%7), byte(i * 37), byte(1 + i*11%250)})}
	}
	return out
}

// backend answers with its name in X-Server.
func backend(t *testing.T, name string) string {
	l, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	srv := &http.Server{Handler: http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		w.Header().Set("X-Server", name)
		w.WriteHeader(200)
	}), ReadHeaderTimeout: 5 * time.Second}
	go srv.Serve(l)
	t.Cleanup(func() { srv.Close() })
	return l.Addr().String()
}

func TestSameServerAsHAProxy(t *testing.T) {
	if testing.Short() {
		t.Skip("starts haproxy")
	}
	haproxy := testenv.LookTool(t, "haproxy", "haproxy")
	cs := cases()
	maxServers := 0
	for _, c := range cs {
		maxServers = max(maxServers, len(c.weights))
	}
	addrs := make([]string, maxServers)
	for i := range addrs {
		addrs[i] = backend(t, fmt.Sprintf("s%d", i+1))
	}

	// The token proves answers come from this HAProxy, not from whatever
	// else may have grabbed a port in the meantime.
	token := fmt.Sprintf("diff-%d", os.Getpid())
	ports, cfgPath, cfgText := writeConfig(t, cs, addrs, token, testenv.FreePorts(t, len(cs)))
	if out, err := runCheck(haproxy, cfgPath); err != nil {
		t.Fatalf("haproxy -c: %v\n%s\n%s", err, out, cfgText)
	}
	_, logPath := testenv.Start(t, haproxy, "-f", cfgPath, "-db")
	testenv.WaitListening(t, "haproxy", logPath, ports...)

	for i, c := range cs {
		t.Run(c.name, func(t *testing.T) {
			b, err := core.NewBalancer(c.spec)
			if err != nil {
				t.Fatal(err)
			}
			b.Update(bt.Servers(c.weights...))
			got, want := map[string]int{}, map[string]int{}
			mismatches := 0
			for _, r := range c.reqs {
				actual, err := send(ports[i], token, r)
				if err != nil {
					logs, _ := os.ReadFile(logPath)
					t.Fatalf("request %+v: %v\nhaproxy log:\n%s", r, err, logs)
				}
				req := acltest.New("GET", r.uri, append([]string{"Host: " + r.host}, r.headers...)...)
				ctx := &core.PickContext{Req: req, Src: r.src}
				if !r.src.IsValid() {
					ctx.Src = netip.MustParseAddr("127.0.0.1")
				}
				predicted := bt.Names(b.Pick(ctx))[0]
				got[actual]++
				want[predicted]++
				if !c.counts && predicted != actual {
					if mismatches++; mismatches <= 5 {
						t.Errorf("%s (host %s, src %v): HAProxy chose %s, varde %s", r.uri, r.host, r.src, actual, predicted)
					}
				}
			}
			if mismatches > 0 {
				t.Errorf("%d of %d requests differ", mismatches, len(c.reqs))
			}
			if fmt.Sprint(got) != fmt.Sprint(want) {
				t.Errorf("per-server counts: HAProxy %v, varde %v", got, want)
			}
		})
	}
}

// writeConfig writes one haproxy.cfg with a frontend on ports[i] and a
// backend per case, and returns the ports, the file and its text.
func writeConfig(t *testing.T, cs []diffCase, addrs []string, token string, ports []int) ([]int, string, string) {
	var cfg strings.Builder
	cfg.WriteString("global\n  nbthread 1\n\ndefaults\n  mode http\n  timeout connect 2s\n  timeout client 5s\n  timeout server 5s\n")
	for i, c := range cs {
		fmt.Fprintf(&cfg, "\nfrontend f%d\n  bind 127.0.0.1:%d\n  http-response set-header X-Token %s\n  default_backend b%d\n", i, ports[i], token, i)
		fmt.Fprintf(&cfg, "\nbackend b%d\n  %s\n", i, c.cfg)
		for j, w := range c.weights {
			fmt.Fprintf(&cfg, "  server s%d %s weight %d\n", j+1, addrs[j], w)
		}
	}
	cfgPath := filepath.Join(t.TempDir(), "haproxy.cfg")
	if err := os.WriteFile(cfgPath, []byte(cfg.String()), 0o644); err != nil {
		t.Fatal(err)
	}
	return ports, cfgPath, cfg.String()
}

func runCheck(haproxy, cfg string) ([]byte, error) {
	return execCommand(haproxy, "-c", "-f", cfg)
}

// send makes one request on a fresh connection from r.src and returns the
// X-Server of the answer.
func send(port int, token string, r request) (string, error) {
	d := net.Dialer{Timeout: 3 * time.Second}
	if r.src.IsValid() {
		d.LocalAddr = &net.TCPAddr{IP: r.src.AsSlice()}
	}
	conn, err := d.Dial("tcp", fmt.Sprintf("127.0.0.1:%d", port))
	if err != nil {
		return "", err
	}
	defer conn.Close()
	conn.SetDeadline(time.Now().Add(5 * time.Second))
	var b strings.Builder
	fmt.Fprintf(&b, "GET %s HTTP/1.1\r\nHost: %s\r\n", r.uri, r.host)
	for _, h := range r.headers {
		b.WriteString(h + "\r\n")
	}
	b.WriteString("Connection: close\r\n\r\n")
	if _, err := conn.Write([]byte(b.String())); err != nil {
		return "", err
	}
	resp, err := http.ReadResponse(bufio.NewReader(conn), nil)
	if err != nil {
		return "", err
	}
	resp.Body.Close()
	if resp.StatusCode != 200 || resp.Header.Get("X-Token") != token {
		return "", fmt.Errorf("status %d, token %q: not our haproxy", resp.StatusCode, resp.Header.Get("X-Token"))
	}
	return resp.Header.Get("X-Server"), nil
}
