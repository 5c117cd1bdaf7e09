package peers

import (
	"bufio"
	"fmt"
	"io"
	"net"
	"net/http"
	"net/http/httptest"
	"os"
	"path/filepath"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/varde-lb/varde/core/testenv"
)

// The interop tests run Debian's HAProxy 2.6 with a peers section naming
// it "hap" and a second peer "varde" played by the test with this
// package's codec: what HAProxy sends decodes to its table's entries, and
// what the codec encodes lands in HAProxy's table and steers its stick
// persistence.

type hapPeers struct {
	t                       *testing.T
	dir, sock, log          string
	fePort, hapPort, vdPort int
}

const hapTable = "server_id,gpc0,http_req_cnt,http_req_rate(10s)"

func startHAProxyPeer(t *testing.T, listenVarde net.Listener) *hapPeers {
	t.Helper()
	bin := testenv.LookTool(t, "haproxy", "haproxy")
	ports := testenv.FreePorts(t, 3)
	h := &hapPeers{t: t, dir: t.TempDir(), fePort: ports[0], hapPort: ports[1], vdPort: ports[2]}
	if listenVarde != nil {
		h.vdPort = listenVarde.Addr().(*net.TCPAddr).Port
	}
	h.sock = filepath.Join(h.dir, "hap.sock")
	cfg := fmt.Sprintf(`global
    localpeer hap
    stats socket %s level admin
defaults
    mode http
    timeout connect 1s
    timeout client 5s
    timeout server 5s
peers mesh
    peer hap 127.0.0.1:%d
    peer varde 127.0.0.1:%d
frontend fe
    bind 127.0.0.1:%d
    default_backend st
backend st
    balance roundrobin
    stick-table type ip size 1k expire 1m store %s peers mesh
    http-request track-sc0 src
    stick on src
    server s1 %s
    server s2 %s
`, h.sock, h.hapPort, h.vdPort, h.fePort, hapTable, namedServer(t, "s1"), namedServer(t, "s2"))
	path := filepath.Join(h.dir, "haproxy.cfg")
	if err := os.WriteFile(path, []byte(cfg), 0o644); err != nil {
		t.Fatal(err)
	}
	_, h.log = testenv.Start(t, bin, "-db", "-f", path)
	testenv.WaitListening(t, "haproxy", h.log, h.fePort)
	return h
}

func namedServer(t *testing.T, name string) string {
	srv := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) { io.WriteString(w, name) }))
	t.Cleanup(srv.Close)
	return strings.TrimPrefix(srv.URL, "http://")
}

func (h *hapPeers) get() string {
	h.t.Helper()
	c := &http.Client{Transport: &http.Transport{DisableKeepAlives: true}, Timeout: 5 * time.Second}
	resp, err := c.Get(fmt.Sprintf("http://127.0.0.1:%d/", h.fePort))
	if err != nil {
		h.t.Fatalf("GET: %v", err)
	}
	defer resp.Body.Close()
	b, _ := io.ReadAll(resp.Body)
	return string(b)
}

func (h *hapPeers) cli(cmd string) string {
	h.t.Helper()
	c, err := net.DialTimeout("unix", h.sock, 2*time.Second)
	if err != nil {
		h.t.Fatalf("admin socket: %v", err)
	}
	defer c.Close()
	c.SetDeadline(time.Now().Add(5 * time.Second))
	io.WriteString(c, cmd+"\n")
	b, _ := io.ReadAll(c)
	return string(b)
}

func (h *hapPeers) logs() string { b, _ := os.ReadFile(h.log); return string(b) }

// session is the test's side of one peers connection.
type testSession struct {
	c  net.Conn
	r  *bufio.Reader
	mu sync.Mutex // writes: the heartbeat goroutine and the test
}

func (s *testSession) write(b []byte) error {
	s.mu.Lock()
	defer s.mu.Unlock()
	s.c.SetWriteDeadline(time.Now().Add(2 * time.Second))
	_, err := s.c.Write(b)
	return err
}

// heartbeat sends what HAProxy expects at least every 5 s until done.
func (s *testSession) heartbeat(done <-chan struct{}) {
	tk := time.NewTicker(time.Second)
	defer tk.Stop()
	for {
		select {
		case <-done:
			return
		case <-tk.C:
			if s.write(AppendMessage(nil, ClassControl, CtrlHeartbeat, nil)) != nil {
				return
			}
		}
	}
}

