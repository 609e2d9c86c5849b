package kernel

import (
	"fmt"
	"math/rand/v2"
	"testing"
	"unsafe"
)

// BenchmarkFlat8 times the dense 3x3 convs of the ResNet stages (64x8x8,
// 32x16x16, 16x32x32; bias, ReLU,
// writing its own input layout as the compiled network chains its convs)
// on the padded pitch and on the flat route, the latter with x and y
// offset from a 64-byte boundary by off floats (the split loads of the
// taps change with it) and with the output written to another layout
// (flat->padded: the tile and the row epilogue).
func BenchmarkFlat8(b *testing.B) {
	if flat8Impl == nil {
		b.Skip("no flat8 kernels in this build")
	}
	for wi := range flatWidths {
		p := flatTuneShape(wi)
		r := rand.New(rand.NewPCG(7, 7))
		g := denseGroup(r, p)
		e := &Epilogue{Bias: randSlice(r, p.N), ReLU: true}
		var plans [2]*GroupPlan
		for i, mode := range []int{-1, 1} {
			was := SetFlat8(mode)
			plans[i] = NewGroupPlan(p, []Group{g})
			SetFlat8(was)
		}
		for _, v := range []struct {
			name     string
			pl, next *GroupPlan
			off      int
		}{
			{"padded", plans[0], plans[0], 0},
			{"flat/off=0", plans[1], plans[1], 0},
			{"flat/off=4", plans[1], plans[1], 4},
			{"flat/off=8", plans[1], plans[1], 8},
			{"flat->padded", plans[1], plans[0], 0},
		} {
			b.Run(fmt.Sprintf("%dx%dx%d/%s", p.C, p.H, p.W, v.name), func(b *testing.B) {
				x := aligned64(r, v.pl.PaddedLen(), v.off)
				y := aligned64(r, v.next.PaddedLen(), v.off)
				ws := new(Workspace)
				reportRates(b, p.FLOPs(), 1, func() {
					for b.Loop() {
						v.pl.ForwardPadded(x, y, e, ws, true, v.next)
					}
				})
			})
		}
	}
}

// aligned64 returns n random floats starting off floats past a 64-byte
// boundary.
func aligned64(r *rand.Rand, n, off int) []float32 {
	buf := make([]float32, n+32)
	a := int(uintptr(unsafe.Pointer(&buf[0]))%64) / 4
	s := buf[(16-a)%16+off:][:n]
	for i := range s {
		s[i] = r.Float32()
	}
	return s
}
