package health

import (
	"context"
	"math/rand/v2"
	"net/netip"
	"sync"
	"sync/atomic"
	"time"

	"github.com/varde-lb/varde/core"
)

// checker is the live health state of one server. One goroutine runs its
// probes, so at most one probe is in flight per server by construction;
// passive observations and admin actions arrive from other goroutines and
// take mu.
type checker struct {
	m     *Manager
	s     *core.Server
	cfg   Config
	probe Probe
	agent Probe

	resched chan struct{} // "recompute the next check time" (fastinter, leaving maint)
	paused  atomic.Bool   // `disable health`, or a dynamic server before `enable health`

	mu          sync.Mutex
	health      int // HAProxy's check->health: 0..rise+fall-1, up when >= rise
	agentDown   bool
	agentMaint  bool      // maintenance was set by the agent, which keeps polling
	uweight     int       // weight before slowstart: config, `set weight`, agent N%
	rampStart   time.Time // slowstart ramp start, zero when none
	ramping     bool      // the ramp goroutine runs
	consecErr   int       // consecutive passive errors
	fast        bool      // next check uses fastinter (on-error)
	last        core.CheckResult
	lastAt      time.Time
	checked     bool // at least one probe ran
	nolbPending bool // NOLB entered or left, not yet told (settle)
	chkFail     uint64
	chkDown     uint64
	agentLast   core.CheckResult
	agentAt     time.Time
}

func (c *checker) max() int { return c.cfg.Rise + c.cfg.Fall - 1 }

// healthFor maps the rise/fall counter onto core's four states.
func (c *checker) healthForLocked() core.Health {
	switch {
	case c.agentDown || c.health == 0:
		return core.HealthDown
	case c.health < c.cfg.Rise:
		return core.HealthGoingUp
	case c.health < c.max():
		return core.HealthGoingDown
	}
	return core.HealthUp
}

// publishLocked stores the state on the server and reports whether the
// server crossed the up/down line (balancers must then be refreshed).
func (c *checker) publishLocked(now time.Time) (changed bool) {
	wasUp := c.s.IsUp()
	c.s.SetHealth(c.healthForLocked())
	isUp := c.s.IsUp()
	if wasUp == isUp {
		return false
	}
	if isUp {
		c.startRampLocked(now)
	} else {
		c.chkDown++
		c.rampStart = time.Time{}
	}
	c.applyWeightLocked(now)
	return true
}

// record applies one probe result to the counter (HAProxy's
// check_notify_success/failure logic) and returns whether the server's
// up/down state changed.
func (c *checker) record(r core.CheckResult, now time.Time) bool {
	r = c.on404(r)
	if j := c.m.opts.Judge; j != nil {
		r.OK = j.Judge(c.s.View(), r)
	}
	c.s.CheckStatus.Store(r.Status)
	c.s.CheckCode.Store(int32(r.Code))
	c.s.CheckDuration.Store(int64(r.Duration))

	c.mu.Lock()
	defer c.mu.Unlock()
	prevStatus, prevHealth := c.last.Status, c.health
	defer c.checkEventLocked(r, prevStatus, prevHealth)
	c.last, c.lastAt, c.checked = r, now, true
	if r.OK {
		if c.health < c.max() {
			c.health++
			if c.health >= c.cfg.Rise {
				c.health = c.max()
			}
		}
	} else {
		if c.health > 0 {
			c.chkFail++ // HAProxy: failures of a server already fully down are not counted
			c.health--
			if c.health < c.cfg.Rise {
				c.health = 0
			}
		}
	}
	stop := c.stoppingLocked(r)
	if c.publishLocked(now) {
		return true
	}
	if stop {
		c.nolbPending = true // told by the caller, outside mu (see settle)
	}
	return false
}

// interval picks inter, fastinter or downinter like HAProxy's
// srv_getinter(): fastinter while a transition is in progress, downinter
// while fully down, inter otherwise; then applies spread-checks jitter.
func (c *checker) interval() time.Duration {
	c.mu.Lock()
	d := c.cfg.Inter
	switch {
	case c.fast:
		d = c.cfg.FastInter
		c.fast = false
	case c.health == 0:
		d = c.cfg.DownInter
	case c.health < c.max():
		d = c.cfg.FastInter
	}
	c.mu.Unlock()
	return jitter(d, c.cfg.Spread)
}

