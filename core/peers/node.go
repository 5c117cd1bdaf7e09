package peers

import (
	"bufio"
	"context"
	"fmt"
	"log/slog"
	"net"
	"os"
	"sync"
	"sync/atomic"
	"time"

	"github.com/varde-lb/varde/core/config"
	"github.com/varde-lb/varde/core/listen"
	"github.com/varde-lb/varde/core/sticktable"
)

// pushEvery is how often local changes are sent to the peers (HAProxy
// pushes as soon as its peers task runs; a few ms here batch a burst).
const pushEvery = 20 * time.Millisecond

// Node replicates one peers section's tables with its remote peers: it
// listens on the local peer's address, connects to every remote peer,
// pushes the entries changed here and applies the ones they send.
type Node struct {
	Section string
	Local   string            // this node's peer name
	Addr    string            // where the local peer listens
	Remotes map[string]string // peer name -> ADDR:PORT

	tables []*shared
	log    *slog.Logger
	inv    *listen.Inventory

	// inherited: this node took over from a reload's predecessor, whose
	// tables it adopted; otherwise its first session asks the peer for a
	// full resync (resyncAsked), as a starting HAProxy does.
	inherited   bool
	resyncAsked atomic.Bool

	mu       sync.Mutex
	sessions map[*session]bool
	byPeer   map[string]*session // the one session kept per peer name
	ln       net.Listener
	cancel   context.CancelFunc
	wg       sync.WaitGroup
}

// wireName is the name HAProxy gives a table on the wire: the proxy's
// name, or "/NAME" for a peers section's `table NAME` (its nid).
func wireName(section, name string) string {
	if len(name) > len(section) && name[:len(section)+1] == section+"/" {
		return name[len(section):]
	}
	return name
}

// keyWire returns the wire key type and key size of a table definition
// (HAProxy's: a string key's size counts its NUL; binary keys are padded
// to theirs on both sides).
func keyWire(d *sticktable.Def) (typ, size uint64, ok bool) {
	switch d.Key {
	case sticktable.KeyIP:
		return KeyIPv4, 4, true
	case sticktable.KeyIPv6:
		return KeyIPv6, 16, true
	case sticktable.KeyInteger:
		return KeySInt, 4, true
	case sticktable.KeyString:
		if d.KeyLen > 0 {
			return KeyStr, uint64(d.KeyLen) + 1, true
		}
		return KeyStr, 32, true
	case sticktable.KeyBinary:
		if d.KeyLen > 0 {
			return KeyBin, uint64(d.KeyLen), true
		}
		return KeyBin, 32, true
	}
	return 0, 0, false
}

// ServerNames returns, for a table used by stick rules, the name of the
// server a server_id designates (HAProxy sends it as server_key), and
// nil for other tables.
type ServerNames func(table string) func(id uint64) (string, bool)

// newShared describes local table t for the wire.
func newShared(id int, section string, t *sticktable.Table, names ServerNames) (*shared, error) {
	typ, size, ok := keyWire(&t.Def)
	if !ok {
		return nil, fmt.Errorf("table %s: its key type has no wire form", t.Def.Name)
	}
	sh := &shared{t: t, def: TableDef{ID: uint64(id), Name: wireName(section, t.Def.Name), KeyType: typ, KeyLen: size,
		Expire: uint64(t.Def.Expire.Milliseconds())}}
	for _, s := range t.Def.Store {
		sh.def.Data |= 1 << uint(s.Type)
		if s.Type.IsRate() {
			sh.def.Period[s.Type] = uint64(s.Period.Milliseconds())
		}
	}
	if names != nil && sh.def.Has(DTServerID) {
		if sh.serverName = names(t.Def.Name); sh.serverName != nil {
			sh.def.Data |= 1 << DTServerKey
		}
	}
	return sh, nil
}

