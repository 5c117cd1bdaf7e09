package proxy

import (
	"github.com/varde-lb/varde/core"
	"github.com/varde-lb/varde/core/config"
)

// http-request/http-response set-log-level LEVEL|silent, as HAProxy 2.6:
// the transaction's log line is sent at LEVEL (to the targets whose level
// admits it, a target limited to notice included), or not at all.

func init() {
	registerActor(buildSetLogLevel, "set-log-level")
}

type logLevelActor struct{ level int8 } // as logrec.Record.LogLevel

func buildSetLogLevel(r *config.HTTPRule) (Actor, error) {
	if r.Name == "silent" {
		return &logLevelActor{level: -1}, nil
	}
	return &logLevelActor{level: int8(core.SyslogLevel(r.Name) + 1)}, nil
}

func (a *logLevelActor) Do(s *session, resp bool) Verdict {
	s.rec.LogLevel = a.level
	return Verdict{}
}