// jitter spreads d by +/- pct percent so checks of many servers do not
// synchronise (`spread-checks`).
func jitter(d time.Duration, pct int) time.Duration {
	if pct <= 0 || d <= 0 {
		return d
	}
	span := int64(d) * int64(pct) / 100
	if span <= 0 {
		return d
	}
	return d - time.Duration(span) + time.Duration(rand.Int64N(2*span+1))
}

func (c *checker) run(ctx context.Context, first time.Duration) {
	t := time.NewTimer(first)
	defer t.Stop()
	for {
		select {
		case <-ctx.Done():
			return
		case <-c.resched:
			// Recompute from now: a forced fastinter or a resume from maint
			// must not wait for a long inter to expire.
			if !t.Stop() {
				select {
				case <-t.C:
				default:
				}
			}
			t.Reset(c.interval())
			continue
		case <-t.C:
		}
		if c.removed() {
			return
		}
		if c.s.Admin() == core.AdminMaint || c.paused.Load() {
			// Checks are suspended in maintenance, as in HAProxy.
			t.Reset(c.cfg.Inter)
			continue
		}
		pctx, cancel := context.WithTimeout(ctx, c.cfg.Timeout)
		start := time.Now()
		r := c.probe.Check(pctx, Target{Addr: c.target(c.cfg.Addr, c.cfg.Port), Server: c.s, Timeout: c.cfg.Timeout, TLS: c.cfg.TLS, SendProxy: c.sendProxy(), SOCKS4: c.viaSOCKS4()})
		cancel()
		if ctx.Err() != nil {
			return
		}
		if r.Duration == 0 {
			r.Duration = time.Since(start)
		}
		now := time.Now()
		if c.record(r, now) {
			c.m.changed(c.s, r)
		}
		c.settle(r)
		t.Reset(c.interval())
	}
}

// target applies the `addr`/`port` (or agent-addr/agent-port) overrides to
// the server's address.
func (c *checker) target(addr netip.Addr, port int) netip.AddrPort {
	ap := c.s.Address() // `set server addr` moves the checks too
	a, p := ap.Addr(), ap.Port()
	if addr.IsValid() {
		a = addr
	}
	if port > 0 {
		p = uint16(port)
	}
	return netip.AddrPortFrom(a, p)
}

// viaSOCKS4 reports whether checks go through the server's SOCKS4 proxy:
// only with check-via-socks4, as HAProxy.
func (c *checker) viaSOCKS4() bool {
	return c.s.Via != nil && c.s.Via.CheckSOCKS4
}

// sendProxy is the PROXY header version checks write: the server's
// send-proxy when the check goes to the server's own address (HAProxy:
// "enabled for health checks if it is already enabled for normal traffic
// and if no port nor addr directive is present").
func (c *checker) sendProxy() uint8 {
	if c.cfg.Addr.IsValid() || c.cfg.Port > 0 {
		return 0
	}
	return c.s.SendProxy
}

// wake asks the loop to recompute its next check time.
func (c *checker) wake() {
	select {
	case c.resched <- struct{}{}:
	default:
	}
}

// observe handles one passive observation (`observe layer4|layer7`).
func (c *checker) observe(ok bool) {
	if c.cfg.Observe == "" || !c.cfg.Enabled {
		return
	}
	now := time.Now()
	c.mu.Lock()
	if ok {
		c.consecErr = 0
		c.mu.Unlock()
		return
	}
	c.consecErr++
	if c.consecErr < c.cfg.ErrorLimit {
		c.mu.Unlock()
		return
	}
	c.consecErr = 0
	c.fast = true
	changed := false
	r := core.CheckResult{Status: c.last.Status, Info: "passive: error-limit reached"}
	switch c.cfg.OnError {
	case OnErrorFailCheck:
		c.mu.Unlock()
		r.Status, r.OK = "L7STS", false
		if c.cfg.Observe == "layer4" {
			r.Status = "L4CON"
		}
		if c.record(r, now) {
			c.m.changed(c.s, r)
		}
		c.settle(r)
		c.wake()
		return
	case OnErrorSuddenDeath:
		// One more failed check will mark the server down.
		if c.health > c.cfg.Rise {
			c.health = c.cfg.Rise
		}
		changed = c.publishLocked(now)
	case OnErrorMarkDown:
		c.health = 0
		changed = c.publishLocked(now)
	}
	c.mu.Unlock()
	if changed {
		c.m.changed(c.s, r)
	}
	c.wake()
}
