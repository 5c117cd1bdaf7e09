package admin

import (
	"errors"

	"github.com/varde-lb/varde/core"
)

// parseDynServer reads `add server B/S ADDR[:PORT] [options]` and `del
// server B/S` (HAProxy 2.6's dynamic servers). runDynServer answers them.
func parseDynServer(w []string) (Command, error) {
	if w[0] == "add" {
		if len(w) < 4 {
			return Command{}, errors.New("'server' expects <name> and <addr>[:<port>] as arguments.")
		}
		b, s, err := splitBS(w[2])
		if err != nil {
			return Command{}, err
		}
		return Command{Op: OpAddServer, Backend: b, Server: s, Value: w[3]}, nil
	}
	if len(w) != 3 {
		return Command{}, errors.New("Require 'backend/server'.")
	}
	b, s, err := splitBS(w[2])
	if err != nil {
		return Command{}, err
	}
	return Command{Op: OpDelServer, Backend: b, Server: s}, nil
}

// Refusals of add/del server once HAProxy's own checks pass: varde's
// backends fix their server list when a configuration generation is built
// (balancers, health checks, persistence cookies and the state file all
// derive from it), so a server added or removed on the socket would be
// half-known. Nothing is changed.
const (
	refuseAdd = "varde cannot add a server at runtime: add its `server` line to the configuration and reload (a reload keeps established connections).\n"
	refuseDel = "varde cannot delete a server at runtime: keep it disabled (no traffic, checks stopped) and remove its line at the next reload.\n"
)

// runDynServer answers add/del server: first HAProxy 2.6's answers for a
// missing backend or server, a server not in maintenance or still
// connected (so scripts see the same errors), then varde's refusal; ok is
// false for any other command.
func (s *Server) runDynServer(cmd Command) (out string, ok bool) {
	if cmd.Op != OpAddServer && cmd.Op != OpDelServer {
		return "", false
	}
	sv, msg := s.find(s.rt.Source.Snapshot(), cmd.Backend, cmd.Server)
	if cmd.Op == OpAddServer {
		if msg == "No such backend.\n" {
			return msg, true
		}
		if sv != nil {
			return "Already exists a server with the same name in backend.\n", true
		}
		return refuseAdd, true
	}
	switch {
	case sv == nil:
		return msg, true
	case sv.Admin() != core.AdminMaint:
		return "Only servers in maintenance mode can be deleted.\n", true
	case sv.Active.Load() > 0 || sv.Queued.Load() > 0:
		return "Server still has connections attached to it, cannot remove it.\n", true
	}
	return refuseDel, true
}
