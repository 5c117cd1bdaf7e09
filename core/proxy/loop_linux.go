package proxy

import (
	"iter"
	"math"
	"net"
	"os"
	"runtime"
	"sync"
	"syscall"
	"time"
	"unsafe"
)

// Event loops: why HTTP sessions do not get a goroutine each.
//
// One goroutine per client connection, blocked in Go's netpoller between
// reads, costs little CPU but a lot of tail latency on a small machine: every
// readiness is a trip through the runtime's run queues and thread wake-ups,
// and when the proxy shares two cores with its backends and clients, some of
// those trips wait several milliseconds (measured: p99 2.4x HAProxy's at the
// same throughput, see docs/performance.md). HAProxy instead runs one event
// loop per thread and serves every ready connection of a poll round in turn.
//
// A loop here does the same while keeping the session code sequential: each
// connection's session runs as a coroutine (iter.Pull, which switches
// goroutines directly without the scheduler) on the loop's locked OS thread.
// The connections are fdConns: non-blocking sockets in the loop's
// edge-triggered epoll set. A read or write that would block yields back to
// the loop, which resumes the coroutine when epoll reports the socket ready
// or its deadline passes. So the proxy code in http.go is the same for both
// lanes; only the net.Conn underneath differs.
//
// Work that must block on something other than a socket (waiting in a
// backend queue, a WebSocket tunnel) is offloaded to an ordinary goroutine
// while the coroutine stays suspended; everything that touches a loop's
// connections from outside (stop, `shutdown sessions`) is posted to the loop.

// loop is one event loop: an OS thread, an epoll set, its coroutines.
type loop struct {
	e    *Engine
	idx  int // lane: 1 + index in e.loops (0 is the goroutine lane)
	epfd int
	evfd int // eventfd: wakes epoll_wait for posted work

	fds    []*fdConn // by descriptor number
	cur    *task     // the coroutine running now
	timers timerHeap
	parked map[*fdConn]*parked
	pipes  []*kpipe // free pipes for splicing (splice_linux.go)

	mu       sync.Mutex
	posted   []func()
	spare    []func()
	notified bool
	stopped  bool // guarded by mu: post refuses work
	quit     bool // loop thread only: stop was asked
	done     chan struct{}
}

// task is one coroutine: a session (or a parked connection's resumption).
type task struct {
	l          *loop
	next       func() (struct{}, bool)
	yield      func(struct{}) bool
	wc         *fdConn // the connection it waits on, if any
	wdir       uint8
	deadline   int64 // unix ns, 0 = none
	hidx       int   // index in the timer heap, -1 when not in it
	timedOut   bool
	offload    func()
	offloading bool // an offloaded function runs: only its end resumes t
	finished   bool
	again      func() // resumes t from the posted queue (pause), made once
}

// epollET is EPOLLET as the uint32 the event mask is (the syscall
// package's constant is a negative int).
const epollET = 1 << 31

// Event masks that end a wait to read or to write (an error or hang-up ends
// both: the retried call reports it).
const (
	readable = syscall.EPOLLIN | syscall.EPOLLRDHUP | syscall.EPOLLHUP | syscall.EPOLLERR
	hangup   = syscall.EPOLLRDHUP | syscall.EPOLLHUP | syscall.EPOLLERR
	writable = syscall.EPOLLOUT | syscall.EPOLLHUP | syscall.EPOLLERR
)

// yieldEvery is how often a busy loop passes through the scheduler.
const yieldEvery = int64(time.Millisecond)

const (
	waitRead uint8 = 1 + iota
	waitWrite
)

// loopCount is how many loops to run: nbthread when set, else one per
// usable CPU, as HAProxy. VARDE_LOOPS=0 turns them off (goroutine lane).
func loopCount(cfg *Config) int {
	if v, ok := os.LookupEnv("VARDE_LOOPS"); ok {
		n := 0
		for _, c := range v {
			if c < '0' || c > '9' {
				return defaultLoops
			}
			n = n*10 + int(c-'0')
		}
		return min(n, 64)
	}
	if cfg.Threads > 0 {
		return cfg.Threads // 1..64, checked by core/config
	}
	return defaultLoops
}

