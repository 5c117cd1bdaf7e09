package health

import (
	"context"
	"fmt"
	"strconv"
	"strings"
	"time"

	"github.com/varde-lb/varde/core"
)

// AgentReply is one parsed agent-check line such as "75% drain maxconn:30".
type AgentReply struct {
	WeightPct int    // -1 when absent
	Admin     string // "", "ready", "drain", "maint"
	Op        string // "", "up", "down" (down, fail and stopped)
	MaxConn   int64  // -1 when absent
	Desc      string // text after '#', shown on the stats page
}

// ParseAgentReply parses an agent reply as HAProxy does: words separated by
// spaces, tabs or commas, case-insensitive; unknown words are errors so a
// misbehaving agent is visible rather than silently ignored.
func ParseAgentReply(line string) (AgentReply, error) {
	r := AgentReply{WeightPct: -1, MaxConn: -1}
	line = strings.TrimRight(line, "\r\n")
	if i := strings.IndexByte(line, '#'); i >= 0 {
		r.Desc = strings.TrimSpace(line[i+1:])
		line = line[:i]
	}
	words := strings.FieldsFunc(line, func(c rune) bool { return c == ' ' || c == '\t' || c == ',' })
	if len(words) == 0 {
		return r, fmt.Errorf("health: agent: empty reply")
	}
	for _, w := range words {
		lw := strings.ToLower(w)
		switch {
		case strings.HasSuffix(lw, "%"):
			n, err := strconv.Atoi(lw[:len(lw)-1])
			if err != nil || n < 0 || n > 25600 {
				return r, fmt.Errorf("health: agent: bad weight %q", w)
			}
			r.WeightPct = n
		case lw == "ready" || lw == "drain" || lw == "maint":
			r.Admin = lw
		case lw == "up":
			r.Op = "up"
		case lw == "down" || lw == "fail" || lw == "stopped":
			r.Op = "down"
		case strings.HasPrefix(lw, "maxconn:"):
			n, err := strconv.ParseInt(lw[len("maxconn:"):], 10, 64)
			if err != nil || n < 0 {
				return r, fmt.Errorf("health: agent: bad maxconn %q", w)
			}
			r.MaxConn = n
		default:
			return r, fmt.Errorf("health: agent: unknown word %q", w)
		}
	}
	return r, nil
}

// runAgent polls the agent every agent-inter. A failure to reach the agent
// never changes the server's state (HAProxy: the agent is advisory), it is
// only recorded for the stats page.
func (c *checker) runAgent(ctx context.Context, first time.Duration) {
	t := time.NewTimer(first)
	defer t.Stop()
	a := c.cfg.Agent
	for {
		select {
		case <-ctx.Done():
			return
		case <-t.C:
		}
		if c.removed() {
			return
		}
		t.Reset(jitter(a.Inter, c.cfg.Spread))
		if c.s.Admin() == core.AdminMaint && !c.agentSetMaint() {
			continue
		}
		pctx, cancel := context.WithTimeout(ctx, c.cfg.Timeout)
		r := c.agent.Check(pctx, Target{Addr: c.target(a.Addr, a.Port), Server: c.s, Timeout: c.cfg.Timeout, SOCKS4: c.viaSOCKS4()})
		cancel()
		if ctx.Err() != nil {
			return
		}
		c.applyAgent(r, time.Now())
	}
}

func (c *checker) agentSetMaint() bool {
	c.mu.Lock()
	defer c.mu.Unlock()
	return c.agentMaint
}

// applyAgent acts on one agent reply (carried in r.Info by the agent probe).
func (c *checker) applyAgent(r core.CheckResult, now time.Time) {
	c.mu.Lock()
	c.agentLast, c.agentAt = r, now
	if !r.OK {
		c.mu.Unlock()
		return
	}
	rep, err := ParseAgentReply(r.Info)
	if err != nil {
		c.agentLast.Status, c.agentLast.OK, c.agentLast.Info = "L7RSP", false, err.Error()
		c.mu.Unlock()
		c.m.log().Warn("agent reply rejected", "backend", c.s.Backend, "server", c.s.Name, "err", err)
		return
	}
	changed := false
	if rep.WeightPct >= 0 {
		c.uweight = c.s.ConfigWeight * rep.WeightPct / 100
		if rep.WeightPct > 0 && c.uweight == 0 && c.s.ConfigWeight > 0 {
			c.uweight = 1
		}
		if c.uweight > 256 {
			c.uweight = 256
		}
		changed = c.applyWeightLocked(now) || changed
	}
	if rep.MaxConn >= 0 {
		c.s.SetMaxConn(rep.MaxConn)
	}
	switch rep.Op {
	case "down":
		c.agentDown = true
		changed = c.publishLocked(now) || changed
	case "up":
		if c.agentDown {
			c.agentDown = false
			changed = c.publishLocked(now) || changed
		}
	}
	var admin = -1
	switch rep.Admin {
	case "ready":
		admin = int(core.AdminReady)
	case "drain":
		admin = int(core.AdminDrain)
	case "maint":
		admin = int(core.AdminMaint)
	}
	c.agentMaint = rep.Admin == "maint"
	c.mu.Unlock()
	if admin >= 0 && core.AdminState(admin) != c.s.Admin() {
		c.m.SetAdmin(c.s, core.AdminState(admin))
		return
	}
	if changed {
		c.m.notify(c.s)
	}
}
