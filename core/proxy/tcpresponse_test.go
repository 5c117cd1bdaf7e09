package proxy

import (
	"encoding/hex"
	"fmt"
	"io"
	"net"
	"strings"
	"testing"
	"time"

	"github.com/google/go-cmp/cmp"
	"github.com/varde-lb/varde/core/testenv"
)

// A server script: after reading the client's first bytes, each step
// writes ("w:TEXT", "x:HEX") or sleeps ("s:MS"); "hold" keeps the
// connection open until the client closes it (at most 2s), otherwise the
// server closes after the last step.
type resScript []string

func resServer(t *testing.T, steps resScript) string {
	return rawServer(t, func(c net.Conn) {
		c.SetDeadline(time.Now().Add(4 * time.Second))
		buf := make([]byte, 64)
		c.Read(buf)
		for _, st := range steps {
			op, arg, _ := strings.Cut(st, ":")
			switch op {
			case "w":
				io.WriteString(c, arg)
			case "x":
				b, _ := hex.DecodeString(arg)
				c.Write(b)
			case "s":
				var ms int
				fmt.Sscan(arg, &ms)
				time.Sleep(time.Duration(ms) * time.Millisecond)
			case "hold":
				c.SetReadDeadline(time.Now().Add(2 * time.Second))
				io.Copy(io.Discard, c)
			}
		}
	})
}

// serverHello is the start of a TLS record holding a complete ServerHello
// handshake message (type 2) of 4 bytes.
const serverHello = "16030300080200000403030000"

var tcpResponseCases = []struct {
	name, rules string
	server      resScript
}{
	{"accept once long enough", "tcp-response inspect-delay 2s\n    tcp-response content accept if { res.len ge 5 }\n    tcp-response content reject",
		resScript{"w:hel", "s:150", "w:lo world", "hold"}},
	{"reject on payload", "tcp-response inspect-delay 2s\n    tcp-response content reject if { res.payload(0,3) -m str BAD }",
		resScript{"w:BA", "s:100", "w:D stuff", "hold"}},
	{"good payload passes", "tcp-response inspect-delay 2s\n    tcp-response content reject if { res.payload(0,3) -m str BAD }",
		resScript{"w:GO", "s:100", "w:OD stuff", "s:100", "w: more"}},
	{"close", "tcp-response inspect-delay 2s\n    tcp-response content close if { res.payload(0,3) -m str BYE }",
		resScript{"w:BYE now", "hold"}},
	{"set-var txn then reject on it", "tcp-response inspect-delay 2s\n    tcp-response content set-var(txn.t) res.len if { res.len ge 4 }\n    tcp-response content reject if { var(txn.t) -m int 4 }",
		resScript{"w:NOPE", "hold"}},
	{"set-var sess then reject on it", "tcp-response inspect-delay 2s\n    tcp-response content set-var(sess.t) res.payload(0,3),hex if { res.len ge 3 }\n    tcp-response content reject if { var(sess.t) -m str 4E4F50 }",
		resScript{"w:NOPE", "hold"}},
	{"an unconditional set-var decides at once, before the bytes", "tcp-response inspect-delay 2s\n    tcp-response content set-var(txn.t) res.payload(0,3)\n    tcp-response content reject if { var(txn.t) -m str NOP }",
		resScript{"w:NOPE", "hold"}},
	{"set-var-fmt and unset-var", "tcp-response inspect-delay 2s\n    tcp-response content set-var-fmt(sess.f) \"x%[res.len]\" if { res.len ge 3 }\n    tcp-response content unset-var(sess.f) if { res.payload(0,1) -m str Z }\n    tcp-response content reject if { var(sess.f) -m str x4 }",
		resScript{"w:ABCD", "hold"}},
	{"delay expires and the last run decides", "tcp-response inspect-delay 400ms\n    tcp-response content accept if { res.len ge 10 }\n    tcp-response content reject",
		resScript{"w:short", "hold"}},
	{"server closes during the delay", "tcp-response inspect-delay 2s\n    tcp-response content accept if { res.len ge 10 }\n    tcp-response content reject if { res.len lt 3 }",
		resScript{"w:ab"}},
	{"no delay: the rules run before the bytes", "tcp-response content reject if { res.payload(0,3) -m str BAD }",
		resScript{"s:150", "w:BAD", "s:50", "w:!"}},
	{"server hello", "tcp-response inspect-delay 2s\n    tcp-response content accept if { res.ssl_hello_type 2 }\n    tcp-response content reject",
		resScript{"x:" + serverHello[:12], "s:100", "x:" + serverHello[12:], "s:50", "w:tail"}},
	{"not a hello", "tcp-response inspect-delay 2s\n    tcp-response content accept if { res.ssl_hello_type 2 }\n    tcp-response content reject",
		resScript{"w:HTTP/1.0 200 OK\r\n", "hold"}},
	{"sc-inc-gpc0 then reject", "tcp-response inspect-delay 2s\n    tcp-response content sc-inc-gpc0(0)\n    tcp-response content sc-set-gpt0(0) 9\n    tcp-response content reject if { sc0_get_gpc0 gt 1 }",
		resScript{"w:hello"}},
	{"sc-inc-gpc1 then reject", "tcp-response inspect-delay 2s\n    tcp-response content sc-inc-gpc1(0)\n    tcp-response content reject if { sc0_get_gpc1 gt 1 }",
		resScript{"w:hello"}},
}

