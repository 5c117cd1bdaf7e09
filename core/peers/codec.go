// Package peers is HAProxy's peers protocol (version 2.1, as HAProxy 2.6
// speaks it; doc/peers-v2.0.txt and src/peers.c describe it): the hello
// handshake, the message framing, and the stick-table messages (table
// definition, entry update, ack) with their encoded integers.
//
// This file is the wire codec only. Replicating varde's tables over it
// (sessions, reconnection, applying updates) is not built yet: the config
// package refuses a peers section that would need it (docs/peers.md).
package peers

import (
	"bufio"
	"errors"
	"fmt"
	"io"
	"strconv"
	"strings"
)

// Protocol names and versions of the hello line.
const (
	ProtoName = "HAProxyS"
	Major     = 2
	Minor     = 1
)

// Status codes answered to a hello.
const (
	StatusOK         = 200
	StatusTryAgain   = 300
	StatusErrProto   = 501
	StatusErrVersion = 502
	StatusErrHost    = 503 // the hello named another node than this one
	StatusErrPeer    = 504 // the sender is not a peer of the section
)

// Message classes and types (the first two bytes of every message).
const (
	ClassControl    = 0
	ClassError      = 1
	ClassStickTable = 10
	ClassReserved   = 255

	CtrlResyncReq      = 0
	CtrlResyncFinished = 1
	CtrlResyncPartial  = 2
	CtrlResyncConfirm  = 3
	CtrlHeartbeat      = 4

	ErrProtocol  = 0
	ErrSizeLimit = 1

	// Stick-table messages have the high bit set: a length and data follow.
	StktUpdate         = 0x80
	StktIncUpdate      = 0x81
	StktDefine         = 0x82
	StktSwitch         = 0x83
	StktAck            = 0x84
	StktUpdateTimed    = 0x85
	StktIncUpdateTimed = 0x86
)

// MaxMessage bounds a message's data, as HAProxy bounds it by its buffer
// size (tune.bufsize, 16384 by default).
const MaxMessage = 16384

// Errors of the decoder.
var (
	ErrTruncated = errors.New("peers: truncated value")
	ErrTooLong   = errors.New("peers: encoded integer longer than 10 bytes")
	ErrTooBig    = errors.New("peers: message larger than the limit")
)

// AppendVarint appends v in the protocol's encoding (HAProxy's
// intencode): below 240 one byte; above, the first byte carries 4 bits
// with its top nibble set, then 7 bits per byte, the high bit marking
// that more follow, each step subtracting what the previous byte can
// already say.
func AppendVarint(b []byte, v uint64) []byte {
	if v < 240 {
		return append(b, byte(v))
	}
	b = append(b, byte(v)|240)
	v = (v - 240) >> 4
	for v >= 128 {
		b = append(b, byte(v)|128)
		v = (v - 128) >> 7
	}
	return append(b, byte(v))
}

// Varint decodes one encoded integer at the start of b and returns it
// with the number of bytes it took.
func Varint(b []byte) (uint64, int, error) {
	if len(b) == 0 {
		return 0, 0, ErrTruncated
	}
	v := uint64(b[0])
	if v < 240 {
		return v, 1, nil
	}
	shift := uint(4)
	for i := 1; ; i++ {
		if i >= len(b) {
			return 0, 0, ErrTruncated
		}
		if i > 9 {
			return 0, 0, ErrTooLong
		}
		v += uint64(b[i]) << shift
		shift += 7
		if b[i] < 128 {
			return v, i + 1, nil
		}
	}
}

// Hello is the connecting side's three lines:
//
//	HAProxyS 2.1
//	<the peer it connects to>
//	<its own peer name> <pid> <relative pid>
type Hello struct {
	Major, Minor int
	Remote       string // the name of the peer the connection is for
	Local        string // the sender's own peer name
	PID, RelPID  int
}

// AppendHello appends h's three lines.
func AppendHello(b []byte, h Hello) []byte {
	return fmt.Appendf(b, "%s %d.%d\n%s\n%s %d %d\n", ProtoName, h.Major, h.Minor, h.Remote, h.Local, h.PID, h.RelPID)
}

// maxLine bounds a hello line (HAProxy reads it into its trash buffer).
const maxLine = 1024

