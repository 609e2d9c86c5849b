package quant

import (
	"fmt"
	"math"
	"math/rand/v2"
	"testing"

	"github.com/sgcnn/sgcnn/compile"
	"github.com/sgcnn/sgcnn/graph"
	"github.com/sgcnn/sgcnn/internal/kernel"
	"github.com/sgcnn/sgcnn/tensor"
)

// TestCompileInt8AMX compiles the test network (dense and pruned, on 16x16
// images: its stride-1 convs take the AMX route's tap rows, the stride-2
// one its gathered rows) with the AMX route off and forced on, each conv
// on the same route (grouped, or dense), and requires the same logits bit
// for bit at batch 1 and 64. Without AMX-INT8 the forced route runs its
// pure-Go steps on the pure-Go kernels, where the CPU lacks VNNI too, or
// is skipped.
func TestCompileInt8AMX(t *testing.T) {
	if ok, _ := kernel.Int8AMX(); !ok && Accelerated() {
		t.Skip("no AMX-INT8: the forced route would run pure-Go steps beside assembly kernels (covered in package kernel)")
	}
	img := func(n int, seed uint64) *tensor.Tensor {
		r := rand.New(rand.NewPCG(seed, 1))
		x := tensor.New(n, 3, 16, 16)
		for i := range x.Data {
			x.Data[i] = float32(r.NormFloat64())
		}
		return x
	}
	for _, pruned := range []bool{false, true} {
		for _, route := range []compile.Route{compile.Grouped, compile.Dense} {
			name := fmt.Sprintf("pruned=%v route=%v", pruned, route)
			g, err := graph.Of(testNet(t, pruned), []int{3, 16, 16})
			if err != nil {
				t.Fatal(err)
			}
			cal, err := Calibrate(g, img(64, 1), 16)
			if err != nil {
				t.Fatal(err)
			}
			var nets [2]*compile.Net
			for i, mode := range []int{-1, 1} {
				was := kernel.SetInt8AMX(mode)
				nets[i], err = Compile(g, cal, compile.Options{Route: route})
				kernel.SetInt8AMX(was)
				if err != nil {
					t.Fatal(err)
				}
			}
			for _, batch := range []int{1, 64} {
				x := img(batch, 3)
				var out [2][]float32
				for i, n := range nets {
					y, err := n.Forward(x)
					if err != nil {
						t.Fatal(err)
					}
					out[i] = append([]float32(nil), y.Data...)
				}
				for j := range out[0] {
					if math.Float32bits(out[0][j]) != math.Float32bits(out[1][j]) {
						t.Fatalf("%s batch %d: logit %d = %v on AMX, %v without", name, batch, j, out[1][j], out[0][j])
					}
				}
			}
		}
	}
}
