package peers

import (
	"fmt"
	"sort"
	"strings"
	"sync"

	"github.com/varde-lb/varde/core/proxy"
)

// byEngine finds a generation's replication from its engine, for the
// admin socket's `show peers` (the socket holds the engine).
var byEngine sync.Map // *proxy.Engine -> *part

// ForEngine returns the nodes of e's generation (nil without remote peers).
func ForEngine(e *proxy.Engine) []*Node {
	if e == nil {
		return nil
	}
	v, _ := byEngine.Load(e)
	if pt, ok := v.(*part); ok {
		return pt.nodes
	}
	return nil
}

// established reports whether a session with peer name is up.
func (n *Node) established(name string) bool {
	n.mu.Lock()
	defer n.mu.Unlock()
	for s := range n.sessions {
		if s.peer == name {
			return true
		}
	}
	return false
}

// Show writes `show peers` in the shape of HAProxy 2.6's (a section line,
// then one line per peer with its address and status; ESTA when a session
// is established, else CONN), without HAProxy's internal counters. A
// section name filters.
func Show(nodes []*Node, section string) string {
	var b strings.Builder
	for _, n := range nodes {
		if section != "" && n.Section != section {
			continue
		}
		fmt.Fprintf(&b, "0x0: id=%s disabled=0 flags=0x0\n", n.Section)
		fmt.Fprintf(&b, "  0x0: id=%s(local,inactive) addr=%s\n", n.Local, n.Addr)
		names := make([]string, 0, len(n.Remotes))
		for name := range n.Remotes {
			names = append(names, name)
		}
		sort.Strings(names)
		for _, name := range names {
			st := "CONN"
			if n.established(name) {
				st = "ESTA"
			}
			fmt.Fprintf(&b, "  0x0: id=%s(remote,active) addr=%s status=%s\n", name, n.Remotes[name], st)
		}
		b.WriteString("\n")
	}
	return b.String()
}
