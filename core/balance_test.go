package core_test

import (
	"errors"
	"strings"
	"testing"

	"github.com/varde-lb/varde/core"
)

type nopBalancer struct{}

func (nopBalancer) Update([]*core.Server)               {}
func (nopBalancer) Pick(*core.PickContext) *core.Server { return nil }

// TestRegisterBalancerRefusesArguments: an algorithm registered with a bare
// factory takes no parameter nor argument, and the refusal says which word.
func TestRegisterBalancerRefusesArguments(t *testing.T) {
	core.RegisterBalancer("coretest-plain", func(core.BalanceSpec) (core.Balancer, error) { return nopBalancer{}, nil })
	if _, err := core.NewBalancer(core.BalanceSpec{Algorithm: "coretest-plain"}); err != nil {
		t.Fatal(err)
	}
	for _, spec := range []core.BalanceSpec{
		{Algorithm: "coretest-plain", Param: "3"},
		{Algorithm: "coretest-plain", Args: []string{"x"}},
	} {
		_, err := core.ParseBalance(spec)
		var ae *core.ArgError
		if !errors.As(err, &ae) || ae.Hint != "balance coretest-plain" {
			t.Errorf("%+v: got %v, want an ArgError with a hint", spec, err)
		}
	}
}

// TestFactoryErrorAtParse: a factory's error surfaces from Parse, which
// core/config runs, not only at start.
func TestFactoryErrorAtParse(t *testing.T) {
	core.RegisterBalancer("coretest-broken", func(core.BalanceSpec) (core.Balancer, error) { return nil, errors.New("broken") })
	if _, err := core.ParseBalance(core.BalanceSpec{Algorithm: "coretest-broken"}); err == nil || err.Error() != "broken" {
		t.Errorf("got %v", err)
	}
}

func TestUnknownAlgorithm(t *testing.T) {
	_, err := core.NewBalancer(core.BalanceSpec{Algorithm: "coretest-none"})
	if err == nil || !strings.Contains(err.Error(), `unknown balance algorithm "coretest-none"`) {
		t.Errorf("got %v", err)
	}
}

func TestRegisterTwicePanics(t *testing.T) {
	a := core.Algorithm{Name: "coretest-twice", Parse: func(core.BalanceSpec) (core.Build, error) { return nil, nil }}
	core.RegisterAlgorithm(a)
	defer func() {
		if recover() == nil {
			t.Error("second registration did not panic")
		}
	}()
	core.RegisterAlgorithm(a)
}
