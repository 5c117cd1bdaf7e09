package proxy

import (
	"bufio"
	"bytes"
	"crypto/sha256"
	"encoding/hex"
	"fmt"
	"io"
	"math/rand"
	"net"
	"net/http"
	"strconv"
	"strings"
	"syscall"
	"testing"
	"time"

	"github.com/varde-lb/varde/core/logrec"
)

// spliceBackend answers on keep-alive connections:
//
//	/big?n=N    N pseudo-random bytes (bodyOf(N)) with Content-Length
//	/sum        the sha256 of the request body, in hex
//	/trunc      announces 1 MiB, sends 100 KiB and closes
//	/stall      announces 1 MiB, sends 64 KiB and waits 3 s
func spliceBackend(t *testing.T) string {
	return rawServer(t, func(c net.Conn) {
		br := bufio.NewReader(c)
		for {
			req, err := http.ReadRequest(br)
			if err != nil {
				return
			}
			h := sha256.New()
			io.Copy(h, req.Body)
			switch req.URL.Path {
			case "/big":
				n, _ := strconv.Atoi(req.URL.Query().Get("n"))
				fmt.Fprintf(c, "HTTP/1.1 200 OK\r\nContent-Length: %d\r\n\r\n", n)
				c.Write(bodyOf(n))
			case "/sum":
				sum := hex.EncodeToString(h.Sum(nil))
				fmt.Fprintf(c, "HTTP/1.1 200 OK\r\nContent-Length: %d\r\n\r\n%s", len(sum), sum)
			case "/chunked":
				io.WriteString(c, "HTTP/1.1 200 OK\r\nTransfer-Encoding: chunked\r\n\r\n")
				c.Write(chunkedOf(chunkSizes))
			case "/trunc":
				fmt.Fprintf(c, "HTTP/1.1 200 OK\r\nContent-Length: %d\r\n\r\n", 1<<20)
				c.Write(bodyOf(100 << 10))
				return
			case "/stall":
				fmt.Fprintf(c, "HTTP/1.1 200 OK\r\nContent-Length: %d\r\n\r\n", 1<<20)
				c.Write(bodyOf(64 << 10))
				time.Sleep(3 * time.Second)
				return
			}
		}
	})
}

// chunkSizes are the chunks of /chunked: small ones around large ones
// whose payload splices.
var chunkSizes = []int{100, 300000, 5, 70000, 1 << 20, 16383, 16384}

// chunkedOf is bodyOf(sum of sizes) in chunks of those sizes, with a
// chunk extension and a trailer.
func chunkedOf(sizes []int) []byte {
	var b bytes.Buffer
	all := bodyOf(sum(sizes))
	for _, n := range sizes {
		fmt.Fprintf(&b, "%x;ext=1\r\n", n)
		b.Write(all[:n])
		all = all[n:]
		b.WriteString("\r\n")
	}
	b.WriteString("0\r\nX-Trailer: yes\r\n\r\n")
	return b.Bytes()
}

func sum(v []int) int {
	n := 0
	for _, x := range v {
		n += x
	}
	return n
}

// bodyBase is the pattern bodies repeat: pseudo-random, with a period
// (1 MiB + 13) that no buffer or pipe size divides.
var bodyBase = func() []byte {
	b := make([]byte, 1<<20+13)
	rand.New(rand.NewSource(1)).Read(b)
	return b
}()

// bodyOf is n deterministic pseudo-random bytes (cheap even for 256 MiB,
// so a slow -race run starts its transfers on time).
func bodyOf(n int) []byte {
	b := make([]byte, n)
	for i := 0; i < n; i += len(bodyBase) {
		copy(b[i:], bodyBase)
	}
	b[0] = byte(n) // bodies of different sizes differ from their start
	return b
}

// spliceModes runs fn on one event loop with splicing on (the default)
// and off (global nosplice); fn's results must not depend on the mode.
func spliceModes(t *testing.T, fn func(t *testing.T, nosplice bool) *Engine) {
	t.Setenv("VARDE_LOOPS", "1")
	for _, mode := range []string{"splice", "copy"} {
		t.Run(mode, func(t *testing.T) {
			e := fn(t, mode == "copy")
			spliced := e.SplicedBytes.Load()
			if (mode == "splice") != (spliced > 0) {
				t.Fatalf("%s: %d bytes spliced", mode, spliced)
			}
			if x := e.spliceExtras(); len(x) != 1 || x[0].Value != float64(spliced) {
				t.Fatalf("exported %v, want %d spliced bytes", x, spliced)
			}
		})
	}
}

