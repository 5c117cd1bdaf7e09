package logpipe_test

import (
	"fmt"
	"net"
	"net/http"
	"os"
	"os/exec"
	"path/filepath"
	"regexp"
	"strings"
	"testing"
	"time"

	"github.com/varde-lb/varde/core/testenv"
)

// An haproxy.cfg without log-tag, logging over UDP to a real rsyslogd that
// has Debian's rule for HAProxy (/etc/rsyslog.d/49-haproxy.conf,
// `:programname, startswith, "haproxy"`, writing the traditional file
// format): the lines land in the HAProxy file, none elsewhere, and halog's
// default mode reads every one without a parsing error.
func TestDebianRsyslogRuleAndHalog(t *testing.T) {
	rsyslogd := testenv.LookTool(t, "rsyslogd", "rsyslog")
	halog := testenv.LookTool(t, "halog", "haproxy")
	varde := testenv.VardeBinary(t)
	dir := t.TempDir()
	pc, err := net.ListenPacket("udp", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	udpPort := pc.LocalAddr().(*net.UDPAddr).Port
	pc.Close()
	hlog, other := filepath.Join(dir, "haproxy.log"), filepath.Join(dir, "other.log")
	conf := fmt.Sprintf(`global(workDirectory=%q)
module(load="imudp")
input(type="imudp" address="127.0.0.1" port="%d")
$ActionFileDefaultTemplate RSYSLOG_TraditionalFileFormat
# Debian's /etc/rsyslog.d/49-haproxy.conf, with the file in the test's directory.
:programname, startswith, "haproxy" {
  %s
  stop
}
*.* %s
`, dir, udpPort, hlog, other)
	confPath := filepath.Join(dir, "rsyslog.conf")
	os.WriteFile(confPath, []byte(conf), 0o644)
	_, rlog := testenv.Start(t, rsyslogd, "-n", "-f", confPath, "-i", filepath.Join(dir, "rsyslogd.pid"))

	srv := &http.Server{Handler: http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		if r.URL.Path == "/missing" {
			w.WriteHeader(404)
		}
	})}
	ln, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	go srv.Serve(ln)
	t.Cleanup(func() { srv.Close() })
	port := testenv.FreePort(t)
	cfg := filepath.Join(dir, "haproxy.cfg")
	os.WriteFile(cfg, []byte(fmt.Sprintf(`global
    log 127.0.0.1:%d local0
defaults
    mode http
    log global
    option httplog
    option dontlognull
    timeout connect 1s
    timeout client 5s
    timeout server 5s
frontend www
    bind 127.0.0.1:%d
    default_backend app
backend app
    server web1 %s
`, udpPort, port, ln.Addr())), 0o644)
	testenv.Start(t, varde, "run", "-f", cfg)
	testenv.WaitTCP(t, fmt.Sprintf("127.0.0.1:%d", port), 10*time.Second)
	const n = 30
	for i := 0; i < n; i++ {
		path := "/ok"
		if i%3 == 0 {
			path = "/missing"
		}
		resp, err := http.Get(fmt.Sprintf("http://127.0.0.1:%d%s?i=%d", port, path, i))
		if err != nil {
			t.Fatal(err)
		}
		resp.Body.Close()
	}
	var data []byte
	err = testenv.Until(10*time.Second, 50*time.Millisecond, func() error {
		data, _ = os.ReadFile(hlog)
		if c := strings.Count(string(data), "\n"); c < n {
			return fmt.Errorf("%d of %d lines in the HAProxy file", c, n)
		}
		return nil
	})
	if err != nil {
		b, _ := os.ReadFile(rlog)
		o, _ := os.ReadFile(other)
		t.Fatalf("%v\nrsyslogd: %s\nother.log:\n%s", err, b, o)
	}
	first := strings.SplitN(string(data), "\n", 2)[0]
	if !regexp.MustCompile(`^\w{3} [ \d]\d \d\d:\d\d:\d\d \S+ haproxy\[\d+\]: 127\.0\.0\.1:\d+ \[`).MatchString(first) {
		t.Errorf("line as rsyslog wrote it: %q", first)
	}
	if o, _ := os.ReadFile(other); strings.Contains(string(o), "GET /") {
		t.Errorf("traffic lines outside the HAProxy file:\n%s", o)
	}
	cmd := exec.Command(halog, "-st")
	cmd.Stdin = strings.NewReader(string(data))
	var stdout, stderr strings.Builder
	cmd.Stdout, cmd.Stderr = &stdout, &stderr
	if err := cmd.Run(); err != nil {
		t.Fatalf("halog: %v %s", err, stderr.String())
	}
	if !strings.Contains(stderr.String(), fmt.Sprintf("%d lines in, ", n)) || !strings.Contains(stderr.String(), " 0 parsing errors") {
		t.Errorf("halog: %s", stderr.String())
	}
	if !strings.Contains(stdout.String(), "200 20") || !strings.Contains(stdout.String(), "404 10") {
		t.Errorf("halog -st:\n%s", stdout.String())
	}
}
