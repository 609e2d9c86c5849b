package onnximport

import (
	"encoding/binary"
	"math"
	"os"
	"path/filepath"
	"runtime"
	"strings"
	"testing"

	"google.golang.org/protobuf/proto"

	"github.com/sgcnn/sgcnn/internal/onnxpb"
)

// smallNet is a Conv, Relu, GlobalAveragePool, Flatten, Gemm classifier
// over 3x5x5 images with a dynamic batch.
func smallNet() *mb {
	b := newModel(13, -1, 3, 5, 5)
	y := b.node("Conv", "/conv/Conv", []string{"x", b.rand("conv.weight", 4, 3, 3, 3)})
	y = b.node("Relu", "/relu/Relu", []string{y})
	y = b.node("GlobalAveragePool", "/pool/GlobalAveragePool", []string{y})
	y = b.node("Flatten", "/Flatten", []string{y})
	b.node("Gemm", "/fc/Gemm", []string{y, b.rand("fc.weight", 2, 4), b.rand("fc.bias", 2)}, aInt("transB", 1))
	return b
}

// wantErr reads model and checks that it fails with every fragment.
func wantErr(t *testing.T, model []byte, opts Options, frags ...string) {
	t.Helper()
	_, err := Read(model, opts)
	if err == nil {
		t.Fatalf("no error, want one containing %q", frags)
	}
	for _, f := range frags {
		if !strings.Contains(err.Error(), f) {
			t.Errorf("error %q does not contain %q", err, f)
		}
	}
}

// TestUnsupportedOp: the op type, the node name and the supported list,
// before any work (an earlier node that would fail is not reached).
func TestUnsupportedOp(t *testing.T) {
	b := smallNet()
	b.g.Node[0].Input[1] = "missing.weight" // would fail when lowered
	b.node("Softmax", "/softmax/Softmax", []string{"/fc/Gemm_out"})
	wantErr(t, b.out(t, "/softmax/Softmax_out"), Options{}, "unsupported op Softmax", `"/softmax/Softmax"`, "supported ops: Abs, Add,", "Conv")
	b = smallNet()
	b.g.Node[1].Domain = "com.microsoft"
	wantErr(t, b.out(t, "/fc/Gemm_out"), Options{}, "unsupported op com.microsoft.Relu")
}

// TestDynamicDims: a dynamic batch is accepted, any other dynamic dim asks
// for --input-shape, which then works.
func TestDynamicDims(t *testing.T) {
	b := smallNet()
	b.g.Input[0] = valueInfo("x", []int64{-1, 3, -1, -1})
	model := b.out(t, "/fc/Gemm_out")
	wantErr(t, model, Options{}, "dimension 2 is dynamic", "--input-shape")
	g, err := Read(model, Options{InputShape: []int{3, 6, 7}})
	if err != nil {
		t.Fatal(err)
	}
	if s := g.Shapes["/conv/Conv_out"]; len(s) != 3 || s[1] != 4 || s[2] != 5 {
		t.Errorf("conv output %v for a 3x6x7 input, want [4 4 5]", s)
	}
	wantErr(t, model, Options{InputShape: []int{3, 6}}, "--input-shape", "2 dimensions")
	wantErr(t, model, Options{InputShape: []int{3, 0, 6}}, "--input-shape")
	b.g.Input[0] = valueInfo("x", []int64{7, 3, 5, 5}) // a fixed batch is fine too
	if _, err := Read(b.out(t, "/fc/Gemm_out"), Options{}); err != nil {
		t.Error(err)
	}
}

// TestBadGraphs: opsets, inputs, outputs, and ops that would move the batch.
func TestBadGraphs(t *testing.T) {
	b := smallNet()
	b.m.OpsetImport[0].Version = 5
	wantErr(t, b.out(t, "/fc/Gemm_out"), Options{}, "opset 5")
	b = smallNet()
	b.g.Input = append(b.g.Input, valueInfo("y", []int64{1, 3}))
	wantErr(t, b.out(t, "/fc/Gemm_out"), Options{}, "2 inputs")
	b = smallNet()
	b.out(t, "/fc/Gemm_out")
	b.g.Output = append(b.g.Output, valueInfo("/relu/Relu_out", nil))
	data, err := proto.Marshal(b.m)
	if err != nil {
		t.Fatal(err)
	}
	wantErr(t, data, Options{}, "2 outputs")
	b = smallNet()
	b.node("Transpose", "/t", []string{"/fc/Gemm_out"}, aInts("perm", 1, 0))
	wantErr(t, b.out(t, "/t_out"), Options{}, "batch axis")
	b = smallNet()
	b.node("Concat", "/c", []string{"/fc/Gemm_out", "/fc/Gemm_out"}, aInt("axis", 0))
	wantErr(t, b.out(t, "/c_out"), Options{}, "batch axis")
	b = smallNet()
	b.node("Reshape", "/r", []string{"/fc/Gemm_out", b.ints("shape", 2, -1)})
	wantErr(t, b.out(t, "/r_out"), Options{}, "keep the batch")
	b = smallNet()
	b.node("Reshape", "/r", []string{"/fc/Gemm_out", b.ints("shape", -1, 1)})
	wantErr(t, b.out(t, "/r_out"), Options{}, "batch would change")
	b = smallNet()
	b.node("Pad", "/p", []string{"/relu/Relu_out", b.ints("pads", 0, 0, 0, 0, 0, 0, 0, 0)}, aString("mode", "reflect"))
	wantErr(t, b.out(t, "/p_out"), Options{}, "constant padding")
}

