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
	mu      sync.Mutex // in and log change on reload; scripts read them at start
	in      *keepalived.Instance
	log     *slog.Logger
	timeout time.Duration
	wg      sync.WaitGroup
}

// notify starts the scripts for state s: notify_master|backup|fault|stop as
// written, and `notify` with keepalived's arguments INSTANCE NAME STATE PRIORITY.
// setInstance switches to a reloaded instance's scripts.
func (n *notifier) setInstance(in *keepalived.Instance, log *slog.Logger) {
	n.mu.Lock()
	n.in, n.log = in, log
	n.mu.Unlock()
}

func (n *notifier) notify(ctx context.Context, s State, prio uint8) {
	n.mu.Lock()
	in, log := n.in, n.log
	n.mu.Unlock()
	var specific []string
	switch s {
	case Master:
		specific = in.NotifyMaster
	case Backup:
		specific = in.NotifyBackup
	case Fault:
		specific = in.NotifyFault
	case Stopped:
		specific = in.NotifyStop
	}
	if len(specific) > 0 {
		n.start(ctx, in.Name, log, specific)
	}
	if len(in.Notify) > 0 {
		argv := append(append([]string(nil), in.Notify...), "INSTANCE", in.Name, s.String(), strconv.Itoa(int(prio)))
		n.start(ctx, in.Name, log, argv)
	}
}

func (n *notifier) start(ctx context.Context, name string, log *slog.Logger, argv []string) {
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
			log.Warn("notify script failed", "instance", name, "script", argv[0], "err", err, "output", string(out))
		}
	}()
}

func (n *notifier) wait() { n.wg.Wait() }
