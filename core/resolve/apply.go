package resolve

import (
	"fmt"
	"net/netip"
	"sort"
	"time"

	"github.com/varde-lb/varde/core"
	"github.com/varde-lb/varde/core/dns"
	"github.com/varde-lb/varde/core/health"
)

// apply gives r's servers the answer a (HAProxy's snr_resolution_cb and
// snr_update_srv_status). Called with s.mu held.
func (s *section) apply(r *resolution, a dns.Answer, now time.Time) {
	r.status = a.Status
	if a.Status != dns.StatusValid {
		if now.Sub(r.lastValid) < hold(s.cfg, a.Status) {
			return // the last answer still holds
		}
		r.records = nil
		for _, m := range r.members {
			s.enterMaint(m, cause(a.Status))
		}
		return
	}
	r.lastValid = now
	r.merge(a.Addrs, now, s.cfg.HoldObs)
	// HAProxy credits the nameserver to the first server only; the
	// others take the answer "from the cache".
	from := a.From
	for _, m := range r.members {
		s.place(r, m, from)
		from = ""
	}
}

// merge updates the records with an answer: addresses seen again stay in
// place, new ones go last, and those missing from it for longer than
// `hold obsolete` go, detaching the servers on them.
func (r *resolution) merge(addrs []netip.Addr, now time.Time, obsolete time.Duration) {
	in := func(ip netip.Addr) bool {
		for _, a := range addrs {
			if a == ip {
				return true
			}
		}
		return false
	}
	kept := r.records[:0]
	for _, rec := range r.records {
		if in(rec.ip) {
			rec.seen = now
		} else if now.Sub(rec.seen) > obsolete {
			continue
		}
		kept = append(kept, rec)
	}
	r.records = kept
	for _, ip := range addrs {
		if !r.has(ip) {
			r.records = append(r.records, record{ip: ip, seen: now, key: recordKey(ip)})
		}
	}
	// HAProxy's tree order (xxh32.go).
	sort.SliceStable(r.records, func(i, j int) bool { return r.records[i].key < r.records[j].key })
}

func (r *resolution) has(ip netip.Addr) bool {
	for _, rec := range r.records {
		if rec.ip == ip {
			return true
		}
	}
	return false
}

// usedByOther reports whether another server of m's backend on this
// resolution holds ip (HAProxy's record->attached_servers).
func (r *resolution) usedByOther(m *member, ip netip.Addr) bool {
	for _, o := range r.members {
		if o != m && o.b == m.b && o.attached == ip {
			return true
		}
	}
	return false
}

// pick is HAProxy's resolv_get_ip_from_response: the best scored record,
// 8 for the preferred family, 4 for a resolve-net network, 2 when no other
// server of the backend holds it (without allow-dup-ip such a record is
// skipped), 1 for the server's current address; the first best in the
// records' order wins. (HAProxy then deletes and reinserts the first
// record for a round robin, but with its own key it lands in the same
// place: the order does not change, so varde does not rotate.)
func (r *resolution) pick(m *member) (ip netip.Addr, current bool) {
	cur := m.s.Address().Addr()
	best := -1
	for _, rec := range r.records {
		score := 0
		if rec.ip.Is4() == m.cfg.PreferV4 {
			score += 8
		}
		for _, n := range m.cfg.Nets {
			if n.Contains(rec.ip) {
				score += 4
				break
			}
		}
		if r.usedByOther(m, rec.ip) {
			if !m.cfg.AllowDup {
				continue
			}
		} else {
			score += 2
		}
		isCur := rec.ip == cur
		if isCur {
			score++
		}
		if score > best {
			ip, current, best = rec.ip, isCur, score
		}
	}
	return ip, current
}

// place gives m an address of r's records.
func (s *section) place(r *resolution, m *member, from string) {
	if m.attached.IsValid() && r.has(m.attached) {
		return // its record is still alive: no change (RSLV_UPD_NO)
	}
	m.attached = netip.Addr{}
	ip, current := r.pick(m)
	if !ip.IsValid() {
		s.enterMaint(m, "No IP for server ")
		return
	}
	m.attached = ip
	if !current {
		by := "DNS cache"
		if from != "" {
			by = s.cfg.Name + "/" + from
			s.count(from)
		}
		s.setAddr(m, ip, by)
	}
	s.leaveMaint(m)
}

// count adds an address update to the nameserver's counters.
func (s *section) count(from string) {
	for i := range s.client.Servers {
		if ns := &s.client.Servers[i]; ns.ID == from {
			ns.Stats.Update.Add(1)
		}
	}
}

// setAddr moves m to ip, keeping its port, with HAProxy's message.
func (s *section) setAddr(m *member, ip netip.Addr, by string) {
	old := m.s.Address()
	oldText := "(none)"
	if old.Addr().IsValid() {
		oldText = old.Addr().String()
	}
	port := old.Port()
	if !old.Addr().IsValid() {
		port = m.cfg.Port
	}
	m.s.SetAddress(netip.AddrPortFrom(ip, port))
	text := fmt.Sprintf("%s/%s changed its IP from %s to %s by %s.", m.s.Backend, m.s.Name, oldText, ip, by)
	s.rt.emit(health.ResolveEvent(m.s.Backend, m.s.Name, m.s.Backup, text, false))
}

// enterMaint puts m in resolution maintenance without an address.
func (s *section) enterMaint(m *member, why string) {
	m.attached = netip.Addr{}
	if m.s.ResolveMaint() {
		return
	}
	wasMaint, wasUp := m.s.Admin() == core.AdminMaint, m.s.IsUp()
	m.s.SetResolveMaint(true)
	m.s.SetAddress(netip.AddrPortFrom(netip.Addr{}, m.s.Address().Port()))
	m.b.Refresh()
	if wasMaint {
		return // already in maintenance: HAProxy says nothing
	}
	active, backups := usable(m.b.Servers())
	s.rt.emit(health.ResolveMaintEvent(m.s, why, wasUp, active, backups))
}

// leaveMaint ends m's resolution maintenance, with HAProxy's two messages.
func (s *section) leaveMaint(m *member) {
	if !m.s.SetResolveMaint(false) {
		return
	}
	m.b.Refresh()
	prefix := "Server "
	if m.s.Backup {
		prefix = "Backup Server "
	}
	if a := m.s.Admin(); a != core.AdminMaint {
		state, ready := "UP", "READY"
		if !m.s.IsUp() {
			state = "DOWN"
		}
		if a == core.AdminDrain {
			ready = "DRAIN"
		}
		text := fmt.Sprintf("%s%s/%s ('%s') is %s/%s (resolves again).", prefix, m.s.Backend, m.s.Name, m.fqdn, state, ready)
		s.rt.emit(health.ResolveEvent(m.s.Backend, m.s.Name, m.s.Backup, text, false))
	}
	text := fmt.Sprintf("Server %s/%s administratively READY thanks to valid DNS answer.", m.s.Backend, m.s.Name)
	s.rt.emit(health.ResolveEvent(m.s.Backend, m.s.Name, m.s.Backup, text, false))
}

// usable counts the backend's usable active and backup servers.
func usable(servers []*core.Server) (active, backups int) {
	for _, s := range servers {
		if !s.Usable() {
			continue
		}
		if s.Backup {
			backups++
		} else {
			active++
		}
	}
	return active, backups
}
