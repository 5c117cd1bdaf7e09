package admin_test

import (
	"fmt"
	"io"
	"net"
	"net/http"
	"net/http/httptest"
	"os"
	"path/filepath"
	"strings"
	"sync/atomic"
	"testing"
	"time"

	"github.com/varde-lb/varde/core/testenv"
)

// codeServer answers its health checks with a settable status and every
// other request with its name.
type codeServer struct {
	name string
	code atomic.Int32
	srv  *httptest.Server
}

func newCodeServer(t *testing.T, name string, code int) *codeServer {
	c := &codeServer{name: name}
	c.code.Store(int32(code))
	c.srv = httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		if r.URL.Path == "/health" {
			w.WriteHeader(int(c.code.Load()))
			return
		}
		io.WriteString(w, name)
	}))
	t.Cleanup(c.srv.Close)
	return c
}

func nolbConfig(sock string, web int, srvs []*codeServer) string {
	var b strings.Builder
	for _, s := range srvs {
		fmt.Fprintf(&b, "    server %s %s check inter 100 rise 2 fall 3 cookie %s\n", s.name, strings.TrimPrefix(s.srv.URL, "http://"), s.name)
	}
	return fmt.Sprintf(`global
    stats socket %s mode 600 level admin
defaults
    mode http
    timeout connect 1s
    timeout client 10s
    timeout server 10s
    timeout check 1s
    http-check disable-on-404
frontend www
    bind 127.0.0.1:%d
    default_backend app
backend app
    balance roundrobin
    option httpchk GET /health
    http-check expect status 200
    cookie SRV insert indirect nocache
%s`, sock, web, b.String())
}

// TestDisableOn404Differential: a server answering 404 to its checks goes
// NOLB (L7OKC) and keeps only cookie-persistent clients; a DOWN server
// answering 404 stays DOWN; a 200 brings the NOLB server straight back.
func TestDisableOn404Differential(t *testing.T) {
	if testing.Short() {
		t.Skip("process test")
	}
	hap := testenv.LookTool(t, "haproxy", "haproxy")
	bin := testenv.VardeBinary(t)
	srvs := []*codeServer{newCodeServer(t, "s1", 200), newCodeServer(t, "s2", 200), newCodeServer(t, "s3", 503)}
	dir := t.TempDir()
	type lb struct {
		name, sock string
		web        int
	}
	var lbs []lb
	for _, name := range []string{"haproxy", "varde"} {
		sock := filepath.Join(dir, name+".sock")
		cfg := filepath.Join(dir, name+".cfg")
		web := testenv.FreePort(t)
		if err := os.WriteFile(cfg, []byte(nolbConfig(sock, web, srvs)), 0o644); err != nil {
			t.Fatal(err)
		}
		if name == "haproxy" {
			testenv.Start(t, hap, "-db", "-f", cfg)
		} else {
			testenv.Start(t, bin, "run", "-f", cfg)
		}
		testenv.WaitTCP(t, fmt.Sprintf("127.0.0.1:%d", web), 10*time.Second)
		if err := testenv.Until(10*time.Second, 10*time.Millisecond, func() error {
			c, err := net.Dial("unix", sock)
			if err == nil {
				c.Close()
			}
			return err
		}); err != nil {
			t.Fatal(err)
		}
		lbs = append(lbs, lb{name, sock, web})
	}
	row := func(l lb, sv string) map[string]string {
		return parseCSV(t, send(t, "unix", l.sock, "show stat")).rows["app,"+sv]
	}
	wait := func(sv, want string) {
		t.Helper()
		for _, l := range lbs {
			if err := testenv.Until(10*time.Second, 10*time.Millisecond, func() error {
				if st := row(l, sv)["status"]; st != want {
					return fmt.Errorf("%s: %s is %q, want %q", l.name, sv, st, want)
				}
				return nil
			}); err != nil {
				t.Fatal(err)
			}
		}
	}
	wait("s1", "UP")
	wait("s2", "UP")
	wait("s3", "DOWN")

	srvs[1].code.Store(404)
	srvs[2].code.Store(404)
	wait("s2", "NOLB")
	time.Sleep(500 * time.Millisecond) // five more checks for s3
	for _, l := range lbs {
		r2, r3 := row(l, "s2"), row(l, "s3")
		t.Logf("%s: s2 %s %s %s %q; s3 %s %s %s; backend act %s", l.name, r2["status"], r2["check_status"], r2["check_code"], r2["check_desc"], r3["status"], r3["check_status"], r3["check_code"], row(l, "BACKEND")["act"])
	}
	compare := map[string][]string{
		"s2":      {"status", "check_status", "check_code", "check_desc", "weight", "act"},
		"s3":      {"status", "check_status", "check_code"},
		"BACKEND": {"status", "act", "weight"},
	}
	// A snapshot can catch either side between two checks of s3 (HAProxy
	// shows check_code 0 while one runs): compare until both agree, for
	// a bounded time.
	var v csvTable
	err := testenv.Until(5*time.Second, 50*time.Millisecond, func() error {
		h := parseCSV(t, send(t, "unix", lbs[0].sock, "show stat"))
		v = parseCSV(t, send(t, "unix", lbs[1].sock, "show stat"))
		for sv, fields := range compare {
			for _, f := range fields {
				hv, vv := strings.TrimPrefix(h.rows["app,"+sv][f], "* "), strings.TrimPrefix(v.rows["app,"+sv][f], "* ")
				if hv != vv {
					return fmt.Errorf("%s %s: haproxy %q, varde %q", sv, f, hv, vv)
				}
			}
		}
		return nil
	})
	if err != nil {
		t.Error(err)
	}
	if st := v.rows["app,s2"]["status"]; st != "NOLB" {
		t.Errorf("varde s2 %q, want NOLB", st)
	}
	if st := v.rows["app,s3"]["status"]; st != "DOWN" {
		t.Errorf("varde s3 %q, want DOWN (a stopped server stays stopped on 404)", st)
	}
	// Traffic: new clients only reach s1; a client holding s2's cookie
	// still reaches s2.
	for _, l := range lbs {
		for i := 0; i < 6; i++ {
			if got := getFrom(t, l.web, ""); got != "s1" {
				t.Errorf("%s: new client request %d served by %q, want s1", l.name, i, got)
			}
		}
		if got := getFrom(t, l.web, "SRV=s2"); got != "s2" {
			t.Errorf("%s: persistent client served by %q, want s2", l.name, got)
		}
	}

	srvs[1].code.Store(200)
	wait("s2", "UP")
	for _, l := range lbs {
		seen := map[string]bool{}
		for i := 0; i < 4; i++ {
			seen[getFrom(t, l.web, "")] = true
		}
		if !seen["s2"] {
			t.Errorf("%s: s2 back UP but served nothing: %v", l.name, seen)
		}
	}
}

func getFrom(t *testing.T, port int, cookie string) string {
	t.Helper()
	req, _ := http.NewRequest("GET", fmt.Sprintf("http://127.0.0.1:%d/", port), nil)
	if cookie != "" {
		req.Header.Set("Cookie", cookie)
	}
	tr := &http.Transport{DisableKeepAlives: true}
	defer tr.CloseIdleConnections()
	resp, err := (&http.Client{Transport: tr, Timeout: 5 * time.Second}).Do(req)
	if err != nil {
		t.Fatal(err)
	}
	defer resp.Body.Close()
	b, _ := io.ReadAll(resp.Body)
	return string(b)
}
