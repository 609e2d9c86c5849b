//go:build noasm || !amd64

package kernel

// i8AsmWanted reports whether tests must find the assembly int8 kernels:
// never in a pure-Go build.
const i8AsmWanted = false
