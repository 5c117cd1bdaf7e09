package logpipe

import (
	"bytes"
	"encoding/json"
	"net/netip"
	"testing"
	"time"

	"github.com/google/go-cmp/cmp"
	"github.com/varde-lb/varde/core/logrec"
)

// docRecord is the request of HAProxy's httplog example (configuration.txt
// §8.2.3).
func docRecord() *logrec.Record {
	r := &logrec.Record{}
	r.Reset()
	r.Mode = logrec.ModeHTTP
	acc := time.Date(2009, 2, 6, 12, 14, 14, 655e6, time.UTC).UnixNano()
	r.Accept, r.Request = acc, acc
	r.Client = netip.MustParseAddrPort("10.0.1.2:33317")
	r.Frontend, r.Backend, r.Server = "http-in", "static", "srv1"
	r.TR, r.Tw, r.Tc, r.Tr, r.Ta = 10, 0, 30, 69, 109
	r.Tt = 109
	r.Status, r.BytesOut, r.BytesIn = 200, 2750, 120
	r.ActConn, r.FeConn, r.BeConn, r.SrvConn = 1, 1, 1, 1
	r.ReqHeaders.Add([]byte("1wt.eu"), 0)
	r.ResHeaders.Add(nil, 0)
	r.RequestLine.Set([]byte("GET /index.html HTTP/1.1"))
	return r
}

func enc(t testing.TB, cfg EncoderConfig, r *logrec.Record) string {
	t.Helper()
	if cfg.Location == nil {
		cfg.Location = time.UTC
	}
	e, err := NewEncoder(cfg)
	if err != nil {
		t.Fatal(err)
	}
	return string(e.Append(nil, r))
}

