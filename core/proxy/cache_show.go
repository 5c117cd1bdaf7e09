package proxy

import (
	"fmt"
	"sort"
	"strings"
)

// ShowCache is the admin socket's `show cache` in HAProxy 2.6's format
// (cli_io_handler_show_cache): per cache, its name and the 1 kB blocks
// still available, then one line per fresh entry in hash order. The
// addresses are those of varde's objects, as HAProxy prints its own; an
// entry is never pinned while sent (cache_store.go), so refcount is 0.
func (e *Engine) ShowCache() string {
	if e == nil || len(e.cfg.Caches) == 0 {
		return ""
	}
	names := make([]string, 0, len(e.cfg.Caches))
	for n := range e.cfg.Caches {
		names = append(names, n)
	}
	sort.Strings(names)
	var b strings.Builder
	for _, n := range names {
		k := e.cfg.Caches[n]
		// HAProxy's available blocks count the stored objects too (they
		// are evicted on demand) unless one is being written: varde
		// pins none, so every block is available.
		_, list := k.snapshot()
		fmt.Fprintf(&b, "%p: %s (shctx:%p, available blocks:%d)\n", k, k.Name, &k.mu, k.maxBlocks)
		sort.SliceStable(list, func(i, j int) bool { return list[i].hash < list[j].hash })
		for _, it := range list {
			fmt.Fprintf(&b, "%p hash:%d vary:0x%x size:%d (%d blocks), refcount:0, expire:%d\n",
				it.e, it.hash, it.sec[:], it.size, it.blocks, it.expire)
		}
	}
	return b.String()
}
