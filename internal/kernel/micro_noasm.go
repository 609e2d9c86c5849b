//go:build noasm || !amd64

package kernel

// asmWanted reports whether tests must find an assembly implementation:
// never in a pure-Go build.
const asmWanted = false

// fmaPeak has no pure-Go form: FMAPeakLoop reports 0 flops.
func fmaPeak(n int) {}
