// Package lab builds VRRP test labs out of network namespaces: one namespace
// holding a bridge, one per node joined to it by a veth pair (eth0 inside the
// node), and a client namespace to ping VIPs from. Names are unique per test
// (derived from the PID and a counter) and everything is torn down in
// t.Cleanup, even when the test fails. Addresses come from 198.18.0.0/24,
// private to the lab's namespaces.
package lab

import (
	"bytes"
	"fmt"
	"net"
	"net/netip"
	"os"
	"os/exec"
	"path/filepath"
	"runtime"
	"strings"
	"sync"
	"sync/atomic"
	"syscall"
	"testing"
	"time"
	"unsafe"

	"github.com/vishvananda/netlink"
	"github.com/vishvananda/netns"
	"golang.org/x/net/icmp"
	"golang.org/x/net/ipv4"
	"golang.org/x/sys/unix"

	"github.com/varde-lb/varde/core/testenv"
)

var seq atomic.Int32

// Lab is one isolated L2 segment.
type Lab struct {
	t      testing.TB
	id     string
	Bridge string // namespace of the bridge
	Nodes  []*Node
	Client *Node
	Dir    string
}

// Node is one namespace on the segment.
type Node struct {
	lab    *Lab
	Name   string // short name: n1, n2, client
	NS     string // namespace name
	Addr   netip.Addr
	Port   string // bridge-side veth, in the bridge namespace
	handle *netlink.Handle
}

func run(t testing.TB, args ...string) {
	t.Helper()
	out, err := exec.Command(args[0], args[1:]...).CombinedOutput()
	if err != nil {
		t.Fatalf("%s: %v\n%s", strings.Join(args, " "), err, out)
	}
}

// New builds a lab with n nodes (addresses 198.18.0.11, .12, ...) and a
// client (198.18.0.2).
func New(t testing.TB, n int) *Lab {
	t.Helper()
	testenv.NeedRoot(t)
	testenv.LookTool(t, "ip", "iproute2")
	l := &Lab{t: t, id: fmt.Sprintf("vl%d-%d", os.Getpid()%100000, seq.Add(1)), Dir: t.TempDir()}
	l.Bridge = l.id + "-br"
	t.Cleanup(l.teardown)
	run(t, "ip", "netns", "add", l.Bridge)
	run(t, "ip", "-n", l.Bridge, "link", "add", "br0", "type", "bridge", "mcast_snooping", "0", "forward_delay", "0")
	run(t, "ip", "-n", l.Bridge, "link", "set", "br0", "up")
	for i := 0; i < n; i++ {
		l.Nodes = append(l.Nodes, l.addNode(fmt.Sprintf("n%d", i+1), netip.AddrFrom4([4]byte{198, 18, 0, byte(11 + i)})))
	}
	l.Client = l.addNode("client", netip.MustParseAddr("198.18.0.2"))
	return l
}

func (l *Lab) addNode(name string, addr netip.Addr) *Node {
	t := l.t
	nd := &Node{lab: l, Name: name, NS: l.id + "-" + name, Addr: addr, Port: "p-" + name}
	run(t, "ip", "netns", "add", nd.NS)
	run(t, "ip", "-n", nd.NS, "link", "add", "eth0", "type", "veth", "peer", "name", nd.Port, "netns", l.Bridge)
	run(t, "ip", "-n", l.Bridge, "link", "set", nd.Port, "master", "br0", "up")
	run(t, "ip", "-n", nd.NS, "addr", "add", addr.String()+"/24", "dev", "eth0")
	run(t, "ip", "-n", nd.NS, "link", "set", "eth0", "up")
	run(t, "ip", "-n", nd.NS, "link", "set", "lo", "up")
	h, err := netns.GetFromName(nd.NS)
	if err != nil {
		t.Fatalf("netns %s: %v", nd.NS, err)
	}
	nd.handle, err = netlink.NewHandleAt(h)
	h.Close()
	if err != nil {
		t.Fatalf("netlink handle in %s: %v", nd.NS, err)
	}
	return nd
}

