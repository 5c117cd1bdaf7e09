package proxy

import (
	"bufio"
	"io"
	"net"
	"net/http"
	"sort"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/google/go-cmp/cmp"
	"github.com/varde-lb/varde/core"
	"github.com/varde-lb/varde/core/acl"
	"github.com/varde-lb/varde/core/logrec"
	"github.com/varde-lb/varde/core/route"
)

// viewSpy records the header fields of every request view it is shown, as
// a condition, a chooser policy (declining) and a rule condition.
type viewSpy struct {
	mu   sync.Mutex
	seen []string // "where: name=value,..." per look
}

func (v *viewSpy) look(where string, req core.Request) {
	var fs []string
	for i := range req.NumHeaders() {
		n, val := req.HeaderAt(i)
		fs = append(fs, strings.ToLower(string(n))+"="+string(val))
	}
	sort.Strings(fs)
	v.mu.Lock()
	v.seen = append(v.seen, where+": "+strings.Join(fs, ","))
	v.mu.Unlock()
}

func (v *viewSpy) take() []string {
	v.mu.Lock()
	defer v.mu.Unlock()
	s := v.seen
	v.seen = nil
	return s
}

type spyCond struct{ v *viewSpy }

func (c spyCond) Match(req core.Request) bool { c.v.look("rule", req); return false }

type spyPolicy struct{ v *viewSpy }

func (p spyPolicy) ChooseBackend(req core.Request) (string, bool) {
	p.v.look("policy", req)
	return "", false
}

// TestViewSanitised: every chooser, ACL, rule and policy sees the request
// without its hop-by-hop fields, before any of them runs; the server gets
// what the engine forwards of them.
func TestViewSanitised(t *testing.T) {
	app, appSeen := backend(t, "app", func(w http.ResponseWriter, r *http.Request) {
		io.Copy(w, r.Body) // echo the body the server got
	})
	secret, _ := backend(t, "secret", nil)
	cfg := simpleConfig(hostport(app))
	cfg.Backends = append(cfg.Backends, &BackendConfig{Name: "secret", Mode: ModeHTTP, Retries: -1,
		Balance:  core.BalanceSpec{Algorithm: "proxytest-rr"},
		Servers:  []ServerConfig{{Name: "s1", Addr: hostport(secret)}},
		Timeouts: Timeouts{Connect: time.Second, Server: 5 * time.Second}})
	// A real ACL on a header named in Connection, through core/route.
	ch, err := route.Compile([]route.RuleSpec{
		{Backend: "secret", Cond: strings.Fields("if { hdr(x-secret) -m found }")},
		{Backend: "secret", Cond: strings.Fields("if { hdr(keep-alive) -m found }")},
		{Backend: "secret", Cond: strings.Fields("if { hdr_cnt(connection) gt 0 }")},
	}, "be", acl.NewSet().Lookup, nil)
	if err != nil {
		t.Fatal(err)
	}
	spy := &viewSpy{}
	fe := cfg.Frontends[0]
	fe.Chooser = ch
	fe.Policy = spyPolicy{spy}
	fe.HTTPRequest = []*HTTPRule{{Action: ActSetHeader, Name: "X-Seen-Secret", Value: "[%[req.hdr(x-secret)]]"},
		{Action: ActDeny, Cond: spyCond{spy}}}
	e, addr := startEngine(t, cfg)

	tests := []struct {
		name    string
		headers string
		body    string
		view    string // what the rule and the policy saw
		fwd     map[string]string
	}{
		{"field named in Connection", "Connection: close, X-Secret\r\nX-Secret: 1\r\n", "",
			"host=a,x-keep=1", map[string]string{"X-Secret": "", "X-Seen-Secret": "[]", "Connection": ""}},
		{"hop-by-hop fields", "Connection: keep-alive\r\nKeep-Alive: timeout=5\r\nProxy-Connection: keep-alive\r\nTE: gzip, trailers\r\n", "",
			"host=a,x-keep=1", map[string]string{"Keep-Alive": "", "Proxy-Connection": "", "Te": "trailers"}},
		{"TE without trailers", "TE: gzip\r\n", "", "host=a,x-keep=1", map[string]string{"Te": ""}},
		{"chunked body", "Transfer-Encoding: chunked\r\n", "3\r\nabc\r\n0\r\n\r\n",
			"host=a,x-keep=1", map[string]string{"Transfer-Encoding": "", "body": "abc"}},
		{"Connection cannot hide Host or Content-Length", "Connection: host, content-length\r\nContent-Length: 2\r\n", "hi",
			"content-length=2,host=a,x-keep=1", map[string]string{"body": "hi"}},
		{"non-WebSocket Upgrade", "Connection: upgrade\r\nUpgrade: h2c\r\n", "", "host=a,x-keep=1", nil},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			c, err := net.Dial("tcp", addr)
			if err != nil {
				t.Fatal(err)
			}
			defer c.Close()
			raw := "POST /p HTTP/1.1\r\nHost: a\r\n" + tt.headers + "X-Keep: 1\r\n"
			if tt.body == "" && !strings.Contains(tt.headers, "Content-Length") {
				raw += "Content-Length: 0\r\n"
			}
			resp := rawExchange(t, c, bufio.NewReader(c), raw+"\r\n"+tt.body, "POST")
			got := body(t, resp)
			if resp.Header.Get("X-Server") != "app" {
				t.Fatalf("went to %q: an ACL saw a hidden field", resp.Header.Get("X-Server"))
			}
			// The set-header rule ran before both: they see its field, as
			// a later HAProxy rule sees an earlier rule's edit.
			view := withCL(tt.view, tt) + ",x-seen-secret=[]"
			want := []string{"rule: " + view, "policy: " + view}
			if d := cmp.Diff(want, spy.take()); d != "" {
				t.Errorf("views (-want +got)\n%s", d)
			}
			r := appSeen.last()
			for k, v := range tt.fwd {
				if k == "body" {
					if got != v {
						t.Errorf("server got body %q, want %q", got, v)
					}
					continue
				}
				if g := r.Header.Get(k); g != v {
					t.Errorf("forwarded %s = %q, want %q", k, g, v)
				}
			}
		})
	}
	if fb := e.Frontend("fe").PolicyFallbacks(); fb.Declined == 0 {
		t.Errorf("declining policy not counted: %+v", fb)
	}
}

