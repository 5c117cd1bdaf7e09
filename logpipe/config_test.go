package logpipe

import (
	"os"
	"path/filepath"
	"strings"
	"testing"
	"time"

	"github.com/google/go-cmp/cmp"
	"github.com/varde-lb/varde/core/config"
)

func TestSpecsFromConfig(t *testing.T) {
	dir := t.TempDir()
	cfg := filepath.Join(dir, "haproxy.cfg")
	// The file target lives in the test's directory: the configuration
	// check refuses a file@ target whose directory does not exist.
	src := strings.ReplaceAll(`global
    log 127.0.0.1 local2
    log file@DIR/access.log anonymize ip 24,48 retention 7d rotate 10M keep 3 compress local0 info
    log-tag lb
    tune.log.batch 32
    tune.log.flush 50ms
    tune.log.on-full block
defaults
    mode http
    log global
    option httplog
    option dontlognull
    timeout connect 1s
    timeout client 1s
    timeout server 1s
frontend www
    bind 127.0.0.1:8080
    capture request header X-Forwarded-For len 64
    capture response header Content-Type len 20
    default_backend app
frontend json
    bind 127.0.0.1:8081
    option jsonlog
    default_backend app
listen tcp
    mode tcp
    bind 127.0.0.1:8082
    log tcp@10.0.0.5:6514 format rfc5424 anonymize hmac /tmp/k rotate 1d local1
    server s 127.0.0.1:9000
backend app
    server s1 127.0.0.1:9000
`, "DIR", dir)
	os.WriteFile(cfg, []byte(src), 0o644)
	set, d := config.LoadFiles([]string{cfg}, nil)
	if d.HasErrors() {
		t.Fatalf("config: %v", d)
	}
	specs, opts, err := SpecsFromConfig(set.HAProxy)
	if err != nil {
		t.Fatal(err)
	}
	// No format and no log-send-hostname: HAProxy 2.6 sends "local" (RFC
	// 3164 without a host name), as TestServerEventsMatchHAProxy sees.
	udp := TargetSpec{Scheme: "udp", Address: "127.0.0.1:514", Raw: "127.0.0.1", Format: FormatLocal, Facility: 18, Level: 7}
	file := TargetSpec{Scheme: "file", Address: dir + "/access.log", Raw: "file@" + dir + "/access.log", Format: FormatRaw,
		Facility: 16, Level: 6, Anon: AnonSpec{Mode: AnonIP, V4Bits: 24, V6Bits: 48, PII: PIISpec{Classes: PIIDetected, Params: DefaultAuditParams}}, Retention: 7 * 24 * time.Hour,
		RotateSize: 10 << 20, Keep: 3, Compress: true}
	tcp := TargetSpec{Scheme: "tcp", Address: "10.0.0.5:6514", Raw: "tcp@10.0.0.5:6514", Format: FormatRFC5424, Facility: 17, Level: 7,
		Anon: AnonSpec{Mode: AnonHMAC, KeyFile: "/tmp/k", Rotate: 24 * time.Hour, PII: PIISpec{Classes: PIIDetected, Params: DefaultAuditParams}}}
	want := []ProxySpec{
		{Name: "www", Format: "httplog", DontLogNull: true, ReqCaptures: []string{"X-Forwarded-For"}, ResCaptures: []string{"Content-Type"},
			Targets: []TargetSpec{udp, file}},
		{Name: "json", Format: "jsonlog", DontLogNull: true, Targets: []TargetSpec{udp, file}},
		{Name: "tcp", Format: "tcplog", DontLogNull: true, Targets: []TargetSpec{udp, file, tcp}},
	}
	if diff := cmp.Diff(want, specs); diff != "" {
		t.Errorf("(-want +got)\n%s", diff)
	}
	if opts.Batch != 32 || opts.Flush != 50*time.Millisecond || !opts.Block || opts.Tag != "lb" {
		t.Errorf("options %+v", opts)
	}
}
