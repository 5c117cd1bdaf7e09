package logpipe

import (
	"net/netip"
	"testing"
	"time"

	"github.com/varde-lb/varde/core/logrec"
)

// TestUnixServerAddress: a Unix-domain server logs %si as "unix" and %sp
// as 0, as HAProxy 2.6's addr_to_str and get_host_port do for AF_UNIX; an
// IP server and no server keep their forms.
func TestUnixServerAddress(t *testing.T) {
	f, err := CompileFormat("%si:%sp")
	if err != nil {
		t.Fatal(err)
	}
	for _, tc := range []struct {
		unix bool
		ap   netip.AddrPort
		want string
	}{
		{true, netip.AddrPort{}, "unix:0"},
		{false, netip.MustParseAddrPort("10.0.0.1:80"), "10.0.0.1:80"},
		{false, netip.AddrPort{}, "-:-"},
	} {
		r := &logrec.Record{}
		r.Reset()
		r.ServerUnix, r.ServerAddr = tc.unix, tc.ap
		c := &encodeCtx{anon: newAnonymizer(AnonSpec{}, nil), loc: time.UTC, dates: &dateCache{}}
		if got := string(f.appendRecord(nil, r, c)); got != tc.want {
			t.Errorf("%+v: %q, want %q", tc, got, tc.want)
		}
	}
}
