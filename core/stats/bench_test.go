package stats_test

import (
	"fmt"
	"io"
	"net/netip"
	"testing"
	"time"

	"github.com/prometheus/client_golang/prometheus"
	"github.com/varde-lb/varde/core"
	"github.com/varde-lb/varde/core/stats"
)

// benchSource is 10 backends of 20 servers: what one scrape or page load
// renders.
func benchSource() stats.Source {
	var px []stats.Proxy
	for b := 0; b < 10; b++ {
		p := stats.Proxy{Name: fmt.Sprintf("be%d", b), ID: b + 1, Mode: "http", Algo: "roundrobin", Backend: &stats.Counters{}}
		for s := 0; s < 20; s++ {
			p.Servers = append(p.Servers, core.NewServer(p.Name, fmt.Sprintf("srv%d", s), s+1, netip.MustParseAddrPort("10.0.0.1:80"), 1, 0))
		}
		px = append(px, p)
	}
	return stats.SourceFunc(func() stats.Snapshot { return stats.Snapshot{Proxies: px} })
}

func BenchmarkCSV(b *testing.B) {
	src := benchSource()
	b.ReportAllocs()
	for b.Loop() {
		_ = stats.WriteCSV(io.Discard, stats.Rows(src.Snapshot(), nil, time.Now()))
	}
}

func BenchmarkPrometheusGather(b *testing.B) {
	reg := prometheus.NewRegistry()
	if err := stats.Register(reg, benchSource(), nil); err != nil {
		b.Fatal(err)
	}
	b.ReportAllocs()
	for b.Loop() {
		if _, err := reg.Gather(); err != nil {
			b.Fatal(err)
		}
	}
}
