package wasm

import (
	"sync"
	"sync/atomic"
)

// pool holds idle instances in a fixed set of slots taken and returned
// with atomic swaps: no lock on the request path, and (unlike sync.Pool)
// the garbage collector never empties it, which matters because building
// a Go-built instance costs milliseconds. A caller finding every slot
// empty builds an instance; one returning to a full pool closes it.
type pool struct {
	p     *Policy
	slots []atomic.Pointer[instance]
	next  atomic.Uint32
	// refilling is set while a goroutine replaces dropped instances;
	// refills lets Close wait for it (wazero must not close a runtime
	// while an instance of it is starting).
	refilling atomic.Bool
	refills   sync.WaitGroup
}

// init fills every slot, so compile fails on a module that cannot start
// and the first requests find warm instances.
func (pl *pool) init(p *Policy, n int) error {
	pl.p, pl.slots = p, make([]atomic.Pointer[instance], n)
	for i := range pl.slots {
		in, err := p.newInstance()
		if err != nil {
			pl.drain()
			return err
		}
		pl.slots[i].Store(in)
	}
	return nil
}

func (pl *pool) get() (*instance, error) {
	n := uint32(len(pl.slots))
	start := pl.next.Add(1)
	for i := range n {
		if in := pl.slots[(start+i)%n].Swap(nil); in != nil {
			return in, nil
		}
	}
	return pl.p.newInstance()
}

// put returns a caller's instance (see Policy.take).
func (pl *pool) put(in *instance) {
	defer pl.p.inflight.Add(-1)
	pl.store(in)
}

// store pools in, or closes it when the pool is full or closed.
func (pl *pool) store(in *instance) {
	in.reset()
	if !pl.p.closed.Load() {
		for i := range pl.slots {
			if pl.slots[i].CompareAndSwap(nil, in) {
				// Close raced with us: whoever drains next closes it.
				if pl.p.closed.Load() {
					pl.drain()
				}
				return
			}
		}
	}
	in.close()
}

// discard drops an instance whose call failed: its state is unknown (a
// trap mid-update, a closed module after a timeout). A replacement is
// built off the request path, so the next caller does not pay a Go guest's
// start-up (milliseconds).
func (pl *pool) discard(in *instance) {
	defer pl.p.inflight.Add(-1)
	in.close()
	if pl.refilling.CompareAndSwap(false, true) {
		pl.refills.Add(1)
		go pl.refill()
	}
}

// refill builds instances until no slot is empty or the policy closes.
func (pl *pool) refill() {
	defer pl.refills.Done()
	defer pl.refilling.Store(false)
	for !pl.p.closed.Load() && pl.empty() {
		in, err := pl.p.newInstance()
		if err != nil {
			return // the next get tries again and reports it
		}
		pl.store(in)
	}
}

func (pl *pool) empty() bool {
	for i := range pl.slots {
		if pl.slots[i].Load() == nil {
			return true
		}
	}
	return false
}

func (pl *pool) drain() {
	for i := range pl.slots {
		if in := pl.slots[i].Swap(nil); in != nil {
			in.close()
		}
	}
}
