package proxy

import "testing"

// `disabled` keeps a proxy out of the running engine; `enabled` in a proxy
// overrides a `disabled` inherited from defaults, as in HAProxy.
func TestFromConfigDisabledEnabled(t *testing.T) {
	cfg := loadProxyConfig(t, `defaults
    mode http
    timeout connect 1s
    timeout client 1s
    timeout server 1s
frontend off
    disabled
    bind 127.0.0.1:18001
    default_backend app
frontend on
    bind 127.0.0.1:18002
    default_backend app
backend app
    server s1 127.0.0.1:18003
backend old
    disabled
    server s1 127.0.0.1:18004

defaults
    mode http
    timeout connect 1s
    timeout client 1s
    timeout server 1s
    disabled
backend inherited_off
    server s1 127.0.0.1:18005
backend back_on
    enabled
    server s1 127.0.0.1:18006
`)
	var fronts, backs []string
	for _, f := range cfg.Frontends {
		fronts = append(fronts, f.Name)
	}
	for _, b := range cfg.Backends {
		backs = append(backs, b.Name)
	}
	if len(fronts) != 1 || fronts[0] != "on" {
		t.Errorf("frontends = %v, want [on]", fronts)
	}
	want := map[string]bool{"app": true, "back_on": true}
	if len(backs) != len(want) {
		t.Errorf("backends = %v, want app and back_on", backs)
	}
	for _, b := range backs {
		if !want[b] {
			t.Errorf("backend %q should be disabled (backends %v)", b, backs)
		}
	}
}
