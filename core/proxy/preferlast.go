package proxy

import (
	"github.com/varde-lb/varde/core"
	"github.com/varde-lb/varde/core/config"
)

// preferLastOf is `option prefer-last-server`. As HAProxy 2.6
// (assign_server), it applies only to the non-hashing algorithms
// (roundrobin, static-rr, leastconn, first; the default is roundrobin):
// with a hash the same key picks the same server anyway.
func preferLastOf(bc *BackendConfig, p *config.Proxy) {
	if p.Option("prefer-last-server") == nil {
		return
	}
	switch bc.Balance.Algorithm {
	case "", "roundrobin", "static-rr", "leastconn", "first":
		bc.PreferLast = true
	}
}

// lastServer is the server of the upstream connection the client's
// connection kept, when prefer-last-server may take it instead of the
// balancer: one of this backend's servers, up, not in drain or
// maintenance, no request queued in the backend (HAProxy's
// srv_currently_usable and empty-queue tests). Fullness is left to pick,
// which falls back to the balancer when no slot can be taken.
func (b *Backend) lastServer(ctx *core.PickContext, sess *session) *core.Server {
	if !b.cfg.PreferLast || sess == nil || sess.up == nil || ctx.Exclude != nil || b.Queued.Load() > 0 {
		return nil
	}
	cs := sess.up.s.Server
	if b.serverOf(cs) == nil || !cs.Usable() {
		return nil
	}
	return cs
}
