// Package http is the `option httpchk` probe: it sends one HTTP request
// (method, URI, version, headers and body from `option httpchk` and
// `http-check send`) and judges the response with `http-check expect`
// rules; without rules any 2xx or 3xx status passes, as in HAProxy.
package http

import (
	"bytes"
	"context"
	"fmt"
	"io"
	"regexp"
	"strconv"
	"strings"
	"time"

	"github.com/varde-lb/varde/core"
	"github.com/varde-lb/varde/core/health"
	"github.com/varde-lb/varde/plugins/check/tcp"
)

func init() {
	health.RegisterProbeType(health.ProbeType{Name: "http", Option: "httpchk", Parse: parse})
}

// parse compiles the check once to validate it (core/config runs this when
// the configuration is checked); every server then shares the compiled,
// read-only request and rules.
func parse(spec health.ProbeSpec) (health.BuildProbe, error) {
	p, err := New(spec.HTTP)
	if err != nil {
		return nil, err
	}
	return func() health.Probe { return p }, nil
}

// maxResponse is HAProxy's tune.chksize default: what a check reads at most.
const maxResponse = 16384

type rule struct {
	health.Expect
	re *regexp.Regexp
}

// Probe is a compiled HTTP check.
type Probe struct {
	connect *health.TCPCheckRule // http-check connect, nil: the check address
	req     []byte
	dyn     *dynReq // log-format parts and variables (vars.go), nil: none
	rules   []rule
	body    bool // some rule looks at the body
}

var _ health.Probe = (*Probe)(nil)

// New compiles spec: it builds the request bytes once and compiles regexes.
func New(spec health.HTTPSpec) (*Probe, error) {
	p := &Probe{}
	for _, e := range spec.Expect {
		r := rule{Expect: e}
		switch e.Kind {
		case "status":
		case "rstatus", "rstring":
			re, err := regexp.Compile(e.Pattern)
			if err != nil {
				return nil, core.ArgErrorf(-1, "a regular expression in Go's RE2 syntax (no backreferences or lookarounds)", "http-check expect %s %q: %v", e.Kind, e.Pattern, err)
			}
			r.re = re
		case "string":
		default:
			return nil, core.ArgErrorf(-1, "status, rstatus, string or rstring", "http-check expect %q is not supported by the http probe", e.Kind)
		}
		if e.Kind == "string" || e.Kind == "rstring" {
			p.body = true
		}
		p.rules = append(p.rules, r)
	}
	p.body = p.body || spec.KeepBody
	p.req = BuildRequest(spec)
	p.connect = spec.Connect
	var err error
	if p.dyn, err = compileDyn(spec); err != nil {
		return nil, err
	}
	return p, nil
}

// BuildRequest renders the check request. HAProxy's legacy form
// `option httpchk GET /x HTTP/1.1\r\nHost:\ example.com` puts headers in the
// version field; they are written through as given.
func BuildRequest(spec health.HTTPSpec) []byte {
	m, u, v := spec.Method, spec.URI, spec.Version
	if m == "" {
		m = "OPTIONS"
	}
	if u == "" {
		u = "/"
	}
	if v == "" {
		v = "HTTP/1.0"
	}
	var b bytes.Buffer
	fmt.Fprintf(&b, "%s %s %s\r\n", m, u, strings.ReplaceAll(v, `\r\n`, "\r\n"))
	hasConn := strings.Contains(strings.ToLower(v), "\nconnection:")
	for _, h := range spec.Headers {
		if strings.EqualFold(h[0], "connection") {
			hasConn = true
		}
		fmt.Fprintf(&b, "%s: %s\r\n", h[0], h[1])
	}
	if !hasConn {
		b.WriteString("Connection: close\r\n")
	}
	if spec.Body != "" {
		fmt.Fprintf(&b, "Content-Length: %d\r\n", len(spec.Body))
	}
	b.WriteString("\r\n")
	b.WriteString(spec.Body)
	return b.Bytes()
}

// Check implements health.Probe.
func (p *Probe) Check(ctx context.Context, t health.Target) core.CheckResult {
	start := time.Now()
	if p.connect != nil {
		t = p.connect.ConnectTarget(t, nil)
	}
	c, res := tcp.Dial(ctx, t)
	if c == nil {
		res.Duration = time.Since(start)
		return res
	}
	defer c.Close()
	if dl, ok := ctx.Deadline(); ok {
		_ = c.SetDeadline(dl)
	}
	done := make(chan struct{})
	defer close(done)
	go func() { // unblock reads when the manager shuts down
		select {
		case <-ctx.Done():
			_ = c.SetDeadline(time.Unix(1, 0))
		case <-done:
		}
	}()
	req := p.req
	if p.dyn != nil {
		req = p.dyn.build(req)
	}
	if _, err := c.Write(req); err != nil {
		return core.CheckResult{Status: "L7RSP", Info: "write: " + err.Error(), Duration: time.Since(start)}
	}
	buf, err := readResponse(c, p.body)
	r := p.Judge(buf, err)
	r.Duration = time.Since(start)
	if p.body {
		r.Body = bodyExcerpt(buf)
	}
	return r
}

