// Package torchtrain runs sgcnn's fine-tuning epochs on PyTorch DDP,
// launched by torchrun on CPUs (gloo) or GPUs (NCCL), for networks and data
// sets that outgrow one CPU. Self-grouping, counting, evaluation, reports
// and checkpoints stay in Go: for each epoch, Launcher.Epoch
//
//  1. writes the model's weights, masks and momentum buffers as a PyTorch
//     state_dict, and the epoch's spec (rate, batch, augmentation, seed);
//  2. runs trainer.py (embedded in the binary; one file that needs only
//     torch, and torchvision for the ImageNet networks) under torchrun;
//  3. reads the weights and momentum back and checks that every pruned
//     connection is still exactly zero.
//
// An epoch's function plugs into train.Plan.RunEpoch, so `sgcnn train` and
// `sgcnn prune` keep their schedule, evaluation and resume unchanged.
package torchtrain

import (
	"bufio"
	"context"
	_ "embed"
	"encoding/binary"
	"encoding/json"
	"errors"
	"fmt"
	"hash/fnv"
	"io"
	"net"
	"os"
	"os/exec"
	"path/filepath"
	"strings"
	"sync"
	"syscall"

	"github.com/sgcnn/sgcnn/data"
	"github.com/sgcnn/sgcnn/graph"
	"github.com/sgcnn/sgcnn/internal/atomicfile"
	"github.com/sgcnn/sgcnn/internal/progress"
	"github.com/sgcnn/sgcnn/models"
	"github.com/sgcnn/sgcnn/nn"
	"github.com/sgcnn/sgcnn/optim"
	"github.com/sgcnn/sgcnn/pytorch"
	"github.com/sgcnn/sgcnn/tensor"
	"github.com/sgcnn/sgcnn/train"
)

//go:embed trainer.py
var trainerPy []byte

// Archs lists the architectures trainer.py can build; it also runs
// imported networks (models.GraphArch) from their lowered graph.
var Archs = []string{"lenet5", "resnet20", "resnet32", "resnet44", "resnet56", "resnet110", "vgg16", "resnet50", "densenet201", models.GraphArch}

// Launcher says how to start torchrun. The zero value runs one CPU process
// with /usr/bin/python3.
type Launcher struct {
	Python       string    // interpreter with torch (default /usr/bin/python3, else python3 on PATH)
	NProc        int       // processes per node (default 1)
	Device       string    // "cpu" (default) or "cuda"
	NNodes       int       // nodes (default 1); more need RdzvEndpoint
	RdzvEndpoint string    // host:port of the c10d rendezvous, for several nodes
	Threads      int       // torch threads per process (default 1)
	Dir          string    // work folder for the spec, state and data files (required)
	Log          io.Writer // rank 0's progress lines (nil: discarded)
	// EvalTop1 is the trainer's top-1 on Settings.Eval after the last
	// epoch it ran (percent; -1 when not evaluated).
	EvalTop1 float64
}

// Engine chooses the engine of a run's fine-tuning epochs and how torchrun
// starts; runs store it (sgcnn train's config, pipeline.Config), so that a
// resumed run trains on the same engine. The zero value is the Go engine.
type Engine struct {
	Trainer      string `json:"trainer,omitempty"` // "" or "go": sgcnn's engine; "torch": PyTorch DDP
	NProc        int    `json:"nproc,omitempty"`
	Device       string `json:"device,omitempty"`
	NNodes       int    `json:"nnodes,omitempty"`
	RdzvEndpoint string `json:"rdzv_endpoint,omitempty"`
}

// Torch reports whether e asks for the torch trainer, refusing an unknown
// trainer and torch-only settings without it.
func (e Engine) Torch() (bool, error) {
	switch e.Trainer {
	case "", "go":
		if e.NProc > 1 || e.NNodes > 1 || (e.Device != "" && e.Device != "cpu") || e.RdzvEndpoint != "" {
			return false, errors.New("--nproc, --device, --nnodes and --rdzv-endpoint need --trainer torch")
		}
		return false, nil
	case "torch":
		return true, nil
	}
	return false, fmt.Errorf("--trainer %q: want go or torch", e.Trainer)
}

