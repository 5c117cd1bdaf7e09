package main

import (
	"bytes"
	"encoding/json"
	"os"
	"path/filepath"
	"strings"
	"testing"
	"time"
)

const haproxyLog = `Feb  6 12:14:14 localhost haproxy[14389]: 10.0.1.2:33317 [06/Feb/2009:12:14:14.655] http-in static/srv1 10/0/30/69/109 200 2750 - - ---- 1/1/1/1/0 0/0 {1wt.eu|198.51.100.4, 2001:db8:1:2::9} {} "GET /index.html HTTP/1.1"
`

func runCmd(args ...string) (int, string, string) {
	var out, errb bytes.Buffer
	code := dispatch(args, &out, &errb)
	return code, out.String(), errb.String()
}

func TestLogsAuditAndAnonymize(t *testing.T) {
	dir := t.TempDir()
	p := filepath.Join(dir, "haproxy.log")
	if err := os.WriteFile(p, []byte(haproxyLog), 0o640); err != nil {
		t.Fatal(err)
	}
	code, out, _ := runCmd("logs", "audit", dir)
	if code != 1 || !strings.Contains(out, "raw IPv4 in client at "+p+":1 (10.x.x.x)") ||
		!strings.Contains(out, "(2001:x:x:x:x:x:x:x)") || strings.Contains(out, "10.0.1.2") {
		t.Errorf("audit of raw HAProxy log: exit %d\n%s", code, out)
	}
	code, out, errOut := runCmd("logs", "anonymize", "--ip", "24,48", p)
	if code != 0 {
		t.Fatalf("anonymize: exit %d %s %s", code, out, errOut)
	}
	got, _ := os.ReadFile(p)
	want := strings.NewReplacer("10.0.1.2:", "10.0.1.0:", "198.51.100.4", "198.51.100.0", "2001:db8:1:2::9", "2001:db8:1::").Replace(haproxyLog)
	if string(got) != want {
		t.Errorf("anonymized file:\n got %q\nwant %q", got, want)
	}
	code, out, _ = runCmd("logs", "audit", p, "--json")
	var rep struct {
		Compliant bool
		Files     []struct{ Anonymisation string }
	}
	if code != 0 || json.Unmarshal([]byte(out), &rep) != nil || !rep.Compliant || !strings.Contains(rep.Files[0].Anonymisation, "IPv4 /24") {
		t.Errorf("audit after anonymize: exit %d\n%s", code, out)
	}
	// Records from 2009 with a 30 day retention.
	old := time.Now().Add(-time.Hour)
	os.Chtimes(p, old, old)
	if code, out, _ = runCmd("logs", "audit", "--retention", "30d", p); code != 1 || !strings.Contains(out, "older than the retention") {
		t.Errorf("retention: exit %d\n%s", code, out)
	}
	// HMAC pseudonyms.
	kf := filepath.Join(dir, "keys")
	os.WriteFile(p, []byte(haproxyLog), 0o640)
	if code, _, e := runCmd("logs", "anonymize", "--hmac", kf, p, filepath.Join(dir, "h.log")); code != 0 {
		t.Fatalf("hmac: %s", e)
	}
	h, _ := os.ReadFile(filepath.Join(dir, "h.log"))
	if !strings.Contains(string(h), ": h-") || strings.Contains(string(h), "10.0.1.2") {
		t.Errorf("hmac output %q", h)
	}
	if code, out, _ := runCmd("logs", "audit", filepath.Join(dir, "h.log")); code != 0 || !strings.Contains(out, "hmac") {
		t.Errorf("hmac audit: %d %s", code, out)
	}
}

func TestLogsUsage(t *testing.T) {
	for _, args := range [][]string{
		{"logs"}, {"logs", "nosuch"}, {"logs", "audit"}, {"logs", "audit", "--retention", "x", "/tmp"},
		{"logs", "audit", "/nonexistent/path"}, {"logs", "anonymize"}, {"logs", "anonymize", "--ip", "40,48", "a"},
		{"logs", "anonymize", "--ip", "24,48", "--hmac", "k", "a"},
	} {
		if code, _, _ := runCmd(args...); code != 2 {
			t.Errorf("%q: exit %d, want 2", args, code)
		}
	}
	if code, out, _ := runCmd("logs", "--help"); code != 0 || !strings.Contains(out, "audit") {
		t.Errorf("help: %d %s", code, out)
	}
}
