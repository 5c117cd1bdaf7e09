package logpipe

import (
	"bytes"
	"context"
	"fmt"
	"log/slog"
	"net/netip"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/varde-lb/varde/core/logrec"
	"github.com/varde-lb/varde/core/testenv"
)

// memSink records batches; gate, when set, stalls Write until closed.
type memSink struct {
	mu      sync.Mutex
	lines   []string
	batches int
	gate    chan struct{}
	frame   Framing
}

func (m *memSink) Framing() Framing { return m.frame }
func (m *memSink) Write(buf []byte, ends []int) error {
	if m.gate != nil {
		<-m.gate
	}
	m.mu.Lock()
	defer m.mu.Unlock()
	m.batches++
	start := 0
	for _, e := range ends {
		m.lines = append(m.lines, string(bytes.TrimSuffix(buf[start:e], []byte("\n"))))
		start = e
	}
	return nil
}
func (m *memSink) Close() error { return nil }
func (m *memSink) snapshot() ([]string, int) {
	m.mu.Lock()
	defer m.mu.Unlock()
	return append([]string(nil), m.lines...), m.batches
}

var (
	memMu    sync.Mutex
	memSinks = map[string]*memSink{}
)

func init() {
	RegisterSink("memtest", func(ts TargetSpec, _ SinkEnv) (Sink, error) {
		memMu.Lock()
		defer memMu.Unlock()
		m := memSinks[ts.Address]
		if m == nil {
			return nil, fmt.Errorf("no mem sink %q", ts.Address)
		}
		return m, nil
	})
}

func newMem(t *testing.T, m *memSink) TargetSpec {
	memMu.Lock()
	defer memMu.Unlock()
	name := t.Name()
	memSinks[name] = m
	return TargetSpec{Scheme: "memtest", Address: name, Raw: "memtest@" + name, Facility: 16, Level: 7}
}

func testRecord(i int) *logrec.Record {
	r := docRecord()
	r.RequestLine.Set([]byte(fmt.Sprintf("GET /r/%d HTTP/1.1", i)))
	return r
}

func TestPipelineDeliversEveryRecordInBatches(t *testing.T) {
	m := &memSink{frame: FrameNewline}
	ts := newMem(t, m)
	anon := ts
	anon.Anon = AnonSpec{Mode: AnonIP, V4Bits: 24, V6Bits: 48}
	p, err := NewFromSpecs([]ProxySpec{{Name: "http-in", Format: "httplog", Targets: []TargetSpec{anon}}},
		Options{Batch: 10, Flush: 20 * time.Millisecond, Location: time.UTC}, nil)
	if err != nil {
		t.Fatal(err)
	}
	p.Start()
	const n = 1005
	for i := 0; i < n; i++ {
		p.Log(testRecord(i))
	}
	// The last 5 records wait for the flush timer, not for Close.
	if err := testenv.Until(5*time.Second, 10*time.Millisecond, func() error {
		if lines, _ := m.snapshot(); len(lines) != n {
			return fmt.Errorf("%d lines", len(lines))
		}
		return nil
	}); err != nil {
		t.Fatal(err)
	}
	if err := p.Close(context.Background()); err != nil {
		t.Fatal(err)
	}
	lines, batches := m.snapshot()
	for i, l := range lines {
		if !strings.HasPrefix(l, "10.0.1.0:33317 ") || !strings.HasSuffix(l, fmt.Sprintf(`"GET /r/%d HTTP/1.1"`, i)) {
			t.Fatalf("line %d: %q", i, l)
		}
	}
	if batches > n/10+5 || batches < n/10 {
		t.Errorf("%d batches for %d records with batch 10", batches, n)
	}
	st := p.Stats()[0]
	if st.Queued != n || st.Written != n || st.Dropped != 0 {
		t.Errorf("stats %+v", st)
	}
}

