package logpipe

import (
	"log/slog"
	"strconv"
	"sync"
	"sync/atomic"
	"time"

	"github.com/varde-lb/varde/core/logrec"
)

type slot struct {
	rec logrec.Record
	pl  *proxyLog
}

// queue is a bounded ring of records between the engine and one writer.
// Producers copy into the slot at tail under a mutex; the single consumer
// reads slots [head, tail) without the lock (they are not reused until it
// advances head), so encoding never holds the producers up.
type queue struct {
	mu       sync.Mutex
	space    sync.Cond // block mode: producers wait for room
	waiting  int
	slots    []slot
	head     uint64
	tail     uint64
	closed   bool
	wakeAt   uint64 // queued count at which to wake the writer (0: it is not waiting)
	notify   chan struct{}
	accepted atomic.Uint64
}

func newQueue(n int) *queue {
	q := &queue{slots: make([]slot, n), notify: make(chan struct{}, 1)}
	q.space.L = &q.mu
	return q
}

func (q *queue) put(r *logrec.Record, pl *proxyLog, block bool) bool {
	q.mu.Lock()
	for q.tail-q.head == uint64(len(q.slots)) {
		if !block || q.closed {
			q.mu.Unlock()
			return false
		}
		q.waiting++
		q.space.Wait()
		q.waiting--
	}
	if q.closed {
		q.mu.Unlock()
		return false
	}
	s := &q.slots[q.tail%uint64(len(q.slots))]
	s.rec = *r
	s.pl = pl
	q.tail++
	wake := q.wakeAt != 0 && q.tail-q.head >= q.wakeAt
	if wake {
		q.wakeAt = 0
	}
	q.mu.Unlock()
	q.accepted.Add(1)
	if wake {
		select {
		case q.notify <- struct{}{}:
		default:
		}
	}
	return true
}

func (q *queue) disarm() {
	q.mu.Lock()
	q.wakeAt = 0
	q.mu.Unlock()
}

// arm asks to be woken when n records are queued. It returns false when
// they already are (do not wait). Waking the writer only for a full batch
// (or the first record of an idle writer) keeps goroutine wake-ups per
// batch, not per record, at moderate rates.
func (q *queue) arm(n uint64) bool {
	q.mu.Lock()
	defer q.mu.Unlock()
	if q.tail-q.head >= n || q.closed {
		return false
	}
	q.wakeAt = n
	return true
}

func (q *queue) snapshot() (head, tail uint64, closed bool) {
	q.mu.Lock()
	head, tail, closed = q.head, q.tail, q.closed
	q.mu.Unlock()
	return
}

func (q *queue) release(head uint64) {
	q.mu.Lock()
	q.head = head
	if q.waiting > 0 {
		q.space.Broadcast()
	}
	q.mu.Unlock()
}

func (q *queue) close() {
	q.mu.Lock()
	q.closed = true
	q.space.Broadcast()
	q.mu.Unlock()
	select {
	case q.notify <- struct{}{}:
	default:
	}
}

// target is one log destination with its queue, writer state and counters.
type target struct {
	spec   TargetSpec
	sink   Sink
	frame  Framing
	q      *queue
	anon   *anonymizer
	sample *sampler
	fr     framer
	ctx    encodeCtx
	maxLen int
	batch  int
	flush  time.Duration
	block  bool
	now    func() time.Time
	loc    *time.Location
	log    *slog.Logger

	msg     []byte // one encoded message
	buf     []byte // the batch, framed
	ends    []int
	pending int       // records in buf
	first   time.Time // when the oldest record in buf was encoded

	dropped  atomic.Uint64
	written  atomic.Uint64
	failed   atomic.Uint64
	batches  atomic.Uint64
	errLast  time.Time
	closeErr error
	done     chan struct{}
}

