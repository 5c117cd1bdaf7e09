package logpipe_test

import (
	"fmt"
	"os"
	"os/exec"
	"path/filepath"
	"regexp"
	"strconv"
	"testing"
	"time"

	"github.com/varde-lb/varde/core/testenv"
)

// BenchmarkEndToEndLogging is the issue's whole-system figure, run by `make
// bench`: requests/s through varde with logging off and with a file@
// target + `anonymize ip 24,48` (goal: >= 0.9x), and, beside it, HAProxy
// without logging and HAProxy logging over UDP to a local rsyslog that
// writes a file (the seed articles' setup). Rounds alternate the four
// setups so a noisy machine hurts them alike; figures are means.
func BenchmarkEndToEndLogging(b *testing.B) {
	wrk := testenv.LookTool(b, "wrk", "wrk")
	haproxy := testenv.LookTool(b, "haproxy", "haproxy")
	rsyslogd := testenv.LookTool(b, "rsyslogd", "rsyslog")
	varde := testenv.VardeBinary(b)
	nginx := testenv.LookTool(b, "nginx", "nginx-light")
	dir := b.TempDir()
	// nginx as the backend, out of this process, as in cmd/varde-bench.
	be := testenv.FreePort(b)
	nconf := filepath.Join(dir, "nginx.conf")
	os.WriteFile(nconf, []byte(fmt.Sprintf(`worker_processes 1;
pid %[1]s/nginx.pid;
error_log %[1]s/nginx-error.log;
events { worker_connections 1024; }
http { access_log off; server { listen 127.0.0.1:%[2]d; location / { return 200 "hello world\n"; } } }
`, dir, be)), 0o644)
	// One process (no master): killing it at cleanup leaves no orphaned worker.
	testenv.Start(b, nginx, "-c", nconf, "-g", "daemon off; master_process off;")
	testenv.WaitTCP(b, fmt.Sprintf("127.0.0.1:%d", be), 10*time.Second)
	port := testenv.FreePort(b)
	udp := testenv.FreePort(b)
	base := `defaults
    mode http
    option httplog
    %s
    timeout connect 2s
    timeout client 10s
    timeout server 10s
frontend fe
    bind 127.0.0.1:%d
    default_backend be
backend be
    server s1 127.0.0.1:%d
`
	write := func(name, global, logGlobal string) string {
		p := filepath.Join(dir, name)
		os.WriteFile(p, []byte("global\n"+global+"\n"+fmt.Sprintf(base, logGlobal, port, be)), 0o644)
		return p
	}
	setups := []struct {
		name string
		bin  string
		cfg  string
	}{
		{"varde-off", varde, write("off.cfg", "", "")},
		{"varde-file-anon", varde, write("file.cfg", fmt.Sprintf("    log file@%s/access.log anonymize ip 24,48 rotate 256M keep 2 local0", dir), "log global")},
		{"haproxy-off", haproxy, write("hoff.cfg", "", "")},
		{"haproxy-udp-rsyslog", haproxy, write("hlog.cfg", fmt.Sprintf("    log 127.0.0.1:%d local0", udp), "log global")},
	}
	rconf := filepath.Join(dir, "rsyslog.conf")
	os.WriteFile(rconf, []byte(fmt.Sprintf("global(workDirectory=%q)\nmodule(load=\"imudp\")\ninput(type=\"imudp\" address=\"127.0.0.1\" port=\"%d\")\naction(type=\"omfile\" file=%q)\n",
		dir, udp, filepath.Join(dir, "haproxy.log"))), 0o644)
	testenv.Start(b, rsyslogd, "-n", "-f", rconf, "-i", filepath.Join(dir, "rsyslogd.pid"))

	reqs := regexp.MustCompile(`Requests/sec:\s+([0-9.]+)`)
	sum := map[string]float64{}
	const rounds = 2
	for i := 0; i < b.N; i++ {
		for r := 0; r < rounds; r++ {
			for _, s := range setups {
				args := []string{"-db", "-f", s.cfg}
				if s.bin == varde {
					args = []string{"run", "-f", s.cfg}
				}
				cmd := exec.Command(s.bin, args...)
				if err := cmd.Start(); err != nil {
					b.Fatal(err)
				}
				testenv.WaitTCP(b, fmt.Sprintf("127.0.0.1:%d", port), 10*time.Second)
				out, err := exec.Command(wrk, "-t1", "-c32", "-d3s", fmt.Sprintf("http://127.0.0.1:%d/", port)).CombinedOutput()
				cmd.Process.Signal(os.Interrupt)
				cmd.Wait()
				m := reqs.FindSubmatch(out)
				if err != nil || m == nil {
					b.Fatalf("wrk against %s: %v\n%s", s.name, err, out)
				}
				v, _ := strconv.ParseFloat(string(m[1]), 64)
				sum[s.name] += v
			}
		}
	}
	n := float64(b.N * rounds)
	for _, s := range setups {
		b.ReportMetric(sum[s.name]/n, s.name+"-req/s")
	}
	b.ReportMetric(sum["varde-file-anon"]/sum["varde-off"], "varde-file/off")
	b.ReportMetric(sum["haproxy-udp-rsyslog"]/sum["haproxy-off"], "haproxy-rsyslog/off")
}
