package logpipe

import (
	"context"
	"fmt"
	"testing"
	"time"

	"github.com/varde-lb/varde/core/testenv"
)

// TestExtrasReportQueueAndWrites: while the sink is stalled the records
// are queued (varde_log_queued_records), then written; drops are counted.
func TestExtrasReportQueueAndWrites(t *testing.T) {
	m := &memSink{frame: FrameNewline, gate: make(chan struct{})}
	p, err := NewFromSpecs([]ProxySpec{{Name: "http-in", Format: "httplog", Targets: []TargetSpec{newMem(t, m)}}},
		Options{Batch: 4, Flush: time.Millisecond, QueueSize: 16}, nil)
	if err != nil {
		t.Fatal(err)
	}
	p.Start()
	pt := &part{}
	pt.p.Store(p)
	const n = 100
	for i := 0; i < n; i++ {
		p.Log(testRecord(i))
	}
	values := func() map[string]float64 {
		out := map[string]float64{}
		for _, e := range pt.extra() {
			out[e.Name] = e.Value
		}
		return out
	}
	v := values()
	if v["queued_records"] == 0 || v["dropped_records_total"] == 0 || v["written_records_total"] != 0 {
		t.Fatalf("stalled sink: %v", v)
	}
	close(m.gate)
	if err := testenv.Until(5*time.Second, 5*time.Millisecond, func() error {
		if v = values(); v["queued_records"] != 0 {
			return fmt.Errorf("still queued: %v", v)
		}
		return nil
	}); err != nil {
		t.Fatal(err)
	}
	if v["written_records_total"]+v["dropped_records_total"] != n {
		t.Errorf("written + dropped != %d: %v", n, v)
	}
	if err := p.Close(context.Background()); err != nil {
		t.Fatal(err)
	}
}
