//go:build amd64

// Command bf16peak measures, on one core, the throughput of AVX512_BF16's
// VDPBF16PS against the fp32 FMA (VFMADD231PS), both on 512-bit registers:
// whether a bf16 conv kernel on VDPBF16PS could beat the fp32 one on the
// CPU at hand (issue 22, stretch item 4). A VFMADD231PS does 32 flops
// (16 lanes, multiply and add), a VDPBF16PS 64 (16 lanes, two products
// and their sum added). It refuses to run on a CPU without AVX512_BF16.
//
//	go run ./bench/bf16peak
package main

import (
	"fmt"
	"os"
	"time"

	"golang.org/x/sys/cpu"

	"github.com/sgcnn/sgcnn/internal/cpuinfo"
)

// dpLoop runs n iterations of 12 VDPBF16PS, fmaLoop n of 12 VFMADD231PS.
func dpLoop(n int)
func fmaLoop(n int)

func main() {
	if !cpu.X86.HasAVX512F || !cpu.X86.HasAVX512BF16 {
		fmt.Fprintln(os.Stderr, "bf16peak: this CPU has no AVX512_BF16")
		os.Exit(1)
	}
	fmt.Printf("CPU %s, one core, %s\n\n", cpuinfo.Describe(), time.Now().UTC().Format("2006-01-02 15:04 UTC"))
	fmt.Println("| round | FMA GFLOP/s | VDPBF16PS GFLOP/s | bf16 / fp32 flops | instructions per second, bf16 / fp32 |")
	fmt.Println("|---:|---:|---:|---:|---:|")
	const n = 20_000_000 // about 0.1 s per loop at 3-4 GHz
	for r := 1; r <= 5; r++ {
		t0 := time.Now()
		fmaLoop(n)
		tf := time.Since(t0)
		t0 = time.Now()
		dpLoop(n)
		td := time.Since(t0)
		ff := float64(n) * 12 * 32 / tf.Seconds() / 1e9
		fd := float64(n) * 12 * 64 / td.Seconds() / 1e9
		fmt.Printf("| %d | %.0f | %.0f | %.2f | %.2f |\n", r, ff, fd, fd/ff, tf.Seconds()/td.Seconds())
	}
}
