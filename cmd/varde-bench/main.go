// Command varde-bench compares varde with HAProxy on this machine, with the
// same haproxy.cfg: two nginx backends on loopback, roundrobin, option
// forwardfor, keep-alive on both sides, no logging. For each traffic shape
// of shapes.go (17-byte responses at 50 and 1,000 keep-alive connections,
// a new connection per request, 64 KiB and 1 MiB responses) it alternates
// the two proxies for several rounds of wrk and prints requests/s, p50 and
// p99 latency, proxy CPU per request and peak RSS, then the RSS with 10,000
// idle keep-alive client connections, and one table with the medians and
// the varde/HAProxy ratios. -shapes runs a subset.
//
// Run it with `make bench` (which builds bin/varde first) or
// `go run ./cmd/varde-bench -varde bin/varde`.
package main

import (
	"bufio"
	"bytes"
	"context"
	"errors"
	"flag"
	"fmt"
	"io"
	"net"
	"os"
	"os/exec"
	"path/filepath"
	"regexp"
	"sort"
	"strconv"
	"strings"
	"syscall"
	"time"
)

type options struct {
	varde    string
	rounds   int
	duration time.Duration
	conns    int
	idle     int
	out      string
	policy   bool   // -policy: varde with and without a Lua policy (policy.go)
	canary   string // the policy script for -policy
	tls      bool   // -tls: the TLS shapes instead (tls.go)
	h2       bool   // also compare HTTP/2 (h2.go)
	h2only   bool
	shapes   string // -shapes: a subset of the traffic shapes (shapes.go)
	global   string // -global: extra lines for the shared global section
	logged   bool   // -log: the shapes again with access logs to files (logged.go)
}

func main() {
	var o options
	flag.StringVar(&o.varde, "varde", "bin/varde", "path of the varde binary")
	flag.IntVar(&o.rounds, "rounds", 3, "rounds per proxy and shape (alternating)")
	flag.DurationVar(&o.duration, "duration", 5*time.Second, "wrk duration per round")
	flag.StringVar(&o.global, "global", "", "extra global-section lines for the shared haproxy.cfg (e.g. nosplice), separated by ;")
	flag.StringVar(&o.shapes, "shapes", "", "comma-separated shapes to run (default all: "+shapeNames()+")")
	flag.BoolVar(&o.logged, "log", true, "also run the shapes with `option httplog` to a file (HAProxy through a UDP syslog receiver, varde file@ with anonymize ip)")
	flag.IntVar(&o.conns, "c", 50, "wrk keep-alive connections")
	flag.IntVar(&o.idle, "idle", 10000, "idle keep-alive client connections for the RSS measurement")
	flag.StringVar(&o.out, "o", "", "also write the markdown result table to this file")
	flag.BoolVar(&o.policy, "policy", false, "compare varde with and without `policy canary.lua` instead of varde with HAProxy")
	flag.StringVar(&o.canary, "canary", "policies/canary.lua", "the policy for -policy: a .lua script or a .wasm module (make policies builds policies/canary.wasm)")
	flag.BoolVar(&o.tls, "tls", false, "benchmark TLS termination instead: new TLS connections/s and keep-alive requests/s, ECDSA and RSA (tls.go)")
	flag.BoolVar(&o.h2, "h2", true, "also compare HTTP/2 with h2load when it is installed")
	flag.BoolVar(&o.h2only, "h2only", false, "run the HTTP/2 comparison only")
	flag.Parse()
	runner := run
	if o.policy {
		runner = runPolicy
	}
	if err := runner(o); err != nil {
		fmt.Fprintln(os.Stderr, "varde-bench:", err)
		os.Exit(1)
	}
}

// result is one round of wrk against one proxy.
type result struct {
	rps       float64
	p50, p99  time.Duration
	peakRSS   int64   // KiB
	cpuPerReq float64 // microseconds of proxy CPU (user+system) per request
}

type proxyKind struct {
	name string
	cmd  func(cfg string) *exec.Cmd
}

