package proxy

import (
	"runtime"
	"syscall"

	"github.com/varde-lb/varde/core/config"
)

// A server with `minconn` below its `maxconn` has a dynamic limit, as in
// HAProxy (srv_dynamic_maxconn): while its backend holds fewer than
// `fullconn` connections (queued ones included), the server takes
// max(minconn, backend connections * maxconn / fullconn); at fullconn or
// above, maxconn. core.Server.Limit computes it; tryTake and the balancers
// read it. A `minconn` above `maxconn` (or without one) becomes the static
// maxconn, as HAProxy turns it.

// serverLimits returns a server line's maxconn and minconn as HAProxy
// settles them: minconn above maxconn (or alone) becomes maxconn, and
// minconn unset is maxconn (a static limit).
func serverLimits(s *config.Server) (maxConn, minConn int64) {
	maxConn, minConn = int64(s.MaxConn), int64(s.MinConn)
	if minConn > maxConn {
		maxConn = minConn
	}
	if minConn == 0 {
		minConn = maxConn
	}
	return maxConn, minConn
}

// fullConnOf is the backend's fullconn: the configured one, else 10% of
// the sum of the maxconn of the frontends that can reach it (their
// default_backend, a static use_backend, a listen section itself), at
// least 1, as HAProxy's proxy_adjust_all_maxconn computes it.
func fullConnOf(c *config.Config, p *config.Proxy) int64 {
	if p.FullConn > 0 {
		return int64(p.FullConn)
	}
	var tot int64
	for _, f := range c.Frontends {
		if !f.Disabled && reaches(f, p) {
			tot += frontendMaxConn(c, f)
		}
	}
	return max(1, (tot+9)/10)
}

// reaches reports whether frontend f counts toward backend p's fullconn:
// p is its default_backend, or (without one) f is the listen section p,
// or a static use_backend names p (once, however many rules do).
func reaches(f, p *config.Proxy) bool {
	if f.DefaultBackend != nil {
		if f.DefaultBackend.Value == p.Name {
			return true
		}
	} else if f.Kind == config.KindListen && f == p {
		return true
	}
	for _, ub := range f.UseBackends {
		if !config.IsDynamicName(ub.Backend) && ub.Backend == p.Name {
			return true
		}
	}
	return false
}

// frontendMaxConn is a frontend's maxconn: its own, else the global one,
// else the one HAProxy derives from the file descriptor limit when none is
// set (compute_ideal_maxconn: about two fifths of the descriptors, at
// least 100). The derived value is an approximation of HAProxy's (which
// also subtracts listeners and checks); it only matters for a backend
// without fullconn, where it makes fullconn large and the limit minconn.
func frontendMaxConn(c *config.Config, f *config.Proxy) int64 {
	if f.MaxConn > 0 {
		return int64(f.MaxConn)
	}
	if c.Global.MaxConn > 0 {
		return int64(c.Global.MaxConn)
	}
	var rl syscall.Rlimit
	if syscall.Getrlimit(syscall.RLIMIT_NOFILE, &rl) != nil {
		return 100
	}
	remain := int64(max(rl.Cur, rl.Max))
	if remain < 0 || remain > 1<<30 {
		remain = 1 << 30
	}
	remain -= 3 * int64(runtime.GOMAXPROCS(0))
	return max(100, 2*remain/5)
}
