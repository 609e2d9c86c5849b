package cli

// Tests of issue 19 (reliability): each finding's repro, as a test.

import (
	"encoding/json"
	"fmt"
	"math"
	"os"
	"os/exec"
	"path/filepath"
	"runtime"
	"strings"
	"syscall"
	"testing"
	"time"

	"github.com/sgcnn/sgcnn/checkpoint"
	"github.com/sgcnn/sgcnn/internal/parallel"
	"github.com/sgcnn/sgcnn/modelfile"
	"github.com/sgcnn/sgcnn/models"
)

// mainEnv makes the test binary run Main on its arguments instead of the
// tests (see TestMain), so that tests can signal a real process.
const mainEnv = "SGCNN_CLI_TEST_MAIN"

func TestMain(m *testing.M) {
	if os.Getenv(mainEnv) == "1" {
		os.Exit(Main(os.Args[1:], os.Stdout, os.Stderr))
	}
	os.Exit(m.Run())
}

// smallTrain is a quick LeNet-5 run on MNIST's first images.
var smallTrain = []string{"train", "--model", "lenet5", "--train-limit", "256", "--test-limit", "64",
	"--batch", "64", "--lr", "0.01", "--schedule", "step:1:0.5", "--seed", "7"}

func args(base []string, more ...string) []string {
	return append(append([]string(nil), base...), more...)
}

func readTrainState(t *testing.T, path string) trainState {
	t.Helper()
	f, err := models.LoadFile(path, "")
	if err != nil {
		t.Fatal(err)
	}
	var st trainState
	if err := json.Unmarshal(f.Info.Training, &st); err != nil {
		t.Fatal(err)
	}
	return st
}

// TestResumeRunsTheSameExperiment is finding 1: the printed resume command
// (--out and --resume only) must continue with the run's limits and thread
// count, bit for bit, and a differing flag given with --resume is an error
// naming both values.
func TestResumeRunsTheSameExperiment(t *testing.T) {
	defer parallel.SetThreads(0)
	dir := t.TempDir()
	a := filepath.Join(dir, "a.safetensors")
	if code, _, errs := run(t, args(append([]string{"--threads", "1"}, smallTrain...), "--epochs", "2", "-o", a)...); code != 0 {
		t.Fatalf("exit %d: %s", code, errs)
	}
	c := filepath.Join(dir, "c.safetensors")
	if code, _, errs := run(t, args(append([]string{"--threads", "1"}, smallTrain...), "--epochs", "1", "-o", c)...); code != 0 {
		t.Fatalf("exit %d: %s", code, errs)
	}
	patchEpochs(t, c, 2) // as if a 2-epoch run had stopped after epoch 1
	parallel.SetThreads(4)
	for _, bad := range [][]string{{"--lr", "0.05"}, {"--train-limit", "512"}, {"--model", "resnet20"}, {"--epochs", "1"}, {"--seed", "8"}} {
		code, _, errs := run(t, args([]string{"train", "--resume", "-o", c}, bad...)...)
		st := readTrainState(t, c)
		stored := map[string]string{"--lr": "0.01", "--train-limit": "256", "--model": "lenet5", "--epochs": "2", "--seed": "7"}[bad[0]]
		if code != exitUsage || !strings.Contains(errs, bad[0]+" "+bad[1]) || !strings.Contains(errs, "stored "+stored) || st.Done != 1 {
			t.Errorf("--resume %v: exit %d, %q; want a usage error naming %s and the stored %s, the run untouched", bad, code, errs, bad[1], stored)
		}
	}
	code, _, errs := run(t, "train", "--out", c, "--resume")
	if code != 0 {
		t.Fatalf("resume: exit %d: %s", code, errs)
	}
	if parallel.Threads() != 1 {
		t.Errorf("resumed on %d threads, the run stored 1", parallel.Threads())
	}
	wa, wc := weights(t, a), weights(t, c)
	for i := range wa {
		if wa[i] != wc[i] {
			t.Fatalf("resumed run differs from the uninterrupted one at weight %d: %g vs %g", i, wc[i], wa[i])
		}
	}
	if st := readTrainState(t, c); st.Config.TrainLimit != 256 || st.Config.TestLimit != 64 || st.Config.Threads != 1 {
		t.Errorf("stored limits %d/%d, threads %d; want 256/64, 1", st.Config.TrainLimit, st.Config.TestLimit, st.Config.Threads)
	}
}