// withCL adds the content-length the test request carries to a view.
func withCL(view string, tt struct {
	name    string
	headers string
	body    string
	view    string
	fwd     map[string]string
}) string {
	if strings.Contains(view, "content-length") || tt.body != "" && strings.Contains(tt.headers, "chunked") {
		return view
	}
	return "content-length=0," + view
}

// TestFramingRejectedFirst: conflicting framing is a 400 before any rule,
// chooser or policy runs, logged as <BADREQ>.
func TestFramingRejectedFirst(t *testing.T) {
	app, appSeen := backend(t, "app", nil)
	cfg := simpleConfig(hostport(app))
	sink := &recSink{}
	cfg.Sink = sink
	spy := &viewSpy{}
	cfg.Frontends[0].Policy = spyPolicy{spy}
	cfg.Frontends[0].HTTPRequest = []*HTTPRule{{Action: ActDeny, Cond: spyCond{spy}}}
	_, addr := startEngine(t, cfg)
	for _, raw := range []string{
		"POST / HTTP/1.1\r\nHost: a\r\nContent-Length: 3\r\nTransfer-Encoding: chunked\r\n\r\n0\r\n\r\n",
		"POST / HTTP/1.1\r\nHost: a\r\nContent-Length: 3\r\nContent-Length: 4\r\n\r\nabc",
		"POST / HTTP/1.0\r\nHost: a\r\nTransfer-Encoding: chunked\r\n\r\n0\r\n\r\n",
		"POST / HTTP/1.1\r\nHost: a\r\nTransfer-Encoding: gzip\r\n\r\n",
	} {
		c, err := net.Dial("tcp", addr)
		if err != nil {
			t.Fatal(err)
		}
		resp := rawExchange(t, c, bufio.NewReader(c), raw, "POST")
		body(t, resp)
		c.Close()
		if resp.StatusCode != 400 {
			t.Errorf("%q: status %d, want 400", raw, resp.StatusCode)
		}
	}
	if got := spy.take(); len(got) != 0 {
		t.Errorf("rules or policies saw a badly framed request: %v", got)
	}
	if appSeen.hits.Load() != 0 {
		t.Errorf("a badly framed request reached the server")
	}
	for _, r := range waitRecords(t, sink, 4) {
		if r.Status != 400 || r.Term[0] != logrec.TermProxy {
			t.Errorf("record: status %d term %c", r.Status, r.Term[0])
		}
	}
}

// TestWebSocketUpgradeVisible: a WebSocket upgrade keeps its Upgrade field
// in the view (HAProxy's ACLs see it), Connection goes.
func TestWebSocketUpgradeVisible(t *testing.T) {
	srvAddr := rawServer(t, func(c net.Conn) {
		br := bufio.NewReader(c)
		if _, err := http.ReadRequest(br); err != nil {
			return
		}
		c.Write([]byte("HTTP/1.1 101 Switching Protocols\r\nUpgrade: websocket\r\nConnection: Upgrade\r\n\r\n"))
	})
	cfg := simpleConfig(srvAddr)
	spy := &viewSpy{}
	cfg.Frontends[0].HTTPRequest = []*HTTPRule{{Action: ActDeny, Cond: spyCond{spy}}}
	_, addr := startEngine(t, cfg)
	c, err := net.Dial("tcp", addr)
	if err != nil {
		t.Fatal(err)
	}
	defer c.Close()
	resp := rawExchange(t, c, bufio.NewReader(c), "GET /ws HTTP/1.1\r\nHost: a\r\nConnection: Upgrade\r\nUpgrade: websocket\r\n\r\n", "GET")
	if resp.StatusCode != 101 {
		t.Fatalf("status %d", resp.StatusCode)
	}
	if d := cmp.Diff([]string{"rule: host=a,upgrade=websocket"}, spy.take()); d != "" {
		t.Errorf("view (-want +got)\n%s", d)
	}
}
