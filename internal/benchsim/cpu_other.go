//go:build !unix

package benchsim

import "time"

// ProcessCPU is unknown here: the benchmark reports no CPU ratio.
func ProcessCPU() time.Duration { return 0 }
