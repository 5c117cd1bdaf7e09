package proxy

import (
	"bufio"
	"errors"
	"io"
	"net"
	"net/http"
	"testing"
	"time"

	"github.com/google/go-cmp/cmp"

	"github.com/varde-lb/varde/core/logrec"
	"github.com/varde-lb/varde/core/testenv"
)

// fixedBackend answers every request on a connection with resp, verbatim.
func fixedBackend(t *testing.T, resp string) string {
	t.Helper()
	return rawServer(t, func(c net.Conn) {
		br := bufio.NewReader(c)
		for {
			req, err := http.ReadRequest(br)
			if err != nil {
				return
			}
			io.Copy(io.Discard, req.Body)
			if _, err := io.WriteString(c, resp); err != nil {
				return
			}
		}
	})
}

func waitRecords(t *testing.T, sink *recSink, n int) []logrec.Record {
	t.Helper()
	var recs []logrec.Record
	err := testenv.Until(5*time.Second, 5*time.Millisecond, func() error {
		if recs = sink.all(); len(recs) < n {
			return errors.New("waiting for log records")
		}
		return nil
	})
	if err != nil {
		t.Fatalf("%v: have %d, want %d", err, len(recs), n)
	}
	return recs
}

// TestLogConnCounters: HAProxy releases the transaction's own backend and
// server slots before logging, so a lone request logs %bc/%sc 0/0 while
// %ac/%fc still count its client connection (1/1), in both modes.
func TestLogConnCounters(t *testing.T) {
	addr := fixedBackend(t, "HTTP/1.1 200 OK\r\nContent-Length: 2\r\n\r\nok")
	for _, mode := range []Mode{ModeHTTP, ModeTCP} {
		sink := &recSink{}
		cfg := simpleConfig(addr)
		cfg.Sink = sink
		cfg.Frontends[0].Mode, cfg.Backends[0].Mode = mode, mode
		_, fe := startEngine(t, cfg)
		c, err := net.Dial("tcp", fe)
		if err != nil {
			t.Fatal(err)
		}
		c.SetDeadline(time.Now().Add(5 * time.Second))
		io.WriteString(c, "GET / HTTP/1.1\r\nHost: x\r\nConnection: close\r\n\r\n")
		if mode == ModeTCP {
			// Ends the relay once the answer is back; the client side stays
			// open until the record is out, like the HTTP case.
			br := bufio.NewReader(c)
			resp, err := http.ReadResponse(br, nil)
			if err != nil {
				t.Fatal(err)
			}
			io.Copy(io.Discard, resp.Body)
			c.(*net.TCPConn).CloseWrite()
		}
		r := waitRecords(t, sink, 1)[0]
		c.Close()
		got := [4]int32{r.ActConn, r.FeConn, r.BeConn, r.SrvConn}
		if got != [4]int32{1, 1, 0, 0} {
			t.Errorf("mode %d (0 tcp, 1 http): ac/fc/bc/sc %v, want HAProxy's 1/1/0/0", mode, got)
		}
	}
}

// TestLogBytesHTX: %B is the response's size in HAProxy's HTX form (start
// line 20+parts, name+value per field, 1 for end of headers, the body),
// not the bytes on the wire; the Connection header varde writes and
// generated answers to unparsable requests count as HAProxy counts them.
func TestLogBytesHTX(t *testing.T) {
	addr := fixedBackend(t, "HTTP/1.1 200 OK\r\nContent-Type: text/plain\r\nContent-Length: 5\r\n\r\nhello")
	sink := &recSink{}
	cfg := simpleConfig(addr)
	cfg.Sink = sink
	cfg.Frontends[0].HTTPResponse = []*HTTPRule{{Action: ActSetHeader, Name: "X-Frame-Options", Value: "DENY"}}
	_, fe := startEngine(t, cfg)
	send := func(raw string) {
		c, err := net.Dial("tcp", fe)
		if err != nil {
			t.Fatal(err)
		}
		defer c.Close()
		c.SetDeadline(time.Now().Add(5 * time.Second))
		io.WriteString(c, raw)
		io.Copy(io.Discard, c)
	}
	send("GET / HTTP/1.1\r\nHost: x\r\nConnection: close\r\n\r\n")
	send("GARBAGE\r\n\r\n")
	recs := waitRecords(t, sink, 2)
	got := map[string]int64{}
	for _, r := range recs {
		got[string(r.RequestLine.Bytes())] = r.BytesOut
	}
	want := map[string]int64{
		// 20+"HTTP/1.1"+"200"+"OK", Content-Type text/plain,
		// Content-Length 5, X-Frame-Options DENY, EOH, body.
		"GET / HTTP/1.1": 33 + (12 + 10) + (14 + 1) + (15 + 4) + 1 + 5,
		"<BADREQ>":       0,
	}
	if d := cmp.Diff(want, got); d != "" {
		t.Errorf("%%B (-want +got)\n%s", d)
	}
}

func TestHTXHeadAdjust(t *testing.T) {
	for _, tc := range []struct {
		head string
		htx  int
	}{
		{"HTTP/1.1 200 OK\r\n\r\n", 33 + 1},
		{"HTTP/1.1 204 \r\n\r\n", 31 + 1},
		{"HTTP/1.1 200 OK\r\nA: b\r\nConnection: close\r\n\r\n", 33 + 2 + 1},
		{"HTTP/1.1 503 Service Unavailable\r\ncontent-length: 107\r\n\r\n", 20 + 8 + 3 + 19 + 14 + 3 + 1},
	} {
		if got := len(tc.head) - htxHeadAdjust([]byte(tc.head)); got != tc.htx {
			t.Errorf("%q: htx size %d, want %d", tc.head, got, tc.htx)
		}
	}
}

// TestLogBytesChunkedHTX: HAProxy counts a chunked body's payload plus one
// end-of-trailers block, not the chunk framing (measured with HAProxy 2.6:
// this exchange with its Server and Date fields logged 130).
func TestLogBytesChunkedHTX(t *testing.T) {
	addr := fixedBackend(t, "HTTP/1.1 200 OK\r\nTransfer-Encoding: chunked\r\n\r\n3\r\nhel\r\n3;ext=1\r\nlo\n\r\n0\r\n\r\n")
	sink := &recSink{}
	cfg := simpleConfig(addr)
	cfg.Sink = sink
	_, fe := startEngine(t, cfg)
	c, err := net.Dial("tcp", fe)
	if err != nil {
		t.Fatal(err)
	}
	defer c.Close()
	c.SetDeadline(time.Now().Add(5 * time.Second))
	io.WriteString(c, "GET / HTTP/1.1\r\nHost: x\r\nConnection: close\r\n\r\n")
	io.Copy(io.Discard, c)
	r := waitRecords(t, sink, 1)[0]
	// 20+"HTTP/1.1"+"200"+"OK", Transfer-Encoding chunked, EOH, "hello\n", EOT.
	if want := int64(33 + (17 + 7) + 1 + 6 + 1); r.BytesOut != want {
		t.Errorf("%%B %d, want %d", r.BytesOut, want)
	}
}
