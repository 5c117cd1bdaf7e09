//go:build !linux

package proxy

// purgeLoopLanes: without event loops there are no loop lanes.
func (e *Engine) purgeLoopLanes(*server) {}