// NewNode builds the replication of section s for the tables of set that
// join it. Nothing is opened until Start.
func NewNode(s *config.Peers, c *config.Config, set *sticktable.Set, names ServerNames, inv *listen.Inventory, log *slog.Logger) (*Node, error) {
	n := &Node{Section: s.Name, Local: s.LocalName, Addr: s.Bind, Remotes: map[string]string{}, log: log, inv: inv, sessions: map[*session]bool{}, byPeer: map[string]*session{}}
	if n.Addr == "" {
		n.Addr = s.Local().Addr
	}
	for _, p := range s.Remote() {
		n.Remotes[p.Name] = p.Addr
	}
	var tables []string
	for _, px := range c.Proxies {
		if px.StickTable != nil && px.StickTable.Peers == s.Name && !px.Disabled {
			tables = append(tables, px.Name)
		}
	}
	for _, t := range s.Tables {
		tables = append(tables, t.Def.Name)
	}
	for _, name := range tables {
		t := set.Lookup(name)
		if t == nil {
			continue
		}
		sh, err := newShared(len(n.tables)+1, s.Name, t, names)
		if err != nil {
			return nil, err
		}
		n.tables = append(n.tables, sh)
	}
	return n, nil
}

// Start listens on the local peer's address, watches the tables and
// starts connecting to the remote peers.
func (n *Node) Start(ctx context.Context) error {
	ln, err := n.inv.Listen("tcp", n.Addr)
	if err != nil {
		return fmt.Errorf("peers %s: local peer %s: %w", n.Section, n.Local, err)
	}
	for _, sh := range n.tables {
		sh.t.Watch()
	}
	ctx, n.cancel = context.WithCancel(ctx)
	n.ln = ln
	n.wg.Add(2 + len(n.Remotes))
	go func() { defer n.wg.Done(); n.accept(ctx, ln) }()
	go func() { defer n.wg.Done(); n.pushLoop(ctx) }()
	for name, addr := range n.Remotes {
		go func() { defer n.wg.Done(); n.connectLoop(ctx, name, addr) }()
	}
	return nil
}

// Stop closes the listener and every session.
func (n *Node) Stop() {
	if n.cancel == nil {
		return
	}
	n.cancel()
	n.ln.Close()
	for _, sh := range n.tables {
		sh.t.Unwatch()
	}
	n.mu.Lock()
	for s := range n.sessions {
		s.c.Close()
	}
	n.mu.Unlock()
	n.wg.Wait()
}

// Offer keeps the listening socket for the next generation (a reload).
func (n *Node) Offer() {
	if n.ln != nil {
		_ = n.inv.Offer(n.ln)
	}
}

// add keeps s as the session with its peer, unless it loses to the one
// up: one session per peer, as HAProxy keeps, so changes are sent once.
// A newer session in the same direction replaces the old (the peer
// reconnected); between an incoming and an outgoing one, both nodes keep
// the one dialed by the peer with the smaller name, so two nodes
// dialing each other at once agree instead of closing both.
func (n *Node) add(s *session) bool {
	n.mu.Lock()
	defer n.mu.Unlock()
	if old := n.byPeer[s.peer]; old != nil {
		if old.out != s.out && !s.preferred() {
			return false
		}
		old.c.Close() // its run loop ends
		delete(n.sessions, old)
	}
	n.byPeer[s.peer] = s
	n.sessions[s] = true
	return true
}

// preferred: s was dialed by the smaller of the two peer names.
func (s *session) preferred() bool {
	if s.out {
		return s.n.Local < s.peer
	}
	return s.peer < s.n.Local
}

func (n *Node) remove(s *session) {
	n.mu.Lock()
	delete(n.sessions, s)
	if n.byPeer[s.peer] == s {
		delete(n.byPeer, s.peer)
	}
	n.mu.Unlock()
}

// connected reports whether a session with peer name is up.
func (n *Node) connected(name string) bool {
	n.mu.Lock()
	defer n.mu.Unlock()
	return n.byPeer[name] != nil
}

// match returns the local table a peer's definition is for: same wire
// name, key type and key size (else HAProxy ignores the table too).
func (n *Node) match(d *TableDef) *shared {
	for _, sh := range n.tables {
		if sh.def.Name == d.Name && sh.def.KeyType == d.KeyType && sh.def.KeyLen == d.KeyLen {
			return sh
		}
	}
	return nil
}

