package proxy

import (
	"bufio"
	"errors"
	"fmt"
	"io"
	"net"
	"net/http"
	"os"
	"path"
	"path/filepath"
	"sort"
	"strings"
	"testing"
	"time"

	"github.com/google/go-cmp/cmp"
	"github.com/varde-lb/varde/core/config"
	"github.com/varde-lb/varde/core/testenv"
)

// compDiffConfig exercises the frontend/backend merge: defaults pass the
// type list on, the frontend names the algorithms, backends add offload,
// replace the algorithms (identity, raw-deflate) or the types.
const compDiffConfig = `global
    tune.comp.maxlevel 1
    {{SOCKET}}

defaults
    mode http
    {{LOG}}
    timeout connect 2s
    timeout client 10s
    timeout server 10s
    compression type text/ application/json

frontend web
    bind 127.0.0.1:{{PORT}}
    bind 127.0.0.1:{{H2PORT}} proto h2
    compression algo gzip deflate
    acl off path_beg /off/
    acl id path_beg /id/
    acl raw path_beg /raw/
    acl none path_beg /none/
    use_backend off if off
    use_backend id if id
    use_backend raw if raw
    use_backend none if none
    default_backend app

backend app
    server s1 {{B}}

backend off
    compression offload
    server s1 {{B}}

backend id
    compression algo identity
    server s1 {{B}}

backend raw
    compression algo raw-deflate
    compression type text/plain
    server s1 {{B}}

backend none
    server s1 {{B}}
`

// compDiffResponses are the server's answers by the request path's last
// element; X-Saw-AE (what the server got as Accept-Encoding) is added.
func compDiffResponses() map[string]string {
	html := "Content-Type: text/html; charset=utf-8\r\n"
	status := func(line, extra, body string) string {
		return strings.Replace(clResp(extra, body), "200 OK", line, 1)
	}
	var chunked strings.Builder
	chunked.WriteString("HTTP/1.1 200 OK\r\nContent-Type: text/plain\r\nTransfer-Encoding: chunked\r\n\r\n")
	big := compBody(300 << 10)
	for rest := big; len(rest) > 0; rest = rest[min(len(rest), 9000):] {
		fmt.Fprintf(&chunked, "%x\r\n%s\r\n", min(len(rest), 9000), rest[:min(len(rest), 9000)])
	}
	chunked.WriteString("0\r\n\r\n")
	return map[string]string{
		"plain":     clResp(html+"ETag: \"v1\"\r\nVary: Cookie\r\n", compText),
		"json":      clResp("Content-Type: application/json\r\n", `{"a":"`+compText+`"}`),
		"png":       clResp("Content-Type: image/png\r\n", compText),
		"noct":      clResp("", compText),
		"multipart": clResp("Content-Type: multipart/mixed; boundary=b\r\n", compText),
		"big":       clResp("Content-Type: text/plain\r\n", big),
		"chunked":   chunked.String(),
		"encoded":   clResp(html+"Content-Encoding: br\r\n", compText),
		"notransf":  clResp(html+"Cache-Control: max-age=1, no-transform\r\n", compText),
		"weak":      clResp(html+"ETag: W/\"w\"\r\n", compText),
		"badetag":   clResp(html+"ETag: nope\r\n", compText),
		"twoetags":  clResp(html+"ETag: \"a\"\r\nETag: \"b\"\r\n", compText),
		"empty":     clResp(html, ""),
		"201":       status("201 Created", html, compText),
		"206":       status("206 Partial Content", html, compText),
		"404":       status("404 Not Found", html, compText),
		"204":       "HTTP/1.1 204 No Content\r\n\r\n",
		"http10":    strings.Replace(clResp(html, compText), "HTTP/1.1", "HTTP/1.0", 1),
		"close":     "HTTP/1.1 200 OK\r\n" + html + "Connection: close\r\n\r\n" + compText,
		"trailer":   "HTTP/1.1 200 OK\r\n" + html + "Transfer-Encoding: chunked\r\n\r\n4d\r\n" + compText + "\r\n0\r\nX-Checksum: abc \r\nX-Other:1\r\n\r\n",
	}
}

func startCompDiffBackend(t *testing.T) string {
	resps := compDiffResponses()
	return rawServer(t, func(c net.Conn) {
		br := bufio.NewReader(c)
		for {
			req, err := http.ReadRequest(br)
			if err != nil {
				return
			}
			io.Copy(io.Discard, req.Body)
			r, ok := resps[path.Base(req.URL.Path)]
			if !ok {
				r = resps["404"]
			}
			status, rest, _ := strings.Cut(r, "\r\n")
			saw := strings.Join(req.Header.Values("Accept-Encoding"), "|")
			if _, err := io.WriteString(c, status+"\r\nX-Saw-AE: "+saw+"\r\n"+rest); err != nil {
				return
			}
			if strings.Contains(r, "close") {
				return
			}
		}
	})
}

