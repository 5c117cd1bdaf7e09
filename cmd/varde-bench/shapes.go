package main

// The traffic shapes of issue 16, each run in alternating rounds against
// HAProxy and varde with the same haproxy.cfg, and the one table of their
// medians and ratios.

import (
	"bytes"
	"fmt"
	"os"
	"path/filepath"
	"strings"
)

// shape is one wrk load: a path on the nginx backends (/ answers 17
// bytes, /f/64k and /f/1m are static files), a connection count, and
// whether every request uses a new connection.
type shape struct {
	name   string
	label  string
	path   string
	conns  int
	close  bool
	target float64 // varde/HAProxy requests/s wanted
}

func allShapes(o options) []shape {
	return []shape{
		{"ka50", fmt.Sprintf("keep-alive, 17 B, %d conns", o.conns), "/", o.conns, false, 1.0},
		{"ka1000", "keep-alive, 17 B, 1,000 conns", "/", 1000, false, 1.0},
		{"close", "new connection per request, 50 conns", "/", 50, true, 1.0},
		{"64k", "64 KiB responses, 50 conns", "/f/64k", 50, false, 1.2},
		{"1m", "1 MiB responses, 20 conns", "/f/1m", 20, false, 1.2},
	}
}

func shapeNames() string {
	var n []string
	for _, s := range allShapes(options{conns: 50}) {
		n = append(n, s.name)
	}
	return strings.Join(append(n, "idle"), ",")
}

// wanted reports whether -shapes selects name (all when empty).
func (o options) wanted(name string) bool {
	if o.shapes == "" {
		return true
	}
	for _, s := range strings.Split(o.shapes, ",") {
		if strings.TrimSpace(s) == name {
			return true
		}
	}
	return false
}

// writeBodies writes the static files nginx serves for the body shapes.
func writeBodies(dir string) error {
	if err := os.MkdirAll(filepath.Join(dir, "f"), 0o755); err != nil {
		return err
	}
	for name, size := range map[string]int{"64k": 64 << 10, "1m": 1 << 20} {
		b := bytes.Repeat([]byte("varde-bench body"), size/16)
		if err := os.WriteFile(filepath.Join(dir, "f", name), b, 0o644); err != nil {
			return err
		}
	}
	return nil
}

// runShapes runs every selected shape, then the idle-RSS measurement, and
// writes the table (with its header) to t.
func runShapes(o options, cfgPath, addr string, kinds []proxyKind, t *bytes.Buffer) error {
	return runShapesWith(o, func(string) string { return cfgPath }, addr, kinds, t, "")
}

// runShapesWith is runShapes with a configuration per proxy (cfgOf takes
// the proxy's name) and a suffix for the table's shape labels.
func runShapesWith(o options, cfgOf func(string) string, addr string, kinds []proxyKind, t *bytes.Buffer, suffix string) error {
	fmt.Fprintf(t, "| shape | HAProxy | varde | varde/HAProxy | target |\n|---|---|---|---|---|\n")
	for _, sh := range allShapes(o) {
		if !o.wanted(sh.name) {
			continue
		}
		sh.label += suffix
		fmt.Printf("\n%s: wrk -t2 -c%d %s\n", sh.label, sh.conns, sh.path)
		results := map[string][]result{}
		for r := 0; r < o.rounds; r++ {
			for _, k := range kinds {
				res, err := benchShape(k, cfgOf(k.name), addr, o, sh)
				if err != nil {
					return fmt.Errorf("%s %s round %d: %w", k.name, sh.name, r+1, err)
				}
				fmt.Printf("round %d %-8s %9.0f req/s  p50 %-9v p99 %-9v peak RSS %6.1f MiB  CPU %5.1f us/req\n", r+1, k.name, res.rps, res.p50, res.p99, float64(res.peakRSS)/1024, res.cpuPerReq)
				results[k.name] = append(results[k.name], res)
			}
		}
		h, v := summarize(results["haproxy"]), summarize(results["varde"])
		fmt.Fprintf(t, "| %s: requests/s (median of %d) | %.0f | %.0f | %.2f | >= %.1f |\n", sh.label, o.rounds, h.rps, v.rps, v.rps/h.rps, sh.target)
		fmt.Fprintf(t, "| %s: p99 latency | %v | %v | %.2f | <= 1.0 |\n", sh.label, h.p99, v.p99, float64(v.p99)/float64(h.p99))
		fmt.Fprintf(t, "| %s: proxy CPU per request | %.1f us | %.1f us | %.2f | |\n", sh.label, h.cpuPerReq, v.cpuPerReq, v.cpuPerReq/h.cpuPerReq)
	}
	if !o.wanted("idle") {
		return nil
	}
	idle := map[string]int64{}
	for _, k := range kinds {
		rss, err := idleRSS(k, cfgOf(k.name), addr, o.idle)
		if err != nil {
			return fmt.Errorf("%s idle connections: %w", k.name, err)
		}
		idle[k.name] = rss
		fmt.Printf("%-8s RSS with %d idle keep-alive connections: %.1f MiB\n", k.name, o.idle, float64(rss)/1024)
	}
	fmt.Fprintf(t, "| RSS, %d idle keep-alive clients | %.1f MiB | %.1f MiB | %.2f | <= 1.0 |\n", o.idle, float64(idle["haproxy"])/1024, float64(idle["varde"])/1024, float64(idle["varde"])/float64(idle["haproxy"]))
	return nil
}
