package health

import (
	"time"

	"github.com/varde-lb/varde/core"
)

// Inherit carries the live state of prev's servers (the running
// generation's manager) over to the servers of m with the same backend and
// name, before m starts: up/down and the rise/fall counter, the last check
// result, slowstart progress, the admin state (drain, maint), and a weight
// or maxconn an operator or agent set, unless the new configuration itself
// changed that server's weight or maxconn. A reload thus neither revives a
// server the checks found down nor floods one that is ramping up.
// It returns how many servers took state over.
func (m *Manager) Inherit(prev *Manager) int {
	if prev == nil {
		return 0
	}
	old := map[string]*checker{}
	prev.mu.Lock()
	for _, c := range prev.order {
		old[serverKey(c.s)] = c
	}
	prev.mu.Unlock()
	m.mu.Lock()
	list := append([]*checker(nil), m.order...)
	m.mu.Unlock()
	n := 0
	for _, c := range list {
		if p := old[serverKey(c.s)]; p != nil {
			c.inherit(p)
			m.notify(c.s)
			n++
		}
	}
	return n
}

func serverKey(s *core.Server) string { return s.Backend + "/" + s.Name }

// inherit copies p's state into c (c's manager has not started).
func (c *checker) inherit(p *checker) {
	p.mu.Lock()
	ps := p.snapshotLocked()
	p.mu.Unlock()
	s, os := c.s, p.s
	s.SetAdmin(os.OperatorAdmin()) // resolution maintenance is core/resolve's to carry over
	if os.MaxConn() != os.ConfigMaxConn && s.ConfigMaxConn == os.ConfigMaxConn {
		s.SetMaxConn(os.MaxConn())
	}
	c.mu.Lock()
	defer c.mu.Unlock()
	if ps.uweight != os.ConfigWeight && s.ConfigWeight == os.ConfigWeight {
		c.uweight = ps.uweight
	}
	c.agentDown, c.agentMaint, c.agentLast, c.agentAt = ps.agentDown, ps.agentMaint, ps.agentLast, ps.agentAt
	if c.probe != nil && ps.checked {
		c.health = mapHealth(ps.health, p.cfg.Rise, p.max(), c.cfg.Rise, c.max())
		c.last, c.lastAt, c.checked = ps.last, ps.lastAt, true
		s.CheckStatus.Store(ps.last.Status)
		s.CheckCode.Store(int32(ps.last.Code))
		s.CheckDuration.Store(int64(ps.last.Duration))
		// NOLB (disable-on-404) carries over while the new configuration
		// still asks for it; the next check confirms or clears it.
		s.SetStopping(os.Stopping() && c.cfg.DisableOn404)
	}
	c.chkFail, c.chkDown = ps.chkFail, ps.chkDown
	if c.cfg.Slowstart > 0 && !ps.rampStart.IsZero() {
		c.rampStart = ps.rampStart
	}
	s.SetHealth(c.healthForLocked())
	s.LastChange.Store(os.LastChange.Load())
	s.DownSince.Store(os.DownSince.Load())
	s.DownTotal.Store(os.DownTotal.Load())
	c.applyWeightLocked(time.Now())
}

// checkerState is the part of a checker a reload carries over.
type checkerState struct {
	health, uweight       int
	agentDown, agentMaint bool
	agentLast, last       core.CheckResult
	agentAt, lastAt       time.Time
	checked               bool
	chkFail, chkDown      uint64
	rampStart             time.Time
}

func (c *checker) snapshotLocked() checkerState {
	return checkerState{health: c.health, uweight: c.uweight, agentDown: c.agentDown, agentMaint: c.agentMaint,
		agentLast: c.agentLast, last: c.last, agentAt: c.agentAt, lastAt: c.lastAt, checked: c.checked,
		chkFail: c.chkFail, chkDown: c.chkDown, rampStart: c.rampStart}
}

// mapHealth moves a rise/fall counter onto new rise/fall settings keeping
// the side (up when >= rise) and the distance from that side's end: a
// server one failure from down stays one failure from down.
func mapHealth(h, oldRise, oldMax, rise, max int) int {
	if h >= oldRise { // up: count failures from the top
		return min(max, maxInt(rise, max-(oldMax-h)))
	}
	return min(h, rise-1) // down: successes so far, still down
}

func maxInt(a, b int) int {
	if a > b {
		return a
	}
	return b
}

// ResumeRamps restarts the slowstart ramps Inherit carried over; call it
// after Start.
func (m *Manager) ResumeRamps() {
	m.mu.Lock()
	list := append([]*checker(nil), m.order...)
	m.mu.Unlock()
	for _, c := range list {
		c.mu.Lock()
		if !c.rampStart.IsZero() && !c.ramping && m.ctx != nil {
			c.ramping = true
			go c.ramp()
		}
		c.mu.Unlock()
	}
}
