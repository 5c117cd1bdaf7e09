package health

import (
	"strconv"

	"github.com/varde-lb/varde/core"
)

// EventKind is what happened to a server or backend.
type EventKind uint8

const (
	// EventCheck is a check whose status or rise/fall counter changed
	// (what `option log-health-checks` logs).
	EventCheck EventKind = iota + 1
	EventServerDown
	EventServerUp
	// EventBackendDown follows the EventServerDown that left a backend
	// without any usable server.
	EventBackendDown
)

// Event is a state change with every fact HAProxy 2.6's message about it
// holds. The health manager emits them; the log pipeline writes them to
// the backend's log targets (EventSink).
type Event struct {
	Kind    EventKind
	Backend string
	Server  string
	Backup  bool
	Agent   bool             // EventCheck: an agent check
	Result  core.CheckResult // the check that caused it; Status "" when none
	// EventCheck: the rise/fall counter after the check, the server's
	// rise and fall, and whether its weight is 0 (DRAIN).
	Health, Rise, Fall int
	Drain              bool
	// After the change: the backend's usable active and backup servers,
	// the server's sessions and queue.
	Active, Backups int
	Sessions, Queue int64
	// EventAdmin: the message, made when the event is, and its severity.
	Text  string
	level int
}

// EventSink receives events. HealthEvent must not block: it is called
// from the check goroutines.
type EventSink interface {
	HealthEvent(Event)
}

// Syslog severities HAProxy sends the events at.
const (
	levelEmerg  = 0
	levelAlert  = 1
	levelNotice = 5
)

// Level is the syslog severity HAProxy sends e at: a server DOWN is an
// alert, a backend without servers an emergency, the rest notices.
func (e Event) Level() int {
	switch e.Kind {
	case EventAdmin:
		return e.level
	case EventServerDown:
		return levelAlert
	case EventBackendDown:
		return levelEmerg
	}
	return levelNotice
}

// AppendMessage writes HAProxy 2.6's text for e (src/server.c
// srv_update_status and srv_append_status, src/check.c
// set_server_check_status, src/backend.c set_backend_down), without the
// trailing newline. proxyType is "backend", or "proxy" for a listen
// section; logChecks is the backend's `option log-health-checks`, with
// which the UP/DOWN line leaves the check's details to the check line.
func (e Event) AppendMessage(dst []byte, proxyType string, logChecks bool) []byte {
	switch e.Kind {
	case EventAdmin:
		return append(dst, e.Text...)
	case EventBackendDown:
		dst = append(dst, proxyType...)
		dst = append(dst, ' ')
		dst = append(dst, e.Backend...)
		return append(dst, " has no server available!"...)
	case EventCheck:
		return e.appendCheck(dst)
	}
	dst = e.serverPrefix(dst)
	if e.Kind == EventServerDown {
		dst = append(dst, " is DOWN"...)
	} else {
		dst = append(dst, " is UP"...)
	}
	if !logChecks {
		dst = appendReason(dst, e.Result)
	}
	return e.appendCounts(dst, e.Kind == EventServerDown)
}

// appendCheck is the `option log-health-checks` line.
func (e Event) appendCheck(dst []byte) []byte {
	if e.Agent {
		dst = append(dst, "Agent check for "...)
	} else {
		dst = append(dst, "Health check for "...)
	}
	if e.Backup {
		dst = append(dst, "backup "...)
	}
	dst = append(dst, "server "...)
	dst = append(dst, e.Backend...)
	dst = append(dst, '/')
	dst = append(dst, e.Server...)
	switch {
	case e.Result.OK && e.Result.Status == "L7OKC":
		dst = append(dst, " conditionally succeeded"...)
	case e.Result.OK:
		dst = append(dst, " succeeded"...)
	default:
		dst = append(dst, " failed"...)
	}
	dst = appendReason(dst, e.Result)
	dst = append(dst, ", status: "...)
	word := "DOWN"
	n, of := e.Health, e.Rise
	if e.Health >= e.Rise {
		n, of, word = e.Health-e.Rise+1, e.Fall, "UP"
		if e.Drain {
			word = "DRAIN"
		}
	}
	dst = strconv.AppendInt(dst, int64(n), 10)
	dst = append(dst, '/')
	dst = strconv.AppendInt(dst, int64(of), 10)
	dst = append(dst, ' ')
	dst = append(dst, word...)
	return append(dst, '.')
}

