package onnximport

import (
	"math"
	"math/rand/v2"
	"os"
	"path/filepath"
	"testing"

	"github.com/sgcnn/sgcnn/export/onnx/ort"
	"github.com/sgcnn/sgcnn/export/onnx/ort/orttest"
	"github.com/sgcnn/sgcnn/graph"
	"github.com/sgcnn/sgcnn/nn"
	"github.com/sgcnn/sgcnn/tensor"
)

// openORT loads ONNX Runtime or skips (fails under CI=true).
func openORT(t testing.TB) { orttest.Open(t) }

// parity imports model, runs it on a random batch of two images with
// graph.Net in eval mode, and checks the output against ONNX Runtime's
// within 1e-4 relative. It returns the imported graph.
func parity(t *testing.T, model []byte) *graph.Graph {
	t.Helper()
	g, err := Read(model, Options{})
	if err != nil {
		t.Fatal(err)
	}
	net, err := graph.NewNet("imported", g)
	if err != nil {
		t.Fatal(err)
	}
	shape := append([]int{2}, g.InputShape...)
	x := tensor.New(shape...)
	rng := rand.New(rand.NewPCG(3, 4))
	for i := range x.Data {
		x.Data[i] = 2*rng.Float32() - 1
	}
	y, err := net.Forward(nn.NewCtx(false), x)
	if err != nil {
		t.Fatal(err)
	}
	openORT(t)
	s, err := ort.NewSession(model, g.Input, g.Output, 1)
	if err != nil {
		t.Fatal(err)
	}
	defer s.Close()
	ishape := make([]int64, len(shape))
	for i, d := range shape {
		ishape[i] = int64(d)
	}
	want, wshape, err := s.Run(x.Data, ishape)
	if err != nil {
		t.Fatal(err)
	}
	if len(want) != len(y.Data) || int(wshape[0]) != 2 {
		t.Fatalf("output %v (%d values), ORT's %v (%d)", y.Shape, len(y.Data), wshape, len(want))
	}
	scale := 0.0
	for _, v := range want {
		scale = max(scale, math.Abs(float64(v)))
	}
	for i, v := range want {
		if d := math.Abs(float64(y.Data[i] - v)); d > 1e-4*max(scale, 1e-3) || math.IsNaN(float64(y.Data[i])) {
			t.Fatalf("output %d: %g, ONNX Runtime %g (scale %g)", i, y.Data[i], v, scale)
		}
	}
	return g
}

// TestExportedParity checks ONNX files exported elsewhere (by
// torch.onnx.export, with a dynamic batch) against ONNX Runtime: every file
// matching $SGCNN_ONNX_GLOB. It skips when the variable is unset; the
// torchvision end-to-end tests live with the CLI.
func TestExportedParity(t *testing.T) {
	files, _ := filepath.Glob(os.Getenv("SGCNN_ONNX_GLOB"))
	if len(files) == 0 {
		t.Skip("no files: set SGCNN_ONNX_GLOB")
	}
	for _, f := range files {
		t.Run(filepath.Base(f), func(t *testing.T) {
			data, err := os.ReadFile(f)
			if err != nil {
				t.Fatal(err)
			}
			parity(t, data)
		})
	}
}