// Launcher returns the launcher of e's torch trainer working in dir with
// threads torch threads per process.
func (e Engine) Launcher(dir string, threads int, log io.Writer) *Launcher {
	return &Launcher{NProc: e.NProc, Device: e.Device, NNodes: e.NNodes, RdzvEndpoint: e.RdzvEndpoint,
		Threads: max(1, threads/max(1, e.NProc)), Dir: dir, Log: log}
}

// Settings are the fine-tuning flags that mean the same under both
// trainers.
type Settings struct {
	Batch       int // global batch, split evenly over the processes
	Momentum    float64
	WeightDecay float64
	Nesterov    bool
	Pad         int  // random crops of the image zero-padded by Pad pixels (0: none)
	Flip        bool // random horizontal flips
	EpochSize   int  // images per epoch, a fresh random subset (0: all)
	Seed        uint64
	// Eval, when set, is a held-out set that the trainer evaluates after
	// each epoch; Launcher.EvalTop1 then holds its top-1.
	Eval *data.Dataset
	// Folder, when set, is an ImageNet-style data set that trainer.py
	// reads itself (torchvision's ImageFolder) instead of the Dataset
	// given to Epoch, which may then be nil.
	Folder *Folder
	// CheckpointEvery is the number of steps between the trainer's
	// checkpoints inside an epoch (0: every tenth of the epoch).
	CheckpointEvery int
}

// Folder is an ImageNet-style data set for trainer.py: training images
// get RandomResizedCrop(Size) and a random flip, evaluation images
// Resize(Resize) then CenterCrop(Size), as data.ImageFolder does in Go.
type Folder struct {
	Train   string    // class sub-folders of the training images
	Eval    string    // class sub-folders evaluated after the epoch ("" for none)
	Size    int       // side of the crop (the model's input)
	Resize  int       // shorter side before the evaluation crop (Size*8/7)
	Workers int       // DataLoader worker processes per rank (0: decode in the rank)
	Mean    []float32 // normalisation, 0..1 pixel units
	Std     []float32
	// Exclude lists training images not to train on (a validation split
	// held out of Train), as paths relative to Train.
	Exclude []string
}

// probe is what the interpreter reports about its torch.
type probe struct {
	Torch       string `json:"torch"`
	Torchvision string `json:"torchvision"`
	CUDA        bool   `json:"cuda"`
	Devices     int    `json:"devices"`
}

func (l *Launcher) python() string {
	if l.Python != "" {
		return l.Python
	}
	if _, err := os.Stat("/usr/bin/python3"); err == nil {
		return "/usr/bin/python3"
	}
	return "python3"
}

func (l *Launcher) procs() int { return max(l.NProc, 1) * max(l.NNodes, 1) }

// Check verifies, before any work, that the launcher can run arch: torch
// (and torchvision where needed) installed, CUDA present when asked for,
// no more processes per node than devices, a batch that splits over the
// processes, and a rendezvous for several nodes.
func (l *Launcher) Check(ctx context.Context, arch string, s Settings) error {
	switch {
	case l.Dir == "":
		return errors.New("torchtrain: no work folder")
	case l.Device != "" && l.Device != "cpu" && l.Device != "cuda":
		return fmt.Errorf("--device %q: want cpu or cuda", l.Device)
	case l.NProc < 0 || l.NNodes < 0:
		return fmt.Errorf("--nproc %d / --nnodes %d: want positive", l.NProc, l.NNodes)
	case l.NNodes > 1 && l.RdzvEndpoint == "":
		return fmt.Errorf("--nnodes %d needs --rdzv-endpoint HOST:PORT", l.NNodes)
	case s.Batch < 1 || s.Batch%l.procs() != 0:
		return fmt.Errorf("--batch %d does not split evenly over %d processes", s.Batch, l.procs())
	}
	known := false
	for _, a := range Archs {
		known = known || a == arch
	}
	if !known {
		return fmt.Errorf("--trainer torch: no PyTorch definition of %s (have %s)", arch, strings.Join(Archs, ", "))
	}
	out, err := exec.CommandContext(ctx, l.python(), "-c", `import json, torch
try:
    import torchvision; tv = torchvision.__version__
except ImportError:
    tv = ""
print(json.dumps({"torch": torch.__version__, "torchvision": tv, "cuda": torch.cuda.is_available(), "devices": torch.cuda.device_count()}))`).Output()
	if err != nil {
		return fmt.Errorf("--trainer torch: %s cannot import torch (%v): install Debian's python3-torch (apt-get install python3-torch python3-torchvision) or `pip install torch torchvision`", l.python(), err)
	}
	var p probe
	if err := json.Unmarshal(out, &p); err != nil {
		return fmt.Errorf("--trainer torch: unexpected answer from %s: %q", l.python(), out)
	}
	if (arch == "resnet50" || arch == "densenet201") && p.Torchvision == "" {
		return fmt.Errorf("--trainer torch: %s needs torchvision: apt-get install python3-torchvision (or pip install torchvision)", arch)
	}
	if s.Folder != nil && p.Torchvision == "" {
		return errors.New("--trainer torch: image folders need torchvision: apt-get install python3-torchvision (or pip install torchvision)")
	}
	if l.Device == "cuda" {
		if !p.CUDA {
			return fmt.Errorf("--device cuda: torch %s sees no CUDA device", p.Torch)
		}
		if max(l.NProc, 1) > p.Devices {
			return fmt.Errorf("--nproc %d: only %d CUDA devices on this node", l.NProc, p.Devices)
		}
	}
	return nil
}

