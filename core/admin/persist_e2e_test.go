package admin_test

import (
	"fmt"
	"io"
	"net/http"
	"strings"
	"testing"
	"time"
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
