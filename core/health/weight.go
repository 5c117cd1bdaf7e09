package health

import (
	"time"
)

// startRampLocked begins a slowstart ramp: a server coming back (from down or
// from maintenance) gets a growing share of its weight over `slowstart`, so a
// cold cache or JIT is not flooded at once.
func (c *checker) startRampLocked(now time.Time) {
	if c.cfg.Slowstart <= 0 || c.m.ctx == nil {
		return
	}
	c.rampStart = now
	if c.ramping {
		return
	}
	c.ramping = true
	go c.ramp()
}

// effectiveLocked is the weight balancers see: the user weight scaled by the
// slowstart ramp (at least 1 while ramping, as in HAProxy).
func (c *checker) effectiveLocked(now time.Time) int {
	w := c.uweight
	if c.rampStart.IsZero() || w == 0 {
		return w
	}
	el := now.Sub(c.rampStart)
	if el >= c.cfg.Slowstart {
		c.rampStart = time.Time{}
		return w
	}
	rw := int((int64(w)*int64(el) + int64(c.cfg.Slowstart) - 1) / int64(c.cfg.Slowstart))
	if rw < 1 {
		rw = 1
	}
	return rw
}

// applyWeightLocked stores the effective weight and reports whether it moved.
func (c *checker) applyWeightLocked(now time.Time) bool {
	w := c.effectiveLocked(now)
	if w == c.s.Weight() {
		return false
	}
	c.s.SetWeight(w)
	return true
}

// Throttle is the slowstart percentage currently applied (100 when none), for
// the stats CSV's throttle column.
func (c *checker) throttleLocked(now time.Time) int {
	if c.rampStart.IsZero() || c.cfg.Slowstart <= 0 {
		return 100
	}
	el := now.Sub(c.rampStart)
	if el >= c.cfg.Slowstart {
		return 100
	}
	return int(100 * el / c.cfg.Slowstart)
}

// ramp raises the weight in about 20 steps until the ramp ends.
func (c *checker) ramp() {
	step := c.cfg.Slowstart / 20
	if step < 20*time.Millisecond {
		step = 20 * time.Millisecond
	}
	t := time.NewTicker(step)
	defer t.Stop()
	for {
		select {
		case <-c.m.ctx.Done():
			c.mu.Lock()
			c.ramping = false
			c.mu.Unlock()
			return
		case <-t.C:
		}
		c.mu.Lock()
		moved := c.applyWeightLocked(time.Now())
		done := c.rampStart.IsZero()
		if done {
			c.ramping = false
		}
		c.mu.Unlock()
		if moved {
			c.m.notify(c.s)
		}
		if done {
			return
		}
	}
}
