package lab

import (
	"context"
	"fmt"
	"io"
	"net"
	"net/http"
	"os"
	"path/filepath"
	"strconv"
	"strings"
	"sync"
	"sync/atomic"
	"syscall"
	"testing"
	"time"

	"github.com/varde-lb/varde/core/testenv"
)

// Process-level reload and upgrade tests: the real `varde run -f
// haproxy.cfg -f keepalived.conf` is the VRRP master on n1, keepalived
// 2.2.7 the backup on n2 with a notify script counting its transitions,
// the client namespace records the adverts (kernel timestamps) and sends
// HTTP requests to the VIP's frontend. reload_test.go does the same at
// the generation level; these tests check that the signals, the admin
// socket and -x/-sf of the binary drive it the same way.

// runLab is one such lab.
type runLab struct {
	l      *Lab
	n1, n2 *Node
	hcfg   string // haproxy.cfg of n1
	kcfg   string // keepalived.conf of n1
	sock   string // n1's stats socket (level admin, expose-fd listeners)
	ka     *Proc
	kaOut  string // keepalived's notify output: one line per transition
}

const runFrontend = "198.18.0.100:8080"

func newRunLab(t *testing.T) *runLab {
	l := New(t, 2)
	r := &runLab{l: l, n1: l.Nodes[0], n2: l.Nodes[1], sock: filepath.Join(l.Dir, "admin.sock")}
	// The engine binds the VIP before VRRP holds it (engine before vip).
	r.n1.NonLocalBind()
	r.backend(t)
	kaNotify, kaOut := notifyScript(t, l, "ka-notify")
	r.kaOut = kaOut
	r.ka = start(r.n2, "keepalived", inst{version: 2, prio: 150, interval: "1", extra: "    notify " + kaNotify})
	r.hcfg = r.n1.Conf("haproxy.cfg", r.haproxy(10, ""))
	r.kcfg = r.n1.Conf("keepalived.conf", inst{version: 2, prio: 200, interval: "1"}.conf("n1"))
	return r
}

// haproxy is n1's haproxy.cfg with server s1 at weight w; extra goes in
// the backend (a broken line for the failure test).
func (r *runLab) haproxy(w int, extra string) string {
	return fmt.Sprintf(`global
    maxconn 200
    stats socket %s mode 600 level admin expose-fd listeners
defaults
    mode http
    timeout connect 1s
    timeout client 5s
    timeout server 5s
frontend web
    bind %s
    default_backend app
backend app
    server s1 127.0.0.1:9101 weight %d
%s`, r.sock, runFrontend, w, extra)
}

// backend serves "ok" on 127.0.0.1:9101 inside n1, from the test process.
func (r *runLab) backend(t *testing.T) {
	var ln net.Listener
	if err := inNS(r.n1.NS, func() error {
		var err error
		ln, err = net.Listen("tcp", "127.0.0.1:9101")
		return err
	}); err != nil {
		t.Fatalf("backend in %s: %v", r.n1.NS, err)
	}
	srv := &http.Server{Handler: http.HandlerFunc(func(w http.ResponseWriter, _ *http.Request) { io.WriteString(w, "ok") })}
	go srv.Serve(ln)
	t.Cleanup(func() { srv.Close() })
}

// startVarde runs `varde run -f haproxy.cfg -f keepalived.conf [args]` on n1.
func (r *runLab) startVarde(args ...string) *Proc {
	return r.n1.StartVardeArgs(append([]string{"run", "-f", r.hcfg, "-f", r.kcfg, "--grace", "3s"}, args...)...)
}

// settle waits for n1 to be the master with keepalived the backup and
// returns keepalived's transitions so far.
func (r *runLab) settle() int {
	r.l.Settle(vip, 10*time.Second, 1500*time.Millisecond, "n1")
	return len(lines(r.kaOut))
}

// checkBackup fails on any keepalived transition after the first before.
func (r *runLab) checkBackup(t *testing.T, before int, kaLog int) int {
	t.Helper()
	got := lines(r.kaOut)[before:]
	if len(got) > 0 {
		t.Errorf("keepalived (backup) transitioned: %q", got)
	}
	if after := r.ka.Log()[kaLog:]; strings.Contains(after, "Entering MASTER STATE") {
		t.Errorf("keepalived became master:\n%s", tail(after, 20))
	}
	return len(got)
}

