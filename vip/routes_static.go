package vip

import (
	"encoding/json"
	"fmt"
	"net"
	"slices"

	"github.com/varde-lb/varde/core/config/keepalived"
	"github.com/varde-lb/varde/core/diag"
)

// statics is what static_ipaddress, static_routes and static_rules put on
// the machine. As keepalived, they are installed when VRRP starts whatever
// the instances' states, and removed when it stops; a reload installs the
// new set and removes only what left the configuration; a handover to a
// successor process leaves them in place.
type statics struct {
	addrs  []keepalived.VIP
	routes []keepalived.Route
	rules  []keepalived.Rule
}

func staticsOf(c *keepalived.Config) *statics {
	if len(c.StaticAddrs)+len(c.StaticRoutes)+len(c.StaticRules) == 0 {
		return nil
	}
	return &statics{addrs: c.StaticAddrs, routes: c.StaticRoutes, rules: c.StaticRules}
}

// posFree renders v without source positions, to compare configurations.
func posFree(v any) string {
	b, _ := json.Marshal(v) // Pos fields are json:"-"
	return string(b)
}

// without returns the items of s absent from keep (compared without
// positions): what a reload removes.
func (s *statics) without(keep *statics) *statics {
	if s == nil {
		return nil
	}
	if keep == nil {
		return s
	}
	out := &statics{}
	has := func(list []string, x any) bool { return slices.Contains(list, posFree(x)) }
	var ka, kr, kl []string
	for _, a := range keep.addrs {
		ka = append(ka, posFree(a))
	}
	for _, r := range keep.routes {
		kr = append(kr, posFree(r))
	}
	for _, r := range keep.rules {
		kl = append(kl, posFree(r))
	}
	for _, a := range s.addrs {
		if !has(ka, a) {
			out.addrs = append(out.addrs, a)
		}
	}
	for _, r := range s.routes {
		if !has(kr, r) {
			out.routes = append(out.routes, r)
		}
	}
	for _, r := range s.rules {
		if !has(kl, r) {
			out.rules = append(out.rules, r)
		}
	}
	return out
}

// install adds addresses, then routes (which may use them) and rules.
func (s *statics) install(logf func(string, ...any)) {
	if s == nil {
		return
	}
	na, rt, err := staticHandles()
	if err != nil {
		logf("static addresses and routes: %v", err)
		return
	}
	defer na.Close()
	defer rt.Close()
	for _, a := range s.addrs {
		if err := na.Add(a); err != nil {
			logf("static_ipaddress: %v", err)
		}
	}
	installRouting(rt, s.routes, s.rules, logf)
}

// remove takes them away in the reverse order.
func (s *statics) remove(logf func(string, ...any)) {
	if s == nil {
		return
	}
	na, rt, err := staticHandles()
	if err != nil {
		logf("static addresses and routes: %v", err)
		return
	}
	defer na.Close()
	defer rt.Close()
	removeRouting(rt, s.routes, s.rules, logf)
	for _, a := range s.addrs {
		if err := na.Del(a); err != nil {
			logf("static_ipaddress: %v", err)
		}
	}
}

func staticHandles() (*netlinkAddr, *netlinkRouter, error) {
	na, err := newNetlinkAddr("")
	if err != nil {
		return nil, nil, err
	}
	rt, err := newNetlinkRouter()
	if err != nil {
		na.Close()
		return nil, nil, err
	}
	return na, rt, nil
}

// takeStatics hands over what the manager installed: to its successor on
// a reload, or to its own stop.
func (m *Manager) takeStatics() *statics {
	if m == nil {
		return nil
	}
	m.mu.Lock()
	defer m.mu.Unlock()
	st := m.static
	m.static = nil
	return st
}

// installStatics runs before the instances start: the new configuration's
// static set goes in (what is there already stays), then what the
// previous generation installed and the new one dropped is removed.
func (m *Manager) installStatics(prev *Manager) {
	logf := func(f string, a ...any) { m.log.Warn("vip: " + fmt.Sprintf(f, a...)) }
	st := staticsOf(m.cfg)
	st.install(logf)
	prev.takeStatics().without(st).remove(logf)
	m.mu.Lock()
	m.static = st
	m.mu.Unlock()
}

// refuseStaticsAlone: keepalived installs static_* even without a
// vrrp_instance; varde's VRRP part runs only with one, so such a file
// would silently do nothing. Refused instead.
func refuseStaticsAlone(kc *keepalived.Config, d *diag.List) {
	var pos diag.Pos
	switch {
	case len(kc.StaticAddrs) > 0:
		pos = kc.StaticAddrs[0].Pos
	case len(kc.StaticRoutes) > 0:
		pos = kc.StaticRoutes[0].Pos
	case len(kc.StaticRules) > 0:
		pos = kc.StaticRules[0].Pos
	default:
		return
	}
	d.Errorf(pos, "static", "add a vrrp_instance, or configure the addresses and routes with your network tooling",
		"static addresses, routes and rules without any vrrp_instance are not supported by varde (keepalived installs them; varde would not)")
}

// checkRoutingDevs reports the interfaces named by static and virtual
// addresses and routes that this machine does not have, as for an
// instance's interface (a VMAC's name is fine: varde creates it). Rules'
// iif/oif may name interfaces that come later, as in the kernel.
func checkRoutingDevs(kc *keepalived.Config, d *diag.List) bool {
	vmacs := map[string]bool{}
	for _, in := range kc.Instances {
		if in.VMAC != "" {
			vmacs[in.VMAC] = true
		}
	}
	bad := false
	check := func(dev, kw string, pos diag.Pos) {
		if dev == "" || vmacs[dev] {
			return
		}
		if _, err := net.InterfaceByName(dev); err != nil {
			d.Errorf(pos, kw, "name an interface of this machine (ip link)", "interface %q: %v", dev, err)
			bad = true
		}
	}
	for _, a := range kc.StaticAddrs {
		check(a.Dev, "static_ipaddress", a.Pos)
	}
	for _, r := range kc.StaticRoutes {
		check(r.Dev, "static_routes", r.Pos)
	}
	for _, in := range kc.Instances {
		for _, v := range in.AllVIPs() {
			check(v.Dev, "virtual_ipaddress", v.Pos)
		}
		for _, r := range in.Routes {
			check(r.Dev, "virtual_routes", r.Pos)
		}
	}
	return bad
}
