package logpipe

import (
	"bytes"
	"compress/gzip"
	"os"
	"path/filepath"
	"strings"
	"testing"
	"time"

	"github.com/google/go-cmp/cmp"
)

// HAProxy-written lines (syslog via rsyslog, and raw stdout).
const haproxyLines = `Feb  6 12:14:14 localhost haproxy[14389]: 10.0.1.2:33317 [06/Feb/2009:12:14:14.655] http-in static/srv1 10/0/30/69/109 200 2750 - - ---- 1/1/1/1/0 0/0 {1wt.eu} {} "GET /index.html HTTP/1.1"
<30>Jun 27 21:43:42 haproxy[22021]: 8.6.7.10:55480 [27/Jun/2019:21:42:38.916] public_ssl~ be_http/srva 0/0/0/-1/63387 504 194 - - sH-- 15/13/10/0/0 0/0 "PATCH /api/upload/4ddad61736a6 HTTP/1.1"
192.0.2.9:4000 [27/Jun/2019:21:42:39.000] fe be/<NOSRV> -1/-1/5 0 CC 1/1/1/0/0 0/0
`

func TestParseLine(t *testing.T) {
	lines := strings.Split(strings.TrimSpace(haproxyLines), "\n")
	l, ok := ParseLine([]byte(lines[0]), time.UTC)
	if !ok {
		t.Fatal("doc line not recognised")
	}
	b := []byte(lines[0])
	got := map[string]any{
		"client": string(b[l.Client.Start:l.Client.End]), "port": string(b[l.Port.Start:l.Port.End]),
		"date": l.Date.Format(time.RFC3339Nano), "fe": l.Frontend, "be": l.Backend, "srv": l.Server,
		"timers": l.Timers, "status": l.Status, "bytes": l.Bytes, "term": l.Term,
		"reqh": string(b[l.ReqHeaders.Start:l.ReqHeaders.End]), "resh": string(b[l.ResHeaders.Start:l.ResHeaders.End]),
		"req": string(b[l.Request.Start:l.Request.End]), "http": l.HTTP,
	}
	want := map[string]any{"client": "10.0.1.2", "port": "33317", "date": "2009-02-06T12:14:14.655Z", "fe": "http-in",
		"be": "static", "srv": "srv1", "timers": []int{10, 0, 30, 69, 109}, "status": 200, "bytes": int64(2750), "term": "----",
		"reqh": "1wt.eu", "resh": "", "req": "GET /index.html HTTP/1.1", "http": true}
	if diff := cmp.Diff(want, got); diff != "" {
		t.Errorf("(-want +got)\n%s", diff)
	}
	l, ok = ParseLine([]byte(lines[1]), time.UTC)
	if !ok || l.Status != 504 || l.Term != "sH--" || l.Frontend != "public_ssl~" || l.ReqHeaders != (Span{}) {
		t.Errorf("cerebro line: %+v %v", l, ok)
	}
	l, ok = ParseLine([]byte(lines[2]), time.UTC)
	if !ok || l.HTTP || l.Term != "CC" || l.Server != "<NOSRV>" {
		t.Errorf("tcplog line: %+v %v", l, ok)
	}
}

func writeFile(t *testing.T, path, data string, mod time.Time) {
	t.Helper()
	if strings.HasSuffix(path, ".gz") {
		var b bytes.Buffer
		zw := gzip.NewWriter(&b)
		zw.Write([]byte(data))
		zw.Close()
		data = b.String()
	}
	if err := os.WriteFile(path, []byte(data), 0o600); err != nil {
		t.Fatal(err)
	}
	if !mod.IsZero() {
		os.Chtimes(path, mod, mod)
	}
}

