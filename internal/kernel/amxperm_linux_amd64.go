//go:build !noasm

package kernel

import "syscall"

// amxPermit asks Linux (5.16 or later) for the AMX tile-data state
// (arch_prctl ARCH_REQ_XCOMP_PERM, XFEATURE_XTILEDATA), without which a
// tile instruction faults.
func amxPermit() error {
	const archReqXcompPerm, xfeatureXtiledata = 0x1023, 18
	if _, _, e := syscall.RawSyscall(syscall.SYS_ARCH_PRCTL, archReqXcompPerm, xfeatureXtiledata, 0); e != 0 {
		return e
	}
	return nil
}
