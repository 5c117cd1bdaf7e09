package admin_test

import (
	"net/netip"
	"strings"
	"testing"
	"time"

	"github.com/varde-lb/varde/core/admin"
	"github.com/varde-lb/varde/core/stats"
	"github.com/varde-lb/varde/core/sticktable"
)

// TestTableCommands drives show/clear/set table through the CLI's
// command path, with HAProxy's messages and levels.
func TestTableCommands(t *testing.T) {
	e := newEnv(t)
	tb := sticktable.New(sticktable.Def{Name: "fe", Key: sticktable.KeyIP, Size: 100, Expire: 30 * time.Second,
		Store: []sticktable.Store{{Type: sticktable.GPC0}, {Type: sticktable.HTTPReqRate, Period: 10 * time.Second}}})
	other := sticktable.New(sticktable.Def{Name: "per_ip", Key: sticktable.KeyIP, Size: 10, Store: []sticktable.Store{{Type: sticktable.ConnCur}}})
	k, _ := tb.KeyOfAddr(netip.MustParseAddr("10.0.0.7"), nil)
	tr := tb.Track(k) // in use: clear must refuse it
	srv := admin.New(admin.Config{}, admin.Runtime{Source: e.src, Tables: sticktable.NewSet(tb, other)}, nil)
	steps := []struct {
		lvl       admin.Level
		cmd, want string
	}{
		{admin.LevelUser, "show table", "# table: per_ip, type: ip, size:10, used:0\n# table: fe, type: ip, size:100, used:1\n\n"},
		{admin.LevelUser, "show table fe", "# table: fe, type: ip, size:100, used:1\n# contents not dumped due to insufficient privileges\n\n"},
		{admin.LevelOperator, "show table nope", "No such table\n\n"},
		{admin.LevelOperator, "set table fe key 10.0.0.9 data.gpc0 5 data.http_req_rate 3", "\n"},
		{admin.LevelOperator, "show table fe data.gpc0 gt 4", ": key=10.0.0.9 use=0 exp=" /* ms left: timing */},
		{admin.LevelOperator, "show table fe data.gpc0 gt 4", " gpc0=5 http_req_rate(10000)=3\n\n"},
		{admin.LevelOperator, "show table fe key 10.0.0.7", "key=10.0.0.7 use=1 "},
		{admin.LevelOperator, "show table fe key 10.0.0.8", "\n"},
		{admin.LevelOperator, "show table fe data.conn_cur gt 1", "Filter entry #1: Data type not stored in this table\n\n"},
		{admin.LevelOperator, "show table fe bogus", "Optional argument only supports"},
		{admin.LevelOperator, "set table fe key 10.0.0.9 data.conn_cur 1", "Data type not stored in this table\n\n"},
		{admin.LevelOperator, "set table fe key nope data.gpc0 1", "Invalid key\n\n"},
		{admin.LevelOperator, "set table fe", "Required arguments: <table> key <key>"},
		{admin.LevelOperator, "clear table fe key 10.0.0.7", "Entry currently in use, cannot remove\n\n"},
		{admin.LevelOperator, "clear table fe data.gpc0 ge 5", "\n"},
		{admin.LevelOperator, "show table fe", "# table: fe, type: ip, size:100, used:1\n"},
		{admin.LevelOperator, "set table fe key 10.0.0.10 data.gpc0 1", "\n"},
		{admin.LevelOperator, "clear table fe", "\n"},
		{admin.LevelOperator, "show table", "# table: fe, type: ip, size:100, used:1\n"},
		{admin.LevelUser, "clear table fe key 10.0.0.7", "Permission denied\n\n"},
	}
	for _, s := range steps {
		got := srv.Exec(s.cmd, s.lvl)
		// An answer that is only a line end must be exactly that.
		if !strings.Contains(got, s.want) || s.want == "\n" && got != "\n" {
			t.Errorf("%s (level %s):\ngot  %q\nwant %q", s.cmd, s.lvl, got, s.want)
		}
	}
	tb.Untrack(tr)
}

func FuzzTableCommand(f *testing.F) {
	for _, s := range []string{"show table", "show table fe key 1.2.3.4", "clear table fe data.gpc0 gt 1 data.gpc0 lt 9", "set table fe key ::1 data.gpc0", "show table fe data."} {
		f.Add(s)
	}
	tb := sticktable.New(sticktable.Def{Name: "fe", Key: sticktable.KeyIP, Size: 4, Store: []sticktable.Store{{Type: sticktable.GPC0}}})
	src := stats.SourceFunc(func() stats.Snapshot { return stats.Snapshot{} })
	srv := admin.New(admin.Config{}, admin.Runtime{Source: src, Tables: sticktable.NewSet(tb)}, nil)
	f.Fuzz(func(t *testing.T, line string) {
		if !strings.Contains(line, "table") {
			return
		}
		if out := srv.Exec(line, admin.LevelAdmin); !strings.HasSuffix(out, "\n\n") && !strings.HasSuffix(out, "\n") {
			t.Fatalf("%q: unterminated answer %q", line, out)
		}
	})
}
