package pytorch

import (
	"bytes"
	"math"
	"os"
	"os/exec"
	"path/filepath"
	"reflect"
	"strings"
	"testing"

	"github.com/sgcnn/sgcnn/tensor"
)

// sampleStateDict covers a 4-D weight, a scalar, an empty tensor, values
// that need every bit (NaN payload aside), large and negative ints.
func sampleStateDict() *StateDict {
	sd := NewStateDict()
	w := tensor.New(4, 3, 3, 3)
	for i := range w.Data {
		w.Data[i] = float32(i)*0.37 - 11
	}
	sd.Add("conv1.weight", w)
	sd.Add("bn1.running_var", &tensor.Tensor{Shape: []int{3}, Data: []float32{math.SmallestNonzeroFloat32, math.MaxFloat32, float32(math.Inf(-1))}})
	sd.Add("scalar", &tensor.Tensor{Shape: []int{}, Data: []float32{-0.5}})
	sd.Add("empty", &tensor.Tensor{Shape: []int{0, 5}, Data: []float32{}})
	big := tensor.New(70000) // BININT for the element count
	big.Data[69999] = 1
	sd.Add("big", big)
	sd.AddInt("bn1.num_batches_tracked", &IntTensor{Shape: []int{}, Data: []int64{42}})
	sd.AddInt("ids", &IntTensor{Shape: []int{2, 2}, Data: []int64{-1, 1 << 40, math.MinInt64, math.MaxInt64}})
	return sd
}

func sameStateDict(t *testing.T, got, want *StateDict) {
	t.Helper()
	if !reflect.DeepEqual(got.Names, want.Names) || !reflect.DeepEqual(got.IntNames, want.IntNames) {
		t.Fatalf("names %q %q, want %q %q", got.Names, got.IntNames, want.Names, want.IntNames)
	}
	for _, n := range want.Names {
		g, w := got.Tensors[n], want.Tensors[n]
		if !reflect.DeepEqual(g.Shape, w.Shape) || !reflect.DeepEqual(g.Data, w.Data) {
			t.Errorf("%s: got %v %v..., want %v", n, g.Shape, head(g.Data), w.Shape)
		}
	}
	for _, n := range want.IntNames {
		if !reflect.DeepEqual(got.Ints[n], want.Ints[n]) {
			t.Errorf("%s: got %v, want %v", n, got.Ints[n], want.Ints[n])
		}
	}
}

func head(v []float32) []float32 { return v[:min(len(v), 4)] }

func TestSaveZipRoundTrip(t *testing.T) {
	want := sampleStateDict()
	path := filepath.Join(t.TempDir(), "out.pt")
	if err := SaveZip(path, want); err != nil {
		t.Fatal(err)
	}
	got, err := Load(path)
	if err != nil {
		t.Fatal(err)
	}
	sameStateDict(t, got, want)

	// Re-saving what was loaded gives the same bytes (determinism).
	var a, b bytes.Buffer
	if err := WriteZip(&a, want); err != nil {
		t.Fatal(err)
	}
	if err := WriteZip(&b, got); err != nil {
		t.Fatal(err)
	}
	if !bytes.Equal(a.Bytes(), b.Bytes()) {
		t.Error("WriteZip output differs after a load round trip")
	}
}

func TestSaveZipFixtureRoundTrip(t *testing.T) {
	for _, f := range []string{"zip_plain.pt", "legacy.pt"} {
		want, err := Load(filepath.Join("testdata", f))
		if err != nil {
			t.Fatal(err)
		}
		var buf bytes.Buffer
		if err := WriteZip(&buf, want); err != nil {
			t.Fatal(err)
		}
		got, err := Read(bytes.NewReader(buf.Bytes()), int64(buf.Len()), f)
		if err != nil {
			t.Fatal(err)
		}
		sameStateDict(t, got, want)
	}
}

func TestSaveZipRejectsBadInput(t *testing.T) {
	dir := t.TempDir()
	path := filepath.Join(dir, "bad.pt")
	if err := os.WriteFile(path, []byte("old"), 0o644); err != nil {
		t.Fatal(err)
	}
	cases := map[string]*StateDict{
		"short data":  {Names: []string{"w"}, Tensors: map[string]*tensor.Tensor{"w": {Shape: []int{2, 2}, Data: make([]float32, 3)}}},
		"missing":     {Names: []string{"w"}, Tensors: map[string]*tensor.Tensor{}},
		"duplicate":   {Names: []string{"w", "w"}, Tensors: map[string]*tensor.Tensor{"w": tensor.New(1)}},
		"unlisted":    {Names: []string{}, Tensors: map[string]*tensor.Tensor{"w": tensor.New(1)}},
		"int shadows": {Names: []string{"w"}, Tensors: map[string]*tensor.Tensor{"w": tensor.New(1)}, IntNames: []string{"w"}, Ints: map[string]*IntTensor{"w": {Data: []int64{1}}}},
	}
	for name, sd := range cases {
		err := SaveZip(path, sd)
		if err == nil {
			t.Errorf("%s: no error", name)
			continue
		}
		if !strings.Contains(err.Error(), path) {
			t.Errorf("%s: error %q does not name the file", name, err)
		}
	}
	if b, _ := os.ReadFile(path); string(b) != "old" {
		t.Errorf("existing file changed to %q", b)
	}
	if ents, _ := os.ReadDir(dir); len(ents) != 1 {
		t.Errorf("directory holds %d entries, want only bad.pt (temp files left?)", len(ents))
	}
}

// torchPython is Debian's interpreter with python3-torch; the python3 on
// PATH may be another one.
const torchPython = "/usr/bin/python3"

const torchCheck = `
import sys, torch
kw = {"weights_only": True} if "weights_only" in torch.load.__code__.co_varnames else {}
sd = torch.load(sys.argv[1], **kw)
assert list(sd.keys()) == ["conv1.weight", "bn1.running_var", "scalar", "empty", "big", "bn1.num_batches_tracked", "ids"], list(sd.keys())
w = sd["conv1.weight"]
assert w.dtype == torch.float32 and tuple(w.shape) == (4, 3, 3, 3) and w.is_contiguous()
assert torch.equal(w.view(-1), torch.arange(108, dtype=torch.float32) * 0.37 - 11)
v = sd["bn1.running_var"]
assert v[0].item() > 0 and v[1].item() == 3.4028234663852886e38 and v[2].item() == float("-inf")
assert sd["scalar"].shape == () and sd["scalar"].item() == -0.5
assert tuple(sd["empty"].shape) == (0, 5)
assert sd["big"].sum().item() == 1 and sd["big"][69999].item() == 1
n = sd["bn1.num_batches_tracked"]
assert n.dtype == torch.int64 and n.item() == 42
assert sd["ids"].tolist() == [[-1, 1 << 40], [-2**63, 2**63 - 1]]
print("ok")
`

func TestSaveZipTorchLoads(t *testing.T) {
	if testing.Short() {
		t.Skip("starts Python")
	}
	if err := exec.Command(torchPython, "-c", "import torch").Run(); err != nil {
		t.Skipf("%s has no torch (install python3-torch): %v", torchPython, err)
	}
	path := filepath.Join(t.TempDir(), "out.pt")
	if err := SaveZip(path, sampleStateDict()); err != nil {
		t.Fatal(err)
	}
	out, err := exec.Command(torchPython, "-c", torchCheck, path).CombinedOutput()
	if err != nil || !strings.Contains(string(out), "ok") {
		t.Fatalf("torch.load rejected the file: %v\n%s", err, out)
	}
}
