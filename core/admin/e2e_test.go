package admin_test

import (
	"fmt"
	"io"
	"net"
	"net/http"
	"net/http/cookiejar"
	"net/http/httptest"
	"os"
	"os/exec"
	"path/filepath"
	"strings"
	"sync"
	"sync/atomic"
	"syscall"
	"testing"
	"time"

	"github.com/varde-lb/varde/core/testenv"
)

// backend is a real HTTP server on loopback: it answers its name, serves a
// health URL that can be switched to 503, and counts non-health requests.
type backend struct {
	name    string
	srv     *httptest.Server
	sick    atomic.Bool
	hits    atomic.Int64 // requests other than the health URL
	checks  atomic.Int64
	failing atomic.Int64 // health checks answered 503
}

func newBackend(t *testing.T, name string) *backend {
	b := &backend{name: name}
	b.srv = httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		if r.URL.Path == "/health" {
			b.checks.Add(1)
			if b.sick.Load() {
				b.failing.Add(1)
				w.WriteHeader(503)
				return
			}
			io.WriteString(w, "OK")
			return
		}
		b.hits.Add(1)
		io.WriteString(w, name)
	}))
	t.Cleanup(b.srv.Close)
	return b
}

func (b *backend) addr() string { return strings.TrimPrefix(b.srv.URL, "http://") }

// varde runs the binary on cfg and returns the admin socket and ports.
type vardeProc struct {
	web, stats int
	authStats  int // listen with stats auth (plain and SHA-512 crypt users)
	cliTCP     int // stats socket ipv4@127.0.0.1:PORT level user
	sock       string
	log        string
	dir        string
	cmd        *exec.Cmd
}

const inter, rise, fall = 100 * time.Millisecond, 2, 3

// opsHash is `openssl passwd -6 -salt Zq8xT1 'S3cret pass'`.
const opsHash = "$6$Zq8xT1$F9eIxkdLFw0pWslCJ5BNZW982bTiYOQgYIjQvy/YuJACUIqF/zk9nHZ2Rt66/9rT2VKuGVqlKT7WmDmlRror41"

func startVarde(t *testing.T, backends []*backend, extra string) *vardeProc {
	t.Helper()
	if testing.Short() {
		t.Skip("process test")
	}
	v := newVardeProc(t)
	var servers strings.Builder
	for i, b := range backends {
		bk := ""
		if i == len(backends)-1 {
			bk = " backup"
		}
		fmt.Fprintf(&servers, "    server %s %s check inter %d rise %d fall %d cookie %s%s\n", b.name, b.addr(), inter/time.Millisecond, rise, fall, "c-"+b.name, bk)
	}
	cfg := fmt.Sprintf(`global
    stats socket %s mode 600 level admin
    stats socket ipv4@127.0.0.1:%d level user
defaults
    mode http
    timeout connect 1s
    timeout client 10s
    timeout server 10s
    timeout check 2s
frontend www
    bind 127.0.0.1:%d
    http-request use-service prometheus-exporter if { path /metrics }
    default_backend app
backend app
    balance roundrobin
    option redispatch
    option httpchk GET /health
    http-check expect status 200
    cookie SERVERID insert indirect nocache
%s%s
listen stats
    bind 127.0.0.1:%d
    stats enable
    stats uri /
    stats refresh 30s
    stats admin if TRUE
listen private
    bind 127.0.0.1:%d
    stats enable
    stats uri /haproxy?stats
    stats realm Strictly\ Private
    stats auth admin:password123
    stats auth ops:%s
    stats hide-version
`, v.sock, v.cliTCP, v.web, servers.String(), extra, v.stats, v.authStats, opsHash)
	v.launch(t, cfg)
	return v
}

func newVardeProc(t *testing.T) *vardeProc {
	v := &vardeProc{web: testenv.FreePort(t), stats: testenv.FreePort(t), authStats: testenv.FreePort(t), cliTCP: testenv.FreePort(t), dir: t.TempDir()}
	v.sock = filepath.Join(v.dir, "admin.sock")
	return v
}

// launch writes cfg and starts varde on it, waiting for the frontend and
// the admin socket.
func (v *vardeProc) launch(t *testing.T, cfg string) {
	t.Helper()
	bin := testenv.VardeBinary(t)
	path := filepath.Join(v.dir, "haproxy.cfg")
	if err := os.WriteFile(path, []byte(cfg), 0o644); err != nil {
		t.Fatal(err)
	}
	v.cmd, v.log = testenv.Start(t, bin, "run", "-f", path, "--grace", "1s")
	testenv.WaitTCP(t, fmt.Sprintf("127.0.0.1:%d", v.web), 30*time.Second)
	// The socket file appears at bind(), a moment before listen(): wait
	// until a connection is accepted, not just for the file.
	if err := testenv.Until(30*time.Second, 20*time.Millisecond, func() error {
		c, err := net.Dial("unix", v.sock)
		if err == nil {
			c.Close()
		}
		return err
	}); err != nil {
		t.Fatalf("admin socket: %v\n%s", err, readFile(v.log))
	}
}