// admin sends one command to the stats socket and returns the answer.
func admin(t *testing.T, sock, cmd string) string {
	t.Helper()
	c, err := net.DialTimeout("unix", sock, 2*time.Second)
	if err != nil {
		t.Fatalf("admin socket: %v", err)
	}
	defer c.Close()
	c.SetDeadline(time.Now().Add(10 * time.Second))
	if _, err := io.WriteString(c, cmd+"\n"); err != nil {
		t.Fatalf("admin %q: %v", cmd, err)
	}
	b, err := io.ReadAll(c)
	if err != nil {
		t.Fatalf("admin %q: %v (got %q)", cmd, err, b)
	}
	return string(b)
}

// serverWeight reads backend/server's weight from `show stat`.
func serverWeight(t *testing.T, sock, backend, server string) int {
	t.Helper()
	out := admin(t, sock, "show stat")
	rows := strings.Split(out, "\n")
	col := -1
	for i, h := range strings.Split(strings.TrimPrefix(rows[0], "# "), ",") {
		if h == "weight" {
			col = i
		}
	}
	for _, row := range rows[1:] {
		f := strings.Split(row, ",")
		if col >= 0 && len(f) > col && f[0] == backend && f[1] == server {
			w, err := strconv.Atoi(f[col])
			if err != nil {
				t.Fatalf("weight %q: %v", f[col], err)
			}
			return w
		}
	}
	t.Fatalf("no %s/%s weight in show stat:\n%s", backend, server, out)
	return 0
}

// waitCount waits until s occurs n times in p's log.
func waitCount(t *testing.T, p *Proc, s string, n int, timeout time.Duration) {
	t.Helper()
	if err := testenv.Until(timeout, 5*time.Millisecond, func() error {
		if c := strings.Count(p.Log(), s); c < n {
			return fmt.Errorf("%q logged %d times, want %d", s, c, n)
		}
		return nil
	}); err != nil {
		// A hang: SIGABRT makes the Go runtime print every goroutine's
		// stack to the log before it exits, so the failure shows where.
		p.Signal(syscall.SIGABRT)
		p.Wait(3 * time.Second)
		t.Fatalf("%v\n%s", err, tail(p.Log(), 400))
	}
}

const (
	reloadDone   = `msg="reload done"`
	reloadFailed = `msg="reload failed`
)

// httpLoad sends GET requests to the VIP's frontend from the client
// namespace, one new connection each, until stopped.
type httpLoad struct {
	ok, fail atomic.Int64
	mu       sync.Mutex
	errs     []string
	stop     chan struct{}
	done     chan struct{}
}

func (r *runLab) load(t *testing.T) *httpLoad {
	ns := r.l.Client.NS
	tr := &http.Transport{DisableKeepAlives: true, DialContext: func(ctx context.Context, network, addr string) (net.Conn, error) {
		var c net.Conn
		err := inNS(ns, func() error {
			var err error
			c, err = (&net.Dialer{Timeout: 2 * time.Second}).DialContext(ctx, network, addr)
			return err
		})
		return c, err
	}}
	client := &http.Client{Transport: tr, Timeout: 3 * time.Second}
	h := &httpLoad{stop: make(chan struct{}), done: make(chan struct{})}
	go func() {
		defer close(h.done)
		for i := 0; i < 5000; i++ { // bounded: 5000 x >= 10 ms
			select {
			case <-h.stop:
				return
			case <-time.After(10 * time.Millisecond):
			}
			h.one(client)
		}
	}()
	t.Cleanup(func() { h.Stop() })
	return h
}

func (h *httpLoad) one(c *http.Client) {
	resp, err := c.Get("http://" + runFrontend + "/")
	if err == nil {
		b, rerr := io.ReadAll(resp.Body)
		resp.Body.Close()
		if rerr != nil {
			err = rerr
		} else if resp.StatusCode != 200 || string(b) != "ok" {
			err = fmt.Errorf("status %d body %q", resp.StatusCode, b)
		}
	}
	if err == nil {
		h.ok.Add(1)
		return
	}
	h.fail.Add(1)
	h.mu.Lock()
	if len(h.errs) < 10 {
		h.errs = append(h.errs, time.Now().Format("15:04:05.000 ")+err.Error())
	}
	h.mu.Unlock()
}

// Stop ends the load (idempotent) and returns its counts.
func (h *httpLoad) Stop() (ok, fail int64, errs []string) {
	select {
	case <-h.stop:
	default:
		close(h.stop)
	}
	<-h.done
	h.mu.Lock()
	defer h.mu.Unlock()
	return h.ok.Load(), h.fail.Load(), h.errs
}

