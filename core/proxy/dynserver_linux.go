package proxy

import "time"

// purgeLoopLanes closes a deleted server's idle connections held by the
// event loops, each on its own loop's thread (only it touches its lane).
func (e *Engine) purgeLoopLanes(srv *server) {
	for _, l := range e.loops {
		done := make(chan struct{})
		if l.post(func() { srv.purgeLane(l.idx, time.Now().Add(time.Hour)); close(done) }) {
			<-done
		}
	}
}
