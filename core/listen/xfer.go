package listen

import (
	"encoding/binary"
	"errors"
	"fmt"
	"io"
	"net"
	"os"
	"time"

	"golang.org/x/sys/unix"
)

// The listeners' hand-over between two processes, HAProxy's `_getsocks`
// (HAProxy 2.6 src/cli.c and sock.c, `haproxy -x`): the new process
// connects to the old one's stats socket and writes "_getsocks\n". The old
// one answers with the number of sockets as a native-endian int32, then
// sends them in batches of at most 252 descriptors (SCM_RIGHTS), each
// batch's bytes holding one record per descriptor:
//
//	<ns len: u8> <namespace> <interface len: u8> <interface> <4 zero bytes>
//
// After each full batch the sender waits for the receiver's 4-byte
// acknowledgement (the receiver acknowledges every message). An old
// process that does not allow it (no `expose-fd listeners`) closes without
// sending anything.

// maxSendFD is HAProxy's MAX_SEND_FD: descriptors per message.
const maxSendFD = 252

// maxSockets bounds how many sockets a receiver accepts: a count beyond it
// is a broken or hostile sender.
const maxSockets = 1 << 16

// Received is a socket the previous process sent, with what it said
// about it.
type Received struct {
	File  *os.File
	Props Props
}

// errShort means the records seen so far end in the middle of one.
var errShort = errors.New("listen: socket records cut short")

// parseRecords reads n records from b; it returns errShort when b ends
// before the n-th record does.
func parseRecords(b []byte, n int) ([]Props, error) {
	out := make([]Props, 0, min(n, maxSendFD))
	for i := 0; i < n; i++ {
		var p Props
		var ok bool
		if p.Namespace, b, ok = lenPrefixed(b); !ok {
			return nil, errShort
		}
		if p.Interface, b, ok = lenPrefixed(b); !ok {
			return nil, errShort
		}
		if len(b) < 4 {
			return nil, errShort
		}
		b = b[4:] // listener options before HAProxy 2.3, now zero
		out = append(out, p)
	}
	if len(b) != 0 {
		return nil, fmt.Errorf("listen: %d bytes after the last socket record", len(b))
	}
	return out, nil
}

func lenPrefixed(b []byte) (string, []byte, bool) {
	if len(b) < 1 || len(b) < 1+int(b[0]) {
		return "", nil, false
	}
	n := int(b[0])
	return string(b[1 : 1+n]), b[1+n:], true
}

// appendRecord encodes one record; names longer than 255 bytes cannot be
// said and are cut, as a u8 length allows.
func appendRecord(b []byte, p Props) []byte {
	for _, s := range []string{p.Namespace, p.Interface} {
		s = s[:min(len(s), 255)]
		b = append(b, byte(len(s)))
		b = append(b, s...)
	}
	return append(b, 0, 0, 0, 0)
}

// Fetch asks the process behind the unix socket at path for its listening
// sockets (`haproxy -x`). Every descriptor received is returned, or closed
// on error.
func Fetch(path string, timeout time.Duration) ([]Received, error) {
	c, err := net.DialTimeout("unix", path, timeout)
	if err != nil {
		return nil, fmt.Errorf("listen: connect to the old process's socket %s: %w", path, err)
	}
	defer c.Close()
	uc := c.(*net.UnixConn)
	_ = uc.SetDeadline(time.Now().Add(timeout))
	if _, err := io.WriteString(uc, "_getsocks\n"); err != nil {
		return nil, fmt.Errorf("listen: %s: send _getsocks: %w", path, err)
	}
	fds, props, err := receive(uc)
	if err != nil {
		for _, fd := range fds {
			unix.Close(fd)
		}
		return nil, fmt.Errorf("listen: %s: %w", path, err)
	}
	out := make([]Received, len(fds))
	for i, fd := range fds {
		unix.CloseOnExec(fd)
		out[i] = Received{File: os.NewFile(uintptr(fd), "received socket"), Props: props[i]}
	}
	return out, nil
}

