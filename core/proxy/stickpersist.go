package proxy

import (
	"fmt"

	"github.com/varde-lb/varde/core"
	"github.com/varde-lb/varde/core/acl"
	"github.com/varde-lb/varde/core/config"
	"github.com/varde-lb/varde/core/sample"
	"github.com/varde-lb/varde/core/sticktable"
)

// Persistence by stick table (`stick on|match|store-request`), mode http,
// with HAProxy's order: a stickiness policy, then cookie persistence, then
// the stick match rules decide before the balancer; the store rules
// remember the server that answered, at the end of the transaction.

// StickRule is one compiled stick rule of a backend.
type StickRule struct {
	Match, Store bool
	Resp         bool // stick store-response: keyed on the response (stickresp.go)
	Key          *sample.Expr
	keySrc       bool
	TableName    string
	Table        *sticktable.Table
	Cond         Cond
}

// maxStores is HAProxy's limit of store rules applied per transaction.
const maxStores = 8

// stickStore is a key to store the answering server under.
type stickStore struct {
	t   *sticktable.Table
	key []byte
}

// stickRulesOf compiles a backend's stick lines.
func stickRulesOf(p *config.Proxy, set *acl.Set) ([]StickRule, error) {
	var out []StickRule
	for _, r := range p.Stick {
		e, err := sample.Parse(r.Key, sample.Options{})
		if err != nil {
			return nil, fmt.Errorf("%s: stick %s: %w", r.Pos, r.Kind, err)
		}
		sr := StickRule{Match: r.Kind == "on" || r.Kind == "match", Store: r.Kind != "match", Resp: r.Kind == "store-response", Key: e,
			keySrc: e.FetchName() == "src" && !e.HasConverters(), TableName: r.Table}
		if sr.TableName == "" {
			sr.TableName = p.Name
		}
		cond, err := CompileCondition(r.Cond, set)
		if err != nil {
			return nil, fmt.Errorf("%s: stick %s: %w", r.Pos, r.Kind, err)
		}
		if cond != nil {
			sr.Cond = cond
		}
		out = append(out, sr)
	}
	return out, nil
}

// ruleKey computes r's key for the request into buf.
func (r *StickRule) ruleKey(req core.Request, src *reqView, buf []byte) ([]byte, bool) {
	tr := TrackRule{Key: r.Key, keySrc: r.keySrc, Table: r.Table}
	return tr.trackKey(req, src.s.src, buf)
}

// stickMatch runs the backend's stick rules for req: it notes the keys
// to store and returns the server a match rule found, nil for none (the
// balancer decides). Called before each pick of the transaction.
func (b *Backend) stickMatch(req core.Request) *core.Server {
	rules := b.cfg.Stick
	if len(rules) == 0 {
		return nil
	}
	v, ok := req.(*reqView)
	if !ok {
		return nil
	}
	st := &v.s.st
	st.nstore, st.pickedID = 0, 0
	var found *core.Server
	var buf [64]byte
	for i := range rules {
		r := &rules[i]
		if r.Resp || r.Table == nil || r.Cond != nil && !r.Cond.Match(req) {
			continue
		}
		k, ok := r.ruleKey(req, v, buf[:0])
		if !ok {
			continue
		}
		if r.Match && found == nil {
			found = b.stuckServer(req, r.Table, k)
		}
		if r.Store && st.nstore < maxStores && !st.storesTable(r.Table) {
			s := &st.stores[st.nstore]
			s.t, s.key = r.Table, append(s.key[:0], k...)
			st.nstore++
		}
	}
	return found
}

// stuckServer is the server key's entry names when a match may send to
// it, nil when none.
func (b *Backend) stuckServer(req core.Request, t *sticktable.Table, k []byte) *core.Server {
	e := t.Lookup(k)
	if e == nil {
		return nil
	}
	id, ok := t.Read(e, sticktable.ServerID)
	if !ok || id == 0 {
		return nil
	}
	t.Touch(e)
	for _, cs := range b.Servers() {
		if cs.ID == int(id) {
			if b.stickAllowed(req, cs) {
				return cs
			}
			return nil // the balancer decides
		}
	}
	return nil // gone
}

