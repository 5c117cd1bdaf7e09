//go:build !linux

package proxy

import "time"

const parkAfter = time.Hour

// parker is a no-op off Linux: idle connections keep their goroutine.
type parker struct{ conns map[int]*parked }

func newParker(*Engine) *parker     { return &parker{} }
func (p *parker) enabled() bool     { return false }
func (p *parker) canPark(any) bool  { return false }
func (p *parker) start()            {}
func (p *parker) park(*parked) bool { return false }
func (p *parker) closeAll()         {}
func (p *parker) release()          {}
func (e *Engine) Parked() int       { return 0 }

const loopParkAfter = parkAfter
