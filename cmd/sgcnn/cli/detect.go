package cli

import (
	"context"
	"errors"
	"fmt"
	"sort"
	"time"

	"github.com/spf13/cobra"

	"github.com/sgcnn/sgcnn"
	"github.com/sgcnn/sgcnn/compile"
	"github.com/sgcnn/sgcnn/data"
	"github.com/sgcnn/sgcnn/detect"
	"github.com/sgcnn/sgcnn/internal/cpuload"
	"github.com/sgcnn/sgcnn/internal/parallel"
)

type detectOptions struct {
	backbones        []string
	model, dataDir   string
	trainN, testN    int
	size, head       int
	dataSeed         uint64
	cfg              detect.TrainConfig
	speedBatch, runs int
	speedOnly, json  bool
}

// detectRun is one backbone's result.
type detectRun struct {
	Backbone string              `json:"backbone"`
	Arch     string              `json:"arch"`
	Pruned   float64             `json:"pruned_fraction"` // of the backbone's masked connections
	History  []detect.EpochStats `json:"history"`
	Test     detect.Metrics      `json:"test"`
	// Forward images per second at the speed batch: the layers (masked
	// dense convs), the compiled executor with the masks, and the same
	// executor ignoring them.
	ImgPerSecNN        float64 `json:"img_per_sec_nn"`
	ImgPerSecCompiled  float64 `json:"img_per_sec_compiled"`
	ImgPerSecDenseExec float64 `json:"img_per_sec_compiled_dense"`
}

// detectReport is what sgcnn detect prints with --json.
type detectReport struct {
	Canvas     int                `json:"canvas"`
	TrainN     int                `json:"train_images"`
	TestN      int                `json:"test_images"`
	DataSeed   uint64             `json:"data_seed"`
	Config     detect.TrainConfig `json:"config"`
	Head       int                `json:"head_width"`
	Threads    int                `json:"threads"`
	SpeedBatch int                `json:"speed_batch"`
	// CPULoad is the fraction of all CPUs busy over half a second just
	// before the speed measurements (this process idle): other work on the
	// machine skews the speeds.
	CPULoad float64     `json:"cpu_load_before_speed"`
	Runs    []detectRun `json:"runs"`
}

