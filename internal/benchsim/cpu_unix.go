//go:build unix

package benchsim

import (
	"syscall"
	"time"
)

// ProcessCPU is the CPU time, user and system, the process spent so far.
func ProcessCPU() time.Duration {
	var ru syscall.Rusage
	if syscall.Getrusage(syscall.RUSAGE_SELF, &ru) != nil {
		return 0
	}
	return time.Duration(ru.Utime.Nano() + ru.Stime.Nano())
}
