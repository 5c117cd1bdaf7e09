package health

import (
	"strconv"

	"github.com/varde-lb/varde/core"
)

// EventAdmin is an admin state change (`set server B/S state`, the stats
// page, an agent): Text holds HAProxy 2.6's message, ready made.
const EventAdmin EventKind = 10

// emitAdmin reports s going from admin state old to a the way HAProxy
// 2.6's srv_update_status words a forced change, and a backend left
// without usable servers. s already has the new state.
func (m *Manager) emitAdmin(s *core.Server, old, a core.AdminState) {
	if m.opts.Events == nil {
		return
	}
	active, backups := m.usable(s.Backend)
	wasUsable := s.IsUp() && old == core.AdminReady && s.Weight() > 0
	before := active + backups
	if wasUsable && !(a == core.AdminReady) {
		before++
	}
	e := Event{Kind: EventAdmin, Backend: s.Backend, Server: s.Name, Backup: s.Backup, Active: active, Backups: backups,
		Sessions: s.Active.Load(), Queue: s.Queued.Load()}
	b := e.serverPrefix(nil)
	level := levelNotice
	state := "UP"
	if !s.IsUp() {
		state = "DOWN"
	}
	switch {
	case a == core.AdminMaint && !s.IsUp():
		b = append(b, " was DOWN and now enters maintenance."...)
	case a == core.AdminMaint:
		b = append(b, " is going DOWN for maintenance"...)
		b = e.appendCounts(b, true)
		if old != core.AdminDrain {
			level = levelAlert
		}
	case old == core.AdminMaint:
		ready := "READY"
		if a == core.AdminDrain {
			ready = "DRAIN"
		}
		b = append(b, " is "+state+"/"+ready+" (leaving forced maintenance)."...)
	case a == core.AdminDrain:
		b = append(b, " enters drain state"...)
		b = e.appendCounts(b, !s.IsUp())
	default: // drain -> ready
		b = append(b, " is "+state+" (leaving forced drain)."...)
	}
	e.Text, e.level = string(b), level
	m.emit(e)
	if old == core.AdminMaint && a == core.AdminDrain {
		e.Text, e.level = string(append(e.serverPrefix(nil), " remains in forced drain mode."...)), levelNotice
		m.emit(e)
	}
	if before > 0 && active+backups == 0 {
		m.emit(Event{Kind: EventBackendDown, Backend: s.Backend})
	}
}

// serverPrefix is "[Backup ]Server B/S".
func (e Event) serverPrefix(dst []byte) []byte {
	if e.Backup {
		dst = append(dst, "Backup "...)
	}
	dst = append(dst, "Server "...)
	dst = append(dst, e.Backend...)
	dst = append(dst, '/')
	return append(dst, e.Server...)
}

// appendCounts is srv_append_status's tail: the servers left (down) or
// online, the sessions and queue, with the final period.
func (e Event) appendCounts(dst []byte, down bool) []byte {
	dst = append(dst, ". "...)
	dst = strconv.AppendInt(dst, int64(e.Active), 10)
	dst = append(dst, " active and "...)
	dst = strconv.AppendInt(dst, int64(e.Backups), 10)
	if down {
		dst = append(dst, " backup servers left."...)
	} else {
		dst = append(dst, " backup servers online."...)
	}
	if e.Backups > 0 && e.Active == 0 {
		dst = append(dst, " Running on backup."...)
	}
	if down {
		dst = append(dst, ' ')
		dst = strconv.AppendInt(dst, e.Sessions, 10)
		dst = append(dst, " sessions active, 0 requeued, "...)
		dst = strconv.AppendInt(dst, e.Queue, 10)
		return append(dst, " remaining in queue."...)
	}
	dst = append(dst, " 0 sessions requeued, "...)
	dst = strconv.AppendInt(dst, e.Queue, 10)
	return append(dst, " total in queue."...)
}
