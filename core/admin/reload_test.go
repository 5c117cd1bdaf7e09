package admin_test

import (
	"errors"
	"net/netip"
	"testing"

	"github.com/varde-lb/varde/core"
	"github.com/varde-lb/varde/core/admin"
	"github.com/varde-lb/varde/core/stats"
)

// TestReloadCommand: `reload` answers HAProxy's master CLI shape, needs
// level admin, and reports every error line of a failed reload.
func TestReloadCommand(t *testing.T) {
	fail := errors.New("a.cfg:3: error: bogus: unknown keyword\na.cfg:9: error: server: no address")
	for _, tc := range []struct {
		name   string
		reload func() error
		level  admin.Level
		want   string
	}{
		{"success", func() error { return nil }, admin.LevelAdmin, "Success=1\n\n"},
		{"failure lists every error", func() error { return fail }, admin.LevelAdmin,
			"Success=0\n--\na.cfg:3: error: bogus: unknown keyword\na.cfg:9: error: server: no address\n\n"},
		{"not available", nil, admin.LevelAdmin, "Success=0\n--\nreload is not available in this mode.\n\n"},
		{"operator may not", func() error { t.Error("reload ran at level operator"); return nil }, admin.LevelOperator, "Permission denied\n\n"},
	} {
		t.Run(tc.name, func(t *testing.T) {
			s := admin.New(admin.Config{}, admin.Runtime{Source: stats.SourceFunc(func() stats.Snapshot { return stats.Snapshot{} })}, nil)
			if tc.reload != nil {
				s.SetReload(tc.reload)
			}
			if got := s.Exec("reload", tc.level); got != tc.want {
				t.Errorf("got %q, want %q", got, tc.want)
			}
		})
	}
	if c, err := admin.Parse("reload now"); err == nil {
		t.Errorf("reload with arguments parsed as %+v", c)
	}
}

// TestStateConfigWins: a weight or maxconn set at runtime is reapplied to
// the next generation unless the configuration changed that server's
// value since (HAProxy's server-state-file rule).
func TestStateConfigWins(t *testing.T) {
	addr := netip.MustParseAddrPort("127.0.0.1:1")
	for _, tc := range []struct {
		name  string
		confW int
		confM int64
		wantW int
		wantM int64
	}{
		{"configuration unchanged: runtime values kept", 1, 10, 7, 99},
		{"weight changed in the configuration", 5, 10, 5, 99},
		{"maxconn changed in the configuration", 1, 20, 7, 20},
	} {
		t.Run(tc.name, func(t *testing.T) {
			st := admin.NewStateStore("")
			old := core.NewServer("app", "s", 1, addr, 1, 10)
			st.SetWeight(old, 7)
			st.SetMaxConn(old, 99)
			next := core.NewServer("app", "s", 1, addr, tc.confW, tc.confM)
			st.Apply([]*core.Server{next}, nil)
			if next.Weight() != tc.wantW || next.MaxConn() != tc.wantM {
				t.Errorf("weight %d maxconn %d, want %d %d", next.Weight(), next.MaxConn(), tc.wantW, tc.wantM)
			}
		})
	}
}
