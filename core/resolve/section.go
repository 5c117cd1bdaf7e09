package resolve

import (
	"context"
	"net/netip"
	"strings"
	"sync"
	"time"

	"github.com/varde-lb/varde/core"
	"github.com/varde-lb/varde/core/config"
	"github.com/varde-lb/varde/core/dns"
	"github.com/varde-lb/varde/core/proxy"
)

// section is one resolvers section at run time.
type section struct {
	rt     *Runtime
	cfg    *config.Resolvers
	client *dns.Client
	kick   chan struct{} // a resolution to run now (set server fqdn)

	mu  sync.Mutex
	res []*resolution
}

// resolution is one name (and preferred family) with the servers that
// use it; HAProxy shares a resolution between them the same way.
type resolution struct {
	fqdn      string
	preferV4  bool
	members   []*member
	records   []record // the addresses of the answers, in HAProxy's round-robin order
	status    dns.Status
	lastValid time.Time
	lastRun   time.Time
	running   bool
}

// record is one address of the answer and when it was last seen in one.
type record struct {
	ip   netip.Addr
	seen time.Time
	key  uint32 // recordKey: the order of the records
}

// member is a server resolved by a resolution.
type member struct {
	b        *proxy.Backend
	s        *core.Server
	cfg      *proxy.ResolveConfig
	fqdn     string
	attached netip.Addr // the record it holds, invalid when none
}

func newSection(rt *Runtime, c *config.Resolvers) *section {
	cl := &dns.Client{Retry: c.Retry, Retries: c.Retries, PayloadSize: c.PayloadSize}
	for _, ns := range c.AllNameservers() {
		cl.Servers = append(cl.Servers, dns.Nameserver{ID: ns.ID, Addr: ns.Addr, TCP: ns.TCP, Stats: &dns.Stats{}})
	}
	return &section{rt: rt, cfg: c, client: cl, kick: make(chan struct{}, 1)}
}

// attach adds m to the resolution of its name, made when needed. The
// resolution starts as of now (HAProxy's last_valid at creation).
func (s *section) attach(m *member) {
	s.mu.Lock()
	defer s.mu.Unlock()
	s.attachLocked(m)
}

func (s *section) attachLocked(m *member) {
	for _, r := range s.res {
		if strings.EqualFold(r.fqdn, m.fqdn) && r.preferV4 == m.cfg.PreferV4 {
			r.members = append(r.members, m)
			return
		}
	}
	s.res = append(s.res, &resolution{fqdn: m.fqdn, preferV4: m.cfg.PreferV4, members: []*member{m}, lastValid: time.Now()})
}

// run resolves every resolution due each `timeout resolve`: one whose
// last run is `hold valid` old (HAProxy's resolv_process_resolvers).
func (s *section) run(ctx context.Context) {
	s.mu.Lock()
	idle := len(s.res) == 0
	s.mu.Unlock()
	if idle {
		return // no server uses the section, and none can start to
	}
	var wg sync.WaitGroup
	defer wg.Wait()
	t := time.NewTicker(s.cfg.Resolve)
	defer t.Stop()
	for {
		s.mu.Lock()
		now := time.Now()
		for _, r := range s.res {
			if r.running || len(r.members) == 0 || (!r.lastRun.IsZero() && now.Sub(r.lastRun) < s.cfg.HoldValid) {
				continue
			}
			r.running = true
			wg.Add(1)
			go func() {
				defer wg.Done()
				s.resolve(ctx, r)
			}()
		}
		s.mu.Unlock()
		select {
		case <-ctx.Done():
			return
		case <-t.C:
		case <-s.kick:
		}
	}
}

// resolve runs one query and applies its answer.
func (s *section) resolve(ctx context.Context, r *resolution) {
	a := s.client.Resolve(ctx, r.fqdn, r.preferV4)
	s.mu.Lock()
	defer s.mu.Unlock()
	r.running, r.lastRun = false, time.Now()
	if ctx.Err() != nil {
		return
	}
	s.apply(r, a, time.Now())
}
