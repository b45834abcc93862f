//go:build !unix

package bench

import "time"

// processCPU is unknown here; CPU per transfer then reads 0.
func processCPU() time.Duration { return 0 }