// ReadHello reads a hello and returns it, or the status code to answer
// with and an error: StatusErrProto for a malformed hello,
// StatusErrVersion for another major version or a newer minor one.
func ReadHello(r *bufio.Reader) (Hello, int, error) {
	var h Hello
	l1, err := readLine(r)
	if err != nil {
		return h, StatusErrProto, err
	}
	ver, ok := strings.CutPrefix(l1, ProtoName+" ")
	if !ok {
		return h, StatusErrProto, fmt.Errorf("peers: hello %q is not %s", l1, ProtoName)
	}
	maj, min, ok := strings.Cut(ver, ".")
	h.Major, err = strconv.Atoi(maj)
	if err == nil && ok {
		h.Minor, err = strconv.Atoi(min)
	}
	if err != nil || !ok || h.Major != Major || h.Minor > Minor || h.Minor < 0 {
		return h, StatusErrVersion, fmt.Errorf("peers: unsupported version %q", ver)
	}
	if h.Remote, err = readLine(r); err != nil {
		return h, StatusErrProto, err
	}
	l3, err := readLine(r)
	if err != nil {
		return h, StatusErrProto, err
	}
	f := strings.Fields(l3)
	if len(f) != 3 {
		return h, StatusErrProto, fmt.Errorf("peers: hello line %q: want NAME PID RELPID", l3)
	}
	h.Local = f[0]
	h.PID, err = strconv.Atoi(f[1])
	if err == nil {
		h.RelPID, err = strconv.Atoi(f[2])
	}
	if err != nil {
		return h, StatusErrProto, fmt.Errorf("peers: hello line %q: %w", l3, err)
	}
	return h, StatusOK, nil
}

// ReadStatus reads the status line answered to a hello.
func ReadStatus(r *bufio.Reader) (int, error) {
	l, err := readLine(r)
	if err != nil {
		return 0, err
	}
	n, err := strconv.Atoi(l)
	if err != nil {
		return 0, fmt.Errorf("peers: status %q: %w", l, err)
	}
	return n, nil
}

func readLine(r *bufio.Reader) (string, error) {
	var sb strings.Builder
	for {
		c, err := r.ReadByte()
		if err != nil {
			if err == io.EOF {
				err = io.ErrUnexpectedEOF
			}
			return "", fmt.Errorf("peers: hello: %w", err)
		}
		if c == '\n' {
			return sb.String(), nil
		}
		if sb.Len() >= maxLine {
			return "", errors.New("peers: hello line too long")
		}
		sb.WriteByte(c)
	}
}

// Message is one framed message: Data is set for stick-table messages
// (Type >= 0x80) only.
type Message struct {
	Class, Type byte
	Data        []byte
}

// HasData reports whether messages of type t carry a length and data.
func HasData(t byte) bool { return t&0x80 != 0 }

// AppendMessage frames a message.
func AppendMessage(b []byte, class, typ byte, data []byte) []byte {
	b = append(b, class, typ)
	if !HasData(typ) {
		return b
	}
	b = AppendVarint(b, uint64(len(data)))
	return append(b, data...)
}

// ReadMessage reads one message; data longer than max is ErrTooBig (the
// peer is then sent an ErrSizeLimit error message, as HAProxy does).
func ReadMessage(r *bufio.Reader, max int) (Message, error) {
	var m Message
	var head [2]byte
	if _, err := io.ReadFull(r, head[:]); err != nil {
		return m, err
	}
	m.Class, m.Type = head[0], head[1]
	if !HasData(m.Type) {
		return m, nil
	}
	var lb []byte
	for {
		c, err := r.ReadByte()
		if err != nil {
			return m, unexpected(err)
		}
		lb = append(lb, c)
		n, _, err := Varint(lb)
		if errors.Is(err, ErrTruncated) {
			continue
		}
		if err != nil {
			return m, err
		}
		if n > uint64(max) {
			return m, ErrTooBig
		}
		m.Data = make([]byte, n)
		if _, err := io.ReadFull(r, m.Data); err != nil {
			return m, unexpected(err)
		}
		return m, nil
	}
}

func unexpected(err error) error {
	if err == io.EOF {
		return io.ErrUnexpectedEOF
	}
	return err
}