// receive reads the answer to _getsocks: the descriptors (returned even
// on error, for closing) and their records.
func receive(uc *net.UnixConn) ([]int, []Props, error) {
	var (
		fds   []int
		data  []byte
		count = -1
		buf   = make([]byte, 64<<10)
		oob   = make([]byte, unix.CmsgSpace(maxSendFD*4))
	)
	for {
		n, oobn, flags, _, err := uc.ReadMsgUnix(buf, oob)
		got, perr := unixRights(oob[:oobn])
		fds = append(fds, got...)
		if perr != nil {
			return fds, nil, perr
		}
		if flags&unix.MSG_CTRUNC != 0 {
			return fds, nil, errors.New("descriptors lost: control message truncated")
		}
		data = append(data, buf[:n]...)
		if oobn > 0 {
			_ = binary.Write(uc, binary.NativeEndian, int32(len(fds))) // the sender waits for it after full batches
		}
		if count < 0 && len(data) >= 4 {
			count = int(int32(binary.NativeEndian.Uint32(data)))
			data = data[4:]
			if count < 0 || count > maxSockets {
				return fds, nil, fmt.Errorf("the old process announced %d sockets", count)
			}
		}
		if count >= 0 && len(fds) > count {
			return fds, nil, fmt.Errorf("received %d sockets, %d announced", len(fds), count)
		}
		if count >= 0 && len(fds) == count {
			props, perr := parseRecords(data, count)
			if perr == nil {
				return fds, props, nil
			}
			if !errors.Is(perr, errShort) {
				return fds, nil, perr
			}
		}
		if err != nil {
			return fds, nil, receiveErr(err, count, len(fds))
		}
	}
}

func receiveErr(err error, count, got int) error {
	if errors.Is(err, io.EOF) && count < 0 {
		return errors.New("the old process sent no sockets: is `expose-fd listeners` set on that stats socket?")
	}
	return fmt.Errorf("received %d of %d sockets: %w", got, count, err)
}

// unixRights extracts the descriptors of SCM_RIGHTS control messages.
func unixRights(oob []byte) ([]int, error) {
	if len(oob) == 0 {
		return nil, nil
	}
	msgs, err := unix.ParseSocketControlMessage(oob)
	if err != nil {
		return nil, fmt.Errorf("control message: %w", err)
	}
	var fds []int
	for _, m := range msgs {
		if m.Header.Level != unix.SOL_SOCKET || m.Header.Type != unix.SCM_RIGHTS {
			continue
		}
		got, err := unix.ParseUnixRights(&m)
		if err != nil {
			return fds, fmt.Errorf("control message: %w", err)
		}
		fds = append(fds, got...)
	}
	return fds, nil
}

// Send answers `_getsocks` on uc: every listener in use and every kept
// socket, once per address, in HAProxy's format.
func (inv *Inventory) Send(uc *net.UnixConn) error {
	files, props := inv.exported()
	defer func() {
		for _, f := range files {
			f.Close()
		}
	}()
	_ = uc.SetDeadline(time.Now().Add(10 * time.Second))
	if err := binary.Write(uc, binary.NativeEndian, int32(len(files))); err != nil {
		return fmt.Errorf("listen: _getsocks: send the count: %w", err)
	}
	for start := 0; start < len(files); start += maxSendFD {
		end := min(start+maxSendFD, len(files))
		if err := sendBatch(uc, files[start:end], props[start:end]); err != nil {
			return err
		}
		if end-start == maxSendFD {
			var ack [4]byte
			if _, err := io.ReadFull(uc, ack[:]); err != nil {
				return fmt.Errorf("listen: _getsocks: no acknowledgement: %w", err)
			}
		}
	}
	inv.sent.Store(true)
	return nil
}

func sendBatch(uc *net.UnixConn, files []*os.File, props []Props) error {
	var data []byte
	fds := make([]int, len(files))
	for i, f := range files {
		fd, err := fileFD(f) // not f.Fd(): it would block the running listener
		if err != nil {
			return fmt.Errorf("listen: _getsocks: %w", err)
		}
		fds[i] = fd
		data = appendRecord(data, props[i])
	}
	n, _, err := uc.WriteMsgUnix(data, unix.UnixRights(fds...), nil)
	if err == nil && n != len(data) {
		err = io.ErrShortWrite
	}
	if err != nil {
		return fmt.Errorf("listen: _getsocks: send %d sockets: %w", len(files), err)
	}
	return nil
}

// exported duplicates the sockets to hand over: the listeners in use and
// the kept ones, one per address (a reload's offered copy and the
// listener still in use are the same socket).
func (inv *Inventory) exported() ([]*os.File, []Props) {
	inv.mu.Lock()
	defer inv.mu.Unlock()
	seen := map[string]bool{}
	var files []*os.File
	var props []Props
	for l := range inv.inUse {
		ap, _ := addrPortOf(l.Addr())
		key := ap.String()
		if seen[key] {
			continue
		}
		if f, err := l.File(); err == nil {
			seen[key] = true
			files, props = append(files, f), append(props, Props{})
		}
	}
	for _, k := range inv.free {
		key := k.addr.String()
		if seen[key] {
			continue
		}
		kfd, err := fileFD(k.f)
		if err != nil {
			continue
		}
		if fd, err := unix.FcntlInt(uintptr(kfd), unix.F_DUPFD_CLOEXEC, 0); err == nil {
			seen[key] = true
			files, props = append(files, os.NewFile(uintptr(fd), "kept socket")), append(props, k.props)
		}
	}
	return files, props
}
