package torchtrain

import (
	"context"
	"math"
	"math/rand/v2"
	"os"
	"os/exec"
	"path/filepath"
	"slices"
	"strings"
	"testing"

	"github.com/sgcnn/sgcnn/data"
	"github.com/sgcnn/sgcnn/models"
	"github.com/sgcnn/sgcnn/nn"
	"github.com/sgcnn/sgcnn/optim"
	"github.com/sgcnn/sgcnn/train"
)

// needTorch skips without PyTorch, except under CI, where setup installs it.
func needTorch(t *testing.T) {
	t.Helper()
	if err := exec.Command("/usr/bin/python3", "-c", "import torch").Run(); err != nil {
		if os.Getenv("CI") == "true" {
			t.Fatalf("PyTorch missing under CI (scripts/setup.sh installs python3-torch): %v", err)
		}
		t.Skip("PyTorch not installed: apt-get install python3-torch")
	}
}

// tinySet is n random CIFAR-shaped images with labels from a fixed rule
// (the brightest channel), so that training has something to learn.
func tinySet(n int) *data.Dataset {
	rng := rand.New(rand.NewPCG(1, 2))
	d := &data.Dataset{Name: "tiny", N: n, C: 3, H: 32, W: 32, Pixels: make([]uint8, n*3*32*32), Labels: make([]int, n),
		Classes: []string{"r", "g", "b"}, Mean: []float32{0.5, 0.5, 0.5}, Std: []float32{0.25, 0.25, 0.25}}
	for i := range n {
		lab := rng.IntN(3)
		d.Labels[i] = lab
		img := d.Image(i)
		for j := range img {
			v := rng.IntN(128)
			if j/(32*32) == lab {
				v += 100
			}
			img[j] = uint8(v)
		}
	}
	return d
}

// pruneHalf masks every other connection of each prunable layer.
func pruneHalf(t *testing.T, m *models.Model) {
	t.Helper()
	for _, p := range m.PrunableLayers() {
		n, c := p.MaskShape()
		mask := make([]float32, n*c)
		for i := range mask {
			if (i/c+i%c)%2 == 0 || c < 4 {
				mask[i] = 1
			}
		}
		if err := p.SetMask(mask); err != nil {
			t.Fatal(err)
		}
	}
}

// TestEpochTwoProcesses runs two epochs of a pruned ResNet-20 on two gloo
// processes: the loss is reported, the weights move, the momentum comes
// back for the second epoch, and every pruned connection stays zero (the
// launcher refuses a result where one is not).
func TestEpochTwoProcesses(t *testing.T) {
	needTorch(t)
	if testing.Short() {
		t.Skip("starts torchrun")
	}
	m, err := models.New("resnet20", 3, 7)
	if err != nil {
		t.Fatal(err)
	}
	pruneHalf(t, m)
	before := append([]float32(nil), m.PrunableLayers()[3].Weight().Value.Data...)
	opt := optim.NewSGD(nn.AllParams(m.Net), 0.05, 0.9, 1e-4, false)
	var log strings.Builder
	l := &Launcher{NProc: 2, Dir: t.TempDir(), Log: &log}
	s := Settings{Batch: 32, Momentum: 0.9, WeightDecay: 1e-4, Pad: 4, Flip: true, Seed: 3}
	if err := l.Check(context.Background(), m.Arch, s); err != nil {
		t.Fatal(err)
	}
	d := tinySet(128)
	s.Eval = tinySet(64)
	run := l.Epoch(context.Background(), m, opt, d, d.Norm(), s)
	for e := range 2 {
		loss, top1, n, err := run(e, 0.05)
		if err != nil {
			t.Fatalf("epoch %d: %v\nlog:\n%s", e, err, log.String())
		}
		if n != 128 || !(loss > 0) || top1 < 0 || top1 > 100 {
			t.Fatalf("epoch %d: loss %g top-1 %g over %d images", e, loss, top1, n)
		}
	}
	after := m.PrunableLayers()[3]
	moved := false
	for i, v := range after.Weight().Value.Data {
		moved = moved || v != before[i]
	}
	if !moved {
		t.Fatal("the weights did not change")
	}
	if opt.Velocity(0) == nil {
		t.Fatal("no momentum came back")
	}
	// The two engines agree on the trained model's accuracy.
	src, err := data.NewLoader(s.Eval, data.Config{BatchSize: 64})
	if err != nil {
		t.Fatal(err)
	}
	res, err := train.Evaluate(m.Net, func(yield func(train.Batch) bool) error { return train.FromLoader(context.Background(), src)(0, yield) })
	if err != nil {
		t.Fatal(err)
	}
	if l.EvalTop1 < 0 || math.Abs(res.Top1-l.EvalTop1) > 100.0/64+1e-9 {
		t.Fatalf("top-1 on the held-out images: Go %.2f%%, torch %.2f%% (more than one image apart)", res.Top1, l.EvalTop1)
	}
	if !strings.Contains(log.String(), "torch: epoch 2/2") {
		t.Fatalf("rank 0's epoch line missing from the log:\n%s", log.String())
	}
}

