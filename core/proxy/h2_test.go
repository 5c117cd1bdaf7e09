package proxy

import (
	"context"
	"crypto/tls"
	"io"
	"log/slog"
	"net"
	"net/http"
	"os"
	"testing"
	"time"

	"golang.org/x/net/http2"
)

// startH2Engine runs cfg with one `proto h2` loopback listener on the
// first frontend and returns its address.
func startH2Engine(t testing.TB, cfg *Config) (*Engine, string) {
	t.Helper()
	l, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	cfg.Frontends[0].H2Listeners = append(cfg.Frontends[0].H2Listeners, l)
	log := slog.New(slog.NewTextHandler(io.Discard, nil))
	if testing.Verbose() {
		log = slog.New(slog.NewTextHandler(os.Stderr, nil))
	}
	e, err := New(cfg, log)
	if err != nil {
		t.Fatal(err)
	}
	if err := e.Start(); err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() {
		ctx, cancel := context.WithTimeout(context.Background(), 5*time.Second)
		defer cancel()
		e.Stop(ctx)
		if n := e.Panics.Load(); n != 0 {
			t.Errorf("%d panics", n)
		}
	})
	return e, l.Addr().String()
}

// h2Client speaks HTTP/2 with prior knowledge (x/net/http2, AllowHTTP).
func h2Client(t testing.TB) *http.Client {
	tr := &http2.Transport{
		AllowHTTP: true,
		DialTLSContext: func(ctx context.Context, network, addr string, _ *tls.Config) (net.Conn, error) {
			var d net.Dialer
			return d.DialContext(ctx, network, addr)
		},
	}
	t.Cleanup(tr.CloseIdleConnections)
	return &http.Client{Transport: tr, Timeout: 10 * time.Second}
}

func TestH2Basic(t *testing.T) {
	srv, sn := backend(t, "a", nil)
	_, addr := startH2Engine(t, simpleConfig(hostport(srv)))
	c := h2Client(t)
	resp, err := c.Get("http://" + addr + "/x?y=1")
	if err != nil {
		t.Fatal(err)
	}
	b := body(t, resp)
	if resp.StatusCode != 200 || b != "hello from a" || resp.ProtoMajor != 2 {
		t.Fatalf("got %d %q proto %s", resp.StatusCode, b, resp.Proto)
	}
	r := sn.last()
	if r.URL.RequestURI() != "/x?y=1" || r.Host != addr || r.Proto != "HTTP/1.1" {
		t.Fatalf("backend saw %s %s host %s", r.Proto, r.URL.RequestURI(), r.Host)
	}
}
