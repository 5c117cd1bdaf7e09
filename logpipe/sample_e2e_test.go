package logpipe_test

import (
	"bufio"
	"fmt"
	"io"
	"net"
	"os"
	"os/exec"
	"path/filepath"
	"slices"
	"strings"
	"testing"
	"time"

	"github.com/google/go-cmp/cmp"
	"github.com/varde-lb/varde/core/testenv"
)

// sampleLogFormat is a log-format of %[...] expressions whose values exist
// at log time in HAProxy as in varde; the line starts with a marker.
const sampleLogFormat = `SMP %[capture.req.hdr(0),lower] %[capture.req.hdr(1),word(1,.)] %[capture.res.hdr(0),upper] %[status] %[status,div(100)] %[srv_name] %[srv_id] %[be_name] %[fe_name] %[src,ipmask(8)] %[ssl_fc] %[capture.req.hdr(0),djb2]`

// uncapturedLogFormat reads request headers in log-format, which HAProxy
// 2.6 refuses ("needs 'HTTP request headers' which is not available
// here") and varde allows: it keeps the headers a log-format names until
// log time, whole (X-Forwarded-For's 64-byte capture does not cut it).
const uncapturedLogFormat = `SMP %[req.hdr(x-forwarded-for)] %[req.fhdr(x-forwarded-for)] %[req.hdr_cnt(x-forwarded-for)] %[req.hdr(x-none)] %[req.hdr_cnt(x-none)] %[base] %[req.cook(SID)]`

// TestSampleLogFormatMatchesHAProxy runs real HAProxy and varde with the
// same log-format of sample expressions and compares the lines.
func TestSampleLogFormatMatchesHAProxy(t *testing.T) {
	compareLogFormat(t, sampleLogFormat)
}

// TestLogFormatReadsRequestHeaders: a log-format reading request headers
// without capture lines logs their values, not "-"; an absent header has
// no sample and a count of 0; a request that could not be parsed has only
// connection samples.
func TestLogFormatReadsRequestHeaders(t *testing.T) {
	if testing.Short() {
		t.Skip("starts varde")
	}
	varde := testenv.VardeBinary(t)
	b1, b2 := backend(t, "s1"), backend(t, "s2")
	port := testenv.FreePort(t)
	c := strings.Replace(fmt.Sprintf(e2eConfig, "", port, b1, b2), "    option httplog\n", "    log-format \""+uncapturedLogFormat+"\"\n", 1)
	path := filepath.Join(t.TempDir(), "varde.cfg")
	os.WriteFile(path, []byte(c), 0o644)
	_, out := testenv.Start(t, varde, "run", "-f", path)
	testenv.WaitTCP(t, fmt.Sprintf("127.0.0.1:%d", port), 10*time.Second)
	sendAll(t, port)
	// Repeated lines stay lines: the last X-Forwarded-For value and line,
	// three values in all, the SID of the second Cookie line.
	conn, err := net.Dial("tcp", fmt.Sprintf("127.0.0.1:%d", port))
	if err != nil {
		t.Fatal(err)
	}
	fmt.Fprint(conn, "GET /dup HTTP/1.1\r\nHost: h\r\nCookie: a=1\r\nCookie: SID=s2\r\nX-Forwarded-For: 10.0.0.1\r\nX-Forwarded-For: 10.0.0.2, 10.0.0.3\r\nConnection: close\r\n\r\n")
	io.Copy(io.Discard, conn)
	conn.Close()
	lines := smpLines(t, out, len(e2eRequests)+2, "varde")
	// Lines of successive requests may come out of order: look each up.
	want := []string{
		"SMP - - 0 - 0 www.example.com/ 0123456789abcdef",
		"SMP 203.0.113.9 203.0.113.9 1 - 0 www.example.com/missing -",
		"SMP 2001:db8:1:2::3 198.51.100.7, 2001:db8:1:2::3 2 - 0 www.example.com/form 0123456789abcdef",
		"SMP unknown unknown 1 - 0 www.example.com/ 0123456789abcdef",
		"SMP - - - - - - -",
		"SMP 10.0.0.3 10.0.0.2, 10.0.0.3 3 - 0 h/dup s2",
	}
	for _, w := range want {
		if !slices.Contains(lines, w) {
			t.Errorf("no line %q in:\n%s", w, strings.Join(lines, "\n"))
		}
	}
}

func compareLogFormat(t *testing.T, format string) {
	if testing.Short() {
		t.Skip("starts haproxy and varde")
	}
	haproxy := testenv.LookTool(t, "haproxy", "haproxy")
	varde := testenv.VardeBinary(t)
	dir := t.TempDir()
	b1, b2 := backend(t, "s1"), backend(t, "s2")
	hp, vp := testenv.FreePort(t), testenv.FreePort(t)
	cfg := func(port int) string {
		c := fmt.Sprintf(e2eConfig, "", port, b1, b2)
		return strings.Replace(c, "    option httplog\n", "    log-format \""+format+"\"\n", 1)
	}
	hcfg, vcfg := filepath.Join(dir, "haproxy.cfg"), filepath.Join(dir, "varde.cfg")
	os.WriteFile(hcfg, []byte(cfg(hp)), 0o644)
	os.WriteFile(vcfg, []byte(cfg(vp)), 0o644)
	if out, err := exec.Command(haproxy, "-c", "-f", hcfg).CombinedOutput(); err != nil {
		t.Fatalf("haproxy -c: %v\n%s", err, out)
	}
	if out, err := exec.Command(varde, "check", "-f", vcfg).CombinedOutput(); err != nil {
		t.Fatalf("varde check: %v\n%s", err, out)
	}
	_, hout := testenv.Start(t, haproxy, "-db", "-f", hcfg)
	_, vout := testenv.Start(t, varde, "run", "-f", vcfg)
	testenv.WaitTCP(t, fmt.Sprintf("127.0.0.1:%d", hp), 10*time.Second)
	testenv.WaitTCP(t, fmt.Sprintf("127.0.0.1:%d", vp), 10*time.Second)
	sendAll(t, hp)
	sendAll(t, vp)
	n := len(e2eRequests) + 1
	hl, vl := smpLines(t, hout, n, "haproxy"), smpLines(t, vout, n, "varde")
	// A record is written when its transaction ends, which may be after
	// the client has sent the next request: compare the lines as sets.
	slices.Sort(hl)
	slices.Sort(vl)
	if diff := cmp.Diff(hl, vl); diff != "" {
		t.Errorf("log lines (-haproxy +varde):\n%s", diff)
	}
}

func smpLines(t *testing.T, path string, n int, who string) []string {
	t.Helper()
	var lines []string
	err := testenv.Until(15*time.Second, 20*time.Millisecond, func() error {
		lines = lines[:0]
		f, err := os.Open(path)
		if err != nil {
			return err
		}
		defer f.Close()
		sc := bufio.NewScanner(f)
		for sc.Scan() {
			if strings.HasPrefix(sc.Text(), "SMP ") {
				lines = append(lines, sc.Text())
			}
		}
		if len(lines) < n {
			return fmt.Errorf("%s: %d of %d lines", who, len(lines), n)
		}
		return nil
	})
	if err != nil {
		t.Fatal(err)
	}
	return lines
}
