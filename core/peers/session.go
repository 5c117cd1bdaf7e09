package peers

import (
	"bufio"
	"errors"
	"fmt"
	"net"
	"sync"
	"sync/atomic"
	"time"

	"github.com/varde-lb/varde/core/sticktable"
)

// Timers of HAProxy 2.6's peers (src/peers.c).
const (
	heartbeatEvery = 3 * time.Second // PEER_HEARTBEAT_TIMEOUT
	silenceLimit   = 5 * time.Second // PEER_RECONNECT_TIMEOUT: nothing heard for this long ends a session
	reconnectAfter = 5 * time.Second
	writeTimeout   = 5 * time.Second
)

// shared is one local table replicated with a section's peers.
type shared struct {
	t   *sticktable.Table
	def TableDef // this node's definition (ID, wire name, key, data)
	// serverName names the server of a server_id, for server_key (nil:
	// the table has no stick rules, so no server_key).
	serverName func(id uint64) (string, bool)
	mu         sync.Mutex
	upd        uint32 // the last update id sent
}

// nextID returns the id of the next update of the table.
func (s *shared) nextID() uint32 {
	s.mu.Lock()
	defer s.mu.Unlock()
	s.upd++
	return s.upd
}

// session is one established connection with a remote peer.
type session struct {
	n    *Node
	peer string
	c    net.Conn
	r    *bufio.Reader
	out  bool // this node dialed the peer
	wmu  sync.Mutex
	// the remote side's table definitions by its ids, and the one the
	// next updates are for
	remote  map[uint64]*remoteTable
	current *remoteTable
	// resyncing: a resync asked by the peer is being sent; further
	// requests meanwhile are covered by it (it sends every entry, and
	// later changes are pushed), so a peer cannot multiply the output.
	resyncing atomic.Bool
	bg        sync.WaitGroup // the resync being sent
}

type remoteTable struct {
	def   *TableDef
	local *shared // nil: no such table here, or another key: updates ignored
	ack   uint32  // the last update id applied, to acknowledge
	acked bool
}

func (s *session) write(b []byte) error {
	s.wmu.Lock()
	defer s.wmu.Unlock()
	s.c.SetWriteDeadline(time.Now().Add(writeTimeout))
	_, err := s.c.Write(b)
	return err
}

// run serves an established session until it fails or the node stops:
// it teaches the peer every entry, then pushes changes (Node.push) and
// applies what the peer sends.
func (s *session) run() error {
	s.remote = map[uint64]*remoteTable{}
	done := make(chan struct{})
	defer close(done)
	defer s.bg.Wait()
	defer s.c.Close() // ends a resync being written
	go s.heartbeats(done)
	// Registered first: a change made while the tables are taught is
	// pushed after them rather than lost.
	if !s.n.add(s) {
		return errors.New("peers: a session with " + s.peer + " is up")
	}
	defer s.n.remove(s)
	// Taught while reading: two nodes teaching each other large tables
	// would otherwise both block writing, neither reading.
	taught := make(chan error, 1)
	go func() { taught <- s.teachAndAsk() }()
	for {
		select {
		case err := <-taught:
			if err != nil {
				return err
			}
		default:
		}
		s.c.SetReadDeadline(time.Now().Add(silenceLimit))
		m, err := ReadMessage(s.r, MaxMessage)
		if errors.Is(err, ErrTooBig) {
			_ = s.write(AppendMessage(nil, ClassError, ErrSizeLimit, nil))
			return err
		}
		if err != nil {
			return err
		}
		if err := s.handle(m); err != nil {
			_ = s.write(AppendMessage(nil, ClassError, ErrProtocol, nil))
			return err
		}
		if s.r.Buffered() == 0 {
			if err := s.flushAcks(); err != nil {
				return err
			}
		}
	}
}

func (s *session) heartbeats(done <-chan struct{}) {
	tk := time.NewTicker(heartbeatEvery)
	defer tk.Stop()
	for {
		select {
		case <-done:
			return
		case <-tk.C:
			if s.write(AppendMessage(nil, ClassControl, CtrlHeartbeat, nil)) != nil {
				s.c.Close()
				return
			}
		}
	}
}

