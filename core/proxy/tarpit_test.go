package proxy

import (
	"bufio"
	"fmt"
	"io"
	"net"
	"net/http"
	"strings"
	"testing"
	"time"

	"github.com/varde-lb/varde/core/testenv"
)

// A tarpitted request is answered after timeout tarpit with the rule's
// status and the connection closes; a client that leaves first costs
// nothing more, and the engine serves the next client.
func TestTarpitHoldsThenCloses(t *testing.T) {
	b, _ := backend(t, "a", nil)
	port := testenv.FreePort(t)
	startVardeText(t, fmt.Sprintf(`defaults
    mode http
    timeout connect 2s
    timeout client 5s
    timeout server 5s
    timeout tarpit 300ms
frontend fe
    bind 127.0.0.1:%d
    http-request tarpit deny_status 403 if { path /tp }
    default_backend app
backend app
    server s1 %s
`, port, hostport(b)), port)
	addr := fmt.Sprintf("127.0.0.1:%d", port)

	c, err := net.Dial("tcp", addr)
	if err != nil {
		t.Fatal(err)
	}
	defer c.Close()
	c.SetDeadline(time.Now().Add(5 * time.Second))
	start := time.Now()
	io.WriteString(c, "GET /tp HTTP/1.1\r\nHost: h\r\n\r\nGET / HTTP/1.1\r\nHost: h\r\n\r\n")
	br := bufio.NewReader(c)
	resp, err := http.ReadResponse(br, nil)
	if err != nil {
		t.Fatal(err)
	}
	io.Copy(io.Discard, resp.Body)
	held := time.Since(start)
	if resp.StatusCode != 403 || held < 280*time.Millisecond {
		t.Fatalf("status %d after %v", resp.StatusCode, held)
	}
	if rest, _ := io.ReadAll(br); len(rest) != 0 {
		t.Fatalf("the pipelined request was answered after a tarpit: %q", rest)
	}

	early, err := net.Dial("tcp", addr)
	if err != nil {
		t.Fatal(err)
	}
	io.WriteString(early, "GET /tp HTTP/1.1\r\nHost: h\r\n\r\n")
	time.Sleep(50 * time.Millisecond)
	early.Close()

	resp2, err := http.Get("http://" + addr + "/ok")
	if err != nil {
		t.Fatal(err)
	}
	if got := body(t, resp2); resp2.StatusCode != 200 || !strings.Contains(got, "hello") {
		t.Fatalf("next client: %d %q", resp2.StatusCode, got)
	}
}