func TestPipelineDropsWhenSinkStalls(t *testing.T) {
	m := &memSink{frame: FrameNewline, gate: make(chan struct{})}
	ts := newMem(t, m)
	p, err := NewFromSpecs([]ProxySpec{{Name: "http-in", Format: "httplog", Targets: []TargetSpec{ts}}},
		Options{Batch: 8, Flush: time.Millisecond, QueueSize: 64}, nil)
	if err != nil {
		t.Fatal(err)
	}
	p.Start()
	const n = 5000
	var wg sync.WaitGroup
	for w := 0; w < 4; w++ {
		wg.Add(1)
		go func() {
			defer wg.Done()
			r := testRecord(w)
			for i := 0; i < n/4; i++ {
				p.Log(r) // must never block on the stalled sink
			}
		}()
	}
	done := make(chan struct{})
	go func() { wg.Wait(); close(done) }()
	select {
	case <-done:
	case <-time.After(10 * time.Second):
		t.Fatal("Log blocked on a stalled sink")
	}
	close(m.gate)
	if err := p.Close(context.Background()); err != nil {
		t.Fatal(err)
	}
	lines, _ := m.snapshot()
	st := p.Stats()[0]
	if uint64(len(lines))+st.Dropped != n || st.Written != uint64(len(lines)) || st.Dropped == 0 {
		t.Errorf("delivered %d + dropped %d != %d (stats %+v)", len(lines), st.Dropped, n, st)
	}
}

func TestPipelineBlockMode(t *testing.T) {
	m := &memSink{frame: FrameNewline, gate: make(chan struct{})}
	ts := newMem(t, m)
	p, err := NewFromSpecs([]ProxySpec{{Name: "http-in", Format: "httplog", Targets: []TargetSpec{ts}}},
		Options{Batch: 4, Flush: time.Millisecond, QueueSize: 16, Block: true}, nil)
	if err != nil {
		t.Fatal(err)
	}
	p.Start()
	const n = 200
	done := make(chan struct{})
	go func() {
		for i := 0; i < n; i++ {
			p.Log(testRecord(i))
		}
		close(done)
	}()
	select {
	case <-done:
		t.Fatal("block mode did not wait for a full queue")
	case <-time.After(100 * time.Millisecond):
	}
	close(m.gate)
	<-done
	p.Close(context.Background())
	lines, _ := m.snapshot()
	if len(lines) != n || p.Stats()[0].Dropped != 0 {
		t.Errorf("block mode: %d lines, %d dropped", len(lines), p.Stats()[0].Dropped)
	}
}

func TestPipelineRouting(t *testing.T) {
	full := &memSink{frame: FrameOctetCount}
	anon := &memSink{frame: FrameDatagram}
	tsFull := newMem(t, full)
	tsFull.Format = FormatRFC5424
	memMu.Lock()
	memSinks[t.Name()+"/anon"] = anon
	memMu.Unlock()
	tsAnon := TargetSpec{Scheme: "memtest", Address: t.Name() + "/anon", Raw: "anon", Facility: 16, Level: 6,
		Anon: AnonSpec{Mode: AnonIP, V4Bits: 16, V6Bits: 32}}
	notice := tsAnon
	notice.Level = 5
	p, err := NewFromSpecs([]ProxySpec{
		{Name: "a", Format: "jsonlog", Targets: []TargetSpec{tsFull, tsAnon, notice}},
		{Name: "b", Format: "%ci %r", DontLogNull: true, ReqCaptures: []string{"X-Forwarded-For"}, Targets: []TargetSpec{tsAnon}},
	}, Options{Batch: 100, Flush: 5 * time.Millisecond, Hostname: "lb1", PID: 7}, nil)
	if err != nil {
		t.Fatal(err)
	}
	p.Start()
	r := testRecord(1)
	r.Frontend = "a"
	p.Log(r)
	r.Frontend = "b"
	p.Log(r)
	null := &logrec.Record{}
	null.Reset()
	null.Frontend = "b"
	null.Client = netip.MustParseAddrPort("192.0.2.1:1")
	p.Log(null) // dontlognull
	r.Frontend = "nolog"
	p.Log(r)
	p.Close(context.Background())
	fl, _ := full.snapshot()
	al, _ := anon.snapshot()
	if len(fl) != 1 || !strings.Contains(fl[0], ` lb1 varde 7 - - {"client_ip":"10.0.1.2"`) {
		t.Errorf("full target: %q", fl)
	} else if n, msg, _ := strings.Cut(fl[0], " "); n != fmt.Sprint(len(msg)) || !strings.HasPrefix(msg, "<134>1 ") {
		t.Errorf("octet counting: %q", fl[0])
	}
	if len(al) != 2 || !strings.HasPrefix(al[0], `{"client_ip":"10.0.0.0"`) || al[1] != `10.0.0.0 GET /r/1 HTTP/1.1` {
		t.Errorf("anon target: %q", al)
	}
	if len(p.Stats()) != 2 {
		t.Errorf("targets: %+v (the notice-level one must be skipped)", p.Stats())
	}
}