func (l *Lab) teardown() {
	for _, n := range append(append([]*Node(nil), l.Nodes...), l.Client) {
		if n == nil {
			continue
		}
		if n.handle != nil {
			n.handle.Close()
		}
		exec.Command("ip", "netns", "del", n.NS).Run()
	}
	exec.Command("ip", "netns", "del", l.Bridge).Run()
}

// NonLocalBind lets processes in the node bind the VIP before holding it
// (net.ipv4.ip_nonlocal_bind, per namespace), as HAProxy users configure.
func (n *Node) NonLocalBind() {
	run(n.lab.t, "ip", "netns", "exec", n.NS, "sysctl", "-qw", "net.ipv4.ip_nonlocal_bind=1")
}

// WaitLinkLocal waits until eth0 has a usable (non-tentative) IPv6
// link-local address, which VRRPv3 over IPv6 sends from.
func (n *Node) WaitLinkLocal() {
	err := testenv.Until(5*time.Second, 10*time.Millisecond, func() error {
		addrs, err := n.handle.AddrList(mustLink(n.lab.t, n), netlink.FAMILY_V6)
		if err != nil {
			return err
		}
		for _, a := range addrs {
			if a.IP.IsLinkLocalUnicast() && a.Flags&0x40 == 0 { // IFA_F_TENTATIVE
				return nil
			}
		}
		return fmt.Errorf("no link-local address on %s eth0", n.Name)
	})
	if err != nil {
		n.lab.t.Fatal(err)
	}
}

// HasAddr reports whether the node holds addr on any interface.
func (n *Node) HasAddr(addr netip.Addr) bool {
	addrs, err := n.handle.AddrList(nil, netlink.FAMILY_ALL)
	if err != nil {
		return false
	}
	for _, a := range addrs {
		if ip, ok := netip.AddrFromSlice(a.IP); ok && ip.Unmap() == addr {
			return true
		}
	}
	return false
}

// SetLink sets the node's bridge port up or down: a partition of that node.
func (n *Node) SetLink(up bool) {
	state := "down"
	if up {
		state = "up"
	}
	run(n.lab.t, "ip", "-n", n.lab.Bridge, "link", "set", n.Port, state)
}

// SetIsolated cuts the node's bridge port off every other isolated port
// while its carrier stays up: a partition the node cannot see.
func (n *Node) SetIsolated(on bool) {
	v := "off"
	if on {
		v = "on"
	}
	run(n.lab.t, "bridge", "-n", n.lab.Bridge, "link", "set", "dev", n.Port, "isolated", v)
}

// Holders lists the nodes holding addr.
func (l *Lab) Holders(addr netip.Addr) []string {
	var out []string
	for _, n := range l.Nodes {
		if n.HasAddr(addr) {
			out = append(out, n.Name)
		}
	}
	return out
}

// WaitHolders waits until exactly the named nodes hold addr.
func (l *Lab) WaitHolders(addr netip.Addr, timeout time.Duration, want ...string) {
	l.t.Helper()
	err := testenv.Until(timeout, 10*time.Millisecond, func() error {
		if got := l.Holders(addr); strings.Join(got, ",") != strings.Join(want, ",") {
			return fmt.Errorf("%v held by %v, want %v", addr, got, want)
		}
		return nil
	})
	if err != nil {
		l.t.Fatalf("%v\n%s", err, l.Logs())
	}
}

// Settle waits until exactly the named nodes hold addr, then checks that
// it stays so for hold (no flapping, no second master coming up late).
func (l *Lab) Settle(addr netip.Addr, timeout, hold time.Duration, want ...string) {
	l.t.Helper()
	l.WaitHolders(addr, timeout, want...)
	end := time.Now().Add(hold)
	for time.Now().Before(end) {
		if got := l.Holders(addr); strings.Join(got, ",") != strings.Join(want, ",") {
			l.t.Fatalf("%v held by %v during the hold period, want %v\n%s", addr, got, want, l.Logs())
		}
		time.Sleep(10 * time.Millisecond)
	}
}