func readFile(p string) string { b, _ := os.ReadFile(p); return string(b) }

func (v *vardeProc) cli(t *testing.T, cmd string) string {
	t.Helper()
	return send(t, "unix", v.sock, cmd)
}

// status returns the CSV status column of backend app's server.
func (v *vardeProc) status(t *testing.T, server string) string {
	for _, line := range strings.Split(v.cli(t, "show stat"), "\n") {
		f := strings.Split(line, ",")
		if len(f) > 17 && f[0] == "app" && f[1] == server {
			return f[17]
		}
	}
	return ""
}

func (v *vardeProc) waitStatus(t *testing.T, server, want string) time.Time {
	t.Helper()
	defer func(start time.Time) {
		t.Logf("%s %s after %v", server, want, time.Since(start).Round(time.Millisecond))
	}(time.Now())
	if err := testenv.Until(15*time.Second, 5*time.Millisecond, func() error {
		if got := v.status(t, server); got != want {
			return fmt.Errorf("%s is %q, want %q", server, got, want)
		}
		return nil
	}); err != nil {
		t.Fatalf("%v\n%s", err, readFile(v.log))
	}
	return time.Now()
}

func (v *vardeProc) get(t *testing.T, c *http.Client) (string, error) {
	resp, err := c.Get(fmt.Sprintf("http://127.0.0.1:%d/", v.web))
	if err != nil {
		return "", err
	}
	defer resp.Body.Close()
	b, err := io.ReadAll(resp.Body)
	if resp.StatusCode != 200 {
		return string(b), fmt.Errorf("status %d", resp.StatusCode)
	}
	return string(b), err
}

func TestE2EFallRiseAndBackup(t *testing.T) {
	bs := []*backend{newBackend(t, "web1"), newBackend(t, "web2"), newBackend(t, "spare")}
	v := startVarde(t, bs, "")
	client := &http.Client{Timeout: 5 * time.Second}
	v.waitStatus(t, "web1", "UP")
	v.waitStatus(t, "web2", "UP")

	// web2's health URL fails: DOWN after `fall` failed checks.
	web2 := bs[1]
	web2.sick.Store(true)
	sickAt := time.Now()
	downAt := v.waitStatus(t, "web2", "DOWN")
	failed := web2.failing.Load()
	if failed < fall {
		t.Fatalf("DOWN after %d failed checks, want at least fall=%d", failed, fall)
	}
	t.Logf("check-to-DOWN: %v (inter*fall = %v, %d failed checks seen)", downAt.Sub(sickAt), inter*fall, failed)
	if d := downAt.Sub(sickAt); d > inter*(fall+2)+time.Second {
		t.Errorf("DOWN took %v, want about inter*fall = %v", d, inter*fall)
	}
	before := web2.hits.Load()
	for i := 0; i < 40; i++ {
		body, err := v.get(t, client)
		if err != nil || body == "web2" {
			t.Fatalf("request %d: %q %v", i, body, err)
		}
	}
	// Back after `rise` passing checks, and no request reached it meanwhile.
	web2.sick.Store(false)
	v.waitStatus(t, "web2", "UP")
	if d := web2.hits.Load() - before; d != 0 {
		t.Fatalf("%d requests reached web2 while it was DOWN", d)
	}
	if err := testenv.Until(10*time.Second, 0, func() error {
		if body, _ := v.get(t, client); body != "web2" {
			return fmt.Errorf("got %q", body)
		}
		return nil
	}); err != nil {
		t.Fatal("web2 gets no traffic after coming back:", err)
	}

	// All actives down: the backup takes over; back when one returns.
	bs[0].sick.Store(true)
	web2.sick.Store(true)
	v.waitStatus(t, "web1", "DOWN")
	v.waitStatus(t, "web2", "DOWN")
	for i := 0; i < 10; i++ {
		if body, err := v.get(t, client); err != nil || body != "spare" {
			t.Fatalf("with actives down: %q %v", body, err)
		}
	}
	if bs[2].hits.Load() == 0 {
		t.Fatal("backup got no traffic")
	}
	bs[0].sick.Store(false)
	v.waitStatus(t, "web1", "UP")
	for i := 0; i < 10; i++ {
		if body, err := v.get(t, client); err != nil || body != "web1" {
			t.Fatalf("after web1 returned: %q %v", body, err)
		}
	}
}

