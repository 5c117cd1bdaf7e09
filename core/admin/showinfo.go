package admin

import (
	"fmt"
	"os"
	"runtime"
	"runtime/debug"
	"strings"
	"syscall"
	"time"

	"github.com/varde-lb/varde/core/stats"
)

// showInfo is `show info` in HAProxy 2.6's field order. A field varde
// knows is printed with its value; a field it does not know (memory
// pools, tasks, pipes, SSL key rates ...) is left out rather than printed
// with a made-up number; varde's own values follow (log drops, VRRP).
func showInfo(snap stats.Snapshot) string {
	i := snap.Info
	now := time.Now()
	var b strings.Builder
	kv := func(k string, v any) { fmt.Fprintf(&b, "%s: %v\n", k, v) }
	name := i.Name
	if name == "" {
		name = "varde"
	}
	kv("Name", name)
	kv("Version", i.Version)
	kv("Nbthread", runtime.GOMAXPROCS(0))
	kv("Nbproc", 1)
	kv("Process_num", 1)
	kv("Pid", os.Getpid())
	var sec int64
	if !i.Started.IsZero() {
		sec = int64(now.Sub(i.Started) / time.Second)
	}
	kv("Uptime", fmt.Sprintf("%dd %dh%02dm%02ds", sec/86400, (sec/3600)%24, (sec/60)%60, sec%60))
	kv("Uptime_sec", sec)
	memMax := int64(0) // HAProxy prints 0 when no -m limit is set
	if l := debug.SetMemoryLimit(-1); l > 0 && l < 1<<62 {
		memMax = l
	}
	kv("Memmax_MB", memMax>>20)
	var rl syscall.Rlimit
	if syscall.Getrlimit(syscall.RLIMIT_NOFILE, &rl) == nil {
		kv("Ulimit-n", rl.Cur)
	}
	if i.MaxConn > 0 {
		kv("Maxconn", i.MaxConn)
		kv("Hard_maxconn", i.MaxConn)
	}
	t := frontendTotals(snap, now)
	kv("CurrConns", i.CurConns)
	kv("CumConns", t.conns)
	kv("CumReq", t.reqs)
	kv("CumSslConns", t.ssl)
	kv("ConnRate", t.connRate)
	kv("ConnRateLimit", 0) // varde has no maxconnrate
	kv("SessRate", t.sessRate)
	kv("SessRateLimit", 0) // nor maxsessrate
	kv("node", i.Node)
	for _, e := range snap.Extra {
		if e.Subsystem == "log" && e.Name == "dropped_records_total" {
			kv("DroppedLogs", e.Value)
		}
	}
	kv("TotalBytesOut", t.bytesOut)
	if !i.Started.IsZero() {
		kv("Start_time_sec", i.Started.Unix())
	}
	for _, e := range snap.Extra {
		if e.Proxy == "" && !e.NoMetric {
			fmt.Fprintf(&b, "%s_%s: %v\n", e.Subsystem, strings.TrimPrefix(e.Name, e.Subsystem+"_"), e.Value)
		}
	}
	return b.String()
}

type totals struct {
	conns, reqs, ssl, bytesOut uint64
	connRate, sessRate         uint64
}

// frontendTotals sums the frontends' counters and current rates (HAProxy
// counts these process-wide at accept, i.e. over the frontends).
func frontendTotals(snap stats.Snapshot, now time.Time) totals {
	var t totals
	for _, p := range snap.Proxies {
		c := p.Frontend
		if c == nil {
			continue
		}
		t.conns += c.TotalConns
		t.reqs += c.Requests
		t.ssl += c.SSLSessions + c.SSLReused
		t.bytesOut += c.BytesOut
		if c.Meters != nil {
			t.connRate += uint64(c.Meters.Conn.At(now.UnixNano()))
			t.sessRate += uint64(c.Meters.Sess.At(now.UnixNano()))
		}
	}
	return t
}