// spec is trainer.py's input (see its doc string).
type spec struct {
	State          string     `json:"state"`
	Arch           string     `json:"arch"`
	Graph          *graphSpec `json:"graph,omitempty"`
	Classes        int        `json:"classes"`
	InputShape     [3]int     `json:"input_shape"`
	Data           dataSpec   `json:"data"`
	Eval           *dataSpec  `json:"eval,omitempty"`
	Epochs         int        `json:"epochs"`
	StartEpoch     int        `json:"start_epoch"`
	LRs            []float64  `json:"lrs"`
	Batch          int        `json:"batch"`
	Momentum       float64    `json:"momentum"`
	WeightDecay    float64    `json:"weight_decay"`
	Nesterov       bool       `json:"nesterov"`
	Pad            int        `json:"pad"`
	Flip           bool       `json:"flip"`
	EpochSize      int        `json:"epoch_size"`
	Seed           uint64     `json:"seed"`
	Device         string     `json:"device"`
	ThreadsPerProc int        `json:"threads_per_proc"`
	Checkpoint     string     `json:"checkpoint"`
	CheckpointEach int        `json:"checkpoint_every"`
	ResumeKey      string     `json:"resume_key"`
	Out            string     `json:"out"`
}

// graphSpec is a lowered graph for trainer.py's GraphNet: its nodes (with
// their ops and attributes as package graph writes them) and every
// tensor's per-image shape.
type graphSpec struct {
	Input  string           `json:"input"`
	Output string           `json:"output"`
	Nodes  []*graph.Node    `json:"nodes"`
	Shapes map[string][]int `json:"shapes"`
}

type dataSpec struct {
	Images  string    `json:"images,omitempty"`
	Labels  string    `json:"labels,omitempty"`
	N       int       `json:"n,omitempty"`
	Folder  string    `json:"folder,omitempty"`
	Size    int       `json:"size,omitempty"`
	Resize  int       `json:"resize,omitempty"`
	Workers int       `json:"workers,omitempty"`
	Mean    []float32 `json:"mean"`
	Std     []float32 `json:"std"`
	Exclude []string  `json:"exclude,omitempty"`
}