// smallPrune is a quick LeNet-5 pruning run.
func smallPrune(out string, more ...string) []string {
	return args([]string{"prune", "--out", out, "--train-limit", "256", "--test-limit", "64", "--pretrain-epochs", "1",
		"--rate", "20", "--step", "10", "--global-epochs", "1", "--measure=false"}, more...)
}

// TestPruneResumeKeepsSettings is finding 1 for prune: the run stores its
// limits, and --resume with another value is refused.
func TestPruneResumeKeepsSettings(t *testing.T) {
	if testing.Short() {
		t.Skip("prunes")
	}
	dir := filepath.Join(t.TempDir(), "p")
	if code, _, errs := run(t, smallPrune(dir)...); code != 0 {
		t.Fatalf("exit %d: %s", code, errs)
	}
	f, err := models.LoadFile(filepath.Join(dir, "checkpoint.safetensors"), "")
	if err != nil {
		t.Fatal(err)
	}
	var rec pruneRecord
	if err := json.Unmarshal(f.Info.Pruning, &rec); err != nil || rec.Run == nil {
		t.Fatalf("no run record: %v", err)
	}
	if r := rec.Run; r.TrainLimit != 256 || r.TestLimit != 64 || r.PretrainEpochs != 1 || r.Dataset != "mnist" || r.Measure {
		t.Errorf("stored %+v; want limits 256/64, 1 pretraining epoch, mnist, no measure", *r)
	}
	code, _, errs := run(t, "prune", "--out", dir, "--resume", "--train-limit", "512")
	if code != exitUsage || !strings.Contains(errs, "--train-limit 512") || !strings.Contains(errs, "stored 256") {
		t.Errorf("--resume --train-limit 512: exit %d, %q", code, errs)
	}
	if code, _, errs := run(t, "prune", "--out", dir, "--resume", "--threads", "1"); code != 0 {
		t.Errorf("plain resume: exit %d, %q", code, errs)
	}
	// A finished run is not replaced without --force.
	code, _, errs = run(t, smallPrune(dir)...)
	if code != exitUsage || !strings.Contains(errs, "finished pruning run") || !strings.Contains(errs, "--force") {
		t.Errorf("prune onto a finished run: exit %d, %q", code, errs)
	}
}

// TestNoSilentOverwrite is finding 2.
func TestNoSilentOverwrite(t *testing.T) {
	dir := t.TempDir()
	txt := filepath.Join(dir, "notes.txt")
	os.WriteFile(txt, []byte("my notes"), 0o644)
	code, _, errs := run(t, args(smallTrain, "--epochs", "1", "-o", txt)...)
	if b, _ := os.ReadFile(txt); code != exitUsage || string(b) != "my notes" || !strings.Contains(errs, "--force") {
		t.Errorf("train onto a text file: exit %d, %q; file now %q", code, errs, b)
	}
	done := filepath.Join(dir, "done.safetensors")
	if code, _, errs := run(t, args(smallTrain, "--epochs", "1", "-o", done)...); code != 0 {
		t.Fatalf("exit %d: %s", code, errs)
	}
	before, _ := os.ReadFile(done)
	code, _, errs = run(t, args(smallTrain, "--epochs", "1", "--seed", "9", "-o", done)...)
	after, _ := os.ReadFile(done)
	if code != exitUsage || !strings.Contains(errs, "finished training run") || string(before) != string(after) {
		t.Errorf("train onto a finished run: exit %d, %q, replaced %v", code, errs, string(before) != string(after))
	}
	if code, _, errs = run(t, args(smallTrain, "--epochs", "1", "--seed", "9", "--force", "-o", done)...); code != 0 {
		t.Errorf("--force: exit %d, %q", code, errs)
	}

	// A second writer is refused, naming the first one's PID.
	l, err := acquireLock(lockPath(done, false), os.Stderr)
	if err != nil {
		t.Fatal(err)
	}
	code, _, errs = run(t, "train", "-o", done, "--resume", "--epochs", "3")
	l.release()
	if code == 0 || !strings.Contains(errs, fmt.Sprintf("PID %d", os.Getpid())) {
		t.Errorf("second writer: exit %d, %q; want an error naming PID %d", code, errs, os.Getpid())
	}

	// A stale lock (its process dead) is taken over, and the temporary
	// files of killed writers are removed.
	dead := exec.Command("true")
	if err := dead.Run(); err != nil {
		t.Skip(err)
	}
	os.WriteFile(lockPath(done, false), []byte(fmt.Sprint(dead.Process.Pid)), 0o644)
	tmp := filepath.Join(dir, ".done.safetensors.tmp123456")
	os.WriteFile(tmp, []byte("half a checkpoint"), 0o644)
	code, _, errs = run(t, "train", "-o", done, "--resume", "--epochs", "2")
	if code != 0 || !strings.Contains(errs, fmt.Sprintf("stale lock %s of PID %d", lockPath(done, false), dead.Process.Pid)) {
		t.Errorf("stale lock: exit %d, %q", code, errs)
	}
	if _, err := os.Stat(tmp); err == nil {
		t.Error("the killed writer's temporary file is still there")
	}
	if _, err := os.Stat(lockPath(done, false)); err == nil {
		t.Error("the lock outlived the run")
	}
	if st := readTrainState(t, done); st.Done != 2 {
		t.Errorf("run holds epoch %d, want 2", st.Done)
	}
}

