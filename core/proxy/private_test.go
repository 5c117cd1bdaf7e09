package proxy

import (
	"bufio"
	"fmt"
	"net"
	"net/http"
	"net/http/httptest"
	"os/exec"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/google/go-cmp/cmp"
	"github.com/varde-lb/varde/core/httpx"
	"github.com/varde-lb/varde/core/logrec"
	"github.com/varde-lb/varde/core/testenv"
)

// A server starting an NTLM login binds its connection to that client
// (HAProxy's http-reuse safe): the client's next request goes over it, even
// after the client idled and was parked, and
// when the client leaves, the connection is closed, never pooled for
// another client.
func TestConnectionAuthKeepsUpstreamPrivate(t *testing.T) {
	var mu sync.Mutex
	remotes := map[string]bool{}
	var closed []string
	srv := httptest.NewUnstartedServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		mu.Lock()
		remotes[r.RemoteAddr] = true
		mu.Unlock()
		if r.URL.Path == "/login" {
			w.Header().Set("WWW-Authenticate", "NTLM")
			w.WriteHeader(http.StatusUnauthorized)
			return
		}
		fmt.Fprint(w, "ok")
	}))
	srv.Config.ConnState = func(c net.Conn, st http.ConnState) {
		if st == http.StateClosed {
			mu.Lock()
			closed = append(closed, c.RemoteAddr().String())
			mu.Unlock()
		}
	}
	srv.Start()
	defer srv.Close()
	_, addr := startEngine(t, simpleConfig(srv.Listener.Addr().String()))

	c, err := net.Dial("tcp", addr)
	if err != nil {
		t.Fatal(err)
	}
	br := bufio.NewReader(c)
	for _, path := range []string{"/login", "/after"} {
		fmt.Fprintf(c, "GET %s HTTP/1.1\r\nHost: x\r\n\r\n", path)
		resp, err := http.ReadResponse(br, nil)
		if err != nil {
			t.Fatal(err)
		}
		resp.Body.Close()
		// Idle long enough to be parked: the login connection must stay
		// with the client while it waits.
		time.Sleep(50 * time.Millisecond)
	}
	mu.Lock()
	n := len(remotes)
	mu.Unlock()
	if n != 1 {
		t.Fatalf("the login and the next request used %d server connections, want 1", n)
	}
	c.Close()
	err = testenv.Until(3*time.Second, 10*time.Millisecond, func() error {
		mu.Lock()
		defer mu.Unlock()
		if len(closed) == 0 {
			return fmt.Errorf("the NTLM-bound server connection is still open (pooled for other clients?)")
		}
		return nil
	})
	if err != nil {
		t.Fatal(err)
	}
	// Closed between exchanges, it is reset as HAProxy resets such server
	// connections: varde's end keeps no TIME_WAIT (closeidle.go).
	ssBin := testenv.LookTool(t, "ss", "iproute2")
	_, port, _ := net.SplitHostPort(srv.Listener.Addr().String())
	out, err := exec.Command(ssBin, "-tanH", "state", "time-wait", "( dport = :"+port+" )").CombinedOutput()
	if err != nil || strings.TrimSpace(string(out)) != "" {
		t.Fatalf("varde's side of the closed server connection is in TIME_WAIT (%v):\n%s", err, out)
	}
}

// keepLogHeaders gives each header a log-format reads an equal share of
// the record: a long one is cut, the others stay whole; every line is
// kept in order, so counts and last occurrences stay right.
func TestKeepLogHeadersShares(t *testing.T) {
	ua := strings.Repeat("u", 2000)
	raw := "GET / HTTP/1.1\r\nUser-Agent: " + ua + "\r\nHost: example.com\r\nCookie: a=1\r\nCookie: sid=abc\r\n\r\n"
	var req httpx.Request
	if err := req.Parse([]byte(raw), httpx.Limits{MaxHead: 8192, MaxHeaders: 100}); err != nil {
		t.Fatal(err)
	}
	var f logrec.Fields
	names := []string{"user-agent", "host", "cookie"}
	keepLogHeaders(&f, &req.Head, names)
	type line struct{ name, value string }
	var got []line
	for i := range f.Len() {
		n, v := f.At(i)
		got = append(got, line{names[n], string(v)})
	}
	want := []line{{"user-agent", ua[:logrec.FieldBytes/3]}, {"host", "example.com"}, {"cookie", "a=1"}, {"cookie", "sid=abc"}}
	if diff := cmp.Diff(want, got, cmp.AllowUnexported(line{})); diff != "" {
		t.Errorf("(-want +got):\n%s", diff)
	}
}
