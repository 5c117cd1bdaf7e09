package main

import (
	"bytes"
	"fmt"
	"os"
	"os/exec"
	"path/filepath"
)

// runPolicy (-policy) measures what a policy costs per request: the
// same haproxy.cfg with and without `policy canary.lua` (or canary.wasm
// when -canary names a .wasm file) in the backend, varde only, alternating
// rounds of wrk against two nginx backends, and prints the medians and
// the ratios (issue targets: canary.lua >= 0.95x the built-in
// roundrobin's throughput, canary.wasm >= 0.97x, p99 within 1.1x).
func runPolicy(o options) error {
	for _, tool := range []string{"nginx", "wrk"} {
		if _, err := lookPath(tool); err != nil {
			return fmt.Errorf("%s not found (install it: `make deps`)", tool)
		}
	}
	varde, err := filepath.Abs(o.varde)
	if err != nil {
		return err
	}
	canary, err := os.ReadFile(o.canary)
	if err != nil {
		return fmt.Errorf("policy script: %w (run from the repository root or give -canary)", err)
	}
	raiseNoFile()
	dir, err := os.MkdirTemp("", "varde-bench-policy-")
	if err != nil {
		return err
	}
	defer os.RemoveAll(dir)
	file, target := "canary.lua", "0.95"
	if filepath.Ext(o.canary) == ".wasm" {
		file, target = "canary.wasm", "0.97"
	}
	if err := os.WriteFile(filepath.Join(dir, file), canary, 0o644); err != nil {
		return err
	}
	b1, b2 := freePort(), freePort()
	stopNginx, err := startNginx(dir, b1, b2)
	if err != nil {
		return err
	}
	defer stopNginx()
	port := freePort()
	cfgs := map[string]string{}
	for name, line := range map[string]string{"roundrobin": "", file: "    policy " + file + "\n"} {
		p := filepath.Join(dir, name+".cfg")
		if err := os.WriteFile(p, []byte(benchConfig(port, b1, b2, "    no strict-limits\n", line)), 0o644); err != nil {
			return err
		}
		cfgs[name] = p
	}
	kind := proxyKind{"varde", func(cfg string) *exec.Cmd { return exec.Command(varde, "run", "-f", cfg) }}
	addr := fmt.Sprintf("127.0.0.1:%d", port)
	fmt.Printf("varde with and without `policy %s` (servers n1, n2: no canary server, so every request runs the script and picks n1 or n2)\nwrk -t2 -c%d -d%s; %d rounds each, alternating\n\n", file, o.conns, o.duration, o.rounds)
	results := map[string][]result{}
	for r := 0; r < o.rounds; r++ {
		for _, name := range []string{"roundrobin", file} {
			res, err := benchOnce(kind, cfgs[name], addr, o)
			if err != nil {
				return fmt.Errorf("%s round %d: %w", name, r+1, err)
			}
			fmt.Printf("round %d %-10s %9.0f req/s  p50 %-9v p99 %-9v CPU %5.1f us/req\n", r+1, name, res.rps, res.p50, res.p99, res.cpuPerReq)
			results[name] = append(results[name], res)
		}
	}
	b, p := summarize(results["roundrobin"]), summarize(results[file])
	var t bytes.Buffer
	fmt.Fprintf(&t, "| | roundrobin | %s | ratio | target |\n|---|---|---|---|---|\n", file)
	fmt.Fprintf(&t, "| requests/s (median of %d) | %.0f | %.0f | %.2f | >= %s |\n", o.rounds, b.rps, p.rps, p.rps/b.rps, target)
	fmt.Fprintf(&t, "| p99 latency | %v | %v | %.2f | <= 1.1 |\n", b.p99, p.p99, float64(p.p99)/float64(b.p99))
	fmt.Fprintf(&t, "| varde CPU per request | %.1f us | %.1f us | %.2f | |\n", b.cpuPerReq, p.cpuPerReq, p.cpuPerReq/b.cpuPerReq)
	fmt.Printf("\n%s", t.String())
	if o.out != "" {
		return os.WriteFile(o.out, t.Bytes(), 0o644)
	}
	return nil
}
