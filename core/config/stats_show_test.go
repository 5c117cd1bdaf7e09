package config

import "testing"

// TestStatsShowEnables: as in HAProxy, each `stats show-*` line alone
// enables the stats page (it creates the proxy's stats settings), except
// `stats show-desc` without text, which is ignored with a warning.
func TestStatsShowEnables(t *testing.T) {
	tests := []struct {
		line    string
		enabled bool
		check   func(*Stats) bool
	}{
		{"stats show-legends", true, func(s *Stats) bool { return s.ShowLegends }},
		{"stats show-modules", true, func(s *Stats) bool { return s.ShowModules }},
		{"stats show-node", true, func(s *Stats) bool { return s.ShowNode == "-" }},
		{"stats show-node lb-1.a_b", true, func(s *Stats) bool { return s.ShowNode == "lb-1.a_b" }},
		{"stats show-desc primary  lb", true, func(s *Stats) bool { return s.ShowDesc == "primary lb" }},
		{"stats show-desc", false, func(s *Stats) bool { return s.ShowDesc == "" }},
	}
	for _, tt := range tests {
		t.Run(tt.line, func(t *testing.T) {
			c, d := load(t, okDefaults+"frontend f\n bind :80\n "+tt.line+"\n")
			if d.HasErrors() {
				t.Fatalf("errors:\n%s", render(d))
			}
			st := c.Frontends[0].Stats
			if st == nil || st.Enabled != tt.enabled || !tt.check(st) {
				t.Fatalf("stats %+v, want enabled=%v", st, tt.enabled)
			}
		})
	}
}
