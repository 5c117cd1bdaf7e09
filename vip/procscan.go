package vip

import (
	"bytes"
	"encoding/binary"
	"strconv"
	"sync"
	"unsafe"

	"golang.org/x/sys/unix"
)

// procEntry is a process as last scanned. Its comm and command line are
// kept while its identity holds: the same start time (a reused PID has
// another) and the same argument area (an exec maps a new one, at
// another address under ASLR), so cmdline is read once per program a
// process runs, as keepalived reads it on the proc connector's exec
// event; argv rewritten in place is not seen (nor by keepalived).
type procEntry struct {
	start, argStart, argEnd uint64
	comm                    string
	cmdline                 []byte
	hasCmdline              bool
	seen                    uint64 // the last scan that found it
}

// procCache scans /proc with buffers reused from scan to scan.
type procCache struct {
	mu     sync.Mutex
	gen    uint64
	byPID  map[int]*procEntry
	dirBuf []byte // getdents64 records
	buf    []byte // one file's content
	path   []byte // "PID/stat\\0", relative to the /proc fd
}

var scanCache procCache

// pfKthread is PF_KTHREAD in a stat's flags: a kernel thread.
const pfKthread = 0x00200000

func (c *procCache) scan(withCmdline bool) []proc {
	c.mu.Lock()
	defer c.mu.Unlock()
	if c.byPID == nil {
		c.byPID = map[int]*procEntry{}
		c.dirBuf, c.buf = make([]byte, 32<<10), make([]byte, 4<<10)
	}
	dir, err := unix.Open("/proc", unix.O_RDONLY|unix.O_DIRECTORY|unix.O_CLOEXEC, 0)
	if err != nil {
		return nil
	}
	defer unix.Close(dir)
	c.gen++
	out := make([]proc, 0, len(c.byPID)+16)
	for {
		n, err := unix.Getdents(dir, c.dirBuf)
		if err != nil || n <= 0 {
			break
		}
		for b := c.dirBuf[:n]; len(b) > 19; {
			reclen := int(binary.NativeEndian.Uint16(b[16:18]))
			if reclen <= 19 || reclen > len(b) {
				break
			}
			pid, ok := parsePID(b[19:reclen])
			b = b[reclen:]
			if !ok {
				continue
			}
			if p, ok := c.process(dir, pid, withCmdline); ok {
				out = append(out, p)
			}
		}
	}
	for pid, e := range c.byPID {
		if e.seen != c.gen {
			delete(c.byPID, pid) // exited
		}
	}
	return out
}

// parsePID reads a NUL-terminated directory name made only of digits.
func parsePID(name []byte) (int, bool) {
	pid := 0
	for i, ch := range name {
		switch {
		case ch == 0:
			return pid, i > 0
		case ch < '0' || ch > '9' || pid > 1<<30:
			return 0, false
		}
		pid = pid*10 + int(ch-'0')
	}
	return 0, false
}

// process reads one process's stat (and cmdline when needed and new).
func (c *procCache) process(dir, pid int, withCmdline bool) (proc, bool) {
	c.path = strconv.AppendInt(c.path[:0], int64(pid), 10)
	base := len(c.path)
	c.path = append(c.path, "/stat\x00"...)
	stat, ok := c.read(dir, c.path)
	if !ok {
		return proc{}, false // exited meanwhile
	}
	open, close := bytes.IndexByte(stat, '('), bytes.LastIndexByte(stat, ')')
	if open < 0 || close < open || close+2 >= len(stat) || stat[close+2] == 'Z' {
		return proc{}, false
	}
	comm, rest := stat[open+1:close], stat[close+2:]
	// Fields after the comm, from field 3 (state): starttime is field
	// 22, arg_start and arg_end 48 and 49 (proc(5)).
	start, argStart, argEnd := statField(rest, 22-3), statField(rest, 48-3), statField(rest, 49-3)
	kthread := statField(rest, 9-3)&pfKthread != 0
	e := c.byPID[pid]
	if e == nil || e.start != start || e.argStart != argStart || e.argEnd != argEnd || e.comm != string(comm) {
		e = &procEntry{start: start, argStart: argStart, argEnd: argEnd, comm: string(comm)}
		c.byPID[pid] = e
	}
	e.seen = c.gen
	p := proc{comm: e.comm}
	if !withCmdline {
		return p, true
	}
	switch {
	case kthread: // no command line, none to read
		e.hasCmdline = true
	case !e.hasCmdline || argStart == 0: // 0: the kernel hides it, no identity to trust
		c.path = append(c.path[:base], "/cmdline\x00"...)
		data, _ := c.read(dir, c.path)
		// A new slice: published scans still hold the old one.
		e.cmdline, e.hasCmdline = bytes.Clone(data), true
	}
	p.cmdline = e.cmdline
	return p, true
}

// statField is the i-th space-separated field of b as a number, 0 when
// absent or not a number.
func statField(b []byte, i int) uint64 {
	for ; i > 0; i-- {
		sp := bytes.IndexByte(b, ' ')
		if sp < 0 {
			return 0
		}
		b = b[sp+1:]
	}
	var n uint64
	for _, ch := range b {
		if ch < '0' || ch > '9' {
			break
		}
		n = n*10 + uint64(ch-'0')
	}
	return n
}

// read reads the file at path (NUL-terminated, relative to dir) into the
// reused buffer: openat with the caller's bytes, so no path string is
// made per process.
func (c *procCache) read(dir int, path []byte) ([]byte, bool) {
	r, _, errno := unix.Syscall6(unix.SYS_OPENAT, uintptr(dir), uintptr(unsafe.Pointer(&path[0])),
		unix.O_RDONLY|unix.O_CLOEXEC, 0, 0, 0)
	if errno != 0 {
		return nil, false
	}
	fd := int(r)
	defer unix.Close(fd)
	n := 0
	for {
		if n == len(c.buf) {
			if len(c.buf) >= 1<<20 {
				break // a command line this long is cut, as a read of 1 MiB would
			}
			c.buf = append(c.buf, make([]byte, len(c.buf))...)
		}
		m, err := unix.Read(fd, c.buf[n:])
		if err == unix.EINTR {
			continue
		}
		if err != nil {
			return nil, false
		}
		if m == 0 {
			break
		}
		n += m
	}
	return c.buf[:n], true
}
