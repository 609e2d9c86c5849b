package torchtrain

import (
	"context"
	"image"
	"image/color"
	"image/png"
	"math"
	"math/rand/v2"
	"os"
	"os/exec"
	"path/filepath"
	"strings"
	"testing"

	"github.com/sgcnn/sgcnn/data"
	"github.com/sgcnn/sgcnn/models"
	"github.com/sgcnn/sgcnn/nn"
	"github.com/sgcnn/sgcnn/optim"
)

// tinyFolder writes an ImageNet-style folder of perClass w x h PNGs in
// each of the classes r, g and b, whose brightest channel is the class.
func tinyFolder(t *testing.T, perClass, w, h int) string {
	t.Helper()
	dir := t.TempDir()
	rng := rand.New(rand.NewPCG(8, 9))
	for c, name := range []string{"r", "g", "b"} {
		if err := os.MkdirAll(filepath.Join(dir, name), 0o755); err != nil {
			t.Fatal(err)
		}
		for i := range perClass {
			img := image.NewNRGBA(image.Rect(0, 0, w, h))
			for y := range h {
				for x := range w {
					v := [3]uint8{uint8(rng.IntN(8)), uint8(40 + rng.IntN(8)), uint8(80 + rng.IntN(8))}
					v[c] += uint8(40 + x + y) // smooth gradients (photos are mostly smooth), little noise
					img.SetNRGBA(x, y, color.NRGBA{v[0], v[1], v[2], 255})
				}
			}
			f, err := os.Create(filepath.Join(dir, name, string(rune('a'+i))+".png"))
			if err != nil {
				t.Fatal(err)
			}
			if err := png.Encode(f, img); err != nil {
				t.Fatal(err)
			}
			f.Close()
		}
	}
	return dir
}

// TestFolderEvalMatchesTorchvision compares Go's evaluation transform of
// an image folder (data.ImageFolder: resize the shorter side, centre crop)
// with torchvision's Resize then CenterCrop on the same files: same files
// in the same order with the same labels, pixels within a few levels
// (the two bilinear resamplers filter differently when shrinking).
func TestFolderEvalMatchesTorchvision(t *testing.T) {
	needTorch(t)
	dir := tinyFolder(t, 2, 45, 38)
	f, err := data.LoadImageFolder(dir, 24) // resize 27
	if err != nil {
		t.Fatal(err)
	}
	out := filepath.Join(t.TempDir(), "tv.u8")
	script := `import sys, torch, torchvision.datasets as D, torchvision.transforms as T
ds = D.ImageFolder(sys.argv[1], T.Compose([T.Resize(27), T.CenterCrop(24), T.PILToTensor()]))
x = torch.stack([ds[i][0] for i in range(len(ds))])
open(sys.argv[2], "wb").write(x.numpy().tobytes())
print(" ".join(str(y) for _, y in ds.samples))`
	labels, err := exec.Command("/usr/bin/python3", "-c", script, dir, out).Output()
	if err != nil {
		t.Fatal(err)
	}
	tv, err := os.ReadFile(out)
	if err != nil {
		t.Fatal(err)
	}
	if len(tv) != f.Len()*3*24*24 {
		t.Fatalf("torchvision gave %d bytes for %d images", len(tv), f.Len())
	}
	var sum, worst float64
	dst := make([]uint8, 3*24*24)
	for i := range f.Len() {
		y, err := f.Read(i, dst, nil)
		if err != nil {
			t.Fatal(err)
		}
		if want := strings.Fields(string(labels))[i]; want != string(rune('0'+y)) {
			t.Fatalf("image %d: Go label %d, torchvision %s", i, y, want)
		}
		for j, v := range dst {
			d := math.Abs(float64(v) - float64(tv[i*len(dst)+j]))
			sum += d
			worst = max(worst, d)
		}
	}
	mean := sum / float64(len(tv))
	t.Logf("Go against torchvision: mean |difference| %.2f, worst %.0f levels", mean, worst)
	if mean > 3 || worst > 16 {
		t.Errorf("Go's evaluation crops differ from torchvision's: mean %.2f, worst %.0f levels", mean, worst)
	}
}

// TestFolderEpoch trains one epoch of a pruned ResNet-20 on an image
// folder read by torchvision on two gloo processes: every image is seen,
// pruned connections stay zero (the launcher checks), and the trainer's
// evaluation of the folder runs.
func TestFolderEpoch(t *testing.T) {
	needTorch(t)
	if testing.Short() {
		t.Skip("starts torchrun")
	}
	dir := tinyFolder(t, 8, 40, 36)
	m, err := models.New("resnet20", 3, 7)
	if err != nil {
		t.Fatal(err)
	}
	pruneHalf(t, m)
	opt := optim.NewSGD(nn.AllParams(m.Net), 0.05, 0.9, 1e-4, false)
	var log strings.Builder
	l := &Launcher{NProc: 2, Dir: t.TempDir(), Log: &log}
	n := data.ImageNetNorm
	s := Settings{Batch: 8, Momentum: 0.9, WeightDecay: 1e-4, Seed: 2,
		Folder: &Folder{Train: dir, Eval: dir, Size: 32, Resize: 36, Mean: n.Mean, Std: n.Std}}
	loss, _, images, err := l.EpochFunc(context.Background(), m, opt, nil, s)(0, 0.05)
	if err != nil {
		t.Fatalf("%v\n%s", err, log.String())
	}
	if images != 24 || !(loss > 0) {
		t.Fatalf("loss %g over %d images, want 24", loss, images)
	}
	if l.EvalTop1 < 0 {
		t.Fatalf("no evaluation line:\n%s", log.String())
	}
}