func run(o options) error {
	for _, tool := range []string{"haproxy", "nginx", "wrk"} {
		if _, err := lookPath(tool); err != nil {
			return fmt.Errorf("%s not found (install it: `make deps` or apt-get install haproxy nginx-light wrk)", tool)
		}
	}
	varde, err := filepath.Abs(o.varde)
	if err != nil {
		return err
	}
	if _, err := os.Stat(varde); err != nil {
		return fmt.Errorf("varde binary: %w (run `make build` first)", err)
	}
	raiseNoFile()
	dir, err := os.MkdirTemp("", "varde-bench-")
	if err != nil {
		return err
	}
	defer os.RemoveAll(dir)

	b1, b2 := freePort(), freePort()
	stopNginx, err := startNginx(dir, b1, b2)
	if err != nil {
		return err
	}
	defer stopNginx()

	port := freePort()
	cfgPath := filepath.Join(dir, "haproxy.cfg")
	global := fmt.Sprintf("    ulimit-n %d\n", noFileLimit()) + globalLines(o.global)
	cfg := benchConfig(port, b1, b2, global, "")
	if err := os.WriteFile(cfgPath, []byte(cfg), 0o644); err != nil {
		return err
	}
	// HAProxy (and varde, which keeps its strict-limits) insists on
	// 2*maxconn descriptors unless told otherwise; a second -f file (merged
	// into global) relaxes that when the machine caps open files below it.
	// The shared haproxy.cfg is unchanged.
	limits := filepath.Join(dir, "haproxy-limits.cfg")
	if err := os.WriteFile(limits, []byte("global\n    no strict-limits\n"), 0o644); err != nil {
		return err
	}
	haproxyBin, _ := lookPath("haproxy")
	kinds := []proxyKind{
		{"haproxy", func(cfg string) *exec.Cmd { return exec.Command(haproxyBin, "-db", "-f", cfg, "-f", limits) }},
		{"varde", func(cfg string) *exec.Cmd { return exec.Command(varde, "run", "-f", cfg, "-f", limits) }},
	}
	if o.tls {
		return runTLS(o, kinds, dir, b1, b2)
	}
	addr := fmt.Sprintf("127.0.0.1:%d", port)
	fmt.Printf("config: %s\nbackends: nginx on 127.0.0.1:%d and :%d; wrk -t2 -c%d -d%s; %d rounds each, alternating\n\n", cfgPath, b1, b2, o.conns, o.duration, o.rounds)

	if o.h2only {
		var t bytes.Buffer
		fmt.Fprintf(&t, "| | HAProxy | varde | varde/HAProxy | target |\n|---|---|---|---|---|\n")
		if err := benchH2(o, cfgPath, addr, kinds, &t); err != nil {
			return err
		}
		fmt.Printf("\n%s", t.String())
		return nil
	}
	var t bytes.Buffer
	if err := runShapes(o, cfgPath, addr, kinds, &t); err != nil {
		return err
	}
	if o.logged {
		if err := runLogged(o, dir, port, b1, b2, global, addr, kinds, &t); err != nil {
			return err
		}
	}
	if o.h2 {
		if err := benchH2(o, cfgPath, addr, kinds, &t); err != nil {
			return err
		}
	}
	fmt.Printf("\n%s", t.String())
	if o.out != "" {
		if err := os.WriteFile(o.out, t.Bytes(), 0o644); err != nil {
			return err
		}
	}
	return nil
}

// summarize takes the median of each figure over the rounds.
func summarize(rs []result) result {
	med := func(f func(result) float64) float64 {
		v := make([]float64, len(rs))
		for i, r := range rs {
			v[i] = f(r)
		}
		sort.Float64s(v)
		return v[len(v)/2]
	}
	return result{
		rps:       med(func(r result) float64 { return r.rps }),
		p50:       time.Duration(med(func(r result) float64 { return float64(r.p50) })),
		p99:       time.Duration(med(func(r result) float64 { return float64(r.p99) })),
		peakRSS:   int64(med(func(r result) float64 { return float64(r.peakRSS) })),
		cpuPerReq: med(func(r result) float64 { return r.cpuPerReq }),
	}
}