func TestE2ECookiePersistence(t *testing.T) {
	bs := []*backend{newBackend(t, "web1"), newBackend(t, "web2"), newBackend(t, "spare")}
	v := startVarde(t, bs, "")
	v.waitStatus(t, "web1", "UP")
	v.waitStatus(t, "web2", "UP")
	jar, _ := cookiejar.New(nil)
	client := &http.Client{Timeout: 5 * time.Second, Jar: jar}
	first, err := v.get(t, client)
	if err != nil {
		t.Fatal(err)
	}
	for i := 0; i < 100; i++ {
		body, err := v.get(t, client)
		if err != nil || body != first {
			t.Fatalf("request %d went to %q (%v), session is bound to %q", i, body, err, first)
		}
	}
	// The server gets no SERVERID cookie (indirect), and a response for a
	// client with a valid cookie carries no Set-Cookie.
	resp, err := client.Get(fmt.Sprintf("http://127.0.0.1:%d/", v.web))
	if err != nil {
		t.Fatal(err)
	}
	resp.Body.Close()
	if sc := resp.Header.Get("Set-Cookie"); sc != "" {
		t.Errorf("indirect: Set-Cookie %q on a persistent response", sc)
	}
	// A fresh client gets the cookie with Cache-Control: private (nocache).
	resp, err = (&http.Client{Timeout: 10 * time.Second}).Get(fmt.Sprintf("http://127.0.0.1:%d/", v.web))
	if err != nil {
		t.Fatal(err)
	}
	resp.Body.Close()
	if sc := resp.Header.Get("Set-Cookie"); !strings.HasPrefix(sc, "SERVERID=c-web") || resp.Header.Get("Cache-Control") != "private" {
		t.Errorf("insert nocache: Set-Cookie %q Cache-Control %q", sc, resp.Header.Get("Cache-Control"))
	}
	// Unknown and tampered cookies are balanced normally.
	for _, val := range []string{"c-nobody", "c-web1'--", ""} {
		req, _ := http.NewRequest("GET", fmt.Sprintf("http://127.0.0.1:%d/", v.web), nil)
		req.Header.Set("Cookie", "SERVERID="+val)
		resp, err := (&http.Client{Timeout: 10 * time.Second}).Do(req)
		if err != nil || resp.StatusCode != 200 {
			t.Fatalf("cookie %q: %v %v", val, resp, err)
		}
		resp.Body.Close()
	}
	// The bound server goes down: the session is redispatched and re-bound.
	var bound *backend
	for _, b := range bs {
		if b.name == first {
			bound = b
		}
	}
	bound.sick.Store(true)
	v.waitStatus(t, first, "DOWN")
	second, err := v.get(t, client)
	if err != nil || second == first {
		t.Fatalf("after %s went down: %q %v", first, second, err)
	}
	for i := 0; i < 20; i++ {
		if body, err := v.get(t, client); err != nil || body != second {
			t.Fatalf("re-bound session moved to %q (%v), want %q", body, err, second)
		}
	}
}

func TestE2EDrainUnderLoad(t *testing.T) {
	bs := []*backend{newBackend(t, "web1"), newBackend(t, "web2"), newBackend(t, "spare")}
	v := startVarde(t, bs, "")
	v.waitStatus(t, "web1", "UP")
	v.waitStatus(t, "web2", "UP")
	var ok, failed atomic.Int64
	var errMu sync.Mutex
	var firstErr error
	stop := make(chan struct{})
	var wg sync.WaitGroup
	for w := 0; w < 4; w++ {
		wg.Add(1)
		go func() {
			defer wg.Done()
			c := &http.Client{Timeout: 5 * time.Second, Transport: &http.Transport{MaxIdleConnsPerHost: 1}}
			for {
				select {
				case <-stop:
					return
				default:
				}
				if _, err := v.get(t, c); err != nil {
					failed.Add(1)
					errMu.Lock()
					if firstErr == nil {
						firstErr = err
					}
					errMu.Unlock()
				} else {
					ok.Add(1)
				}
			}
		}()
	}
	waitCount := func(n int64) {
		start := ok.Load()
		if err := testenv.Until(10*time.Second, 5*time.Millisecond, func() error {
			if ok.Load()-start < n {
				return fmt.Errorf("only %d requests", ok.Load()-start)
			}
			return nil
		}); err != nil {
			t.Fatal(err)
		}
	}
	waitCount(100)
	web1 := bs[0]
	if out := v.cli(t, "set server app/web1 state drain"); out != "\n" {
		t.Fatalf("drain: %q", out)
	}
	if st := v.status(t, "web1"); st != "DRAIN" {
		t.Fatalf("status %q, want DRAIN", st)
	}
	// The read-only TCP socket sees it and may not change it.
	tcp := fmt.Sprintf("127.0.0.1:%d", v.cliTCP)
	if out := send(t, "tcp", tcp, "show servers state app"); !strings.Contains(out, " web1 127.0.0.1 2 8 ") {
		t.Errorf("show servers state over tcp:\n%s", out)
	}
	if out := send(t, "tcp", tcp, "set server app/web1 state ready"); out != "Permission denied\n\n" {
		t.Errorf("level user changed state: %q", out)
	}
	waitCount(50) // in-flight requests on web1 finish
	h := web1.hits.Load()
	waitCount(200)
	if d := web1.hits.Load() - h; d != 0 {
		t.Fatalf("%d new requests reached the drained server", d)
	}
	// Patch window: maintenance, then back to ready.
	v.cli(t, "disable server app/web1")
	if st := v.status(t, "web1"); st != "MAINT" {
		t.Fatalf("status %q, want MAINT", st)
	}
	waitCount(100)
	v.cli(t, "enable server app/web1")
	v.waitStatus(t, "web1", "UP")
	h = web1.hits.Load()
	waitCount(200)
	close(stop)
	wg.Wait()
	if web1.hits.Load() == h {
		t.Fatal("web1 got no traffic after ready")
	}
	if failed.Load() != 0 {
		t.Fatalf("%d of %d requests failed during drain/maint/ready; first: %v", failed.Load(), ok.Load()+failed.Load(), firstErr)
	}
	t.Logf("drain/maint/ready under load: %d requests, 0 failed", ok.Load())
}