// Epoch returns the function that trains epoch e of m on d (or on
// s.Folder) under torchrun, carrying opt's momentum buffers across epochs;
// seed varies the data order between phases (epoch e of a phase draws its
// order from seed and e).
//
// The trainer checkpoints inside the epoch (Settings.CheckpointEvery). A
// call that finds the checkpoint of an interrupted run of the same epoch
// from the same weights (the spec's resume key: a hash of the input state,
// the spec and the process count) continues from it, so that a resumed
// sgcnn run picks up inside the epoch.
func (l *Launcher) Epoch(ctx context.Context, m *models.Model, opt *optim.SGD, d *data.Dataset, norm data.Norm, s Settings) train.EpochFunc {
	return func(e int, lr float64) (float64, float64, int, error) {
		if err := os.MkdirAll(l.Dir, 0o755); err != nil {
			return 0, 0, 0, err
		}
		sp := spec{State: filepath.Join(l.Dir, "state.pt"), Arch: m.Arch, Classes: m.Classes, InputShape: m.InputShape,
			Epochs: e + 1, StartEpoch: e, LRs: make([]float64, e+1), Batch: s.Batch, Momentum: s.Momentum,
			WeightDecay: s.WeightDecay, Nesterov: s.Nesterov, Pad: s.Pad, Flip: s.Flip, EpochSize: s.EpochSize,
			Seed: s.Seed, Device: l.Device, ThreadsPerProc: max(l.Threads, 1), CheckpointEach: s.CheckpointEvery,
			Checkpoint: filepath.Join(l.Dir, "epoch.ckpt.pt"), Out: filepath.Join(l.Dir, "out.pt")}
		sp.LRs[e] = lr
		if m.Arch == models.GraphArch {
			g, err := m.Graph()
			if err == nil && g.Shapes == nil {
				err = g.Infer()
			}
			if err != nil {
				return 0, 0, 0, fmt.Errorf("torchtrain: the imported network's graph: %w", err)
			}
			sp.Graph = &graphSpec{Input: g.Input, Output: g.Output, Nodes: g.Nodes, Shapes: g.Shapes}
		}
		if err := l.dataSpecs(&sp, d, norm, s); err != nil {
			return 0, 0, 0, err
		}
		if sp.Device == "" {
			sp.Device = "cpu"
		}
		os.Remove(sp.Out)
		key, err := writeState(sp.State, m, opt)
		if err != nil {
			return 0, 0, 0, err
		}
		sp.ResumeKey = l.resumeKey(key, sp)
		stats, err := l.run(ctx, sp)
		if err != nil {
			return 0, 0, 0, err
		}
		if err := readState(sp.Out, m, opt); err != nil {
			return 0, 0, 0, err
		}
		os.Remove(sp.Checkpoint) // the epoch is done; the caller checkpoints it
		l.EvalTop1 = stats.eval
		return stats.loss, stats.top1, stats.n, nil
	}
}

// dataSpecs sets sp's training and evaluation data: d and s.Eval written
// as raw files, or s.Folder's folders.
func (l *Launcher) dataSpecs(sp *spec, d *data.Dataset, norm data.Norm, s Settings) error {
	if f := s.Folder; f != nil {
		if f.Train == "" || f.Size < 1 || f.Resize < f.Size {
			return fmt.Errorf("torchtrain: folder data %+v: want a training folder and 0 < size <= resize", *f)
		}
		sp.Data = dataSpec{Folder: f.Train, Size: f.Size, Resize: f.Resize, Workers: f.Workers, Mean: f.Mean, Std: f.Std, Exclude: f.Exclude}
		if f.Eval != "" {
			ev := sp.Data
			ev.Folder, ev.Exclude = f.Eval, nil
			sp.Eval = &ev
		}
		return nil
	}
	if d == nil {
		return errors.New("torchtrain: no training data")
	}
	ds, err := l.writeData(d, norm)
	if err != nil {
		return err
	}
	sp.Data = ds
	if s.Eval != nil {
		es, err := l.writeData(s.Eval, norm)
		if err != nil {
			return err
		}
		sp.Eval = &es
	}
	return nil
}

// resumeKey identifies an epoch's run: the input state's hash, the spec
// (less what does not change the result: threads, device) and the process
// count, which sets the data order.
func (l *Launcher) resumeKey(state uint64, sp spec) string {
	sp.ThreadsPerProc, sp.Device, sp.ResumeKey = 0, "", ""
	js, _ := json.Marshal(sp)
	h := fnv.New64a()
	fmt.Fprintf(h, "%016x %d ", state, l.procs())
	h.Write(js)
	return fmt.Sprintf("%016x", h.Sum64())
}