// run is the writer goroutine: drain, encode, batch, write; on close,
// drain everything left, write it and close the sink.
func (t *target) run() {
	defer close(t.done)
	t.buf = make([]byte, 0, 64<<10)
	t.msg = make([]byte, 0, 4096)
	t.ends = make([]int, 0, t.batch)
	t.ctx.scratch = make([]byte, 0, 2048)
	var timer *time.Timer
	for {
		head, tail, closed := t.q.snapshot()
		if head == tail {
			if closed {
				t.writeBatch()
				t.closeErr = t.sink.Close()
				return
			}
			if t.pending == 0 {
				if t.q.arm(1) {
					<-t.q.notify
				}
				continue
			}
			wait := t.flush - t.now().Sub(t.first)
			if wait <= 0 {
				t.writeBatch()
				continue
			}
			if !t.q.arm(uint64(t.batch - t.pending)) {
				continue
			}
			if timer == nil {
				timer = time.NewTimer(wait)
			} else {
				timer.Reset(wait)
			}
			select {
			case <-t.q.notify:
				timer.Stop()
			case <-timer.C:
				t.q.disarm() // the batch goes now
				t.writeBatch()
			}
			continue
		}
		now := t.now()
		t.ctx.now = now
		n := uint64(len(t.q.slots))
		for i := head; i < tail; i++ {
			s := &t.q.slots[i%n]
			t.encode(&s.rec, s.pl, now)
			if t.pending >= t.batch {
				t.q.release(i + 1)
				head = i + 1
				t.writeBatch()
			}
		}
		if head < tail {
			t.q.release(tail)
		}
	}
}

// encode appends one framed message to the batch.
func (t *target) encode(r *logrec.Record, pl *proxyLog, now time.Time) {
	tag := t.fr.tag
	if pl.tag != "" {
		t.fr.tag = pl.tag // the proxy's log-tag, for this message
	}
	var m []byte
	switch {
	case r.Mode == logrec.ModeEvent:
		m = t.appendEvent(t.msg[:0], r)
	case r.LogLevel > 0: // set-log-level: the line's own severity
		pri := t.fr.pri
		t.fr.pri = pri - LevelInfo + recordLevel(r)
		m = t.encodeRecord(t.fr.appendHeader(t.msg[:0], now, t.loc), r, pl)
		t.fr.pri = pri
	default:
		m = t.encodeRecord(t.fr.appendHeader(t.msg[:0], now, t.loc), r, pl)
	}
	t.fr.tag = tag
	t.frameMessage(m, now)
}

// encodeRecord appends a transaction's line.
func (t *target) encodeRecord(m []byte, r *logrec.Record, pl *proxyLog) []byte {
	t.ctx.reqKinds, t.ctx.resKinds, t.ctx.reqNames, t.ctx.resNames = pl.reqKinds, pl.resKinds, pl.reqNames, pl.resNames
	t.ctx.logNames = pl.logNames
	if pl.json {
		return appendJSON(m, r, &t.ctx)
	}
	return pl.format.appendRecord(m, r, &t.ctx)
}

// frameMessage cuts m to the target's len and frames it into the batch.
func (t *target) frameMessage(m []byte, now time.Time) {
	if len(m) > t.maxLen {
		m = m[:t.maxLen]
	}
	t.msg = m
	switch t.frame {
	case FrameOctetCount:
		t.buf = strconv.AppendInt(t.buf, int64(len(m)), 10)
		t.buf = append(t.buf, ' ')
		t.buf = append(t.buf, m...)
	case FrameNewline:
		t.buf = append(t.buf, m...)
		t.buf = append(t.buf, '\n')
	default:
		t.buf = append(t.buf, m...)
	}
	t.ends = append(t.ends, len(t.buf))
	if t.pending == 0 {
		t.first = now
	}
	t.pending++
}

func (t *target) writeBatch() {
	if t.pending == 0 {
		return
	}
	err := t.sink.Write(t.buf, t.ends)
	n := uint64(t.pending)
	t.batches.Add(1)
	if err != nil {
		t.failed.Add(n)
		// Bounded: one error line per target per 10 s.
		if now := t.now(); now.Sub(t.errLast) >= 10*time.Second {
			t.errLast = now
			t.log.Error("log write failed", "target", t.spec.Raw, "records", n, "err", err)
		}
	} else {
		t.written.Add(n)
	}
	t.buf, t.ends, t.pending = t.buf[:0], t.ends[:0], 0
}
