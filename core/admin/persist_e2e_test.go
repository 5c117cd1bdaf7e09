package admin_test

import (
	"fmt"
	"io"
	"net/http"
	"net/http/httptest"
	"strings"
	"sync/atomic"
	"testing"
	"time"

	"github.com/google/go-cmp/cmp"
)

// startPersistVarde runs varde with cookie persistence on web1 and web2
// plus the backend lines in extra (option persist, force-persist, ...).
func startPersistVarde(t *testing.T, bs []*backend, cookie, extra string) *vardeProc {
	t.Helper()
	if testing.Short() {
		t.Skip("process test")
	}
	v := newVardeProc(t)
	var servers strings.Builder
	for _, b := range bs {
		fmt.Fprintf(&servers, "    server %s %s check inter %d rise %d fall %d cookie c-%s\n", b.name, b.addr(), inter/time.Millisecond, rise, fall, b.name)
	}
	v.launch(t, fmt.Sprintf(`global
    stats socket %s mode 600 level admin
defaults
    mode http
    timeout connect 1s
    timeout client 10s
    timeout server 10s
    timeout check 2s
frontend www
    bind 127.0.0.1:%d
    default_backend app
backend app
    balance roundrobin
    option httpchk GET /health
    %s
%s%s`, v.sock, v.web, cookie, extra, servers.String()))
	return v
}

// getCookie sends GET / with the Cookie and extra header given and returns
// the status, the body (the server's name) and the response.
func (v *vardeProc) getWith(t *testing.T, cookie string, hdr ...string) (int, string, *http.Response) {
	t.Helper()
	req, _ := http.NewRequest("GET", fmt.Sprintf("http://127.0.0.1:%d/", v.web), nil)
	if cookie != "" {
		req.Header.Set("Cookie", cookie)
	}
	for i := 0; i+1 < len(hdr); i += 2 {
		req.Header.Set(hdr[i], hdr[i+1])
	}
	resp, err := (&http.Client{Timeout: 5 * time.Second}).Do(req)
	if err != nil {
		t.Fatal(err)
	}
	defer resp.Body.Close()
	b, _ := io.ReadAll(resp.Body)
	return resp.StatusCode, string(b), resp
}

func TestE2EOptionPersist(t *testing.T) {
	bs := []*backend{newBackend(t, "web1"), newBackend(t, "web2")}
	v := startPersistVarde(t, bs, "cookie SERVERID insert indirect", "    option persist\n    option redispatch\n    retries 2\n")
	v.waitStatus(t, "web1", "UP")
	v.waitStatus(t, "web2", "UP")

	// web1 fails its checks but still serves: option persist keeps its
	// sessions there, new clients go to web2.
	bs[0].sick.Store(true)
	v.waitStatus(t, "web1", "DOWN")
	for i := 0; i < 10; i++ {
		if code, body, _ := v.getWith(t, "SERVERID=c-web1"); code != 200 || body != "web1" {
			t.Fatalf("option persist, web1 down: %d %q, want web1", code, body)
		}
		if code, body, _ := v.getWith(t, ""); code != 200 || body != "web2" {
			t.Fatalf("no cookie, web1 down: %d %q, want web2", code, body)
		}
	}
	// Maintenance is not overridden by option persist.
	v.cli(t, "set server app/web1 state maint")
	v.waitStatus(t, "web1", "MAINT")
	if code, body, _ := v.getWith(t, "SERVERID=c-web1"); code != 200 || body != "web2" {
		t.Fatalf("option persist, web1 in maint: %d %q, want web2", code, body)
	}
	v.cli(t, "set server app/web1 state ready")
	// web1 is really gone: the connection fails, and option redispatch
	// sends the last retry to web2.
	bs[0].srv.Close()
	if code, body, _ := v.getWith(t, "SERVERID=c-web1"); code != 200 || body != "web2" {
		t.Fatalf("option persist + redispatch, web1 dead: %d %q, want web2", code, body)
	}
}

func TestE2EForcePersist(t *testing.T) {
	bs := []*backend{newBackend(t, "web1"), newBackend(t, "web2")}
	v := startPersistVarde(t, bs, "cookie SERVERID insert indirect", "    force-persist if { hdr(x-debug) yes }\n")
	v.waitStatus(t, "web1", "UP")
	v.waitStatus(t, "web2", "UP")
	for _, state := range []string{"MAINT", "DOWN"} {
		if state == "MAINT" {
			v.cli(t, "set server app/web1 state maint")
		} else {
			v.cli(t, "set server app/web1 state ready")
			bs[0].sick.Store(true)
		}
		v.waitStatus(t, "web1", state)
		for i := 0; i < 5; i++ {
			if code, body, _ := v.getWith(t, "SERVERID=c-web1", "X-Debug", "yes"); code != 200 || body != "web1" {
				t.Fatalf("force-persist, web1 %s: %d %q, want web1", state, code, body)
			}
			// Without the condition the cookie's server is skipped.
			if code, body, _ := v.getWith(t, "SERVERID=c-web1"); code != 200 || body != "web2" {
				t.Fatalf("no force-persist, web1 %s: %d %q, want web2", state, code, body)
			}
		}
	}
}