// compOutcome is what a client sees of one response.
type compOutcome struct {
	Status                     int
	ContentEncoding, Vary      string
	ETag, ContentLength, SawAE string
	Chunked                    bool
	Trailer                    string
	Body                       string // decoded; a hash-like summary for big ones
}

func compDiffRequests() []string {
	var out []string
	for _, p := range []string{"plain", "json", "png", "noct", "multipart", "big", "chunked", "encoded", "notransf", "weak", "badetag", "twoetags", "empty", "201", "206", "404", "204", "http10", "close", "trailer"} {
		out = append(out, "GET /"+p+" HTTP/1.1\r\nHost: x\r\nAccept-Encoding: gzip, deflate\r\n\r\n")
	}
	for _, ae := range []string{"", "deflate", "gzip;q=0", "*", "br", "identity", "deflate;q=0.5, gzip;q=0.4", "GZIP", "x-gzip, gzip;q=0.001", "*;q=0.1, deflate;q=0.2"} {
		h := ""
		if ae != "" {
			h = "Accept-Encoding: " + ae + "\r\n"
		}
		for _, pre := range []string{"", "/off", "/id", "/raw", "/none"} {
			out = append(out, "GET "+pre+"/plain HTTP/1.1\r\nHost: x\r\n"+h+"\r\n")
		}
	}
	out = append(out,
		"GET /raw/json HTTP/1.1\r\nHost: x\r\nAccept-Encoding: deflate\r\n\r\n",
		"GET /raw/chunked HTTP/1.1\r\nHost: x\r\nAccept-Encoding: deflate\r\n\r\n",
		"GET /id/big HTTP/1.1\r\nHost: x\r\n\r\n",
		"GET /off/big HTTP/1.1\r\nHost: x\r\nAccept-Encoding: gzip\r\n\r\n",
		"HEAD /plain HTTP/1.1\r\nHost: x\r\nAccept-Encoding: gzip\r\n\r\n",
		"GET /plain HTTP/1.0\r\nAccept-Encoding: gzip\r\n\r\n",
		"GET /plain HTTP/1.1\r\nHost: x\r\nAccept-Encoding: gzip\r\nUser-Agent: Mozilla/4.0 (compatible; MSIE 5.5; Windows 98)\r\n\r\n",
		"GET /plain HTTP/1.1\r\nHost: x\r\nAccept-Encoding: gzip\r\nUser-Agent: Mozilla/4.0 (compatible; MSIE 7.0; Windows NT 6.0)\r\n\r\n",
		"POST /plain HTTP/1.1\r\nHost: x\r\nAccept-Encoding: gzip\r\nContent-Length: 3\r\n\r\nabc",
	)
	return out
}

func compDiffRun(t *testing.T, addr string, raw string, rawDeflate bool) compOutcome {
	c, err := net.Dial("tcp", addr)
	if err != nil {
		t.Fatal(err)
	}
	defer c.Close()
	method := strings.Fields(raw)[0]
	resp := rawExchange(t, c, bufio.NewReader(c), raw, method)
	b, err := io.ReadAll(resp.Body)
	if err != nil {
		t.Fatalf("%q: body: %v", raw, err)
	}
	o := compOutcome{Status: resp.StatusCode, ContentEncoding: resp.Header.Get("Content-Encoding"),
		Vary: strings.Join(resp.Header.Values("Vary"), ","), ETag: strings.Join(resp.Header.Values("ETag"), ","),
		ContentLength: resp.Header.Get("Content-Length"), SawAE: resp.Header.Get("X-Saw-AE"),
		Chunked: len(resp.TransferEncoding) > 0 && resp.TransferEncoding[0] == "chunked"}
	var tr []string
	for k, v := range resp.Trailer {
		tr = append(tr, k+"="+strings.Join(v, "|"))
	}
	sort.Strings(tr)
	o.Trailer = strings.Join(tr, ";")
	enc := o.ContentEncoding
	if enc == "br" {
		enc = ""
	}
	o.Body = decode(t, enc, rawDeflate, b)
	if len(o.Body) > 200 {
		o.Body = fmt.Sprintf("%d bytes ending %q", len(o.Body), o.Body[len(o.Body)-40:])
	}
	return o
}

