package diag

import (
	"errors"
	"fmt"
	"testing"
)

func TestLocate(t *testing.T) {
	fb := Pos{File: "h.cfg", Line: 3}
	for _, tt := range []struct {
		err      error
		kw, want string
	}{
		{At(Pos{File: "a.cfg", Line: 7}, "server", "fix it", errors.New("bad")), "x", "a.cfg:7: error: server: bad (hint: fix it)"},
		{fmt.Errorf("%s: cookie: %w", Pos{File: "/etc/b.cfg", Line: 12}, errors.New("bad")), "cookie", "/etc/b.cfg:12: error: cookie: bad"},
		{errors.New("proxy: backend b: server s: no such host"), "server", "h.cfg:3: error: server: proxy: backend b: server s: no such host"},
		{errors.New("log-format: x at offset 4"), "log-format", "h.cfg:3: error: log-format: x at offset 4"},
		{errors.New("a b:12: not a place"), "", "h.cfg:3: error: a b:12: not a place"},
	} {
		if got := Locate(tt.err, fb, tt.kw, "").String(); got != tt.want {
			t.Errorf("Locate(%v) = %q, want %q", tt.err, got, tt.want)
		}
	}
}
