package vip

import (
	"errors"
	"fmt"
	"net"
	"net/netip"
	"sync"
	"syscall"

	"github.com/vishvananda/netlink"
	"golang.org/x/sys/unix"

	"github.com/varde-lb/varde/core/config/keepalived"
)

// Router installs and removes the routes and policy rules of
// virtual_routes / virtual_rules (while MASTER) and static_routes /
// static_rules (while VRRP runs). The real one is netlink.
type Router interface {
	AddRoute(keepalived.Route) error
	DelRoute(keepalived.Route) error
	AddRule(keepalived.Rule) error
	DelRule(keepalived.Rule) error
}

// netlinkRouter keeps one netlink socket and a link cache, like
// netlinkAddr: routes go in on the failover's critical path.
type netlinkRouter struct {
	h     *netlink.Handle
	mu    sync.Mutex
	links map[string]int
}

func newNetlinkRouter() (*netlinkRouter, error) {
	h, err := netlink.NewHandle()
	if err != nil {
		return nil, fmt.Errorf("vip: netlink: %w", err)
	}
	return &netlinkRouter{h: h, links: map[string]int{}}, nil
}

func (n *netlinkRouter) Close() { n.h.Close() }

func (n *netlinkRouter) index(dev string) (int, error) {
	n.mu.Lock()
	defer n.mu.Unlock()
	if i, ok := n.links[dev]; ok {
		return i, nil
	}
	l, err := n.h.LinkByName(dev)
	if err != nil {
		return 0, fmt.Errorf("vip: interface %s: %w", dev, err)
	}
	n.links[dev] = l.Attrs().Index
	return l.Attrs().Index, nil
}

func ipNet(p netip.Prefix) *net.IPNet {
	return &net.IPNet{IP: p.Addr().AsSlice(), Mask: net.CIDRMask(p.Bits(), p.Addr().BitLen())}
}

func ipOf(a netip.Addr) net.IP {
	if !a.IsValid() {
		return nil
	}
	return a.AsSlice()
}

// rtprotKeepalived is the routes' and rules' protocol: keepalived marks
// them `proto keepalived` (18, iproute2's rt_protos), and so does varde,
// so that tooling filtering on it finds the same ones.
const rtprotKeepalived = 18

var routeTypes = map[string]int{"": unix.RTN_UNICAST, "blackhole": unix.RTN_BLACKHOLE, "unreachable": unix.RTN_UNREACHABLE, "prohibit": unix.RTN_PROHIBIT}

// route builds the netlink route for r. Unlike `ip route add`, keepalived
// gives a route without a gateway scope global, not link, unless the
// configuration says (TestRoutesWithKeepalived compares them).
func (n *netlinkRouter) route(r keepalived.Route) (*netlink.Route, error) {
	nr := &netlink.Route{
		Dst: ipNet(r.Dst), Gw: ipOf(r.Via), Src: ipOf(r.Src),
		Table: r.Table, Priority: r.Metric, Type: routeTypes[r.Type],
		Family: netlink.FAMILY_V4, Protocol: rtprotKeepalived,
	}
	if r.Dst.Addr().Is6() {
		nr.Family = netlink.FAMILY_V6
	}
	if r.Scope != "" {
		nr.Scope = netlink.Scope(keepalived.ScopeValue(r.Scope))
	}
	if r.Dev != "" {
		i, err := n.index(r.Dev)
		if err != nil {
			return nil, err
		}
		nr.LinkIndex = i
	}
	return nr, nil
}

// AddRoute prepends the route, as keepalived does by default (the
// kernel's NLM_F_CREATE without EXCL: `ip route prepend`); the same route
// already there is success.
func (n *netlinkRouter) AddRoute(r keepalived.Route) error {
	nr, err := n.route(r)
	if err != nil {
		return err
	}
	if err := n.h.RouteAddEcmp(nr); err != nil && !errors.Is(err, syscall.EEXIST) {
		return capErr("CAP_NET_ADMIN", "adding route "+r.String(), err)
	}
	return nil
}

// DelRoute removes the route; one already gone is success.
func (n *netlinkRouter) DelRoute(r keepalived.Route) error {
	nr, err := n.route(r)
	if err != nil {
		return err
	}
	nr.Protocol = 0 // match the route whoever added it
	if err := n.h.RouteDel(nr); err != nil && !errors.Is(err, syscall.ESRCH) && !errors.Is(err, syscall.ENOENT) {
		return capErr("CAP_NET_ADMIN", "removing route "+r.String(), err)
	}
	return nil
}

func rule(r keepalived.Rule) *netlink.Rule {
	nr := netlink.NewRule()
	nr.Family = netlink.FAMILY_V4
	if r.V6 {
		nr.Family = netlink.FAMILY_V6
	}
	nr.Table, nr.Priority, nr.Protocol = r.Table, r.Priority, rtprotKeepalived
	nr.IifName, nr.OifName = r.IIF, r.OIF
	if r.From.IsValid() {
		nr.Src = ipNet(r.From)
	}
	if r.To.IsValid() {
		nr.Dst = ipNet(r.To)
	}
	return nr
}

// AddRule adds the rule; the same rule already there is success.
func (n *netlinkRouter) AddRule(r keepalived.Rule) error {
	if err := n.h.RuleAdd(rule(r)); err != nil && !errors.Is(err, syscall.EEXIST) {
		return capErr("CAP_NET_ADMIN", "adding rule "+r.String(), err)
	}
	return nil
}

// DelRule removes the rule; one already gone is success.
func (n *netlinkRouter) DelRule(r keepalived.Rule) error {
	if err := n.h.RuleDel(rule(r)); err != nil && !errors.Is(err, syscall.ENOENT) && !errors.Is(err, syscall.ESRCH) {
		return capErr("CAP_NET_ADMIN", "removing rule "+r.String(), err)
	}
	return nil
}

// installRouting adds rules then routes (a route may need a rule's table
// to be reachable only after the rule, never the reverse); it logs what
// fails and goes on, as keepalived does.
func installRouting(rt Router, routes []keepalived.Route, rules []keepalived.Rule, logf func(string, ...any)) {
	if rt == nil {
		return
	}
	for _, r := range rules {
		if err := rt.AddRule(r); err != nil {
			logf("%v", err)
		}
	}
	for _, r := range routes {
		if err := rt.AddRoute(r); err != nil {
			logf("%v", err)
		}
	}
}

// removeRouting removes routes then rules, in reverse configuration order.
func removeRouting(rt Router, routes []keepalived.Route, rules []keepalived.Rule, logf func(string, ...any)) {
	if rt == nil {
		return
	}
	for i := len(routes) - 1; i >= 0; i-- {
		if err := rt.DelRoute(routes[i]); err != nil {
			logf("%v", err)
		}
	}
	for i := len(rules) - 1; i >= 0; i-- {
		if err := rt.DelRule(rules[i]); err != nil {
			logf("%v", err)
		}
	}
}
