package main

import (
	"context"
	"fmt"
	"io"
	"log/slog"
	"os"
	"os/signal"
	"syscall"

	"github.com/varde-lb/varde/core/config"
	"github.com/varde-lb/varde/core/config/keepalived"
	"github.com/varde-lb/varde/vip"
)

// startVIP runs the keepalived.conf part of a configuration until ctx is
// done: it is the VRRP subsystem of `varde run`. health feeds track_varde
// (nil without a haproxy.cfg). The returned channel yields Run's result.
func startVIP(ctx context.Context, kc *keepalived.Config, health vip.BackendHealth, log *slog.Logger) (*vip.Manager, <-chan error, error) {
	m, err := vip.New(kc, vip.Options{Logger: log.With("subsystem", "vrrp"), Health: health})
	if err != nil {
		return nil, nil, err
	}
	if err := vip.CheckCapabilities(); err != nil {
		return nil, nil, err
	}
	done := make(chan error, 1)
	go func() { done <- m.Run(ctx) }()
	return m, done, nil
}

func init() {
	register(&command{
		name:    "vrrp",
		summary: "run only the VRRP instances of keepalived.conf files (a keepalived replacement)",
		usage:   "-f FILE [-f FILE ...] [-log-format text|json]",
		run:     runVRRP,
	})
}

// runVRRP is `varde vrrp -f keepalived.conf`: the VIP subsystem alone, in
// the foreground; SIGINT/SIGTERM hand over with a priority-0 advert.
func runVRRP(args []string, stdout, stderr io.Writer) int {
	c := commands["vrrp"]
	fs := newFlagSet(c, stdout, stderr)
	var files multiFlag
	fs.Var(&files, "f", "keepalived.conf `FILE`; repeat to merge in order")
	format := fs.String("log-format", "text", "log format: text or json")
	if code := parseFlags(fs, args, stdout); code >= 0 {
		return code
	}
	if len(files) == 0 || fs.NArg() > 0 {
		fmt.Fprintln(stderr, "varde vrrp: give configuration files with -f FILE")
		return 2
	}
	set, d := config.LoadFiles(files, os.Getenv)
	d.Write(stderr, true)
	if d.HasErrors() {
		return 1
	}
	if set.Keepalived == nil || len(set.Keepalived.Instances) == 0 {
		fmt.Fprintln(stderr, "varde vrrp: no vrrp_instance in the configuration")
		return 1
	}
	var h slog.Handler = slog.NewTextHandler(stderr, nil)
	if *format == "json" {
		h = slog.NewJSONHandler(stderr, nil)
	}
	log := slog.New(h)
	ctx, stop := signal.NotifyContext(context.Background(), syscall.SIGINT, syscall.SIGTERM)
	defer stop()
	_, done, err := startVIP(ctx, set.Keepalived, nil, log)
	if err != nil {
		fmt.Fprintf(stderr, "varde vrrp: %v\n", err)
		return 1
	}
	if err := <-done; err != nil {
		fmt.Fprintf(stderr, "varde vrrp: %v\n", err)
		return 1
	}
	return 0
}