const tcpResponseConfig = `defaults
    mode tcp
    timeout connect 2s
    timeout client 5s
    timeout server 5s
frontend ft
    bind 127.0.0.1:{{PORT}}
    stick-table type ip size 10 store gpc0,gpc1,gpt0
    tcp-request connection track-sc0 src
    default_backend b
backend b
    {{RULES}}
    server s1 {{SERVER}}
`

// TestTCPResponseDifferentialHAProxy: what a client receives (bytes, and
// how the connection ends) through tcp-response content rules in HAProxy
// 2.6 and in varde, for each server script. The client sends "ping" and
// reads until the end (1.5s at most); the sc-inc-gpc0 case connects twice.
func TestTCPResponseDifferentialHAProxy(t *testing.T) {
	testenv.LookTool(t, "haproxy", "haproxy") // skip early without HAProxy
	ask := func(addr string, times int) string {
		var out []string
		for i := 0; i < times; i++ {
			c, err := net.Dial("tcp", addr)
			if err != nil {
				t.Fatal(err)
			}
			start := time.Now()
			c.SetDeadline(start.Add(1500 * time.Millisecond))
			io.WriteString(c, "ping")
			b, err := io.ReadAll(c)
			end := "closed"
			if err != nil {
				end = "error " + strings.TrimPrefix(fmt.Sprint(err), "read tcp ")
				if strings.Contains(end, "reset") {
					end = "reset"
				} else if strings.Contains(end, "timeout") {
					end = "timeout"
				}
			}
			c.Close()
			out = append(out, fmt.Sprintf("%q %s", b, end))
		}
		return strings.Join(out, "; ")
	}
	for _, tc := range tcpResponseCases {
		t.Run(tc.name, func(t *testing.T) {
			srv := resServer(t, tc.server)
			times := 1
			if strings.Contains(tc.rules, "sc-inc-gpc") {
				times = 2
			}
			render := func(port int) string {
				return strings.NewReplacer("{{PORT}}", fmt.Sprint(port), "{{RULES}}", tc.rules, "{{SERVER}}", srv).Replace(tcpResponseConfig)
			}
			hport := testenv.FreePort(t)
			cmd, _ := startHAProxyText(t, render(hport))
			haddr := fmt.Sprintf("127.0.0.1:%d", hport)
			waitListen(t, haddr)
			hOut := ask(haddr, times)
			cmd.Process.Kill()

			vport := testenv.FreePort(t)
			vaddr := startVardeText(t, render(vport), vport)
			vOut := ask(vaddr, times)
			if hOut != vOut {
				t.Errorf("client saw (-haproxy +varde)\n%s", cmp.Diff(hOut, vOut))
			}
			t.Logf("%s", vOut)
		})
	}
}

// waitListen waits for a listener without connecting to it (a probe
// would count in the stick table).
func waitListen(t *testing.T, addr string) {
	deadline := time.Now().Add(10 * time.Second)
	for time.Now().Before(deadline) {
		if l, err := net.Listen("tcp", addr); err != nil {
			return // taken: the proxy listens
		} else {
			l.Close()
		}
		time.Sleep(20 * time.Millisecond)
	}
	t.Fatalf("%s never listened", addr)
}
