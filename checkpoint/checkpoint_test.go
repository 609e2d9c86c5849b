package checkpoint

import (
	"bytes"
	"encoding/binary"
	"errors"
	"math"
	"os"
	"os/exec"
	"path/filepath"
	"reflect"
	"strings"
	"testing"

	"github.com/sgcnn/sgcnn/tensor"
)

func sampleFile() *File {
	f := NewFile()
	w := tensor.New(2, 3, 1, 1)
	for i := range w.Data {
		w.Data[i] = float32(i) - 2.5
	}
	f.Add("conv1.weight", w)
	f.Add("scalar", &tensor.Tensor{Shape: []int{}, Data: []float32{float32(math.Inf(1))}})
	f.Add("empty", &tensor.Tensor{Shape: []int{0}, Data: []float32{}})
	f.Add(`odd "name" é`, &tensor.Tensor{Shape: []int{1}, Data: []float32{math.SmallestNonzeroFloat32}})
	f.AddInt("step", &IntTensor{Shape: []int{}, Data: []int64{math.MinInt64}})
	f.Meta["format"] = "sgcnn"
	f.Meta["note"] = "quotes \" and\nnewlines"
	return f
}

func sameFile(t *testing.T, got, want *File) {
	t.Helper()
	if !reflect.DeepEqual(got.Names, want.Names) || !reflect.DeepEqual(got.IntNames, want.IntNames) {
		t.Fatalf("names %q %q, want %q %q", got.Names, got.IntNames, want.Names, want.IntNames)
	}
	for _, n := range want.Names {
		if !reflect.DeepEqual(got.Tensors[n], want.Tensors[n]) {
			t.Errorf("%s: got %v, want %v", n, got.Tensors[n], want.Tensors[n])
		}
	}
	for _, n := range want.IntNames {
		if !reflect.DeepEqual(got.Ints[n], want.Ints[n]) {
			t.Errorf("%s: got %v, want %v", n, got.Ints[n], want.Ints[n])
		}
	}
	if len(got.Meta)+len(want.Meta) > 0 && !reflect.DeepEqual(got.Meta, want.Meta) {
		t.Errorf("meta %q, want %q", got.Meta, want.Meta)
	}
}

func TestSaveLoadRoundTrip(t *testing.T) {
	path := filepath.Join(t.TempDir(), "ck.safetensors")
	want := sampleFile()
	if err := Save(path, want); err != nil {
		t.Fatal(err)
	}
	got, err := Load(path)
	if err != nil {
		t.Fatal(err)
	}
	sameFile(t, got, want)
	fi, err := os.Stat(path)
	if err != nil {
		t.Fatal(err)
	}
	if fi.Mode().Perm() != 0o644 {
		t.Errorf("mode %v, want 0644", fi.Mode())
	}
}

// TestReadKnownBytes decodes a file assembled by hand from the published
// layout, with dtypes Save never writes.
func TestReadKnownBytes(t *testing.T) {
	hdr := `{"b":{"dtype":"BF16","shape":[2],"data_offsets":[8,12]},` +
		`"a":{"dtype":"F16","shape":[2,1],"data_offsets":[0,4]},` +
		`"c":{"dtype":"F64","shape":[],"data_offsets":[12,20]},` +
		`"n":{"dtype":"I32","shape":[1],"data_offsets":[4,8]},` +
		`"m":{"dtype":"BOOL","shape":[2],"data_offsets":[20,22]},` +
		`"__metadata__":{"k":"v"}}   `
	var b []byte
	b = binary.LittleEndian.AppendUint64(b, uint64(len(hdr)))
	b = append(b, hdr...)
	b = append(b, 0x00, 0x3c, 0x01, 0x80) // F16 1.0, -2^-24 (subnormal)
	b = binary.LittleEndian.AppendUint32(b, uint32(0xfffffff9))
	b = append(b, 0x80, 0x3f, 0x40, 0xc0) // BF16 1.0, -3.0
	b = binary.LittleEndian.AppendUint64(b, math.Float64bits(0.1))
	b = append(b, 0, 7)
	f, err := Read(bytes.NewReader(b), int64(len(b)), "known")
	if err != nil {
		t.Fatal(err)
	}
	want := &File{
		Names: []string{"a", "b", "c"}, IntNames: []string{"n", "m"},
		Tensors: map[string]*tensor.Tensor{
			"a": {Shape: []int{2, 1}, Data: []float32{1, -1.0 / (1 << 24)}},
			"b": {Shape: []int{2}, Data: []float32{1, -3}},
			"c": {Shape: []int{}, Data: []float32{0.1}},
		},
		Ints: map[string]*IntTensor{"n": {Shape: []int{1}, Data: []int64{-7}}, "m": {Shape: []int{2}, Data: []int64{0, 1}}},
		Meta: map[string]string{"k": "v"},
	}
	sameFile(t, f, want)
}