// withMeta rewrites a model file's metadata key.
func withMeta(t *testing.T, src, dst, key, value string) {
	t.Helper()
	f, err := checkpoint.Load(src)
	if err != nil {
		t.Fatal(err)
	}
	f.Meta[key] = value
	if err := checkpoint.Save(dst, f); err != nil {
		t.Fatal(err)
	}
}

// allocated returns the bytes f allocates on the heap.
func allocated(f func()) uint64 {
	var a, b runtime.MemStats
	runtime.GC()
	runtime.ReadMemStats(&a)
	f()
	runtime.ReadMemStats(&b)
	return b.TotalAlloc - a.TotalAlloc
}

// TestSmallFilesBoundedMemory is finding 3: metadata and flags cannot make
// a command allocate beyond what the file holds or the documented bounds.
func TestSmallFilesBoundedMemory(t *testing.T) {
	src, _ := maskedModelFile(t, "lenet5")
	dir := t.TempDir()
	for _, classes := range []string{"1000000000000", "5000000", "5000"} {
		p := filepath.Join(dir, "c"+classes+".safetensors")
		withMeta(t, src, p, "classes", classes)
		var code int
		var errs string
		n := allocated(func() { code, _, errs = run(t, "info", p) })
		if code == 0 || !strings.Contains(errs, `"classes"`) {
			t.Errorf("classes %s: exit %d, %q; want an error naming the metadata", classes, code, errs)
		}
		if n > 64<<20 {
			t.Errorf("classes %s: refusing a %d KB file allocated %d MB", classes, fileSize(p)>>10, n>>20)
		}
	}
	for _, c := range [][]string{{"--size", "1000000"}, {"--size", "4096"}, {"--train", "100000000"}, {"--batch", "4096"}} {
		var code int
		var errs string
		n := allocated(func() { code, _, errs = run(t, args([]string{"detect", "--backbone", src}, c...)...) })
		if code != exitUsage || !strings.Contains(errs, c[0]) || n > 16<<20 {
			t.Errorf("detect %v: exit %d, %q, %d MB allocated; want a usage error naming the flag", c, code, errs, n>>20)
		}
	}
	if code, _, errs := run(t, "info", "lenet5", "--classes", "1000000000"); code != exitUsage || !strings.Contains(errs, "--classes") {
		t.Errorf("info --classes 1e9: exit %d, %q", code, errs)
	}
}

func fileSize(p string) int64 {
	fi, err := os.Stat(p)
	if err != nil {
		return 0
	}
	return fi.Size()
}

// startMain runs the command line in a child process (this test binary,
// see TestMain).
func startMain(t *testing.T, args ...string) (*exec.Cmd, *strings.Builder) {
	t.Helper()
	cmd := exec.Command(os.Args[0], args...)
	cmd.Env = append(os.Environ(), mainEnv+"=1")
	var errb strings.Builder
	cmd.Stderr = &errb
	if err := cmd.Start(); err != nil {
		t.Fatal(err)
	}
	return cmd, &errb
}

// exitCode waits for cmd and returns its exit code (-1 if killed by a signal).
func exitCode(cmd *exec.Cmd) int {
	cmd.Wait()
	return cmd.ProcessState.ExitCode()
}