func TestLogAndEncodeDoNotAllocate(t *testing.T) {
	m := &memSink{frame: FrameNewline}
	ts := newMem(t, m)
	ts.Anon = AnonSpec{Mode: AnonIP, V4Bits: 24, V6Bits: 48}
	p, err := NewFromSpecs([]ProxySpec{{Name: "http-in", Format: "httplog", ReqCaptures: []string{"X-Forwarded-For"},
		Targets: []TargetSpec{ts}}}, Options{QueueSize: 1 << 16}, nil)
	if err != nil {
		t.Fatal(err)
	}
	r := testRecord(1)
	if n := testing.AllocsPerRun(1000, func() { p.Log(r) }); n != 0 {
		t.Errorf("Log allocates %v times per record", n)
	}
	tg := p.targets[0]
	tg.buf = make([]byte, 0, 1<<20)
	tg.msg = make([]byte, 0, 4096)
	tg.ends = make([]int, 0, 1<<12)
	tg.ctx.scratch = make([]byte, 0, 4096)
	pl := p.proxies["http-in"]
	r.ReqHeaders = logrec.Captures{}
	r.ReqHeaders.Add([]byte("203.0.113.9, [2001:db8::1]:443"), 0)
	now := time.Now()
	if n := testing.AllocsPerRun(1000, func() {
		tg.encode(r, pl, now)
		if tg.pending >= 1000 {
			tg.buf, tg.ends, tg.pending = tg.buf[:0], tg.ends[:0], 0
		}
	}); n != 0 {
		t.Errorf("encode+anonymise allocates %v times per record", n)
	}
	p.Close(context.Background())
}

// syncBuffer is a goroutine-safe log destination.
type syncBuffer struct {
	mu sync.Mutex
	b  bytes.Buffer
}

func (s *syncBuffer) Write(p []byte) (int, error) {
	s.mu.Lock()
	defer s.mu.Unlock()
	return s.b.Write(p)
}

func (s *syncBuffer) String() string {
	s.mu.Lock()
	defer s.mu.Unlock()
	return s.b.String()
}

func TestDropsReportedInOwnLog(t *testing.T) {
	m := &memSink{frame: FrameNewline, gate: make(chan struct{})}
	ts := newMem(t, m)
	var out syncBuffer
	logger := slog.New(slog.NewTextHandler(&out, nil))
	p, err := NewFromSpecs([]ProxySpec{{Name: "http-in", Format: "httplog", Targets: []TargetSpec{ts}}},
		Options{Batch: 4, QueueSize: 8, Report: 20 * time.Millisecond}, logger)
	if err != nil {
		t.Fatal(err)
	}
	p.Start()
	r := testRecord(1)
	for i := 0; i < 100; i++ {
		p.Log(r)
	}
	dropped := p.Stats()[0].Dropped
	if err := testenv.Until(5*time.Second, 10*time.Millisecond, func() error {
		if !strings.Contains(out.String(), fmt.Sprintf("dropped_total=%d", dropped)) {
			return fmt.Errorf("no drop report yet: %s", out.String())
		}
		return nil
	}); err != nil {
		t.Fatal(err)
	}
	if !strings.Contains(out.String(), `msg="log queue full: records dropped"`) {
		t.Errorf("report: %s", out.String())
	}
	close(m.gate)
	p.Close(context.Background())
	lines, _ := m.snapshot()
	if uint64(len(lines))+dropped != 100 {
		t.Errorf("delivered %d + dropped %d != 100", len(lines), dropped)
	}
}

