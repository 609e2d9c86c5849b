package kernel

import (
	"fmt"
	"math"
	"math/rand/v2"
	"testing"

	"golang.org/x/sys/cpu"
)

// bf16Shapes are the AMX route's test geometries: ResNet's three stages,
// its stem, filter counts off the tile sizes, other kernels and pads.
var bf16Shapes = []Conv{
	{C: 16, H: 32, W: 32, N: 16, KH: 3, KW: 3, Stride: 1, Pad: 1},
	{C: 32, H: 16, W: 16, N: 32, KH: 3, KW: 3, Stride: 1, Pad: 1},
	{C: 64, H: 8, W: 8, N: 64, KH: 3, KW: 3, Stride: 1, Pad: 1},
	{C: 3, H: 32, W: 32, N: 16, KH: 3, KW: 3, Stride: 1, Pad: 1},
	{C: 5, H: 7, W: 11, N: 10, KH: 3, KW: 3, Stride: 1, Pad: 1},
	{C: 20, H: 9, W: 6, N: 48, KH: 3, KW: 3, Stride: 1, Pad: 0},
	{C: 7, H: 10, W: 10, N: 33, KH: 5, KW: 5, Stride: 1, Pad: 2},
	{C: 24, H: 6, W: 6, N: 17, KH: 1, KW: 1, Stride: 1, Pad: 0},
	{C: 16, H: 16, W: 16, N: 48, KH: 3, KW: 3, Stride: 1, Pad: 1},
	{C: 32, H: 8, W: 8, N: 16, KH: 3, KW: 3, Stride: 1, Pad: 1},
}

// checkBF16 compares got with want (the fp32 sums, in float64, of the
// bf16-rounded operands): the two differ only by fp32 rounding in another
// order, at most 1e-5 of the sum of the products' magnitudes, abs.
func checkBF16(t *testing.T, what string, got, want, abs []float64) {
	t.Helper()
	for i := range want {
		if d := math.Abs(got[i] - want[i]); d > 1e-5*abs[i]+1e-30 {
			t.Fatalf("%s[%d] = %g, want %g (|products| %g)", what, i, got[i], want[i], abs[i])
		}
	}
}

func f64(s []float32) []float64 {
	d := make([]float64, len(s))
	for i, v := range s {
		d[i] = float64(v)
	}
	return d
}

func absSlice(s []float32) []float32 {
	d := make([]float32, len(s))
	for i, v := range s {
		d[i] = float32(math.Abs(float64(v)))
	}
	return d
}

// roundedRef runs ref on the bf16-rounded copies of a and b, and on their
// magnitudes.
func roundedRef(ref func(p Conv, a, b, out []float32), p Conv, a, b []float32, n int) (want, abs []float64) {
	ar, br := make([]float32, len(a)), make([]float32, len(b))
	RoundBF16(ar, a)
	RoundBF16(br, b)
	out := make([]float32, n)
	ref(p, ar, br, out)
	want = f64(out)
	clear(out)
	ref(p, absSlice(ar), absSlice(br), out)
	return want, f64(out)
}

// forEachBF16Route runs f once per bf16 product the CPU can run: AMX
// where it has it, and VDPBF16PS wherever it has AVX512_BF16 (whether or
// not bf16Probe would choose it).
func forEachBF16Route(t *testing.T, f func(t *testing.T)) {
	bf16Init()
	saved := bfCur
	defer func() { bfCur = saved }()
	ran := false
	if ok, _ := AMX(); ok {
		bfCur, ran = bfAMX, true
		t.Run("amx", f)
	}
	if asmWanted && hasDPBF16() && cpu.X86.HasAVX512BW {
		bfCur, ran = bfVDP, true
		t.Run("vdpbf16ps", f)
	}
	if !ran {
		_, why := BF16Conv()
		t.Skip("no bf16 kernels: " + why)
	}
}

func TestConvBF16(t *testing.T) {
	forEachBF16Route(t, testConvBF16)
}

