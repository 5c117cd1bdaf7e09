package proxy

import (
	"fmt"
	"io"
	"net"
	"net/http"
	"net/http/httptest"
	"strings"
	"testing"
	"time"

	"github.com/varde-lb/varde/core/testenv"
)

const sendNameConfig = `%sdefaults
    mode http
    timeout connect 1s
    timeout client 5s
    timeout server 5s
    http-send-name-header X-Srv
frontend fe
    bind 127.0.0.1:%d
    use_backend redisp if { path_beg /r }
    default_backend be
backend be
    balance roundrobin
    server alpha %s
    server beta %s
backend redisp
    balance first
    retries 1
    option redispatch 1
    server dead %s
    server live %s
`

// echoNames answers with the values of X-Srv it received, in order,
// behind its own tag.
func echoNames(t *testing.T, tag string) string {
	srv := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		fmt.Fprintf(w, "%s:%s", tag, strings.Join(r.Header.Values("X-Srv"), "|"))
	}))
	t.Cleanup(srv.Close)
	return strings.TrimPrefix(srv.URL, "http://")
}

func sendNameRun(t *testing.T, addr string) string {
	var out []string
	for _, p := range []string{"/", "/", "/forged", "/r"} {
		c, err := net.Dial("tcp", addr)
		if err != nil {
			t.Fatal(err)
		}
		c.SetDeadline(time.Now().Add(5 * time.Second))
		extra := ""
		if p == "/forged" || p == "/r" {
			extra = "X-Srv: forged\r\nx-srv: again\r\n"
		}
		fmt.Fprintf(c, "GET %s HTTP/1.1\r\nHost: x\r\n%sConnection: close\r\n\r\n", p, extra)
		b, _ := io.ReadAll(c)
		c.Close()
		s := string(b)
		out = append(out, s[strings.LastIndex(s, "\r\n\r\n")+4:])
	}
	return strings.Join(out, " ")
}

// TestSendNameHeaderDifferential: the server sees one header holding its
// own name, the client's copies removed, and after a redispatch the name
// of the server that finally got the request.
func TestSendNameHeaderDifferential(t *testing.T) {
	a, b, live := echoNames(t, "a"), echoNames(t, "b"), echoNames(t, "l")
	dead := fmt.Sprintf("127.0.0.1:%d", testenv.FreePort(t)) // nothing listens
	haddr, _ := startHAProxyStick(t, func(port int, sock string) string {
		return fmt.Sprintf(sendNameConfig, "", port, a, b, dead, live)
	})
	h := sendNameRun(t, haddr)
	cfg := loadProxyConfig(t, fmt.Sprintf(sendNameConfig, "", 1, a, b, dead, live))
	cfg.Frontends[0].Binds = nil
	_, vaddr := startEngine(t, cfg)
	v := sendNameRun(t, vaddr)
	const want = "a:alpha b:beta a:alpha l:live"
	if h != want || v != want {
		t.Errorf("servers saw:\nhaproxy %q\nvarde   %q\nwant    %q", h, v, want)
	}
}
