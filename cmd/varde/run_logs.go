package main

import (
	"context"
	"os"
	"os/signal"
	"syscall"

	"github.com/varde-lb/varde/logpipe"
)

// The log pipeline starts before the engine (the engine logs into it) and
// stops after it, so every transaction of the graceful stop is flushed.
// SIGUSR1 reopens log files for external logrotate setups.
func init() {
	registerSubsystem(subsystem{
		name:  "logs",
		phase: beforeEngine,
		start: func(ctx context.Context, env *runEnv) (func(context.Context) error, error) {
			if env.Set == nil || env.Set.HAProxy == nil {
				return nil, nil
			}
			p, err := logpipe.New(env.Set.HAProxy, env.Log.With("subsystem", "logs"), logpipe.WithStdout(env.Stdout, os.Stderr))
			if err != nil {
				return nil, err
			}
			p.Start()
			env.Sink = p
			usr1 := make(chan os.Signal, 1)
			signal.Notify(usr1, syscall.SIGUSR1)
			done := make(chan struct{})
			go func() {
				defer close(done)
				for {
					select {
					case <-ctx.Done():
						return
					case <-usr1:
						if err := p.Reopen(); err != nil {
							env.Log.Error("reopening log files failed", "err", err)
						} else {
							env.Log.Info("log files reopened (SIGUSR1)")
						}
					}
				}
			}()
			return func(stopCtx context.Context) error {
				signal.Stop(usr1)
				<-done
				err := p.Close(stopCtx)
				for _, st := range p.Stats() {
					env.Log.Info("log target totals", "target", st.Target, "written", st.Written,
						"dropped", st.Dropped, "failed", st.Failed)
				}
				return err
			}, nil
		},
	})
}
