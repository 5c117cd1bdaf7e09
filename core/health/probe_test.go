package health_test

import (
	"context"
	"errors"
	"testing"

	"github.com/varde-lb/varde/core"
	"github.com/varde-lb/varde/core/health"
)

// TestProbeParseRunsTheFactory: a probe registered with a bare factory
// still reports its refusal from ParseProbe, which the configuration
// check runs, not only at start.
func TestProbeParseRunsTheFactory(t *testing.T) {
	health.RegisterProbe("probetest-refuses", func(health.ProbeSpec) (health.Probe, error) { return nil, errors.New("refused") })
	if _, err := health.ParseProbe(health.ProbeSpec{Type: "probetest-refuses"}); err == nil || err.Error() != "refused" {
		t.Errorf("got %v", err)
	}
	if _, err := health.NewProbe(health.ProbeSpec{Type: "probetest-refuses"}); err == nil {
		t.Error("NewProbe built a refused probe")
	}
}

// TestProbeTypeOwnsItsOption: a probe type declares the option selecting it.
func TestProbeTypeOwnsItsOption(t *testing.T) {
	ok := health.ProbeFunc(func(context.Context, health.Target) core.CheckResult { return core.CheckResult{OK: true} })
	health.RegisterProbeType(health.ProbeType{Name: "probetest-opt", Option: "probetest-chk",
		Parse: func(health.ProbeSpec) (health.BuildProbe, error) { return func() health.Probe { return ok }, nil }})
	if name, found := health.ProbeForOption("probetest-chk"); !found || name != "probetest-opt" {
		t.Errorf("got %q %v", name, found)
	}
	p, err := health.NewProbe(health.ProbeSpec{Type: "probetest-opt"})
	if err != nil || !p.Check(context.Background(), health.Target{}).OK {
		t.Errorf("got %v %v", p, err)
	}
	if _, found := health.ProbeForOption("nothing"); found {
		t.Error("unknown option selects a probe")
	}
}
