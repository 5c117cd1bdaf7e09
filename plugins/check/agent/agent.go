// Package agent is the `agent-check` probe: it connects to the agent port,
// sends `agent-send` text when configured, and returns the first reply line
// in CheckResult.Info. core/health parses the reply ("75%", "drain", ...).
package agent

import (
	"bufio"
	"context"
	"io"
	"strings"
	"time"

	"github.com/varde-lb/varde/core"
	"github.com/varde-lb/varde/core/health"
	"github.com/varde-lb/varde/plugins/check/tcp"
)

func init() {
	health.RegisterProbe("agent", func(spec health.ProbeSpec) (health.Probe, error) {
		return Probe{Send: spec.AgentSend}, nil
	})
}

// Probe reads one agent line.
type Probe struct{ Send string }

var _ health.Probe = Probe{}

// maxReply bounds what an agent may send; HAProxy reads one small buffer.
const maxReply = 1024

// Check implements health.Probe.
func (p Probe) Check(ctx context.Context, t health.Target) core.CheckResult {
	start := time.Now()
	c, res := tcp.Dial(ctx, t)
	if c == nil {
		res.Duration = time.Since(start)
		return res
	}
	defer c.Close()
	if dl, ok := ctx.Deadline(); ok {
		_ = c.SetDeadline(dl)
	}
	if p.Send != "" {
		if _, err := io.WriteString(c, p.Send); err != nil {
			return core.CheckResult{Status: "L7RSP", Info: "agent write: " + err.Error(), Duration: time.Since(start)}
		}
	}
	line, err := bufio.NewReaderSize(io.LimitReader(c, maxReply), maxReply).ReadString('\n')
	line = strings.TrimSpace(line)
	if line == "" {
		if err != nil && tcp.IsTimeout(err) {
			return core.CheckResult{Status: "L7TOUT", Info: "agent timeout", Duration: time.Since(start)}
		}
		return core.CheckResult{Status: "L7RSP", Info: "empty agent reply", Duration: time.Since(start)}
	}
	return core.CheckResult{OK: true, Status: "L7OK", Info: line, Duration: time.Since(start)}
}