func (e *Engine) startLoops() error {
	n := loopCount(e.cfg)
	for i := 0; i < n; i++ {
		l, err := newLoop(e, i+1)
		if err != nil {
			for _, o := range e.loops {
				o.stop()
			}
			e.loops = nil
			return err
		}
		e.loops = append(e.loops, l)
	}
	// Each loop gets its own idle-connection and live-session lane on every
	// server, sized before any client is accepted.
	for _, b := range e.backends {
		for _, s := range b.srvs() {
			s.lanes = append(s.lanes, make([]lane, len(e.loops))...)
		}
		if d := b.dispatch; d != nil {
			d.lanes = append(d.lanes, make([]lane, len(e.loops))...)
		}
	}
	addLoopProcs(len(e.loops))
	for _, l := range e.loops {
		go l.run()
	}
	return nil
}

// shutdownLoopSessions ends srv's live sessions on every loop (on each
// loop's thread) and returns how many there were. It waits for the loops,
// so it must not be called from a session (the admin socket calls it).
func (e *Engine) shutdownLoopSessions(srv *server) int {
	n := 0
	for _, l := range e.loops {
		ch := make(chan int, 1)
		if l.post(func() { ch <- srv.shutdownLane(l.idx) }) {
			n += <-ch
		}
	}
	return n
}

func newLoop(e *Engine, idx int) (*loop, error) {
	epfd, err := syscall.EpollCreate1(syscall.EPOLL_CLOEXEC)
	if err != nil {
		return nil, os.NewSyscallError("epoll_create1", err)
	}
	r, _, errno := syscall.Syscall(syscall.SYS_EVENTFD2, 0, syscall.O_NONBLOCK|syscall.O_CLOEXEC, 0)
	if errno != 0 {
		syscall.Close(epfd)
		return nil, os.NewSyscallError("eventfd2", errno)
	}
	evfd := int(r)
	ev := syscall.EpollEvent{Events: syscall.EPOLLIN, Fd: int32(evfd)}
	if err := syscall.EpollCtl(epfd, syscall.EPOLL_CTL_ADD, evfd, &ev); err != nil {
		syscall.Close(epfd)
		syscall.Close(evfd)
		return nil, os.NewSyscallError("epoll_ctl", err)
	}
	return &loop{e: e, idx: idx, epfd: epfd, evfd: evfd, parked: map[*fdConn]*parked{}, done: make(chan struct{})}, nil
}

// post runs fn on the loop's thread, outside any coroutine. Safe from any
// goroutine; false once the loop has stopped.
func (l *loop) post(fn func()) bool {
	l.mu.Lock()
	if l.stopped {
		l.mu.Unlock()
		return false
	}
	l.posted = append(l.posted, fn)
	wake := !l.notified
	l.notified = true
	l.mu.Unlock()
	if wake {
		var one = [8]byte{1}
		syscall.Write(l.evfd, one[:])
	}
	return true
}

// stop ends the loop after it has run what was posted before.
func (l *loop) stop() {
	if l.post(func() { l.quit = true }) {
		<-l.done
	}
}

