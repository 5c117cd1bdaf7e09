package proxy

import (
	"errors"
	"fmt"
	"net/http"
	"sync"
	"testing"
	"time"

	"github.com/varde-lb/varde/core"
	"github.com/varde-lb/varde/core/testenv"
)

// boundQueueRig is a roundrobin backend of two servers, a (maxconn 1) and
// b (maxconn bMax), whose requests are bound to a server by an X-Srv
// header (the Lookup hook, as cookie persistence), and whose /hold
// requests block until released.
type boundQueueRig struct {
	be   *Backend
	addr string
	hold map[string]chan struct{}
	once map[string]*sync.Once
}

func newBoundQueueRig(t *testing.T, bMax int64) *boundQueueRig {
	r := &boundQueueRig{hold: map[string]chan struct{}{}, once: map[string]*sync.Once{}}
	var addrs []string
	for _, n := range []string{"a", "b"} {
		ch := make(chan struct{})
		r.hold[n], r.once[n] = ch, &sync.Once{}
		srv, _ := backend(t, n, func(w http.ResponseWriter, req *http.Request) {
			if req.URL.Path == "/hold" {
				<-ch
			}
			fmt.Fprint(w, n)
		})
		addrs = append(addrs, hostport(srv))
	}
	t.Cleanup(func() { r.release("a"); r.release("b") })
	cfg := simpleConfig(addrs...)
	bc := cfg.Backends[0]
	bc.Balance = core.BalanceSpec{Algorithm: "roundrobin"}
	bc.Servers[0].MaxConn, bc.Servers[1].MaxConn = 1, bMax
	bc.Timeouts.Queue = 4 * time.Second
	e, addr := startEngine(t, cfg)
	r.be, r.addr = e.Backend("be"), addr
	r.be.SetHook(&Hook{Lookup: func(req core.Request, servers []*core.Server) *core.Server {
		v, _ := req.Header("X-Srv")
		for _, s := range servers {
			if s.Name == "s1" && string(v) == "a" || s.Name == "s2" && string(v) == "b" {
				return s
			}
		}
		return nil
	}})
	return r
}

func (r *boundQueueRig) release(n string) { r.once[n].Do(func() { close(r.hold[n]) }) }

// send makes a request in the background; the channel gets its status and
// how long it took.
func (r *boundQueueRig) send(path, bound string) chan [2]any {
	out := make(chan [2]any, 1)
	go func() {
		start := time.Now()
		req, _ := http.NewRequest("GET", "http://"+r.addr+path, nil)
		if bound != "" {
			req.Header.Set("X-Srv", bound)
		}
		resp, err := http.DefaultClient.Do(req)
		st := 0
		if err == nil {
			st = resp.StatusCode
			resp.Body.Close()
		}
		out <- [2]any{st, time.Since(start)}
	}()
	return out
}

func (r *boundQueueRig) waitQueued(t *testing.T, n int64) {
	t.Helper()
	if err := testenv.Until(3*time.Second, 5*time.Millisecond, func() error {
		if q := r.be.Queued.Load(); q != n {
			return fmt.Errorf("queued %d, want %d", q, n)
		}
		return nil
	}); err != nil {
		t.Fatal(err)
	}
}

func wantQuick(t *testing.T, what string, c chan [2]any, within time.Duration) {
	t.Helper()
	select {
	case got := <-c:
		if got[0] != 200 {
			t.Fatalf("%s: status %v", what, got[0])
		}
	case <-time.After(within):
		t.Fatalf("%s: no answer within %v (stuck in the queue)", what, within)
	}
}

// TestQueueBoundWaiterDoesNotBlockOthers: as HAProxy, a request bound to
// a full server waits in that server's queue, so roundrobin's "queue
// behind the queued requests" rule does not hold back new requests that
// another server has room for.
func TestQueueBoundWaiterDoesNotBlockOthers(t *testing.T) {
	r := newBoundQueueRig(t, 10)
	r1 := r.send("/hold", "a")
	if err := testenv.Until(3*time.Second, 5*time.Millisecond, func() error {
		if r.be.Servers()[0].Active.Load() != 1 {
			return errors.New("r1 not on a yet")
		}
		return nil
	}); err != nil {
		t.Fatal(err)
	}
	r2 := r.send("/", "a") // a is full: queued, bound to a
	r.waitQueued(t, 1)
	wantQuick(t, "r3 (unbound)", r.send("/", ""), 1500*time.Millisecond)
	wantQuick(t, "r4 (unbound)", r.send("/", ""), 1500*time.Millisecond)
	if q := r.be.Servers()[0].Queued.Load(); q != 1 {
		t.Fatalf("server a queue %d, want 1", q)
	}
	r.release("a")
	wantQuick(t, "r1", r1, 3*time.Second)
	wantQuick(t, "r2 (bound to a)", r2, 3*time.Second)
	if q, sq := r.be.Queued.Load(), r.be.Servers()[0].Queued.Load(); q != 0 || sq != 0 || r.be.qBound.Load() != 0 {
		t.Fatalf("after: backend queue %d, server queue %d, bound %d", q, sq, r.be.qBound.Load())
	}
}

// TestQueueSlotGoesToAWaiterThatCanUseIt: a slot freed on b goes to an
// unbound waiter, not to the oldest one bound to the still full a (which
// would leave b's slot unused until timeout queue).
func TestQueueSlotGoesToAWaiterThatCanUseIt(t *testing.T) {
	r := newBoundQueueRig(t, 1)
	r1 := r.send("/hold", "a")
	r2 := r.send("/hold", "b")
	if err := testenv.Until(3*time.Second, 5*time.Millisecond, func() error {
		if r.be.Servers()[0].Active.Load() != 1 || r.be.Servers()[1].Active.Load() != 1 {
			return errors.New("a and b not both busy yet")
		}
		return nil
	}); err != nil {
		t.Fatal(err)
	}
	r3 := r.send("/", "a") // oldest waiter, bound to a
	r.waitQueued(t, 1)
	r4 := r.send("/", "") // unbound, every server full
	r.waitQueued(t, 2)
	r.release("b")
	wantQuick(t, "r2", r2, 3*time.Second)
	wantQuick(t, "r4 (unbound, b's slot)", r4, 1500*time.Millisecond)
	r.release("a")
	wantQuick(t, "r1", r1, 3*time.Second)
	wantQuick(t, "r3 (bound to a)", r3, 3*time.Second)
}