// DelAddr removes addr from a node, as a reboot of a crashed node would.
func (n *Node) DelAddr(addr netip.Addr) {
	_ = n.handle.AddrDel(mustLink(n.lab.t, n), addrOf(addr))
}

// Proc is a daemon started in a node.
type Proc struct {
	node    *Node
	Kind    string // varde or keepalived
	cmd     *exec.Cmd
	log     string
	vrrpPID string // keepalived's VRRP child pid file
	done    chan struct{}
	mu      sync.Mutex
}

var procs sync.Map // *Proc -> struct{}, for Logs

// Conf writes a configuration file for the node and returns its path.
func (n *Node) Conf(name, text string) string {
	p := filepath.Join(n.lab.Dir, n.Name+"-"+name)
	if err := os.WriteFile(p, []byte(text), 0o644); err != nil {
		n.lab.t.Fatal(err)
	}
	return p
}

var logSeq atomic.Int32

func (n *Node) start(kind string, args ...string) *Proc {
	t := n.lab.t
	t.Helper()
	p := &Proc{node: n, Kind: kind, done: make(chan struct{})}
	p.log = filepath.Join(n.lab.Dir, fmt.Sprintf("%s-%s-%d.log", n.Name, kind, logSeq.Add(1)))
	f, err := os.Create(p.log)
	if err != nil {
		t.Fatal(err)
	}
	// Explicit files, no inherited pipes: Wait returns when the process does.
	p.cmd = exec.Command("ip", append([]string{"netns", "exec", n.NS}, args...)...)
	p.cmd.Stdout, p.cmd.Stderr = f, f
	p.cmd.SysProcAttr = &syscall.SysProcAttr{Setpgid: true}
	if err := p.cmd.Start(); err != nil {
		f.Close()
		t.Fatalf("start %s in %s: %v", kind, n.NS, err)
	}
	go func() { p.cmd.Wait(); f.Close(); close(p.done) }()
	procs.Store(p, struct{}{})
	t.Cleanup(func() {
		p.Kill()
		procs.Delete(p)
	})
	return p
}

// vardeBinary is $VARDE_BINARY when set (to test a given build), else
// ./cmd/varde built once per test binary.
func vardeBinary(t testing.TB) string {
	if p := os.Getenv("VARDE_BINARY"); p != "" {
		return p
	}
	return testenv.VardeBinary(t)
}

// StartVarde runs `varde run -f conf [-f conf...]` in the node.
func (n *Node) StartVarde(confs ...string) *Proc {
	args := []string{vardeBinary(n.lab.t), "run"}
	for _, c := range confs {
		args = append(args, "-f", c)
	}
	return n.start("varde", args...)
}

// StartVardeArgs runs varde with arbitrary arguments in the node.
func (n *Node) StartVardeArgs(args ...string) *Proc {
	return n.start("varde", append([]string{vardeBinary(n.lab.t)}, args...)...)
}

// StartKeepalived runs keepalived 2.2.7 in the foreground, VRRP only, with
// per-start pid files (keepalived deletes its pid files on exit and refuses
// to start when the default ones exist, exiting 0).
func (n *Node) StartKeepalived(conf string) *Proc {
	t := n.lab.t
	bin := testenv.LookTool(t, "keepalived", "keepalived")
	d := filepath.Join(n.lab.Dir, fmt.Sprintf("ka-%s-%d", n.Name, logSeq.Add(1)))
	os.MkdirAll(d, 0o755)
	p := n.start("keepalived", bin, "-n", "-l", "-D", "-G", "-P", "-f", conf,
		"-p", d+"/keepalived.pid", "-r", d+"/vrrp.pid", "-c", d+"/checkers.pid", "-b", d+"/bfd.pid")
	p.vrrpPID = d + "/vrrp.pid"
	if err := testenv.Until(10*time.Second, 10*time.Millisecond, func() error {
		_, err := os.Stat(p.vrrpPID)
		return err
	}); err != nil {
		t.Fatalf("keepalived did not start: %v\n%s", err, p.Log())
	}
	return p
}

