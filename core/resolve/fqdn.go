package resolve

import (
	"fmt"
	"net/netip"
	"strings"
)

// SetFQDN is the admin socket's `set server B/S fqdn NAME`: the server is
// resolved under the new name from the next resolution on (HAProxy's
// srv_update_fqdn). ok is false when the server has no run-time
// resolution; msg is then empty and the caller answers as HAProxy does.
func (rt *Runtime) SetFQDN(backend, server, fqdn string) (msg string, ok bool) {
	if rt == nil {
		return "", false
	}
	for _, s := range rt.sections {
		if msg, ok := s.setFQDN(backend, server, fqdn); ok {
			return msg, true
		}
	}
	return "", false
}

func (s *section) setFQDN(backend, server, fqdn string) (string, bool) {
	s.mu.Lock()
	defer s.mu.Unlock()
	for _, r := range s.res {
		for i, m := range r.members {
			if m.s.Backend != backend || m.s.Name != server {
				continue
			}
			const by = " by 'stats socket command'\n"
			if fqdn == m.fqdn {
				return "no need to change the FDQN" + by, true
			}
			if !validFQDN(fqdn) {
				return fmt.Sprintf("invalid fqdn '%s'", fqdn) + by, true
			}
			msg := fmt.Sprintf("%s/%s changed its FQDN from %s to %s", backend, server, m.fqdn, fqdn) + by
			r.members = append(r.members[:i:i], r.members[i+1:]...)
			m.fqdn, m.attached = fqdn, netip.Addr{}
			m.s.SetFQDN(fqdn)
			s.attachLocked(m)
			s.prune()
			select {
			case s.kick <- struct{}{}:
			default:
			}
			return msg, true
		}
	}
	return "", false
}

// prune drops resolutions no server uses any more.
func (s *section) prune() {
	kept := s.res[:0]
	for _, r := range s.res {
		if len(r.members) > 0 {
			kept = append(kept, r)
		}
	}
	s.res = kept
}

// validFQDN is HAProxy's check: at most 255 bytes of letters, digits,
// '-', '_' and '.'.
func validFQDN(s string) bool {
	if s == "" || len(s) > 255 {
		return false
	}
	return strings.IndexFunc(s, func(c rune) bool {
		return !(c == '-' || c == '_' || c == '.' || c >= '0' && c <= '9' || c >= 'a' && c <= 'z' || c >= 'A' && c <= 'Z')
	}) < 0
}
