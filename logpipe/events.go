package logpipe

import (
	"fmt"

	"github.com/varde-lb/varde/core/config"
	"github.com/varde-lb/varde/core/health"
	"github.com/varde-lb/varde/core/logrec"
)

// EventSpec is where a backend's state changes are logged: HAProxy sends
// "Server app/web2 is DOWN, ..." and "backend app has no server
// available!" to the backend's own log targets (its `log` lines, `log
// global` from defaults included), each filtered by the target's level.
type EventSpec struct {
	Proxy string
	// Type is "backend", or "proxy" for a listen section (HAProxy's
	// proxy_type_str), as the no-server message names it.
	Type string
	// LogChecks is `option log-health-checks`: every check that changes
	// the status or the rise/fall counter is logged too.
	LogChecks bool
	Tag       string // the backend's log-tag, "" for the global one
	Targets   []TargetSpec
}

// eventLog is the running form of an EventSpec.
type eventLog struct {
	spec    EventSpec
	pl      *proxyLog // for the queue slot; events use no format
	targets []*target
}

func eventSpecs(cfg *config.Config, host string) ([]EventSpec, error) {
	var out []EventSpec
	for _, p := range cfg.Backends {
		if p.Disabled {
			continue
		}
		ts, err := proxyTargets(&cfg.Global, p, host)
		if err != nil {
			return nil, err
		}
		if len(ts) == 0 {
			continue
		}
		typ := "backend"
		if p.Kind == config.KindListen {
			typ = "proxy"
		}
		out = append(out, EventSpec{Proxy: p.Name, Type: typ, LogChecks: p.Option("log-health-checks") != nil, Tag: p.LogTag, Targets: ts})
	}
	return out, nil
}

// addEvents opens (or shares with the traffic logs) the event targets.
func (p *Pipeline) addEvents(specs []EventSpec, byKey map[string]*target) error {
	for _, es := range specs {
		el := &eventLog{spec: es, pl: &proxyLog{name: es.Proxy, tag: es.Tag}}
		for _, ts := range es.Targets {
			key := fmt.Sprintf("%+v", ts)
			t := byKey[key]
			if t == nil {
				var err error
				if t, err = p.newTarget(ts); err != nil {
					return fmt.Errorf("logpipe: backend %s: %w", es.Proxy, err)
				}
				byKey[key] = t
				p.targets = append(p.targets, t)
			}
			el.targets = append(el.targets, t)
		}
		p.events[es.Proxy] = el
	}
	return nil
}

// HealthEvent implements health.EventSink: the event's message, as
// HAProxy 2.6 words it, goes to every target of its backend whose level
// lets the event's severity through. It never blocks: a full queue drops
// the message and counts it.
func (p *Pipeline) HealthEvent(ev health.Event) {
	el := p.events[ev.Backend]
	if el == nil || p.closed.Load() || (ev.Kind == health.EventCheck && !el.spec.LogChecks) {
		return
	}
	var r logrec.Record
	r.Reset()
	r.Mode, r.Status, r.Backend = logrec.ModeEvent, int32(ev.Level()), ev.Backend
	r.RequestLine.Set(ev.AppendMessage(make([]byte, 0, 256), el.spec.Type, el.spec.LogChecks))
	for _, t := range el.targets {
		if t.spec.Level >= ev.Level() && !t.q.put(&r, el.pl, false) {
			t.dropped.Add(1)
		}
	}
}

var _ health.EventSink = (*Pipeline)(nil)

// appendEvent writes an event record's message with its own severity in
// the syslog header.
// (encode has set the backend's log-tag.)
func (t *target) appendEvent(dst []byte, r *logrec.Record) []byte {
	pri := t.fr.pri
	t.fr.pri = pri - LevelInfo + int(r.Status)
	dst = t.fr.appendHeader(dst, t.ctx.now, t.loc)
	t.fr.pri = pri
	return append(dst, r.RequestLine.Bytes()...)
}