// TestSpliceBodies: large Content-Length bodies both ways arrive
// byte-exact, a pipelined request behind a spliced body is served, and
// the log's %U and %B are the same whether the bodies were spliced or
// copied (and count every byte).
func TestSpliceBodies(t *testing.T) {
	const big = 1<<20 + 7
	upload := bodyOf(3<<20 + 5)
	want := sha256.Sum256(upload)
	var logged [2][]logrec.Record
	spliceModes(t, func(t *testing.T, nosplice bool) *Engine {
		cfg := simpleConfig(spliceBackend(t))
		cfg.NoSplice = nosplice
		sink := &recSink{}
		cfg.Sink = sink
		e, addr := startEngine(t, cfg)
		c, err := net.Dial("tcp", addr)
		if err != nil {
			t.Fatal(err)
		}
		defer c.Close()
		c.SetDeadline(time.Now().Add(20 * time.Second))
		// Six requests in one write: pipelined behind spliced request
		// and response bodies, Content-Length and chunked.
		var w bytes.Buffer
		fmt.Fprintf(&w, "POST /sum HTTP/1.1\r\nHost: t\r\nContent-Length: %d\r\n\r\n", len(upload))
		w.Write(upload)
		fmt.Fprintf(&w, "GET /big?n=%d HTTP/1.1\r\nHost: t\r\n\r\n", big)
		fmt.Fprintf(&w, "GET /big?n=%d HTTP/1.1\r\nHost: t\r\n\r\n", 70000)
		w.WriteString("GET /chunked HTTP/1.1\r\nHost: t\r\n\r\n")
		fmt.Fprintf(&w, "GET /big?n=%d HTTP/1.1\r\nHost: t\r\n\r\n", 20000)
		// Last: varde closes after a chunked request body that has
		// bytes behind it (it does not keep what follows).
		w.WriteString("POST /sum HTTP/1.1\r\nHost: t\r\nTransfer-Encoding: chunked\r\n\r\n")
		w.Write(chunkedOf(chunkSizes))
		go c.Write(w.Bytes())
		br := bufio.NewReader(c)
		chunkSum := sha256.Sum256(bodyOf(sum(chunkSizes)))
		for i, wantBody := range [][]byte{[]byte(hex.EncodeToString(want[:])), bodyOf(big), bodyOf(70000),
			bodyOf(sum(chunkSizes)), bodyOf(20000), []byte(hex.EncodeToString(chunkSum[:]))} {
			resp, err := http.ReadResponse(br, nil)
			if err != nil {
				t.Fatalf("response %d: %v", i, err)
			}
			got, err := io.ReadAll(resp.Body)
			if err != nil || !bytes.Equal(got, wantBody) {
				t.Fatalf("response %d: %d bytes (err %v), want %d exact bytes", i, len(got), err, len(wantBody))
			}
		}
		recs := waitRecords(t, sink, 6)
		for i, r := range recs {
			if r.Term[0] != '-' || r.Term[1] != '-' {
				t.Errorf("record %d: termination %q, want --", i, r.Term[:2])
			}
		}
		if recs[0].BytesIn < int64(len(upload)) || recs[1].BytesOut < big {
			t.Errorf("%%U %d, %%B %d: body bytes not counted", recs[0].BytesIn, recs[1].BytesOut)
		}
		// At most one buffer of each large body (or chunk) is copied: the
		// rest, including the 1 MiB chunk each way, was spliced.
		least := uint64(len(upload)-16<<10) + big - 16<<10 + 2*(1<<20-16<<10)
		if got := e.SplicedBytes.Load(); !nosplice && got < least {
			t.Errorf("%d bytes spliced, want at least %d", got, least)
		}
		if nosplice {
			logged[1] = recs
		} else {
			logged[0] = recs
		}
		return e
	})
	for i := range logged[0] {
		s, c := logged[0][i], logged[1][i]
		if s.BytesIn != c.BytesIn || s.BytesOut != c.BytesOut {
			t.Errorf("record %d: spliced %%U %d %%B %d, copied %%U %d %%B %d", i, s.BytesIn, s.BytesOut, c.BytesIn, c.BytesOut)
		}
	}
}

