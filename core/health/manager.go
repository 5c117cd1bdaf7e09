package health

import (
	"context"
	"fmt"
	"log/slog"
	"sync"
	"time"

	"github.com/varde-lb/varde/core"
)

// Options configure a Manager.
type Options struct {
	Logger *slog.Logger
	// Notify is called after a server's up/down state, admin state or
	// effective weight changed, so the backend can rebuild its pool
	// (core/pool's Refresh). It must not block for long.
	Notify func(s *core.Server)
	// Judge may overrule a probe's verdict (a policy's health(server,
	// result)); nil keeps it. A judge that panics leaves the probe's own
	// verdict and the fallback is counted (Manager.JudgeFallbacks).
	Judge core.HealthJudge
	// Events, when set, returns where state changes and check results go
	// as HAProxy logs them (events.go); read at each event, since the log
	// pipeline starts after the checks are built.
	Events func() EventSink
}

// Manager runs the checks of one configuration generation and is the single
// writer of servers' health, admin state and effective weight, so slowstart,
// agent replies and `set weight` compose instead of overwriting each other.
type Manager struct {
	opts     Options
	mu       sync.Mutex
	checkers map[*core.Server]*checker
	order    []*checker
	ctx      context.Context
	cancel   context.CancelFunc
	wg       sync.WaitGroup
	judgeFB  core.Fallbacks
}

// NewManager returns a manager with no servers.
func NewManager(opts Options) *Manager {
	m := &Manager{opts: opts, checkers: map[*core.Server]*checker{}}
	if opts.Judge != nil {
		m.opts.Judge = guardedJudge{j: opts.Judge, fb: &m.judgeFB}
	}
	return m
}

// guardedJudge keeps a judge's panic from reaching the checker: the
// probe's own verdict stands and the fallback is counted.
type guardedJudge struct {
	j  core.HealthJudge
	fb *core.Fallbacks
}

func (g guardedJudge) Judge(s core.ServerView, r core.CheckResult) (ok bool) {
	defer func() {
		if recover() != nil {
			g.fb.Panicked()
			ok = r.OK
		}
	}()
	return g.j.Judge(s, r)
}

// JudgeFallbacks counts the probe results the judge could not rule on.
func (m *Manager) JudgeFallbacks() core.FallbackStats { return m.judgeFB.Stats() }

func (m *Manager) log() *slog.Logger {
	if m.opts.Logger == nil {
		return slog.New(slog.DiscardHandler)
	}
	return m.opts.Logger
}

// Add registers a server with its check configuration (cfg.Enabled false
// still lets the manager own its admin state and weight). Call before Start.
func (m *Manager) Add(s *core.Server, cfg Config) error {
	cfg.Normalize()
	if err := cfg.Validate(); err != nil {
		return fmt.Errorf("%s/%s: %w", s.Backend, s.Name, err)
	}
	c := &checker{m: m, s: s, cfg: cfg, resched: make(chan struct{}, 1), uweight: s.ConfigWeight}
	c.health = c.max() // unchecked servers are simply up
	if s.Weight() != s.ConfigWeight {
		c.uweight = s.Weight()
	}
	if cfg.Enabled {
		p, err := NewProbe(cfg.Probe)
		if err != nil {
			return fmt.Errorf("%s/%s: %w", s.Backend, s.Name, err)
		}
		c.probe = p
		// HAProxy starts a checked server UP with health == rise: traffic
		// flows at once, and the first failed check marks it down.
		c.health = cfg.Rise
		s.SetHealth(c.healthForLocked())
		s.CheckStatus.Store("INI")
	}
	if cfg.Agent != nil {
		p, err := NewProbe(ProbeSpec{Type: "agent", AgentSend: cfg.Agent.Send})
		if err != nil {
			return fmt.Errorf("%s/%s: agent-check: %w", s.Backend, s.Name, err)
		}
		c.agent = p
	}
	m.mu.Lock()
	defer m.mu.Unlock()
	if _, dup := m.checkers[s]; dup {
		return fmt.Errorf("health: %s/%s added twice", s.Backend, s.Name)
	}
	m.checkers[s] = c
	m.order = append(m.order, c)
	return nil
}

// Remove forgets s (the admin socket's `del server`): its check and agent
// loops end at their next tick, and its admin state and weight are no
// longer the manager's.
func (m *Manager) Remove(s *core.Server) {
	m.mu.Lock()
	defer m.mu.Unlock()
	c := m.checkers[s]
	if c == nil {
		return
	}
	delete(m.checkers, s)
	for i, o := range m.order {
		if o == c {
			m.order = append(m.order[:i:i], m.order[i+1:]...)
			break
		}
	}
}