// TestCheckRefuses covers the launcher's checks before any work.
func TestCheckRefuses(t *testing.T) {
	needTorch(t)
	ctx := context.Background()
	dir := t.TempDir()
	cases := []struct {
		l    Launcher
		arch string
		s    Settings
		want string
	}{
		{Launcher{Dir: dir, NProc: 3}, "resnet20", Settings{Batch: 64}, "does not split evenly over 3"},
		{Launcher{Dir: dir, Device: "tpu"}, "resnet20", Settings{Batch: 64}, `--device "tpu"`},
		{Launcher{Dir: dir, NNodes: 2}, "resnet20", Settings{Batch: 64}, "--rdzv-endpoint"},
		{Launcher{Dir: dir}, "mobilenet", Settings{Batch: 64}, "no PyTorch definition of mobilenet"},
		{Launcher{Dir: dir, Python: "/nonexistent/python3"}, "resnet20", Settings{Batch: 64}, "python3-torch"},
	}
	for _, c := range cases {
		err := c.l.Check(ctx, c.arch, c.s)
		if err == nil || !strings.Contains(err.Error(), c.want) {
			t.Errorf("%+v %s: got %v, want an error with %q", c.l, c.arch, err, c.want)
		}
	}
	if err := exec.Command("/usr/bin/python3", "-c", "import torch,sys; sys.exit(torch.cuda.is_available())").Run(); err == nil {
		l := Launcher{Dir: dir, Device: "cuda"}
		if err := l.Check(ctx, "resnet20", Settings{Batch: 64}); err == nil || !strings.Contains(err.Error(), "no CUDA device") {
			t.Errorf("cuda without a device: got %v", err)
		}
	}
}

// TestParseEpoch reads the trainer's epoch line.
func TestParseEpoch(t *testing.T) {
	var st epochStats
	parseEpoch("torch: epoch 2/3 lr 0.05 train loss 1.234500 acc 45.5000% images 128 310 img/s", &st)
	if st.loss != 1.2345 || st.top1 != 45.5 || st.n != 128 {
		t.Fatalf("got %+v", st)
	}
	parseEpoch("torch: epoch 2/3 step 4/10 loss 1.2", &st)
	parseEpoch("torch: eval top-1 87.5000% images 64", &st)
	if st.n != 128 || st.eval != 87.5 {
		t.Fatalf("progress or eval lines misread: %+v", st)
	}
}

// TestWorkerDies kills rank 1 in its first step: the launcher's error names
// the rank and its exit code, and the model is left as it was.
func TestWorkerDies(t *testing.T) {
	needTorch(t)
	if testing.Short() {
		t.Skip("starts torchrun")
	}
	t.Setenv("SGCNN_TRAINER_KILL_RANK", "1")
	m, err := models.New("resnet20", 3, 7)
	if err != nil {
		t.Fatal(err)
	}
	before := append([]float32(nil), m.PrunableLayers()[0].Weight().Value.Data...)
	opt := optim.NewSGD(nn.AllParams(m.Net), 0.05, 0.9, 1e-4, false)
	l := &Launcher{NProc: 2, Dir: t.TempDir()}
	d := tinySet(64)
	_, _, _, err = l.Epoch(context.Background(), m, opt, d, d.Norm(), Settings{Batch: 32, Seed: 1})(0, 0.05)
	if err == nil || !strings.Contains(err.Error(), "rank 1") || !strings.Contains(err.Error(), "-9") {
		t.Fatalf("got %v, want an error naming rank 1 and its exit code -9", err)
	}
	for i, v := range m.PrunableLayers()[0].Weight().Value.Data {
		if v != before[i] {
			t.Fatal("a failed epoch changed the model")
		}
	}
}