// TestRunReloadKeepsVIP: `varde run` as the master is reloaded 15 times
// (10 SIGHUP, 3 SIGUSR2, 2 admin-socket `reload`), each reload changing
// only the haproxy part (server weight 10 <-> 20): the process stays
// alive, the VRRP instance is kept by every reload, the VIP never leaves
// n1, the keepalived backup sees no advert gap of 2 intervals and makes
// no transition, no priority-0 advert goes out, HTTP requests to the VIP
// all succeed, and the new weight is in force.
func TestRunReloadKeepsVIP(t *testing.T) {
	t.Parallel()
	r := newRunLab(t)
	va := r.startVarde()
	kaBefore := r.settle()
	kaLog := len(r.ka.Log())
	entered := strings.Count(va.Log(), "Entering")
	rec := r.l.Record()
	load := r.load(t)
	time.Sleep(1500 * time.Millisecond) // adverts before the first reload
	watch := r.l.Watch(vip, "n1")
	t0 := time.Now()
	var slowest time.Duration
	kinds := map[string]int{}
	const reloads = 15
	w := 10
	for i := range reloads {
		w = 30 - w // 20, 10, 20, ...
		os.WriteFile(r.hcfg, []byte(r.haproxy(w, "")), 0o644)
		t1 := time.Now()
		switch {
		case i%5 == 4 && kinds["admin"] < 2:
			kinds["admin"]++
			if out := admin(t, r.sock, "reload"); !strings.HasPrefix(out, "Success=1") {
				t.Fatalf("admin reload %d: %q", i+1, out)
			}
		case i%4 == 1 && kinds["SIGUSR2"] < 3:
			kinds["SIGUSR2"]++
			va.Signal(syscall.SIGUSR2)
		default:
			kinds["SIGHUP"]++
			va.Signal(syscall.SIGHUP)
		}
		waitCount(t, va, reloadDone, i+1, 10*time.Second)
		slowest = max(slowest, time.Since(t1))
		time.Sleep(230 * time.Millisecond) // reloads land at every phase of the 1 s interval
	}
	time.Sleep(1500 * time.Millisecond)
	tEnd := time.Now()
	ok, fail, errs := load.Stop()
	bad := watch()
	gap, n := rec.MaxGap(r.n1.Addr, 51, t0, tEnd)
	t.Logf("%d reloads (%v) in %v, slowest %v (signal to log): %d adverts from the master, longest gap %v (advert_int 1 s); HTTP %d ok, %d failed",
		reloads, kinds, tEnd.Sub(t0).Round(time.Millisecond), slowest.Round(time.Millisecond), n, gap.Round(time.Millisecond), ok, fail)
	if len(bad) > 0 {
		t.Errorf("the VIP left n1 during the reloads: %v", bad)
	}
	judgeGap(t, va.Log(), gap, 2*time.Second, time.Second, slowest)
	if z := rec.ZeroPriority(r.n1.Addr, 51, t0, tEnd); z > 0 {
		t.Errorf("%d priority-0 adverts during the reloads", z)
	}
	kaTrans := r.checkBackup(t, kaBefore, kaLog)
	log := va.Log()
	t.Logf("transitions during the reloads: keepalived %d, varde %d", kaTrans, strings.Count(log, "Entering")-entered)
	if !va.Alive() {
		t.Fatalf("varde exited (status %d) during the reloads:\n%s", va.ExitCode(), tail(log, 40))
	}
	if c := strings.Count(log, "Entering MASTER STATE"); c != 1 {
		t.Errorf("varde entered MASTER %d times, want 1:\n%s", c, tail(log, 40))
	}
	if c := strings.Count(log, "kept across the reload"); c != reloads {
		t.Errorf("%d reloads kept the VRRP instance, want %d", c, reloads)
	}
	if fail > 0 || ok == 0 {
		t.Errorf("HTTP to the VIP during the reloads: %d ok, %d failed: %q", ok, fail, errs)
	}
	if got := serverWeight(t, r.sock, "app", "s1"); got != w {
		t.Errorf("weight of app/s1 after the reloads: %d, want %d (the last configuration)", got, w)
	}
	// Still the owner: its stop hands the VIP over at once.
	t2 := time.Now()
	va.Signal(syscall.SIGTERM)
	r.l.WaitHolders(vip, 2*time.Second, "n2")
	t.Logf("SIGTERM after the reloads: VIP on the backup after %v", time.Since(t2).Round(time.Millisecond))
	if !va.Wait(10*time.Second) || va.ExitCode() != 0 {
		t.Errorf("varde after SIGTERM: exit status %d", va.ExitCode())
	}
}