func TestGoldenLines(t *testing.T) {
	noCap := docRecord()
	noCap.ReqHeaders, noCap.ResHeaders = logrec.Captures{}, logrec.Captures{}
	tcp := docRecord()
	tcp.Mode = logrec.ModeTCP
	tcp.Backend, tcp.Server = "", ""
	tcp.Tw, tcp.Tc, tcp.Tt = -1, -1, 5
	tcp.SetTerm(logrec.TermClientAbort, logrec.StateConnect)
	weird := docRecord()
	weird.RequestLine.Set([]byte("GET /a\"b#c\x01\xff HTTP/1.1"))
	weird.ReqHeaders = logrec.Captures{}
	weird.ReqHeaders.Add([]byte("a|b{c}\"d"), 0)
	weird.ReqCookie.Set([]byte("SRV=s1"))
	weird.Redispatched, weird.Retries = true, 1
	weird.TLS = true
	bad := docRecord()
	bad.RequestLine = logrec.Line{}
	bad.Server = ""
	bad.Status = 400
	bad.SetTerm(logrec.TermProxy, logrec.StateRequest)
	// Captured from haproxy 2.6 (log stdout format raw) for the same request.
	esc := docRecord()
	esc.ReqHeaders, esc.ResHeaders = logrec.Captures{}, logrec.Captures{}
	esc.ReqHeaders.Add([]byte("a|b{c}\"d#e\x01f\xc3\xa9"), 0)
	esc.ResHeaders.Add([]byte("a"), 0)
	esc.RequestLine.Set([]byte(`GET /a?q="x"&h=%23y HTTP/1.1`))
	v6 := docRecord()
	v6.Client = netip.MustParseAddrPort("[2001:db8:1:2::5]:4433")

	tests := []struct {
		name string
		cfg  EncoderConfig
		r    *logrec.Record
		want string
	}{
		{"httplog doc example", EncoderConfig{Format: "httplog"}, docRecord(),
			`10.0.1.2:33317 [06/Feb/2009:12:14:14.655] http-in static/srv1 10/0/30/69/109 200 2750 - - ---- 1/1/1/1/0 0/0 {1wt.eu} {} "GET /index.html HTTP/1.1"`},
		{"httplog without captures", EncoderConfig{Format: "httplog"}, noCap,
			`10.0.1.2:33317 [06/Feb/2009:12:14:14.655] http-in static/srv1 10/0/30/69/109 200 2750 - - ---- 1/1/1/1/0 0/0 "GET /index.html HTTP/1.1"`},
		{"tcplog", EncoderConfig{Format: "tcplog"}, tcp,
			`10.0.1.2:33317 [06/Feb/2009:12:14:14.655] http-in http-in/<NOSRV> -1/-1/5 2750 CC 1/1/1/1/0 0/0`},
		{"escaping, tls, redispatch", EncoderConfig{Format: "httplog"}, weird,
			`10.0.1.2:33317 [06/Feb/2009:12:14:14.655] http-in~ static/srv1 10/0/30/69/109 200 2750 SRV=s1 - ---- 1/1/1/1/+1 0/0 {a#7Cb#7Bc#7D#22d} {} "GET /a#22b#23c#01#FF HTTP/1.1"`},
		{"escaping as haproxy 2.6 writes it", EncoderConfig{Format: "httplog"}, esc,
			`10.0.1.2:33317 [06/Feb/2009:12:14:14.655] http-in static/srv1 10/0/30/69/109 200 2750 - - ---- 1/1/1/1/0 0/0 {a#7Cb#7Bc#7D#22d#23e#01f#C3#A9} {a} "GET /a?q=#22x#22&h=%23y HTTP/1.1"`},
		{"bad request", EncoderConfig{Format: "httplog"}, bad,
			`10.0.1.2:33317 [06/Feb/2009:12:14:14.655] http-in static/<NOSRV> 10/0/30/69/109 400 2750 - - PR-- 1/1/1/1/0 0/0 {1wt.eu} {} "<BADREQ>"`},
		{"anonymize ip 24,48", EncoderConfig{Format: "httplog", Anon: AnonSpec{Mode: AnonIP, V4Bits: 24, V6Bits: 48}}, docRecord(),
			`10.0.1.0:33317 [06/Feb/2009:12:14:14.655] http-in static/srv1 10/0/30/69/109 200 2750 - - ---- 1/1/1/1/0 0/0 {1wt.eu} {} "GET /index.html HTTP/1.1"`},
		{"ipv6 anonymized", EncoderConfig{Format: "%ci %cp", Anon: AnonSpec{Mode: AnonIP, V4Bits: 24, V6Bits: 48}}, v6,
			`2001:db8:1:: 4433`},
		{"log-format", EncoderConfig{Format: `%{+Q}o %ci - %HM %HP %HV %ST %Ts.%ms %%`}, docRecord(),
			`"10.0.1.2" - "GET" "/index.html" "HTTP/1.1" 200 1233922454.655 %`},
		{"log-format separators collapse", EncoderConfig{Format: "%ci   %hs  %ST"}, noCap, `10.0.1.2 200`},
		{"haproxy's ipmask idiom", EncoderConfig{Format: "%[src,ipmask(24,64)]:%cp %[src,ipmask(255.255.0.0)] %{+Q}[fe_name] %[srv_name]"}, docRecord(),
			`10.0.1.0:33317 10.0.0.0 "http-in" srv1`},
		{"ipmask without mask6 on IPv6", EncoderConfig{Format: "%[src,ipmask(24)] %[src,ipmask(24,48)] %[src]"}, v6,
			`- 2001:db8:1:: 2001:db8:1:2::5`},
		{"log-time fetches and converters", EncoderConfig{Format: "%[req.hdr(host),upper] %[capture.req.hdr(0)] %[req.hdr(user-agent)] %[method] %[path,word(1,/)] %[query] %[status,add(1)] %[srv_id] %[be_name]/%[srv_name] %[fe_name,json] %[url,regsub('[.]html$','')]",
			ReqCaptures: []string{"Host"}, ServerIDs: map[string]int{"static/srv1": 3}}, docRecord(),
			`1WT.EU 1wt.eu - GET index.html - 201 3 static/srv1 http-in /index`},
		{"log-time text is escaped", EncoderConfig{Format: "%[capture.req.hdr(0)]"}, esc, `a#7Cb#7Bc#7D#22d#23e#01f#C3#A9`},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			if diff := cmp.Diff(tt.want, enc(t, tt.cfg, tt.r)); diff != "" {
				t.Errorf("(-want +got)\n%s", diff)
			}
		})
	}
}