// stickAllowed is HAProxy's rule for a stored server (process_sticking_
// rules): persistent traffic still goes to a server that is not stopped,
// draining or of weight 0 included; to a stopped one (down, or in
// maintenance) only with `option persist` or when `force-persist`
// matches. (Unlike its cookie persistence, HAProxy's stick match lets
// `option persist` reach a server in maintenance; the differential test
// pins it.)
func (b *Backend) stickAllowed(req core.Request, cs *core.Server) bool {
	if cs.IsUp() && cs.Admin() != core.AdminMaint || b.cfg.StickPersist {
		return true
	}
	return b.stickForced(req)
}

// stickForced reports whether a `force-persist` condition matches req in
// a backend with stick rules.
func (b *Backend) stickForced(req core.Request) bool {
	for _, c := range b.cfg.StickForce {
		if c.Match(req) {
			return true
		}
	}
	return false
}

// stickPersistOf reads `option persist` and `force-persist` for a
// backend's stick rules.
func stickPersistOf(bc *BackendConfig, p *config.Proxy, set *acl.Set) error {
	if len(bc.Stick) == 0 {
		return nil
	}
	bc.StickPersist = p.Option("persist") != nil
	for _, c := range p.ForcePersist {
		cond, err := CompileCondition(c, set)
		if err != nil {
			return fmt.Errorf("%s: force-persist: %w", c.Pos, err)
		}
		if cond != nil {
			bc.StickForce = append(bc.StickForce, cond)
		}
	}
	return nil
}

func (st *scState) storesTable(t *sticktable.Table) bool {
	for i := 0; i < st.nstore; i++ {
		if st.stores[i].t == t {
			return true
		}
	}
	return false
}

// stickPicked stores the picked server under the keys the store rules
// noted, before any byte goes to it: a client's next request finds it
// even when it comes before this transaction ends (HAProxy stores when
// the response head arrives, before the client has it). The end of the
// transaction stores again the server that answered (stickStoreServer),
// which a redispatch may have changed.
func (s *session) stickPicked(srv *server) {
	st := &s.st
	if st.nstore == 0 {
		return
	}
	st.pickedID = srv.ID
	st.storeServerID(srv.ID)
}

// storeServerID stores id under every key the store rules noted.
func (st *scState) storeServerID(id int) {
	for i := 0; i < st.nstore; i++ {
		sv := &st.stores[i]
		if e := sv.t.Get(sv.key); e != nil {
			sv.t.Set(e, sticktable.ServerID, uint64(id))
		}
	}
}

// stickStoreServer stores the server that answered under the keys the
// store rules noted (HAProxy's store rules run once the response came).
func (s *session) stickStoreServer() {
	st := &s.st
	if st.nstore == 0 {
		return
	}
	// Only a server other than the one stored at pick time (a
	// redispatch) is stored again: storing the same one now could undo
	// what a later transaction of the client stored meanwhile.
	if srv := s.tx.srv; srv != nil && s.rec.Status > 0 && srv.ID != st.pickedID {
		st.storeServerID(srv.ID)
	}
	st.nstore, st.pickedID = 0, 0
}

// stickTablesNeedServerID adds server_id to the tables stick rules use,
// as HAProxy does.
func stickTablesNeedServerID(c *config.Config, def sticktable.Def) sticktable.Def {
	for _, p := range c.Proxies {
		for _, r := range p.Stick {
			name := r.Table
			if name == "" {
				name = p.Name
			}
			if name != def.Name {
				continue
			}
			for _, s := range def.Store {
				if s.Type == sticktable.ServerID {
					return def
				}
			}
			def.Store = append([]sticktable.Store{{Type: sticktable.ServerID}}, def.Store...)
			return def
		}
	}
	return def
}
