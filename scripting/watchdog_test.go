package scripting

import (
	"testing"
	"time"
)

// Remaining is the running call's budget left, and says when no call runs.
func TestDeadlineRemaining(t *testing.T) {
	d := NewDeadline()
	if _, ok := d.Remaining(); ok {
		t.Fatal("a disarmed deadline reports a running call")
	}
	d.Arm(time.Second)
	left, ok := d.Remaining()
	if !ok || left <= 0 || left > time.Second {
		t.Errorf("armed for 1s: %v %v", left, ok)
	}
	d.Disarm()
	if _, ok := d.Remaining(); ok {
		t.Error("still running after Disarm")
	}
}
