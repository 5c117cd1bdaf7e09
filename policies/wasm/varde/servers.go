//go:build wasip1

package varde

import (
	"time"
	"unsafe"
)

// Server is one server of the pool choose_server is asked about (or, in
// health, the server being judged: index 0).
type Server int32

// Servers is the number of servers; they are Server(0) .. Server(n-1).
func Servers() int { return int(serverCount()) }

// Name is the server's name (valid until the next call into this package).
func (s Server) Name() []byte {
	b, _ := read(func(p unsafe.Pointer, c uint32) int32 { return serverName(int32(s), p, c) })
	return b
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
func ProbeStatus() []byte { b, _ := read(checkStatus); return b }

// ProbeInfo is the probe's short text.
func ProbeInfo() []byte { b, _ := read(checkInfo); return b }
