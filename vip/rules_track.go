package vip

import (
	"context"
	"fmt"
	"net"
	"net/netip"
	"time"

	"github.com/vishvananda/netlink"
	"github.com/vishvananda/netlink/nl"
	"golang.org/x/sys/unix"

	"github.com/varde-lb/varde/core/config/keepalived"
)

// watchRules follows policy-rule deletions (netlink has no typed
// subscription for them: the rule multicast groups are read raw). As with
// routes, keepalived 2.2.7 tracks its virtual rules: one deleted by
// someone else on a master makes the instance step down (priority-0
// advert, rules, routes and VIPs removed) and take over again when no
// better master appears. A deletion only wakes the instances with
// virtual rules, which then check their own rules are still there.
func (m *Manager) watchRules(ctx context.Context) error {
	need := false
	for _, in := range m.cfg.Instances {
		need = need || len(in.Rules) > 0
	}
	if !need {
		return nil
	}
	s, err := nl.Subscribe(unix.NETLINK_ROUTE, unix.RTNLGRP_IPV4_RULE, unix.RTNLGRP_IPV6_RULE)
	if err != nil {
		return fmt.Errorf("vip: netlink rule subscription: %w", err)
	}
	go func() { <-ctx.Done(); s.Close() }()
	go func() {
		for ctx.Err() == nil {
			msgs, _, err := s.Receive()
			if err != nil {
				time.Sleep(100 * time.Millisecond) // closed (ctx done) or a transient error: no spinning
				continue
			}
			for _, msg := range msgs {
				if msg.Header.Type == unix.RTM_DELRULE {
					m.ruleDeleted()
					break
				}
			}
		}
	}()
	return nil
}

func (m *Manager) ruleDeleted() {
	m.mu.Lock()
	runners := m.runners
	m.mu.Unlock()
	for _, r := range runners {
		if r.ruleGone == nil || len(r.cfg.Rules) == 0 {
			continue
		}
		select {
		case r.ruleGone <- struct{}{}:
		default: // a check is pending already
		}
	}
}

// lostRule reports whether one of the instance's virtual rules is gone.
func (r *runner) lostRule() bool {
	rt, ok := r.router.(*netlinkRouter)
	if !ok {
		return false
	}
	for _, want := range r.cfg.Rules {
		present, err := rt.hasRule(want)
		if err != nil || present {
			continue
		}
		r.logf("virtual rule %s was removed by someone else", want)
		return true
	}
	return false
}

// hasRule reports whether a rule with the same priority, table and
// selectors is installed.
func (n *netlinkRouter) hasRule(want keepalived.Rule) (bool, error) {
	nr := rule(want)
	list, err := n.h.RuleListFiltered(nr.Family, &netlink.Rule{Priority: nr.Priority, Table: nr.Table},
		netlink.RT_FILTER_PRIORITY|netlink.RT_FILTER_TABLE)
	if err != nil {
		return false, err
	}
	for _, k := range list {
		if prefixOf(k.Src) == want.From && prefixOf(k.Dst) == want.To && k.IifName == want.IIF && k.OifName == want.OIF {
			return true, nil
		}
	}
	return false, nil
}

// prefixOf converts a rule selector; nil (any address) is the zero Prefix,
// as keepalived.Rule writes `all`.
func prefixOf(n *net.IPNet) netip.Prefix {
	if n == nil {
		return netip.Prefix{}
	}
	a, ok := netip.AddrFromSlice(n.IP)
	if !ok {
		return netip.Prefix{}
	}
	ones, _ := n.Mask.Size()
	return netip.PrefixFrom(a.Unmap(), ones).Masked()
}