func TestJSONLog(t *testing.T) {
	r := docRecord()
	r.ReqHeaders = logrec.Captures{}
	r.ReqHeaders.Add([]byte("203.0.113.9, 10.1.2.3"), 0)
	r.RequestLine.Set([]byte("GET /\xff\"x HTTP/1.1"))
	line := enc(t, EncoderConfig{Format: "jsonlog", ReqCaptures: []string{"X-Forwarded-For"},
		Anon: AnonSpec{Mode: AnonIP, V4Bits: 24, V6Bits: 48}}, r)
	var got map[string]any
	if err := json.Unmarshal([]byte(line), &got); err != nil {
		t.Fatalf("not JSON: %v\n%s", err, line)
	}
	want := map[string]any{
		"client_ip": "10.0.1.0", "client_port": 33317.0, "request_date": "2009-02-06T12:14:14.655Z",
		"frontend": "http-in", "backend": "static", "server": "srv1",
		"TR": 10.0, "Tw": 0.0, "Tc": 30.0, "Tr": 69.0, "Ta": 109.0, "status": 200.0,
		"bytes_read": 2750.0, "bytes_uploaded": 120.0, "captured_request_cookie": nil, "captured_response_cookie": nil,
		"termination_state": "----", "actconn": 1.0, "feconn": 1.0, "beconn": 1.0, "srv_conn": 1.0,
		"retries": 0.0, "srv_queue": 0.0, "backend_queue": 0.0,
		"captured_request_headers":  []any{"203.0.113.0, 10.1.2.0"},
		"captured_response_headers": []any{""},
		"http_request":              "GET /\ufffd\"x HTTP/1.1",
	}
	if diff := cmp.Diff(want, got); diff != "" {
		t.Errorf("(-want +got)\n%s", diff)
	}
}

func TestCompileFormatErrors(t *testing.T) {
	for f, want := range map[string]string{
		"%[req.hdrx(host)]": `log-format: %[ at offset 0: unknown fetch "req.hdrx" (hint: did you mean "req.hdr"?)`,
		"x %[src,lowr]":     `log-format: %[ at offset 2: unknown converter "lowr" (hint: did you mean "lower"?)`,
		"%[src,ipmask(33)]": `log-format: %[ at offset 0: ipmask: mask "33": want a prefix length 0..32 or a contiguous mask`,
		"%[src":             `log-format: %[ at offset 0: missing ']' after "src"`,
		"%[src x]":          `log-format: %[ at offset 0: missing ']' after "src"`,
		"%{+Z}ci":           `log-format: unknown flag "+Z" at offset 1`,
		"%nosuchvar":        `log-format: unknown variable %nosuchvar at offset 0`,
		"%{+Q":              `log-format: unterminated %{ at offset 0`,
	} {
		if _, err := CompileFormat(f); err == nil || err.Error() != want {
			t.Errorf("CompileFormat(%q) = %v, want %s", f, err, want)
		}
	}
}

func TestSyslogHeaders(t *testing.T) {
	now := time.Date(2026, 11, 1, 9, 5, 7, 123456000, time.UTC)
	tests := []struct {
		f    SyslogFormat
		want string
	}{
		{FormatRaw, ""},
		{FormatLocal, "<134>Nov  1 09:05:07 varde[42]: "},
		{FormatRFC3164, "<134>Nov  1 09:05:07 lb1 varde[42]: "},
		{FormatRFC5424, "<134>1 2026-11-01T09:05:07.123456+00:00 lb1 varde 42 - - "},
		{FormatShort, "<6>"},
		{FormatPriority, "<134>"},
		{FormatTimed, "<6>2026-11-01T09:05:07.123456+00:00 "},
		{FormatISO, "2026-11-01T09:05:07.123456+00:00 "},
	}
	for _, tt := range tests {
		fr := framer{format: tt.f, pri: 16*8 + 6, host: "lb1", tag: "varde", pid: 42}
		if got := string(fr.appendHeader(nil, now, time.UTC)); got != tt.want {
			t.Errorf("%v: got %q, want %q", tt.f, got, tt.want)
		}
	}
}