func (l *loop) run() {
	// Locked to its thread: the coroutines it creates must run there
	// (coroswitch requires a locked creator's thread), and the loop keeps
	// one OS thread's CPU share as an HAProxy thread does.
	runtime.LockOSThread()
	defer close(l.done)
	defer func() {
		syscall.Close(l.epfd)
		syscall.Close(l.evfd)
	}()
	events := make([]syscall.EpollEvent, 256)
	lastSweep := time.Now().UnixNano()
	lastYield := lastSweep
	for {
		wait := 100 // ms: the sweep's period bounds the sleep
		if len(l.timers) > 0 {
			d := (l.timers[0].deadline - time.Now().UnixNano() + int64(time.Millisecond) - 1) / int64(time.Millisecond)
			wait = int(max(0, min(d, int64(wait))))
		}
		n, err := epollWait(l.epfd, events, wait)
		if err != nil && err != syscall.EINTR {
			l.e.log.Error("event loop: epoll_wait failed, closing its connections", "err", err)
			l.shutdown()
			return
		}
		for i := 0; i < n; i++ {
			ev := &events[i]
			fd := int(ev.Fd)
			if fd == l.evfd {
				var buf [8]byte
				syscall.Read(l.evfd, buf[:])
				continue
			}
			if fd >= len(l.fds) {
				continue
			}
			c := l.fds[fd]
			if c == nil {
				continue
			}
			if c.lsn != nil {
				l.acceptOn(c)
				continue
			}
			if t := c.t; t != nil {
				if (t.wdir == waitRead && ev.Events&readable != 0) || (t.wdir == waitWrite && ev.Events&writable != 0) {
					l.resume(t)
				}
				if ev.Events&hangup != 0 || (t.wdir != waitRead && ev.Events&readable != 0) {
					// Edge-triggered: a server's close that arrives with
					// its last bytes gives no later edge. Note it so that
					// upConn.alive peeks before the connection is reused
					// (a request sent on it could not be replayed safely).
					c.idleEv = true
				}
				continue
			}
			if p := l.parked[c]; p != nil && ev.Events&readable != 0 {
				delete(l.parked, c)
				l.spawn(func() { l.e.runHTTP(p) })
			} else if ev.Events&readable != 0 {
				c.idleEv = true // see upConn.alive
			}
		}
		l.runPosted()
		if l.quit {
			l.shutdown()
			return
		}
		now := time.Now().UnixNano()
		for len(l.timers) > 0 && l.timers[0].deadline <= now {
			t := l.timers.pop()
			t.timedOut = true
			l.resume(t)
		}
		if now-lastSweep >= int64(100*time.Millisecond) {
			lastSweep = now
			l.sweep(now)
		}
		if now-lastYield >= yieldEvery {
			// Passing through the scheduler every millisecond lets
			// goroutines queued on this P run (offloaded work, timers) and
			// spares the runtime its forced preemption of a goroutine that
			// never yields, which measured worse for the tail (make bench:
			// p99 4.4-5.6 ms without, 2.4-4.2 ms with, HAProxy 2.6-6.9 ms).
			lastYield = now
			runtime.Gosched()
		}
	}
}

// epollWait first polls without entering the scheduler's syscall state:
// under load something is nearly always ready, and a P seen in a syscall is
// retaken by the runtime's monitor, handed to a spinning thread, and the
// loop then queues for a P again when epoll wakes it; on a busy two-core
// machine each such hand-off was a millisecond-scale stall. Only an empty
// poll is followed by a blocking wait, as an ordinary syscall so that the
// P serves other goroutines meanwhile (holding it there starves them, e.g.
// under GOMAXPROCS=1).
func epollWait(epfd int, events []syscall.EpollEvent, msec int) (int, error) {
	r, _, errno := syscall.RawSyscall6(syscall.SYS_EPOLL_WAIT, uintptr(epfd), uintptr(unsafe.Pointer(&events[0])), uintptr(len(events)), 0, 0, 0)
	if errno != 0 {
		return 0, errno
	}
	if r > 0 || msec == 0 {
		return int(r), nil
	}
	return syscall.EpollWait(epfd, events, msec)
}

// procs accounts for the Ps the running engines' loops hold: GOMAXPROCS is
// the process's base plus one per loop.
var procs struct {
	sync.Mutex
	base, loops int
}