// TestRunReloadBroken: a reload with a broken haproxy.cfg (SIGHUP), a
// broken keepalived.conf (SIGHUP) and a broken haproxy.cfg through the
// admin socket each fail with FILE:LINE; the process keeps running, the
// VRRP instance keeps the VIP (no gap, no transition on either side), the
// old configuration keeps serving, and a fixed file then reloads.
func TestRunReloadBroken(t *testing.T) {
	t.Parallel()
	r := newRunLab(t)
	va := r.startVarde()
	kaBefore := r.settle()
	kaLog := len(r.ka.Log())
	rec := r.l.Record()
	load := r.load(t)
	time.Sleep(1200 * time.Millisecond)
	watch := r.l.Watch(vip, "n1")
	t0 := time.Now()
	goodK, _ := os.ReadFile(r.kcfg)
	os.WriteFile(r.hcfg, []byte(r.haproxy(20, "    no_such_keyword on\n")), 0o644)
	va.Signal(syscall.SIGHUP)
	waitCount(t, va, reloadFailed, 1, 10*time.Second)
	if !strings.Contains(va.Log(), filepath.Base(r.hcfg)+":14") {
		t.Errorf("the reload error does not name haproxy.cfg:15:\n%s", tail(va.Log(), 20))
	}
	time.Sleep(700 * time.Millisecond)
	os.WriteFile(r.hcfg, []byte(r.haproxy(20, "")), 0o644)
	os.WriteFile(r.kcfg, []byte(strings.Replace(string(goodK), "virtual_router_id 51", "virtual_router_id 256", 1)), 0o644)
	va.Signal(syscall.SIGHUP)
	waitCount(t, va, reloadFailed, 2, 10*time.Second)
	time.Sleep(700 * time.Millisecond)
	os.WriteFile(r.kcfg, goodK, 0o644)
	os.WriteFile(r.hcfg, []byte(r.haproxy(20, "    no_such_keyword on\n")), 0o644)
	out := admin(t, r.sock, "reload")
	if !strings.HasPrefix(out, "Success=0") || !strings.Contains(out, "no_such_keyword") {
		t.Errorf("admin reload of a broken file answered %q", out)
	}
	if got := serverWeight(t, r.sock, "app", "s1"); got != 10 {
		t.Errorf("weight %d after failed reloads, want the running 10", got)
	}
	time.Sleep(1500 * time.Millisecond)
	tEnd := time.Now()
	os.WriteFile(r.hcfg, []byte(r.haproxy(20, "")), 0o644)
	va.Signal(syscall.SIGHUP)
	waitCount(t, va, reloadDone, 1, 10*time.Second)
	ok, fail, errs := load.Stop()
	bad := watch()
	gap, n := rec.MaxGap(r.n1.Addr, 51, t0, tEnd)
	kaTrans := r.checkBackup(t, kaBefore, kaLog)
	t.Logf("3 failed reloads in %v: %d adverts, longest gap %v; keepalived transitions %d; HTTP %d ok, %d failed",
		tEnd.Sub(t0).Round(time.Millisecond), n, gap.Round(time.Millisecond), kaTrans, ok, fail)
	if len(bad) > 0 {
		t.Errorf("the VIP left n1: %v", bad)
	}
	judgeGap(t, va.Log(), gap, 2*time.Second, time.Second, 0)
	if z := rec.ZeroPriority(r.n1.Addr, 51, t0, tEnd); z > 0 {
		t.Errorf("%d priority-0 adverts", z)
	}
	if !va.Alive() {
		t.Fatalf("varde exited (status %d):\n%s", va.ExitCode(), tail(va.Log(), 40))
	}
	if c := strings.Count(va.Log(), "Entering MASTER STATE"); c != 1 {
		t.Errorf("varde entered MASTER %d times, want 1", c)
	}
	if fail > 0 || ok == 0 {
		t.Errorf("HTTP to the VIP: %d ok, %d failed: %q", ok, fail, errs)
	}
	if got := serverWeight(t, r.sock, "app", "s1"); got != 20 {
		t.Errorf("weight %d after the fixed reload, want 20", got)
	}
}