func TestParseLogLine(t *testing.T) {
	got, err := ParseLogLine([]string{"file@/var/log/varde/access.log", "format", "raw", "anonymize", "ip", "24,48",
		"retention", "7d", "rotate", "100M", "keep", "5", "compress", "rotate-every", "1d", "local0", "info"})
	if err != nil {
		t.Fatal(err)
	}
	want := TargetSpec{Scheme: "file", Address: "/var/log/varde/access.log", Raw: "file@/var/log/varde/access.log",
		Format: FormatRaw, Facility: 16, Level: 6, Anon: AnonSpec{Mode: AnonIP, V4Bits: 24, V6Bits: 48, PII: PIISpec{Classes: PIIDetected, Params: DefaultAuditParams}},
		Retention: 7 * 24 * time.Hour, RotateSize: 100 << 20, Keep: 5, Compress: true, RotateEvery: 24 * time.Hour}
	if diff := cmp.Diff(want, got); diff != "" {
		t.Errorf("(-want +got)\n%s", diff)
	}
	for _, bad := range [][]string{{}, {"127.0.0.1"}, {"x@y", "local0"}, {"127.0.0.1", "len", "5", "local0"},
		{"127.0.0.1", "anonymize", "ip", "33,48", "local0"}, {"127.0.0.1", "nosuch"},
		{"127.0.0.1", "anonymize", "pii", "email,ssn", "local0"}, {"127.0.0.1", "anonymize", "mask", "blur", "local0"},
		{"127.0.0.1", "anonymize", "ip", "24,48", "anonymize", "mask", "hash", "local0"},
		{"127.0.0.1", "anonymize", "mask", "drop,hash", "local0"}, {"127.0.0.1", "anonymize", "params", "a=b", "local0"},
		{"127.0.0.1", "anonymize", "ip", "24,48", "anonymize", "none", "local0"}} {
		if _, err := ParseLogLine(bad); err == nil {
			t.Errorf("ParseLogLine(%q) succeeded", bad)
		}
	}
	if ts, _ := ParseLogLine([]string{"127.0.0.1", "local1", "notice"}); ts.Address != "127.0.0.1:514" || ts.Level != 5 || ts.Scheme != "udp" {
		t.Errorf("udp default port/level: %+v", ts)
	}
}

