package main

import (
	"bytes"
	"context"
	"net/netip"
	"path/filepath"
	"strings"
	"testing"

	"github.com/varde-lb/varde/core"
	"github.com/varde-lb/varde/core/admin"
	"github.com/varde-lb/varde/core/stats"
)

func TestCtl(t *testing.T) {
	path := filepath.Join(t.TempDir(), "a.sock")
	s := core.NewServer("app", "web1", 1, netip.MustParseAddrPort("127.0.0.1:1"), 1, 0)
	src := stats.SourceFunc(func() stats.Snapshot {
		return stats.Snapshot{Info: stats.Info{Version: "ctl-test"}, Proxies: []stats.Proxy{{Name: "app", ID: 1, Backend: &stats.Counters{}, Servers: []*core.Server{s}}}}
	})
	srv := admin.New(admin.Config{Path: path, Level: admin.LevelAdmin}, admin.Runtime{Source: src}, nil)
	if err := srv.Start(context.Background()); err != nil {
		t.Fatal(err)
	}
	defer srv.Close()
	for _, tc := range []struct {
		args []string
		code int
		out  string
	}{
		{[]string{"show", "info"}, 0, "Version: ctl-test"},
		{[]string{"set", "server", "app/web1", "state", "drain"}, 0, ""},
		{[]string{"set", "server", "app/nope", "state", "drain"}, 1, "No such server."},
		{[]string{"frobnicate"}, 1, "Unknown command"},
	} {
		var out, errb bytes.Buffer
		code := dispatch(append([]string{"ctl", "-s", path}, tc.args...), &out, &errb)
		if code != tc.code || !strings.Contains(out.String(), tc.out) {
			t.Errorf("%v: code %d out %q err %q", tc.args, code, out.String(), errb.String())
		}
	}
	if s.Admin() != core.AdminDrain {
		t.Fatalf("server state %v after ctl drain", s.Admin())
	}
}
