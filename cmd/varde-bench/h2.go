package main

// HTTP/2 comparison: the same haproxy.cfg with its bind line speaking
// HTTP/2 with prior knowledge (`bind ... proto h2`), loaded with h2load
// (nghttp2-client) at 50 connections of 10 concurrent streams each.
// Latency percentiles come from h2load's per-request log.

import (
	"bufio"
	"bytes"
	"fmt"
	"os"
	"os/exec"
	"path/filepath"
	"regexp"
	"sort"
	"strconv"
	"strings"
	"time"
)

var h2ReqsRe = regexp.MustCompile(`finished in [^,]+, ([0-9.]+) req/s`)

// benchH2 runs o.rounds alternating h2load rounds per proxy on an h2
// variant of cfgPath and appends its rows to the table.
func benchH2(o options, cfgPath, addr string, kinds []proxyKind, t *bytes.Buffer) error {
	if _, err := lookPath("h2load"); err != nil {
		fmt.Println("h2load not found (apt-get install nghttp2-client): HTTP/2 comparison skipped")
		return nil
	}
	b, err := os.ReadFile(cfgPath)
	if err != nil {
		return err
	}
	h2cfg := filepath.Join(filepath.Dir(cfgPath), "haproxy-h2.cfg")
	bind := "bind " + addr
	if err := os.WriteFile(h2cfg, bytes.Replace(b, []byte(bind), []byte(bind+" proto h2"), 1), 0o644); err != nil {
		return err
	}
	fmt.Printf("\nHTTP/2: h2load -c%d -m10 -D%s on %s\n", o.conns, o.duration, h2cfg)
	results := map[string][]result{}
	for r := 0; r < o.rounds; r++ {
		for _, k := range kinds {
			res, err := h2Once(k, h2cfg, addr, o)
			if err != nil {
				return fmt.Errorf("%s h2 round %d: %w", k.name, r+1, err)
			}
			fmt.Printf("round %d %-8s %9.0f req/s  p50 %-9v p99 %-9v CPU %5.1f us/req\n", r+1, k.name, res.rps, res.p50, res.p99, res.cpuPerReq)
			results[k.name] = append(results[k.name], res)
		}
	}
	h, v := summarize(results["haproxy"]), summarize(results["varde"])
	fmt.Fprintf(t, "| HTTP/2 requests/s (h2load -c%d -m10, median of %d) | %.0f | %.0f | %.2f | >= 0.9 |\n", o.conns, o.rounds, h.rps, v.rps, v.rps/h.rps)
	fmt.Fprintf(t, "| HTTP/2 p99 latency | %v | %v | %.2f | <= 1.5 |\n", h.p99, v.p99, float64(v.p99)/float64(h.p99))
	fmt.Fprintf(t, "| HTTP/2 proxy CPU per request | %.1f us | %.1f us | %.2f | |\n", h.cpuPerReq, v.cpuPerReq, v.cpuPerReq/h.cpuPerReq)
	return nil
}

// h2Once is one warmed-up h2load round against one proxy.
func h2Once(k proxyKind, cfg, addr string, o options) (result, error) {
	cmd, err := startProxy(k, cfg, addr)
	if err != nil {
		return result{}, err
	}
	defer stopProcess(cmd)
	url := "http://" + addr + "/"
	c := strconv.Itoa(o.conns)
	if out, err := exec.Command("h2load", "-c"+c, "-m10", "-t2", "-D2", url).CombinedOutput(); err != nil {
		return result{}, fmt.Errorf("h2load warm-up: %w\n%s", err, out)
	}
	logPath := filepath.Join(filepath.Dir(cfg), "h2load-"+k.name+".log")
	// h2load appends to its log file: without this, each round's latency
	// percentiles and CPU per request took in the earlier rounds' requests.
	if err := os.Remove(logPath); err != nil && !os.IsNotExist(err) {
		return result{}, err
	}
	cpu0 := procCPU(cmd.Process.Pid)
	secs := strconv.Itoa(int(o.duration.Seconds()))
	out, err := exec.Command("h2load", "-c"+c, "-m10", "-t2", "-D"+secs, "--log-file="+logPath, url).CombinedOutput()
	if err != nil {
		return result{}, fmt.Errorf("h2load: %w\n%s", err, out)
	}
	cpu := procCPU(cmd.Process.Pid) - cpu0
	m := h2ReqsRe.FindSubmatch(out)
	if m == nil || !bytes.Contains(out, []byte(" 0 failed, 0 errored")) {
		return result{}, fmt.Errorf("h2load failed requests or unreadable output:\n%s", out)
	}
	var res result
	res.rps, _ = strconv.ParseFloat(string(m[1]), 64)
	n, p50, p99, err := h2Percentiles(logPath)
	if err != nil {
		return result{}, err
	}
	res.p50, res.p99 = p50, p99
	if n > 0 {
		res.cpuPerReq = cpu.Seconds() * 1e6 / float64(n)
	}
	return res, nil
}

// h2Percentiles reads h2load's --log-file (start, status, microseconds).
func h2Percentiles(path string) (n int, p50, p99 time.Duration, err error) {
	f, err := os.Open(path)
	if err != nil {
		return 0, 0, 0, err
	}
	defer f.Close()
	var us []int
	sc := bufio.NewScanner(f)
	for sc.Scan() {
		fs := strings.Fields(sc.Text())
		if len(fs) < 3 || fs[1] != "200" {
			continue
		}
		v, err := strconv.Atoi(fs[2])
		if err == nil {
			us = append(us, v)
		}
	}
	if len(us) == 0 {
		return 0, 0, 0, fmt.Errorf("no requests in %s", path)
	}
	sort.Ints(us)
	at := func(q float64) time.Duration { return time.Duration(us[int(q*float64(len(us)-1))]) * time.Microsecond }
	return len(us), at(0.50), at(0.99), nil
}