// FuzzEncodeAnonymised: whatever the client sends, an anonymised httplog
// or JSON line is one line, parses back, and holds no raw address.
func FuzzEncodeAnonymised(f *testing.F) {
	f.Add([]byte("GET /?x=1.2.3.4 HTTP/1.1"), []byte("203.0.113.9, [2001:db8::1]:80"), []byte("ref 10.0.0.1"), []byte{192, 0, 2, 7})
	f.Add([]byte("\"\x01.2.3.4"), []byte("#22.1.2.3"), []byte("}|{"), []byte{1, 2, 3, 4, 5, 6, 7, 8, 9, 10, 11, 12, 13, 14, 15, 16})
	f.Fuzz(func(t *testing.T, req, xff, other, ipb []byte) {
		r := docRecord()
		r.RequestLine.Set(req)
		r.ReqHeaders = logrec.Captures{}
		r.ReqHeaders.Add(xff, 0)
		r.ReqHeaders.Add(other, 0)
		if a, ok := netip.AddrFromSlice(ipb); ok {
			r.Client = netip.AddrPortFrom(a, 1234)
		}
		anon := AnonSpec{Mode: AnonIP, V4Bits: 24, V6Bits: 48}
		for _, format := range []string{"httplog", "jsonlog"} {
			e, err := NewEncoder(EncoderConfig{Format: format, Anon: anon, Location: time.UTC,
				ReqCaptures: []string{"X-Forwarded-For", "Referer"}})
			if err != nil {
				t.Fatal(err)
			}
			line := e.Append(nil, r)
			if bytes.ContainsAny(line, "\n\r") {
				t.Fatalf("%s: multi-line output %q", format, line)
			}
			if format == "httplog" && r.Client.IsValid() {
				if _, ok := ParseLine(line, time.UTC); !ok {
					t.Fatalf("httplog output does not parse back: %q", line)
				}
			}
			if format == "jsonlog" && !json.Valid(line) {
				t.Fatalf("invalid JSON %q", line)
			}
			var fr FileReport
			AuditReader(&fr, bytes.NewReader(line), AuditOptions{Location: time.UTC})
			if fr.RawAddresses != 0 {
				t.Fatalf("%s: raw address left in %q: %+v", format, line, fr.Findings)
			}
		}
	})
}

// FuzzHTTPLogFastPath: the hand-written httplog encoder and the compiled
// HTTPLogFormat write the same bytes.
func FuzzHTTPLogFastPath(f *testing.F) {
	f.Add([]byte("GET / HTTP/1.1"), []byte("h"), int32(5), int64(1234567), int32(-1), true, uint8(2))
	f.Add([]byte(""), []byte(""), int32(1000), int64(-5), int32(999), false, uint8(0))
	f.Fuzz(func(t *testing.T, req, hdr []byte, timer int32, bytesOut int64, status int32, flag bool, ncap uint8) {
		r := docRecord()
		r.RequestLine.Set(req)
		r.ReqHeaders, r.ResHeaders = logrec.Captures{}, logrec.Captures{}
		for i := 0; i < int(ncap%4); i++ {
			r.ReqHeaders.Add(hdr, 0)
		}
		if ncap%3 == 1 {
			r.ResHeaders.Add(hdr, 0)
		}
		r.TR, r.Tw, r.Ta, r.Retries, r.SrvQueue = timer, -timer, timer/7, timer%5, timer%1001
		r.BytesOut, r.Status = bytesOut, status
		r.TLS, r.Redispatched = flag, !flag
		if flag {
			r.Backend, r.Server = "", ""
			r.ReqCookie.Set(hdr)
		}
		if ncap%5 == 4 {
			r.Client = netip.AddrPort{}
		}
		for _, anon := range []AnonSpec{{}, {Mode: AnonIP, V4Bits: 24, V6Bits: 48}} {
			fast, _ := CompileFormat(HTTPLogFormat)
			slow, _ := CompileFormat(HTTPLogFormat)
			slow.fast = false
			c := &encodeCtx{anon: newAnonymizer(anon, nil), loc: time.UTC, dates: &dateCache{}}
			a := string(fast.appendRecord(nil, r, c))
			b := string(slow.appendRecord(nil, r, c))
			if a != b {
				t.Fatalf("fast path differs:\nfast %q\nslow %q", a, b)
			}
		}
	})
}

func TestSampleFormatAllocs(t *testing.T) {
	e, err := NewEncoder(EncoderConfig{Format: "%[req.hdr(host),lower] %[src,ipmask(24)] %[status] %[path,regsub(q,y)]", ReqCaptures: []string{"host"}, Location: time.UTC})
	if err != nil {
		t.Fatal(err)
	}
	r := docRecord()
	buf := e.Append(nil, r)
	if string(buf) != "1wt.eu 10.0.1.0 200 /index.html" {
		t.Fatalf("got %q", buf)
	}
	if n := testing.AllocsPerRun(200, func() { buf = e.Append(buf[:0], r) }); n != 0 && !raceEnabled {
		t.Errorf("%v allocations per record, want 0", n)
	}
}
