package stats_test

import (
	"net/http/httptest"
	"testing"

	"github.com/varde-lb/varde/core/stats"
)

// BenchmarkExporterScrape is one full scrape of the exporter (haproxy_*
// and varde_* families, text format) over benchSource's 200 servers.
func BenchmarkExporterScrape(b *testing.B) {
	h := stats.NewExporter(stats.ExporterOptions{Source: benchSource()})
	b.ReportAllocs()
	for b.Loop() {
		rec := httptest.NewRecorder()
		h.ServeHTTP(rec, httptest.NewRequest("GET", "/metrics", nil))
		if rec.Code != 200 {
			b.Fatal(rec.Code)
		}
	}
}
