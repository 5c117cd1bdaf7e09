package proxy

import (
	"bufio"
	"fmt"
	"io"
	"net"
	"net/http"
	"testing"
	"time"
)

// An unset timeout is no timeout, as in HAProxy (varde check warns about
// it, as HAProxy does): an idle keep-alive client is parked without a
// deadline and served again, and an idle TCP session stays open. The
// waits are longer than the park hold and a sweep of the parked
// connections, where a zero deadline once read as "already past".
func TestUnsetTimeoutsWaitForever(t *testing.T) {
	if after(0) != (time.Time{}) || longest(0, time.Second) != 0 || longest(2*time.Second, time.Second) != 2*time.Second {
		t.Fatalf("after(0) = %v, longest(0, 1s) = %v: an unset timeout must stay none", after(0), longest(0, time.Second))
	}
	t.Run("http keep-alive", func(t *testing.T) {
		b1, _ := backend(t, "b1", nil)
		cfg := simpleConfig(hostport(b1))
		cfg.Frontends[0].Timeouts = Timeouts{}
		cfg.Backends[0].Timeouts = Timeouts{}
		_, addr := startEngine(t, cfg)
		c, err := net.Dial("tcp", addr)
		if err != nil {
			t.Fatal(err)
		}
		defer c.Close()
		br := bufio.NewReader(c)
		for i := range 2 {
			c.SetDeadline(time.Now().Add(5 * time.Second))
			fmt.Fprintf(c, "GET /%d HTTP/1.1\r\nHost: x\r\n\r\n", i)
			resp, err := http.ReadResponse(br, nil)
			if err != nil {
				t.Fatalf("request %d on the kept connection: %v", i+1, err)
			}
			io.Copy(io.Discard, resp.Body)
			resp.Body.Close()
			if resp.StatusCode != 200 {
				t.Fatalf("request %d: status %d", i+1, resp.StatusCode)
			}
			time.Sleep(400 * time.Millisecond) // parked, and swept at least once
		}
	})
	t.Run("tcp", func(t *testing.T) {
		echo := rawServer(t, func(c net.Conn) { io.Copy(c, c) })
		cfg := simpleConfig(echo)
		cfg.Frontends[0].Mode, cfg.Backends[0].Mode = ModeTCP, ModeTCP
		cfg.Frontends[0].Timeouts = Timeouts{}
		cfg.Backends[0].Timeouts = Timeouts{}
		_, addr := startEngine(t, cfg)
		c, err := net.Dial("tcp", addr)
		if err != nil {
			t.Fatal(err)
		}
		defer c.Close()
		buf := make([]byte, 5)
		for i := range 2 {
			c.SetDeadline(time.Now().Add(5 * time.Second))
			io.WriteString(c, "hello")
			if _, err := io.ReadFull(c, buf); err != nil || string(buf) != "hello" {
				t.Fatalf("echo %d: %q, %v", i+1, buf, err)
			}
			time.Sleep(400 * time.Millisecond)
		}
	})
}