// TestResumeInsideEpoch kills rank 1 in the middle of an epoch, after the
// trainer's checkpoint at step 4: the error names the rank and its exit
// code, the model is unchanged, and a second call from the same state
// continues at step 4 and ends with the weights and momentum of an
// uninterrupted run.
func TestResumeInsideEpoch(t *testing.T) {
	needTorch(t)
	if testing.Short() {
		t.Skip("starts torchrun")
	}
	d := tinySet(128)
	s := Settings{Batch: 16, Momentum: 0.9, WeightDecay: 1e-4, Pad: 4, Flip: true, Seed: 5, CheckpointEvery: 2}
	fresh := func() (*models.Model, *optim.SGD) {
		m, err := models.New("resnet20", 3, 7)
		if err != nil {
			t.Fatal(err)
		}
		pruneHalf(t, m)
		return m, optim.NewSGD(nn.AllParams(m.Net), 0.05, 0.9, 1e-4, false)
	}
	ctx := context.Background()
	ref, refOpt := fresh()
	if _, _, _, err := (&Launcher{NProc: 2, Dir: t.TempDir()}).Epoch(ctx, ref, refOpt, d, d.Norm(), s)(0, 0.05); err != nil {
		t.Fatal(err)
	}

	m, opt := fresh()
	before := append([]float32(nil), m.PrunableLayers()[2].Weight().Value.Data...)
	var log strings.Builder
	l := &Launcher{NProc: 2, Dir: t.TempDir(), Log: &log}
	t.Setenv("SGCNN_TRAINER_KILL_RANK", "1")
	t.Setenv("SGCNN_TRAINER_KILL_STEP", "5")
	_, _, _, err := l.Epoch(ctx, m, opt, d, d.Norm(), s)(0, 0.05)
	if err == nil || !strings.Contains(err.Error(), "rank 1 exited with code -9") {
		t.Fatalf("got %v, want an error naming rank 1 and its exit code -9", err)
	}
	if _, err := os.Stat(filepath.Join(l.Dir, "epoch.ckpt.pt")); err != nil {
		t.Fatalf("no checkpoint kept: %v", err)
	}
	if !slices.Equal(before, m.PrunableLayers()[2].Weight().Value.Data) {
		t.Fatal("a failed epoch changed the model")
	}
	os.Unsetenv("SGCNN_TRAINER_KILL_RANK")
	loss, _, n, err := l.Epoch(ctx, m, opt, d, d.Norm(), s)(0, 0.05)
	if err != nil {
		t.Fatalf("resumed: %v\n%s", err, log.String())
	}
	if !strings.Contains(log.String(), "resuming the phase at epoch 1, step 4") {
		t.Fatalf("the second run did not resume at step 4:\n%s", log.String())
	}
	if n != 128 || !(loss > 0) {
		t.Fatalf("resumed epoch: loss %g over %d images, want 128", loss, n)
	}
	names, want := models.StateDict(ref)
	_, got := models.StateDict(m)
	for _, name := range names {
		if d := maxDiff(want[name].Data, got[name].Data); d > 1e-6 {
			t.Errorf("%s: resumed run differs from the uninterrupted one by %g", name, d)
		}
	}
	for i := range opt.Params {
		if d := maxDiff(refOpt.Velocity(i), opt.Velocity(i)); d > 1e-6 {
			t.Errorf("momentum of %s differs by %g", opt.Params[i].Name, d)
		}
	}
}

func maxDiff(a, b []float32) float64 {
	if len(a) != len(b) {
		return math.Inf(1)
	}
	d := 0.0
	for i := range a {
		d = max(d, math.Abs(float64(a[i]-b[i])))
	}
	return d
}
