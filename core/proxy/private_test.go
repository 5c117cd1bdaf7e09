package proxy

import (
	"bufio"
	"fmt"
	"net"
	"net/http"
	"net/http/httptest"
	"sync"
	"testing"
	"time"

	"github.com/varde-lb/varde/core/testenv"
)

// A server starting an NTLM login binds its connection to that client
// (HAProxy's http-reuse safe): the client's next request goes over it, and
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
}
