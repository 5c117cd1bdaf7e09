package tcp_test

import (
	"context"
	"fmt"
	"net/netip"
	"os"
	"path/filepath"
	"strings"
	"testing"
	"time"

	"github.com/varde-lb/varde/core/logrec"
	"github.com/varde-lb/varde/core/testenv"
	"github.com/varde-lb/varde/logpipe"
	_ "github.com/varde-lb/varde/plugins/sink/tcp"
	_ "github.com/varde-lb/varde/plugins/sink/udp"
)

// TestRsyslogReceivesUDPAndTCP sends RFC 5424 and RFC 3164 messages over
// UDP and over TCP (RFC 6587 octet counting) to a real rsyslogd on loopback
// and checks what rsyslog parsed and wrote.
func TestRsyslogReceivesUDPAndTCP(t *testing.T) {
	if testing.Short() {
		t.Skip("starts rsyslogd")
	}
	rsyslogd := testenv.LookTool(t, "rsyslogd", "rsyslog")
	dir := t.TempDir()
	udpPort, tcpPort := freeUDPPort(t), testenv.FreePort(t)
	out := filepath.Join(dir, "out.log")
	conf := fmt.Sprintf(`global(workDirectory=%q)
module(load="imudp")
module(load="imtcp")
input(type="imudp" address="127.0.0.1" port="%d")
input(type="imtcp" address="127.0.0.1" port="%d")
template(name="t" type="string" string="%%inputname%%|%%hostname%%|%%app-name%%|%%procid%%|%%syslogfacility-text%%|%%syslogseverity-text%%|%%msg:::sp-if-no-1st-sp%%%%msg:::drop-last-lf%%\n")
action(type="omfile" file=%q template="t")
`, dir, udpPort, tcpPort, out)
	confPath := filepath.Join(dir, "rsyslog.conf")
	if err := os.WriteFile(confPath, []byte(conf), 0o644); err != nil {
		t.Fatal(err)
	}
	_, logPath := testenv.Start(t, rsyslogd, "-n", "-f", confPath, "-i", filepath.Join(dir, "rsyslogd.pid"))
	testenv.WaitTCP(t, fmt.Sprintf("127.0.0.1:%d", tcpPort), 10*time.Second)

	mk := func(scheme string, port int, f logpipe.SyslogFormat) logpipe.TargetSpec {
		return logpipe.TargetSpec{Scheme: scheme, Address: fmt.Sprintf("127.0.0.1:%d", port), Raw: fmt.Sprintf("%s@%d/%v", scheme, port, f),
			Format: f, Facility: 17, Level: 6, Anon: logpipe.AnonSpec{Mode: logpipe.AnonIP, V4Bits: 24, V6Bits: 48}}
	}
	send := func(target logpipe.TargetSpec, n int, tag string) {
		t.Helper()
		p, err := logpipe.NewFromSpecs([]logpipe.ProxySpec{{Name: "fe", Format: "httplog", Targets: []logpipe.TargetSpec{target}}},
			logpipe.Options{Batch: 16, Flush: 10 * time.Millisecond, Hostname: "lb1", Tag: "varde", PID: 4242}, nil)
		if err != nil {
			t.Fatal(err)
		}
		p.Start()
		for i := 0; i < n; i++ {
			r := &logrec.Record{}
			r.Reset()
			r.Mode = logrec.ModeHTTP
			r.Accept = time.Now().UnixNano()
			r.Client = netip.MustParseAddrPort("192.0.2.77:5000")
			r.Frontend, r.Backend, r.Server, r.Status = "fe", "be", "s1", 200
			r.RequestLine.Set(fmt.Appendf(nil, "GET /%s/%d HTTP/1.1", tag, i))
			p.Log(r)
		}
		if err := p.Close(context.Background()); err != nil {
			t.Fatal(err)
		}
		if st := p.Stats()[0]; st.Written != uint64(n) {
			t.Fatalf("%s: %+v", tag, st)
		}
	}
	waitLines := func(tag string, n int) []string {
		t.Helper()
		var got []string
		err := testenv.Until(10*time.Second, 20*time.Millisecond, func() error {
			data, _ := os.ReadFile(out)
			got = got[:0]
			for _, l := range strings.Split(string(data), "\n") {
				if strings.Contains(l, "/"+tag+"/") {
					got = append(got, l)
				}
			}
			if len(got) < n {
				return fmt.Errorf("%d of %d %s lines", len(got), n, tag)
			}
			return nil
		})
		if err != nil {
			log, _ := os.ReadFile(logPath)
			t.Fatalf("%v\nrsyslogd output:\n%s", err, log)
		}
		return got
	}

	cases := []struct {
		tag, scheme string
		port        int
		format      logpipe.SyslogFormat
		input       string
	}{
		{"tcp5424", "tcp", tcpPort, logpipe.FormatRFC5424, "imtcp"},
		{"tcp3164", "tcp", tcpPort, logpipe.FormatRFC3164, "imtcp"},
		{"udp5424", "udp", udpPort, logpipe.FormatRFC5424, "imudp"},
		{"udp3164", "udp", udpPort, logpipe.FormatRFC3164, "imudp"},
	}
	for _, c := range cases {
		const n = 50
		send(mk(c.scheme, c.port, c.format), n, c.tag)
		lines := waitLines(c.tag, n)
		if len(lines) != n {
			t.Errorf("%s: %d lines, want %d", c.tag, len(lines), n)
		}
		for i, l := range lines {
			parts := strings.SplitN(l, "|", 7)
			if len(parts) != 7 {
				t.Fatalf("%s: bad line %q", c.tag, l)
			}
			want := []string{c.input, "lb1", "varde", "4242", "local1", "info"}
			if fmt.Sprint(parts[:6]) != fmt.Sprint(want) {
				t.Errorf("%s: header fields %q, want %q", c.tag, parts[:6], want)
			}
			msg := strings.TrimSpace(parts[6])
			wantMsg := fmt.Sprintf(`"GET /%s/%d HTTP/1.1"`, c.tag, i)
			if !strings.HasPrefix(msg, "192.0.2.0:5000 [") || !strings.HasSuffix(msg, wantMsg) {
				t.Errorf("%s: message %q", c.tag, msg)
			}
		}
	}
}

func freeUDPPort(t *testing.T) int {
	t.Helper()
	for i := 0; i < 20; i++ {
		p := testenv.FreePort(t)
		// TCP free does not imply UDP free; check by binding.
		if c, err := netListenUDP(p); err == nil {
			c.Close()
			return p
		}
	}
	t.Fatal("no free UDP port")
	return 0
}
