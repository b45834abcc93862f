//go:build !unix

package bench

import "time"

// ProcessCPU is unknown here; CPU per transfer then reads 0.
func ProcessCPU() time.Duration { return 0 }