// teachAndAsk teaches the peer, then asks it for a full resync when this
// node starts afresh (not a reload, whose tables were adopted).
func (s *session) teachAndAsk() error {
	if err := s.teach(); err != nil {
		return err
	}
	if !s.n.inherited && s.n.resyncAsked.CompareAndSwap(false, true) {
		return s.write(AppendMessage(nil, ClassControl, CtrlResyncReq, nil))
	}
	return nil
}

// teach sends every entry of every table (a full resync).
func (s *session) teach() error {
	for _, sh := range s.n.tables {
		bt := batch{sh: sh, send: s.write}
		sh.t.Each(bt.add)
		if err := bt.flush(); err != nil {
			return err
		}
	}
	return nil
}

// batchSize bounds one write of updates.
const batchSize = 64 << 10

// batch encodes updates of one table into writes of about batchSize,
// each starting with the table's definition: writes of other tables
// (pushes, heartbeats) may come between two, and the receiver applies an
// update to the table last defined.
type batch struct {
	sh   *shared
	send func([]byte) error
	b    []byte
	err  error
}

func (bt *batch) add(snap *sticktable.Snapshot) {
	if bt.err != nil {
		return
	}
	if bt.b == nil {
		bt.b = AppendTableDef(nil, &bt.sh.def)
	}
	bt.b = appendSnapshot(bt.b, bt.sh, snap)
	if len(bt.b) >= batchSize {
		bt.err = bt.flush()
	}
}

func (bt *batch) flush() error {
	if bt.err != nil || bt.b == nil {
		return bt.err
	}
	err := bt.send(bt.b)
	bt.b = nil
	return err
}

// handle treats one message from the peer.
func (s *session) handle(m Message) error {
	switch m.Class {
	case ClassControl:
		return s.control(m.Type)
	case ClassError:
		return fmt.Errorf("peers: %s reported an error (%d)", s.peer, m.Type)
	case ClassStickTable:
		return s.stickTable(m)
	case ClassReserved:
		return errors.New("peers: reserved message class")
	}
	return nil // unknown classes are skipped, as HAProxy does
}

func (s *session) control(typ byte) error {
	switch typ {
	case CtrlResyncReq: // the peer asks for everything this node knows
		s.resync()
	case CtrlResyncFinished, CtrlResyncPartial:
		return s.write(AppendMessage(nil, ClassControl, CtrlResyncConfirm, nil))
	}
	return nil // confirm, heartbeat
}

// resync sends the peer every entry then ResyncFinished, outside the
// reader (which keeps reading while it is written), unless a resync is
// already being sent.
func (s *session) resync() {
	if !s.resyncing.CompareAndSwap(false, true) {
		return
	}
	s.bg.Add(1)
	go func() {
		defer s.bg.Done()
		defer s.resyncing.Store(false)
		err := s.teach()
		if err == nil {
			err = s.write(AppendMessage(nil, ClassControl, CtrlResyncFinished, nil))
		}
		if err != nil {
			s.c.Close() // the reader ends the session
		}
	}()
}

func (s *session) stickTable(m Message) error {
	switch m.Type {
	case StktDefine:
		def, err := ParseTableDef(m.Data)
		if err != nil {
			return err
		}
		s.define(def)
	case StktSwitch:
		id, _, err := Varint(m.Data)
		if err != nil {
			return err
		}
		s.current = s.remote[id]
	case StktUpdate, StktIncUpdate, StktUpdateTimed, StktIncUpdateTimed:
		return s.update(m)
	}
	return nil // acks: this node resends nothing, it teaches all on connect
}

// define records the peer's definition of a table when it is for a
// local table, so the map holds at most one entry per local table: a peer
// defining many tables (or one under many ids) costs no memory here.
// Updates of a table not kept are ignored (current is nil).
func (s *session) define(def *TableDef) {
	local := s.n.match(def)
	if local == nil {
		s.current = nil
		return
	}
	for id, rt := range s.remote {
		if rt.local == local && id != def.ID {
			delete(s.remote, id)
		}
	}
	rt := &remoteTable{def: def, local: local}
	s.remote[def.ID], s.current = rt, rt
}

