//go:build !noasm

package kernel

import "golang.org/x/sys/cpu"

// asmWanted reports whether this CPU can run the AVX-512 micro-kernels,
// so that tests must find them registered.
var asmWanted = false && cpu.X86.HasAVX512F // TODO: asm
