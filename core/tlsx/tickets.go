package tlsx

import (
	"crypto/rand"
	"sync"
	"time"
)

// Session tickets: every config of a registry shares three keys, the
// newest encrypting, all three decrypting; a timer owned by the generation
// (Start/Stop) adds a fresh key each TicketRotation, so a ticket resumes
// for up to three periods. no-tls-tickets turns tickets off on its bind.

// TicketRotation is how often a new ticket key is made.
var TicketRotation = time.Hour

const ticketKeys = 3

type tickets struct {
	keys [][32]byte
	stop chan struct{}
	done sync.WaitGroup
}

func newKey() [32]byte {
	var k [32]byte
	rand.Read(k[:])
	return k
}

// apply gives the current keys to every config.
func (reg *Registry) applyTickets() {
	for _, b := range reg.binds {
		for _, c := range b.configs {
			c.SetSessionTicketKeys(reg.tickets.keys)
		}
	}
}

// StartTickets sets the first ticket key on every config and starts the
// rotation; StopTickets ends it. Call them with the engine's Start and
// Stop.
func (reg *Registry) StartTickets() {
	reg.mu.Lock()
	defer reg.mu.Unlock()
	if reg.tickets != nil {
		return
	}
	t := &tickets{keys: [][32]byte{newKey()}, stop: make(chan struct{})}
	reg.tickets = t
	reg.applyTickets()
	t.done.Add(1)
	go func() {
		defer t.done.Done()
		tick := time.NewTicker(TicketRotation)
		defer tick.Stop()
		for {
			select {
			case <-t.stop:
				return
			case <-tick.C:
				reg.rotate()
			}
		}
	}()
}

// rotate puts a new key first and drops the oldest beyond ticketKeys.
func (reg *Registry) rotate() {
	reg.mu.Lock()
	defer reg.mu.Unlock()
	t := reg.tickets
	keys := append([][32]byte{newKey()}, t.keys...)
	if len(keys) > ticketKeys {
		keys = keys[:ticketKeys]
	}
	t.keys = keys
	reg.applyTickets()
}

// StopTickets ends the rotation timer.
func (reg *Registry) StopTickets() {
	reg.mu.Lock()
	t := reg.tickets
	reg.mu.Unlock()
	if t == nil {
		return
	}
	select {
	case <-t.stop:
	default:
		close(t.stop)
	}
	t.done.Wait()
}

// TicketKeyCount is how many ticket keys are live (tests, show ssl).
func (reg *Registry) TicketKeyCount() int {
	reg.mu.Lock()
	defer reg.mu.Unlock()
	if reg.tickets == nil {
		return 0
	}
	return len(reg.tickets.keys)
}
