package proxy

import (
	"bufio"
	"fmt"
	"io"
	"net"
	"net/http"
	"net/http/httptest"
	"strings"
	"testing"
	"time"

	"github.com/varde-lb/varde/core/sticktable"
)

const stickRespConfig = `%sdefaults
    mode http
    timeout connect 2s
    timeout client 5s
    timeout server 5s
frontend fe
    bind 127.0.0.1:%d
    default_backend be
backend be
    balance roundrobin
    stick-table type string len 32 size 1k expire 30m
    stick match req.cook(SID)
    stick store-response res.cook(SID)
    stick store-response res.hdr(X-Sess)
    http-response del-header X-Sess
    server s1 %s
    server s2 %s
    server s3 %s
`

// sessionBackend answers with its name; /login sets a SID cookie and
// /hdr an X-Sess header naming it, /both both (cookie c-NAME, header
// h-NAME).
func sessionBackend(t *testing.T, name string) string {
	srv := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		switch r.URL.Path {
		case "/login":
			w.Header().Add("Set-Cookie", "lang=en; Path=/")
			w.Header().Add("Set-Cookie", "SID=c-"+name+"; Path=/; Expires=Wed, 21 Oct 2026 07:28:00 GMT")
		case "/hdr":
			w.Header().Set("X-Sess", "h-"+name)
		case "/both":
			w.Header().Set("Set-Cookie", "SID=b-"+name)
			w.Header().Set("X-Sess", "x-"+name)
		}
		io.WriteString(w, name)
	}))
	t.Cleanup(srv.Close)
	return strings.TrimPrefix(srv.URL, "http://")
}

// oneGet sends one request on a new connection and returns the body
// and whether X-Sess reached the client.
func oneGet(t *testing.T, addr, path, cookie string) string {
	c, err := net.Dial("tcp", addr)
	if err != nil {
		t.Fatal(err)
	}
	defer c.Close()
	c.SetDeadline(time.Now().Add(5 * time.Second))
	ck := ""
	if cookie != "" {
		ck = "Cookie: " + cookie + "\r\n"
	}
	fmt.Fprintf(c, "GET %s HTTP/1.1\r\nHost: x\r\n%sConnection: close\r\n\r\n", path, ck)
	resp, err := http.ReadResponse(bufio.NewReader(c), nil)
	if err != nil {
		t.Fatal(err)
	}
	b, _ := io.ReadAll(resp.Body)
	if resp.Header.Get("X-Sess") != "" {
		return string(b) + "+hdr"
	}
	return string(b)
}

// storeRespScript is the requests of TestDifferentialStickStoreResponse:
// each step's answers, joined.
func storeRespScript(t *testing.T, addr string) []string {
	var out []string
	run := func(label string, n int, path, cookie string) {
		var got []string
		for i := 0; i < n; i++ {
			got = append(got, oneGet(t, addr, path, cookie))
		}
		out = append(out, label+": "+strings.Join(got, " "))
	}
	run("login", 1, "/login", "")        // s1 answers, stores c-s1
	run("with c-s1", 4, "/", "SID=c-s1") // stuck to s1
	run("no cookie", 3, "/", "")         // roundrobin
	run("hdr", 1, "/hdr", "")            // stores h-sN by the header fallback
	run("unknown", 3, "/", "SID=nope")   // roundrobin
	run("both", 1, "/both", "")          // the cookie rule wins: b-sN, not x-sN
	run("with x", 3, "/", "SID=x-s"+"1") // never stored: roundrobin
	run("with c-s1 again", 2, "/", "lang=en; SID=c-s1")
	return out
}

// TestDifferentialStickStoreResponse: `stick store-response` keys taken
// from the server's Set-Cookie (attributes and an Expires comma ignored)
// or, when absent, from a header that a later http-response rule deletes
// (the store rules see the response before the rules); only the first
// matching store-response rule of a table stores.
func TestDifferentialStickStoreResponse(t *testing.T) {
	s1, s2, s3 := sessionBackend(t, "s1"), sessionBackend(t, "s2"), sessionBackend(t, "s3")
	haddr, sock := startHAProxyStick(t, func(port int, sock string) string {
		return fmt.Sprintf(stickRespConfig, "global\n    stats socket "+sock+" level admin\n", port, s1, s2, s3)
	})
	cfg := loadProxyConfig(t, fmt.Sprintf(stickRespConfig, "", 1, s1, s2, s3))
	cfg.Frontends[0].Binds = nil
	e, vaddr := startEngine(t, cfg)
	h, v := storeRespScript(t, haddr), storeRespScript(t, vaddr)
	for i := range h {
		if h[i] != v[i] {
			t.Errorf("haproxy %q\nvarde   %q", h[i], v[i])
		}
	}
	t.Logf("haproxy: %q", h)
	if v[1] != "with c-s1: s1 s1 s1 s1" {
		t.Errorf("varde did not stick to the stored cookie: %q", v[1])
	}
	hq := haproxyCLI(t, sock, "show table be")
	vq := dumpTable(e.StickTables().Lookup("be"), sticktable.Query{})
	if hid, vid := serverIDs(hq), serverIDs(vq); hid != vid || strings.Count(vid, "key=") != 3 {
		t.Errorf("server ids haproxy %q, varde %q\n%s\n%s", hid, vid, hq, vq)
	}
}
