//go:build !linux

package main

import (
	"errors"
	"log/slog"
	"os"

	"github.com/varde-lb/varde/core/generation"
)

// dropPrivileges is built on Linux only (capabilities). Elsewhere a root
// varde asked to become another user refuses rather than run on as root.
func dropPrivileges(g *generation.Generation, log *slog.Logger) error {
	h := g.HAProxy()
	if h == nil || os.Geteuid() != 0 {
		return nil
	}
	if _, ok, err := wantedIdentity(&h.Global); err != nil || !ok {
		return err
	}
	return errors.New("global user/group: switching users is built on Linux only; start varde as that user")
}