func TestAudit(t *testing.T) {
	now := time.Date(2026, 11, 21, 12, 0, 0, 0, time.UTC)
	dir := t.TempDir()
	// varde's own anonymised output.
	e, _ := NewEncoder(EncoderConfig{Format: "httplog", Location: time.UTC, ReqCaptures: []string{"X-Forwarded-For"},
		Anon: AnonSpec{Mode: AnonIP, V4Bits: 24, V6Bits: 48}})
	var good bytes.Buffer
	for _, ip := range []string{"192.0.2.77:1", "[2001:db8:1:2::5]:2", "[::ffff:198.51.100.3]:3"} {
		rr := docRecord()
		rr.Accept, rr.Request = now.Add(-time.Hour).UnixNano(), now.Add(-time.Hour).UnixNano()
		rr.Client = mustAP(ip)
		rr.RequestLine.Set([]byte("GET /?from=203.0.113.5 HTTP/1.1"))
		good.Write(e.Append(nil, rr))
		good.WriteByte('\n')
	}
	je, _ := NewEncoder(EncoderConfig{Format: "jsonlog", Anon: AnonSpec{Mode: AnonIP, V4Bits: 16, V6Bits: 32}})
	jr := docRecord()
	jr.Accept, jr.Request = now.Add(-2*time.Hour).UnixNano(), now.Add(-2*time.Hour).UnixNano()
	good.Write(je.Append(nil, jr))
	good.WriteByte('\n')
	os.MkdirAll(filepath.Join(dir, "good"), 0o755)
	writeFile(t, filepath.Join(dir, "good", "access.log"), good.String(), now.Add(-time.Hour))
	writeFile(t, filepath.Join(dir, "good", "access-1.log.gz"), good.String(), now.Add(-time.Hour))

	rep, err := Audit([]string{filepath.Join(dir, "good")}, AuditOptions{Retention: 7 * 24 * time.Hour, Now: now, Location: time.UTC})
	if err != nil {
		t.Fatal(err)
	}
	if !rep.Compliant || len(rep.Files) != 2 {
		t.Fatalf("varde's own output not compliant: %+v", rep)
	}
	f := rep.Files[0]
	if f.Records != 4 || f.Lines != 4 || f.First == nil || !f.First.Equal(now.Add(-2*time.Hour)) ||
		!strings.Contains(f.Anonymisation, "IPv4 /24 or shorter") || !strings.Contains(f.Anonymisation, "IPv6 /64 or shorter") {
		t.Errorf("good file report: %+v", f)
	}

	// HAProxy's raw lines, and an old file.
	os.MkdirAll(filepath.Join(dir, "bad"), 0o755)
	writeFile(t, filepath.Join(dir, "bad", "haproxy.log"), haproxyLines, now.Add(-time.Hour))
	rep, err = Audit([]string{filepath.Join(dir, "bad", "haproxy.log")}, AuditOptions{Now: now, Location: time.UTC})
	if err != nil {
		t.Fatal(err)
	}
	f = rep.Files[0]
	wantFindings := []Finding{
		{File: f.Path, Line: 1, Field: "client", Family: "IPv4", Redacted: "10.x.x.x"},
		{File: f.Path, Line: 2, Field: "client", Family: "IPv4", Redacted: "8.x.x.x"},
		{File: f.Path, Line: 3, Field: "client", Family: "IPv4", Redacted: "192.x.x.x"},
	}
	if rep.Compliant || f.Records != 3 || f.RawAddresses != 3 || f.Anonymisation != "none (raw client addresses)" {
		t.Errorf("haproxy file: %+v", f)
	}
	if diff := cmp.Diff(wantFindings, f.Findings); diff != "" {
		t.Errorf("findings (-want +got)\n%s", diff)
	}
	if strings.Contains(strings.Join(strings.Fields(fmtReport(rep)), " "), "10.0.1.2") {
		t.Error("the report leaks a raw address")
	}
	// Anonymising the HAProxy file makes it pass; retention still fails it
	// because its records are from 2009.
	rw, err := NewRewriter(AnonSpec{Mode: AnonIP, V4Bits: 24, V6Bits: 48})
	if err != nil {
		t.Fatal(err)
	}
	var out bytes.Buffer
	for _, l := range strings.Split(strings.TrimSpace(haproxyLines), "\n") {
		out.Write(rw.Line(nil, []byte(l)))
		out.WriteByte('\n')
	}
	wantOut := strings.ReplaceAll(strings.ReplaceAll(strings.ReplaceAll(haproxyLines, "10.0.1.2:", "10.0.1.0:"), "8.6.7.10:", "8.6.7.0:"), "192.0.2.9:", "192.0.2.0:")
	if diff := cmp.Diff(wantOut, out.String()); diff != "" {
		t.Errorf("rewrite (-want +got)\n%s", diff)
	}
	writeFile(t, filepath.Join(dir, "bad", "haproxy.log"), out.String(), now.Add(-time.Hour))
	rep, _ = Audit([]string{filepath.Join(dir, "bad")}, AuditOptions{Now: now, Location: time.UTC})
	if !rep.Compliant {
		t.Errorf("anonymised haproxy file: %+v", rep.Files[0])
	}
	rep, _ = Audit([]string{filepath.Join(dir, "bad")}, AuditOptions{Now: now, Location: time.UTC, Retention: 30 * 24 * time.Hour})
	if rep.Compliant || !rep.Files[0].PastRetention {
		t.Errorf("2009 records with a 30d retention: %+v", rep.Files[0])
	}
	// An unparsed line with an address, and a file only old by mtime.
	writeFile(t, filepath.Join(dir, "bad", "other.log"), "something from 198.51.100.23 happened\n", now.Add(-40*24*time.Hour))
	rep, _ = Audit([]string{filepath.Join(dir, "bad", "other.log")}, AuditOptions{Now: now, Location: time.UTC, Retention: 30 * 24 * time.Hour})
	if f := rep.Files[0]; rep.Compliant || f.RawAddresses != 1 || !f.PastRetention || f.Findings[0].Field != "text" {
		t.Errorf("other.log: %+v", f)
	}
}

