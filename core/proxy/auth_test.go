package proxy

import (
	"encoding/base64"
	"fmt"
	"io"
	"net/http"
	"net/url"
	"os"
	"os/exec"
	"path/filepath"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/google/go-cmp/cmp"
	"github.com/varde-lb/varde/core/testenv"
)

// authConfig: a hashed and a clear password, groups from both spellings,
// the default realm (the frontend's name) and an explicit one, the ACL
// and sample forms of http_auth_group.
const authConfig = `defaults
    mode http
    timeout connect 2s
    timeout client 10s
    timeout server 10s

userlist L1
    group ops
    group admins users alice
    user alice password {{HASH}}
    user bob insecure-password pw groups ops
    user carol insecure-password c:olon

frontend fe
    bind 127.0.0.1:{{PORT}}
    option http-use-proxy-header
    acl ok http_auth(L1)
    acl adm http_auth_group(L1) admins
    acl opsg http_auth_group(L1) ops admins
    http-request auth if !ok !{ path_beg /realm }
    http-request deny if { path_beg /admin } !adm
    http-request deny deny_status 429 if { path_beg /ops } !opsg
    http-request set-header X-User %[http_auth_group(L1)]
    use_backend realm if { path_beg /realm }
    default_backend app

backend app
    server s1 {{APP}}

backend realm
    http-request auth realm "Private Zone" unless { http_auth(L1) }
    server s1 {{APP}}
`

type authOutcome struct {
	Status    int
	WWWAuth   string
	ProxyAuth string
	Body      string
	Reached   bool
	XUser     string
	KeepAlive bool
}

type authCase struct {
	name, path, auth string
	// proxy: sent in absolute form, as to a forward proxy, with the
	// credentials in Proxy-Authorization (option http-use-proxy-header);
	// plainAuth sends them in Authorization instead.
	proxy, plainAuth bool
}

var authCases = []authCase{
	{"none", "/", "", false, false},
	{"hash ok", "/", "alice:s3cret", false, false},
	{"hash wrong", "/", "alice:s3cre", false, false},
	{"clear ok", "/", "bob:pw", false, false},
	{"clear wrong", "/", "bob:pW", false, false},
	{"unknown user", "/", "eve:pw", false, false},
	{"colon in password", "/", "carol:c:olon", false, false},
	{"group admins", "/admin", "alice:s3cret", false, false},
	{"not in admins", "/admin", "bob:pw", false, false},
	{"ops via user line", "/ops", "bob:pw", false, false},
	{"ops via admins", "/ops", "alice:s3cret", false, false},
	{"not in any group", "/ops", "carol:c:olon", false, false},
	{"realm none", "/realm", "", false, false},
	{"realm ok", "/realm", "bob:pw", false, false},
	{"realm wrong", "/realm", "bob:x", false, false},
	{"not basic", "/", "!Bearer abc", false, false},
	{"bad base64", "/", "!Basic %%%", false, false},
	{"lower-case scheme", "/", "!basic Ym9iOnB3", false, false},
	{"proxy none", "/", "", true, false},
	{"proxy ok", "/", "bob:pw", true, false},
	{"proxy wrong", "/", "bob:x", true, false},
	{"proxy creds in Authorization", "/", "bob:pw", true, true},
	{"proxy realm none", "/realm", "", true, false},
	{"proxy realm ok", "/realm", "alice:s3cret", true, false},
}

