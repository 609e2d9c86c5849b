//go:build noasm || !amd64

package kernel

func fmaPeak(n int) {}
