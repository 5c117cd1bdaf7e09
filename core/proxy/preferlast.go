package proxy

import (
	"github.com/varde-lb/varde/core"
	"github.com/varde-lb/varde/core/config"
)

// preferLastOf sets whether the backend's algorithm lets the server of a
// client's kept connection be preferred. As HAProxy 2.6 (assign_server),
// only the non-hashing algorithms do (roundrobin, static-rr, leastconn,
// first; the default is roundrobin): with a hash the same key picks the
// same server anyway.
//
// `option prefer-last-server` adds nothing to that here, as in HAProxy
// 2.6 under http-reuse safe, aggressive or always (varde refuses never):
// HAProxy keeps in the session, so prefers, only a connection bound to its
// client by an NTLM or Negotiate login, and prefers that one without the
// option too (SESS_FL_PREFER_LAST); the others go back to the server's
// pool. TestPreferLastServer checks this against /usr/sbin/haproxy,
// send-proxy connections included.
func preferLastOf(bc *BackendConfig, p *config.Proxy) {
	switch bc.Balance.Algorithm {
	case "", "roundrobin", "static-rr", "leastconn", "first":
		bc.LastUsable = true
	}
}

// lastServer is the server of the upstream connection the client's
// connection kept, when it is preferred to the balancer's pick: a
// connection on which the server started an NTLM or Negotiate login, to
// one of this backend's servers, up, not in drain or maintenance, with no
// request queued in the backend (HAProxy's srv_currently_usable and
// empty-queue tests). A full server is left to the balancer.
func (b *Backend) lastServer(ctx *core.PickContext, sess *session) *core.Server {
	if !b.cfg.LastUsable || sess == nil || sess.up == nil || !sess.up.login || ctx.Exclude != nil || b.Queued.Load() > 0 {
		return nil
	}
	cs := sess.up.s.Server
	if b.serverOf(cs) == nil || !cs.Usable() {
		return nil
	}
	return cs
}
