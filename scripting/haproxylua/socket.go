package haproxylua

import (
	"bufio"
	"errors"
	"io"
	"net"
	"net/netip"
	"time"

	lua "github.com/yuin/gopher-lua"
)

// core.tcp(): HAProxy's Socket class, loopback only. A socket blocks its
// event loop while it waits, so every operation is bounded by the call's
// deadline (and by settimeout); sockets a call opened are closed when the
// call ends.
type luaSocket struct {
	c       net.Conn
	r       *bufio.Reader
	timeout time.Duration
}

func (v *vm) coreTCP(L *lua.LState) int {
	if v.loading {
		L.RaiseError("core.tcp: no socket while the script loads (as HAProxy: body and init contexts cannot do socket I/O)")
	}
	s := &luaSocket{}
	v.sockets = append(v.sockets, s)
	t := L.NewTable()
	L.SetFuncs(t, map[string]lua.LGFunction{
		"connect": func(L *lua.LState) int { return v.sockConnect(L, s) },
		"send":    func(L *lua.LState) int { return v.sockSend(L, s) },
		"receive": func(L *lua.LState) int { return v.sockReceive(L, s) },
		"settimeout": func(L *lua.LState) int {
			s.timeout = time.Duration(float64(L.CheckNumber(2)) * float64(time.Second))
			return 0
		},
		"close": func(L *lua.LState) int {
			if s.c != nil {
				s.c.Close()
			}
			L.Push(lua.LNumber(1))
			return 1
		},
	})
	strictTable(L, t, "socket:")
	L.Push(t)
	return 1
}

// deadline is the earlier of the call's deadline and the socket's timeout.
func (v *vm) sockDeadline(s *luaSocket) time.Time {
	left, _ := v.dl.Remaining()
	dl := time.Now().Add(left)
	if s.timeout > 0 {
		if t := time.Now().Add(s.timeout); t.Before(dl) {
			dl = t
		}
	}
	return dl
}

func (v *vm) sockConnect(L *lua.LState, s *luaSocket) int {
	host := L.CheckString(2)
	port := L.OptInt(3, 0)
	addr, err := netip.ParseAddr(host)
	if host == "localhost" {
		addr, err = netip.MustParseAddr("127.0.0.1"), nil
	}
	if err != nil || !addr.IsLoopback() {
		L.RaiseError("socket:connect: varde's core.tcp reaches loopback addresses only, not %q", host)
	}
	if port <= 0 || port > 65535 {
		L.ArgError(3, "port must be 1..65535")
	}
	d := net.Dialer{Deadline: v.sockDeadline(s)}
	c, err := d.Dial("tcp", netip.AddrPortFrom(addr, uint16(port)).String())
	if err != nil {
		L.Push(lua.LNil)
		L.Push(lua.LString(err.Error()))
		return 2
	}
	s.c, s.r = c, bufio.NewReader(c)
	L.Push(lua.LNumber(1))
	return 1
}

func (v *vm) sockSend(L *lua.LState, s *luaSocket) int {
	if s.c == nil {
		L.Push(lua.LNil)
		L.Push(lua.LString("closed"))
		return 2
	}
	data := checkStr(L, 2)
	s.c.SetWriteDeadline(v.sockDeadline(s))
	n, err := s.c.Write([]byte(data))
	if err != nil {
		L.Push(lua.LNil)
		L.Push(lua.LString(err.Error()))
		return 2
	}
	L.Push(lua.LNumber(n))
	return 1
}

// sockReceive is socket:receive([pattern|n]): "*l" (default) a line
// without its end, "*a" everything until the peer closes, n bytes.
func (v *vm) sockReceive(L *lua.LState, s *luaSocket) int {
	if s.c == nil {
		L.Push(lua.LNil)
		L.Push(lua.LString("closed"))
		return 2
	}
	s.c.SetReadDeadline(v.sockDeadline(s))
	var out []byte
	var err error
	pat := L.Get(2)
	all := pat.Type() == lua.LTString && pat.String() == "*a"
	if n, ok := pat.(lua.LNumber); ok {
		if n < 0 || n > maxRep {
			L.ArgError(2, "size out of range")
		}
		out = make([]byte, int(n))
		var k int
		k, err = io.ReadFull(s.r, out)
		out = out[:k]
	} else if all {
		out, err = readAll(s.r)
	} else {
		var line string
		line, err = s.r.ReadString('\n')
		out = []byte(trimEOL(line))
	}
	if err != nil && !(all && isEOF(err)) {
		L.Push(lua.LNil)
		L.Push(lua.LString(errText(err)))
		L.Push(lua.LString(out))
		return 3
	}
	L.Push(lua.LString(out))
	return 1
}

// closeSockets ends what a call left open.
func (v *vm) closeSockets() {
	for _, s := range v.sockets {
		if s.c != nil {
			s.c.Close()
		}
	}
	v.sockets = v.sockets[:0]
}

func trimEOL(s string) string {
	for len(s) > 0 && (s[len(s)-1] == '\n' || s[len(s)-1] == '\r') {
		s = s[:len(s)-1]
	}
	return s
}

func errText(err error) string {
	if ne, ok := err.(net.Error); ok && ne.Timeout() {
		return "timeout"
	}
	if isEOF(err) {
		return "closed"
	}
	return err.Error()
}

var errTooBig = errors.New("receive: more than 64 MiB")

func isEOF(err error) bool { return errors.Is(err, io.EOF) }

func readAll(r *bufio.Reader) ([]byte, error) {
	var out []byte
	buf := make([]byte, 4096)
	for {
		n, err := r.Read(buf)
		out = append(out, buf[:n]...)
		if err != nil {
			return out, err
		}
		if len(out) > maxRep {
			return out, errTooBig
		}
	}
}