func newDetectCmd(g *globals) *cobra.Command {
	o := &detectOptions{cfg: detect.TrainConfig{Epochs: 6, Batch: 32, LR: 0.01, Milestones: []int{4}, Momentum: 0.9,
		WeightDecay: 1e-4, Weights: detect.DefaultWeights, Seed: 1}}
	cmd := &cobra.Command{
		Use:   "detect --backbone MODEL_FILE [--backbone MODEL_FILE ...] [flags]",
		Short: "Train and evaluate an object detector on a (pruned) CIFAR ResNet backbone",
		Long: `Train a small single-stage, anchor-free detector (CenterNet-like) on the
feature extractor of each given model (its layers before global pooling,
masks kept fixed) and evaluate it, so that pruned and dense backbones can be
compared at the same training budget.

The data are synthetic and built on the fly from a seed, never stored:
MNIST digits pasted at random positions and sizes (16 to 36 pixels) on
--size x --size black canvases, 1 to 4 per image overlapping by an IoU of
at most 0.3, grey copied to three channels; each object's box is its
digit's tight bounding box and its class the digit. Training canvases use
MNIST's training digits, test canvases its test digits. The same --data-seed
gives the same images.

The head is conv3x3 + ReLU + conv1x1 at output stride 4, predicting a
heatmap per class (penalty-reduced focal loss on Gaussian-splatted centres),
box size and centre offset (L1 at the centres). Detections are the 3x3
local maxima of the heatmaps, top 100 per image. The test set is scored
COCO-style (101-point interpolated AP): mAP@0.5, mAP@0.75 and
mAP@[.5:.95].

The forward speed of each detector is measured after all training, at
--speed-batch images per batch on --threads threads: through the layers
(masked dense convolutions, the cost of a pruned model kept as weights
times masks), through the compiled executor that skips pruned connections,
and through that executor with the masks ignored (the dense baseline of the
same engine). The backbones are timed in turns, three rounds of
--speed-runs passes each, and the median is kept, so that load from other
work hits them alike. --speed-only skips training and evaluation (the
speed does not depend on the head's weights).

Sizes are bounded so that no flag makes the command allocate without
limit: --size at most 256, --train and --test at most 100,000 canvases
and 2 GB together, --batch (and --speed-batch) x --size^2 at most 1,048,576
pixels, --head at most 4096 channels.

The backbones must take 3x32x32 inputs and downsample by 4, as the CIFAR
ResNets with option A shortcuts do; a PyTorch checkpoint needs --model.`,
		Example: `  sgcnn import ../shared/models/cifar10/resnet20-12fca82f.th --model resnet20 -o runs/resnet20.safetensors
  sgcnn detect --backbone runs/resnet20.safetensors --backbone runs/prune-resnet20-G-conv50/checkpoint.safetensors
  sgcnn detect --backbone runs/resnet20.safetensors --train 500 --test 200 --epochs 2 --json`,
		Args: cobra.NoArgs,
		RunE: func(cmd *cobra.Command, args []string) error { return runDetect(g, o) },
	}
	f := cmd.Flags()
	c := &o.cfg
	f.StringSliceVar(&o.backbones, "backbone", nil, "model file whose feature extractor is the backbone (repeat to compare)")
	f.StringVar(&o.model, "model", "", "architecture, required for a PyTorch checkpoint")
	f.StringVar(&o.dataDir, "data", "", "folder with MNIST's files (default: found automatically)")
	f.IntVar(&o.trainN, "train", 2000, fmt.Sprintf("training canvases (at most %d)", maxCanvases))
	f.IntVar(&o.testN, "test", 500, fmt.Sprintf("test canvases (at most %d)", maxCanvases))
	f.IntVar(&o.size, "size", 64, fmt.Sprintf("canvas side in pixels (a multiple of 4, from 32 to %d)", maxCanvasSize))
	f.Uint64Var(&o.dataSeed, "data-seed", 1, "seed of the synthetic data")
	f.IntVar(&o.head, "head", 64, "channels of the head's 3x3 conv (at most 4096)")
	f.IntVar(&c.Epochs, "epochs", c.Epochs, "training epochs")
	f.IntVar(&c.Batch, "batch", c.Batch, fmt.Sprintf("images per batch (at most %d, and --batch x --size^2 at most %d pixels)", maxBatch, maxBatchPixels))
	f.Float64Var(&c.LR, "lr", c.LR, "initial learning rate")
	f.IntSliceVar(&c.Milestones, "milestones", c.Milestones, "0-based epochs from which the rate is divided by 10 once more")
	f.Float64Var(&c.Momentum, "momentum", c.Momentum, "SGD momentum")
	f.Float64Var(&c.WeightDecay, "wd", c.WeightDecay, "weight decay")
	f.Float64Var(&c.Weights.Size, "size-weight", c.Weights.Size, "weight of the box size loss")
	f.Float64Var(&c.Weights.Offset, "offset-weight", c.Weights.Offset, "weight of the centre offset loss")
	f.Uint64Var(&c.Seed, "seed", c.Seed, "seed of the head's weights and of shuffling")
	f.IntVar(&o.speedBatch, "speed-batch", 16, fmt.Sprintf("images per batch when timing the forward pass (at most %d)", maxBatch))
	f.IntVar(&o.runs, "speed-runs", 7, "timed forward passes (the median is reported)")
	f.BoolVar(&o.speedOnly, "speed-only", false, "measure the forward speed only (no training or evaluation)")
	f.BoolVar(&o.json, "json", false, "print the report as JSON")
	return cmd
}

func runDetect(g *globals, o *detectOptions) error {
	switch {
	case len(o.backbones) == 0:
		return usagef("--backbone is required (a CIFAR ResNet model file)")
	case o.trainN < 1 || o.testN < 1 || o.trainN > maxCanvases || o.testN > maxCanvases:
		return usagef("--train %d, --test %d: want 1 to %d each", o.trainN, o.testN, maxCanvases)
	case o.size < 32 || o.size%4 != 0 || o.size > maxCanvasSize:
		return usagef("--size %d: want a multiple of 4, from 32 to %d", o.size, maxCanvasSize)
	case o.speedBatch < 1 || o.runs < 1 || o.runs > 1000:
		return usagef("--speed-batch %d, --speed-runs %d: want at least 1 each, at most 1000 runs", o.speedBatch, o.runs)
	case o.head < 1 || o.head > 4096:
		return usagef("--head %d: want 1 to 4096 channels", o.head)
	}
	if err := detectMemory(o); err != nil {
		return err
	}
	if err := o.cfg.Validate(); err != nil {
		return usageError{err}
	}
	sets := [2]*detect.Set{}
	for i, n := range []int{o.trainN, o.testN} {
		digits, err := data.LoadMNIST(o.dataDir, i == 0)
		if err != nil {
			return err
		}
		gen := detect.DefaultGenConfig(n, o.dataSeed+uint64(i)*1000003)
		gen.Size, gen.MaxScale = o.size, min(gen.MaxScale, o.size)
		if sets[i], err = detect.Generate(digits, gen); err != nil {
			return err
		}
	}
	rep := detectReport{Canvas: o.size, TrainN: o.trainN, TestN: o.testN, DataSeed: o.dataSeed, Config: o.cfg,
		Head: o.head, Threads: parallel.Threads(), SpeedBatch: o.speedBatch}
	var dets []*detect.Detector
	for _, path := range o.backbones {
		r, d, err := detectOne(g, o, path, sets)
		if err != nil {
			if errors.Is(err, context.Canceled) {
				return errors.New("interrupted")
			}
			return fmt.Errorf("%s: %w", path, err)
		}
		rep.Runs = append(rep.Runs, *r)
		dets = append(dets, d)
	}
	if err := measureDetectors(g, o, &rep, dets, sets[1]); err != nil {
		return err
	}
	if o.json {
		return writeJSON(g.stdout, rep)
	}
	fmt.Fprintf(g.stdout, "%d train / %d test canvases of %dx%d, %d epochs, %d threads; speed at batch %d\n",
		o.trainN, o.testN, o.size, o.size, o.cfg.Epochs, rep.Threads, o.speedBatch)
	fmt.Fprintf(g.stdout, "%-40s %7s %7s %7s %7s %9s %9s %9s\n", "backbone", "pruned", "mAP50", "mAP75", "mAP", "img/s nn", "compiled", "dense ex")
	for _, r := range rep.Runs {
		fmt.Fprintf(g.stdout, "%-40s %6.1f%% %6.2f%% %6.2f%% %6.2f%% %9.0f %9.0f %9.0f\n", shorten(r.Backbone, 40), 100*r.Pruned,
			100*r.Test.AP50, 100*r.Test.AP75, 100*r.Test.AP, r.ImgPerSecNN, r.ImgPerSecCompiled, r.ImgPerSecDenseExec)
	}
	return nil
}

