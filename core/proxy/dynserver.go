package proxy

import (
	"errors"
	"net/netip"
	"time"

	"github.com/varde-lb/varde/core"
)

// Dynamic servers (HAProxy 2.6's `add server` / `del server` on the admin
// socket). A backend's servers are a copy-on-write list: readers on the
// request path load one snapshot and never lock; add and del build a new
// list under dynMu and swap it in, then hand the pool the new set. A server
// added at runtime lives until the process or generation ends: a reload
// builds its servers from the configuration only, as HAProxy does.

// serverList is one immutable snapshot of a backend's servers.
type serverList struct {
	servers []*server
	cores   []*core.Server // the same servers, for balancers and stats
	maxQ    int64          // sum of maxqueue when every server sets one, 0 = unbounded
}

// sumQueues sets maxQ: HAProxy bounds the backend queue only when every
// server has a maxqueue.
func (l *serverList) sumQueues() {
	l.maxQ = 0
	for _, s := range l.cores {
		if s.MaxQueue <= 0 {
			l.maxQ = 0
			return
		}
		l.maxQ += s.MaxQueue
	}
}

// srvs is the current snapshot of the engine's servers.
func (b *Backend) srvs() []*server { return b.list.Load().servers }

// Servers returns the backend's servers: the configured ones in order, then
// those added at runtime. The slice is a snapshot and must not be modified.
func (b *Backend) Servers() []*core.Server { return b.list.Load().cores }

// DynServer is a server added on the admin socket: the settings HAProxy 2.6
// accepts for a dynamic server that varde builds (core/admin/dynserver.go
// refuses the others).
type DynServer struct {
	Name      string
	Addr      netip.AddrPort
	Weight    int // HAProxy's default for a dynamic server is 1
	MaxConn   int64
	MaxQueue  int64
	Backup    bool
	SendProxy uint8
	ID        int  // 0: the lowest free id
	Enabled   bool // `enabled`: ready at once instead of in maintenance
}

// HAProxy 2.6's answers, for core/admin to print as they are.
var (
	ErrDynamicAlgo   = errors.New("Backend must use a dynamic load balancing to support dynamic servers.")
	ErrServerExists  = errors.New("Already exists a server with the same name in backend.")
	ErrNoSuchServer  = errors.New("No such server.")
	ErrNotInMaint    = errors.New("Only servers in maintenance mode can be deleted.")
	ErrServerBusy    = errors.New("Server still has connections attached to it, cannot remove it.")
	ErrServerIDInUse = errors.New("server id already used")
)

// AcceptsDynamicServers reports whether the backend's algorithm takes
// servers added at runtime (core.DynamicServers).
func (b *Backend) AcceptsDynamicServers() bool { return b.dynOK }

// AddServer adds d to the backend in maintenance, as HAProxy 2.6 does (the
// operator then enables it), or ready with d.Enabled (HAProxy's `enabled`
// keyword). It returns the new server.
func (b *Backend) AddServer(d DynServer) (*core.Server, error) {
	if !b.dynOK {
		return nil, ErrDynamicAlgo
	}
	b.dynMu.Lock()
	defer b.dynMu.Unlock()
	old := b.list.Load()
	for _, s := range old.cores {
		if s.Name == d.Name {
			return nil, ErrServerExists
		}
	}
	id, err := freeID(old.cores, d.ID)
	if err != nil {
		return nil, err
	}
	w := d.Weight
	if w == 0 {
		w = -1 // an explicit weight 0: never picked
	}
	s, err := b.newServer(id-1, ServerConfig{Name: d.Name, Addr: d.Addr.String(), Weight: w, MaxConn: d.MaxConn,
		MaxQueue: d.MaxQueue, Backup: d.Backup, SendProxy: d.SendProxy, Disabled: !d.Enabled, Via: b.cfg.Via})
	if err != nil {
		return nil, err
	}
	// One lane per event loop, sized before the server is published.
	s.lanes = make([]lane, 1+len(b.e.loops))
	next := &serverList{
		servers: append(append(make([]*server, 0, len(old.servers)+1), old.servers...), s),
		cores:   append(append(make([]*core.Server, 0, len(old.cores)+1), old.cores...), s.Server),
	}
	next.sumQueues()
	b.list.Store(next)
	b.pool.SetServers(next.cores)
	return s.Server, nil
}

// freeID is want when free, else HAProxy's next id: the lowest one unused.
func freeID(servers []*core.Server, want int) (int, error) {
	used := map[int]bool{}
	for _, s := range servers {
		used[s.ID] = true
	}
	if want > 0 {
		if used[want] {
			return 0, ErrServerIDInUse
		}
		return want, nil
	}
	for id := 1; ; id++ {
		if !used[id] {
			return id, nil
		}
	}
}

// DelServer removes a server in maintenance that no session uses or waits
// for (HAProxy 2.6's conditions and answers). Its idle connections to the
// server are closed: HAProxy 2.6 refuses while it holds some, varde has
// nothing left to reuse them for.
func (b *Backend) DelServer(name string) (*core.Server, error) {
	b.dynMu.Lock()
	defer b.dynMu.Unlock()
	old := b.list.Load()
	i := -1
	for k, s := range old.cores {
		if s.Name == name {
			i = k
		}
	}
	if i < 0 {
		return nil, ErrNoSuchServer
	}
	s := old.servers[i]
	switch {
	case s.Admin() != core.AdminMaint:
		return nil, ErrNotInMaint
	case s.Active.Load() > 0 || s.Queued.Load() > 0:
		return nil, ErrServerBusy
	}
	next := &serverList{
		servers: append(append(make([]*server, 0, len(old.servers)), old.servers[:i]...), old.servers[i+1:]...),
		cores:   append(append(make([]*core.Server, 0, len(old.cores)), old.cores[:i]...), old.cores[i+1:]...),
	}
	next.sumQueues()
	s.gone.Store(true)
	b.list.Store(next)
	b.pool.SetServers(next.cores)
	s.purgeLane(0, time.Now().Add(time.Hour))
	b.e.purgeLoopLanes(s)
	return s.Server, nil
}
