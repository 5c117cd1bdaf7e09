package vip

import (
	"context"
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

// installRouting adds routes then rules, and removeRouting removes rules
// then routes, each in keepalived 2.2.7's order ("setting Virtual Routes",
// "setting Virtual Rules"; "removing Virtual Rules", "removing Virtual
// Routes"). Failures are logged and the rest goes on, as keepalived does.
func installRouting(rt Router, routes []keepalived.Route, rules []keepalived.Rule, logf func(string, ...any)) {
	if rt == nil {
		return
	}
	for _, r := range routes {
		if err := rt.AddRoute(r); err != nil {
			logf("%v", err)
		}
	}
	for _, r := range rules {
		if err := rt.AddRule(r); err != nil {
			logf("%v", err)
		}
	}
}

func removeRouting(rt Router, routes []keepalived.Route, rules []keepalived.Rule, logf func(string, ...any)) {
	if rt == nil {
		return
	}
	for _, r := range rules {
		if err := rt.DelRule(r); err != nil {
			logf("%v", err)
		}
	}
	for _, r := range routes {
		if err := rt.DelRoute(r); err != nil {
			logf("%v", err)
		}
	}
}

// deletedRoute is a route the kernel reports deleted: what identifies a
// virtual route (destination, table, interface).
type deletedRoute struct {
	dst       netip.Prefix
	table     int
	linkIndex int
}

// watchRoutes follows route deletions, as watchAddrs does for addresses:
// keepalived tracks each virtual route written with a dev, and a master
// whose tracked route someone deleted steps down (priority-0 advert, its
// routes and VIPs removed), then takes it back after Master_Down_Interval
// when no other master appears, re-installing the route. Only managers
// with virtual routes subscribe.
func (m *Manager) watchRoutes(ctx context.Context) error {
	need := false
	for _, in := range m.cfg.Instances {
		need = need || len(in.Routes) > 0
	}
	if !need {
		return nil
	}
	updates := make(chan netlink.RouteUpdate, 64)
	done := make(chan struct{})
	if err := netlink.RouteSubscribeWithOptions(updates, done, netlink.RouteSubscribeOptions{}); err != nil {
		return fmt.Errorf("vip: netlink route subscription: %w", err)
	}
	go follow(ctx, updates, done, func(u netlink.RouteUpdate) {
		if u.Type == unix.RTM_DELROUTE {
			m.routeDeleted(u.Route)
		}
	})
	return nil
}

func (m *Manager) routeDeleted(rt netlink.Route) {
	ev := deletedRoute{dst: routeDst(rt), table: rt.Table, linkIndex: rt.LinkIndex}
	if !ev.dst.IsValid() {
		return
	}
	m.mu.Lock()
	runners := m.runners
	m.mu.Unlock()
	for _, r := range runners {
		r.routeDeleted(ev)
	}
}

// routeDeleted passes a deletion of one of the instance's tracked
// destinations to its loop. Unrelated deletions (container or DHCP churn)
// are dropped here so they cannot fill the channel; when it is full all
// the same, the loop is told to re-list its tracked routes instead, so a
// burst never hides the loss of a tracked route.
func (r *runner) routeDeleted(ev deletedRoute) {
	dsts := r.routeDsts.Load()
	if r.routeGone == nil || dsts == nil || !(*dsts)[ev.dst] {
		return
	}
	select {
	case r.routeGone <- ev:
	default:
		select {
		case r.routeRecheck <- struct{}{}:
		default: // a recheck is already pending
		}
	}
}

// setRouteDsts records the tracked destinations for the route watch
// (at creation and when a reload changes the configuration).
func (r *runner) setRouteDsts() {
	m := map[netip.Prefix]bool{}
	for _, want := range r.cfg.Routes {
		if want.Dev != "" {
			m[want.Dst] = true
		}
	}
	r.routeDsts.Store(&m)
}

// lostAnyRoute re-lists every tracked virtual route (after an overflow
// of routeGone): true when one is gone.
func (r *runner) lostAnyRoute() bool {
	rt, ok := r.router.(*netlinkRouter)
	if !ok {
		return false
	}
	for _, want := range r.cfg.Routes {
		if want.Dev == "" {
			continue
		}
		if present, err := rt.has(want); err == nil && !present {
			r.logf("virtual route %s was removed by someone else", want)
			return true
		}
	}
	return false
}

// routeDst is a kernel route's destination; a default route may come
// without one.
func routeDst(rt netlink.Route) netip.Prefix {
	if rt.Dst == nil {
		switch rt.Family {
		case netlink.FAMILY_V4:
			return netip.PrefixFrom(netip.IPv4Unspecified(), 0)
		case netlink.FAMILY_V6:
			return netip.PrefixFrom(netip.IPv6Unspecified(), 0)
		}
		return netip.Prefix{}
	}
	ones, _ := rt.Dst.Mask.Size()
	a, ok := netip.AddrFromSlice(rt.Dst.IP)
	if !ok {
		return netip.Prefix{}
	}
	return netip.PrefixFrom(a.Unmap(), ones)
}

// lostRoute reports whether d is one of the instance's tracked virtual
// routes (written with a dev) and is really gone now: the event may be
// our own removal when the instance left MASTER just before.
func (r *runner) lostRoute(d deletedRoute) bool {
	rt, ok := r.router.(*netlinkRouter)
	if !ok {
		return false
	}
	for _, want := range r.cfg.Routes {
		table := want.Table
		if table == 0 {
			table = unix.RT_TABLE_MAIN
		}
		if want.Dev == "" || want.Dst != d.dst || table != d.table {
			continue
		}
		if i, err := rt.index(want.Dev); err != nil || i != d.linkIndex {
			continue
		}
		if present, err := rt.has(want); err != nil || present {
			return false
		}
		r.logf("virtual route %s was removed by someone else", want)
		return true
	}
	return false
}

// has reports whether the route is in its table.
func (n *netlinkRouter) has(r keepalived.Route) (bool, error) {
	nr, err := n.route(r)
	if err != nil {
		return false, err
	}
	if nr.Table == 0 {
		nr.Table = unix.RT_TABLE_MAIN
	}
	list, err := n.h.RouteListFiltered(nr.Family, &netlink.Route{Table: nr.Table, LinkIndex: nr.LinkIndex},
		netlink.RT_FILTER_TABLE|netlink.RT_FILTER_OIF)
	if err != nil {
		return false, err
	}
	for _, k := range list {
		if routeDst(k) == r.Dst {
			return true, nil
		}
	}
	return false, nil
}