// TestSignalsStopTheRun is finding 4: SIGINT during start-up stops the
// run with a non-zero exit and nothing left behind; SIGTERM after the first
// checkpoint leaves a resumable run.
func TestSignalsStopTheRun(t *testing.T) {
	if testing.Short() {
		t.Skip("runs child processes")
	}
	dir := t.TempDir()
	out := filepath.Join(dir, "runs", "s.safetensors")
	long := args(smallTrain, "--train-limit", "4096", "--epochs", "3", "-o", out)
	for _, wait := range []time.Duration{0, 30 * time.Millisecond, 300 * time.Millisecond} {
		cmd, errb := startMain(t, long...)
		time.Sleep(wait)
		cmd.Process.Signal(os.Interrupt)
		code := exitCode(cmd)
		if code == 0 {
			t.Errorf("SIGINT after %v: exit 0; stderr %q", wait, errb)
		}
		if _, err := os.Stat(filepath.Join(dir, "runs")); err == nil {
			entries, _ := os.ReadDir(filepath.Join(dir, "runs"))
			t.Errorf("SIGINT after %v (exit %d): left %v behind", wait, code, entries)
		}
	}
	cmd, errb := startMain(t, long...)
	deadline := time.Now().Add(60 * time.Second)
	for !fileExists(out) && time.Now().Before(deadline) {
		time.Sleep(20 * time.Millisecond)
	}
	cmd.Process.Signal(syscall.SIGTERM)
	if code := exitCode(cmd); code != exitInterrupted {
		t.Fatalf("SIGTERM after the first checkpoint: exit %d, want %d; %s", code, exitInterrupted, errb)
	}
	if !strings.Contains(errb.String(), "continue with: sgcnn train --out "+out+" --resume") {
		t.Errorf("no resume command in %q", errb)
	}
	st := readTrainState(t, out)
	if st.Done < 1 || !strings.Contains(errb.String(), fmt.Sprintf("holds epoch %d of 3", st.Done)) {
		t.Errorf("file holds epoch %d; message %q", st.Done, errb)
	}
}

// TestValidationBeforeWork is finding 5: bad values are refused before any
// image is read, naming the flag.
func TestValidationBeforeWork(t *testing.T) {
	out := filepath.Join(t.TempDir(), "v")
	train := []string{"train", "--model", "lenet5", "--train-limit", "64", "--test-limit", "64", "-o", out + ".safetensors"}
	cases := [][]string{
		args(train, "--lr", "NaN"), args(train, "--momentum", "nan"), args(train, "--wd", "+Inf"),
		args(train, "--lr", "-inf"), args(train, "--schedule", "step:1:NaN"), args(train, "--schedule", "multistep:5,2"),
		args(train, "--train-limit", "-1"), args(train, "--test-limit", "-5"), args(train, "--momentum", "-1"),
		args(train, "--shift", "1000"), args(train, "--batch", "100000000"), args(train, "--epoch-size", "-1"),
		args(train, "--dataset", "imagenet"), args(train, "--teacher", "x", "--distill-temp", "inf"),
		{"prune", "--out", out, "--global-schedule", "foo"}, {"prune", "--out", out, "--local-lr", "NaN"},
		{"prune", "--out", out, "--momentum", "-1"}, {"prune", "--out", out, "--wd", "NaN"},
		{"prune", "--out", out, "--rates", "10,NaN,70"}, {"prune", "--out", out, "--train-limit", "-1"},
		{"prune", "--out", out, "--global-schedule", "multistep:3,1"}, {"prune", "--out", out, "--dataset", "x"},
		{"detect", "--backbone", "x", "--milestones", "4,2"}, {"average", "-o", out, "x", "--bn-images", "-1"},
		{"eval", "--weights", "x", "--batch", "1000000000"}, {"info", "lenet5", "--classes", "-3"},
		{"bench", "--models", "lenet5", "--batches", "1000000"},
	}
	for _, c := range cases {
		code, _, errs := run(t, c...)
		if code != exitUsage {
			t.Errorf("%v: exit %d, %q; want a usage error", c, code, errs)
		}
		if strings.Contains(errs, "epoch 1") || strings.Contains(errs, "baseline") {
			t.Errorf("%v: work started before the error: %q", c, errs)
		}
	}
	if _, err := os.Stat(out); err == nil {
		t.Error("a refused prune left its folder")
	}
}