// EpochFunc is Epoch for train.Plan.RunEpoch with d's own normalisation
// (d is nil when s.Folder is set: the folder carries its own); on a nil
// launcher (the Go engine) it returns nil.
func (l *Launcher) EpochFunc(ctx context.Context, m *models.Model, opt *optim.SGD, d *data.Dataset, s Settings) train.EpochFunc {
	if l == nil {
		return nil
	}
	var norm data.Norm
	if d != nil {
		norm = d.Norm()
	}
	return l.Epoch(ctx, m, opt, d, norm, s)
}

// writeData writes d's pixels and labels once per content into the work
// folder, for trainer.py to map.
func (l *Launcher) writeData(d *data.Dataset, norm data.Norm) (dataSpec, error) {
	h := fnv.New64a()
	fmt.Fprintf(h, "%s %d %d %d %d", d.Name, d.N, d.C, d.H, d.W)
	h.Write(d.Pixels)
	for _, y := range d.Labels {
		binary.Write(h, binary.LittleEndian, int32(y))
	}
	base := filepath.Join(l.Dir, fmt.Sprintf("data-%016x", h.Sum64()))
	ds := dataSpec{Images: base + ".u8", Labels: base + ".i32", N: d.N, Mean: norm.Mean, Std: norm.Std}
	if fi, err := os.Stat(ds.Labels); err == nil && fi.Size() == int64(4*d.N) {
		return ds, nil
	}
	if err := writeFile(ds.Images, d.Pixels); err != nil {
		return ds, err
	}
	lab := make([]byte, 4*d.N)
	for i, y := range d.Labels {
		binary.LittleEndian.PutUint32(lab[4*i:], uint32(int32(y)))
	}
	return ds, writeFile(ds.Labels, lab)
}

// writeState writes m's state dict, its masks and opt's momentum buffers,
// and returns a hash of what it wrote.
func writeState(path string, m *models.Model, opt *optim.SGD) (uint64, error) {
	names, ts := models.StateDict(m)
	sd := pytorch.NewStateDict()
	for _, n := range names {
		sd.Add(n, ts[n])
	}
	for _, p := range nn.Prunables(m.Net) {
		if mask := p.Mask(); mask != nil {
			n, c := p.MaskShape()
			sd.Add(p.Name()+".weight_mask", &tensor.Tensor{Shape: []int{n, c}, Data: mask})
		}
	}
	for i, p := range opt.Params {
		if v := opt.Velocity(i); v != nil {
			sd.Add("optim."+p.Name+".momentum_buffer", &tensor.Tensor{Shape: p.Value.Shape, Data: v})
		}
	}
	h := fnv.New64a()
	err := atomicfile.Write(path, func(w io.Writer) error { return pytorch.WriteZip(io.MultiWriter(w, h), sd) })
	return h.Sum64(), err
}

// writeFile writes b to path atomically.
func writeFile(path string, b []byte) error {
	return atomicfile.Write(path, func(w io.Writer) error {
		_, err := w.Write(b)
		return err
	})
}

// readState loads trainer.py's result into m and opt, refusing any pruned
// connection that came back non-zero.
func readState(path string, m *models.Model, opt *optim.SGD) error {
	sd, err := pytorch.Load(path)
	if err != nil {
		return fmt.Errorf("torchtrain: the trainer's result: %w", err)
	}
	weights := map[string]*tensor.Tensor{}
	mom := map[string]*tensor.Tensor{}
	for _, n := range sd.Names {
		t := sd.Tensors[n]
		if strings.HasPrefix(n, "optim.") && strings.HasSuffix(n, ".momentum_buffer") {
			mom[strings.TrimSuffix(strings.TrimPrefix(n, "optim."), ".momentum_buffer")] = t
			continue
		}
		weights[n] = t
	}
	for _, p := range nn.Prunables(m.Net) {
		mask := p.Mask()
		w, ok := weights[p.Weight().Name]
		if mask == nil || !ok {
			continue
		}
		_, c := p.MaskShape()
		kk := len(w.Data) / len(mask)
		for i, keep := range mask {
			if keep != 0 {
				continue
			}
			for _, v := range w.Data[i*kk : (i+1)*kk] {
				if v != 0 {
					return fmt.Errorf("torchtrain: %s came back with pruned connection (filter %d, channel %d) non-zero (%g): refusing a silently denser model",
						p.Weight().Name, i/c, i%c, v)
				}
			}
		}
	}
	if err := models.LoadStateDict(m, weights); err != nil {
		return fmt.Errorf("torchtrain: the trainer's result: %w", err)
	}
	for i, p := range opt.Params {
		if t, ok := mom[p.Name]; ok {
			if err := opt.SetVelocity(i, append([]float32(nil), t.Data...)); err != nil {
				return err
			}
		}
	}
	return nil
}