func addLoopProcs(n int) {
	procs.Lock()
	defer procs.Unlock()
	if procs.base == 0 {
		procs.base = runtime.GOMAXPROCS(0)
	}
	procs.loops += n
	runtime.GOMAXPROCS(procs.base + procs.loops)
}

// defaultLoops is one loop per P the process started with (the CPUs it may
// use), before any engine raised GOMAXPROCS.
var defaultLoops = runtime.GOMAXPROCS(0)

func (l *loop) runPosted() {
	l.mu.Lock()
	list := l.posted
	l.posted = l.spare[:0]
	l.notified = false
	l.mu.Unlock()
	for i, fn := range list {
		fn()
		list[i] = nil
	}
	l.mu.Lock()
	l.spare = list[:0]
	l.mu.Unlock()
}

// spawn starts fn as a coroutine on this loop and runs it until it first
// waits.
func (l *loop) spawn(fn func()) {
	t := &task{l: l, hidx: -1}
	seq := func(yield func(struct{}) bool) {
		t.yield = yield
		defer func() {
			if r := recover(); r != nil {
				// runHTTP recovers its own panics; this is the last line.
				l.e.Panics.Add(1)
				l.e.log.Error("panic in event loop task", "panic", r)
			}
		}()
		fn()
	}
	t.next, _ = iter.Pull(seq)
	l.resume(t)
}

// resume runs t until it waits again or ends. Only the loop's thread, and
// never from inside a coroutine, calls it.
func (l *loop) resume(t *task) {
	if t.finished || t.offloading {
		return
	}
	if t.hidx >= 0 {
		l.timers.remove(t)
	}
	prev := l.cur
	l.cur = t
	_, ok := t.next()
	l.cur = prev
	if !ok {
		t.finished = true
		return
	}
	if fn := t.offload; fn != nil {
		t.offload = nil
		t.offloading = true
		go func() {
			fn()
			// Refused only once the loop is gone (every session has
			// ended by then, so t cannot be one still waiting).
			l.post(func() { t.offloading = false; l.resume(t) })
		}()
	}
}

// wait suspends the running coroutine until c is ready in direction dir,
// the deadline (unix ns, 0 none) passes, or c is closed.
func (l *loop) wait(c *fdConn, dir uint8, deadline int64) error {
	t := l.cur
	if t == nil {
		return errNotInLoop
	}
	c.t, t.wc, t.wdir, t.deadline = t, c, dir, deadline
	if deadline != 0 {
		l.timers.push(t)
	}
	t.yield(struct{}{})
	c.t, t.wc, t.wdir = nil, nil, 0
	if t.timedOut {
		t.timedOut = false
		return os.ErrDeadlineExceeded
	}
	if c.closed {
		return net.ErrClosed
	}
	return nil
}

// pause lets the loop serve its other connections before the running
// coroutine goes on: a transfer that never waits (a fast client fetching a
// large body) would otherwise hold the loop for its whole length.
func (l *loop) pause() {
	t := l.cur
	if t == nil {
		return
	}
	if t.again == nil {
		t.again = func() { l.resume(t) }
	}
	if l.post(t.again) {
		t.yield(struct{}{})
	}
}

// offload runs fn on an ordinary goroutine while the running coroutine
// stays suspended, for work that blocks on something other than a socket.
func (l *loop) offload(fn func()) {
	t := l.cur
	if t == nil {
		fn()
		return
	}
	t.offload = fn
	t.yield(struct{}{})
}

// sweep closes parked connections whose keep-alive wait is over and idle
// upstream connections of this lane older than the purge delay.
func (l *loop) sweep(now int64) {
	l.closeParked(now)
	before := time.Unix(0, now).Add(-poolPurgeDelay)
	for _, b := range l.e.backends {
		for _, s := range b.srvs() {
			s.purgeLane(l.idx, before)
		}
		if d := b.dispatch; d != nil {
			d.purgeLane(l.idx, before)
		}
	}
}