// newCookieBackend is a backend whose responses carry the application's
// own Set-Cookie and which records the Cookie header it received.
func newCookieBackend(t *testing.T, name, setCookie string) (*backend, *atomic.Value) {
	b := &backend{name: name}
	var got atomic.Value
	got.Store("")
	b.srv = httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		if r.URL.Path == "/health" {
			return
		}
		got.Store(r.Header.Get("Cookie"))
		w.Header().Add("Set-Cookie", setCookie)
		w.Header().Add("Set-Cookie", "theme=dark; Path=/")
		io.WriteString(w, name)
	}))
	t.Cleanup(b.srv.Close)
	return b, &got
}

func TestE2ECookieResponseModes(t *testing.T) {
	for _, tc := range []struct {
		name, cookie, serverSets string
		want                     []string // Set-Cookie values the client gets
		back                     string   // Cookie to send back
		serverSees               string   // what the server then receives
	}{
		{"prefix", "cookie JSESSIONID prefix", "JSESSIONID=abc123; Path=/; HttpOnly",
			[]string{"JSESSIONID=c-web1~abc123; Path=/; HttpOnly", "theme=dark; Path=/"},
			"JSESSIONID=c-web1~abc123; theme=dark", "JSESSIONID=abc123; theme=dark"},
		{"rewrite", "cookie SERVERID rewrite", "SERVERID=placeholder; Path=/",
			[]string{"SERVERID=c-web1; Path=/", "theme=dark; Path=/"},
			"SERVERID=c-web1", "SERVERID=c-web1"},
		{"insert removes the server's", "cookie SERVERID insert", "SERVERID=app-made; Path=/",
			[]string{"theme=dark; Path=/", "SERVERID=c-web1; path=/"},
			"SERVERID=c-web1", "SERVERID=c-web1"},
		{"insert preserve keeps the server's", "cookie SERVERID insert preserve", "SERVERID=; Max-Age=0",
			[]string{"SERVERID=; Max-Age=0", "theme=dark; Path=/"},
			"SERVERID=c-web1", "SERVERID=c-web1"},
	} {
		t.Run(tc.name, func(t *testing.T) {
			web1, seen := newCookieBackend(t, "web1", tc.serverSets)
			web2, _ := newCookieBackend(t, "web2", tc.serverSets)
			v := startPersistVarde(t, []*backend{web1, web2}, tc.cookie, "")
			v.waitStatus(t, "web1", "UP")
			v.waitStatus(t, "web2", "UP")
			// Balanced requests alternate: find one that web1 answered.
			var resp *http.Response
			for i := 0; i < 4; i++ {
				code, body, r := v.getWith(t, "")
				if code != 200 {
					t.Fatalf("status %d", code)
				}
				if body == "web1" {
					resp = r
					break
				}
			}
			if resp == nil {
				t.Fatal("web1 never answered")
			}
			if diff := cmp.Diff(tc.want, resp.Header.Values("Set-Cookie")); diff != "" {
				t.Errorf("Set-Cookie (-want +got):\n%s", diff)
			}
			// The cookie brings the client back to web1, which sees its own
			// value.
			for i := 0; i < 4; i++ {
				if code, body, _ := v.getWith(t, tc.back); code != 200 || body != "web1" {
					t.Fatalf("cookie %q: %d %q, want web1", tc.back, code, body)
				}
				if got := seen.Load().(string); got != tc.serverSees {
					t.Fatalf("web1 got Cookie %q, want %q", got, tc.serverSees)
				}
			}
		})
	}
}

// force-persist disables the final redispatch: a forced request to a dead
// server fails instead of landing elsewhere.
func TestE2EForcePersistNoRedispatch(t *testing.T) {
	bs := []*backend{newBackend(t, "web1"), newBackend(t, "web2")}
	v := startPersistVarde(t, bs, "cookie SERVERID insert indirect",
		"    option redispatch\n    retries 1\n    force-persist if { hdr(x-debug) yes }\n")
	v.waitStatus(t, "web1", "UP")
	v.waitStatus(t, "web2", "UP")
	bs[0].srv.Close()
	v.waitStatus(t, "web1", "DOWN")
	if code, body, _ := v.getWith(t, "SERVERID=c-web1", "X-Debug", "yes"); code != 503 {
		t.Fatalf("force-persist to a dead server: %d %q, want 503 (no redispatch)", code, body)
	}
	if code, body, _ := v.getWith(t, "SERVERID=c-web1"); code != 200 || body != "web2" {
		t.Fatalf("no force-persist: %d %q, want web2", code, body)
	}
}
