package health

import "github.com/varde-lb/varde/core"

// ResolveEvent is a message of run-time name resolution (core/resolve):
// an address change or a server entering or leaving resolution
// maintenance, worded by the caller as HAProxy 2.6's src/server.c does.
// alert is HAProxy's LOG_ALERT (a server going down), else LOG_NOTICE.
func ResolveEvent(backend, server string, backup bool, text string, alert bool) Event {
	level := levelNotice
	if alert {
		level = levelAlert
	}
	return Event{Kind: EventAdmin, Backend: backend, Server: server, Backup: backup, Text: text, level: level}
}

// ResolveMaintEvent is HAProxy 2.6's message for a server entering
// resolution maintenance for cause ("No IP for server ", "DNS NX
// status"...): going DOWN with the servers left when it was up, "was
// DOWN and now enters maintenance" otherwise. active and backups are
// the backend's usable servers after the change.
func ResolveMaintEvent(s *core.Server, cause string, wasUp bool, active, backups int) Event {
	e := Event{Kind: EventAdmin, Backend: s.Backend, Server: s.Name, Backup: s.Backup, Active: active, Backups: backups,
		Sessions: s.Active.Load(), Queue: s.Queued.Load(), level: levelNotice}
	b := e.serverPrefix(nil)
	if !wasUp {
		b = append(b, " was DOWN and now enters maintenance ("+cause+")."...)
	} else {
		b = append(b, " is going DOWN for maintenance ("+cause+")"...)
		b = e.appendCounts(b, true)
		e.level = levelAlert
	}
	e.Text = string(b)
	return e
}
