package logpipe_test

import (
	"bufio"
	"fmt"
	"os"
	"os/exec"
	"path/filepath"
	"strings"
	"testing"
	"time"

	"github.com/varde-lb/varde/core/testenv"
)

// sampleLogFormat is a log-format of %[...] expressions whose values exist
// at log time in HAProxy as in varde; the line starts with a marker.
const sampleLogFormat = `SMP %[capture.req.hdr(0),lower] %[capture.req.hdr(1),word(1,.)] %[capture.res.hdr(0),upper] %[status] %[status,div(100)] %[srv_name] %[srv_id] %[be_name] %[fe_name] %[src,ipmask(8)] %[ssl_fc] %[capture.req.hdr(0),djb2]`

// TestSampleLogFormatMatchesHAProxy runs real HAProxy and varde with the
// same log-format of sample expressions and compares the lines.
func TestSampleLogFormatMatchesHAProxy(t *testing.T) {
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
		return strings.Replace(c, "    option httplog\n", "    log-format \""+sampleLogFormat+"\"\n", 1)
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
	// Requests go out one after the other: the lines come in the same order.
	for i := range min(len(hl), len(vl)) {
		if hl[i] != vl[i] {
			t.Errorf("line %d:\n haproxy %s\n   varde %s", i, hl[i], vl[i])
		}
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