// epochStats is rank 0's last epoch line.
type epochStats struct {
	loss, top1, eval float64
	n                int
}

// run starts torchrun and streams rank 0's lines to the log.
func (l *Launcher) run(ctx context.Context, sp spec) (epochStats, error) {
	specPath := filepath.Join(l.Dir, "spec.json")
	js, err := json.MarshalIndent(sp, "", "  ")
	if err != nil {
		return epochStats{}, err
	}
	if err := writeFile(specPath, js); err != nil {
		return epochStats{}, err
	}
	script := filepath.Join(l.Dir, "trainer.py")
	if err := writeFile(script, trainerPy); err != nil {
		return epochStats{}, err
	}
	args := []string{"-m", "torch.distributed.run", fmt.Sprintf("--nproc_per_node=%d", max(l.NProc, 1))}
	if l.NNodes > 1 {
		args = append(args, fmt.Sprintf("--nnodes=%d", l.NNodes), "--rdzv_backend=c10d", "--rdzv_endpoint="+l.RdzvEndpoint)
	} else {
		// torch 1.13's --standalone always listens on localhost:29400, so two
		// runs on one machine (two users, or parallel test packages) collide;
		// a port the kernel just handed out, and a run id of its own, do not.
		port, err := freePort()
		if err != nil {
			return epochStats{}, err
		}
		args = append(args, "--nnodes=1", "--rdzv_backend=c10d", fmt.Sprintf("--rdzv_endpoint=localhost:%d", port),
			fmt.Sprintf("--rdzv_id=sgcnn-%d-%d", os.Getpid(), port))
	}
	// Rank stdout is teed to a log file and to ours. The flags are given
	// explicitly: torch 1.13's default "0" parses to None on Python 3.11
	// (IntFlag no longer iterates its zero member) and torchrun fails.
	args = append(args, "--redirects=1", "--tee=1", "--log_dir="+filepath.Join(l.Dir, "logs"))
	args = append(args, script, "--spec", specPath)
	cmd := exec.CommandContext(ctx, l.python(), args...)
	cmd.SysProcAttr = &syscall.SysProcAttr{Setpgid: true}
	cmd.Cancel = func() error { return syscall.Kill(-cmd.Process.Pid, syscall.SIGTERM) }
	cmd.Env = append(os.Environ(), "OMP_NUM_THREADS="+fmt.Sprint(max(l.Threads, 1)))
	stdout, err := cmd.StdoutPipe()
	if err != nil {
		return epochStats{}, err
	}
	tail := &lastLines{max: 30}
	cmd.Stderr = tail
	if err := cmd.Start(); err != nil {
		return epochStats{}, fmt.Errorf("torchtrain: starting torchrun: %w", err)
	}
	st := epochStats{eval: -1}
	disp := &display{w: l.Log}
	sc := bufio.NewScanner(stdout)
	for sc.Scan() {
		line := sc.Text()
		tail.Write([]byte(line + "\n"))
		if _, rest, ok := strings.Cut(line, "]:"); ok && strings.HasPrefix(line, "[") {
			line = rest // torchrun's "[default0]:" prefix of teed lines
		}
		if strings.HasPrefix(line, "torch:") {
			disp.line(line)
		}
		parseEpoch(line, &st)
	}
	disp.finish()
	if err := cmd.Wait(); err != nil {
		return st, fmt.Errorf("torchtrain: torchrun failed (%v)%s\nlast lines:\n%s", err, failedRank(tail.String()), tail.String())
	}
	if st.n == 0 {
		return st, fmt.Errorf("torchtrain: the trainer reported no epoch\nlast lines:\n%s", tail.String())
	}
	return st, nil
}