func TestE2EStateSurvivesRestart(t *testing.T) {
	bs := []*backend{newBackend(t, "web1"), newBackend(t, "web2"), newBackend(t, "spare")}
	v := startVarde(t, bs, "")
	v.cli(t, "set server app/web2 state maint")
	v.cli(t, "set server app/web1 weight 50%")
	v.cli(t, "set maxconn server app/web1 77")
	if err := v.cmd.Process.Signal(syscall.SIGTERM); err != nil {
		t.Fatal(err)
	}
	if err := v.cmd.Wait(); err != nil { // reaped: testenv's cleanup sees ProcessState and leaves it
		t.Fatalf("varde exit: %v\n%s", err, readFile(v.log))
	}
	// Same configuration, same socket path: the new process reapplies
	// what the operator changed.
	bin := testenv.VardeBinary(t)
	testenv.Start(t, bin, "run", "-f", filepath.Join(v.dir, "haproxy.cfg"), "--grace", "1s")
	testenv.WaitTCP(t, fmt.Sprintf("127.0.0.1:%d", v.web), 30*time.Second)
	if err := testenv.Until(30*time.Second, 20*time.Millisecond, func() error {
		c, err := net.Dial("unix", v.sock)
		if err == nil {
			c.Close()
		}
		return err
	}); err != nil {
		t.Fatal(err)
	}
	v.waitStatus(t, "web2", "MAINT")
	tb := parseCSV(t, v.cli(t, "show stat"))
	if w := tb.rows["app,web1"]["weight"]; w != "0" {
		t.Fatalf("after restart web1 weight %s, want 0 (50%% of weight 1)", w)
	}
	if m := tb.rows["app,web1"]["slim"]; m != "77" {
		t.Fatalf("after restart web1 slim %q, want 77", m)
	}
}

// TestE2EPassiveObserve: a server whose health URL passes but whose real
// responses are 500s is marked down by `observe layer7` after error-limit
// consecutive errors, long before its next active check.
func TestE2EPassiveObserve(t *testing.T) {
	if testing.Short() {
		t.Skip("process test")
	}
	good, bad := newBackend(t, "good"), newBackend(t, "bad")
	failing := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		if r.URL.Path == "/health" {
			return
		}
		bad.hits.Add(1)
		w.WriteHeader(500)
	}))
	t.Cleanup(failing.Close)
	v := newVardeProc(t)
	v.launch(t, fmt.Sprintf(`global
    stats socket %s level admin
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
    option httpchk GET /health
    server good %s check inter 30s
    server bad %s check inter 30s observe layer7 error-limit 3 on-error mark-down
`, v.sock, v.web, good.addr(), strings.TrimPrefix(failing.URL, "http://")))
	// Servers start UP (as in HAProxy); the long inter keeps active checks
	// out of the way.
	client := &http.Client{Timeout: 5 * time.Second}
	for i := 0; i < 6; i++ {
		resp, err := client.Get(fmt.Sprintf("http://127.0.0.1:%d/", v.web))
		if err != nil {
			t.Fatal(err)
		}
		resp.Body.Close()
	}
	v.waitStatus(t, "bad", "DOWN")
	if n := bad.hits.Load(); n != 3 {
		t.Errorf("bad server got %d requests before being marked down, want error-limit=3", n)
	}
	n := bad.hits.Load()
	for i := 0; i < 10; i++ {
		if body, err := v.get(t, client); err != nil || body != "good" {
			t.Fatalf("after mark-down: %q %v", body, err)
		}
	}
	if bad.hits.Load() != n {
		t.Fatal("traffic reached the server marked down")
	}
}
