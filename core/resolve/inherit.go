package resolve

import (
	"net/netip"
	"strings"

	"github.com/varde-lb/varde/core/generation"
)

// Inherit takes over the running generation's resolutions on a reload:
// each server of the new configuration resolved by the same section,
// under the same name and with the same family preference, keeps the
// address, the record and the resolution maintenance it had, and the
// name's answer and timers carry over. Without this, a reload would put
// every `init-addr none` server in maintenance until the next answer (or
// for good while the nameservers are unreachable). HAProxy carries them
// over a reload only through a server-state-file; varde keeps its
// run-time state across reloads by itself.
func (rt *Runtime) Inherit(prev generation.Part) {
	p, ok := prev.(*Runtime)
	if !ok || p == nil {
		return
	}
	for _, sec := range rt.sections {
		if ps := p.section(sec.cfg.Name); ps != nil {
			sec.inherit(ps)
		}
	}
}

func (s *section) inherit(prev *section) {
	prev.mu.Lock()
	defer prev.mu.Unlock()
	s.mu.Lock()
	defer s.mu.Unlock()
	for _, r := range s.res {
		pr := prev.find(r.fqdn, r.preferV4)
		if pr == nil {
			continue
		}
		r.records = append([]record(nil), pr.records...)
		r.status, r.lastValid, r.lastRun = pr.status, pr.lastValid, pr.lastRun
		for _, m := range r.members {
			if pm := pr.member(m.s.Backend, m.s.Name); pm != nil {
				s.takeOver(r, m, pm)
			}
		}
	}
}

// takeOver gives m what pm, the same server in the previous generation,
// had.
func (s *section) takeOver(r *resolution, m, pm *member) {
	if ip := pm.s.Address().Addr(); ip.IsValid() && !pm.s.ResolveMaint() {
		port := m.s.Address().Port() // the new configuration's port
		if !m.s.Address().Addr().IsValid() {
			port = m.cfg.Port
		}
		m.s.SetAddress(netip.AddrPortFrom(ip, port))
		if r.has(pm.attached) {
			m.attached = pm.attached
		}
		m.s.SetResolveMaint(false)
	} else if pm.s.ResolveMaint() {
		m.s.SetResolveMaint(true)
		m.s.SetAddress(netip.AddrPortFrom(netip.Addr{}, m.s.Address().Port()))
	}
	m.b.Refresh()
}

func (s *section) find(fqdn string, preferV4 bool) *resolution {
	for _, r := range s.res {
		if strings.EqualFold(r.fqdn, fqdn) && r.preferV4 == preferV4 {
			return r
		}
	}
	return nil
}

func (r *resolution) member(backend, server string) *member {
	for _, m := range r.members {
		if m.s.Backend == backend && m.s.Name == server {
			return m
		}
	}
	return nil
}
