//go:build unix

package monitor_test

import (
	"syscall"
	"time"
)

// processCPU is the CPU time, user and system, the process spent so far.
func processCPU() time.Duration {
	var ru syscall.Rusage
	if syscall.Getrusage(syscall.RUSAGE_SELF, &ru) != nil {
		return 0
	}
	return time.Duration(ru.Utime.Nano() + ru.Stime.Nano())
}
