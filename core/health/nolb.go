package health

import (
	"fmt"

	"github.com/varde-lb/varde/core"
)

// on404 applies `http-check disable-on-404` to a probe result, as
// HAProxy 2.6's tcpcheck: a 404 from a server that is not stopped (UP,
// going down, or already NOLB) skips the expect rules and the check ends
// "L7OKC" (conditionally passed). A DOWN server answering 404 stays DOWN:
// the result is left to the expect rules, which fail it.
func (c *checker) on404(r core.CheckResult) core.CheckResult {
	if !c.cfg.DisableOn404 || r.Code != 404 || !c.s.IsUp() {
		return r
	}
	r.OK, r.Status, r.Info = true, "L7OKC", ""
	return r
}

// stoppingLocked moves the server in or out of NOLB after the counter was
// updated (HAProxy's check_notify_stopping / srv_set_running /
// srv_set_stopped) and reports whether the state changed. A server in
// maintenance is left alone, and NOLB needs the server up by the counter.
func (c *checker) stoppingLocked(r core.CheckResult) bool {
	switch {
	case r.OK && r.Status == "L7OKC":
		if c.s.Admin() == core.AdminMaint || c.health < c.cfg.Rise {
			return false
		}
		return c.s.SetStopping(true)
	case r.OK, c.health < c.cfg.Rise:
		return c.s.SetStopping(false)
	}
	return false
}

// settle tells the balancers and the log about a NOLB change record made,
// outside the checker's lock as up/down changes are.
func (c *checker) settle(r core.CheckResult) {
	c.mu.Lock()
	pending := c.nolbPending
	c.nolbPending = false
	c.mu.Unlock()
	if !pending {
		return
	}
	state := "UP"
	if c.s.Stopping() {
		state = "NOLB" // HAProxy: the server "is stopping"
	}
	c.m.log().Warn(fmt.Sprintf("Server %s/%s is %s", c.s.Backend, c.s.Name, state),
		"reason", Description(r.Status), "check_duration", r.Duration, "status", r.Status)
	c.m.notify(c.s)
}