// Log returns what the process printed so far.
func (p *Proc) Log() string {
	b, _ := os.ReadFile(p.log)
	return string(b)
}

// Alive reports whether the process still runs.
func (p *Proc) Alive() bool {
	select {
	case <-p.done:
		return false
	default:
		return true
	}
}

func (p *Proc) signal(sig syscall.Signal) {
	p.mu.Lock()
	defer p.mu.Unlock()
	if !p.Alive() {
		return
	}
	if p.vrrpPID != "" && sig == syscall.SIGKILL {
		// A crash: the VRRP child first, or it would exit gracefully
		// through PR_SET_PDEATHSIG when the parent dies.
		if b, err := os.ReadFile(p.vrrpPID); err == nil {
			var pid int
			if _, err := fmt.Sscan(string(bytes.TrimSpace(b)), &pid); err == nil && pid > 1 && isChildOf(pid, p.cmd.Process.Pid) {
				syscall.Kill(pid, syscall.SIGKILL)
			}
		}
	}
	p.cmd.Process.Signal(sig)
}

// isChildOf checks /proc before signalling a PID read from a file.
func isChildOf(pid, parent int) bool {
	b, err := os.ReadFile(fmt.Sprintf("/proc/%d/stat", pid))
	if err != nil {
		return false
	}
	s := string(b)
	i := strings.LastIndexByte(s, ')')
	if i < 0 {
		return false
	}
	var state string
	var ppid int
	fmt.Sscan(s[i+1:], &state, &ppid)
	return ppid == parent
}

// Kill sends SIGKILL (a crash) and waits for the process to be gone.
func (p *Proc) Kill() {
	p.signal(syscall.SIGKILL)
	p.wait(5 * time.Second)
}

// Term sends SIGTERM (a graceful stop) and waits for the exit.
func (p *Proc) Term() {
	p.signal(syscall.SIGTERM)
	if !p.wait(10 * time.Second) {
		p.node.lab.t.Errorf("%s in %s did not stop on SIGTERM", p.Kind, p.node.Name)
		p.Kill()
	}
}

// TermAsync sends SIGTERM without waiting.
func (p *Proc) TermAsync() { p.signal(syscall.SIGTERM) }

// KillAsync sends SIGKILL without waiting.
func (p *Proc) KillAsync() { p.signal(syscall.SIGKILL) }

func (p *Proc) wait(d time.Duration) bool {
	select {
	case <-p.done:
		return true
	case <-time.After(d):
		return false
	}
}

// Logs gathers every process log of the lab, for failure messages.
func (l *Lab) Logs() string {
	var b strings.Builder
	procs.Range(func(k, _ any) bool {
		p := k.(*Proc)
		if p.node.lab == l {
			fmt.Fprintf(&b, "---- %s on %s:\n%s\n", p.Kind, p.node.Name, tail(p.Log(), 40))
		}
		return true
	})
	return b.String()
}

func tail(s string, n int) string {
	lines := strings.Split(strings.TrimRight(s, "\n"), "\n")
	if len(lines) > n {
		lines = lines[len(lines)-n:]
	}
	return strings.Join(lines, "\n")
}

// Pinger sends ICMP echoes from the client namespace.
type Pinger struct {
	c   *icmp.PacketConn
	seq int
}

// Pinger opens an ICMP socket inside the client namespace.
func (l *Lab) Pinger() *Pinger {
	t := l.t
	var c *icmp.PacketConn
	err := inNS(l.Client.NS, func() error {
		var err error
		c, err = icmp.ListenPacket("ip4:icmp", "0.0.0.0")
		return err
	})
	if err != nil {
		t.Fatalf("icmp socket in %s: %v", l.Client.NS, err)
	}
	t.Cleanup(func() { c.Close() })
	return &Pinger{c: c}
}

