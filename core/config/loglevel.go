package config

import (
	"strings"

	"github.com/varde-lb/varde/core"
)

func init() {
	registerRuleParser(parseSetLogLevel, "set-log-level")
}

// parseSetLogLevel reads `set-log-level LEVEL|silent` (LEVEL a syslog
// level name) into Name.
func parseSetLogLevel(p *parser, key string, act Token, args []Token, r *HTTPRule) bool {
	levels := strings.Join(core.SyslogLevels(), ", ") + " or silent"
	if len(args) != 1 {
		p.d.Errorf(act.Pos, key, key+" "+levels, "set-log-level expects 1 argument, got %d", len(args))
		return false
	}
	if args[0].Text != "silent" && core.SyslogLevel(args[0].Text) < 0 {
		p.d.Errorf(args[0].Pos, key, levels, "unknown log level %q", args[0].Text)
		return false
	}
	r.Name = args[0].Text
	return true
}

// RaisesLogLevel reports whether a set-log-level rule of the configuration
// sends lines above info (log targets limited below info then matter).
func (c *Config) RaisesLogLevel() bool {
	info := core.SyslogLevel("info")
	for _, px := range c.Proxies {
		for _, rules := range [2][]*HTTPRule{px.HTTPRequest, px.HTTPResponse} {
			for _, r := range rules {
				if actionBase(r.Action) == "set-log-level" && r.Name != "silent" && core.SyslogLevel(r.Name) < info {
					return true
				}
			}
		}
	}
	return false
}