// TestHAProxySendsDecodableUpdates: HAProxy connects to the "varde" peer,
// sends the hello the codec reads, and after a tracked request pushes a
// table definition and updates whose values are the ones `show table`
// prints on HAProxy's side.
func TestHAProxySendsDecodableUpdates(t *testing.T) {
	if testing.Short() {
		t.Skip("runs haproxy")
	}
	l, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	defer l.Close()
	h := startHAProxyPeer(t, l)
	l.(*net.TCPListener).SetDeadline(time.Now().Add(15 * time.Second))
	c, err := l.Accept()
	if err != nil {
		t.Fatalf("HAProxy did not connect to its remote peer: %v\n%s", err, h.logs())
	}
	defer c.Close()
	s := &testSession{c: c, r: bufio.NewReader(c)}
	c.SetReadDeadline(time.Now().Add(15 * time.Second))
	hello, st, err := ReadHello(s.r)
	if err != nil || st != StatusOK {
		t.Fatalf("hello: %v (status %d)", err, st)
	}
	if hello.Remote != "varde" || hello.Local != "hap" || hello.Major != 2 || hello.Minor != 1 {
		t.Fatalf("hello %+v", hello)
	}
	if err := s.write([]byte("200\n")); err != nil {
		t.Fatal(err)
	}
	done := make(chan struct{})
	defer close(done)
	go s.heartbeat(done)

	if got := h.get(); got != "s1" {
		t.Fatalf("first request served by %q", got)
	}
	if got := h.cli("set table st key 10.1.2.3 data.gpc0 7 data.server_id 2"); strings.TrimSpace(got) != "" {
		t.Fatalf("set table: %q", got)
	}
	def, entries := readUntil(t, s, func(e map[string]*Update) bool {
		return e["10.1.2.3"] != nil && e["127.0.0.1"] != nil && value(e["127.0.0.1"], DTServerID) == 1
	})
	// HAProxy 2.6 adds server_key (the server's name, a dictionary
	// entry) to a table with stick rules.
	if def.Name != "st" || def.KeyType != KeyIPv4 || def.KeyLen != 4 || def.Expire != 60000 ||
		def.Data != 1<<DTServerID|1<<DTGPC0|1<<DTHTTPReqCnt|1<<DTHTTPReqRate|1<<DTServerKey || def.Period[DTHTTPReqRate] != 10000 {
		t.Fatalf("table definition %+v", def)
	}
	if u := entries["10.1.2.3"]; value(u, DTGPC0) != 7 || value(u, DTServerID) != 2 {
		t.Fatalf("10.1.2.3: %+v", u.Values)
	}
	u := entries["127.0.0.1"]
	if value(u, DTHTTPReqCnt) != 1 || freq(u, DTHTTPReqRate).Curr != 1 {
		t.Fatalf("127.0.0.1: %+v\nshow table: %s", u.Values, h.cli("show table st"))
	}
	if d := dict(u, DTServerKey); !strings.HasSuffix(string(d), "\x02s1") {
		t.Errorf("127.0.0.1's server_key %q: want a new dictionary entry for s1", d)
	}
	show := h.cli("show table st")
	for _, want := range []string{"key=10.1.2.3", "gpc0=7", "key=127.0.0.1", "server_id=1", "http_req_cnt=1"} {
		if !strings.Contains(show, want) {
			t.Errorf("HAProxy's show table lacks %q:\n%s", want, show)
		}
	}
}

// readUntil reads messages (answering a resync request as a peer with
// nothing to teach) until done holds for the entries decoded so far, by
// key; updates of an entry replace its previous ones.
func readUntil(t *testing.T, s *testSession, done func(map[string]*Update) bool) (*TableDef, map[string]*Update) {
	t.Helper()
	var def *TableDef
	entries := map[string]*Update{}
	deadline := time.Now().Add(15 * time.Second)
	for time.Now().Before(deadline) {
		s.c.SetReadDeadline(deadline)
		m, err := ReadMessage(s.r, MaxMessage)
		if err != nil {
			t.Fatalf("read: %v (entries %v)", err, entries)
		}
		switch {
		case m.Class == ClassControl && m.Type == CtrlResyncReq:
			if err := s.write(AppendMessage(nil, ClassControl, CtrlResyncFinished, nil)); err != nil {
				t.Fatal(err)
			}
		case m.Class == ClassStickTable && m.Type == StktDefine:
			if def, err = ParseTableDef(m.Data); err != nil {
				t.Fatal(err)
			}
		case m.Class == ClassStickTable && m.Type >= StktUpdate && m.Type != StktDefine && m.Type != StktSwitch && m.Type != StktAck:
			if def == nil {
				t.Fatalf("update before a table definition")
			}
			u, err := ParseUpdate(m.Type, def, m.Data)
			if err != nil {
				t.Fatal(err)
			}
			entries[net.IP(u.Key).String()] = u
			if err := s.write(AppendAck(nil, Ack{TableID: def.ID, Update: u.ID})); err != nil {
				t.Fatal(err)
			}
			if done(entries) {
				return def, entries
			}
		}
	}
	t.Fatalf("timed out; entries %v", entries)
	return nil, nil
}