func testConvBF16(t *testing.T) {
	r := rand.New(rand.NewPCG(11, 12))
	ws := &Workspace{}
	for _, p := range bf16Shapes {
		t.Run(fmt.Sprintf("%dx%dx%d-%d-k%dp%d", p.C, p.H, p.W, p.N, p.KH, p.Pad), func(t *testing.T) {
			if !CanConvBF16(p) {
				t.Fatalf("CanConvBF16(%+v) = false", p)
			}
			in, out := p.C*p.H*p.W, p.N*p.OutH()*p.OutW()
			x, w, dy := randSlice(r, in), randSlice(r, p.N*p.C*p.KH*p.KW), randSlice(r, out)
			var bw BF16Weights
			// Twice, so that stale scratch from the first pass (and from
			// the other passes' geometries) would show.
			for range 2 {
				PrepareBF16Weights(p, w, &bw)
				y := make([]float32, out)
				ConvForwardBF16(p, x, &bw, y, ws)
				want, abs := roundedRef(convForwardRef, p, x, w, out)
				checkBF16(t, "forward", f64(y), want, abs)

				PrepareBF16BackwardData(p, w, &bw)
				dx := make([]float32, in)
				ConvBackwardDataBF16(p, dy, &bw, dx, ws)
				want, abs = roundedRef(func(p Conv, a, b, o []float32) { convBackwardDataRef(p, a, b, o) }, p, dy, w, in)
				checkBF16(t, "backward data", f64(dx), want, abs)

				g := make([]float32, BF16FilterGradLen(p))
				ConvBackwardFilterAccBF16(p, x, dy, g, ws)
				ConvBackwardFilterAccBF16(p, x, dy, g, ws) // accumulates
				dw := make([]float32, len(w))
				AddBF16FilterGrad(p, g, dw)
				want, abs = roundedRef(convBackwardFilterRef, p, x, dy, len(w))
				for i := range want {
					want[i], abs[i] = 2*want[i], 2*abs[i]
				}
				checkBF16(t, "backward filter", f64(dw), want, abs)
			}
		})
	}
}

func TestCanConvBF16(t *testing.T) {
	route, why := BF16Conv()
	ok := route != ""
	t.Logf("bf16 convolutions: %q %s", route, why)
	if !ok && why == "" {
		t.Error("BF16Conv() = none without a reason")
	}
	if amx, _ := AMX(); amx != (route == "AMX") {
		t.Errorf("AMX() = %v, BF16Conv() = %q", amx, route)
	}
	for _, p := range []Conv{
		{C: 4, H: 8, W: 8, N: 4, KH: 3, KW: 3, Stride: 2, Pad: 1},
		{C: 4, H: 8, W: 8, N: 4, KH: 3, KW: 1, Stride: 1, Pad: 0},
		{C: 4, H: 8, W: 8, N: 4, KH: 3, KW: 3, Stride: 1, Pad: 3},
	} {
		if CanConvBF16(p) {
			t.Errorf("CanConvBF16(%+v) = true", p)
		}
	}
	if p := bf16Shapes[0]; CanConvBF16(p) != ok {
		t.Errorf("CanConvBF16(%+v) = %v with BF16Conv() = %q", p, CanConvBF16(p), route)
	}
}

// BenchmarkBF16Peak sets the bf16 instructions' peaks against the FMA's on
// this core: fma (fmaPeak), vdpbf16ps (AVX512_BF16), tdpbf16ps (AMX).
func BenchmarkBF16Peak(b *testing.B) {
	if !asmWanted || !hasDPBF16() {
		b.Skip("no AVX512_BF16")
	}
	const n = 1000
	for _, c := range []struct {
		name string
		f    func(int) float64
	}{{"fma", FMAPeakLoop}, {"vdpbf16ps", DPBF16PeakLoop}, {"tdpbf16ps", AMXPeakLoop}} {
		b.Run(c.name, func(b *testing.B) {
			reportRates(b, c.f(1)*n, 1, func() {
				for b.Loop() {
					c.f(n)
				}
			})
		})
	}
}

func TestBF16PeakLoops(t *testing.T) {
	amx, _ := AMX()
	for _, c := range []struct {
		f    func(int) float64
		want float64
		ok   bool
	}{{DPBF16PeakLoop, 1536 * 3, asmWanted && hasDPBF16()}, {AMXPeakLoop, 65536 * 3, amx}} {
		if got := c.f(3); c.ok && got != c.want || !c.ok && got != 0 {
			t.Errorf("peak loop flops %g, want %g (runs here: %v)", got, c.want, c.ok)
		}
	}
}

// TestVDPRoute checks bf16Probe's choice against its own measurement:
// where the CPU lacks AMX and has AVX512_BF16, VDPBF16PS is taken exactly
// when it measures at least minVDPRate times the FMA's flops.
func TestVDPRoute(t *testing.T) {
	route, why := BF16Conv()
	if !asmWanted || !hasDPBF16() || route == "AMX" {
		t.Skipf("route %q: %s", route, why)
	}
	r := vdpRate()
	t.Logf("VDPBF16PS / FMA flops %.2f; route %q (%s)", r, route, why)
	if (route == "AVX512_BF16") != (r >= minVDPRate) && math.Abs(r-minVDPRate) > 0.2 {
		t.Errorf("route %q with VDPBF16PS at %.2fx the FMA (threshold %.2f)", route, r, minVDPRate)
	}
}
