package vip

import (
	"context"
	"log/slog"
	"os/exec"
	"strconv"
	"sync"
	"time"

	"github.com/varde-lb/varde/core/config/keepalived"
)

// notifier runs notify scripts asynchronously, each under a timeout, so a
// slow script never delays an advert.
type notifier struct {
	in      *keepalived.Instance
	log     *slog.Logger
	timeout time.Duration
	wg      sync.WaitGroup
}

// notify starts the scripts for state s: notify_master|backup|fault|stop as
// written, and `notify` with keepalived's arguments INSTANCE NAME STATE PRIORITY.
func (n *notifier) notify(ctx context.Context, s State, prio uint8) {
	var specific []string
	switch s {
	case Master:
		specific = n.in.NotifyMaster
	case Backup:
		specific = n.in.NotifyBackup
	case Fault:
		specific = n.in.NotifyFault
	case Stopped:
		specific = n.in.NotifyStop
	}
	if len(specific) > 0 {
		n.start(ctx, specific)
	}
	if len(n.in.Notify) > 0 {
		argv := append(append([]string(nil), n.in.Notify...), "INSTANCE", n.in.Name, s.String(), strconv.Itoa(int(prio)))
		n.start(ctx, argv)
	}
}

func (n *notifier) start(ctx context.Context, argv []string) {
	n.wg.Add(1)
	go func() {
		defer n.wg.Done()
		// Detached from the instance's context so the STOP notification
		// still runs while varde shuts down; bounded by the timeout.
		cctx, cancel := context.WithTimeout(context.WithoutCancel(ctx), n.timeout)
		defer cancel()
		cmd := exec.CommandContext(cctx, argv[0], argv[1:]...)
		cmd.WaitDelay = time.Second
		if out, err := cmd.CombinedOutput(); err != nil {
			n.log.Warn("notify script failed", "instance", n.in.Name, "script", argv[0], "err", err, "output", string(out))
		}
	}()
}

func (n *notifier) wait() { n.wg.Wait() }