// startProxy starts a proxy and waits until it answers HTTP.
func startProxy(k proxyKind, cfg, addr string) (*exec.Cmd, error) {
	cmd := k.cmd(cfg)
	var stderr bytes.Buffer
	cmd.Stderr = &stderr
	cmd.Stdout = io.Discard
	if err := cmd.Start(); err != nil {
		return nil, err
	}
	deadline := time.Now().Add(10 * time.Second)
	for time.Now().Before(deadline) {
		if c, err := net.DialTimeout("tcp", addr, 100*time.Millisecond); err == nil {
			c.Close()
			return cmd, nil
		}
		time.Sleep(50 * time.Millisecond)
	}
	stopProcess(cmd)
	return nil, fmt.Errorf("%s did not start listening on %s: %s", k.name, addr, stderr.String())
}

func stopProcess(cmd *exec.Cmd) {
	if cmd == nil || cmd.Process == nil {
		return
	}
	cmd.Process.Signal(syscall.SIGTERM)
	done := make(chan struct{})
	go func() { cmd.Wait(); close(done) }()
	select {
	case <-done:
	case <-time.After(10 * time.Second):
		cmd.Process.Kill()
		<-done
	}
}

var (
	reqsRe  = regexp.MustCompile(`Requests/sec:\s+([0-9.]+)`)
	totalRe = regexp.MustCompile(`(\d+) requests in`)
	pctRe   = regexp.MustCompile(`(?m)^\s+(50|99)(?:\.000)?%\s+([0-9.]+)(us|ms|s)\s*$`)
)

func benchOnce(k proxyKind, cfg, addr string, o options) (result, error) {
	return benchShape(k, cfg, addr, o, shape{path: "/", conns: o.conns})
}

// benchShape is one warmed-up wrk round of one traffic shape against one
// proxy.
func benchShape(k proxyKind, cfg, addr string, o options, sh shape) (result, error) {
	cmd, err := startProxy(k, cfg, addr)
	if err != nil {
		return result{}, err
	}
	defer stopProcess(cmd)
	args := []string{"-t2", "-c" + strconv.Itoa(sh.conns)}
	if sh.close {
		args = append(args, "-H", "Connection: close")
	}
	url := "http://" + addr + sh.path
	// A short warm-up so both start from warm caches and pools.
	if _, err := exec.Command("wrk", append(args, "-d2s", url)...).Output(); err != nil {
		return result{}, fmt.Errorf("wrk warm-up: %w", err)
	}
	cpu0 := procCPU(cmd.Process.Pid)
	out, err := exec.Command("wrk", append(args, "-d"+o.duration.String(), "--latency", url)...).Output()
	if err != nil {
		return result{}, fmt.Errorf("wrk: %w", err)
	}
	cpu := procCPU(cmd.Process.Pid) - cpu0
	var res result
	m := reqsRe.FindSubmatch(out)
	if m == nil {
		return result{}, fmt.Errorf("cannot read wrk output:\n%s", out)
	}
	res.rps, _ = strconv.ParseFloat(string(m[1]), 64)
	for _, p := range pctRe.FindAllSubmatch(out, -1) {
		v, _ := strconv.ParseFloat(string(p[2]), 64)
		unit := map[string]time.Duration{"us": time.Microsecond, "ms": time.Millisecond, "s": time.Second}[string(p[3])]
		d := time.Duration(v * float64(unit)).Round(time.Microsecond)
		if string(p[1]) == "50" {
			res.p50 = d
		} else {
			res.p99 = d
		}
	}
	if bytes.Contains(out, []byte("Non-2xx")) || bytes.Contains(out, []byte("Socket errors")) {
		return result{}, fmt.Errorf("errors during the run:\n%s", out)
	}
	res.peakRSS = procStatus(cmd.Process.Pid, "VmHWM")
	if m := totalRe.FindSubmatch(out); m != nil {
		if n, _ := strconv.ParseFloat(string(m[1]), 64); n > 0 {
			res.cpuPerReq = cpu.Seconds() * 1e6 / n
		}
	}
	return res, nil
}

