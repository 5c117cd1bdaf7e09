package peers

import (
	"context"
	"log/slog"

	"github.com/varde-lb/varde/core/config"
	"github.com/varde-lb/varde/core/diag"
	"github.com/varde-lb/varde/core/generation"
	"github.com/varde-lb/varde/core/proxy"
)

// OrderPeers starts replication once the engine built its tables.
const OrderPeers = 26

func init() {
	generation.Register(generation.Subsystem{Name: "peers", Order: OrderPeers, Prepare: prepare})
}

// part is one generation's peers sections that replicate to remote
// peers (sections with a local peer only need nothing at run time: a
// reload adopts the tables).
type part struct {
	nodes  []*Node
	engine *proxy.Engine
}

func prepare(g *generation.Generation, d *diag.List) generation.Part {
	c, e := g.HAProxy(), proxy.EngineOf.Get(g)
	if c == nil || e == nil {
		return nil
	}
	log := g.Opts.Logger
	if log == nil {
		log = slog.New(slog.DiscardHandler)
	}
	pt := &part{}
	for _, s := range c.Peers {
		if !s.Active() || len(s.Remote()) == 0 {
			continue
		}
		n, err := NewNode(s, c, e.StickTables(), serverNames(c, e), g.Opts.Sockets, log)
		if err != nil {
			d.Errorf(s.Pos, "peers", "use ip, ipv6, integer, string or binary keys in replicated tables", "peers %s: %v", s.Name, err)
			continue
		}
		pt.nodes = append(pt.nodes, n)
	}
	if len(pt.nodes) == 0 {
		return nil
	}
	pt.engine = e
	byEngine.Store(e, pt)
	return pt
}

// Close forgets a part that was prepared but not started (varde check).
func (pt *part) Close() error {
	byEngine.Delete(pt.engine)
	return nil
}

// serverNames finds, for a table, the first backend whose stick rules
// use it: server ids are that backend's (HAProxy stores the name of the
// server the rule's backend chose). Servers added at run time count: the
// list is read at each use.
func serverNames(c *config.Config, e *proxy.Engine) ServerNames {
	return func(table string) func(uint64) (string, bool) {
		for _, px := range c.Proxies {
			for _, r := range px.Stick {
				name := r.Table
				if name == "" {
					name = px.Name
				}
				if name != table {
					continue
				}
				for _, b := range e.Backends() {
					if b.Name == px.Name {
						return func(id uint64) (string, bool) { return serverByID(b, id) }
					}
				}
			}
		}
		return nil
	}
}

func serverByID(b *proxy.Backend, id uint64) (string, bool) {
	for _, s := range b.Servers() {
		if uint64(s.ID) == id {
			return s.Name, true
		}
	}
	return "", false
}

func (pt *part) Start(ctx context.Context) error {
	for i, n := range pt.nodes {
		if err := n.Start(ctx); err != nil {
			for _, o := range pt.nodes[:i] {
				o.Stop()
			}
			return err
		}
	}
	return nil
}

func (pt *part) Stop(context.Context) error {
	byEngine.Delete(pt.engine)
	for _, n := range pt.nodes {
		n.Stop()
	}
	return nil
}

// Inherit offers the running generation's peer listeners to this one
// (the same address is taken over, not bound twice); its sessions end
// when it stops, and the remote peers reconnect to this generation.
func (pt *part) Inherit(prev generation.Part) {
	if old, ok := prev.(*part); ok {
		for _, n := range old.nodes {
			n.Offer()
		}
	}
	for _, n := range pt.nodes {
		n.inherited = true // the engine adopted the tables: no resync to ask
	}
}
