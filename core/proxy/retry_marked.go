package proxy

// on-marked-down and on-marked-up (HAProxy's srv_update_status): health
// changes reach the engine through Backend.Refresh; onMarked compares each
// server's health with the last one seen and ends sessions as configured.
// Only health counts, as in HAProxy: maintenance and drain set by an
// operator end nothing (`shutdown sessions server` does that).

// onMarked acts on the servers whose health changed since the last call.
// Concurrent calls (one per checker) each see a transition at most once.
func (b *Backend) onMarked() {
	for _, s := range b.srvs() {
		up := s.IsUp()
		if s.wasUp.Swap(up) == up {
			continue
		}
		// On a goroutine: a passive health verdict (observe + on-error)
		// arrives on an event loop's thread, and ShutdownSessions waits
		// for every loop, that one included.
		switch {
		case !up && s.onDown:
			go b.shutdownDown(s)
		case up && s.onUp && !s.Backup:
			go b.shutdownBackups(s)
		}
	}
}

// shutdownDown ends the sessions of s, marked down.
func (b *Backend) shutdownDown(s *server) {
	n := b.e.ShutdownSessions(s.Server)
	b.e.log.Info("on-marked-down: sessions shut down", "backend", b.Name, "server", s.Name, "sessions", n)
}

// shutdownBackups ends the sessions of every backup server of b, so that
// their clients come back to the active server s that is up again.
func (b *Backend) shutdownBackups(s *server) {
	n := 0
	for _, o := range b.srvs() {
		if o.Backup {
			n += b.e.ShutdownSessions(o.Server)
		}
	}
	b.e.log.Info("on-marked-up: backup sessions shut down", "backend", b.Name, "server", s.Name, "sessions", n)
}
