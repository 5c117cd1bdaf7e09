package admin

import (
	"time"

	"github.com/varde-lb/varde/core"
	"github.com/varde-lb/varde/core/config"
	"github.com/varde-lb/varde/core/proxy"
)

// noteBackendState records whether b can take new traffic (HAProxy: a
// backend is DOWN when its load-balancing weight is 0, i.e. no server is
// up, ready and weighted), for the BACKEND row's status, chkdown, lastchg
// and downtime.
func noteBackendState(b *proxy.Backend) {
	b.Meters.Up.Update(anyUsable(b.Servers()), time.Now().UnixNano())
}

func anyUsable(servers []*core.Server) bool {
	for _, s := range servers {
		if s.Usable() {
			return true
		}
	}
	return len(servers) == 0
}

// proxyIDs numbers proxies as HAProxy 2.6 does (the iid column): in
// configuration order, a proxy's `id` when set, otherwise the first free
// number from a counter that every proxy advances. With a `stats socket`
// the CLI's own GLOBAL proxy is created first and takes number 1.
func proxyIDs(c *config.Config) []int {
	used := map[int]bool{}
	for _, p := range c.Proxies {
		if p.ID > 0 {
			used[int(p.ID)] = true
		}
	}
	next := 1
	if len(c.Global.StatsSockets) > 0 {
		used[1], next = true, 2
	}
	ids := make([]int, len(c.Proxies))
	for i, p := range c.Proxies {
		if p.ID > 0 {
			ids[i] = int(p.ID)
			next++
			continue
		}
		for used[next] {
			next++
		}
		ids[i], used[next] = next, true
		next++
	}
	return ids
}