// TestSpliceAborts: a transfer that ends early ends with the same
// termination state and byte counts spliced or copied.
func TestSpliceAborts(t *testing.T) {
	cases := []struct {
		name string
		path string
		tune func(*Config)
		// client reads at most this many bytes then closes (0: all)
		read  int
		term  string
		fewer int // the client must see fewer bytes than this
	}{
		{"server closes mid-body", "/trunc", nil, 0, "SD", 1 << 20},
		{"server timeout mid-body", "/stall", func(c *Config) { c.Backends[0].Timeouts.Server = 300 * time.Millisecond }, 0, "sD", 1 << 20},
		{"client aborts mid-body", "/big?n=" + strconv.Itoa(64<<20), nil, 200 << 10, "CD", 64 << 20},
		{"client timeout mid-body", "/big?n=" + strconv.Itoa(64<<20), func(c *Config) { c.Frontends[0].Timeouts.Client = 300 * time.Millisecond }, -1, "cD", 64 << 20},
	}
	for _, tc := range cases {
		t.Run(tc.name, func(t *testing.T) {
			var counts [2]int64
			spliceModes(t, func(t *testing.T, nosplice bool) *Engine {
				cfg := simpleConfig(spliceBackend(t))
				cfg.NoSplice = nosplice
				if tc.tune != nil {
					tc.tune(cfg)
				}
				sink := &recSink{}
				cfg.Sink = sink
				e, addr := startEngine(t, cfg)
				n := abortClient(t, addr, tc.path, tc.read, func() { waitRecords(t, sink, 1) })
				if n >= int64(tc.fewer) {
					t.Fatalf("client read %d bytes, want fewer than %d", n, tc.fewer)
				}
				r := waitRecords(t, sink, 1)[0]
				if got := string(r.Term[:2]); got != tc.term {
					t.Fatalf("termination %q, want %q", got, tc.term)
				}
				if nosplice {
					counts[1] = r.BytesOut
				} else {
					counts[0] = r.BytesOut
				}
				return e
			})
			if tc.read == 0 && counts[0] != counts[1] {
				t.Errorf("%%B spliced %d, copied %d", counts[0], counts[1])
			}
		})
	}
}

// abortClient sends one GET with a small receive buffer and reads: all
// until EOF (read 0), up to read bytes then closes (read > 0), or nothing
// until logged says the proxy gave up (read < 0). It returns the bytes
// read.
func abortClient(t *testing.T, addr, path string, read int, logged func()) int64 {
	t.Helper()
	d := net.Dialer{Control: func(_, _ string, rc syscall.RawConn) error {
		rc.Control(func(fd uintptr) { syscall.SetsockoptInt(int(fd), syscall.SOL_SOCKET, syscall.SO_RCVBUF, 16<<10) })
		return nil
	}}
	c, err := d.Dial("tcp", addr)
	if err != nil {
		t.Fatal(err)
	}
	defer c.Close()
	c.SetDeadline(time.Now().Add(10 * time.Second))
	fmt.Fprintf(c, "GET %s HTTP/1.1\r\nHost: t\r\n\r\n", path)
	switch {
	case read < 0:
		logged()
		return 0
	case read > 0:
		n, _ := io.ReadFull(c, make([]byte, read))
		return int64(n)
	}
	n, _ := io.Copy(io.Discard, c)
	return n
}

// echoTunnelBackend echoes every byte; for WebSocket it first reads the
// upgrade request and answers 101.
func echoTunnelBackend(t *testing.T, ws bool) string {
	return rawServer(t, func(c net.Conn) {
		br := bufio.NewReader(c)
		if ws {
			if _, err := http.ReadRequest(br); err != nil {
				return
			}
			io.WriteString(c, "HTTP/1.1 101 Switching Protocols\r\nUpgrade: websocket\r\nConnection: Upgrade\r\n\r\n")
		}
		io.Copy(c, br)
	})
}