func fmtReport(r *Report) string {
	var b strings.Builder
	for _, f := range r.Files {
		b.WriteString(f.Anonymisation)
		for _, fd := range f.Findings {
			b.WriteString(" " + fd.Redacted)
		}
	}
	return b.String()
}

func FuzzAuditLine(f *testing.F) {
	for _, l := range strings.Split(haproxyLines, "\n") {
		f.Add(l)
	}
	f.Add(`{"client_ip":"1.2.3.4","request_date":"2026-01-01T00:00:00.000Z","captured_request_headers":["a"],"http_request":"GET / HTTP/1.1"}`)
	f.Add("x 1.2.3.4:5 [01/Jan/2026:00:00:00.000] fe b/s 1/2/3/4/5 200 1 - - ---- 1/1/1/1/0 0/0 {a|b} {c} \"GET /")
	f.Fuzz(func(t *testing.T, line string) {
		var fr FileReport
		AuditReader(&fr, strings.NewReader(line), AuditOptions{Location: time.UTC})
		if fr.RawAddresses < len(fr.Findings) {
			t.Fatalf("findings %d > raw %d", len(fr.Findings), fr.RawAddresses)
		}
		if l, ok := ParseLine([]byte(line), time.UTC); ok {
			for _, s := range []Span{l.Client, l.Port, l.ReqHeaders, l.ResHeaders, l.Request} {
				if s.Start > s.End || s.End > len(line) {
					t.Fatalf("bad span %+v in %q", s, line)
				}
			}
		}
		// Rewriting never leaves an address the audit calls raw.
		rw, _ := NewRewriter(AnonSpec{Mode: AnonIP, V4Bits: 24, V6Bits: 48})
		out := rw.Line(nil, []byte(line))
		var fr2 FileReport
		AuditReader(&fr2, bytes.NewReader(out), AuditOptions{Location: time.UTC})
		if fr2.RawAddresses != 0 && !strings.ContainsAny(line, "\n\r") {
			t.Fatalf("raw addresses left after rewrite:\n in %q\nout %q\n%+v", line, out, fr2.Findings)
		}
	})
}

// A file with raw addresses but no access-log records is not compliant and
// is not described as anonymised.
func TestAuditRawAddressOutsideRecords(t *testing.T) {
	now := time.Date(2026, 11, 21, 12, 0, 0, 0, time.UTC)
	path := filepath.Join(t.TempDir(), "notes.log")
	writeFile(t, path, "backend went away, client 198.51.100.23 retried\n", now.Add(-time.Hour))
	rep, err := Audit([]string{path}, AuditOptions{Now: now, Location: time.UTC})
	if err != nil {
		t.Fatal(err)
	}
	f := rep.Files[0]
	if rep.Compliant || f.Records != 0 || f.RawAddresses != 1 || f.Anonymisation != "unknown (no access-log records)" {
		t.Errorf("report: %+v", f)
	}
}