// Ping sends one echo to addr and reports whether a reply came within wait.
func (p *Pinger) Ping(addr netip.Addr, wait time.Duration) bool {
	p.seq++
	m := icmp.Message{Type: ipv4.ICMPTypeEcho, Body: &icmp.Echo{ID: os.Getpid() & 0xffff, Seq: p.seq, Data: []byte("varde")}}
	b, _ := m.Marshal(nil)
	if _, err := p.c.WriteTo(b, &net.IPAddr{IP: addr.AsSlice()}); err != nil {
		return false
	}
	deadline := time.Now().Add(wait)
	buf := make([]byte, 1500)
	for {
		p.c.SetReadDeadline(deadline)
		n, from, err := p.c.ReadFrom(buf)
		if err != nil {
			return false
		}
		rm, err := icmp.ParseMessage(1, buf[:n])
		if err != nil || rm.Type != ipv4.ICMPTypeEchoReply {
			continue
		}
		if e, ok := rm.Body.(*icmp.Echo); ok && e.Seq == p.seq && from.(*net.IPAddr).IP.Equal(addr.AsSlice()) {
			return true
		}
	}
}

// inNS runs f on an OS thread switched into namespace ns; sockets opened by
// f stay in that namespace.
func inNS(ns string, f func() error) error {
	errc := make(chan error, 1)
	go func() {
		runtime.LockOSThread()
		// The thread is not unlocked: after switching back it is clean,
		// but if switching back fails it must die with the goroutine.
		orig, err := netns.Get()
		if err != nil {
			errc <- err
			return
		}
		defer orig.Close()
		h, err := netns.GetFromName(ns)
		if err != nil {
			errc <- err
			return
		}
		defer h.Close()
		if err := netns.Set(h); err != nil {
			errc <- err
			return
		}
		ferr := f()
		if err := netns.Set(orig); err != nil {
			errc <- err
			return
		}
		runtime.UnlockOSThread()
		errc <- ferr
	}()
	return <-errc
}

func mustLink(t testing.TB, n *Node) netlink.Link {
	l, err := n.handle.LinkByName("eth0")
	if err != nil {
		t.Fatal(err)
	}
	return l
}

func addrOf(a netip.Addr) *netlink.Addr {
	return &netlink.Addr{IPNet: &net.IPNet{IP: a.AsSlice(), Mask: net.CIDRMask(24, 32)}}
}

// Sniffer receives the VRRP adverts seen by the client.
type Sniffer struct {
	c  *ipv4.RawConn
	pc net.PacketConn
}

// Sniffer opens a raw VRRP socket in the client namespace, joined to
// 224.0.0.18, so a benchmark can act right after a given advert.
func (l *Lab) Sniffer() *Sniffer {
	t := l.t
	var s Sniffer
	err := inNS(l.Client.NS, func() error {
		pc, err := net.ListenPacket("ip4:112", "0.0.0.0")
		if err != nil {
			return err
		}
		rc, err := ipv4.NewRawConn(pc)
		if err != nil {
			pc.Close()
			return err
		}
		ifi, err := net.InterfaceByName("eth0")
		if err == nil {
			err = rc.JoinGroup(ifi, &net.IPAddr{IP: net.IPv4(224, 0, 0, 18)})
		}
		s.c, s.pc = rc, pc
		return err
	})
	if err != nil {
		t.Fatalf("sniffer in %s: %v", l.Client.NS, err)
	}
	t.Cleanup(func() { s.pc.Close() })
	return &s
}

// WaitAdvert returns when an advert from src with a non-zero priority
// arrives, or false after timeout.
func (s *Sniffer) WaitAdvert(src netip.Addr, timeout time.Duration) bool {
	buf := make([]byte, 1500)
	// Drop what queued up since the last call: only a fresh advert counts.
	for {
		s.c.SetReadDeadline(time.Now().Add(time.Millisecond))
		if _, _, _, err := s.c.ReadFrom(buf); err != nil {
			break
		}
	}
	deadline := time.Now().Add(timeout)
	for {
		s.c.SetReadDeadline(deadline)
		h, p, _, err := s.c.ReadFrom(buf)
		if err != nil {
			return false
		}
		if h != nil && h.Src.Equal(src.AsSlice()) && len(p) > 2 && p[2] != 0 {
			return true
		}
	}
}

