//go:build unix

package reconcile

import (
	"syscall"
	"time"
)

// cpuTime is the CPU time (user and system) the process has used, for the
// benchmark's cpu-s metric: on a shared machine the wall time says more
// about the neighbours than about the run.
func cpuTime() (time.Duration, bool) {
	var ru syscall.Rusage
	if err := syscall.Getrusage(syscall.RUSAGE_SELF, &ru); err != nil {
		return 0, false
	}
	return time.Duration(ru.Utime.Nano() + ru.Stime.Nano()), true
}
