package health

import (
	"testing"
	"time"
)

func TestJitterSpread(t *testing.T) {
	if got := jitter(time.Second, 0); got != time.Second {
		t.Fatalf("no spread-checks: %v", got)
	}
	seen := map[time.Duration]bool{}
	for range 1000 {
		d := jitter(time.Second, 20)
		if d < 800*time.Millisecond || d > 1200*time.Millisecond {
			t.Fatalf("jitter(1s, 20%%) = %v, outside +/-20%%", d)
		}
		seen[d] = true
	}
	if len(seen) < 100 {
		t.Fatalf("only %d distinct intervals in 1000: not random", len(seen))
	}
}
