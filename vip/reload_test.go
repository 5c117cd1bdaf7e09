package vip

import (
	"log/slog"
	"reflect"
	"strings"
	"testing"

	"github.com/varde-lb/varde/core/config/keepalived"
	"github.com/varde-lb/varde/core/diag"
)

func parseInstances(t *testing.T, text string) *keepalived.Config {
	t.Helper()
	var d diag.List
	cfg := keepalived.Parse("k.conf", []byte(text), &d)
	cfg.Validate(&d)
	if d.HasErrors() {
		t.Fatal(d.Err())
	}
	return cfg
}

// TestReloadKeepsOrRestarts: which edits let a reload take a running
// instance over (soft: applied in place) and which restart it (wire or
// election settings).
func TestReloadKeepsOrRestarts(t *testing.T) {
	base := runnerConf
	for _, tc := range []struct {
		name, from, to string
		keep           bool
	}{
		{"identical", "", "", true},
		{"comment and blank lines", "    interface eth0", "    # moved\n\n    interface eth0", true},
		{"renamed", "VI_1", "VI_web", true},
		{"notify script", "    interface eth0", "    notify_master /bin/true\n    interface eth0", true},
		{"garp_master_repeat", "garp_master_repeat 2", "garp_master_repeat 4", true},
		{"state MASTER", "    interface eth0", "    state MASTER\n    interface eth0", true},
		{"track_interface", "    interface eth0", "    track_interface {\n        eth1\n    }\n    interface eth0", true},
		{"priority", "priority 150", "priority 160", false},
		{"advert_int", "advert_int 0.05", "advert_int 0.1", false},
		{"VIP added", "198.18.0.100/24", "198.18.0.100/24\n        198.18.0.101/24", false},
		{"VIP prefix", "198.18.0.100/24", "198.18.0.100/32", false},
		{"nopreempt", "    interface eth0", "    nopreempt\n    interface eth0", false},
		{"unicast peer", "    interface eth0", "    unicast_peer {\n        198.18.0.12\n    }\n    interface eth0", false},
		{"version", "version 3", "version 2\n    advert_int 1", false},
	} {
		t.Run(tc.name, func(t *testing.T) {
			a := parseInstances(t, base).Instances[0]
			b := parseInstances(t, strings.Replace(base, tc.from, tc.to, 1)).Instances[0]
			if got := reflect.DeepEqual(wireOf(a), wireOf(b)); got != tc.keep {
				t.Errorf("kept = %v, want %v", got, tc.keep)
			}
		})
	}
}

// TestReloadMatch: an instance continues the running one on the same
// interface and VRID, else the one of the same name; each at most once.
func TestReloadMatch(t *testing.T) {
	in := func(name, iface string, vrid int) *keepalived.Instance {
		return &keepalived.Instance{Name: name, Interface: iface, VRID: vrid}
	}
	a, b, c := &runner{cfg: in("A", "eth0", 1)}, &runner{cfg: in("B", "eth0", 2)}, &runner{cfg: in("C", "eth1", 1)}
	prev := []*runner{a, b, c}
	for _, tc := range []struct {
		name string
		in   *keepalived.Instance
		used []*runner
		want *runner
	}{
		{"same interface and VRID, renamed", in("X", "eth0", 2), nil, b},
		{"same name, VRID changed", in("A", "eth0", 9), nil, a},
		{"VRID wins over name", in("A", "eth1", 1), nil, c},
		{"already matched", in("B", "eth0", 2), []*runner{b}, nil},
		{"new", in("N", "eth2", 7), nil, nil},
	} {
		t.Run(tc.name, func(t *testing.T) {
			used := map[*runner]bool{}
			for _, r := range tc.used {
				used[r] = true
			}
			if got := match(tc.in, prev, used); got != tc.want {
				t.Errorf("matched %v, want %v", got, tc.want)
			}
		})
	}
}

// A changed vrrp_script starts from the verdict of the one it replaces,
// and its own first result then applies at once.
func TestScriptSeed(t *testing.T) {
	s := &keepalived.Script{Name: "chk", Rise: 3, Fall: 3}
	old := newScriptTracker(s, slog.New(slog.DiscardHandler))
	old.known, old.up = true, false
	nt := newScriptTracker(s, slog.New(slog.DiscardHandler))
	nt.seed(old)
	if up, known := nt.Up(); up || !known {
		t.Fatalf("seeded state up=%v known=%v, want down and known", up, known)
	}
	nt.record(true) // first own result: applies at once despite rise 3
	if up, _ := nt.Up(); !up {
		t.Fatal("the first own result did not apply")
	}
	nt.record(false) // then rise/fall as usual
	if up, _ := nt.Up(); !up {
		t.Fatal("one failure with fall 3 took it down")
	}
	if !sameScript(s, &keepalived.Script{Name: "other", Rise: 3, Fall: 3}) || sameScript(s, &keepalived.Script{Rise: 2, Fall: 3}) {
		t.Fatal("sameScript")
	}
}