// TestStoredScheduleCanBeFixed is finding 5's last case: a run whose stored
// schedule no longer parses is resumed with a corrected --schedule.
func TestStoredScheduleCanBeFixed(t *testing.T) {
	p := filepath.Join(t.TempDir(), "s.safetensors")
	if code, _, errs := run(t, args(smallTrain, "--epochs", "1", "-o", p)...); code != 0 {
		t.Fatalf("exit %d: %s", code, errs)
	}
	f, _ := models.LoadFile(p, "")
	var st trainState
	json.Unmarshal(f.Info.Training, &st)
	st.Config.Schedule, st.Config.Epochs = "warmup:3", 2
	f.Info.Training, _ = json.Marshal(st)
	if err := models.SaveFile(p, f.Model, f.Info, f.Extra); err != nil {
		t.Fatal(err)
	}
	if code, _, errs := run(t, "train", "-o", p, "--resume"); code != exitUsage || !strings.Contains(errs, "warmup:3") {
		t.Errorf("stored schedule that does not parse: exit %d, %q", code, errs)
	}
	if code, _, errs := run(t, "train", "-o", p, "--resume", "--schedule", "cosine"); code != 0 || !strings.Contains(errs, "--schedule cosine replaces the run's stored warmup:3") {
		t.Errorf("--schedule cosine: exit %d, %q", code, errs)
	}
	if st := readTrainState(t, p); st.Done != 2 || st.Config.Schedule != "cosine" {
		t.Errorf("run holds epoch %d, schedule %q", st.Done, st.Config.Schedule)
	}
}

// TestLoadsAndMessages is finding 6.
func TestLoadsAndMessages(t *testing.T) {
	dir := t.TempDir()
	m, err := models.New("lenet5", 0, 1)
	if err != nil {
		t.Fatal(err)
	}
	names, ts := models.StateDict(m)
	bad := names[len(names)-1]
	ts[bad].Data[3] = float32(math.NaN())
	nan := filepath.Join(dir, "nan.safetensors")
	if err := models.SaveFile(nan, m, modelfile.Info{Dataset: "mnist"}, nil); err != nil {
		t.Fatal(err)
	}
	for _, c := range [][]string{{"info", nan}, {"eval", "--weights", nan},
		{"average", "-o", filepath.Join(dir, "avg.safetensors"), nan}, {"export", "--weights", nan, "--format", "torch", "-o", filepath.Join(dir, "x.pt")}} {
		code, _, errs := run(t, c...)
		if code == 0 || !strings.Contains(errs, "tensor "+bad) || !strings.Contains(errs, "--allow-nonfinite") {
			t.Errorf("%v: exit %d, %q; want an error naming tensor %s", c, code, errs, bad)
		}
	}
	if _, err := os.Stat(filepath.Join(dir, "avg.safetensors")); err == nil {
		t.Error("average wrote a NaN model")
	}
	if code, _, errs := run(t, "--allow-nonfinite", "info", nan); code != 0 || !strings.Contains(errs, "warning") {
		t.Errorf("--allow-nonfinite info: exit %d, %q", code, errs)
	}

	empty := filepath.Join(dir, "empty.safetensors")
	os.WriteFile(empty, nil, 0o644)
	if code, _, errs := run(t, "info", empty); code == 0 || strings.Contains(errs, "PyTorch") || !strings.Contains(errs, "empty") {
		t.Errorf("empty .safetensors: exit %d, %q", code, errs)
	}

	// prune --model lenet5 runs the scheme its help names.
	root := newRoot(os.Stdout, os.Stderr)
	pc, _, _ := root.Find([]string{"prune"})
	var lo pruneOptions
	lenetDefaults(func(string) bool { return false }, &lo)
	if u := pc.Flags().Lookup("scheme").Usage; !strings.Contains(u, "lenet5: "+lo.cfg.Scheme+")") {
		t.Errorf("--scheme help %q does not name lenet5's default %s", u, lo.cfg.Scheme)
	}

	// The epoch named after a failure is the one in the file.
	ck := filepath.Join(dir, "ck.safetensors")
	if got := lastOnDisk(ck); got != "no checkpoint was written" {
		t.Errorf("no file: %q", got)
	}
	if code, _, errs := run(t, args(smallTrain, "--epochs", "1", "-o", ck)...); code != 0 {
		t.Fatalf("exit %d: %s", code, errs)
	}
	patchEpochs(t, ck, 5)
	if got := lastOnDisk(ck); !strings.Contains(got, "holds epoch 1 of 5") {
		t.Errorf("lastOnDisk: %q", got)
	}

	// A divergence names the layer.
	code, _, errs := run(t, args(smallTrain, "--epochs", "1", "--lr", "1e6", "-o", filepath.Join(dir, "d.safetensors"))...)
	if code == 0 || !strings.Contains(errs, "diverged") || !(strings.Contains(errs, "conv") || strings.Contains(errs, "fc")) {
		t.Errorf("lr 1e6: exit %d, %q; want the diverging layer named", code, errs)
	}
}
