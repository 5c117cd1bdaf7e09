package proxy

import (
	"bytes"
	"net/http"
	"strings"
	"testing"

	"github.com/google/go-cmp/cmp"

	"github.com/varde-lb/varde/core/httpx"
	"github.com/varde-lb/varde/core/logrec"
)

func TestCaptureCookieUnit(t *testing.T) {
	for _, tc := range []struct {
		name, head, header, capName string
		capLen                      int
		want                        string
	}{
		{"request first match", "GET / HTTP/1.1\r\nHost: x\r\nCookie: a=1; SESSID=abc; SESSID=zzz\r\n\r\n", "cookie", "SESSID", 64, "SESSID=abc"},
		{"name prefix", "GET / HTTP/1.1\r\nHost: x\r\nCookie: JSESSIONIDX=42\r\n\r\n", "cookie", "JSESSIONID", 64, "JSESSIONIDX=42"},
		{"second field", "GET / HTTP/1.1\r\nHost: x\r\nCookie: a=1\r\nCookie: id=7\r\n\r\n", "cookie", "id", 64, "id=7"},
		{"truncated to len", "GET / HTTP/1.1\r\nHost: x\r\nCookie: id=0123456789\r\n\r\n", "cookie", "id", 6, "id=012"},
		{"case-sensitive name", "GET / HTTP/1.1\r\nHost: x\r\nCookie: ID=1\r\n\r\n", "cookie", "id", 64, ""},
		{"absent", "GET / HTTP/1.1\r\nHost: x\r\n\r\n", "cookie", "id", 64, ""},
		{"set-cookie pair only", "HTTP/1.1 200 OK\r\nSet-Cookie: id=9; Path=/; HttpOnly\r\n\r\n", "set-cookie", "id", 64, "id=9"},
		{"set-cookie attributes not cookies", "HTTP/1.1 200 OK\r\nSet-Cookie: a=1; id=2\r\nSet-Cookie: id=3\r\n\r\n", "set-cookie", "id", 64, "id=3"},
	} {
		var h *httpx.Head
		if tc.header == "cookie" {
			var r httpx.Request
			if err := r.Parse([]byte(tc.head), httpx.DefaultLimits); err != nil {
				t.Fatalf("%s: %v", tc.name, err)
			}
			h = &r.Head
		} else {
			var r httpx.Response
			if err := r.Parse([]byte(tc.head), httpx.DefaultLimits); err != nil {
				t.Fatalf("%s: %v", tc.name, err)
			}
			h = &r.Head
		}
		var c logrec.Cookie
		captureCookie(&c, h, tc.header, &Capture{Name: tc.capName, Len: tc.capLen})
		if got := string(c.Bytes()); got != tc.want {
			t.Errorf("%s: captured %q, want %q", tc.name, got, tc.want)
		}
	}
}

// TestCaptureCookieLogged: `capture cookie` fills %CC from the request and
// %CS from the server's Set-Cookie.
func TestCaptureCookieLogged(t *testing.T) {
	b1, _ := backend(t, "b1", func(w http.ResponseWriter, r *http.Request) {
		w.Header().Add("Set-Cookie", "SRV=s1; Path=/")
		w.Write([]byte("ok"))
	})
	sink := &recSink{}
	cfg := simpleConfig(hostport(b1))
	cfg.Sink = sink
	cfg.Frontends[0].CaptureCookie = Capture{Name: "SRV", Len: 32}
	cfg.Frontends[0].HTTPRequest = []*HTTPRule{
		{Action: ActRedirect, Target: "/elsewhere", Cond: pathIs("/redir")},
		{Action: ActDeny, Status: 403, Cond: pathIs("/deny")},
	}
	_, addr := startEngine(t, cfg)
	client := &http.Client{CheckRedirect: func(*http.Request, []*http.Request) error { return http.ErrUseLastResponse }}
	for _, p := range []string{"/", "/redir", "/deny"} {
		req, _ := http.NewRequest("GET", "http://"+addr+p, nil)
		req.Header.Set("Cookie", "lang=en; SRV=s0")
		resp, err := client.Do(req)
		if err != nil {
			t.Fatal(err)
		}
		body(t, resp)
	}
	got := map[string][2]string{}
	for _, r := range waitRecords(t, sink, 3) {
		got[string(r.RequestLine.Bytes())] = [2]string{string(r.ReqCookie.Bytes()), string(r.ResCookie.Bytes())}
	}
	// What HAProxy 2.6 logs for the same exchanges (no %CC on a redirect).
	want := map[string][2]string{
		"GET / HTTP/1.1":      {"SRV=s0", "SRV=s1"},
		"GET /redir HTTP/1.1": {"", ""},
		"GET /deny HTTP/1.1":  {"SRV=s0", ""},
	}
	if d := cmp.Diff(want, got); d != "" {
		t.Errorf("captured cookies %%CC %%CS (-want +got)\n%s", d)
	}
}

func TestCaptureCookieNoAlloc(t *testing.T) {
	var r httpx.Request
	if err := r.Parse([]byte("GET / HTTP/1.1\r\nHost: x\r\nCookie: a=1; b=2\r\nCookie: SESSIONID=0123456789\r\n\r\n"), httpx.DefaultLimits); err != nil {
		t.Fatal(err)
	}
	cc := &Capture{Name: "SESSIONID", Len: 64}
	var c logrec.Cookie
	if a := testing.AllocsPerRun(100, func() { captureCookie(&c, &r.Head, "cookie", cc) }); a != 0 {
		t.Errorf("%.1f allocations per capture, want 0", a)
	}
}

// FuzzCaptureCookie: any Cookie / Set-Cookie value gives either nothing
// or a "name=value" whose name starts with the capture name, within len.
func FuzzCaptureCookie(f *testing.F) {
	f.Add("a=1; SID=x", "SID", 8, false)
	f.Add("SID=abc; Path=/", "SID", 2, true)
	f.Add(";;=; SID", "S", 64, false)
	f.Fuzz(func(t *testing.T, value, name string, n int, set bool) {
		if name == "" || n < 1 || n > 65535 {
			return
		}
		header := "Cookie"
		if set {
			header = "Set-Cookie"
		}
		raw := "HTTP/1.1 200 OK\r\n" + header + ": " + value + "\r\n\r\n"
		var r httpx.Response
		if r.Parse([]byte(raw), httpx.DefaultLimits) != nil {
			return
		}
		var c logrec.Cookie
		captureCookie(&c, &r.Head, strings.ToLower(header), &Capture{Name: name, Len: n})
		got := c.Bytes()
		if len(got) == 0 {
			return
		}
		if len(got) > n || len(got) > logrec.CookieBytes {
			t.Fatalf("captured %q longer than len %d", got, n)
		}
		if !bytes.HasPrefix(got, []byte(name)) && !bytes.HasPrefix([]byte(name), got) {
			t.Fatalf("captured %q does not start with %q", got, name)
		}
	})
}

func TestFromConfigCaptureCookie(t *testing.T) {
	cfg := loadProxyConfig(t, `defaults
    mode http
    timeout connect 2s
    timeout client 10s
    timeout server 20s
frontend fe
    bind 127.0.0.1:1
    capture cookie JSESSIONID len 40
    default_backend be
backend be
    server a 127.0.0.1:1
`)
	if got, want := cfg.Frontends[0].CaptureCookie, (Capture{Name: "JSESSIONID", Len: 40}); got != want {
		t.Errorf("capture cookie: got %+v, want %+v", got, want)
	}
}