// TestSpliceTunnels: mode tcp and a WebSocket tunnel carry 4 MiB each way
// byte-exact, spliced or copied, with the same %U and %B.
func TestSpliceTunnels(t *testing.T) {
	payload := bodyOf(4<<20 + 3)
	for _, ws := range []bool{false, true} {
		name := map[bool]string{false: "mode tcp", true: "websocket"}[ws]
		t.Run(name, func(t *testing.T) {
			var counts [2][2]int64
			spliceModes(t, func(t *testing.T, nosplice bool) *Engine {
				cfg := simpleConfig(echoTunnelBackend(t, ws))
				cfg.NoSplice = nosplice
				if !ws {
					cfg.Frontends[0].Mode, cfg.Backends[0].Mode = ModeTCP, ModeTCP
				}
				sink := &recSink{}
				cfg.Sink = sink
				e, addr := startEngine(t, cfg)
				c, err := net.Dial("tcp", addr)
				if err != nil {
					t.Fatal(err)
				}
				defer c.Close()
				c.SetDeadline(time.Now().Add(20 * time.Second))
				br := bufio.NewReader(c)
				if ws {
					io.WriteString(c, "GET /ws HTTP/1.1\r\nHost: a\r\nConnection: Upgrade\r\nUpgrade: websocket\r\n\r\n")
					resp, err := http.ReadResponse(br, nil)
					if err != nil || resp.StatusCode != 101 {
						t.Fatalf("upgrade: %v %v", resp, err)
					}
				}
				go func() {
					c.Write(payload)
					c.(*net.TCPConn).CloseWrite()
				}()
				got, err := io.ReadAll(br)
				if err != nil || !bytes.Equal(got, payload) {
					t.Fatalf("echoed %d bytes (err %v), want %d exact bytes", len(got), err, len(payload))
				}
				r := waitRecords(t, sink, 1)[0]
				i := map[bool]int{false: 0, true: 1}[nosplice]
				counts[i] = [2]int64{r.BytesIn, r.BytesOut}
				if r.BytesIn < int64(len(payload)) || r.BytesOut < int64(len(payload)) {
					t.Errorf("%%U %d %%B %d, want at least %d each", r.BytesIn, r.BytesOut, len(payload))
				}
				return e
			})
			if counts[0] != counts[1] {
				t.Errorf("%%U/%%B spliced %v, copied %v", counts[0], counts[1])
			}
		})
	}
}

// TestLoopPause: a coroutine that pauses (as a long splice does every
// spliceSlice) lets the loop run its other work before it goes on.
func TestLoopPause(t *testing.T) {
	t.Setenv("VARDE_LOOPS", "1")
	e, _ := startEngine(t, simpleConfig(spliceBackend(t)))
	l := e.loops[0]
	got := make(chan string, 1)
	var order []string
	l.post(func() {
		l.spawn(func() {
			for i := 0; i < 3; i++ {
				order = append(order, "A")
				l.pause()
			}
			got <- strings.Join(order, "")
		})
		l.spawn(func() { order = append(order, "B") })
	})
	select {
	case s := <-got:
		if s != "ABAA" {
			t.Fatalf("order %q, want ABAA (B runs while A is paused)", s)
		}
	case <-time.After(5 * time.Second):
		t.Fatal("the paused coroutine never resumed")
	}
}

// TestSpliceTunnelTimeout: a mode tcp connection whose server goes silent
// after 1 MiB (and whose client never speaks) ends at the idle timeouts
// with the same termination state and byte counts, spliced or copied.
// (relayTCP logs the client side's timeout, cD, where HAProxy would log
// sD: a deviation of the tunnel code with or without splicing.)
func TestSpliceTunnelTimeout(t *testing.T) {
	var got [2]string
	spliceModes(t, func(t *testing.T, nosplice bool) *Engine {
		srv := rawServer(t, func(c net.Conn) {
			c.Write(bodyOf(1 << 20))
			time.Sleep(3 * time.Second)
		})
		cfg := simpleConfig(srv)
		cfg.NoSplice = nosplice
		cfg.Frontends[0].Mode, cfg.Backends[0].Mode = ModeTCP, ModeTCP
		cfg.Backends[0].Timeouts.Server = 300 * time.Millisecond
		cfg.Frontends[0].Timeouts.Client = 300 * time.Millisecond
		sink := &recSink{}
		cfg.Sink = sink
		e, addr := startEngine(t, cfg)
		c, err := net.Dial("tcp", addr)
		if err != nil {
			t.Fatal(err)
		}
		defer c.Close()
		c.SetDeadline(time.Now().Add(10 * time.Second))
		b, _ := io.ReadAll(c)
		if !bytes.Equal(b, bodyOf(1<<20)) {
			t.Fatalf("client got %d bytes, want the 1 MiB exactly", len(b))
		}
		r := waitRecords(t, sink, 1)[0]
		s := fmt.Sprintf("%s %d/%d", r.Term[:2], r.BytesIn, r.BytesOut)
		if (r.Term[0] != 'c' && r.Term[0] != 's') || r.Term[1] != 'D' || r.BytesOut != 1<<20 {
			t.Fatalf("logged %s, want a timeout in the data phase and %%B %d", s, 1<<20)
		}
		got[map[bool]int{false: 0, true: 1}[nosplice]] = s
		return e
	})
	if got[0] != got[1] {
		t.Errorf("spliced %s, copied %s", got[0], got[1])
	}
}
