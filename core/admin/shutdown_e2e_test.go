package admin_test

import (
	"bufio"
	"fmt"
	"io"
	"net"
	"net/http"
	"net/http/httptest"
	"strings"
	"sync"
	"sync/atomic"
	"testing"
	"time"

	"github.com/varde-lb/varde/core/testenv"
)

// newStreamBackend answers /stream with a first line, then holds the
// response open until the client goes away or the test ends; aborted counts
// streams whose client connection was closed under them.
func newStreamBackend(t *testing.T, name string) (*backend, *atomic.Int64) {
	b := &backend{name: name}
	var aborted atomic.Int64
	release := make(chan struct{})
	b.srv = httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		if r.URL.Path != "/stream" {
			io.WriteString(w, name)
			return
		}
		io.WriteString(w, name+" start\n")
		w.(http.Flusher).Flush()
		select {
		case <-r.Context().Done():
			aborted.Add(1)
		case <-release:
		}
	}))
	t.Cleanup(func() { close(release); b.srv.Close() })
	return b, &aborted
}

func TestE2EShutdownSessions(t *testing.T) {
	web1, aborted1 := newStreamBackend(t, "web1")
	web2, aborted2 := newStreamBackend(t, "web2")
	v := startPersistVarde(t, []*backend{web1, web2}, "cookie SERVERID insert indirect", "")
	v.waitStatus(t, "web1", "UP")
	v.waitStatus(t, "web2", "UP")

	// Two long responses on web1, one on web2 (pinned by cookie).
	type stream struct {
		srv  string
		body *bufio.Reader
		resp *http.Response
	}
	var streams []stream
	for _, name := range []string{"web1", "web1", "web2"} {
		req, _ := http.NewRequest("GET", fmt.Sprintf("http://127.0.0.1:%d/stream", v.web), nil)
		req.Header.Set("Cookie", "SERVERID=c-"+name)
		resp, err := (&http.Client{Timeout: 20 * time.Second}).Do(req)
		if err != nil {
			t.Fatal(err)
		}
		t.Cleanup(func() { resp.Body.Close() })
		br := bufio.NewReader(resp.Body)
		line, err := br.ReadString('\n')
		if err != nil || line != name+" start\n" {
			t.Fatalf("stream on %s: %q %v", name, line, err)
		}
		streams = append(streams, stream{name, br, resp})
	}

	if out := v.cli(t, "shutdown sessions server app/web1"); strings.TrimSpace(out) != "" {
		t.Fatalf("shutdown sessions: %q", out)
	}
	// web1's streams end at once: the client sees the body cut and the
	// server sees its client gone.
	for _, s := range streams[:2] {
		done := make(chan error, 1)
		go func() { _, err := io.ReadAll(s.body); done <- err }()
		select {
		case err := <-done:
			if err == nil {
				t.Errorf("%s stream ended cleanly, want a cut body", s.srv)
			}
		case <-time.After(10 * time.Second):
			t.Fatalf("%s stream still open 10s after shutdown sessions", s.srv)
		}
	}
	if err := testenv.Until(10*time.Second, 10*time.Millisecond, func() error {
		if n := aborted1.Load(); n != 2 {
			return fmt.Errorf("%d of 2", n)
		}
		return nil
	}); err != nil {
		t.Fatalf("web1 streams aborted: %v", err)
	}
	// web2's stream is untouched and web1 still takes new requests.
	if n := aborted2.Load(); n != 0 {
		t.Errorf("web2 saw %d aborted streams, want 0", n)
	}
	if code, body, _ := v.getWith(t, "SERVERID=c-web1"); code != 200 || body != "web1" {
		t.Fatalf("new request to web1 after shutdown: %d %q", code, body)
	}
	if out := v.cli(t, "shutdown sessions server app/nosuch"); !strings.Contains(out, "No such server") {
		t.Errorf("unknown server: %q", out)
	}
}

func TestE2EShutdownSessionsTCP(t *testing.T) {
	if testing.Short() {
		t.Skip("process test")
	}
	// A TCP server that greets and then holds the connection, counting
	// connections closed by the peer.
	ln, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { ln.Close() })
	// (varde's readiness probe makes a connection too: each one greets
	// with its number so the test watches its own.)
	var closed sync.Map
	go func() {
		for id := 0; ; id++ {
			c, err := ln.Accept()
			if err != nil {
				return
			}
			go func() {
				defer c.Close()
				fmt.Fprintf(c, "hello %d\n", id)
				io.Copy(io.Discard, c) // until varde closes it
				closed.Store(fmt.Sprintf("hello %d\n", id), true)
			}()
		}
	}()
	v := newVardeProc(t)
	v.launch(t, fmt.Sprintf(`global
    stats socket %s mode 600 level admin
defaults
    mode tcp
    timeout connect 1s
    timeout client 30s
    timeout server 30s
listen db
    bind 127.0.0.1:%d
    server db1 %s
`, v.sock, v.web, ln.Addr()))
	c, err := net.DialTimeout("tcp", fmt.Sprintf("127.0.0.1:%d", v.web), 5*time.Second)
	if err != nil {
		t.Fatal(err)
	}
	defer c.Close()
	c.SetDeadline(time.Now().Add(15 * time.Second))
	br := bufio.NewReader(c)
	greeting, err := br.ReadString('\n')
	if err != nil || !strings.HasPrefix(greeting, "hello ") {
		t.Fatalf("greeting: %q %v", greeting, err)
	}
	if out := v.cli(t, "shutdown sessions server db/db1"); strings.TrimSpace(out) != "" {
		t.Fatalf("shutdown sessions: %q", out)
	}
	// The client sees EOF (not its 15 s deadline) and the server its peer
	// gone.
	if _, err := br.ReadByte(); err != io.EOF {
		t.Fatalf("client read after shutdown: %v, want EOF", err)
	}
	if err := testenv.Until(10*time.Second, 10*time.Millisecond, func() error {
		if _, ok := closed.Load(greeting); !ok {
			return fmt.Errorf("server connection still open")
		}
		return nil
	}); err != nil {
		t.Fatalf("%v\n%s", err, readFile(v.log))
	}
}