// idleRSS opens n keep-alive connections, sends one request on each, keeps
// them open and reads the proxy's resident memory.
func idleRSS(k proxyKind, cfg, addr string, n int) (int64, error) {
	cmd, err := startProxy(k, cfg, addr)
	if err != nil {
		return 0, err
	}
	defer stopProcess(cmd)
	conns := make([]net.Conn, 0, n)
	defer func() {
		for _, c := range conns {
			c.Close()
		}
	}()
	req := []byte("GET / HTTP/1.1\r\nHost: bench\r\n\r\n")
	buf := make([]byte, 4096)
	for i := 0; i < n; i++ {
		c, err := net.DialTimeout("tcp", addr, 5*time.Second)
		if err != nil {
			return 0, fmt.Errorf("connection %d: %w", i, err)
		}
		conns = append(conns, c)
		c.SetDeadline(time.Now().Add(10 * time.Second))
		if _, err := c.Write(req); err != nil {
			return 0, err
		}
		if err := readResponse(c, buf); err != nil {
			return 0, fmt.Errorf("connection %d: %w", i, err)
		}
	}
	time.Sleep(time.Second) // let both settle (freed buffers returned)
	return procStatus(cmd.Process.Pid, "VmRSS"), nil
}

// readResponse reads one response with a Content-Length body.
func readResponse(c net.Conn, buf []byte) error {
	br := bufio.NewReader(c)
	cl := -1
	for {
		line, err := br.ReadString('\n')
		if err != nil {
			return err
		}
		if line == "\r\n" {
			break
		}
		if i := strings.IndexByte(line, ':'); i > 0 && strings.EqualFold(line[:i], "content-length") {
			cl, _ = strconv.Atoi(strings.TrimSpace(line[i+1:]))
		}
	}
	if cl < 0 {
		return errors.New("response without content-length")
	}
	_, err := io.ReadFull(br, buf[:cl])
	return err
}

// procCPU is the user+system CPU time a process used so far.
func procCPU(pid int) time.Duration {
	b, err := os.ReadFile(fmt.Sprintf("/proc/%d/stat", pid))
	if err != nil {
		return 0
	}
	// Fields after the command name, which is in parentheses.
	i := bytes.LastIndexByte(b, ')')
	if i < 0 {
		return 0
	}
	f := strings.Fields(string(b[i+1:]))
	if len(f) < 13 {
		return 0
	}
	ut, _ := strconv.ParseInt(f[11], 10, 64)
	st, _ := strconv.ParseInt(f[12], 10, 64)
	return time.Duration(ut+st) * time.Second / 100 // USER_HZ is 100 on Linux
}

// procStatus reads a "VmXXX: N kB" line of /proc/PID/status.
func procStatus(pid int, field string) int64 {
	b, err := os.ReadFile(fmt.Sprintf("/proc/%d/status", pid))
	if err != nil {
		return 0
	}
	for _, line := range strings.Split(string(b), "\n") {
		if strings.HasPrefix(line, field+":") {
			f := strings.Fields(line)
			if len(f) >= 2 {
				n, _ := strconv.ParseInt(f[1], 10, 64)
				return n
			}
		}
	}
	return 0
}