func value(u *Update, dt int) uint64 {
	for _, v := range u.Values {
		if v.Type == dt {
			return v.Int
		}
	}
	return 1<<64 - 1
}

func dict(u *Update, dt int) []byte {
	for _, v := range u.Values {
		if v.Type == dt {
			return v.Dict
		}
	}
	return nil
}

func freq(u *Update, dt int) Freq {
	for _, v := range u.Values {
		if v.Type == dt {
			return v.Freq
		}
	}
	return Freq{}
}

// TestHAProxyAppliesEncodedUpdates: the test connects to HAProxy's peer
// as "varde", and the table definition and update the codec encodes
// land in HAProxy's table: `show table` prints them, and `stick on src`
// sends the client to the server the pushed entry names instead of the
// one round robin would pick.
func TestHAProxyAppliesEncodedUpdates(t *testing.T) {
	if testing.Short() {
		t.Skip("runs haproxy")
	}
	h := startHAProxyPeer(t, nil)
	testenv.WaitListening(t, "haproxy peer", h.log, h.hapPort)
	c, err := net.DialTimeout("tcp", fmt.Sprintf("127.0.0.1:%d", h.hapPort), 2*time.Second)
	if err != nil {
		t.Fatal(err)
	}
	defer c.Close()
	s := &testSession{c: c, r: bufio.NewReader(c)}
	if err := s.write(AppendHello(nil, Hello{Major: Major, Minor: Minor, Remote: "hap", Local: "varde", PID: os.Getpid(), RelPID: 1})); err != nil {
		t.Fatal(err)
	}
	c.SetReadDeadline(time.Now().Add(5 * time.Second))
	if st, err := ReadStatus(s.r); err != nil || st != StatusOK {
		t.Fatalf("status %d, %v\n%s", st, err, h.logs())
	}
	done := make(chan struct{})
	defer close(done)
	go s.heartbeat(done)
	go io.Copy(io.Discard, s.r) // HAProxy's own messages (resync request, heartbeats)

	def := &TableDef{ID: 1, Name: "st", KeyType: KeyIPv4, KeyLen: 4, Expire: 60000, Data: 1<<DTServerID | 1<<DTGPC0}
	var out []byte
	out = AppendTableDef(out, def)
	out = AppendUpdate(out, def, &Update{ID: 1, HasID: true, Key: []byte{127, 0, 0, 1},
		Values: []Value{{Type: DTServerID, Int: 2}, {Type: DTGPC0, Int: 42}}})
	out = AppendUpdate(out, def, &Update{Key: []byte{10, 9, 8, 7}, Values: []Value{{Type: DTServerID, Int: 1}, {Type: DTGPC0, Int: 5}}})
	if err := s.write(out); err != nil {
		t.Fatal(err)
	}
	var show string
	err = testenv.Until(5*time.Second, 20*time.Millisecond, func() error {
		show = h.cli("show table st")
		if strings.Contains(show, "key=127.0.0.1") && strings.Contains(show, "key=10.9.8.7") {
			return nil
		}
		return fmt.Errorf("not there yet")
	})
	if err != nil {
		t.Fatalf("HAProxy's table did not get the entries:\n%s\n%s", show, h.logs())
	}
	for _, want := range []string{"key=127.0.0.1 use=0 exp=", "server_id=2 gpc0=42", "key=10.9.8.7", "server_id=1 gpc0=5"} {
		if !strings.Contains(show, want) {
			t.Errorf("show table lacks %q:\n%s", want, show)
		}
	}
	for i := range 3 {
		if got := h.get(); got != "s2" {
			t.Fatalf("request %d served by %q: the pushed entry (server_id=2) did not steer stick on src", i, got)
		}
	}
}