// pushLoop sends the entries changed here to every session.
func (n *Node) pushLoop(ctx context.Context) {
	tk := time.NewTicker(pushEvery)
	defer tk.Stop()
	for {
		select {
		case <-ctx.Done():
			return
		case <-tk.C:
		}
		for _, sh := range n.tables {
			bt := batch{sh: sh, send: n.broadcast}
			sh.t.Changes(bt.add)
			_ = bt.flush()
		}
	}
}

// broadcast writes b to every session; a session that cannot take it is
// closed (it reconnects and is taught everything again).
func (n *Node) broadcast(b []byte) error {
	n.mu.Lock()
	ss := make([]*session, 0, len(n.sessions))
	for s := range n.sessions {
		ss = append(ss, s)
	}
	n.mu.Unlock()
	for _, s := range ss {
		if err := s.write(b); err != nil {
			s.c.Close() // its run loop ends and removes it
		}
	}
	return nil
}

// connectLoop keeps a session open to the remote peer name.
func (n *Node) connectLoop(ctx context.Context, name, addr string) {
	for {
		var err error
		if !n.connected(name) { // not while the peer's session is up
			err = n.connect(ctx, name, addr)
		}
		if ctx.Err() != nil {
			return
		}
		n.log.Debug("peers: session ended", "section", n.Section, "peer", name, "err", err)
		select {
		case <-ctx.Done():
			return
		case <-time.After(reconnectAfter):
		}
	}
}

func (n *Node) connect(ctx context.Context, name, addr string) error {
	d := net.Dialer{Timeout: silenceLimit}
	c, err := d.DialContext(ctx, "tcp", addr)
	if err != nil {
		return err
	}
	defer c.Close()
	stop := context.AfterFunc(ctx, func() { c.Close() })
	defer stop()
	c.SetDeadline(time.Now().Add(silenceLimit))
	if _, err := c.Write(AppendHello(nil, Hello{Major: Major, Minor: Minor, Remote: name, Local: n.Local, PID: os.Getpid(), RelPID: 1})); err != nil {
		return err
	}
	r := bufio.NewReader(c)
	st, err := ReadStatus(r)
	if err != nil {
		return err
	}
	if st != StatusOK {
		return fmt.Errorf("peers: %s answered %d", name, st)
	}
	c.SetDeadline(time.Time{})
	n.log.Info("peers: connected", "section", n.Section, "peer", name)
	s := &session{n: n, peer: name, c: c, r: r, out: true}
	return s.run()
}

// accept serves the sessions remote peers open.
func (n *Node) accept(ctx context.Context, ln net.Listener) {
	for {
		c, err := ln.Accept()
		if err != nil {
			if ctx.Err() != nil {
				return
			}
			time.Sleep(10 * time.Millisecond)
			continue
		}
		n.wg.Add(1)
		go func() {
			defer n.wg.Done()
			defer c.Close()
			stop := context.AfterFunc(ctx, func() { c.Close() })
			defer stop()
			err := n.serve(c)
			n.log.Debug("peers: incoming session ended", "section", n.Section, "err", err)
		}()
	}
}

// serve checks a peer's hello (HAProxy's status codes) and runs the
// session.
func (n *Node) serve(c net.Conn) error {
	c.SetDeadline(time.Now().Add(silenceLimit))
	r := bufio.NewReader(c)
	h, st, err := ReadHello(r)
	switch {
	case err != nil:
	case h.Remote != n.Local:
		st, err = StatusErrHost, fmt.Errorf("peers: hello for %q, this node is %q", h.Remote, n.Local)
	case n.Remotes[h.Local] == "":
		st, err = StatusErrPeer, fmt.Errorf("peers: %q is not a peer of section %s", h.Local, n.Section)
	}
	if _, werr := fmt.Fprintf(c, "%d\n", st); err != nil {
		return fmt.Errorf("%w (answered %d)", err, st)
	} else if werr != nil {
		return werr
	}
	c.SetDeadline(time.Time{})
	n.log.Info("peers: accepted", "section", n.Section, "peer", h.Local)
	s := &session{n: n, peer: h.Local, c: c, r: r}
	return s.run()
}
