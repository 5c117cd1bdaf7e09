package admin

import (
	"errors"
	"fmt"
	"strings"

	"github.com/varde-lb/varde/core/resolve"
)

// `show resolvers [ID]` and `set server B/S fqdn NAME` (HAProxy 2.6's
// src/resolvers.c and src/server.c), over core/resolve's runtime.

func parseShowResolvers(w []string) (Command, error) {
	if len(w) > 1 {
		return Command{}, errors.New("Usage: show resolvers [<id>]")
	}
	c := Command{Op: OpShowResolvers}
	if len(w) == 1 {
		c.Value = w[0]
	}
	return c, nil
}

// runResolvers executes OpShowResolvers; ok is false for other commands.
func (s *Server) runResolvers(cmd Command) (string, bool) {
	if cmd.Op != OpShowResolvers {
		return "", false
	}
	rt := resolve.ForEngine(s.rt.Engine)
	var secs []resolve.SectionInfo
	if rt != nil {
		secs = rt.Sections()
	}
	if cmd.Value != "" {
		var one []resolve.SectionInfo
		for _, sec := range secs {
			if sec.Name == cmd.Value {
				one = append(one, sec)
			}
		}
		if len(one) == 0 {
			return "Can't find that resolvers section\n", true
		}
		secs = one
	}
	if len(secs) == 0 {
		return "No resolvers found\n", true
	}
	var b strings.Builder
	for _, sec := range secs {
		fmt.Fprintf(&b, "Resolvers section %s\n", sec.Name)
		for _, ns := range sec.Nameservers {
			writeNameserver(&b, ns)
		}
	}
	return b.String(), true
}

func writeNameserver(b *strings.Builder, ns resolve.NameserverInfo) {
	st := ns.Stats
	fmt.Fprintf(b, " nameserver %s:\n", ns.ID)
	for _, c := range []struct {
		name string
		v    int64
	}{{"sent:       ", st.Sent.Load()}, {"snd_error:  ", st.SndError.Load()}, {"valid:      ", st.Valid.Load()},
		{"update:     ", st.Update.Load()}, {"cname:      ", st.CNAME.Load()}, {"cname_error:", st.CNAMEError.Load()},
		{"any_err:    ", st.AnyErr.Load()}, {"nx:         ", st.NX.Load()}, {"timeout:    ", st.Timeout.Load()},
		{"refused:    ", st.Refused.Load()}, {"other:      ", st.Other.Load()}, {"invalid:    ", st.Invalid.Load()},
		{"too_big:    ", st.TooBig.Load()}, {"truncated:  ", st.Truncated.Load()}, {"outdated:   ", st.Outdated.Load()}} {
		fmt.Fprintf(b, "  %s %d\n", c.name, c.v)
	}
}

// setFQDN runs `set server B/S fqdn NAME`.
func (s *Server) setFQDN(cmd Command) string {
	if msg, ok := resolve.ForEngine(s.rt.Engine).SetFQDN(cmd.Backend, cmd.Server, cmd.Value); ok {
		return msg
	}
	// HAProxy's answer for a server without run-time resolution.
	return "set server <b>/<s> fqdn failed because no resolution is configured.\n"
}