func runAuthCases(t *testing.T, addr string, hits func() (string, bool)) []authOutcome {
	t.Helper()
	client := &http.Client{Timeout: 5 * time.Second}
	proxyURL, _ := url.Parse("http://" + addr)
	// Through a proxy, Go sends the request line in absolute form.
	viaProxy := &http.Client{Timeout: 5 * time.Second, Transport: &http.Transport{Proxy: http.ProxyURL(proxyURL)}}
	var out []authOutcome
	for _, c := range authCases {
		cl, target := client, "http://"+addr+c.path
		if c.proxy {
			cl, target = viaProxy, "http://app.example"+c.path
		}
		req, _ := http.NewRequest("GET", target, nil)
		switch {
		case strings.HasPrefix(c.auth, "!"):
			req.Header.Set("Authorization", c.auth[1:])
		case c.auth != "" && c.proxy && !c.plainAuth:
			u, p, _ := strings.Cut(c.auth, ":")
			req.Header.Set("Proxy-Authorization", "Basic "+base64.StdEncoding.EncodeToString([]byte(u+":"+p)))
		case c.auth != "":
			u, p, _ := strings.Cut(c.auth, ":")
			req.SetBasicAuth(u, p)
		}
		resp, err := cl.Do(req)
		if err != nil {
			t.Fatalf("%s: %v", c.name, err)
		}
		b, _ := io.ReadAll(resp.Body)
		resp.Body.Close()
		o := authOutcome{Status: resp.StatusCode, WWWAuth: strings.Join(resp.Header.Values("Www-Authenticate"), "|"),
			ProxyAuth: strings.Join(resp.Header.Values("Proxy-Authenticate"), "|"), KeepAlive: !resp.Close}
		if resp.StatusCode == 401 || resp.StatusCode == 407 {
			o.Body = string(b)
		}
		o.XUser, o.Reached = hits()
		out = append(out, o)
	}
	return out
}

// TestAuthAgainstHAProxy runs the same userlist config in HAProxy 2.6 and
// varde and compares, per credential case, the status, the challenge, the
// 401 page, whether the server saw the request and the user it was told.
func TestAuthAgainstHAProxy(t *testing.T) {
	haproxy := testenv.LookTool(t, "haproxy", "haproxy")
	hash, err := exec.Command("openssl", "passwd", "-6", "s3cret").Output()
	if err != nil {
		t.Skipf("openssl passwd: %v", err)
	}
	var mu sync.Mutex
	var got []string
	app, _ := backend(t, "app", func(w http.ResponseWriter, r *http.Request) {
		mu.Lock()
		got = append(got, r.Header.Get("X-User"))
		mu.Unlock()
	})
	hits := func() (string, bool) {
		mu.Lock()
		defer mu.Unlock()
		if len(got) == 0 {
			return "", false
		}
		u := got[0]
		got = got[1:]
		return u, true
	}
	render := func(port int) string {
		r := strings.NewReplacer("{{HASH}}", strings.TrimSpace(string(hash)), "{{PORT}}", fmt.Sprint(port), "{{APP}}", hostport(app))
		return r.Replace(authConfig)
	}
	dir := t.TempDir()

	hport := testenv.FreePort(t)
	hcfg := filepath.Join(dir, "haproxy.cfg")
	os.WriteFile(hcfg, []byte(render(hport)), 0o644)
	testenv.Start(t, haproxy, "-db", "-f", hcfg)
	haddr := fmt.Sprintf("127.0.0.1:%d", hport)
	testenv.WaitTCP(t, haddr, 10*time.Second)
	hOut := runAuthCases(t, haddr, hits)

	vport := testenv.FreePort(t)
	vcfg := filepath.Join(dir, "varde.cfg")
	os.WriteFile(vcfg, []byte(render(vport)), 0o644)
	// The real binary: `varde run` builds the engine through the
	// generation's Prepare, which FromConfig alone would not exercise.
	testenv.Start(t, testenv.VardeBinary(t), "-db", "-f", vcfg)
	testenv.WaitTCP(t, fmt.Sprintf("127.0.0.1:%d", vport), 10*time.Second)
	vaddr := fmt.Sprintf("127.0.0.1:%d", vport)
	vOut := runAuthCases(t, vaddr, hits)

	if d := cmp.Diff(hOut, vOut); d != "" {
		t.Errorf("outcomes differ (-haproxy +varde)\n%s", d)
	}
	// The table must exercise both answers, or it proves nothing.
	var n401, n407, reached int
	for i, o := range vOut {
		switch o.Status {
		case 401:
			n401++
		case 407:
			n407++
		}
		if o.Reached {
			reached++
		}
		t.Logf("%-20s %+v", authCases[i].name, o)
	}
	if n401 == 0 || n407 == 0 || reached == 0 {
		t.Fatalf("degenerate table: %d 401s, %d 407s, %d reached", n401, n407, reached)
	}
}