// Advert is one VRRP advert seen by a Recorder.
type Advert struct {
	At       time.Time
	Src      netip.Addr
	VRID     int
	Priority int
	IPID     int // the IPv4 header's ID: varde numbers its adverts from 1 per process
	NAddr    int // the advert's address count
}

// Recorder keeps every VRRP advert the client namespace receives, with the
// kernel's receive timestamp (SO_TIMESTAMPNS), so that a test process
// starved of CPU does not see gaps the wire did not have.
type Recorder struct {
	fd   int
	mu   sync.Mutex
	ads  []Advert
	stop chan struct{}
	done chan struct{}
}

// Record starts recording adverts in the client namespace.
func (l *Lab) Record() *Recorder {
	r := &Recorder{fd: -1, stop: make(chan struct{}), done: make(chan struct{})}
	err := inNS(l.Client.NS, func() error {
		fd, err := unix.Socket(unix.AF_INET, unix.SOCK_RAW|unix.SOCK_CLOEXEC, 112)
		if err != nil {
			return err
		}
		r.fd = fd
		ifi, err := net.InterfaceByName("eth0")
		if err != nil {
			return err
		}
		mreq := &unix.IPMreqn{Multiaddr: [4]byte{224, 0, 0, 18}, Ifindex: int32(ifi.Index)}
		if err := unix.SetsockoptIPMreqn(fd, unix.IPPROTO_IP, unix.IP_ADD_MEMBERSHIP, mreq); err != nil {
			return err
		}
		if err := unix.SetsockoptInt(fd, unix.SOL_SOCKET, unix.SO_TIMESTAMPNS, 1); err != nil {
			return err
		}
		tv := unix.NsecToTimeval(int64(50 * time.Millisecond))
		return unix.SetsockoptTimeval(fd, unix.SOL_SOCKET, unix.SO_RCVTIMEO, &tv)
	})
	if err != nil {
		if r.fd >= 0 {
			unix.Close(r.fd)
		}
		l.t.Fatalf("advert recorder in %s: %v", l.Client.NS, err)
	}
	go r.loop()
	l.t.Cleanup(r.Stop)
	return r
}

func (r *Recorder) loop() {
	defer close(r.done)
	defer unix.Close(r.fd)
	buf, oob := make([]byte, 1500), make([]byte, 128)
	for {
		select {
		case <-r.stop:
			return
		default:
		}
		n, oobn, _, _, err := unix.Recvmsg(r.fd, buf, oob, 0)
		if err != nil || n < 20+3 {
			continue
		}
		at := time.Now()
		if msgs, err := unix.ParseSocketControlMessage(oob[:oobn]); err == nil {
			for _, m := range msgs {
				if m.Header.Level == unix.SOL_SOCKET && m.Header.Type == unix.SCM_TIMESTAMPNS && len(m.Data) >= 16 {
					ts := (*unix.Timespec)(unsafe.Pointer(&m.Data[0]))
					at = time.Unix(ts.Unix())
				}
			}
		}
		ihl := int(buf[0]&0x0f) * 4
		if n < ihl+3 {
			continue
		}
		src := netip.AddrFrom4([4]byte(buf[12:16]))
		p := buf[ihl:n]
		r.mu.Lock()
		nAddr := 0
		if len(p) > 3 {
			nAddr = int(p[3])
		}
		r.ads = append(r.ads, Advert{At: at, Src: src, VRID: int(p[1]), Priority: int(p[2]), IPID: int(buf[4])<<8 | int(buf[5]), NAddr: nAddr})
		r.mu.Unlock()
	}
}

// Stop ends the recording (idempotent).
func (r *Recorder) Stop() {
	select {
	case <-r.stop:
	default:
		close(r.stop)
	}
	<-r.done
}

