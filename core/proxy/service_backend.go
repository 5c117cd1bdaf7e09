package proxy

import (
	"fmt"
	"time"

	"github.com/varde-lb/varde/core"
)

// AddBackendService adds a service (a backend's stats page) that answers
// the requests routed to backend, after the backend's http-request rules,
// as HAProxy checks a backend's `stats uri` once the request reached it.
func (e *Engine) AddBackendService(backend string, match func(core.Request) bool, h httpHandler) error {
	b := e.Backend(backend)
	if b == nil {
		return fmt.Errorf("proxy: add service: no backend %q", backend)
	}
	e.mu.Lock()
	defer e.mu.Unlock()
	var list []service
	if p := b.services.Load(); p != nil {
		list = append(list, *p...)
	}
	list = append(list, service{match: match, h: h})
	b.services.Store(&list)
	return nil
}

// backendService answers the request with one of b's services, if one
// matches. done reports that it did (keep: the connection stays open).
func (s *session) backendService(b *Backend, start time.Time) (done, keep bool) {
	p := b.services.Load()
	if p == nil {
		return false, false
	}
	for _, sv := range *p {
		if sv.match(&s.view) {
			return true, s.serveHandler(sv.h, start)
		}
	}
	return false, false
}
