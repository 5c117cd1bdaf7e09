package proxy

import (
	"io"
	"net"
	"os"
	"sync/atomic"
	"syscall"
	"time"
)

// Splicing: a body with a known length moves from one plain TCP socket to
// another through a kernel pipe (splice(2) socket -> pipe -> socket), so
// its bytes never enter user space. The user-space copy (copyBody through
// s.sb) reads 16 KiB, writes 16 KiB: two copies per byte plus one read and
// one write per 16 KiB. Spliced, the pipe holds references to the socket's
// pages, and each splice moves as much as the socket and the pipe hold.
//
// Only the event-loop lane splices: both ends are fdConns of the same loop,
// so a splice that would block waits for epoll like any Read or Write.

// pipeSize is the capacity asked for each pipe (F_SETPIPE_SZ). The
// default pipe (16 pages) is a quarter of what a loopback socket hands
// over at once; bigger pipes count against the user's pipe pages
// (fs.pipe-user-pages-soft), and a refused size keeps the default.
const pipeSize = 256 << 10

// spliceMin is the smallest remaining body worth a pipe: below it the
// user-space copy costs two syscalls and is as fast.
const spliceMin = 16 << 10

// spliceSlice is how long a transfer runs without waiting before it lets
// the loop serve its other connections (loop.pause).
const spliceSlice = int64(2 * time.Millisecond)

// maxFreePipes bounds the pipes a loop keeps for reuse.
const maxFreePipes = 32

// kpipe is one kernel pipe and the bytes it holds.
type kpipe struct {
	r, w int
	n    int64
}

// getPipe takes a pipe from the loop's pool or makes one; nil when the
// process cannot (descriptor limits): the caller copies in user space.
func (l *loop) getPipe() *kpipe {
	if n := len(l.pipes); n > 0 {
		p := l.pipes[n-1]
		l.pipes[n-1] = nil
		l.pipes = l.pipes[:n-1]
		return p
	}
	var fds [2]int
	if err := syscall.Pipe2(fds[:], syscall.O_NONBLOCK|syscall.O_CLOEXEC); err != nil {
		return nil
	}
	// Best effort: a refusal (EPERM over the user's pipe budget) keeps
	// the default size, which still works.
	syscall.Syscall(syscall.SYS_FCNTL, uintptr(fds[1]), syscall.F_SETPIPE_SZ, pipeSize)
	l.e.pipesMade.Add(1)
	return &kpipe{r: fds[0], w: fds[1]}
}

// putPipe returns an empty pipe to the pool; one still holding bytes (an
// aborted transfer) is closed, as its contents belong to no one.
func (l *loop) putPipe(p *kpipe) {
	if p.n == 0 && len(l.pipes) < maxFreePipes && !l.quit {
		l.pipes = append(l.pipes, p)
		return
	}
	p.close(l.e)
}

func (p *kpipe) close(e *Engine) {
	syscall.Close(p.r)
	syscall.Close(p.w)
	e.pipesMade.Add(-1)
}

// closePipes releases the loop's pooled pipes (the loop is ending).
func (l *loop) closePipes() {
	for i, p := range l.pipes {
		p.close(l.e)
		l.pipes[i] = nil
	}
	l.pipes = l.pipes[:0]
}

// spliceConns returns the two ends as fdConns of one loop when a body may
// be spliced between them.
func spliceConns(src, dst net.Conn) (*fdConn, *fdConn, bool) {
	sc, ok1 := src.(*fdConn)
	dc, ok2 := dst.(*fdConn)
	if !ok1 || !ok2 || sc.l != dc.l || sc.closed || dc.closed || sc.l.cur == nil {
		return nil, nil, false
	}
	return sc, dc, true
}

// trySplice moves remain body bytes from src to dst through a pipe. ok is
// false when it did not start (no pipe): the caller copies instead.
func (s *session) trySplice(src, dst net.Conn, rto, wto time.Duration, remain int64) (read, written int64, res copyResult, ok bool) {
	sc, dc, ok := spliceConns(src, dst)
	if !ok {
		return 0, 0, copyDone, false
	}
	l := sc.l
	p := l.getPipe()
	if p == nil {
		return 0, 0, copyDone, false
	}
	read, written, res = splicePipe(sc, dc, p, rto, wto, remain)
	l.putPipe(p)
	s.e.SplicedBytes.Add(uint64(written))
	return read, written, res, true
}

// spliceFlags: never block on the pipe (the sockets are non-blocking
// already); move pages rather than copy where the kernel can.
const spliceFlags = 0x1 | 0x2 // SPLICE_F_MOVE | SPLICE_F_NONBLOCK

