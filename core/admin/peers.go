package admin

import (
	"errors"

	"github.com/varde-lb/varde/core/peers"
)

// `show peers [SECTION]`: the peers sections that replicate with remote
// peers and each session's state (docs/peers.md).

func parseShowPeers(w []string) (Command, error) {
	if len(w) > 1 {
		return Command{}, errors.New("Usage: show peers [<peers section>]")
	}
	c := Command{Op: OpShowPeers}
	if len(w) == 1 {
		c.Value = w[0]
	}
	return c, nil
}

// runPeers executes OpShowPeers; ok is false for other commands.
func (s *Server) runPeers(cmd Command) (string, bool) {
	if cmd.Op != OpShowPeers {
		return "", false
	}
	return peers.Show(peers.ForEngine(s.rt.Engine), cmd.Value), true
}
