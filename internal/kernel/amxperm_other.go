//go:build amd64 && !linux && !noasm

package kernel

import "errors"

// amxPermit: only Linux's way to enable the tile state is known here.
func amxPermit() error { return errors.New("AMX is enabled only on Linux") }