func (s *session) update(m Message) error {
	rt := s.current
	if rt == nil {
		return nil
	}
	u, err := ParseUpdate(m.Type, rt.def, m.Data)
	if err != nil {
		return err
	}
	if u.HasID {
		rt.ack = u.ID
	} else {
		rt.ack++
	}
	rt.acked = false
	if rt.local != nil {
		applyUpdate(rt.local, rt.def, u)
	}
	return nil
}

func (s *session) flushAcks() error {
	var b []byte
	for _, rt := range s.remote {
		if !rt.acked {
			b = AppendAck(b, Ack{TableID: rt.def.ID, Update: rt.ack})
			rt.acked = true
		}
	}
	if len(b) == 0 {
		return nil
	}
	return s.write(b)
}

// appendSnapshot encodes one entry as an update of table sh.
func appendSnapshot(b []byte, sh *shared, snap *sticktable.Snapshot) []byte {
	u := Update{ID: sh.nextID(), HasID: true, Key: wireKey(sh, snap.Key)}
	for dt := range NumDataTypes {
		if !sh.def.Has(dt) {
			continue
		}
		v := Value{Type: dt}
		if dt == DTServerKey {
			v.Dict = serverKey(sh, snap.Vals[DTServerID])
		} else if IsFreq(dt) {
			f := snap.Freqs[dt]
			v.Freq = Freq{Age: uint64(f.Age), Curr: f.Cur, Prev: f.Prev}
		} else {
			v.Int = snap.Vals[dt]
		}
		u.Values = append(u.Values, v)
	}
	return AppendUpdate(b, &sh.def, &u)
}

// serverKey encodes the server_key of server id: always the full
// dictionary entry (its cache slot, 1 to 128, then the name), which the
// receiver stores in that slot, so no per-peer cache state is needed;
// nil (no entry) for an unknown id.
func serverKey(sh *shared, id uint64) []byte {
	name, ok := sh.serverName(id)
	if !ok {
		return nil
	}
	h := uint32(2166136261)
	for i := 0; i < len(name); i++ {
		h = (h ^ uint32(name[i])) * 16777619
	}
	b := AppendVarint(nil, uint64(h%dictSlots)+1)
	b = AppendVarint(b, uint64(len(name)))
	return append(b, name...)
}

// dictSlots is the size of HAProxy's dictionary cache
// (PEER_STKT_CACHE_MAX_ENTRIES): slot numbers above it are not accepted.
const dictSlots = 128

// wireKey is the key as HAProxy sends it: strings as they are (up to
// the key size less the NUL), others as stored.
func wireKey(sh *shared, k []byte) []byte {
	if sh.def.KeyType == KeyStr && sh.def.KeyLen > 0 && uint64(len(k)) > sh.def.KeyLen-1 {
		return k[:sh.def.KeyLen-1]
	}
	return k
}

// applyUpdate stores a peer's update in the local table: the data types
// both sides store take the peer's values.
func applyUpdate(sh *shared, def *TableDef, u *Update) {
	var snap sticktable.Snapshot
	for _, v := range u.Values {
		if v.Type >= DTServerKey { // types varde does not store
			continue
		}
		if IsFreq(v.Type) {
			snap.Freqs[v.Type] = sticktable.FreqState{Age: int64(min(v.Freq.Age, 1<<31)), Cur: v.Freq.Curr, Prev: v.Freq.Prev}
		} else {
			snap.Vals[v.Type] = v.Int
		}
	}
	key := u.Key
	if def.KeyType == KeyStr && sh.def.KeyLen > 0 && uint64(len(key)) > sh.def.KeyLen-1 {
		key = key[:sh.def.KeyLen-1]
	}
	sh.t.Apply(key, &snap, func(d sticktable.DataType) bool { return def.Has(int(d)) })
}
