package pool

import (
	"net/netip"
	"sync"
	"testing"

	"github.com/google/go-cmp/cmp"

	"github.com/varde-lb/varde/core"
)

// recorder is a minimal balancer that records the pools it is given and
// picks the first non-skipped server.
type recorder struct {
	mu      sync.Mutex
	updates [][]string
	pool    []*core.Server
}

func (r *recorder) Update(pool []*core.Server) {
	r.mu.Lock()
	defer r.mu.Unlock()
	var names []string
	for _, s := range pool {
		names = append(names, s.Name)
	}
	r.updates = append(r.updates, names)
	r.pool = pool
}

func (r *recorder) Pick(ctx *core.PickContext) *core.Server {
	r.mu.Lock()
	defer r.mu.Unlock()
	for _, s := range r.pool {
		if !ctx.Skip(s) {
			return s
		}
	}
	return nil
}

func (r *recorder) last() []string {
	r.mu.Lock()
	defer r.mu.Unlock()
	return r.updates[len(r.updates)-1]
}

func servers() []*core.Server {
	mk := func(name string, id int, backup bool) *core.Server {
		s := core.NewServer("be", name, id, netip.MustParseAddrPort("127.0.0.1:1"), 1, 0)
		s.Backup = backup
		return s
	}
	return []*core.Server{mk("a1", 1, false), mk("b1", 2, true), mk("a2", 3, false), mk("b2", 4, true), mk("b3", 5, true)}
}

func TestPoolTiers(t *testing.T) {
	for _, all := range []bool{false, true} {
		ss := servers()
		rec := &recorder{}
		p := New("be", ss, rec, all)
		steps := []struct {
			do         func()
			want       []string
			wantBackup bool
		}{
			{func() {}, []string{"a1", "a2"}, false},
			{func() { ss[0].SetHealth(core.HealthDown) }, []string{"a2"}, false},
			{func() { ss[2].SetAdmin(core.AdminMaint) }, map[bool][]string{false: {"b1"}, true: {"b1", "b2", "b3"}}[all], true},
			{func() { ss[1].SetHealth(core.HealthDown) }, map[bool][]string{false: {"b2"}, true: {"b2", "b3"}}[all], true},
			{func() { ss[3].SetWeight(0); ss[4].SetAdmin(core.AdminDrain) }, nil, false},
			{func() { ss[0].SetHealth(core.HealthGoingDown) }, []string{"a1"}, false}, // still takes traffic
		}
		for i, st := range steps {
			st.do()
			p.Refresh()
			got := rec.last()
			if diff := cmp.Diff(st.want, got); diff != "" {
				t.Errorf("allbackups=%v step %d (-want +got):\n%s", all, i, diff)
			}
			if p.UsingBackup() != st.wantBackup {
				t.Errorf("allbackups=%v step %d: UsingBackup=%v", all, i, p.UsingBackup())
			}
		}
	}
}

func TestRefreshOnlyOnChange(t *testing.T) {
	ss := servers()
	rec := &recorder{}
	p := New("be", ss, rec, false)
	if p.Refresh() || p.Refresh() {
		t.Error("Refresh without change reported a change")
	}
	ss[0].SetWeight(5)
	if !p.Refresh() {
		t.Error("weight change not propagated")
	}
	if got := p.Updates(); got != 2 {
		t.Errorf("Updates = %d, want 2", got)
	}
	ss[0].Active.Add(3) // load is not pool membership
	if p.Refresh() {
		t.Error("load change caused an Update")
	}
}

func TestAcquireRelease(t *testing.T) {
	ss := servers()
	ss[0].SetMaxConn(1)
	p := New("be", ss, &recorder{}, false)
	ctx := &core.PickContext{}
	s1 := p.Acquire(ctx)
	s2 := p.Acquire(ctx)
	if s1 != ss[0] || s2 != ss[2] {
		t.Fatalf("got %v %v, want a1 then a2 (a1 full)", s1.Name, s2.Name)
	}
	if ss[0].Active.Load() != 1 || ss[0].MaxActive.Load() != 1 {
		t.Errorf("a1 active=%d max=%d", ss[0].Active.Load(), ss[0].MaxActive.Load())
	}
	p.Release(s1)
	if ss[0].Active.Load() != 0 {
		t.Error("Release did not decrement")
	}
	if s := p.Acquire(&core.PickContext{Exclude: ss[0]}); s != ss[2] {
		t.Errorf("Exclude ignored: got %s", s.Name)
	}
}

func TestConcurrentRefreshAndPick(t *testing.T) {
	ss := servers()
	p := New("be", ss, &recorder{}, true)
	var wg sync.WaitGroup
	stop := make(chan struct{})
	for range 4 {
		wg.Add(1)
		go func() {
			defer wg.Done()
			ctx := &core.PickContext{}
			for {
				select {
				case <-stop:
					return
				default:
				}
				if s := p.Acquire(ctx); s != nil {
					p.Release(s)
				}
				_ = p.Current()
			}
		}()
	}
	for i := range 2000 {
		ss[i%len(ss)].SetHealth(core.Health(i % 2))
		ss[(i+1)%len(ss)].SetWeight(i % 3)
		p.Refresh()
	}
	close(stop)
	wg.Wait()
}