// display shows rank 0's lines: its step lines drive a progress bar
// (internal/progress), the others are written as they are.
type display struct {
	w       io.Writer
	bar     *progress.Bar
	done    int // steps the bar shows
	resumed int // the step a resumed epoch starts at
}

func (d *display) line(line string) {
	if d.w == nil {
		return
	}
	var e, n, i, steps int
	var loss float64
	if _, err := fmt.Sscanf(line, "torch: epoch %d/%d step %d/%d loss %g", &e, &n, &i, &steps, &loss); err == nil {
		if d.bar == nil {
			d.bar = progress.New(d.w, int64(steps), fmt.Sprintf("torch epoch %d", e), "step")
			d.done = 0
			if d.resumed > 0 {
				d.bar.Add(d.resumed, "resumed")
				d.done = d.resumed
			}
		}
		d.bar.Add(i-d.done, fmt.Sprintf("loss %.3f", loss))
		d.done = i
		return
	}
	if _, err := fmt.Sscanf(line, "torch: resuming the phase at epoch %d, step %d", &e, &i); err == nil {
		d.resumed = i
	}
	d.finish()
	fmt.Fprintln(d.w, line)
}

func (d *display) finish() {
	if d.bar != nil {
		d.bar.Finish()
		d.bar = nil
	}
}

// parseEpoch reads trainer.py's epoch line, "torch: epoch E/N lr X train
// loss L acc A% images N R img/s".
func parseEpoch(line string, st *epochStats) {
	f := strings.Fields(line)
	if len(f) == 6 && f[0] == "torch:" && f[1] == "eval" {
		fmt.Sscanf(f[3], "%g%%", &st.eval)
		return
	}
	if len(f) < 12 || f[0] != "torch:" || f[5] != "train" {
		return
	}
	var s epochStats
	if _, err := fmt.Sscanf(strings.Join(f[6:12], " "), "loss %g acc %g%% images %d", &s.loss, &s.top1, &s.n); err == nil {
		st.loss, st.top1, st.n = s.loss, s.top1, s.n
	}
}

// failedRank lists torchrun's summary of the failed ranks, each once, in
// the order it names them (a killed worker first, then the peers that
// failed because of it).
func failedRank(stderr string) string {
	var out []string
	seen := map[string]bool{}
	var rank string
	for _, ln := range strings.Split(stderr, "\n") {
		ln = strings.TrimSpace(ln)
		if v, ok := strings.CutPrefix(ln, "rank      :"); ok {
			rank = strings.TrimSpace(v)
		}
		if v, ok := strings.CutPrefix(ln, "exitcode  :"); ok && rank != "" {
			code, _, _ := strings.Cut(strings.TrimSpace(v), " ")
			if r, _, _ := strings.Cut(rank, " "); !seen[r] {
				seen[r] = true
				out = append(out, fmt.Sprintf("rank %s exited with code %s", r, code))
			}
			rank = ""
		}
	}
	if len(out) == 0 {
		return ""
	}
	return ": " + strings.Join(out, "; ")
}

// lastLines keeps the last max lines written to it.
type lastLines struct {
	mu    sync.Mutex
	max   int
	lines []string
	part  string
}

func (t *lastLines) Write(p []byte) (int, error) {
	t.mu.Lock()
	defer t.mu.Unlock()
	s := t.part + string(p)
	parts := strings.Split(s, "\n")
	t.part = parts[len(parts)-1]
	t.lines = append(t.lines, parts[:len(parts)-1]...)
	if len(t.lines) > t.max {
		t.lines = t.lines[len(t.lines)-t.max:]
	}
	return len(p), nil
}

func (t *lastLines) String() string {
	t.mu.Lock()
	defer t.mu.Unlock()
	return strings.Join(append(append([]string(nil), t.lines...), t.part), "\n")
}

// freePort returns a TCP port on localhost that was free a moment ago.
func freePort() (int, error) {
	ln, err := net.Listen("tcp", "localhost:0")
	if err != nil {
		return 0, fmt.Errorf("torch trainer: finding a free port for torchrun's rendezvous: %w", err)
	}
	defer ln.Close()
	return ln.Addr().(*net.TCPAddr).Port, nil
}