// splicePipe is the transfer loop: fill the pipe from src, drain it to dst,
// and wait for epoll only when neither moved a byte. A wait on src is
// bounded by rto, one on dst by wto, both counted from when the transfer
// stalled. After src ends early (close, error) what the pipe holds is
// still delivered, as copyBody writes each read before the next.
func splicePipe(src, dst *fdConn, p *kpipe, rto, wto time.Duration, remain int64) (read, written int64, res copyResult) {
	var rdl, wdl int64
	srcEnd := copyDone
	since := time.Now().UnixNano() // the last time the loop served others
	for {
		if now := time.Now().UnixNano(); now-since >= spliceSlice {
			src.l.pause()
			// Closed while paused (shutdown sessions, stop).
			if dst.closed {
				return read, written, copyWriteErr
			}
			if src.closed {
				return read, written, copyReadErr
			}
			since = time.Now().UnixNano()
		}
		moved := false
		if remain > 0 && srcEnd == copyDone {
			n, err := spliceRaw(src.fd, p.w, remain)
			switch {
			case n > 0:
				read += n
				remain -= n
				p.n += n
				moved, rdl = true, 0
			case err == nil:
				srcEnd = copyReadErr // closed before the announced length
			case err == syscall.EAGAIN || err == syscall.EINTR:
			default:
				srcEnd = copyReadErr
			}
		}
		if p.n > 0 {
			n, err := spliceRaw(p.r, dst.fd, p.n)
			switch {
			case n > 0:
				written += n
				p.n -= n
				moved, wdl = true, 0
			case err == syscall.EAGAIN || err == syscall.EINTR:
			default:
				return read, written, copyWriteErr
			}
		}
		if p.n == 0 && (remain == 0 || srcEnd != copyDone) {
			return read, written, srcEnd
		}
		if moved {
			continue
		}
		if r := spliceWait(src, dst, p, &rdl, &wdl, rto, wto); r != copyDone {
			return read, written, r
		}
		since = time.Now().UnixNano()
	}
}

// spliceWait waits for the end that stalls the transfer: dst while the
// pipe holds bytes it would not take, else src.
func spliceWait(src, dst *fdConn, p *kpipe, rdl, wdl *int64, rto, wto time.Duration) copyResult {
	now := time.Now().UnixNano()
	if p.n > 0 {
		if *wdl == 0 {
			*wdl = now + int64(wto)
		}
		if now >= *wdl {
			return copyWriteTimeout
		}
		switch err := dst.l.wait(dst, waitWrite, *wdl); {
		case err == os.ErrDeadlineExceeded:
			return copyWriteTimeout
		case err != nil || dst.closed:
			return copyWriteErr
		}
		return copyDone
	}
	if *rdl == 0 {
		*rdl = now + int64(rto)
	}
	if now >= *rdl {
		return copyReadTimeout
	}
	switch err := src.l.wait(src, waitRead, *rdl); {
	case err == os.ErrDeadlineExceeded:
		return copyReadTimeout
	case err != nil || src.closed:
		return copyReadErr
	}
	return copyDone
}

// spliceRaw is one non-blocking splice of at most max bytes; n == 0 with
// a nil error is the end of the input.
func spliceRaw(in, out int, max int64) (int64, error) {
	r, _, e := syscall.RawSyscall6(syscall.SYS_SPLICE, uintptr(in), 0, uintptr(out), 0, uintptr(max), spliceFlags)
	if e != 0 {
		return -1, e
	}
	return int64(r), nil
}

// pipeSpliced is pipe (tcp.go) for a tunnel direction whose two ends are
// plain TCP sockets: the same loop of one read then writes until the
// bytes are out, with the same deadlines and outcomes, but each read moves
// what the socket holds into a pipe and each write drains it, through Go's
// netpoller (tunnels run on goroutines). ok is false when it did not start.
func pipeSpliced(src, dst net.Conn, idle time.Duration, last *atomic.Int64, otherDone *atomic.Bool, finTimeout time.Duration, termTimeout, termAbort byte) (n int64, term byte, ok bool) {
	st, ok1 := src.(*net.TCPConn)
	dt, ok2 := dst.(*net.TCPConn)
	if !ok1 || !ok2 {
		return 0, 0, false
	}
	rs, err1 := st.SyscallConn()
	rd, err2 := dt.SyscallConn()
	if err1 != nil || err2 != nil {
		return 0, 0, false
	}
	var fds [2]int
	if syscall.Pipe2(fds[:], syscall.O_NONBLOCK|syscall.O_CLOEXEC) != nil {
		return 0, 0, false
	}
	syscall.Syscall(syscall.SYS_FCNTL, uintptr(fds[1]), syscall.F_SETPIPE_SZ, pipeSize)
	defer syscall.Close(fds[0])
	defer syscall.Close(fds[1])
	for {
		d := idle
		if otherDone.Load() && finTimeout > 0 {
			d = finTimeout
		}
		src.SetReadDeadline(after(d))
		m, err := spliceStep(rs.Read, -1, fds[1], 1<<30)
		if m > 0 {
			last.Store(time.Now().UnixNano())
			dst.SetWriteDeadline(after(idle))
			for left := m; left > 0; {
				w, werr := spliceStep(rd.Write, fds[0], -1, left)
				if werr != nil {
					return n, termAbort, true
				}
				left -= w
				n += w
			}
			continue
		}
		if t, end := pipeEnd(err, dst, d, last, otherDone, termTimeout, termAbort); end {
			return n, t, true
		}
	}
}

// spliceStep runs one splice between a socket (the -1 side, reached
// through wait, a RawConn's Read or Write) and a pipe end, waiting in the
// netpoller while the socket is not ready. n == 0 with a nil error is the
// end of the input.
func spliceStep(wait func(func(uintptr) bool) error, in, out int, max int64) (int64, error) {
	var n int64
	var serr error
	err := wait(func(fd uintptr) bool {
		i, o := in, out
		if i < 0 {
			i = int(fd)
		} else {
			o = int(fd)
		}
		for {
			n, serr = spliceRaw(i, o, max)
			if serr != syscall.EINTR {
				return serr != syscall.EAGAIN
			}
		}
	})
	if err != nil {
		return 0, err
	}
	if serr != nil {
		return 0, os.NewSyscallError("splice", serr)
	}
	if n == 0 {
		return 0, io.EOF
	}
	return n, nil
}