func TestHalfToFloat(t *testing.T) {
	cases := map[uint16]float32{
		0x0000: 0, 0x3c00: 1, 0xc000: -2, 0x7bff: 65504, 0x0400: 1.0 / (1 << 14),
		0x03ff: 1023.0 / (1 << 24), 0x7c00: float32(math.Inf(1)), 0xfc00: float32(math.Inf(-1)),
	}
	for h, want := range cases {
		if got := halfToFloat(h); got != want {
			t.Errorf("halfToFloat(%#04x) = %v, want %v", h, got, want)
		}
	}
	if v := halfToFloat(0x7e00); v == v {
		t.Errorf("halfToFloat(NaN) = %v", v)
	}
	if v := halfToFloat(0x8000); v != 0 || !math.Signbit(float64(v)) {
		t.Errorf("halfToFloat(-0) = %v", v)
	}
}

// build assembles a file from a raw header and data length.
func build(hdr string, data int) []byte {
	b := binary.LittleEndian.AppendUint64(nil, uint64(len(hdr)))
	b = append(b, hdr...)
	return append(b, make([]byte, data)...)
}

func TestReadRejects(t *testing.T) {
	rec := func(name, dt, shape, offs string) string {
		return `"` + name + `":{"dtype":"` + dt + `","shape":` + shape + `,"data_offsets":` + offs + `}`
	}
	cases := []struct {
		name, want string // tensor named in the error; substring of the message
		file       []byte
	}{
		{"", "shorter", []byte{1, 2}},
		{"", "header length", binary.LittleEndian.AppendUint64(nil, 1<<40)},
		{"", "not a JSON object", build(`[1]     `, 0)},
		{"", "UTF-8", build("{\"\xff\":1}", 0)},
		{"w", "outside", build(`{`+rec("w", "F32", "[1]", "[0,8]")+`}`, 4)},
		{"w", "needs 8 bytes", build(`{`+rec("w", "F32", "[2]", "[0,4]")+`}`, 4)},
		{"y", "gap before", build(`{`+rec("x", "F32", "[1]", "[0,4]")+`,`+rec("y", "F32", "[1]", "[8,12]")+`}`, 12)},
		{"y", "overlap at", build(`{`+rec("x", "F32", "[2]", "[0,8]")+`,`+rec("y", "F32", "[1]", "[4,8]")+`}`, 8)},
		{"", "cover 4 of the 8", build(`{`+rec("x", "F32", "[1]", "[0,4]")+`}`, 8)},
		{"w", "unsupported dtype", build(`{`+rec("w", "C64", "[1]", "[0,8]")+`}`, 8)},
		{"w", "negative", build(`{`+rec("w", "F32", "[-1]", "[0,4]")+`}`, 4)},
		{"w", "overflows", build(`{`+rec("w", "U8", "[1000000,1000000,1000000,1000000]", "[0,1]")+`}`, 1)},
		{"w", "needs 1000000000000 bytes", build(`{`+rec("w", "U8", "[1000000,1000000]", "[0,1]")+`}`, 1)},
		{"w", "twice", build(`{`+rec("w", "F32", "[1]", "[0,4]")+`,`+rec("w", "F32", "[1]", "[4,8]")+`}`, 8)},
		{"w", "want 2", build(`{`+rec("w", "F32", "[1]", "[0,4,4]")+`}`, 4)},
		{"w", "bad tensor record", build(`{"w":{"dtype":"F32","shape":[1],"data_offsets":[0,4],"x":1}}`, 4)},
		{"__metadata__", "strings", build(`{"__metadata__":{"a":1}}`, 0)},
		{"", "after the JSON", build(`{} x`, 0)},
	}
	for _, c := range cases {
		_, err := Read(bytes.NewReader(c.file), int64(len(c.file)), "bad.safetensors")
		var e *Error
		if !errors.As(err, &e) {
			t.Errorf("%s: error %v is not an *Error", c.want, err)
			continue
		}
		if e.File != "bad.safetensors" || e.Name != c.name || !strings.Contains(err.Error(), c.want) {
			t.Errorf("error %q (file %q, tensor %q), want tensor %q and %q", err, e.File, e.Name, c.name, c.want)
		}
	}
}