// TestCompressionDifferentialHAProxy runs compDiffConfig through Debian's
// HAProxy 2.6 and varde against one backend and compares, request by
// request, the headers that say what was done (Content-Encoding, Vary,
// ETag, Content-Length, chunking), what the server was sent as
// Accept-Encoding, and the decoded body. Compressed bytes are not compared:
// HAProxy uses libslz, varde klauspost/compress.
func TestCompressionDifferentialHAProxy(t *testing.T) {
	testenv.LookTool(t, "haproxy", "haproxy") // skip early without HAProxy
	baddr := startCompDiffBackend(t)
	dir := t.TempDir()
	sock := filepath.Join(dir, "h.sock")
	hport, h2port, vport, vh2port := testenv.FreePort(t), testenv.FreePort(t), testenv.FreePort(t), testenv.FreePort(t)
	render := func(port, h2 int, socket string) string {
		s := strings.ReplaceAll(compDiffConfig, "{{PORT}}", fmt.Sprint(port))
		s = strings.ReplaceAll(s, "{{H2PORT}}", fmt.Sprint(h2))
		s = strings.ReplaceAll(s, "{{SOCKET}}", socket)
		if socket != "" { // HAProxy: log %B to stdout
			s = strings.ReplaceAll(s, "{{LOG}}", "log stdout format raw local0\n    log-format \"%ST %B\"\n    option dontlognull")
		}
		s = strings.ReplaceAll(s, "{{LOG}}", "")
		return strings.ReplaceAll(s, "{{B}}", baddr)
	}
	_, hlog := startHAProxyText(t, render(hport, h2port, "stats socket "+sock+" level admin"))
	haddr := fmt.Sprintf("127.0.0.1:%d", hport)
	testenv.WaitTCP(t, haddr, 10*time.Second)

	vcfg := filepath.Join(dir, "varde.cfg")
	os.WriteFile(vcfg, []byte(render(vport, vh2port, "")), 0o644)
	set, d := config.LoadFiles([]string{vcfg}, nil)
	if d.HasErrors() {
		t.Fatal(d.Err())
	}
	pcfg, err := FromConfig(set.HAProxy)
	if err != nil {
		t.Fatal(err)
	}
	sink := &recSink{}
	pcfg.Sink = sink
	e, _ := startEngine(t, pcfg)
	vaddr := fmt.Sprintf("127.0.0.1:%d", vport)

	compressed := 0
	for _, raw := range compDiffRequests() {
		rawDeflate := strings.Contains(raw, " /raw/")
		h := compDiffRun(t, haddr, raw, rawDeflate)
		v := compDiffRun(t, vaddr, raw, rawDeflate)
		if diff := cmp.Diff(h, v); diff != "" {
			t.Errorf("%q (-haproxy +varde)\n%s", strings.SplitN(raw, "\r\n", 2)[0]+" "+strings.ReplaceAll(raw[strings.Index(raw, "\r\n")+2:], "\r\n", " | "), diff)
		}
		if h.ContentEncoding != "" && h.ContentEncoding != "br" {
			compressed++
		}
	}
	t.Logf("%d requests, %d compressed by both", len(compDiffRequests()), compressed)
	testenv.WaitTCP(t, fmt.Sprintf("127.0.0.1:%d", h2port), 10*time.Second)
	compDiffH2(t, fmt.Sprintf("127.0.0.1:%d", h2port), fmt.Sprintf("127.0.0.1:%d", vh2port))
	compareCompCounters(t, sock, e)
	compareBytesOut(t, hlog, sink)
	if compressed < 10 {
		t.Fatalf("only %d responses compressed by HAProxy: the table tests little", compressed)
	}
}

// compareCompCounters compares HAProxy's comp_in, comp_byp and comp_rsp
// (show stat) with varde's for the frontend and every backend; comp_out
// depends on the compressor, so only whether it is 0 is compared.
func compareCompCounters(t *testing.T, sock string, e *Engine) {
	c, err := net.Dial("unix", sock)
	if err != nil {
		t.Fatal(err)
	}
	defer c.Close()
	c.SetDeadline(time.Now().Add(5 * time.Second))
	io.WriteString(c, "show stat\n")
	csv, _ := io.ReadAll(c)
	lines := strings.Split(strings.TrimPrefix(string(csv), "# "), "\n")
	cols := map[string]int{}
	for i, name := range strings.Split(lines[0], ",") {
		cols[name] = i
	}
	type comp struct {
		In, Byp, Rsp uint64
		Out          bool
	}
	got := map[string][2]comp{}
	for _, l := range lines[1:] {
		f := strings.Split(l, ",")
		if len(f) < 10 || (f[1] != "FRONTEND" && f[1] != "BACKEND") {
			continue
		}
		num := func(col string) uint64 {
			var n uint64
			fmt.Sscan(f[cols[col]], &n)
			return n
		}
		h := comp{num("comp_in"), num("comp_byp"), num("comp_rsp"), num("comp_out") > 0}
		var m *Counters
		if f[1] == "FRONTEND" {
			m = &e.frontends[0].Counters
		} else if b := e.Backend(f[0]); b != nil {
			m = &b.Counters
		} else {
			continue
		}
		// varde counts just after the last byte left; the comparison
		// below tells what is missing after 2 s.
		testenv.Until(2*time.Second, 5*time.Millisecond, func() error {
			if m.Meters.CompRsp.Load() < h.Rsp {
				return errors.New("comp_rsp behind")
			}
			return nil
		})
		v := comp{m.Meters.CompIn.Load(), m.Meters.CompByp.Load(), m.Meters.CompRsp.Load(), m.Meters.CompOut.Load() > 0}
		got[f[0]+"/"+f[1]] = [2]comp{h, v}
	}
	if len(got) != 6 {
		t.Fatalf("show stat rows: %v\n%s", got, csv)
	}
	for k, hv := range got {
		if hv[0] != hv[1] {
			t.Errorf("%s counters: haproxy %+v, varde %+v", k, hv[0], hv[1])
		}
	}
}

