package proxy

import (
	"bufio"
	"fmt"
	"io"
	"net"
	"net/http"
	"os"
	"path/filepath"
	"sort"
	"strings"
	"testing"
	"time"

	"github.com/google/go-cmp/cmp"
	"github.com/varde-lb/varde/core/testenv"
)

// dispatchServersConfig: a backend with dispatch and servers (no balance):
// use-server, cookie persistence and stick match go to the servers, the
// rest to the dispatch address; the servers are checked (s3 is dead) and
// listed on the stats page.
const dispatchServersConfig = `defaults
    mode http
    timeout connect 1s
    timeout client 5s
    timeout server 5s

frontend fe
    bind 127.0.0.1:{{PORT}}
    use_backend st if { path_beg /st/ }
    default_backend b

listen stats
    bind 127.0.0.1:{{STATS}}
    stats enable
    stats uri /stats

backend st
    balance roundrobin
    stick-table type string len 32 size 10
    stick store-request req.hdr(x-user)
    server s1 {{S1}}
    server s2 {{S2}}

backend b
    dispatch {{D}}
    cookie SRV insert indirect nocache
    use-server s1 if { path_beg /one }
    stick match req.hdr(x-user) table st
    server s1 {{S1}} cookie c1 check inter 100ms
    server s2 {{S2}} cookie c2 check inter 100ms
    server s3 {{DEAD}} cookie c3 check inter 100ms
`

var dispatchServersRequests = []string{
	"GET /x HTTP/1.1\r\nHost: h\r\n\r\n",
	"GET /one HTTP/1.1\r\nHost: h\r\n\r\n",
	"GET /y HTTP/1.1\r\nHost: h\r\nCookie: SRV=c2\r\n\r\n",
	"GET /one HTTP/1.1\r\nHost: h\r\nCookie: SRV=c2\r\n\r\n",
	"GET /z HTTP/1.1\r\nHost: h\r\nCookie: SRV=c3\r\n\r\n",
	"GET /st/a HTTP/1.1\r\nHost: h\r\nX-User: u1\r\n\r\n",
	"GET /st/b HTTP/1.1\r\nHost: h\r\nX-User: u2\r\n\r\n",
	"GET /w HTTP/1.1\r\nHost: h\r\nX-User: u2\r\n\r\n",
	"GET /w HTTP/1.1\r\nHost: h\r\nX-User: u9\r\n\r\n",
}

var dispatchServersLate = []string{
	"GET /z HTTP/1.1\r\nHost: h\r\nCookie: SRV=c3\r\n\r\n",
	"GET /v HTTP/1.1\r\nHost: h\r\n\r\n",
}

// TestDispatchWithServersDifferential runs a dispatch backend with
// use-server, cookie and stick match beside its servers through HAProxy
// 2.6 and varde: which server answers each request, the cookie set, and
// the stats rows (name and status, the dead server's check included).
func TestDispatchWithServersDifferential(t *testing.T) {
	haproxy := testenv.LookTool(t, "haproxy", "haproxy")
	addrs := namedServers(t, "d", "s1", "s2")
	addrs["DEAD"] = closedPort(t)
	run := func(bin string, args ...string) ([]string, []string) {
		ports := testenv.FreePorts(t, 2)
		r := strings.NewReplacer("{{PORT}}", fmt.Sprint(ports[0]), "{{STATS}}", fmt.Sprint(ports[1]),
			"{{D}}", addrs["d"], "{{S1}}", addrs["s1"], "{{S2}}", addrs["s2"], "{{DEAD}}", addrs["DEAD"])
		cfg := filepath.Join(t.TempDir(), "p.cfg")
		os.WriteFile(cfg, []byte(r.Replace(dispatchServersConfig)), 0o644)
		_, out := testenv.Start(t, bin, append(args, "-f", cfg)...)
		testenv.WaitListening(t, bin, out, ports...)
		var got []string
		for _, raw := range dispatchServersRequests {
			got = append(got, oneRequest(t, fmt.Sprintf("127.0.0.1:%d", ports[0]), raw))
		}
		// The checks settle: s3 down after fall 3.
		var rows []string
		testenv.Until(10*time.Second, 100*time.Millisecond, func() error {
			rows = statsRows(t, fmt.Sprintf("127.0.0.1:%d", ports[1]), "b")
			if !strings.Contains(strings.Join(rows, ","), "s3 DOWN") {
				return fmt.Errorf("s3 not down yet: %v", rows)
			}
			return nil
		})
		// Once s3's checks failed: HAProxy keeps it up (no balancer
		// commits the state), so its cookie still sends to it.
		for _, raw := range dispatchServersLate {
			got = append(got, oneRequest(t, fmt.Sprintf("127.0.0.1:%d", ports[0]), raw))
		}
		return got, rows
	}
	hOut, hRows := run(haproxy, "-db")
	vOut, vRows := run(testenv.VardeBinary(t), "run")
	for i := range hOut {
		t.Logf("%-50q haproxy %-20s | varde %s", append(dispatchServersRequests, dispatchServersLate...)[i], hOut[i], vOut[i])
	}
	t.Logf("stats: haproxy %v | varde %v", hRows, vRows)
	if d := cmp.Diff(hOut, vOut); d != "" {
		t.Errorf("answers differ (-haproxy +varde)\n%s", d)
	}
	if d := cmp.Diff(hRows, vRows); d != "" {
		t.Errorf("stats rows differ (-haproxy +varde)\n%s", d)
	}
}

// oneRequest sends raw on a new connection: the status, the server that
// answered and the Set-Cookie sent.
func oneRequest(t *testing.T, addr, raw string) string {
	c, err := net.Dial("tcp", addr)
	if err != nil {
		t.Fatal(err)
	}
	defer c.Close()
	c.SetDeadline(time.Now().Add(5 * time.Second))
	io.WriteString(c, raw)
	resp, err := http.ReadResponse(bufio.NewReader(c), nil)
	if err != nil {
		return "closed"
	}
	io.Copy(io.Discard, resp.Body)
	resp.Body.Close()
	return fmt.Sprintf("%d %s %s", resp.StatusCode, resp.Header.Get("X-Server"), resp.Header.Get("Set-Cookie"))
}

// statsRows reads the stats CSV: "svname status weight check_status" of the
// proxy's rows, sorted.
func statsRows(t *testing.T, addr, proxy string) []string {
	var rows []string
	for _, r := range statsCSV(t, "http://"+addr+"/stats;csv") {
		if r["pxname"] == proxy {
			rows = append(rows, strings.Join([]string{r["svname"], r["status"], "weight=" + r["weight"], strings.TrimPrefix(r["check_status"], "* ")}, " ")) // "* ": a check running now
		}
	}
	sort.Strings(rows)
	return rows
}
