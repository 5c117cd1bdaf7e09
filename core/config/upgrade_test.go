package config

import (
	"strings"
	"testing"
)

// bind fd@N (an inherited listening socket) and `stats socket ...
// expose-fd listeners` (the binary upgrade's socket hand-over).
func TestInheritedBindsAndExposeFd(t *testing.T) {
	for _, tc := range []struct {
		name, src, wantErr string
		fd                 string
		expose             bool
	}{
		{name: "fd bind", src: "frontend f\n  bind fd@3\n", fd: "3"},
		{name: "fd bind with options", src: "frontend f\n  bind fd@4 accept-proxy\n", fd: "4"},
		{name: "fd not a number", src: "frontend f\n  bind fd@x\n", wantErr: `invalid inherited socket "fd@x"`},
		{name: "fd negative", src: "frontend f\n  bind fd@-1\n", wantErr: "invalid inherited socket"},
		{name: "fd twice", src: "frontend f\n  bind fd@3\nfrontend g\n  bind fd@3\n", wantErr: "fd@3 is bound twice"},
		{name: "abns still refused", src: "frontend f\n  bind abns@x\n", wantErr: "not supported by varde"},
		{name: "expose-fd listeners", src: "global\n  stats socket /tmp/x.sock level admin expose-fd listeners\n", expose: true},
		{name: "expose-fd other", src: "global\n  stats socket /tmp/x.sock expose-fd all\n", wantErr: "'expose-fd' only supports 'listeners'"},
	} {
		c, d := load(t, tc.src)
		errs := errorsOf(d)
		if tc.wantErr != "" {
			if len(errs) == 0 || !strings.Contains(render(d), tc.wantErr) {
				t.Errorf("%s: errors %q, want %q", tc.name, render(d), tc.wantErr)
			}
			continue
		}
		if len(errs) != 0 {
			t.Errorf("%s: unexpected errors %q", tc.name, render(d))
			continue
		}
		if tc.fd != "" && (len(c.Frontends) == 0 || len(c.Frontends[0].Binds) == 0 || c.Frontends[0].Binds[0].FD != tc.fd) {
			t.Errorf("%s: bind FD not %q", tc.name, tc.fd)
		}
		if tc.expose && !c.Global.StatsSockets[0].ExposeFdListeners {
			t.Errorf("%s: expose-fd listeners not recorded", tc.name)
		}
	}
}
