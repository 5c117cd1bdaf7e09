package scripting

import (
	"context"
	"sync"
	"sync/atomic"
	"time"
	"weak"
)

// Deadlines without a timer per call.
//
// Both engines stop a call through a context.Context: gopher-lua's VM
// polls it before every instruction (LState.SetContext), wazero closes the
// module when it is done (WithCloseOnContextDone) and the compiled code
// notices at its next loop header or call. Each Lua state and each WASM
// instance has one context for its whole life, a Deadline, whose Done
// channel one process-wide watchdog goroutine closes when the call running
// in that state is past its budget. Starting a call records its start
// (one monotonic clock read, ~30 ns on this project's machines), bumps the
// call number and marks it running; ending it clears the mark. A call
// costs no timer and no allocation: a timer reset and stop per call cost
// more than a small policy's whole call.
//
// The watchdog wakes every tick while calls are being made and parks after
// parkAfter ticks without any, and cuts every call that has run longer
// than its timeout: a call is never cut before its timeout, and at most
// one of the watchdog's wake-ups after it. Go's timers are only as fine
// as the runtime's poller: on the shared virtual machines of this project
// a 100 µs tick fires about every millisecond, so a 1 ms deadline is cut
// after 1 to 2 ms (later when the watchdog itself waits for a CPU).
// (The first version noted a call when it first saw it instead of reading
// the clock at its start, which with millisecond ticks cut 1 ms deadlines
// after about 2 ms.)

const (
	tick      = 100 * time.Microsecond
	parkAfter = 200 // ticks (20 ms)
)

type watchdog struct {
	active  atomic.Int64 // calls in flight
	parked  atomic.Bool
	wake    chan struct{}
	once    sync.Once
	mu      sync.Mutex
	watched []weak.Pointer[Deadline]
}

var wd = &watchdog{wake: make(chan struct{}, 1)}

var epoch = time.Now()

// mono is a monotonic clock in nanoseconds (time.Since reads only the
// monotonic clock: cheaper than time.Now).
func mono() int64 { return int64(time.Since(epoch)) }

// Deadline is a state's (or an instance's) context: a context.Context
// whose Done is closed when its current call overruns. Only one goroutine
// at a time may make calls with it.
type Deadline struct {
	running atomic.Bool
	seq     atomic.Uint64 // call number
	timeout atomic.Int64  // nanoseconds

	start atomic.Int64 // monotonic nanoseconds (mono) of the call's start

	mu    sync.Mutex
	ch    chan struct{}
	fired atomic.Bool
	onCut func() // SetOnCut
}

// SetOnCut makes the watchdog also call f (under the deadline's lock) when
// it cuts a call: the WASM engine sets its instance's stop global there,
// which the guest's instrumented loops test. nil removes it.
func (d *Deadline) SetOnCut(f func()) {
	d.mu.Lock()
	d.onCut = f
	d.mu.Unlock()
}

// NewDeadline returns a disarmed deadline watched by the watchdog until
// it is garbage.
func NewDeadline() *Deadline {
	d := &Deadline{ch: make(chan struct{})}
	wd.register(d)
	return d
}

func (w *watchdog) register(d *Deadline) {
	w.once.Do(func() { go w.run() })
	w.mu.Lock()
	w.watched = append(w.watched, weak.Make(d))
	w.mu.Unlock()
}

// Arm starts a call with the given budget.
func (d *Deadline) Arm(timeout time.Duration) {
	d.timeout.Store(int64(timeout))
	d.start.Store(mono()) // before seq: a scan that sees the new seq sees this start
	d.seq.Add(1)
	d.running.Store(true)
	if wd.active.Add(1) == 1 && wd.parked.Load() {
		select {
		case wd.wake <- struct{}{}:
		default:
		}
	}
}

// Disarm ends a call and reports whether the watchdog cut it.
// The lock orders it with cut: a cut either happened before (and is
// reported) or sees the call ended. A cut deadline stays done until Reset.
func (d *Deadline) Disarm() bool {
	d.mu.Lock()
	d.running.Store(false)
	fired := d.fired.Load()
	d.mu.Unlock()
	wd.active.Add(-1)
	return fired
}

// Reset makes a cut deadline usable for another call (a new Done
// channel). Only for a user whose Done nothing else reads any more: a Lua
// state (its own goroutine alone polls it). A WASM instance is dropped
// instead, because wazero's watcher goroutine may still be reading Done.
func (d *Deadline) Reset() {
	d.mu.Lock()
	if d.fired.Load() {
		d.ch = make(chan struct{})
		d.fired.Store(false)
	}
	d.mu.Unlock()
}

// cut closes the channel if call seq is still running.
func (d *Deadline) cut(seq uint64) {
	d.mu.Lock()
	defer d.mu.Unlock()
	if d.seq.Load() == seq && d.running.Load() && !d.fired.Load() {
		d.fired.Store(true)
		close(d.ch)
		if d.onCut != nil {
			d.onCut()
		}
	}
}

func (w *watchdog) run() {
	idle := 0
	t := time.NewTicker(tick)
	defer t.Stop()
	for {
		w.scan(mono())
		if w.active.Load() > 0 {
			idle = 0
		} else if idle++; idle >= parkAfter {
			w.park()
			idle = 0
			continue
		}
		<-t.C
	}
}

// park sleeps until a call starts.
func (w *watchdog) park() {
	w.parked.Store(true)
	if w.active.Load() == 0 {
		<-w.wake
	}
	w.parked.Store(false)
	select { // drop a wake that raced with the re-check
	case <-w.wake:
	default:
	}
}

// scan cuts the calls past their budget and forgets collected states.
func (w *watchdog) scan(now int64) {
	w.mu.Lock()
	live := w.watched[:0]
	var late []*Deadline
	var seqs []uint64
	for _, wp := range w.watched {
		d := wp.Value()
		if d == nil {
			continue
		}
		live = append(live, wp)
		seq := d.seq.Load()
		if d.running.Load() && now-d.start.Load() > d.timeout.Load() {
			late, seqs = append(late, d), append(seqs, seq)
		}
	}
	clear(w.watched[len(live):])
	w.watched = live
	w.mu.Unlock()
	for i, d := range late {
		d.cut(seqs[i])
	}
}

// The context interface. Done reads ch without the lock: only Reset
// replaces it, called when nothing else reads it, and the watchdog only
// closes it.
// Remaining is what is left of the running call's budget (negative when
// it is overdue); ok is false when no call runs. A call that blocks in Go
// (a sleep, a socket read) bounds itself with it: the watchdog only stops
// Lua instructions.
func (d *Deadline) Remaining() (left time.Duration, ok bool) {
	if !d.running.Load() {
		return 0, false
	}
	return time.Duration(d.timeout.Load() - (mono() - d.start.Load())), true
}

func (d *Deadline) Deadline() (time.Time, bool) { return time.Time{}, false }
func (d *Deadline) Value(any) any               { return nil }
func (d *Deadline) Done() <-chan struct{}       { return d.ch }
func (d *Deadline) Err() error {
	if d.fired.Load() {
		return context.DeadlineExceeded
	}
	return nil
}