// AddPaused registers a server added at runtime (the admin socket's `add
// server`) with its checks configured but not running until SetChecks
// turns them on, as HAProxy 2.6 does for a dynamic server (`enable
// health`). Safe after Start: the check loop starts at once, idle.
func (m *Manager) AddPaused(s *core.Server, cfg Config) error {
	if err := m.Add(s, cfg); err != nil {
		return err
	}
	m.mu.Lock()
	defer m.mu.Unlock()
	c := m.checkers[s]
	c.paused.Store(true)
	if c.probe != nil && m.ctx != nil {
		m.wg.Add(1)
		go func() { defer m.wg.Done(); c.run(m.ctx, c.cfg.Inter) }()
	}
	return nil
}

// SetChecks turns the health checks of s on or off (`enable health`,
// `disable health`); while off the server keeps its state and the stats
// say "no check". It returns false when s has no check configured.
func (m *Manager) SetChecks(s *core.Server, on bool) bool {
	c := m.get(s)
	if c == nil || c.probe == nil {
		return false
	}
	if c.paused.Swap(!on) && on {
		c.wake() // the first check comes at once, not after a whole inter
	}
	return true
}

// removed reports whether Remove forgot c's server.
func (c *checker) removed() bool { return c.m.get(c.s) != c }

// Start launches the check loops. The first checks are spread over one
// inter, like HAProxy, so a backend's servers are not probed in lockstep.
func (m *Manager) Start(ctx context.Context) {
	m.mu.Lock()
	defer m.mu.Unlock()
	m.ctx, m.cancel = context.WithCancel(ctx)
	n := 0
	for _, c := range m.order {
		if c.probe != nil {
			n++
		}
	}
	i := 0
	for _, c := range m.order {
		if c.probe != nil {
			first := time.Duration(int64(c.cfg.Inter) * int64(i) / int64(max(n, 1)))
			i++
			m.wg.Add(1)
			go func() { defer m.wg.Done(); c.run(m.ctx, first) }()
		}
		if c.agent != nil {
			m.wg.Add(1)
			go func() { defer m.wg.Done(); c.runAgent(m.ctx, 0) }()
		}
	}
}

// Close stops every check loop and waits for in-flight probes to return.
func (m *Manager) Close() {
	m.mu.Lock()
	cancel := m.cancel
	m.mu.Unlock()
	if cancel != nil {
		cancel()
	}
	m.wg.Wait()
}

func (m *Manager) get(s *core.Server) *checker {
	m.mu.Lock()
	defer m.mu.Unlock()
	return m.checkers[s]
}

func (m *Manager) notify(s *core.Server) {
	if m.opts.Notify != nil {
		m.opts.Notify(s)
	}
}

// changed logs an up/down transition the way HAProxy words it and notifies.
func (m *Manager) changed(s *core.Server, r core.CheckResult) {
	state := "DOWN"
	if s.IsUp() {
		state = "UP"
	}
	m.log().Warn(fmt.Sprintf("Server %s/%s is %s", s.Backend, s.Name, state),
		"reason", Description(r.Status), "info", r.Info, "check_duration", r.Duration, "status", r.Status)
	m.emitState(s, r)
	m.notify(s)
}

// Observe feeds one passive observation: ok false for a connection error
// (layer4) or, in layer7 mode, for a response the engine judged bad.
func (m *Manager) Observe(s *core.Server, ok bool) {
	if c := m.get(s); c != nil {
		c.observe(ok)
	}
}

// ObserveResult feeds one transaction outcome in the server's observe mode:
// layer4 counts connection failures, layer7 also counts bad statuses.
func (m *Manager) ObserveResult(s *core.Server, connFailed bool, status int) {
	c := m.get(s)
	if c == nil || c.cfg.Observe == "" {
		return
	}
	ok := !connFailed
	if ok && c.cfg.Observe == "layer7" {
		ok = !(status >= 500 && status <= 599 && status != 501 && status != 505)
	}
	c.observe(ok)
}

// ObserveHTTP feeds a response status for `observe layer7`: 500-599 except
// 501 and 505 count as errors, like HAProxy.
func (m *Manager) ObserveHTTP(s *core.Server, status int) {
	c := m.get(s)
	if c == nil || c.cfg.Observe != "layer7" {
		return
	}
	c.observe(!(status >= 500 && status <= 599 && status != 501 && status != 505))
}

// SetAdmin changes a server's admin state (admin socket, stats page, agent).
// Leaving maintenance re-runs a check promptly and starts slowstart.
func (m *Manager) SetAdmin(s *core.Server, a core.AdminState) {
	c := m.get(s)
	old := s.OperatorAdmin() // resolution maintenance (RMAINT) is not the operator's to leave
	s.SetAdmin(a)
	if c != nil && old == core.AdminMaint && a != core.AdminMaint {
		c.mu.Lock()
		c.startRampLocked(time.Now())
		c.applyWeightLocked(time.Now())
		c.mu.Unlock()
		c.wake()
	}
	if old != a {
		m.log().Info(fmt.Sprintf("Server %s/%s is now in %s state", s.Backend, s.Name, a), "backend", s.Backend, "server", s.Name)
		m.emitAdmin(s, old, a)
		m.notify(s)
	}
}

