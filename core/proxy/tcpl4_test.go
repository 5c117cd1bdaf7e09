package proxy

import (
	"fmt"
	"io"
	"net"
	"strings"
	"testing"
	"time"

	"github.com/google/go-cmp/cmp"
	"github.com/varde-lb/varde/core/testenv"
)

// tcpL4Config exercises every action of tcp-request connection and session
// rules: mode http (fe, the values seen by http-request rules over one
// keep-alive connection) and mode tcp (ft, routing on them).
const tcpL4Config = `defaults
    timeout connect 2s
    timeout client 10s
    timeout server 10s
frontend fe
    mode http
    bind 127.0.0.1:{{PORT}}
    stick-table type ip size 10 store gpc0,gpc1,gpt0
    tcp-request connection set-var(sess.conn) str(c1)
    tcp-request connection set-var(txn.lost) str(t)
    tcp-request connection set-var(sess.gone) str(g)
    tcp-request connection set-var-fmt(sess.fmt) "%[src]-%[int(5)]"
    tcp-request connection set-src ipv4(192.0.2.7)
    tcp-request connection set-src-port int(4000)
    tcp-request connection track-sc0 src
    tcp-request connection sc-inc-gpc0(0)
    tcp-request connection sc-inc-gpc0(1)
    tcp-request connection sc-inc-gpc1(0)
    tcp-request session sc-inc-gpc1(0)
    tcp-request connection reject if { var(sess.conn) -m str nope }
    tcp-request session set-var(sess.cnt) sc0_get_gpc0
    tcp-request session sc-set-gpt0(0) 7 if { var(sess.cnt) -m int gt 1 }
    tcp-request session set-dst ipv4(10.1.2.3)
    tcp-request session set-dst-port int(8080)
    tcp-request session unset-var(sess.gone) if { src 192.0.2.7 }
    tcp-request session set-var(proc.seen) src_port
    http-request set-header X-Conn %[var(sess.conn)]
    http-request set-header X-Fmt %[var(sess.fmt)]
    http-request set-header X-Lost "%[var(txn.lost)]"
    http-request set-header X-Gone "%[var(sess.gone)]"
    http-request set-header X-Src %[src]:%[src_port]
    http-request set-header X-Dst %[dst]:%[dst_port]
    http-request set-header X-Cnt %[var(sess.cnt)]
    http-request set-header X-Gpt %[sc0_get_gpt0]
    http-request set-header X-Proc %[var(proc.seen)]
    http-request sc-inc-gpc1(0) if { path /b }
    http-request set-header X-G1 %[sc0_get_gpc1]
    http-request set-var(sess.conn) str(c2)
    option forwardfor
    default_backend app
frontend ft
    mode tcp
    bind 127.0.0.1:{{PORT2}}
    tcp-request connection set-var(sess.pick) str(two) if { src 127.0.0.1 }
    tcp-request session set-src ipv6(2001:db8::5)
    tcp-request session set-var(sess.skip) str(x) if { src 127.0.0.1 }
    use_backend two if { var(sess.pick) -m str two } { src 2001:db8::5 } !{ var(sess.skip) -m found }
    default_backend one
backend app
    mode http
    server s1 {{BACKEND}}
backend one
    mode tcp
    server s1 {{ONE}}
backend two
    mode tcp
    server s1 {{TWO}}
`

// TestTCPL4ActionsDifferentialHAProxy: what a connection's tcp-request
// connection and session actions leave for its requests (variables,
// rewritten addresses, stick counters) and its routing, in HAProxy 2.6
// and varde. Two connections: the second sees gpc0 at 2 and gets gpt0.
func TestTCPL4ActionsDifferentialHAProxy(t *testing.T) {
	testenv.LookTool(t, "haproxy", "haproxy") // skip early without HAProxy
	b, _ := backend(t, "echo", echoXHeaders)
	answer := func(name string) string {
		return rawServer(t, func(c net.Conn) {
			c.SetDeadline(time.Now().Add(5 * time.Second))
			buf := make([]byte, 64)
			n, _ := c.Read(buf)
			fmt.Fprintf(c, "%s got %q\n", name, buf[:n])
		})
	}
	one, two := answer("one"), answer("two")
	render := func(ports []int) string {
		return strings.NewReplacer("{{PORT}}", fmt.Sprint(ports[0]), "{{PORT2}}", fmt.Sprint(ports[1]),
			"{{BACKEND}}", hostport(b), "{{ONE}}", one, "{{TWO}}", two).Replace(tcpL4Config)
	}
	reqs := [][]string{{
		"GET /a HTTP/1.1\r\nHost: h\r\n\r\n",
		"GET /b HTTP/1.1\r\nHost: h\r\n\r\n",
	}, {"GET /c HTTP/1.1\r\nHost: h\r\n\r\n"}}
	run := func(ports []int) []string {
		out := varsExchange(t, fmt.Sprintf("127.0.0.1:%d", ports[0]), reqs)
		c, err := net.Dial("tcp", fmt.Sprintf("127.0.0.1:%d", ports[1]))
		if err != nil {
			t.Fatal(err)
		}
		defer c.Close()
		c.SetDeadline(time.Now().Add(5 * time.Second))
		io.WriteString(c, "hello")
		got, _ := io.ReadAll(c)
		return append(out, string(got))
	}
	hports := testenv.FreePorts(t, 2)
	startHAProxyText(t, render(hports))
	// Only ft is probed: a probe of fe would count in its gpc0.
	testenv.WaitTCP(t, fmt.Sprintf("127.0.0.1:%d", hports[1]), 10*time.Second)
	hOut := run(hports)

	vports := testenv.FreePorts(t, 2)
	startVardeText(t, render(vports), vports[0])
	testenv.WaitTCP(t, fmt.Sprintf("127.0.0.1:%d", vports[1]), 10*time.Second)
	vOut := run(vports)
	if d := cmp.Diff(hOut, vOut); d != "" {
		t.Errorf("answers differ (-haproxy +varde)\n%s", d)
	}
	all := strings.Join(vOut, "\n")
	for _, want := range []string{"X-Conn: c1", "X-Fmt: 127.0.0.1-", "X-Src: 192.0.2.7:4000", "X-Dst: 10.1.2.3:8080",
		"X-Forwarded-For: 192.0.2.7", "X-Cnt: 2", "X-Gpt: 7", "X-G1: 2", "X-G1: 3", "X-G1: 5", "X-Proc: 4000", `two got "hello"`} {
		if !strings.Contains(all, want) {
			t.Errorf("varde: missing %q in:\n%s", want, all)
		}
	}
	for _, bad := range []string{"X-Lost: t", "X-Gone: g"} {
		if strings.Contains(all, bad) {
			t.Errorf("varde: %q should not be there:\n%s", bad, all)
		}
	}
}
