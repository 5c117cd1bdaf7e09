package admin

import (
	"fmt"
	"path/filepath"
	"sort"
	"strconv"
	"strings"

	"github.com/prometheus/client_golang/prometheus"

	"github.com/varde-lb/varde/core"
	"github.com/varde-lb/varde/core/proxy"
	"github.com/varde-lb/varde/core/stats"
)

// policyStats flattens every policy's entry counters.
func policyStats(ps []proxy.LoadedPolicy) []core.PolicyEntryStats {
	var out []core.PolicyEntryStats
	for _, lp := range ps {
		if s, ok := lp.Policy.(core.PolicyStatser); ok {
			out = append(out, s.PolicyStats()...)
		}
	}
	return out
}

// showPolicies is `show policies`: one line per entry point of each policy.
func showPolicies(ps []proxy.LoadedPolicy) string {
	var b strings.Builder
	b.WriteString("# policy proxy engine entry calls declined errors p99_us\n")
	for _, e := range policyStats(ps) {
		fmt.Fprintf(&b, "%s %s %s %s %d %d %s %d\n", e.Policy, e.Proxy, e.Engine, e.Entry, e.Calls, e.Declined,
			errorList(e.Errors), e.P99.Microseconds())
	}
	return b.String()
}

// errorList is "timeout=3,error=1" (reasons with a count), or "-".
func errorList(m map[string]uint64) string {
	var parts []string
	for _, r := range sortedReasons(m) {
		if m[r] > 0 {
			parts = append(parts, r+"="+strconv.FormatUint(m[r], 10))
		}
	}
	if len(parts) == 0 {
		return "-"
	}
	return strings.Join(parts, ",")
}

func sortedReasons(m map[string]uint64) []string {
	out := make([]string, 0, len(m))
	for r := range m {
		out = append(out, r)
	}
	sort.Strings(out)
	return out
}

// findPolicyVars returns the shared tables named by file (as written on
// the policy line, its base name or its resolved path); a name matching
// policies of different files is ambiguous.
func findPolicyVars(ps []proxy.LoadedPolicy, file string) (core.PolicyVars, string) {
	var found core.PolicyVars
	path := ""
	for _, lp := range ps {
		if lp.File != file && filepath.Base(lp.Path) != file && lp.Path != file {
			continue
		}
		pv, ok := lp.Policy.(core.PolicyVars)
		if !ok {
			continue
		}
		if path != "" && path != lp.Path {
			return nil, "Ambiguous policy name: give its path.\n"
		}
		found, path = pv, lp.Path
	}
	if found == nil {
		return nil, "No such policy.\n"
	}
	return found, ""
}

// policyVar runs show|set|del policy var. A value that reads as a number
// is stored as one, so scripts can compare it with numbers.
func (s *Server) policyVar(cmd Command) string {
	pv, msg := findPolicyVars(s.rt.Policies, cmd.Policy)
	if pv == nil {
		return msg
	}
	switch cmd.Op {
	case OpSetPolicyVar:
		var v any = cmd.Value
		if n, err := strconv.ParseFloat(cmd.Value, 64); err == nil {
			v = n
		}
		if !pv.SetVar(cmd.Key, v) {
			return "Policy table full.\n"
		}
		s.log.Info("admin: set policy var", "policy", cmd.Policy, "key", cmd.Key, "value", cmd.Value)
		return ""
	case OpDelPolicyVar:
		pv.SetVar(cmd.Key, nil)
		s.log.Info("admin: del policy var", "policy", cmd.Policy, "key", cmd.Key)
		return ""
	}
	var b strings.Builder
	for _, k := range pv.VarKeys() {
		if v, ok := pv.Var(k); ok {
			fmt.Fprintf(&b, "%s=%v\n", k, v)
		}
	}
	return b.String()
}

// policyCollector exports the policies' counters to Prometheus:
// varde_policy_calls_total{policy,proxy,entry},
// varde_policy_errors_total{policy,proxy,entry,reason},
// varde_policy_declined_total and varde_policy_call_p99_seconds.
type policyCollector struct{ ps []proxy.LoadedPolicy }

var (
	polLabels  = []string{"policy", "proxy", "entry"}
	polCalls   = prometheus.NewDesc("varde_policy_calls_total", "Calls of a policy entry point.", polLabels, nil)
	polDecl    = prometheus.NewDesc("varde_policy_declined_total", "Calls that returned nil (the built-in decided, as asked).", polLabels, nil)
	polErrors  = prometheus.NewDesc("varde_policy_errors_total", "Calls whose verdict was not used (the built-in decided), by reason.", append(polLabels, "reason"), nil)
	polP99     = prometheus.NewDesc("varde_policy_call_p99_seconds", "Upper bound of the 99th percentile call time.", polLabels, nil)
	collectors = []*prometheus.Desc{polCalls, polDecl, polErrors, polP99}
)

func (c policyCollector) Describe(ch chan<- *prometheus.Desc) {
	for _, d := range collectors {
		ch <- d
	}
}

func (c policyCollector) Collect(ch chan<- prometheus.Metric) {
	for _, e := range policyStats(c.ps) {
		l := []string{e.Policy, e.Proxy, e.Entry}
		ch <- prometheus.MustNewConstMetric(polCalls, prometheus.CounterValue, float64(e.Calls), l...)
		ch <- prometheus.MustNewConstMetric(polDecl, prometheus.CounterValue, float64(e.Declined), l...)
		for _, r := range sortedReasons(e.Errors) {
			ch <- prometheus.MustNewConstMetric(polErrors, prometheus.CounterValue, float64(e.Errors[r]), append(l, r)...)
		}
		ch <- prometheus.MustNewConstMetric(polP99, prometheus.GaugeValue, e.P99.Seconds(), l...)
	}
}

// policyExtras are the policies' counters as stats extras for the stats
// page (NoMetric: Prometheus has them with labels, policyCollector).
func policyExtras(ps []proxy.LoadedPolicy) []stats.Extra {
	var out []stats.Extra
	for _, e := range policyStats(ps) {
		var errs uint64
		for _, n := range e.Errors {
			errs += n
		}
		name := e.Policy + " " + e.Entry
		out = append(out,
			stats.Extra{Subsystem: "policy", Name: name + " calls", Counter: true, Value: float64(e.Calls), Proxy: e.Proxy, NoMetric: true},
			stats.Extra{Subsystem: "policy", Name: name + " errors " + errorList(e.Errors), Counter: true, Value: float64(errs), Proxy: e.Proxy, NoMetric: true},
			stats.Extra{Subsystem: "policy", Name: name + " p99 µs", Value: float64(e.P99.Microseconds()), Proxy: e.Proxy, NoMetric: true})
	}
	return out
}