func TestWriteRejects(t *testing.T) {
	cases := map[string]*File{
		"short data": {Names: []string{"w"}, Tensors: map[string]*tensor.Tensor{"w": {Shape: []int{3}, Data: []float32{1}}}},
		"missing":    {Names: []string{"w"}},
		"duplicate":  {Names: []string{"w", "w"}, Tensors: map[string]*tensor.Tensor{"w": tensor.New(1)}},
		"reserved":   {Names: []string{metaKey}, Tensors: map[string]*tensor.Tensor{metaKey: tensor.New(1)}},
		"bad utf8":   {Names: []string{"\xff"}, Tensors: map[string]*tensor.Tensor{"\xff": tensor.New(1)}},
		"unlisted":   {Tensors: map[string]*tensor.Tensor{"w": tensor.New(1)}},
		"int clash":  {Names: []string{"w"}, Tensors: map[string]*tensor.Tensor{"w": tensor.New(1)}, IntNames: []string{"w"}, Ints: map[string]*IntTensor{"w": {Data: []int64{1}}}},
	}
	for name, f := range cases {
		var buf bytes.Buffer
		if err := Write(&buf, f); err == nil {
			t.Errorf("%s: no error", name)
		} else if buf.Len() != 0 {
			t.Errorf("%s: wrote %d bytes before failing", name, buf.Len())
		}
	}
}

// pythonCheck reads a safetensors file with nothing but the published
// layout, json and numpy, as an independent reader.
const pythonCheck = `
import json, struct, sys
import numpy as np
b = open(sys.argv[1], "rb").read()
n, = struct.unpack("<Q", b[:8])
assert n % 8 == 0, n
h = json.loads(b[8:8+n])
data = b[8+n:]
assert list(h) == ["__metadata__", "conv1.weight", "scalar", "empty", 'odd "name" \u00e9', "step"], list(h)
assert h["__metadata__"] == {"format": "sgcnn", "note": "quotes \" and\nnewlines"}
def get(k, dt):
    e = h[k]; s, t = e["data_offsets"]
    return np.frombuffer(data[s:t], dtype=dt).reshape(e["shape"])
w = get("conv1.weight", "<f4")
assert w.shape == (2, 3, 1, 1) and (w.ravel() == np.arange(6) - 2.5).all()
assert get("scalar", "<f4").shape == () and np.isinf(get("scalar", "<f4"))
assert get("step", "<i8") == -2**63
assert h["step"]["dtype"] == "I64" and h["empty"]["shape"] == [0]
print("ok")
`

func TestPythonReadsSave(t *testing.T) {
	if testing.Short() {
		t.Skip("starts Python")
	}
	py := "/usr/bin/python3"
	if err := exec.Command(py, "-c", "import numpy").Run(); err != nil {
		t.Skipf("%s has no numpy: %v", py, err)
	}
	path := filepath.Join(t.TempDir(), "ck.safetensors")
	if err := Save(path, sampleFile()); err != nil {
		t.Fatal(err)
	}
	out, err := exec.Command(py, "-c", pythonCheck, path).CombinedOutput()
	if err != nil || !strings.Contains(string(out), "ok") {
		t.Fatalf("independent reader rejected the file: %v\n%s", err, out)
	}
}
