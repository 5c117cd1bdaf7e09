//go:build unix

package stats

import "syscall"

// maxFDs is the process's RLIMIT_NOFILE, HAProxy's Ulimit-n.
func maxFDs() (float64, bool) {
	var l syscall.Rlimit
	if err := syscall.Getrlimit(syscall.RLIMIT_NOFILE, &l); err != nil {
		return 0, false
	}
	return float64(l.Cur), true
}
