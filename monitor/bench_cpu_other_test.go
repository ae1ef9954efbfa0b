//go:build !unix

package monitor_test

import "time"

// processCPU is unknown here: the benchmark reports no CPU ratio.
func processCPU() time.Duration { return 0 }
