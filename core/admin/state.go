package admin

import (
	"encoding/json"
	"fmt"
	"os"
	"path/filepath"
	"sort"
	"sync"

	"github.com/varde-lb/varde/core"
	"github.com/varde-lb/varde/core/health"
)

// ServerState is what an operator changed on one server at runtime.
type ServerState struct {
	Admin   string `json:"admin,omitempty"`   // drain or maint; absent = ready
	Weight  *int   `json:"weight,omitempty"`  // set weight
	MaxConn *int64 `json:"maxconn,omitempty"` // set maxconn server
	// The configured values when Weight and MaxConn were set: a
	// configuration that changes them since wins (HAProxy's
	// server-state-file rule). Absent in older files: always reapplied.
	ConfWeight  *int   `json:"conf_weight,omitempty"`
	ConfMaxConn *int64 `json:"conf_maxconn,omitempty"`
}

// StateStore keeps runtime changes keyed by "backend/server" and writes them
// to a JSON file (atomically, by rename) so the next configuration
// generation, after a reload or restart, reapplies them.
type StateStore struct {
	path string
	mu   sync.Mutex
	m    map[string]ServerState
}

// NewStateStore returns an empty store writing to path ("" = memory only).
func NewStateStore(path string) *StateStore {
	return &StateStore{path: path, m: map[string]ServerState{}}
}

func key(s *core.Server) string { return s.Backend + "/" + s.Name }

// SetAdmin records an admin state change.
func (st *StateStore) SetAdmin(s *core.Server, a core.AdminState) {
	st.update(s, func(v *ServerState) {
		v.Admin = ""
		if a != core.AdminReady {
			v.Admin = a.String()
		}
	})
}

// SetWeight records a weight change; the configured weight clears it.
func (st *StateStore) SetWeight(s *core.Server, w int) {
	st.update(s, func(v *ServerState) {
		v.Weight, v.ConfWeight = nil, nil
		if w != s.ConfigWeight {
			cw := s.ConfigWeight
			v.Weight, v.ConfWeight = &w, &cw
		}
	})
}

// SetMaxConn records a maxconn change; the configured value clears it.
func (st *StateStore) SetMaxConn(s *core.Server, n int64) {
	st.update(s, func(v *ServerState) {
		v.MaxConn, v.ConfMaxConn = nil, nil
		if n != s.ConfigMaxConn {
			cm := s.ConfigMaxConn
			v.MaxConn, v.ConfMaxConn = &n, &cm
		}
	})
}

func (st *StateStore) update(s *core.Server, f func(*ServerState)) {
	st.mu.Lock()
	defer st.mu.Unlock()
	v := st.m[key(s)]
	f(&v)
	if v == (ServerState{}) {
		delete(st.m, key(s))
		return
	}
	st.m[key(s)] = v
}

// Snapshot copies the recorded changes.
func (st *StateStore) Snapshot() map[string]ServerState {
	st.mu.Lock()
	defer st.mu.Unlock()
	out := make(map[string]ServerState, len(st.m))
	for k, v := range st.m {
		out[k] = v
	}
	return out
}

// Save writes the file (no-op without a path).
func (st *StateStore) Save() error {
	if st.path == "" {
		return nil
	}
	st.mu.Lock()
	keys := make([]string, 0, len(st.m))
	for k := range st.m {
		keys = append(keys, k)
	}
	sort.Strings(keys)
	ordered := make(map[string]ServerState, len(keys))
	for _, k := range keys {
		ordered[k] = st.m[k]
	}
	data, err := json.MarshalIndent(map[string]any{"version": 1, "servers": ordered}, "", "  ")
	st.mu.Unlock()
	if err != nil {
		return err
	}
	tmp, err := os.CreateTemp(filepath.Dir(st.path), filepath.Base(st.path)+".tmp*")
	if err != nil {
		return fmt.Errorf("admin: state file: %w", err)
	}
	if _, err := tmp.Write(append(data, '\n')); err != nil {
		tmp.Close()
		os.Remove(tmp.Name())
		return fmt.Errorf("admin: state file: %w", err)
	}
	if err := tmp.Close(); err != nil {
		os.Remove(tmp.Name())
		return err
	}
	if err := os.Rename(tmp.Name(), st.path); err != nil {
		os.Remove(tmp.Name())
		return fmt.Errorf("admin: state file: %w", err)
	}
	return nil
}

// Load reads the file; a missing file is an empty state.
func (st *StateStore) Load() error {
	if st.path == "" {
		return nil
	}
	data, err := os.ReadFile(st.path)
	if os.IsNotExist(err) {
		return nil
	}
	if err != nil {
		return fmt.Errorf("admin: state file: %w", err)
	}
	var f struct {
		Servers map[string]ServerState `json:"servers"`
	}
	if err := json.Unmarshal(data, &f); err != nil {
		return fmt.Errorf("admin: state file %s: %w", st.path, err)
	}
	st.mu.Lock()
	defer st.mu.Unlock()
	st.m = map[string]ServerState{}
	for k, v := range f.Servers {
		st.m[k] = v
	}
	return nil
}

// Apply reapplies recorded changes to the servers of a new generation and
// forgets entries whose server no longer exists. It returns how many
// servers were changed.
func (st *StateStore) Apply(servers []*core.Server, h *health.Manager) int {
	byKey := map[string]*core.Server{}
	for _, s := range servers {
		byKey[key(s)] = s
	}
	n := 0
	for k, v := range st.Snapshot() {
		s := byKey[k]
		if s == nil {
			st.mu.Lock()
			delete(st.m, k)
			st.mu.Unlock()
			continue
		}
		n++
		if v.Weight != nil && (v.ConfWeight == nil || *v.ConfWeight == s.ConfigWeight) {
			if h != nil {
				h.SetWeight(s, *v.Weight)
			} else {
				s.SetWeight(*v.Weight)
			}
		}
		if v.MaxConn != nil && (v.ConfMaxConn == nil || *v.ConfMaxConn == s.ConfigMaxConn) {
			s.SetMaxConn(*v.MaxConn)
		}
		a := core.AdminReady
		switch v.Admin {
		case "drain":
			a = core.AdminDrain
		case "maint":
			a = core.AdminMaint
		}
		if a != s.Admin() {
			if h != nil {
				h.SetAdmin(s, a)
			} else {
				s.SetAdmin(a)
			}
		}
	}
	return n
}

// Adopt takes over prev's recorded changes (a reload whose store keeps no
// file: what the running generation recorded stays known).
func (st *StateStore) Adopt(prev *StateStore) {
	m := prev.Snapshot()
	st.mu.Lock()
	defer st.mu.Unlock()
	for k, v := range m {
		st.m[k] = v
	}
}
