package file_test

import (
	"context"
	"net/netip"
	"path/filepath"
	"strconv"
	"syscall"
	"testing"
	"time"

	"github.com/varde-lb/varde/core/logrec"
	"github.com/varde-lb/varde/logpipe"
	"github.com/varde-lb/varde/plugins/sink/file"
)

func benchRecord() *logrec.Record {
	r := record(0, 123456)
	r.Client = netip.MustParseAddrPort("198.51.100.77:51234")
	r.ReqHeaders.Add([]byte("www.example.com"), 0)
	r.ReqHeaders.Add([]byte("203.0.113.9, 10.1.2.3"), 0)
	r.RequestLine.Set([]byte("GET /products/12345?ref=home&lang=nb HTTP/1.1"))
	return r
}

// BenchmarkEncodeAnonymiseWriteFile is the writer's work on one core:
// httplog encode + `anonymize ip 24,48` (client and X-Forwarded-For) +
// batches of 64 records written to a file, one write(2) per batch.
func BenchmarkEncodeAnonymiseWriteFile(b *testing.B) {
	s, err := file.Open(file.Config{Path: filepath.Join(b.TempDir(), "bench.log"), MaxSize: 256 << 20, Keep: 1}, nil, nil)
	if err != nil {
		b.Fatal(err)
	}
	defer s.Close()
	e, err := logpipe.NewEncoder(logpipe.EncoderConfig{Format: "httplog", ReqCaptures: []string{"Host", "X-Forwarded-For"},
		Anon: logpipe.AnonSpec{Mode: logpipe.AnonIP, V4Bits: 24, V6Bits: 48}})
	if err != nil {
		b.Fatal(err)
	}
	r := benchRecord()
	buf := make([]byte, 0, 64<<10)
	ends := make([]int, 0, 64)
	now := time.Now()
	b.ReportAllocs()
	b.ResetTimer()
	cpu0 := cpuSeconds()
	for i := 0; i < b.N; i++ {
		buf = e.AppendAt(buf, r, now)
		buf = append(buf, '\n')
		ends = append(ends, len(buf))
		if len(ends) == 64 {
			if err := s.Write(buf, ends); err != nil {
				b.Fatal(err)
			}
			buf, ends = buf[:0], ends[:0]
			now = time.Now() // once per batch, as the pipeline's writer does
		}
	}
	b.StopTimer()
	b.ReportMetric(float64(b.N)/b.Elapsed().Seconds(), "records/s")
	b.ReportMetric(float64(b.N)/(cpuSeconds()-cpu0), "records/cpu-s")
	b.SetBytes(int64(len(buf) / max(1, len(ends))))
}

// BenchmarkPipelineToFile is the whole path: Log (copy into the queue) on
// the caller's goroutine, the writer goroutine encoding, anonymising and
// batch-writing to a file; Close flushes inside the timed region.
func BenchmarkPipelineToFile(b *testing.B) {
	spec := logpipe.TargetSpec{Scheme: "file", Address: filepath.Join(b.TempDir(), "bench.log"), Raw: "file@bench",
		Facility: 16, Level: 6, RotateSize: 256 << 20, Keep: 1,
		Anon: logpipe.AnonSpec{Mode: logpipe.AnonIP, V4Bits: 24, V6Bits: 48}}
	p, err := logpipe.NewFromSpecs([]logpipe.ProxySpec{{Name: "fe", Format: "httplog", ReqCaptures: []string{"Host", "X-Forwarded-For"},
		Targets: []logpipe.TargetSpec{spec}}}, logpipe.Options{Batch: 64, Flush: 50 * time.Millisecond, Block: true}, nil)
	if err != nil {
		b.Fatal(err)
	}
	p.Start()
	r := benchRecord()
	b.ReportAllocs()
	b.ResetTimer()
	cpu0 := cpuSeconds()
	for i := 0; i < b.N; i++ {
		p.Log(r)
	}
	if err := p.Close(context.Background()); err != nil {
		b.Fatal(err)
	}
	b.StopTimer()
	b.ReportMetric(float64(b.N)/b.Elapsed().Seconds(), "records/s")
	// Both goroutines (engine side and writer) count here.
	b.ReportMetric(float64(b.N)/(cpuSeconds()-cpu0), "records/cpu-s")
	if st := p.Stats()[0]; st.Written != uint64(b.N) {
		b.Fatalf("written %d of %d", st.Written, b.N)
	}
}

// BenchmarkCalibration is a fixed small workload (strconv.AppendInt) to
// tell a slow or shared machine from a slow pipeline: compare the others to
// it (about 10-20 ns/op on an idle modern core).
func BenchmarkCalibration(b *testing.B) {
	d := make([]byte, 0, 32)
	for i := 0; i < b.N; i++ {
		d = strconv.AppendInt(d[:0], int64(i), 10)
	}
}

// cpuSeconds is this process's user+system CPU time: on a shared machine
// wall-clock records/s understate the pipeline, records per CPU-second do
// not.
func cpuSeconds() float64 {
	var ru syscall.Rusage
	syscall.Getrusage(syscall.RUSAGE_SELF, &ru)
	return float64(ru.Utime.Sec+ru.Stime.Sec) + float64(ru.Utime.Usec+ru.Stime.Usec)/1e6
}