// compDiffH2 compares HTTP/2 clients' responses (x/net/http2 with prior
// knowledge; Accept-Encoding set by hand so the transport does not decode).
func compDiffH2(t *testing.T, haddr, vaddr string) {
	c := h2Client(t)
	get := func(addr, method, path, ae string) compOutcome {
		req, _ := http.NewRequest(method, "http://"+addr+path, nil)
		if ae != "" {
			req.Header.Set("Accept-Encoding", ae)
		}
		resp, err := c.Do(req)
		if err != nil {
			t.Fatalf("h2 %s %s: %v", method, path, err)
		}
		defer resp.Body.Close()
		b, err := io.ReadAll(resp.Body)
		if err != nil {
			t.Fatalf("h2 %s %s: body: %v", method, path, err)
		}
		o := compOutcome{Status: resp.StatusCode, ContentEncoding: resp.Header.Get("Content-Encoding"),
			Vary: strings.Join(resp.Header.Values("Vary"), ","), ETag: resp.Header.Get("ETag"),
			ContentLength: resp.Header.Get("Content-Length"), SawAE: resp.Header.Get("X-Saw-AE")}
		enc := o.ContentEncoding
		if enc == "br" {
			enc = ""
		}
		o.Body = decode(t, enc, strings.HasPrefix(path, "/raw/"), b)
		if len(o.Body) > 200 {
			o.Body = fmt.Sprintf("%d bytes ending %q", len(o.Body), o.Body[len(o.Body)-40:])
		}
		return o
	}
	for _, r := range []struct{ method, path, ae string }{
		{"GET", "/plain", "gzip"}, {"GET", "/plain", "deflate"}, {"GET", "/plain", ""}, {"GET", "/big", "gzip"},
		{"GET", "/chunked", "gzip"}, {"GET", "/raw/chunked", "deflate"}, {"GET", "/id/plain", ""}, {"GET", "/off/plain", "gzip"},
		{"GET", "/204", "gzip"}, {"GET", "/png", "gzip"}, {"HEAD", "/plain", "gzip"}, {"GET", "/empty", "gzip"},
	} {
		h, v := get(haddr, r.method, r.path, r.ae), get(vaddr, r.method, r.path, r.ae)
		if diff := cmp.Diff(h, v); diff != "" {
			t.Errorf("h2 %s %s Accept-Encoding %q (-haproxy +varde)\n%s", r.method, r.path, r.ae, diff)
		}
	}
}

// compareBytesOut compares HAProxy's logged "%ST %B" with varde's records
// as sorted lists: a record is written just after its response went out,
// so the next transaction's record may come first.
func compareBytesOut(t *testing.T, hlog string, sink *recSink) {
	var h, v []string
	// Until both sides logged as many lines; the comparison below tells
	// what differs after 2 s.
	testenv.Until(2*time.Second, 5*time.Millisecond, func() error {
		b, _ := os.ReadFile(hlog)
		h = h[:0]
		for _, l := range strings.Split(string(b), "\n") {
			if f := strings.Fields(l); len(f) == 2 && len(f[0]) == 3 {
				h = append(h, l)
			}
		}
		v = v[:0]
		for _, r := range sink.all() {
			v = append(v, fmt.Sprintf("%d %d", r.Status, r.BytesOut))
		}
		if len(h) > 0 && len(h) == len(v) {
			return nil
		}
		return fmt.Errorf("%d lines from haproxy, %d from varde", len(h), len(v))
	})
	sort.Strings(h)
	sort.Strings(v)
	if d := cmp.Diff(h, v); d != "" {
		t.Errorf("logged status and %%B differ (-haproxy +varde)\n%s", d)
	}
}
