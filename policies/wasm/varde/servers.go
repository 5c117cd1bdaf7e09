//go:build wasip1

package varde

import (
	"encoding/binary"
	"time"
	"unsafe"
)

// Info is a snapshot of one server, read with every other in one host call
// (List). Name aliases the package buffer: valid until the next call into
// this package.
type Info struct {
	Index   Server
	Name    []byte
	Weight  int
	Up      bool
	Admin   int
	Backup  bool
	Usable  bool // up, ready, weighted and not full
	Active  int64
	Queue   int64
	MaxConn int64
	// RTimeUS is the server's moving average response time in µs, 0
	// before its first response.
	RTimeUS int64
}

var (
	listBuf = make([]byte, 1024)
	list    []Info
)

// List returns every server of the call (the pool choose_server is asked
// about; in health, the judged server). The slice is reused by the next
// call.
func List() []Info {
	n := serverList(unsafe.Pointer(&listBuf[0]), uint32(len(listBuf)))
	if int(n) > len(listBuf) {
		listBuf = make([]byte, int(n)+256)
		n = serverList(unsafe.Pointer(&listBuf[0]), uint32(len(listBuf)))
	}
	list = list[:0]
	if n < 4 || int(n) > len(listBuf) {
		return list
	}
	b := listBuf[:n]
	count := int(binary.LittleEndian.Uint32(b))
	b = b[4:]
	const rec = 42 // fixed fields before the name (docs/wasm-abi.md)
	for i := 0; i < count && len(b) >= rec; i++ {
		nl := int(binary.LittleEndian.Uint16(b[40:]))
		if len(b) < rec+nl {
			break
		}
		list = append(list, Info{Index: Server(i), Name: b[rec : rec+nl],
			Active: int64(binary.LittleEndian.Uint64(b)), Queue: int64(binary.LittleEndian.Uint64(b[8:])),
			MaxConn: int64(binary.LittleEndian.Uint64(b[16:])), RTimeUS: int64(binary.LittleEndian.Uint64(b[24:])),
			Weight: int(int32(binary.LittleEndian.Uint32(b[32:]))),
			Up:     b[36] == 1, Admin: int(b[37]), Backup: b[38] == 1, Usable: b[39] == 1})
		b = b[rec+nl:]
	}
	return list
}

// Hash is a stable 64-bit hash (xxHash64) computed by the host.
func Hash(b []byte) uint64 {
	if len(b) == 0 {
		return hostHash(nil, 0)
	}
	return hostHash(unsafe.Pointer(&b[0]), uint32(len(b)))
}

// Server is one server of the pool choose_server is asked about (or, in
// health, the server being judged: index 0).
type Server int32

// Servers is the number of servers; they are Server(0) .. Server(n-1).
func Servers() int { return int(serverCount()) }

// Name is the server's name (valid until the next call into this package).
func (s Server) Name() []byte {
	b, c := base()
	n := serverName(int32(s), b, c)
	if !fits(n) {
		b, c = base()
		n = serverName(int32(s), b, c)
	}
	v, _ := got(n)
	return v
}

func (s Server) Weight() int    { return int(serverWeight(int32(s))) }
func (s Server) Up() bool       { return serverUp(int32(s)) == 1 }
func (s Server) Admin() int     { return int(serverAdmin(int32(s))) }
func (s Server) Backup() bool   { return serverBackup(int32(s)) == 1 }
func (s Server) Active() int64  { return serverActive(int32(s)) }
func (s Server) Queue() int64   { return serverQueue(int32(s)) }
func (s Server) MaxConn() int64 { return serverMaxConn(int32(s)) }

// Usable is what the built-in requires of a server for a new session: up,
// ready, weighted and not full.
func (s Server) Usable() bool {
	if !s.Up() || s.Admin() != AdminReady || s.Weight() <= 0 {
		return false
	}
	m := s.MaxConn()
	return m == 0 || s.Active() < m
}

// Check is the probe result health() judges.
type Check struct {
	OK       bool
	Code     int
	Duration time.Duration
}

// Probe returns the probe's result; ProbeStatus and ProbeInfo read its words.
func Probe() Check {
	return Check{OK: checkOK() == 1, Code: int(checkCode()), Duration: time.Duration(checkDurationUS()) * time.Microsecond}
}

// ProbeStatus is HAProxy's status word of the probe (L4OK, L7STS, ...).
func ProbeStatus() []byte {
	n := checkStatus(base())
	if !fits(n) {
		n = checkStatus(base())
	}
	b, _ := got(n)
	return b
}

// ProbeInfo is the probe's short text.
func ProbeInfo() []byte {
	n := checkInfo(base())
	if !fits(n) {
		n = checkInfo(base())
	}
	b, _ := got(n)
	return b
}
