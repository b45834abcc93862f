//go:build corridor_powerloss

package store

import (
	"fmt"
	"os"
)

func init() {
	switch v := os.Getenv(EnvPowerLossSynchronous); v {
	case "":
	case "OFF", "NORMAL", "FULL", "EXTRA":
		sqliteSynchronous = "synchronous(" + v + ")"
	default:
		panic(fmt.Sprintf("store: %s=%q is not OFF, NORMAL, FULL or EXTRA", EnvPowerLossSynchronous, v))
	}
}