// readResponse reads the status line, and the rest up to maxResponse when
// body rules need it.
func readResponse(r io.Reader, wantBody bool) ([]byte, error) {
	buf := make([]byte, 0, 1024)
	tmp := make([]byte, 4096)
	for len(buf) < maxResponse {
		n, err := r.Read(tmp)
		buf = append(buf, tmp[:n]...)
		if !wantBody && bytes.Contains(buf, []byte("\r\n")) {
			return buf, nil
		}
		if err == io.EOF {
			return buf, nil
		}
		if err != nil {
			return buf, err
		}
		if wantBody && complete(buf) {
			return buf, nil
		}
	}
	return buf[:maxResponse], nil
}

// complete reports whether buf holds headers and a Content-Length body.
func complete(buf []byte) bool {
	i := bytes.Index(buf, []byte("\r\n\r\n"))
	if i < 0 {
		return false
	}
	for _, line := range bytes.Split(buf[:i], []byte("\r\n")) {
		k, v, ok := bytes.Cut(line, []byte(":"))
		if ok && strings.EqualFold(string(bytes.TrimSpace(k)), "content-length") {
			n, err := strconv.Atoi(string(bytes.TrimSpace(v)))
			return err == nil && len(buf)-(i+4) >= n
		}
	}
	return false
}

// bodyExcerpt is the start of the response body (core.MaxCheckBody
// bytes at most), copied: buf is the probe's.
func bodyExcerpt(buf []byte) []byte {
	i := bytes.Index(buf, []byte("\r\n\r\n"))
	if i < 0 {
		return nil
	}
	body := buf[i+4:]
	if len(body) > core.MaxCheckBody {
		body = body[:core.MaxCheckBody]
	}
	return append([]byte(nil), body...)
}

// Judge turns raw response bytes (and the read error) into a result, with
// HAProxy 2.6's texts: none for a response that is not HTTP or a timeout,
// the reason phrase for a status mismatch, fixed texts for the body; the
// failing rule's comment is appended.
func (p *Probe) Judge(buf []byte, readErr error) core.CheckResult {
	first := Expect{}
	if len(p.rules) > 0 {
		first = p.rules[0].Expect
	}
	line, _, found := bytes.Cut(buf, []byte("\r\n"))
	if !found {
		line, _, found = bytes.Cut(buf, []byte("\n"))
	}
	if !found {
		if readErr != nil && tcp.IsTimeout(readErr) {
			return core.CheckResult{Status: "L7TOUT"}
		}
		return failed(first, core.CheckResult{Status: "L7RSP"})
	}
	code, reason, ok := parseStatus(line)
	if !ok {
		return failed(first, core.CheckResult{Status: "L7RSP"})
	}
	if readErr != nil && p.body && tcp.IsTimeout(readErr) {
		return core.CheckResult{Status: "L7TOUT", Code: code}
	}
	if len(p.rules) == 0 {
		if code >= 200 && code < 400 {
			return core.CheckResult{OK: true, Status: "L7OK", Code: code} // HAProxy 2.6: no text on success
		}
		return core.CheckResult{Status: "L7STS", Code: code, Info: reason}
	}
	var body []byte
	if i := bytes.Index(buf, []byte("\r\n\r\n")); i >= 0 {
		body = buf[i+4:]
	}
	scode := strconv.Itoa(code)
	for _, r := range p.rules {
		var match bool
		switch r.Kind {
		case "status":
			match = statusMatch(r.Pattern, code)
		case "rstatus":
			match = r.re.MatchString(scode)
		case "string", "rstring":
			if len(body) == 0 {
				return failed(r.Expect, core.CheckResult{Status: "L7RSP", Code: code, Info: "HTTP content check could not find a response body"})
			}
			if r.Kind == "string" {
				match = bytes.Contains(body, []byte(r.Pattern))
			} else {
				match = r.re.Match(body)
			}
		}
		if match == r.Negate {
			if r.Kind == "status" || r.Kind == "rstatus" {
				return failed(r.Expect, core.CheckResult{Status: "L7STS", Code: code, Info: reason})
			}
			info := "HTTP content check did not match"
			if r.Negate {
				info = "HTTP check matched unwanted content"
			}
			return failed(r.Expect, core.CheckResult{Status: "L7RSP", Code: code, Info: info})
		}
	}
	return core.CheckResult{OK: true, Status: "L7OK", Code: code} // HAProxy 2.6: no text on success
}

// Expect is health.Expect, named here for brevity.
type Expect = health.Expect

// failed appends the failing rule's comment, as HAProxy.
func failed(e Expect, r core.CheckResult) core.CheckResult {
	if e.Comment != "" {
		r.Info += " comment: " + e.Comment
	}
	return r
}

// statusMatch accepts "200", "200,204" and ranges "200-299", as HAProxy 2.2+.
func statusMatch(pat string, code int) bool {
	for _, part := range strings.Split(pat, ",") {
		lo, hi, isRange := strings.Cut(strings.TrimSpace(part), "-")
		a, err := strconv.Atoi(lo)
		if err != nil {
			continue
		}
		b := a
		if isRange {
			if b, err = strconv.Atoi(hi); err != nil {
				continue
			}
		}
		if code >= a && code <= b {
			return true
		}
	}
	return false
}

func parseStatus(line []byte) (int, string, bool) {
	if !bytes.HasPrefix(line, []byte("HTTP/")) {
		return 0, "", false
	}
	_, rest, ok := bytes.Cut(line, []byte(" "))
	if !ok || len(rest) < 3 {
		return 0, "", false
	}
	code, err := strconv.Atoi(string(rest[:3]))
	if err != nil || code < 100 || code > 999 {
		return 0, "", false
	}
	return code, strings.TrimSpace(string(rest[3:])), true
}
