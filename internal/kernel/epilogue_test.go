package kernel

import (
	"fmt"
	"math"
	"math/rand/v2"
	"testing"
)

// TestBiasAct checks BiasAct (pure Go, and the implementation in use) against the loop
// in its doc comment at lengths around the 16-lane vector and its masked
// tail, with and without add and ReLU, NaN and -0 included, and guard
// bands around y.
func TestBiasAct(t *testing.T) {
	for _, impl := range []struct {
		name string
		fn   func(y, add []float32, b float32, relu bool)
	}{{"go", biasActGo}, {"in use", biasAct}} {
		t.Run(impl.name, func(t *testing.T) {
			saved := biasAct
			defer func() { biasAct = saved }()
			biasAct = impl.fn
			testBiasAct(t)
		})
	}
}

func testBiasAct(t *testing.T) {
	r := rand.New(rand.NewPCG(13, 14))
	for _, n := range []int{0, 1, 5, 15, 16, 17, 31, 32, 33, 100, 1024} {
		for _, withAdd := range []bool{false, true} {
			for _, relu := range []bool{false, true} {
				name := fmt.Sprintf("n=%d add=%v relu=%v", n, withAdd, relu)
				ybuf, y := guarded(r, n)
				for i := range y {
					y[i] = float32(r.NormFloat64())
				}
				if n > 3 {
					y[1] = float32(math.NaN())
					y[2] = float32(math.Copysign(0, -1))
				}
				var add []float32
				if withAdd {
					add = randSlice(r, n)
					if n > 3 {
						add[2] = 0
					}
				}
				b := float32(r.NormFloat64())
				if n > 3 && n%2 == 1 {
					b = 0
				}
				want := append([]float32(nil), y...)
				for j := range want {
					v := want[j] + b
					if add != nil {
						v += add[j]
					}
					if relu && v < 0 {
						v = 0
					}
					want[j] = v
				}
				BiasAct(y, add, b, relu)
				checkGuard(t, "BiasAct "+name, ybuf)
				for j := range y {
					if math.Float32bits(y[j]) != math.Float32bits(want[j]) && !(y[j] != y[j] && want[j] != want[j]) {
						t.Errorf("BiasAct %s: y[%d] = %v, want %v", name, j, y[j], want[j])
						break
					}
				}
			}
		}
	}
}

// TestPadRows checks padRows (pure Go and the implementation in use)
// against its doc comment's loop, with gaps of 0 to 16 and more floats
// (the assembly's mask limit) and guard bands around dst.
func TestPadRows(t *testing.T) {
	r := rand.New(rand.NewPCG(17, 18))
	for _, impl := range []struct {
		name string
		fn   func(dst, src []float32, rows, w, dp int)
	}{{"go", padRowsGo}, {"in use", padRows}} {
		for _, w := range []int{1, 7, 16, 17, 32, 33} {
			for _, gap := range []int{0, 1, 2, 4, 16, 17} {
				rows, dp := 3, w+gap
				src := randSlice(r, rows*w)
				dbuf, dst := guarded(r, rows*dp)
				want := append([]float32(nil), dst...)
				for i := range rows {
					copy(want[i*dp:i*dp+w], src[i*w:(i+1)*w])
					clear(want[i*dp+w : (i+1)*dp])
				}
				name := fmt.Sprintf("%s w=%d gap=%d", impl.name, w, gap)
				impl.fn(dst, src, rows, w, dp)
				checkGuard(t, "padRows "+name, dbuf)
				for i := range want {
					if dst[i] != want[i] {
						t.Errorf("padRows %s: dst[%d] = %v, want %v", name, i, dst[i], want[i])
						break
					}
				}
			}
		}
	}
}

// TestEpiFlat checks epiFlat (pure Go and the implementation in use)
// against its doc comment's loop, with random masks, negative values and
// NaNs, with and without ReLU, inside guard bands.
func TestEpiFlat(t *testing.T) {
	r := rand.New(rand.NewPCG(19, 20))
	for _, impl := range []struct {
		name string
		fn   func(dst, src []float32, masks []uint16, b float32, relu bool)
	}{{"go", epiFlatGo}, {"in use", epiFlat}} {
		for _, nvec := range []int{0, 1, 5, 68} {
			for _, relu := range []bool{false, true} {
				masks := make([]uint16, nvec)
				for i := range masks {
					masks[i] = uint16(r.Uint32())
				}
				src := randSlice(r, nvec*vecW)
				if nvec > 0 {
					src[3] = float32(math.NaN())
				}
				b := float32(r.NormFloat64())
				dbuf, dst := guarded(r, nvec*vecW)
				want := make([]float32, len(dst))
				for j := range want {
					if masks[j/16]&(1<<(j%16)) != 0 {
						v := src[j] + b
						if relu && v < 0 {
							v = 0
						}
						want[j] = v
					}
				}
				name := fmt.Sprintf("%s nvec=%d relu=%v", impl.name, nvec, relu)
				impl.fn(dst, src, masks, b, relu)
				checkGuard(t, "epiFlat "+name, dbuf)
				for j := range want {
					if math.Float32bits(dst[j]) != math.Float32bits(want[j]) && !(math.IsNaN(float64(dst[j])) && math.IsNaN(float64(want[j]))) {
						t.Errorf("epiFlat %s: dst[%d] = %v, want %v", name, j, dst[j], want[j])
						break
					}
				}
			}
		}
	}
}

// TestDeinterleaveRows checks deinterleaveRows (pure Go and the
// implementation in use) against its doc comment's loop at widths around
// the assembly's 32-float chunk and its masked tails, with guard bands.
func TestDeinterleaveRows(t *testing.T) {
	r := rand.New(rand.NewPCG(19, 20))
	for _, impl := range []struct {
		name string
		fn   func(even, odd, src []float32, rows, w, sp, dp int)
	}{{"go", deinterleaveRowsGo}, {"in use", deinterleaveRows}} {
		for _, w := range []int{1, 2, 3, 15, 16, 17, 31, 32, 33, 34, 47, 64, 65} {
			rows, sp, dp := 3, 2*w+1, (w+1)/2+3
			src := randSlice(r, rows*sp)
			ebuf, even := guarded(r, rows*dp)
			obuf, odd := guarded(r, rows*dp)
			we, wo := append([]float32(nil), even...), append([]float32(nil), odd...)
			for i := range rows {
				for j := 0; 2*j < w; j++ {
					we[i*dp+j] = src[i*sp+2*j]
				}
				for j := 0; 2*j+1 < w; j++ {
					wo[i*dp+j] = src[i*sp+2*j+1]
				}
			}
			name := fmt.Sprintf("%s w=%d", impl.name, w)
			impl.fn(even, odd, src, rows, w, sp, dp)
			checkGuard(t, "deinterleaveRows even "+name, ebuf)
			checkGuard(t, "deinterleaveRows odd "+name, obuf)
			for i := range we {
				if even[i] != we[i] || odd[i] != wo[i] {
					t.Errorf("deinterleaveRows %s: [%d] = %v, %v, want %v, %v", name, i, even[i], odd[i], we[i], wo[i])
					break
				}
			}
		}
	}
}