// TestRunUpgradeKeepsVIP: a second `varde run` on n1 with -x SOCK -sf
// PID takes over from the master: the old process exits 0, the new one
// adopts the VIP (no transition), the backup sees no gap and makes no
// transition, no priority-0 advert, HTTP requests to the VIP keep
// succeeding, and the new process's SIGTERM then hands the VIP over.
func TestRunUpgradeKeepsVIP(t *testing.T) {
	t.Parallel()
	r := newRunLab(t)
	old := r.startVarde()
	kaBefore := r.settle()
	kaLog := len(r.ka.Log())
	rec := r.l.Record()
	load := r.load(t)
	time.Sleep(1200 * time.Millisecond)
	watch := r.l.Watch(vip, "n1")
	t0 := time.Now()
	succ := r.startVarde("-x", r.sock, "-sf", strconv.Itoa(old.cmd.Process.Pid))
	if !old.Wait(15 * time.Second) {
		t.Fatalf("the old process still runs 15 s after the upgrade:\n%s\n---- new:\n%s", tail(old.Log(), 30), tail(succ.Log(), 30))
	}
	tOld := time.Since(t0)
	time.Sleep(3500 * time.Millisecond) // beyond the backup's Master_Down_Interval
	tEnd := time.Now()
	ok, fail, errs := load.Stop()
	bad := watch()
	gap, n := rec.MaxGap(r.n1.Addr, 51, t0, tEnd)
	kaTrans := r.checkBackup(t, kaBefore, kaLog)
	t.Logf("upgrade: old process exited %v after the new one was spawned (status %d); %d adverts from n1 in %v, longest gap %v; keepalived transitions %d; HTTP %d ok, %d failed",
		tOld.Round(time.Millisecond), old.ExitCode(), n, tEnd.Sub(t0).Round(time.Millisecond), gap.Round(time.Millisecond), kaTrans, ok, fail)
	if code := old.ExitCode(); code != 0 {
		t.Errorf("old process exit status %d, want 0:\n%s", code, tail(old.Log(), 30))
	}
	if !succ.Alive() {
		t.Fatalf("the new process exited (%d):\n%s", succ.ExitCode(), tail(succ.Log(), 40))
	}
	if len(bad) > 0 {
		t.Errorf("the VIP left n1 during the upgrade: %v", bad)
	}
	judgeGap(t, succ.Log()+old.Log(), gap, 2*time.Second, time.Second, 0)
	if z := rec.ZeroPriority(r.n1.Addr, 51, t0, tEnd); z > 0 {
		t.Errorf("%d priority-0 adverts during the upgrade", z)
	}
	if !strings.Contains(succ.Log(), "adopting") || strings.Contains(succ.Log(), "Entering") {
		t.Errorf("the new process did not adopt the VIP without a transition:\n%s", tail(succ.Log(), 30))
	}
	// The frontend's socket was handed over (-x), not bound anew.
	if !strings.Contains(succ.Log(), "received the old process's listening sockets") || !strings.Contains(succ.Log(), "tcp=1") {
		t.Errorf("the new process did not receive the listener:\n%s", tail(succ.Log(), 30))
	}
	if !strings.Contains(old.Log(), "handover=true") {
		t.Errorf("the old process did not stop as a handover:\n%s", tail(old.Log(), 20))
	}
	// The new process advertises at once (its own IP ID counter starts at 1).
	first := false
	for _, a := range rec.Adverts(r.n1.Addr, 51, t0, tEnd) {
		if a.IPID == 1 && a.Priority > 0 {
			first = true
			t.Logf("the new process's first advert %v after it was spawned", a.At.Sub(t0).Round(time.Millisecond))
		}
	}
	if !first {
		t.Errorf("no advert with IP ID 1 from the new process")
	}
	if fail > 0 || ok == 0 {
		t.Errorf("HTTP to the VIP during the upgrade: %d ok, %d failed: %q", ok, fail, errs)
	}
	// The new process owns the VIP: its stop hands it over at once.
	t2 := time.Now()
	succ.Signal(syscall.SIGTERM)
	r.l.WaitHolders(vip, 2*time.Second, "n2")
	t.Logf("the new process's SIGTERM: VIP on the backup after %v", time.Since(t2).Round(time.Millisecond))
	if !succ.Wait(10*time.Second) || succ.ExitCode() != 0 {
		t.Errorf("new process after SIGTERM: exit status %d", succ.ExitCode())
	}
}