// closeParked closes the parked connections whose keep-alive wait ends by
// now (unix ns).
func (l *loop) closeParked(now int64) {
	for c, p := range l.parked {
		if !p.deadline.IsZero() && now >= p.deadline.UnixNano() { // zero: no timeout
			delete(l.parked, c)
			l.e.closeConn(p)
		}
	}
}

// shutdown refuses further posts, runs those already made, and closes what
// the loop still holds: parked clients and its lane's idle upstreams.
func (l *loop) shutdown() {
	l.mu.Lock()
	l.stopped = true
	l.mu.Unlock()
	l.runPosted()
	l.sweep(math.MaxInt64)
	l.closePipes()
}

// register adds c to the loop's epoll set.
func (l *loop) register(c *fdConn) error {
	ev := syscall.EpollEvent{Events: syscall.EPOLLIN | syscall.EPOLLOUT | syscall.EPOLLRDHUP | epollET, Fd: int32(c.fd)}
	if err := syscall.EpollCtl(l.epfd, syscall.EPOLL_CTL_ADD, c.fd, &ev); err != nil {
		return os.NewSyscallError("epoll_ctl", err)
	}
	l.setFD(c)
	return nil
}

// handoff gives an accepted HTTP client connection to a loop. It returns
// false when loops are off or the connection could not be moved; the
// caller then serves it on a goroutine.
func (e *Engine) handoff(f *Frontend, c net.Conn, pp bool) bool {
	if len(e.loops) == 0 {
		return false
	}
	tc, ok := c.(*net.TCPConn)
	if !ok {
		return false
	}
	fd, err := detachFD(tc)
	if err != nil {
		return false
	}
	src, dst := addrPort(c.RemoteAddr()), addrPort(c.LocalAddr())
	accept := time.Now()
	c.Close()
	syscall.SetsockoptInt(fd, syscall.IPPROTO_TCP, syscall.TCP_NODELAY, 1)
	l := e.loops[fd%len(e.loops)]
	fc := &fdConn{fd: fd, l: l, laddr: net.TCPAddrFromAddrPort(dst), raddr: net.TCPAddrFromAddrPort(src)}
	if !l.post(func() {
		f.connOpen()
		e.actconn.Add(1)
		if err := l.register(fc); err != nil {
			e.log.Warn("event loop: cannot watch a client connection", "err", err)
			e.closeHTTP(f, fc)
			return
		}
		p := &parked{f: f, c: fc, accept: accept, src: src, dst: dst, pp: pp}
		l.spawn(func() { e.runHTTP(p) })
	}) {
		// The loop has stopped: undo what acceptLoop took.
		syscall.Close(fd)
		e.release(f)
		e.wg.Done()
	}
	return true
}

// detachFD takes a duplicate of the connection's socket; the caller closes
// the net.Conn, which removes the original from Go's netpoller.
func detachFD(tc syscall.Conn) (int, error) {
	rc, err := tc.SyscallConn()
	if err != nil {
		return -1, err
	}
	fd := -1
	var derr error
	if err := rc.Control(func(f uintptr) {
		// F_DUPFD_CLOEXEC: no window in which a forked notify or track
		// script could inherit the socket.
		r, _, e := syscall.Syscall(syscall.SYS_FCNTL, f, syscall.F_DUPFD_CLOEXEC, 0)
		if e != 0 {
			derr = os.NewSyscallError("fcntl", e)
			return
		}
		fd = int(r)
	}); err != nil {
		return -1, err
	}
	if derr != nil {
		return -1, derr
	}
	return fd, nil
}

// parkInLoop keeps an idle keep-alive client in its loop's epoll set without
// a coroutine; the next readiness starts a fresh one.
func parkInLoop(p *parked) bool {
	c, ok := p.c.(*fdConn)
	if !ok || c.closed {
		return false
	}
	c.l.parked[c] = p
	return true
}