// Adverts returns the adverts of VRID vrid from src recorded in [from, to].
func (r *Recorder) Adverts(src netip.Addr, vrid int, from, to time.Time) []Advert {
	r.mu.Lock()
	defer r.mu.Unlock()
	var out []Advert
	for _, a := range r.ads {
		if a.Src == src && a.VRID == vrid && !a.At.Before(from) && !a.At.After(to) {
			out = append(out, a)
		}
	}
	return out
}

// MaxGap is the longest time without a non-zero-priority advert of vrid
// from src within [from, to], the window's edges included: what a backup's
// Master_Down timer sees.
func (r *Recorder) MaxGap(src netip.Addr, vrid int, from, to time.Time) (gap time.Duration, n int) {
	gap, _, n = r.Gap(src, vrid, from, to)
	return gap, n
}

// Gap is MaxGap and when that gap ended.
func (r *Recorder) Gap(src netip.Addr, vrid int, from, to time.Time) (gap time.Duration, end time.Time, n int) {
	last := from
	for _, a := range r.Adverts(src, vrid, from, to) {
		if a.Priority == 0 {
			continue
		}
		n++
		if d := a.At.Sub(last); d > gap {
			gap, end = d, a.At
		}
		last = a.At
	}
	if d := to.Sub(last); d > gap {
		gap, end = d, to
	}
	return gap, end, n
}

// ZeroPriority counts the priority-0 adverts of vrid from src in [from, to].
func (r *Recorder) ZeroPriority(src netip.Addr, vrid int, from, to time.Time) int {
	n := 0
	for _, a := range r.Adverts(src, vrid, from, to) {
		if a.Priority == 0 {
			n++
		}
	}
	return n
}

// Watch polls who holds addr every 5 ms until the returned stop function
// is called, which returns each change to a holder set other than want,
// with its time.
func (l *Lab) Watch(addr netip.Addr, want ...string) (stop func() []string) {
	quit, done := make(chan struct{}), make(chan struct{})
	var bad []string
	go func() {
		defer close(done)
		last := strings.Join(want, ",")
		for {
			select {
			case <-quit:
				return
			case <-time.After(5 * time.Millisecond):
			}
			got := strings.Join(l.Holders(addr), ",")
			if got != last && got != strings.Join(want, ",") {
				bad = append(bad, fmt.Sprintf("%s: %v held by [%s]", time.Now().Format("15:04:05.000"), addr, got))
			}
			last = got
		}
	}()
	var once sync.Once
	stop = func() []string {
		once.Do(func() { close(quit); <-done })
		return bad
	}
	l.t.Cleanup(func() { stop() })
	return stop
}

// Signal sends sig to the process.
func (p *Proc) Signal(sig syscall.Signal) { p.signal(sig) }

// Wait waits up to d for the process to exit; false if it still runs.
func (p *Proc) Wait(d time.Duration) bool { return p.wait(d) }

// ExitCode is the process's exit status (-1 while it runs or if killed).
func (p *Proc) ExitCode() int {
	if p.Alive() {
		return -1
	}
	return p.cmd.ProcessState.ExitCode()
}

// WaitLog waits until the process's log contains s.
func (p *Proc) WaitLog(s string, timeout time.Duration) {
	t := p.node.lab.t
	t.Helper()
	if err := testenv.Until(timeout, 10*time.Millisecond, func() error {
		if !strings.Contains(p.Log(), s) {
			return fmt.Errorf("%s on %s did not log %q", p.Kind, p.node.Name, s)
		}
		return nil
	}); err != nil {
		t.Fatalf("%v\n%s", err, tail(p.Log(), 40))
	}
}

// AddAddr puts addr/bits on the node's eth0, as a crashed run leaves a VIP.
func (n *Node) AddAddr(addr netip.Addr, bits int) {
	run(n.lab.t, "ip", "-n", n.NS, "addr", "add", fmt.Sprintf("%s/%d", addr, bits), "dev", "eth0")
}