// SetWeight sets the user weight (`set server B/S weight N`); slowstart, when
// ramping, scales it.
func (m *Manager) SetWeight(s *core.Server, w int) {
	w = min(max(w, 0), 256)
	c := m.get(s)
	if c == nil {
		s.SetWeight(w)
		m.notify(s)
		return
	}
	c.mu.Lock()
	c.uweight = w
	c.applyWeightLocked(time.Now())
	c.mu.Unlock()
	m.notify(s)
}

// UserWeight is the weight an operator or agent set, before slowstart.
func (m *Manager) UserWeight(s *core.Server) int {
	c := m.get(s)
	if c == nil {
		return s.Weight()
	}
	c.mu.Lock()
	defer c.mu.Unlock()
	return c.uweight
}

// CheckNow runs the next check of s immediately (tests, `enable health`).
func (m *Manager) CheckNow(s *core.Server) {
	if c := m.get(s); c != nil && c.probe != nil {
		c.mu.Lock()
		c.fast = true
		c.mu.Unlock()
		c.wake()
	}
}

// Info is a server's check state for the stats page, CSV and metrics.
type Info struct {
	Enabled      bool
	Health       int // rise/fall counter
	Rise, Fall   int
	Status       string // last status word (INI before the first check)
	Code         int
	Duration     time.Duration
	Desc         string // HAProxy's long text for Status
	Detail       string // probe's own text ("Connection refused")
	LastCheck    time.Time
	ChkFail      uint64 // failed checks
	ChkDown      uint64 // UP->DOWN transitions
	Throttle     int    // slowstart percentage, 100 when none
	Agent        bool
	AgentStatus  string
	AgentDetail  string
	AgentDown    bool
	UserWeight   int
	Inter        time.Duration
	Slowstarting bool
}

// Info returns the check state of s; ok is false when s is unknown.
func (m *Manager) Info(s *core.Server) (Info, bool) {
	c := m.get(s)
	if c == nil {
		return Info{}, false
	}
	c.mu.Lock()
	defer c.mu.Unlock()
	i := Info{
		Enabled: c.probe != nil && !c.paused.Load(), Health: c.health, Rise: c.cfg.Rise, Fall: c.cfg.Fall,
		ChkFail: c.chkFail, ChkDown: c.chkDown, Throttle: c.throttleLocked(time.Now()),
		Agent: c.agent != nil, AgentDown: c.agentDown, UserWeight: c.uweight, Inter: c.cfg.Inter,
		Slowstarting: !c.rampStart.IsZero(),
	}
	if i.Enabled {
		i.Status = "INI"
		if c.checked {
			i.Status, i.Code, i.Duration, i.Detail, i.LastCheck = c.last.Status, c.last.Code, c.last.Duration, c.last.Info, c.lastAt
		}
		i.Desc = Description(i.Status)
	}
	if i.Agent && !c.agentAt.IsZero() {
		i.AgentStatus, i.AgentDetail = c.agentLast.Status, c.agentLast.Info
	}
	return i, true
}

// StatusText is the stats CSV's status column for a server, HAProxy's words:
// UP, DOWN, "UP 2/3", "DOWN 1/2", DRAIN, MAINT, "no check", "DOWN (agent)".
func StatusText(s *core.Server, i Info, known bool) string {
	if s.ResolveMaint() {
		return "MAINT (resolution)" // HAProxy's SRV_ADMF_RMAINT, before any other maintenance
	}
	if s.Admin() == core.AdminMaint {
		return "MAINT"
	}
	if s.IsUp() {
		st := "UP"
		if known && i.Enabled && i.Health < i.Rise+i.Fall-1 {
			st = fmt.Sprintf("UP %d/%d", i.Health-i.Rise+1, i.Fall)
		}
		if s.Admin() == core.AdminDrain {
			return "DRAIN" + st[2:]
		}
		if s.Stopping() {
			return "NOLB" + st[2:] // HAProxy: "NOLB", "NOLB 1/3"
		}
		if st == "UP" && (!known || !i.Enabled) {
			return "no check"
		}
		return st
	}
	switch {
	case known && i.Agent && i.AgentDown:
		return "DOWN (agent)"
	case known && i.Enabled && i.Health > 0:
		return fmt.Sprintf("DOWN %d/%d", i.Health, i.Rise)
	}
	return "DOWN"
}
