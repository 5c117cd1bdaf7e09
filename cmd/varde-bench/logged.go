package main

// The traffic shapes again with an access log written to a file (issue 16
// item 4). The two proxies cannot share one configuration here: HAProxy
// 2.6 logs only to syslog targets (no file path of its own, no address
// anonymisation), varde writes files itself and anonymises addresses. Each
// side gets its own cheapest way to a file:
//
//   - HAProxy: `log 127.0.0.1:PORT local0` to a UDP syslog receiver in this
//     process that appends every datagram to a file (its CPU is this
//     process's, not HAProxy's, as rsyslog's would be);
//   - varde: `log file@PATH anonymize ip 24,64 local0`, the file written by
//     varde's own log pipeline with client addresses anonymised.
//
// Both use `option httplog`, so each request writes one line.

import (
	"bufio"
	"bytes"
	"fmt"
	"net"
	"os"
	"path/filepath"
	"strings"
	"sync"
)

// syslogSink receives syslog datagrams on loopback and appends each to a
// file, one line per datagram.
type syslogSink struct {
	pc   net.PacketConn
	mu   sync.Mutex
	w    *bufio.Writer
	f    *os.File
	n    int
	done chan struct{}
}

func startSyslogSink(path string) (*syslogSink, error) {
	pc, err := net.ListenPacket("udp", "127.0.0.1:0")
	if err != nil {
		return nil, fmt.Errorf("syslog receiver: %w", err)
	}
	f, err := os.Create(path)
	if err != nil {
		pc.Close()
		return nil, fmt.Errorf("syslog receiver: %w", err)
	}
	s := &syslogSink{pc: pc, f: f, w: bufio.NewWriterSize(f, 64<<10), done: make(chan struct{})}
	go s.run()
	return s, nil
}

func (s *syslogSink) addr() string { return s.pc.LocalAddr().String() }

func (s *syslogSink) run() {
	defer close(s.done)
	buf := make([]byte, 64<<10)
	for {
		n, _, err := s.pc.ReadFrom(buf)
		if err != nil {
			return
		}
		s.mu.Lock()
		s.w.Write(bytes.TrimRight(buf[:n], "\n"))
		s.w.WriteByte('\n')
		s.n++
		s.mu.Unlock()
	}
}

// lines is how many messages arrived so far.
func (s *syslogSink) lines() int {
	s.mu.Lock()
	defer s.mu.Unlock()
	return s.n
}

func (s *syslogSink) close() {
	s.pc.Close()
	<-s.done
	s.w.Flush()
	s.f.Close()
}

// loggedConfigs writes HAProxy's and varde's logging variants of the bench
// configuration and returns the configuration of each proxy by name, the
// receiver (to close) and varde's log file.
func loggedConfigs(dir string, port, b1, b2 int, global string) (map[string]string, *syslogSink, string, error) {
	sink, err := startSyslogSink(filepath.Join(dir, "haproxy-access.log"))
	if err != nil {
		return nil, nil, "", err
	}
	vlog := filepath.Join(dir, "varde-access.log")
	targets := map[string]string{
		"haproxy": "log " + sink.addr() + " local0",
		"varde":   "log file@" + vlog + " anonymize ip 24,64 local0",
	}
	cfgs := map[string]string{}
	for name, target := range targets {
		cfg := benchConfig(port, b1, b2, global+"    "+target+"\n", "")
		cfg = strings.Replace(cfg, "    option forwardfor\n", "    option forwardfor\n    option httplog\n    log global\n", 1)
		path := filepath.Join(dir, name+"-logged.cfg")
		if err := os.WriteFile(path, []byte(cfg), 0o644); err != nil {
			sink.close()
			return nil, nil, "", err
		}
		cfgs[name] = path
	}
	return cfgs, sink, vlog, nil
}

// runLogged runs the selected shapes with logging on and checks that both
// logs received lines (a run that logged nothing measured nothing).
func runLogged(o options, dir string, port, b1, b2 int, global, addr string, kinds []proxyKind, t *bytes.Buffer) error {
	cfgs, sink, vlog, err := loggedConfigs(dir, port, b1, b2, global)
	if err != nil {
		return err
	}
	defer sink.close()
	fmt.Printf("\nwith access logs: HAProxy to a UDP syslog receiver writing a file, varde to file@ with anonymize ip 24,64\n")
	fmt.Fprintf(t, "\nWith `option httplog` to a file (HAProxy: UDP syslog to a receiver writing the file; varde: `file@` with `anonymize ip 24,64`):\n\n")
	lo := o
	lo.shapes = strings.Join(withoutIdle(o), ",")
	if err := runShapesWith(lo, func(name string) string { return cfgs[name] }, addr, kinds, t, " (logged)"); err != nil {
		return err
	}
	st, err := os.Stat(vlog)
	if err != nil || st.Size() == 0 || sink.lines() == 0 {
		return fmt.Errorf("logged shapes: a log stayed empty (HAProxy lines %d, varde file %s: %v)", sink.lines(), vlog, err)
	}
	fmt.Printf("log lines received from HAProxy: %d; varde's file: %d bytes\n", sink.lines(), st.Size())
	return nil
}

// withoutIdle is the selected shapes but idle (the idle clients log one
// request each: nothing to compare).
func withoutIdle(o options) []string {
	var n []string
	for _, sh := range allShapes(o) {
		if o.wanted(sh.name) {
			n = append(n, sh.name)
		}
	}
	if len(n) == 0 {
		n = []string{"none"}
	}
	return n
}
