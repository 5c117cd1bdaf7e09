package generation

import (
	"context"
	"errors"
	"strings"
	"testing"

	"github.com/google/go-cmp/cmp"
	"github.com/varde-lb/varde/core/config"
	"github.com/varde-lb/varde/core/diag"
)

// recorder is a fake part that logs what happens to it.
type recorder struct {
	name     string
	log      *[]string
	startErr error
}

func (r *recorder) Start(context.Context) error {
	*r.log = append(*r.log, "start "+r.name)
	return r.startErr
}
func (r *recorder) Stop(context.Context) error { *r.log = append(*r.log, "stop "+r.name); return nil }
func (r *recorder) Close() error               { *r.log = append(*r.log, "close "+r.name); return nil }

// withSubsystems swaps the registry for the test.
func withSubsystems(t *testing.T, list ...Subsystem) {
	saved := subsystems
	subsystems = nil
	t.Cleanup(func() { subsystems = saved })
	for _, s := range list {
		Register(s)
	}
}

func fake(name string, order int, log *[]string, startErr error) Subsystem {
	return Subsystem{Name: name, Order: order, Prepare: func(*Generation, *diag.List) Part {
		*log = append(*log, "prepare "+name)
		return &recorder{name: name, log: log, startErr: startErr}
	}}
}

func TestOrder(t *testing.T) {
	var log []string
	withSubsystems(t, fake("c", 30, &log, nil), fake("a", 10, &log, nil), fake("b", 20, &log, nil))
	g, d := Build(&config.Set{}, Options{})
	if d.HasErrors() {
		t.Fatal(d.Err())
	}
	if err := g.Start(context.Background()); err != nil {
		t.Fatal(err)
	}
	if err := g.Stop(); err != nil {
		t.Fatal(err)
	}
	want := []string{"prepare a", "prepare b", "prepare c", "start a", "start b", "start c", "stop c", "stop b", "stop a"}
	if diff := cmp.Diff(want, log); diff != "" {
		t.Errorf("lifecycle (-want +got):\n%s", diff)
	}
}

// A start error stops what started, in reverse, and releases the rest.
func TestStartFailureRollsBack(t *testing.T) {
	var log []string
	boom := errors.New("boom")
	withSubsystems(t, fake("a", 10, &log, nil), fake("b", 20, &log, boom), fake("c", 30, &log, nil))
	g, _ := Build(&config.Set{}, Options{})
	err := g.Start(context.Background())
	if !errors.Is(err, boom) || !strings.Contains(err.Error(), "start b") {
		t.Fatalf("err = %v", err)
	}
	want := []string{"prepare a", "prepare b", "prepare c", "start a", "start b", "stop a", "close b", "close c"}
	if diff := cmp.Diff(want, log); diff != "" {
		t.Errorf("lifecycle (-want +got):\n%s", diff)
	}
}

// `varde check` closes what Build prepared without starting it.
func TestCloseUnstarted(t *testing.T) {
	var log []string
	withSubsystems(t, fake("a", 10, &log, nil), fake("b", 20, &log, nil))
	g, _ := Build(&config.Set{}, Options{})
	if err := g.Close(); err != nil {
		t.Fatal(err)
	}
	if diff := cmp.Diff([]string{"prepare a", "prepare b", "close a", "close b"}, log); diff != "" {
		t.Errorf("(-want +got):\n%s", diff)
	}
}

// A panicking Prepare is an located internal error, not a crash.
func TestPreparePanicIsAnError(t *testing.T) {
	withSubsystems(t, Subsystem{Name: "bad", Order: 1, Prepare: func(*Generation, *diag.List) Part { panic("oops") }})
	set := &config.Set{Files: []config.FileInfo{{Path: "x.cfg"}}}
	_, d := Build(set, Options{})
	if !d.HasErrors() || !strings.Contains(d.Err().Error(), "x.cfg: error: bad: internal error while preparing bad: oops") {
		t.Fatalf("got %v", d.Err())
	}
}

func TestRegisterClash(t *testing.T) {
	withSubsystems(t, Subsystem{Name: "a", Order: 1})
	for _, s := range []Subsystem{{Name: "a", Order: 2}, {Name: "b", Order: 1}} {
		func() {
			defer func() {
				if recover() == nil {
					t.Errorf("Register(%+v) did not panic", s)
				}
			}()
			Register(s)
		}()
	}
}

// heir is a recorder that inherits and drains.
type heir struct {
	recorder
	from Part
}

func (h *heir) Inherit(prev Part)               { h.from = prev; *h.log = append(*h.log, "inherit "+h.name) }
func (h *heir) Drain(ctx context.Context) error { *h.log = append(*h.log, "drain "+h.name); return nil }
func (h *heir) Commit()                         { *h.log = append(*h.log, "commit "+h.name) }

func TestStartAfterAndRetire(t *testing.T) {
	var log []string
	parts := map[*Generation]map[string]*heir{}
	mk := func(name string, order int) Subsystem {
		return Subsystem{Name: name, Order: order, Prepare: func(g *Generation, _ *diag.List) Part {
			h := &heir{recorder: recorder{name: name, log: &log}}
			if parts[g] == nil {
				parts[g] = map[string]*heir{}
			}
			parts[g][name] = h
			return h
		}}
	}
	withSubsystems(t, mk("logs", 10), mk("engine", 20))
	old, _ := Build(&config.Set{}, Options{})
	if err := old.Start(context.Background()); err != nil {
		t.Fatal(err)
	}
	next, _ := Build(&config.Set{}, Options{})
	log = nil
	if err := next.StartAfter(context.Background(), old); err != nil {
		t.Fatal(err)
	}
	if err := old.Retire(context.Background()); err != nil {
		t.Fatal(err)
	}
	want := []string{"inherit logs", "inherit engine", "start logs", "start engine", "commit logs", "commit engine", "drain engine", "drain logs"}
	if diff := cmp.Diff(want, log); diff != "" {
		t.Errorf("reload (-want +got):\n%s", diff)
	}
	for _, name := range []string{"logs", "engine"} {
		if parts[next][name].from != parts[old][name] {
			t.Errorf("%s inherited from the wrong part", name)
		}
	}
	if !old.Handover {
		t.Error("a retired generation must be marked Handover (its successor holds the VIPs)")
	}
}