// TestCorruptProtobuf: every truncation and some byte flips give errors,
// never a panic.
func TestCorruptProtobuf(t *testing.T) {
	model := smallNet().out(t, "/fc/Gemm_out")
	for n := 0; n < len(model); n += 1 + n/50 {
		if _, err := Read(model[:n], Options{}); err == nil {
			t.Fatalf("truncated to %d of %d bytes: no error", n, len(model))
		}
	}
	for i := 0; i < len(model); i += 7 {
		bad := append([]byte(nil), model...)
		bad[i] ^= 0xff
		_, _ = Read(bad, Options{}) // must not panic
	}
	wantErr(t, []byte("PK\x03\x04 not a model"), Options{}, "onnximport")
}

// TestHugeDims: dims that claim more than the file holds are refused
// before anything of that size is allocated.
func TestHugeDims(t *testing.T) {
	for _, dims := range [][]int64{{1 << 20, 1 << 20}, {1 << 40, 1 << 40}, {-1, 4}, {3, 3}} {
		b := smallNet()
		w := b.g.Initializer[0]
		w.Dims = dims
		model := b.out(t, "/fc/Gemm_out")
		var before, after runtime.MemStats
		runtime.ReadMemStats(&before)
		wantErr(t, model, Options{}, `initializer "conv.weight"`)
		runtime.ReadMemStats(&after)
		if grew := after.TotalAlloc - before.TotalAlloc; grew > 1<<20 {
			t.Errorf("dims %v: %d bytes allocated before the refusal", dims, grew)
		}
	}
	b := smallNet()
	b.g.Initializer[1] = &onnxpb.TensorProto{Name: "fc.weight", Dims: []int64{2, 4}, DataType: 1, FloatData: make([]float32, 7)}
	wantErr(t, b.out(t, "/fc/Gemm_out"), Options{}, "hold 8 values", "holds 7")
	b = smallNet()
	b.g.Initializer[1].DataType = int32(onnxpb.TensorProto_STRING)
	wantErr(t, b.out(t, "/fc/Gemm_out"), Options{}, "data type STRING")
}

// TestExternalData: data beside the model is read; paths leaving the
// folder, wrong sizes and Read without a folder are refused.
func TestExternalData(t *testing.T) {
	dir := t.TempDir()
	b := smallNet()
	w := b.g.Initializer[0]
	raw := w.RawData
	if err := os.WriteFile(filepath.Join(dir, "weights.bin"), append(make([]byte, 16), raw...), 0o644); err != nil {
		t.Fatal(err)
	}
	external := func(kv ...string) {
		w.RawData = nil
		w.DataLocation = onnxpb.TensorProto_EXTERNAL
		w.ExternalData = nil
		for i := 0; i < len(kv); i += 2 {
			w.ExternalData = append(w.ExternalData, &onnxpb.StringStringEntryProto{Key: kv[i], Value: kv[i+1]})
		}
	}
	external("location", "weights.bin", "offset", "16", "length", "432")
	path := filepath.Join(dir, "m.onnx")
	if err := os.WriteFile(path, b.out(t, "/fc/Gemm_out"), 0o644); err != nil {
		t.Fatal(err)
	}
	g, err := ReadFile(path, Options{})
	if err != nil {
		t.Fatal(err)
	}
	_, state := g.StateDict()
	got := state["conv.weight"].Data
	for i := range got {
		if want := math.Float32frombits(binary.LittleEndian.Uint32(raw[4*i:])); got[i] != want {
			t.Fatalf("conv.weight[%d] = %g, the external file holds %g", i, got[i], want)
		}
	}
	wantErr(t, b.out(t, "/fc/Gemm_out"), Options{}, "external file", "ReadFile")
	for _, c := range [][]string{
		{"location", "../weights.bin"},
		{"location", filepath.Join(dir, "weights.bin")},
		{"location", "weights.bin", "offset", "16", "length", "400"},
		{"location", "weights.bin", "offset", "100"},
		{"location", "weights.bin", "offset", "-1"},
		{"location", "missing.bin"},
	} {
		external(c...)
		wantErr(t, b.out(t, "/fc/Gemm_out"), Options{Dir: dir}, "external")
	}
}

// TestIsONNX: models are recognised from their first bytes; zip, pickle,
// safetensors and text are not.
func TestIsONNX(t *testing.T) {
	model := smallNet().out(t, "/fc/Gemm_out")
	for _, n := range []int{len(model), 64, 16, 3} {
		if !IsONNX(model[:n]) {
			t.Errorf("the first %d bytes of a model: not recognised", n)
		}
	}
	if p := "/tmp/r50.onnx"; fileExists(p) {
		head := make([]byte, 512)
		f, _ := os.Open(p)
		n, _ := f.Read(head)
		f.Close()
		if !IsONNX(head[:n]) {
			t.Errorf("%s: not recognised", p)
		}
	}
	sf := binary.LittleEndian.AppendUint64(nil, 264)
	for _, s := range [][]byte{nil, []byte("PK\x03\x04\x14\x00"), {0x80, 0x02, 0x8a, 0x0a}, append(sf, `{"a":1}`...), []byte("hello world"), {0x08, 0x00}} {
		if IsONNX(s) {
			t.Errorf("%q recognised as ONNX", s)
		}
	}
}

func fileExists(p string) bool {
	_, err := os.Stat(p)
	return err == nil
}