func startNginx(dir string, ports ...int) (func(), error) {
	bin, err := lookPath("nginx")
	if err != nil {
		return nil, err
	}
	var servers strings.Builder
	for _, p := range ports {
		fmt.Fprintf(&servers, "    server { listen 127.0.0.1:%d; keepalive_requests 1000000; location / { return 200 \"hello from nginx\\n\"; } location /f/ { root %s; } }\n", p, dir)
	}
	if err := writeBodies(dir); err != nil {
		return nil, err
	}
	conf := fmt.Sprintf(`daemon off;
master_process off;
worker_processes 1;
pid %s/nginx.pid;
error_log %s/nginx-error.log;
events { worker_connections 30000; }
http {
    access_log off;
    sendfile on;
    client_body_temp_path %s;
    proxy_temp_path %s;
    fastcgi_temp_path %s;
    uwsgi_temp_path %s;
    scgi_temp_path %s;
%s}
`, dir, dir, dir, dir, dir, dir, dir, servers.String())
	path := filepath.Join(dir, "nginx.conf")
	if err := os.WriteFile(path, []byte(conf), 0o644); err != nil {
		return nil, err
	}
	cmd := exec.Command(bin, "-c", path, "-p", dir)
	var stderr bytes.Buffer
	cmd.Stderr = &stderr
	if err := cmd.Start(); err != nil {
		return nil, err
	}
	stop := func() { stopProcess(cmd) }
	ctx, cancel := context.WithTimeout(context.Background(), 10*time.Second)
	defer cancel()
	for _, p := range ports {
		for {
			c, err := net.DialTimeout("tcp", fmt.Sprintf("127.0.0.1:%d", p), 100*time.Millisecond)
			if err == nil {
				c.Close()
				break
			}
			select {
			case <-ctx.Done():
				stop()
				return nil, fmt.Errorf("nginx did not start: %s", stderr.String())
			case <-time.After(50 * time.Millisecond):
			}
		}
	}
	return stop, nil
}

func lookPath(name string) (string, error) {
	if p, err := exec.LookPath(name); err == nil {
		return p, nil
	}
	for _, d := range []string{"/usr/sbin", "/sbin", "/usr/local/sbin"} {
		p := filepath.Join(d, name)
		if _, err := os.Stat(p); err == nil {
			return p, nil
		}
	}
	return "", fmt.Errorf("%s not found", name)
}

func freePort() int {
	l, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		panic(err)
	}
	defer l.Close()
	return l.Addr().(*net.TCPAddr).Port
}

// raiseNoFile lifts the open-files limit so 10,000 idle connections fit
// (children inherit it).
func noFileLimit() uint64 {
	var r syscall.Rlimit
	if syscall.Getrlimit(syscall.RLIMIT_NOFILE, &r) != nil {
		return 20000
	}
	return r.Cur
}

func raiseNoFile() {
	var r syscall.Rlimit
	if syscall.Getrlimit(syscall.RLIMIT_NOFILE, &r) != nil {
		return
	}
	const want = 100000
	if r.Max < want && os.Geteuid() == 0 {
		r.Max = want
	}
	r.Cur = min(uint64(want), r.Max)
	if err := syscall.Setrlimit(syscall.RLIMIT_NOFILE, &r); err != nil {
		r.Cur = r.Max // no privilege to raise the hard limit: use all of it
		syscall.Setrlimit(syscall.RLIMIT_NOFILE, &r)
	}
}

// benchConfig is the haproxy.cfg every shape shares: one frontend on port,
// two nginx servers b1 and b2 balanced round robin. globalExtra and
// backendExtra are lines added to the global and backend sections. The
// ulimit-n line the HAProxy comparison adds exists because containers
// often cap open files at 20000: HAProxy would refuse to start asking for
// 2*maxconn, while 10,000 idle clients need only about 10,000 descriptors.
func benchConfig(port, b1, b2 int, globalExtra, backendExtra string) string {
	return fmt.Sprintf(`global
    maxconn 10100
%s
defaults
    mode http
    timeout connect 5s
    timeout client 60s
    timeout server 60s
    timeout http-keep-alive 60s
    option forwardfor

frontend bench
    bind 127.0.0.1:%d
    default_backend nginx

backend nginx
    balance roundrobin
%s    server n1 127.0.0.1:%d
    server n2 127.0.0.1:%d
`, globalExtra, port, backendExtra, b1, b2)
}

// globalLines turns -global's ;-separated lines into config lines.
func globalLines(v string) string {
	var b strings.Builder
	for _, l := range strings.Split(v, ";") {
		if l = strings.TrimSpace(l); l != "" {
			b.WriteString("    " + l + "\n")
		}
	}
	return b.String()
}
