package health

import "github.com/varde-lb/varde/core"

// HAProxy's operational server states (enum srv_state), as a server-state
// file writes them.
const (
	OpStopped  = 0 // SRV_ST_STOPPED: down
	OpStarting = 1 // SRV_ST_STARTING: up, warming up
	OpRunning  = 2 // SRV_ST_RUNNING: up
	OpStopping = 3 // SRV_ST_STOPPING: up but soft-stopping (NOLB)
)

// RestoreState applies the operational state and check health a
// server-state file recorded for s (HAProxy's srv_state_srv_update), before
// Start. As in HAProxy this holds for servers without checks too: one
// saved as stopped stays down until an operator or a check says otherwise.
// STARTING has no state of its own in varde: it counts as up with the
// lowest up health (HAProxy serves a starting server, slowstart aside).
func (m *Manager) RestoreState(s *core.Server, op, health int) {
	c := m.get(s)
	if c == nil {
		return
	}
	c.mu.Lock()
	rise, top := c.cfg.Rise, c.max()
	stopping := false
	switch op {
	case OpStopped:
		health = 0
	case OpStarting:
		health = rise
		if rise == 1 {
			health = top
		}
	case OpRunning:
		health = top
	case OpStopping:
		if c.cfg.Fall == 1 {
			health = 0
			break
		}
		if health < rise || health > top-1 {
			health = rise
		}
		stopping = true
	}
	c.health = health
	s.SetHealth(c.healthForLocked())
	s.SetStopping(stopping)
	c.mu.Unlock()
	m.notify(s)
}
