package proxy

import (
	"fmt"

	"github.com/varde-lb/varde/core/acl"
	"github.com/varde-lb/varde/core/config"
)

// Monitor is a frontend's `monitor-uri` and `monitor fail` lines. As in
// HAProxy 2.6 (http_wait_for_request), a request whose URI is exactly the
// monitor URI is answered by the proxy itself once its head is read and
// the tcp-request content rules accepted it, before any http-request
// rule: 503 when a `monitor fail` condition holds, else 200, with the
// proxy's error page for that status (errorfile 200/503 if set), then the
// connection closes. The transaction is not logged (SF_MONITOR) and
// counts as intercepted.
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
			return nil, fmt.Errorf("%s: monitor fail: %w", mf.Pos, err)
		}
		if c != nil {
			m.Fail = append(m.Fail, monitorFail{cond: c})
		}
	}
	return m, nil
}

// monitor answers the request when its URI is the monitor URI and
// reports whether it did; the connection is then closed.
func (s *session) monitor(m *Monitor) bool {
	uri := s.req.Target.Of(s.in)
	if s.h2 {
		uri = s.h2URI() // HAProxy 2.6 compares the absolute form h2 requests carry
	}
	if string(uri) != m.URI {
		return false
	}
	code := 200
	for _, f := range m.Fail {
		if f.cond.Match(&s.view) {
			code = 503
			break
		}
	}
	s.f.Meters.Intercepted.Add(1)
	s.sendError(code, nil)
	return true
}
