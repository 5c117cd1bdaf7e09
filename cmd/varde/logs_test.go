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
	code, out, _ = runCmd("logs", "audit", p, "--json", "-")
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

// A log with personal data beyond addresses: the audit names each class
// with counts and masked file:line samples, exits 1 and archives a JSON
// report; `varde logs anonymize` removes every finding.
func TestLogsAuditPersonalData(t *testing.T) {
	dir := t.TempDir()
	p := filepath.Join(dir, "access.log")
	lines := `192.0.2.0:4000 [06/Feb/2009:12:14:14.655] fe be/s1 0/0/1/2/3 200 512 - - ---- 1/1/1/1/0 0/0 "GET /signup?email=kari%40example.no&tel=41234567 HTTP/1.1"
192.0.2.0:4001 [06/Feb/2009:12:14:15.655] fe be/s1 0/0/1/2/3 200 512 - - ---- 1/1/1/1/0 0/0 "POST /pay?card=4111%201111%201111%201111&id=24129910182 HTTP/1.1"
192.0.2.0:4002 [06/Feb/2009:12:14:16.655] fe be/s1 0/0/1/2/3 200 512 - - ---- 1/1/1/1/0 0/0 "GET /users/ola.nordmann@example.com/avatar HTTP/1.1"
192.0.2.0:4003 [06/Feb/2009:12:14:17.655] fe be/s1 0/0/1/2/3 200 1733600000123 - - ---- 1/1/1/1/0 0/0 "GET /api/items/12345678?ts=1733600000123 HTTP/1.1"
`
	os.WriteFile(p, []byte(lines), 0o640)
	report := filepath.Join(dir, "audit.json")
	code, out, errOut := runCmd("logs", "audit", p, "--json", report)
	for _, s := range []string{"param: 2 finding(s)", "email: 1", "card: 1", "fnr: 1", "access.log:2 (411111******1111)",
		"email in request at " + p + ":3 (*@example.com)", "param in request at " + p + ":1 (email=ka*"} {
		if !strings.Contains(out, s) {
			t.Errorf("audit output lacks %q", s)
		}
	}
	if code != 1 || strings.Contains(out, "kari") || strings.Contains(out, "4111 1111") {
		t.Errorf("exit %d %s\n%s", code, errOut, out)
	}
	var rep struct {
		Compliant bool
		Classes   map[string]int
		Files     []struct {
			PersonalData map[string]int `json:"personal_data"`
		}
	}
	b, err := os.ReadFile(report)
	if err != nil || json.Unmarshal(b, &rep) != nil || rep.Compliant || rep.Classes["card"] != 1 || rep.Files[0].PersonalData["fnr"] != 1 {
		t.Errorf("JSON report: %v %+v\n%s", err, rep, b)
	}
	if code, _, e := runCmd("logs", "anonymize", "--mask", "drop,card=truncate", p); code != 0 {
		t.Fatalf("anonymize: %s", e)
	}
	got, _ := os.ReadFile(p)
	if code, out, _ := runCmd("logs", "audit", p); code != 0 || !strings.Contains(string(got), "card=411111******1111") ||
		!strings.Contains(string(got), "/users/[email]/avatar") || !strings.Contains(string(got), "12345678?ts=1733600000123") {
		t.Errorf("after anonymize: exit %d\n%s\n%s", code, out, got)
	}
}
