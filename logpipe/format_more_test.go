package logpipe

import (
	"context"
	"fmt"
	"strings"
	"testing"
	"time"

	"github.com/varde-lb/varde/core/logrec"
)

// HAProxy 2.6's other variables and flags, rendered as its log.c does.
func TestMoreVariables(t *testing.T) {
	base := docRecord() // 06/Feb/2009:12:14:14.655 UTC, 10.0.1.2:33317, TR 10 Tw 0 Tc 30 Tr 69 Ta 109
	base.Tt = -1        // as the engine leaves it for HTTP
	q := docRecord()
	q.RequestLine.Set([]byte("GET /a/b.html?x=1&y=[2] HTTP/1.1"))
	abs := docRecord()
	abs.RequestLine.Set([]byte("GET http://shop.example:8080/p/q?z HTTP/1.1"))
	bad := docRecord()
	bad.RequestLine = logrec.Line{}
	tcp := docRecord()
	tcp.Mode, tcp.Tt, tcp.Tw, tcp.Tc = logrec.ModeTCP, 500, 2, 3
	tests := []struct {
		format string
		r      *logrec.Record
		want   string
	}{
		{"%HPO|%HQ", q, "/a/b.html|?x=1&y=[2]"},
		{"%HPO|%HQ|", base, "/index.html||"},
		{"%HPO %HQ", abs, "/p/q ?z"},
		{"%HPO %HQ", bad, "<BADREQ> <BADREQ>"},
		{"%ID %{+Q}ID", base, `- ""`},
		{"%Tt %Tu %Td", base, "109 109 0"},
		{"%Tt %Td", tcp, "500 495"},
		{"%Tl %trl", base, "06/Feb/2009:12:14:14 +0000 06/Feb/2009:12:14:14 +0000"},
		{"%{+X}ci:%{+X}cp %{+X}Ts", base, fmt.Sprintf("0A000102:8225 %08X", base.Accept/1e9)},
		{"%{+X}o %ci %cp %{-X}cp", base, "0A000102 8225 33317"},
		{"%{+X}si %{+X}fp", base, "- -"},
		{"%lc %{+X}lc", base, "0 0000"},
		{`%{+E}HQ`, q, `?x=1&y=[2\]`},
		{`%{+Q,+E}r`, q, `"GET /a/b.html?x=1&y=[2\] HTTP/1.1"`},
	}
	for _, tt := range tests {
		if got := enc(t, EncoderConfig{Format: tt.format}, tt.r); got != tt.want {
			t.Errorf("%s:\n got %q\nwant %q", tt.format, got, tt.want)
		}
	}
	// Anonymised in hexadecimal: the masked address, or the pseudonym.
	if got := enc(t, EncoderConfig{Format: "%{+X}ci", Anon: AnonSpec{Mode: AnonIP, V4Bits: 24, V6Bits: 48}}, base); got != "0A000100" {
		t.Errorf("+X anonymised: %q", got)
	}
}

// Unknown variables are refused, never logged empty or wrong; names are
// read whole, as in HAProxy.
func TestUnsupportedVariables(t *testing.T) {
	for f, want := range map[string]string{
		"%bix":       "unknown variable %bix",
		"%HUx":       "unknown variable %HUx",
		"%ci:%cp%Tz": "unknown variable %Tz",
	} {
		if _, err := CompileFormat(f); err == nil || !strings.Contains(err.Error(), want) {
			t.Errorf("%s: %v, want %q", f, err, want)
		}
	}
	if _, err := CompileFormat("%ci:%cp [%tr] %{+Q}r%%"); err != nil {
		t.Error(err)
	}
}

// %lc counts the frontend's logs, after dontlognull, from 0.
func TestLogCounter(t *testing.T) {
	m := &memSink{frame: FrameNewline}
	ts := newMem(t, m)
	p, err := NewFromSpecs([]ProxySpec{{Name: "http-in", Format: "%lc %rt %HP", DontLogNull: true, Targets: []TargetSpec{ts}}},
		Options{Batch: 1, Location: time.UTC}, nil)
	if err != nil {
		t.Fatal(err)
	}
	p.Start()
	null := docRecord()
	null.RequestLine, null.BytesIn = logrec.Line{}, 0
	p.Log(testRecord(0))
	p.Log(null)
	p.Log(testRecord(1))
	p.Close(context.Background())
	if lines, _ := m.snapshot(); strings.Join(lines, ",") != "0 0 /r/0,1 1 /r/1" { // a silent connection takes no number
		t.Errorf("got %q", lines)
	}
}

// A proxy's log-tag replaces the global one in its messages' headers.
func TestProxyLogTag(t *testing.T) {
	m := &memSink{frame: FrameNewline}
	ts := newMem(t, m)
	ts.Format = FormatLocal
	p, err := NewFromSpecs([]ProxySpec{{Name: "web", Format: "%HP", Tag: "webtag", Targets: []TargetSpec{ts}},
		{Name: "api", Format: "%HP", Targets: []TargetSpec{ts}}}, Options{Batch: 1, Location: time.UTC, Tag: "haproxy", PID: 7}, nil)
	if err != nil {
		t.Fatal(err)
	}
	p.Start()
	r := testRecord(1)
	r.Frontend = "web"
	p.Log(r)
	r.Frontend = "api"
	p.Log(r)
	p.Close(context.Background())
	lines, _ := m.snapshot()
	if len(lines) != 2 || !strings.HasSuffix(lines[0], " webtag[7]: /r/1") || !strings.HasSuffix(lines[1], " haproxy[7]: /r/1") {
		t.Errorf("got %q", lines)
	}
}
