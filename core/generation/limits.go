package generation

import (
	"runtime"
	"syscall"

	"github.com/varde-lb/varde/core/config"
	"github.com/varde-lb/varde/core/diag"
)

// HAProxy raises its file descriptor limit (RLIMIT_NOFILE) to what the
// global maxconn needs; when it cannot, it refuses to start (strict-limits,
// on by default in 2.6) or, with `no strict-limits`, warns and runs with
// the limit it has. varde does
// the same when a generation is loaded, so `varde check` (run where varde
// runs) says what `varde run` will do. The Go runtime already raised the
// soft limit to the hard one at start-up; beyond that only a privileged
// process can go.

// fdNeed is HAProxy 2.6's estimate of the descriptors a maxconn needs
// (compute_ideal_maxsock): ten reserved, one per listener, the CLI's
// own maxconn (10) with a stats socket, two per connection, three per
// thread (poller and wake-up pipe). 0 without a global maxconn: HAProxy
// then derives maxconn from the limit, which always fits.
func fdNeed(c *config.Config) int {
	g := &c.Global
	if g.MaxConn <= 0 {
		return 0
	}
	n := 10 + 2*g.MaxConn
	for _, px := range c.Frontends {
		n += len(px.Binds)
	}
	if len(g.StatsSockets) > 0 {
		n += 10
	}
	threads := g.NbThread
	if threads <= 0 {
		threads = runtime.NumCPU()
	}
	return n + 3*threads
}

// rlimits reads and sets RLIMIT_NOFILE (a variable for tests).
var rlimits = struct {
	get func() (cur, max uint64, err error)
	set func(cur, max uint64) error
}{
	get: func() (uint64, uint64, error) {
		var l syscall.Rlimit
		err := syscall.Getrlimit(syscall.RLIMIT_NOFILE, &l)
		return l.Cur, l.Max, err
	},
	set: func(cur, max uint64) error {
		return syscall.Setrlimit(syscall.RLIMIT_NOFILE, &syscall.Rlimit{Cur: cur, Max: max})
	},
}

// raiseFDLimit raises the limit to what the configuration needs, and
// reports HAProxy's alert (strict-limits: an error) or warning when it
// cannot.
func raiseFDLimit(set *config.Set, d *diag.List, checkOnly bool) {
	if set == nil || set.HAProxy == nil {
		return
	}
	c := set.HAProxy
	need := uint64(fdNeed(c))
	cur, max, err := rlimits.get()
	if need == 0 || err != nil || cur >= need {
		return
	}
	if rlimits.set(need, maxU(max, need)) == nil {
		return
	}
	if cur < max && rlimits.set(max, max) == nil { // at least the most allowed, as HAProxy
		cur = max
	}
	const hint = "raise the limit (systemd: LimitNOFILE=; a shell: ulimit -n) or lower maxconn"
	if !c.Global.NoStrictLimits {
		pos := c.Global.StrictLimitsPos
		if pos.File == "" {
			pos = c.Global.Pos
		}
		const msg = "Cannot raise FD limit to %d, limit is %d (maxconn %d needs %d file descriptors)."
		if checkOnly {
			d.Warnf(pos, "strict-limits", hint, msg+" `varde run` with this limit would refuse to start (strict-limits, HAProxy's default).", need, cur, c.Global.MaxConn, need)
			return
		}
		d.Errorf(pos, "strict-limits", hint+"; `no strict-limits` runs with the limit there is", msg, need, cur, c.Global.MaxConn, need)
		return
	}
	d.Warnf(c.Global.Pos, "maxconn", hint, "Cannot raise FD limit to %d, limit is %d (maxconn %d needs %d file descriptors).", need, cur, c.Global.MaxConn, need)
}

func maxU(a, b uint64) uint64 {
	if a > b {
		return a
	}
	return b
}