// loopParked counts parked connections of every loop (a snapshot; the
// count is read on the loops' threads, so not from a session).
func (e *Engine) loopParked() int {
	n := 0
	for _, l := range e.loops {
		ch := make(chan int, 1)
		if l.post(func() { ch <- len(l.parked) }) {
			n += <-ch
		}
	}
	return n
}

// closeLoopParked closes every loop's parked clients (graceful stop: they
// are idle).
func (e *Engine) closeLoopParked() {
	for _, l := range e.loops {
		done := make(chan struct{})
		if l.post(func() { l.closeParked(math.MaxInt64); close(done) }) {
			<-done
		}
	}
}

func (e *Engine) stopLoops() {
	for _, l := range e.loops {
		l.stop()
	}
	if len(e.loops) > 0 {
		addLoopProcs(-len(e.loops))
		e.loops = nil
	}
}

// laneOf is the idle-pool lane a client connection's session uses.
func laneOf(c net.Conn) int {
	if fc, ok := c.(*fdConn); ok {
		return fc.l.idx
	}
	return 0
}

// offloadFor runs fn so that it may block: off the loop when c is served by
// one, inline otherwise.
func offloadFor(c net.Conn, fn func()) {
	if fc, ok := c.(*fdConn); ok && fc.l.cur != nil {
		fc.l.offload(fn)
		return
	}
	fn()
}

// pauseFor lets c's loop serve its other connections when the running
// transfer has gone slice ns without waiting since *since (unix ns), and
// restarts the count; a no-op off the loops.
func pauseFor(c net.Conn, since *int64, slice int64) {
	fc, ok := c.(*fdConn)
	if !ok || fc.l.cur == nil {
		return
	}
	now := time.Now().UnixNano()
	if *since == 0 {
		*since = now
		return
	}
	if now-*since >= slice {
		fc.l.pause()
		*since = time.Now().UnixNano()
	}
}

// closeFromOutside closes c from a goroutine that is not c's loop.
func closeFromOutside(c net.Conn) {
	if fc, ok := c.(*fdConn); ok {
		fc.l.post(func() { fc.Close() })
		return
	}
	c.Close()
}

// wakeIdleFromOutside ends the keep-alive wait of an idle session (graceful
// stop) as a past read deadline does for a goroutine-served one.
func wakeIdleFromOutside(c net.Conn) {
	if fc, ok := c.(*fdConn); ok {
		fc.l.post(func() {
			if t := fc.t; t != nil && t.wdir == waitRead {
				t.timedOut = true
				fc.l.resume(t)
			}
		})
		return
	}
	c.SetReadDeadline(time.Now())
}

// timerHeap orders waiting tasks by deadline.
type timerHeap []*task

func (h *timerHeap) push(t *task) {
	t.hidx = len(*h)
	*h = append(*h, t)
	h.up(t.hidx)
}

func (h *timerHeap) pop() *task {
	t := (*h)[0]
	h.remove(t)
	return t
}

func (h *timerHeap) remove(t *task) {
	i := t.hidx
	old := *h
	last := len(old) - 1
	if i != last {
		old[i] = old[last]
		old[i].hidx = i
	}
	old[last] = nil
	*h = old[:last]
	t.hidx = -1
	if i != last {
		h.down(i)
		h.up(i)
	}
}

func (h timerHeap) up(i int) {
	for i > 0 {
		p := (i - 1) / 2
		if h[p].deadline <= h[i].deadline {
			return
		}
		h[p], h[i] = h[i], h[p]
		h[p].hidx, h[i].hidx = p, i
		i = p
	}
}

func (h timerHeap) down(i int) {
	n := len(h)
	for {
		c := 2*i + 1
		if c >= n {
			return
		}
		if c+1 < n && h[c+1].deadline < h[c].deadline {
			c++
		}
		if h[i].deadline <= h[c].deadline {
			return
		}
		h[i], h[c] = h[c], h[i]
		h[i].hidx, h[c].hidx = i, c
		i = c
	}
}