func TestLenTruncatesAndDefaultFormat(t *testing.T) {
	m := &memSink{frame: FrameNewline}
	ts := newMem(t, m)
	ts.Len = 80
	ts.Format = FormatLocal
	tcp := &memSink{frame: FrameNewline}
	memMu.Lock()
	memSinks[t.Name()+"/tcp"] = tcp
	memMu.Unlock()
	p, err := NewFromSpecs([]ProxySpec{
		{Name: "http-in", Format: "httplog", Targets: []TargetSpec{ts}},
		{Name: "plain", Format: HAProxyDefaultFormat + "TCP)", Targets: []TargetSpec{{Scheme: "memtest", Address: t.Name() + "/tcp", Raw: "x", Facility: 16, Level: 7}}},
	}, Options{PID: 9}, nil)
	if err != nil {
		t.Fatal(err)
	}
	p.Start()
	r := testRecord(1)
	r.RequestLine.Set([]byte("GET /" + strings.Repeat("a", 500) + " HTTP/1.1"))
	p.Log(r)
	r.Frontend = "plain"
	r.FrontendAddr = netip.MustParseAddrPort("10.0.3.31:8012")
	p.Log(r)
	p.Close(context.Background())
	lines, _ := m.snapshot()
	if len(lines) != 1 || len(lines[0]) != 80 || !strings.HasPrefix(lines[0], "<134>") {
		t.Errorf("len 80: %q (%d bytes)", lines, len(lines[0]))
	}
	tl, _ := tcp.snapshot()
	if len(tl) != 1 || tl[0] != "Connect from 10.0.1.2:33317 to 10.0.3.31:8012 (plain/TCP)" {
		t.Errorf("default format: %q", tl)
	}
}

func TestSampleSharesLoad(t *testing.T) {
	a, b := &memSink{frame: FrameNewline}, &memSink{frame: FrameNewline}
	ta := newMem(t, a)
	ta.Sample = "1:2"
	memMu.Lock()
	memSinks[t.Name()+"/b"] = b
	memMu.Unlock()
	tb := TargetSpec{Scheme: "memtest", Address: t.Name() + "/b", Raw: "b", Facility: 16, Level: 7, Sample: "2-3:3"}
	p, err := NewFromSpecs([]ProxySpec{{Name: "http-in", Format: "%r", Targets: []TargetSpec{ta, tb}}}, Options{}, nil)
	if err != nil {
		t.Fatal(err)
	}
	p.Start()
	for i := 0; i < 12; i++ {
		p.Log(testRecord(i))
	}
	p.Close(context.Background())
	la, _ := a.snapshot()
	lb, _ := b.snapshot()
	wantA := []string{"GET /r/0 HTTP/1.1", "GET /r/2 HTTP/1.1", "GET /r/4 HTTP/1.1", "GET /r/6 HTTP/1.1", "GET /r/8 HTTP/1.1", "GET /r/10 HTTP/1.1"}
	if fmt.Sprint(la) != fmt.Sprint(wantA) || len(lb) != 8 || lb[0] != "GET /r/1 HTTP/1.1" || lb[1] != "GET /r/2 HTTP/1.1" {
		t.Errorf("sample 1:2 -> %q\nsample 2-3:3 -> %q", la, lb)
	}
	for _, bad := range []string{"1", "0:2", "3:2", "1-:2", "2-1:3", "a:b"} {
		if _, err := ParseSample(bad); err == nil {
			t.Errorf("ParseSample(%q) accepted", bad)
		}
	}
}

func TestDontLogNormal(t *testing.T) {
	m := &memSink{frame: FrameNewline}
	ts := newMem(t, m)
	p, err := NewFromSpecs([]ProxySpec{{Name: "http-in", Format: "%ST %tsc %rc", DontLogNormal: true, Targets: []TargetSpec{ts}}}, Options{}, nil)
	if err != nil {
		t.Fatal(err)
	}
	p.Start()
	ok := testRecord(1)
	p.Log(ok) // 200 ---- 0: left out
	e := testRecord(2)
	e.Status = 503
	p.Log(e)
	to := testRecord(3)
	to.SetTerm(logrec.TermServerTimeout, logrec.StateHeaders)
	p.Log(to)
	re := testRecord(4)
	re.Retries = 1
	p.Log(re)
	p.Close(context.Background())
	lines, _ := m.snapshot()
	want := []string{"503 ---- 0", "200 sH-- 0", "200 ---- 1"}
	if fmt.Sprint(lines) != fmt.Sprint(want) {
		t.Errorf("got %q, want %q", lines, want)
	}
}
