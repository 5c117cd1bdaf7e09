package proxy

import (
	"sync"
	"time"

	"github.com/varde-lb/varde/core"
	"github.com/varde-lb/varde/core/acl"
	"github.com/varde-lb/varde/core/config"
	"github.com/varde-lb/varde/core/diag"
)

// UseServerRules are a backend's `use-server NAME if|unless COND` lines.
// As in HAProxy 2.6 (process_server_rules), they run first, before cookie
// persistence, the stick rules and the balancer (Backend.stickTo), so a
// matching rule overrides a persistence cookie: the first matching rule whose server is not
// stopped (down or in maintenance) takes the request, as persistence does
// (no redispatch unless `option redispatch`); a stopped server is still
// taken with `option persist` or when `force-persist` matches, else the
// next rule is tried.
type UseServerRules struct {
	Rules   []useServerRule
	Persist bool   // option persist
	Force   []Cond // force-persist conditions
}

type useServerRule struct {
	name string
	cond Cond
}

// useServersOf compiles a backend's use-server lines; nil without any.
func useServersOf(p *config.Proxy, set *acl.Set) (*UseServerRules, error) {
	if len(p.UseServers) == 0 {
		return nil, nil
	}
	u := &UseServerRules{Persist: p.Option("persist") != nil}
	for _, us := range p.UseServers {
		c, err := CompileCondition(us.Cond, set)
		if err != nil {
			return nil, diag.At(us.Pos, "use-server", "", err)
		}
		u.Rules = append(u.Rules, useServerRule{name: us.Server, cond: c})
	}
	for _, fc := range p.ForcePersist {
		c, err := CompileCondition(fc, set)
		if err != nil {
			return nil, diag.At(fc.Pos, "force-persist", "", err)
		}
		u.Force = append(u.Force, c)
	}
	return u, nil
}

// useServer is the server the use-server rules bind req to, or nil.
func (b *Backend) useServer(req core.Request) *core.Server {
	u := b.cfg.UseServer
	for i := range u.Rules {
		r := &u.Rules[i]
		if !r.cond.Match(req) {
			continue
		}
		cs := b.serverNamed(r.name)
		if cs == nil {
			continue // deleted at run time (`del server`)
		}
		if (cs.IsUp() && cs.Admin() != core.AdminMaint) || u.Persist || u.forced(req) {
			return cs
		}
	}
	return nil
}

func (u *UseServerRules) forced(req core.Request) bool {
	for _, c := range u.Force {
		if c.Match(req) {
			return true
		}
	}
	return false
}

func (b *Backend) serverNamed(name string) *core.Server {
	for _, cs := range b.Servers() {
		if cs.Name == name {
			return cs
		}
	}
	return nil
}

// dispatchOf applies `dispatch ADDR:PORT` without balance: HAProxy 2.6
// sends the requests its balancer would place to that address; its logs
// name no server (<NOSRV>), and so does varde's internal dispatch server
// (Backend.dispatch), which is none of the backend's servers: the stats
// list the configured servers only, as HAProxy does, checks run on them,
// and use-server, cookie persistence and stick match still send requests
// to them (Backend.choose asks the dispatch server only where the
// balancer would be asked). Stick rules that store are refused beside
// dispatch (config: refuseDispatchChoice).
func dispatchOf(bc *BackendConfig, p *config.Proxy) {
	if p.Dispatch == nil || p.Balance != nil {
		return
	}
	bc.Dispatch = &ServerConfig{Name: "<NOSRV>", Addr: p.Dispatch.Address.Addr.String(), Weight: 1}
}

// sessLimiter is `rate-limit sessions N`: at most N new sessions a second
// on a frontend, as HAProxy's listener rate limit. Connections beyond it
// are not refused: the accept loops wait, so clients queue in the
// kernel's backlog, as HAProxy pauses its listeners. A token bucket
// holding up to N tokens, refilled at N a second, shared by the
// frontend's accept loops.
type sessLimiter struct {
	mu     sync.Mutex
	rate   float64 // tokens a second
	tokens float64
	last   time.Time
}

func newSessLimiter(n int) *sessLimiter {
	if n <= 0 {
		return nil
	}
	return &sessLimiter{rate: float64(n), tokens: float64(n), last: time.Now()}
}

// wait takes a token, sleeping until one is due; false when stop closes.
func (l *sessLimiter) wait(stop <-chan struct{}) bool {
	if l == nil {
		return true
	}
	for {
		l.mu.Lock()
		now := time.Now()
		l.tokens = min(l.rate, l.tokens+now.Sub(l.last).Seconds()*l.rate)
		l.last = now
		if l.tokens >= 1 {
			l.tokens--
			l.mu.Unlock()
			return true
		}
		due := time.Duration((1 - l.tokens) / l.rate * float64(time.Second))
		l.mu.Unlock()
		t := time.NewTimer(due)
		select {
		case <-t.C:
		case <-stop:
			t.Stop()
			return false
		}
	}
}