// appendReason is srv_append_status's check part: ", reason: DESC[, code:
// N][, info: "TEXT"], check duration: Nms".
func appendReason(dst []byte, r core.CheckResult) []byte {
	if r.Status == "" {
		return dst
	}
	dst = append(dst, ", reason: "...)
	dst = append(dst, Description(r.Status)...)
	switch r.Status { // HCHK_STATUS_L57DATA and above carry a code
	case "L7OK", "L7OKC", "L7STS", "PROCERR":
		dst = append(dst, ", code: "...)
		dst = strconv.AppendInt(dst, int64(r.Code), 10)
	}
	// A passing HTTP check has no text in HAProxy (the probe's is the
	// reason phrase); a failing one has the reason phrase.
	if r.Info != "" && r.Info != Description(r.Status) && r.Status != "L7OK" && r.Status != "L7OKC" {
		dst = append(dst, `, info: "`...)
		dst = appendASCII(dst, r.Info)
		dst = append(dst, '"')
	}
	dst = append(dst, ", check duration: "...)
	dst = strconv.AppendInt(dst, r.Duration.Milliseconds(), 10)
	return append(dst, "ms"...)
}

// appendASCII is HAProxy's chunk_asciiencode with '"' as the quote:
// bytes outside printable ASCII, '<', '>' and '"' become "<XX>".
func appendASCII(dst []byte, s string) []byte {
	const hex = "0123456789ABCDEF"
	for i := 0; i < len(s); i++ {
		c := s[i]
		if c < 32 || c >= 127 || c == '"' || c == '<' || c == '>' {
			dst = append(dst, '<', hex[c>>4], hex[c&15], '>')
			continue
		}
		dst = append(dst, c)
	}
	return dst
}

// emit hands e to the sink, if any.
func (m *Manager) emit(e Event) {
	if m.opts.Events == nil {
		return
	}
	if sink := m.opts.Events(); sink != nil {
		sink.HealthEvent(e)
	}
}

// emitState reports s's UP/DOWN transition caused by r, and a backend
// left without usable servers.
func (m *Manager) emitState(s *core.Server, r core.CheckResult) {
	if m.opts.Events == nil {
		return
	}
	e := Event{Kind: EventServerUp, Backend: s.Backend, Server: s.Name, Backup: s.Backup, Result: r,
		Sessions: s.Active.Load(), Queue: s.Queued.Load()}
	if !s.IsUp() {
		e.Kind = EventServerDown
	}
	e.Active, e.Backups = m.usable(s.Backend)
	m.emit(e)
	if e.Kind == EventServerDown && e.Active+e.Backups == 0 {
		m.emit(Event{Kind: EventBackendDown, Backend: s.Backend})
	}
}

// usable counts the backend's servers that can take traffic, as HAProxy's
// srv_act and srv_bck: up, neither drained nor in maintenance, weight > 0.
func (m *Manager) usable(backend string) (active, backups int) {
	m.mu.Lock()
	defer m.mu.Unlock()
	for _, c := range m.order {
		s := c.s
		if s.Backend != backend || !s.Usable() { // NOLB (disable-on-404) excluded too
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

// checkEventLocked reports a check that changed the status word or the
// counter (HAProxy: status != prev_status || report). c.mu is held.
func (c *checker) checkEventLocked(r core.CheckResult, prevStatus string, prevHealth int) {
	if c.m.opts.Events == nil || (r.Status == prevStatus && c.health == prevHealth) {
		return
	}
	c.m.emit(Event{Kind: EventCheck, Backend: c.s.Backend, Server: c.s.Name, Backup: c.s.Backup, Result: r,
		Health: c.health, Rise: c.cfg.Rise, Fall: c.cfg.Fall, Drain: c.uweight == 0})
}