// detectOne trains and evaluates a detector on one backbone.
func detectOne(g *globals, o *detectOptions, path string, sets [2]*detect.Set) (*detectRun, *detect.Detector, error) {
	m, _, err := openModel(o.model, path)
	if err != nil {
		return nil, nil, err
	}
	d, err := detect.New(m, len(sets[0].Classes), o.head, o.cfg.Seed)
	if err != nil {
		return nil, nil, err
	}
	if err := d.CheckInput(o.size); err != nil {
		return nil, nil, usageError{err}
	}
	r := &detectRun{Backbone: path, Arch: m.Arch}
	r.Pruned = sgcnn.PrunedFraction(d.Net, nil)
	fmt.Fprintf(g.stderr, "detector on %s (%s, %.1f%% of masked connections pruned)\n", path, m.Arch, 100*r.Pruned)
	if o.speedOnly {
		return r, d, nil
	}
	ctx, cancel := interruptible(g, "")
	defer cancel()
	if r.History, err = detect.Train(ctx, d, sets[0], o.cfg, g.stderr); err != nil {
		return nil, nil, err
	}
	if r.Test, err = detect.EvaluateSet(d, sets[1]); err != nil {
		return nil, nil, err
	}
	fmt.Fprintf(g.stderr, "test: mAP@0.5 %.2f%%  mAP@0.75 %.2f%%  mAP@[.5:.95] %.2f%%\n", 100*r.Test.AP50, 100*r.Test.AP75, 100*r.Test.AP)
	return r, d, nil
}

// measureDetectors times every detector's forward pass on three paths, in
// turns over three rounds, keeping each one's median round.
func measureDetectors(g *globals, o *detectOptions, rep *detectReport, dets []*detect.Detector, set *detect.Set) error {
	const rounds = 3
	if load, err := cpuload.Busy(500 * time.Millisecond); err == nil {
		rep.CPULoad = load
	}
	fmt.Fprintf(g.stderr, "timing the forward pass at batch %d on %d threads (CPU load %.0f%%)\n", o.speedBatch, rep.Threads, 100*rep.CPULoad)
	samples := make([][3][]float64, len(dets))
	for range rounds {
		for i, d := range dets {
			for k, f := range []func() (float64, error){
				func() (float64, error) { return detect.Speed(d, set, o.speedBatch, o.runs) },
				func() (float64, error) { return detect.CompiledSpeed(d, set, o.speedBatch, o.runs, compile.Options{}) },
				func() (float64, error) {
					return detect.CompiledSpeed(d, set, o.speedBatch, o.runs, compile.Options{IgnoreMasks: true})
				},
			} {
				v, err := f()
				if err != nil {
					return fmt.Errorf("%s: timing: %w", rep.Runs[i].Backbone, err)
				}
				samples[i][k] = append(samples[i][k], v)
			}
		}
	}
	for i := range dets {
		r := &rep.Runs[i]
		for k, dst := range []*float64{&r.ImgPerSecNN, &r.ImgPerSecCompiled, &r.ImgPerSecDenseExec} {
			sort.Float64s(samples[i][k])
			*dst = samples[i][k][rounds/2]
		}
	}
	return nil
}

// shorten keeps the last n characters of a path.
func shorten(s string, n int) string {
	if len(s) <= n {
		return s
	}
	return "..." + s[len(s)-n+3:]
}
