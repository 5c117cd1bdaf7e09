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

	"github.com/varde-lb/varde/core/logrec"
)

// TestOneRecordPerTransaction: whatever path a transaction takes, finish
// writes exactly one log record for it, with the outcome of that path.
func TestOneRecordPerTransaction(t *testing.T) {
	ok := func(t *testing.T) string { b, _ := backend(t, "ok", nil); return hostport(b) }
	tests := []struct {
		name    string
		servers func(t *testing.T) []string
		setup   func(cfg *Config)
		send    string // raw bytes; the connection is half-closed after them when abort is set
		abort   bool
		status  int32
		term    string
		retries int32
	}{
		{"success", func(t *testing.T) []string { return []string{ok(t)} }, nil,
			"GET / HTTP/1.1\r\nHost: a\r\n\r\n", false, 200, "--", 0},
		{"deny", func(t *testing.T) []string { return []string{ok(t)} }, func(cfg *Config) {
			cfg.Frontends[0].HTTPRequest = []*HTTPRule{{Action: ActDeny}}
		}, "GET / HTTP/1.1\r\nHost: a\r\n\r\n", false, 403, "PR", 0},
		{"redirect", func(t *testing.T) []string { return []string{ok(t)} }, func(cfg *Config) {
			cfg.Frontends[0].HTTPRequest = []*HTTPRule{{Action: ActRedirect, Target: "/there"}}
		}, "GET / HTTP/1.1\r\nHost: a\r\n\r\n", false, 302, "LR", 0},
		{"502 reset", func(t *testing.T) []string { return []string{faultBackend(t, "reset")} }, nil,
			"GET / HTTP/1.1\r\nHost: a\r\n\r\n", false, 502, "SH", 0},
		{"502 garbage", func(t *testing.T) []string { return []string{faultBackend(t, "garbage")} }, nil,
			"GET / HTTP/1.1\r\nHost: a\r\n\r\n", false, 502, "PH", 0},
		{"504", func(t *testing.T) []string { return []string{faultBackend(t, "hang")} }, func(cfg *Config) {
			cfg.Backends[0].Timeouts.Server = 200 * time.Millisecond
		}, "GET / HTTP/1.1\r\nHost: a\r\n\r\n", false, 504, "sH", 0},
		{"503 no server", func(t *testing.T) []string { return []string{ok(t)} }, func(cfg *Config) {
			cfg.Backends[0].Servers[0].Disabled = true
		}, "GET / HTTP/1.1\r\nHost: a\r\n\r\n", false, 503, "SC", 0},
		{"400 bad chunk", func(t *testing.T) []string { return []string{ok(t)} }, nil,
			"POST / HTTP/1.1\r\nHost: a\r\nTransfer-Encoding: chunked\r\n\r\nzz\r\n", false, 400, "PR", 0},
		{"client abort in body", func(t *testing.T) []string { return []string{ok(t)} }, nil,
			"POST / HTTP/1.1\r\nHost: a\r\nContent-Length: 10\r\n\r\nabc", true, -1, "CD", 0},
		{"retry then success", func(t *testing.T) []string { return []string{closedPort(t), ok(t)} }, func(cfg *Config) {
			cfg.Backends[0].Retries = 1
			cfg.Backends[0].Redispatch = true
		}, "GET / HTTP/1.1\r\nHost: a\r\n\r\n", false, 200, "--", 1},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			sink := &recSink{}
			cfg := simpleConfig(tt.servers(t)...)
			cfg.Sink = sink
			if tt.setup != nil {
				tt.setup(cfg)
			}
			_, addr := startEngine(t, cfg)
			c, err := net.Dial("tcp", addr)
			if err != nil {
				t.Fatal(err)
			}
			defer c.Close()
			c.SetDeadline(time.Now().Add(5 * time.Second))
			io.WriteString(c, tt.send)
			if tt.abort {
				c.(*net.TCPConn).CloseWrite()
				io.Copy(io.Discard, c)
			} else {
				resp, err := http.ReadResponse(bufio.NewReader(c), &http.Request{Method: strings.Fields(tt.send)[0]})
				if err != nil {
					t.Fatal(err)
				}
				io.Copy(io.Discard, resp.Body)
				if int32(resp.StatusCode) != tt.status {
					t.Fatalf("status %d, want %d", resp.StatusCode, tt.status)
				}
			}
			c.Close()
			recs := waitRecords(t, sink, 1)
			time.Sleep(50 * time.Millisecond) // a second record would come now
			if recs = sink.all(); len(recs) != 1 {
				t.Fatalf("%d records for one transaction, want 1: %s", len(recs), describe(recs))
			}
			r := recs[0]
			if r.Status != tt.status || string(r.Term[:2]) != tt.term || r.Retries != tt.retries {
				t.Errorf("record %s, want status %d term %s retries %d", describe(recs), tt.status, tt.term, tt.retries)
			}
		})
	}
}

func describe(recs []logrec.Record) string {
	var b strings.Builder
	for _, r := range recs {
		fmt.Fprintf(&b, "[status %d term %s retries %d backend %q server %q] ", r.Status, string(r.Term[:2]), r.Retries, r.Backend, r.Server)
	}
	return b.String()
}
