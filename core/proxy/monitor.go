package proxy

import (
	"bytes"

	"github.com/varde-lb/varde/core/acl"
	"github.com/varde-lb/varde/core/config"
	"github.com/varde-lb/varde/core/diag"
	"github.com/varde-lb/varde/core/httpx"
)

// Monitor is a frontend's `monitor-uri` and `monitor fail` lines. As in
// HAProxy 2.6 (http_wait_for_request), a request whose path and query are
// exactly the monitor URI (the path of an absolute-form target counts) is
// answered by the proxy itself once its head is read and the tcp-request
// content rules accepted it, before any http-request rule: 503 when a
// `monitor fail` condition holds, else 200, with the proxy's page for
// that status (errorfile 200/503 if set). The connection stays open as
// after any bodyless answer. The transaction is not logged (SF_MONITOR)
// and counts as intercepted. TestMonitorDifferential compares all of it
// with HAProxy.
type Monitor struct {
	URI  string
	Fail []monitorFail
}

// monitorFail is one compiled `monitor fail if|unless COND` (the
// condition applies its if/unless itself).
type monitorFail struct{ cond Cond }

// monitorOf compiles a frontend's monitor lines; nil when it has no
// monitor-uri (monitor fail alone does nothing, as in HAProxy).
func monitorOf(p *config.Proxy, set *acl.Set) (*Monitor, error) {
	if p.MonitorURI == "" {
		return nil, nil
	}
	m := &Monitor{URI: p.MonitorURI}
	for _, mf := range p.MonitorFail {
		c, err := CompileCondition(mf.Cond, set)
		if err != nil {
			return nil, diag.At(mf.Pos, "monitor fail", "", err)
		}
		if c != nil {
			m.Fail = append(m.Fail, monitorFail{cond: c})
		}
	}
	return m, nil
}

// monitor answers the request when its path is the monitor URI and
// reports whether it did; keep says whether the connection stays open.
func (s *session) monitor(m *Monitor) (done, keep bool) {
	if string(pathQuery(s.req.Target.Of(s.in))) != m.URI {
		return false, false
	}
	code := 200
	for _, f := range m.Fail {
		if f.cond.Match(&s.view) {
			code = 503
			break
		}
	}
	s.f.Meters.Intercepted.Add(1)
	return true, s.monitorAnswer(code)
}

// monitorAnswer sends the page for code. Like HAProxy, a request whose
// body is already in the buffer (or that has none) leaves the connection
// usable; a custom errorfile page, a request still sending its body or a
// client asking to close gets the page with `connection: close`.
func (s *session) monitorAnswer(code int) bool {
	r := &s.req
	used := r.HeadLen
	switch r.RequestBody() {
	case httpx.BodyNone:
	case httpx.BodyLength:
		if int64(s.n-used) < r.ContentLength {
			used = -1
		} else {
			used += int(r.ContentLength)
		}
	default:
		used = -1
	}
	if used < 0 || s.closeAfter || s.f.errPages[code] != nil || s.e.stopping.Load() || keepAlivePages[code] == nil {
		s.sendError(code, nil)
		return false
	}
	page := keepAlivePages[code]
	if httpx.EqualFold(r.Method.Of(s.in), "head") {
		page = page[:bytes.Index(page, []byte("\r\n\r\n"))+4] // HAProxy sends no body to HEAD
	}
	s.conn.SetWriteDeadline(after(s.clientTimeout(0)))
	n, err := s.conn.Write(page)
	s.rec.BytesOut += countHTX(n, page)
	s.rec.Status = int32(code)
	s.consume(used)
	return err == nil
}

// UsableServers makes nbsrv(NAME) work (sample.BackendStater): the running
// generation's backend of that name.
func (v *reqView) UsableServers(name string) (int, bool) {
	b := v.s.e.byName[name]
	if b == nil {
		return 0, false
	}
	return b.usableServers(), true
}

// usableServers is HAProxy's be_usable_srv.
func (b *Backend) usableServers() int {
	act, bck := 0, 0
	for _, cs := range b.Servers() {
		switch {
		case !cs.Usable():
		case cs.Backup:
			bck++
		default:
			act++
		}
	}
	switch {
	case act > 0:
		return act
	case bck > 0 && !b.cfg.AllBackups:
		return 1 // the first backup takes the traffic
	}
	return bck
}

// errorlocPage is the answer of `errorloc|errorloc302|errorloc303 CODE
// URL`, the message HAProxy 2.6 builds (http_parse_errorloc), as rawPage
// sends any errorfile.
func errorlocPage(ef *config.ErrorFile) []byte {
	status := "302 Found"
	if ef.LocCode == 303 {
		status = "303 See Other"
	}
	return rawPage([]byte("HTTP/1.1 " + status + "\r\nCache-Control: no-cache\r\nContent-length: 0\r\nLocation: " + ef.Location + "\r\n\r\n"))
}
