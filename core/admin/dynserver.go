package admin

import "errors"

// parseDynServer reads `add server B/S ADDR[:PORT] [options]` and `del
// server B/S` (HAProxy 2.6's dynamic servers) and refuses them: varde's
// backends fix their server list when a configuration generation is
// built (the balancers, the health checks, the persistence cookies and the
// state file are all derived from it), so a server added or removed on the
// socket would be half-known. The answer says what to do instead; nothing
// is changed.
func parseDynServer(w []string) (Command, error) {
	if w[0] == "add" {
		if len(w) < 4 {
			return Command{}, errors.New("'server' expects <name> and <addr>[:<port>] as arguments.")
		}
		if _, _, err := splitBS(w[2]); err != nil {
			return Command{}, err
		}
		return Command{}, errors.New("varde cannot add a server at runtime: add its `server` line to the configuration and reload (a reload keeps established connections).")
	}
	if len(w) != 3 {
		return Command{}, errors.New("Require 'backend/server'.")
	}
	if _, _, err := splitBS(w[2]); err != nil {
		return Command{}, err
	}
	return Command{}, errors.New("varde cannot delete a server at runtime: `disable server` it (no traffic, checks stop) and remove its line at the next reload.")
}
