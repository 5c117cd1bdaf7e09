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

	"github.com/varde-lb/varde/core/testenv"
)

const bindMaxConnConfig = `defaults
    timeout connect 1s
    timeout client 10s
    timeout server 10s
    timeout http-keep-alive 10s

frontend web
    mode http
    bind 127.0.0.1:{{HTTP}} maxconn 2
    bind 127.0.0.1:{{FREE}}
    default_backend app

frontend raw
    mode tcp
    bind 127.0.0.1:{{TCP}} maxconn 1
    default_backend tapp

backend app
    mode http
    server s1 {{S1}}

backend tapp
    mode tcp
    server s1 {{S1}}
`

// TestBindMaxConnDifferential runs HAProxy 2.6 and varde on one
// configuration with `bind ... maxconn`: with the limit's worth of
// clients connected (keep-alive, idle), one more client is not served,
// while the frontend's other bind line serves at once; when one of the
// held clients leaves, the waiting client is served. In mode http (limit
// 2) and mode tcp (limit 1).
func TestBindMaxConnDifferential(t *testing.T) {
	if testing.Short() {
		t.Skip("process test")
	}
	hap := testenv.LookTool(t, "haproxy", "haproxy")
	bin := testenv.VardeBinary(t)
	up := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) { io.WriteString(w, "ok") }))
	defer up.Close()
	for _, lb := range []string{"haproxy", "varde"} {
		ports := testenv.FreePorts(t, 3)
		cfg := filepath.Join(t.TempDir(), lb+".cfg")
		text := strings.NewReplacer("{{HTTP}}", fmt.Sprint(ports[0]), "{{TCP}}", fmt.Sprint(ports[1]), "{{FREE}}", fmt.Sprint(ports[2]),
			"{{S1}}", strings.TrimPrefix(up.URL, "http://")).Replace(bindMaxConnConfig)
		if err := os.WriteFile(cfg, []byte(text), 0o644); err != nil {
			t.Fatal(err)
		}
		var logPath string
		if lb == "haproxy" {
			_, logPath = testenv.Start(t, hap, "-db", "-f", cfg)
		} else {
			_, logPath = testenv.Start(t, bin, "run", "-f", cfg)
		}
		testenv.WaitListening(t, lb, logPath, ports...)
		time.Sleep(100 * time.Millisecond) // the probes' connections are gone
		for _, c := range []struct {
			name  string
			port  int
			limit int
		}{{"http", ports[0], 2}, {"tcp", ports[1], 1}} {
			checkListenerLimit(t, lb+" "+c.name, c.port, ports[2], c.limit)
		}
	}
}

// checkListenerLimit holds limit served keep-alive clients on port, then
// checks that one more is not served until one of them leaves, while the
// unlimited port answers.
func checkListenerLimit(t *testing.T, name string, port, free, limit int) {
	t.Helper()
	var held []net.Conn
	defer func() {
		for _, c := range held {
			c.Close()
		}
	}()
	for i := 0; i < limit; i++ {
		c, r := dialReq(t, port)
		if _, err := readResp(c, r, 3*time.Second); err != nil {
			t.Fatalf("%s: held client %d not served: %v", name, i, err)
		}
		held = append(held, c)
	}
	extra, er := dialReq(t, port)
	defer extra.Close()
	if _, err := readResp(extra, er, 700*time.Millisecond); err == nil {
		t.Errorf("%s: client %d served while %d are held (bind maxconn %d)", name, limit+1, limit, limit)
		return
	}
	if name[len(name)-4:] == "http" {
		c, r := dialReq(t, free)
		if _, err := readResp(c, r, 3*time.Second); err != nil {
			t.Errorf("%s: the unlimited bind line did not serve: %v", name, err)
		}
		c.Close()
	}
	held[0].Close()
	held = held[1:]
	if _, err := readResp(extra, er, 3*time.Second); err != nil {
		t.Errorf("%s: waiting client not served after one held client left: %v", name, err)
	}
}

func dialReq(t *testing.T, port int) (net.Conn, *bufio.Reader) {
	t.Helper()
	c, err := net.Dial("tcp", fmt.Sprintf("127.0.0.1:%d", port))
	if err != nil {
		t.Fatal(err)
	}
	io.WriteString(c, "GET / HTTP/1.1\r\nHost: h\r\n\r\n")
	return c, bufio.NewReader(c)
}

func readResp(c net.Conn, r *bufio.Reader, wait time.Duration) (int, error) {
	c.SetReadDeadline(time.Now().Add(wait))
	resp, err := http.ReadResponse(r, nil)
	if err != nil {
		return 0, err
	}
	io.Copy(io.Discard, io.LimitReader(resp.Body, 2))
	return resp.StatusCode, nil
}

// TestListenersNamed: `bind ... name NAME` labels its listener where the
// engine lists them; a bind without a name and a handed-in listener show
// their address alone.
func TestListenersNamed(t *testing.T) {
	ports := testenv.FreePorts(t, 2)
	cfg := simpleConfig("127.0.0.1:1")
	fc := cfg.Frontends[0]
	fc.Binds = []string{fmt.Sprintf("127.0.0.1:%d", ports[0]), fmt.Sprintf("127.0.0.1:%d", ports[1])}
	fc.BindNames = []string{"web", ""}
	e, addr := startEngine(t, cfg)
	got := e.Frontends()[0].Listeners()
	want := []string{fmt.Sprintf("web=127.0.0.1:%d", ports[0]), fmt.Sprintf("127.0.0.1:%d", ports[1]), addr}
	if fmt.Sprint(got) != fmt.Sprint(want) {
		t.Errorf("listeners %v, want %v", got, want)
	}
}

// TestBindMaxConnEngine: the in-process engine (run under -race too)
// holds a listener at its bind maxconn and resumes it when the held
// connection closes; a bind without the limit on the same frontend is not
// held back.
func TestBindMaxConnEngine(t *testing.T) {
	up := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) { io.WriteString(w, "ok") }))
	defer up.Close()
	ports := testenv.FreePorts(t, 2)
	cfg := simpleConfig(strings.TrimPrefix(up.URL, "http://"))
	fc := cfg.Frontends[0]
	fc.Binds = []string{fmt.Sprintf("127.0.0.1:%d", ports[0]), fmt.Sprintf("127.0.0.1:%d", ports[1])}
	fc.BindMaxConn = []int{1, 0}
	startEngine(t, cfg)
	checkListenerLimit(t, "engine http", ports[0], ports[1], 1)
}
