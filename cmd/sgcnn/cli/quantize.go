package cli

import (
	"fmt"
	"io"
	"runtime"
	"slices"
	"strings"
	"time"

	"github.com/spf13/cobra"
	"golang.org/x/sys/unix"

	"github.com/sgcnn/sgcnn"
	"github.com/sgcnn/sgcnn/budget"
	"github.com/sgcnn/sgcnn/compile"
	"github.com/sgcnn/sgcnn/data"
	"github.com/sgcnn/sgcnn/export/onnx/ort"
	"github.com/sgcnn/sgcnn/internal/cpuload"
	"github.com/sgcnn/sgcnn/internal/kernel"
	"github.com/sgcnn/sgcnn/internal/parallel"
	"github.com/sgcnn/sgcnn/quant"
	"github.com/sgcnn/sgcnn/tensor"
	"github.com/sgcnn/sgcnn/train"
)

type quantizeOptions struct {
	force             bool
	model, weights    string
	dataset, dataDir  string
	calib, calibBatch int
	batch             int // evaluation batch
	benchBatch        int
	repeats           int
	testLimit         int
	onnx              string // write the QDQ model here, and compare ORT on it
	ortLimit          int    // ORT's top-1 on the first N test images (0: all)
	valSplit          int    // calibrate on this validation split (0: the training split)
	valSet            bool   // --val-split given
	pureGo            bool   // force the pure-Go int8 kernels
}

func newQuantizeCmd(g *globals) *cobra.Command {
	o := &quantizeOptions{}
	cmd := &cobra.Command{
		Use:   "quantize --weights FILE [--model ARCH]",
		Short: "Quantize a compiled network to int8 and compare it with fp32",
		Long: `Post-training quantization of a compiled (pruned or dense) network to int8,
compared with the fp32 compiled network in one run.

Every conv that the compiler runs on its fast path takes the int8 route:
weights per output channel, symmetric int8 (BatchNorm folded in first);
its input per tensor, asymmetric uint8, with the range calibrated on the
first --calib images of the validation split (--val-split, drawn as sgcnn
prune and train draw it; --val-split 0: the training split), --calib-batch
at a time (fewer than one batch is an error). The conv quantizes its fp32
input, multiplies in int8 with int32 sums (AVX-512 VNNI's VPDPBUSD), and
dequantizes in registers, adding its bias and residual and applying its
ReLU before the fp32 store. Other layers stay fp32.

With --onnx, the int8 model is also written in ONNX's QDQ form
(QuantizeLinear/DequantizeLinear around each int8 conv, int8 weights per
output channel; BatchNorm folded) and, where ONNX Runtime is found (see
sgcnn export), run on the test set (--ort-limit: its first N images): its
top-1 and its agreement with sgcnn int8; its time joins the speed rounds.

The command prints the test-set top-1 of fp32 and int8, the int8 error of
the convs with the largest error (each on its own fp32 input), and the
median time of a --bench-batch batch on each network, the networks taking
turns in every round (with a 50 ms pause after each run when ONNX Runtime
takes part, so that its spinning threads do not slow the next run), with
the CPU model and the CPU load measured alongside (a shared machine makes
timings noisy; the process CPU time of fp32 and int8 in the same rounds,
which waiting for a core does not inflate, is printed beside them). An int8 top-1 more than 1 point below fp32 gets a warning
naming the convs with the largest error. On a CPU without AVX512_VNNI (or
with --pure-go) the int8 kernels run in pure Go: correct, but slower than
fp32; the command says so.`,
		Example: `  sgcnn quantize --model resnet20 --weights ../shared/models/cifar10/resnet20-12fca82f.th
  sgcnn quantize --weights runs/resnet20-conv70.safetensors --calib 1024`,
		Args: cobra.NoArgs,
		RunE: func(cmd *cobra.Command, args []string) error { return runQuantize(g, o) },
	}
	f := cmd.Flags()
	f.StringVar(&o.model, "model", "", "architecture of a PyTorch checkpoint (see sgcnn info --list)")
	f.StringVar(&o.weights, "weights", "", "model file (sgcnn .safetensors or PyTorch .th/.pth)")
	f.StringVar(&o.dataset, "dataset", "", "cifar10, cifar100, mnist or fashion-mnist (default: the model's)")
	f.StringVar(&o.dataDir, "data", "", "folder with the data set's files (default: found automatically)")
	f.IntVar(&o.calib, "calib", 512, "training images to calibrate the activation ranges on")
	f.IntVar(&o.calibBatch, "calib-batch", 64, "calibration images per forward pass")
	f.IntVar(&o.batch, "batch", 200, "images per batch on the test set")
	f.IntVar(&o.benchBatch, "bench-batch", 64, "batch size of the speed comparison (0: skip it)")
	f.IntVar(&o.repeats, "repeats", 7, "timed runs per network (medians are reported)")
	f.IntVar(&o.testLimit, "test-limit", 0, "evaluate on the first N test images only (0: all)")
	addForce(f, &o.force)
	f.StringVar(&o.onnx, "onnx", "", "also write the int8 model as ONNX in QDQ form to this file and, where ONNX Runtime is installed, compare it with sgcnn int8 (top-1 agreement, speed)")
	f.IntVar(&o.ortLimit, "ort-limit", 0, "with --onnx: run ONNX Runtime on the first N test images only (0: all)")
	f.BoolVar(&o.pureGo, "pure-go", false, "run the int8 kernels in pure Go, as on a CPU without AVX512_VNNI")
	addValSplitFlag(cmd, &o.valSplit)
	cmd.PreRun = func(cmd *cobra.Command, _ []string) { o.valSet = cmd.Flags().Changed("val-split") }
	return cmd
}

func (o *quantizeOptions) check() error {
	switch {
	case o.weights == "":
		return usagef("--weights is required")
	case o.calibBatch < 1:
		return usagef("--calib-batch %d: want at least 1", o.calibBatch)
	case o.calib < o.calibBatch:
		return usagef("--calib %d: want at least one calibration batch (--calib-batch %d)", o.calib, o.calibBatch)
	case o.batch < 1:
		return usagef("--batch %d: want at least 1", o.batch)
	case o.benchBatch < 0:
		return usagef("--bench-batch %d: want 0 (skip) or more", o.benchBatch)
	case o.repeats < 1:
		return usagef("--repeats %d: want at least 1", o.repeats)
	case o.testLimit < 0:
		return usagef("--test-limit %d: want 0 (all) or more", o.testLimit)
	case o.ortLimit < 0:
		return usagef("--ort-limit %d: want 0 (all) or more", o.ortLimit)
	}
	return checkValSplit(o.valSplit)
}

func runQuantize(gl *globals, o *quantizeOptions) error {
	if err := o.check(); err != nil {
		return err
	}
	if o.onnx != "" {
		if err := refuseOverwrite("--onnx", o.onnx, o.force); err != nil {
			return err
		}
	}
	m, info, err := openModel(o.model, o.weights)
	if err != nil {
		return err
	}
	sm := &sgcnn.Model{Model: m, Info: info}
	o.dataset = sgcnn.DatasetOf(o.dataset, sm)
	trainSet, err := sgcnn.OpenSplit(o.dataset, o.dataDir, true, 0)
	if err != nil {
		return flagError(err)
	}
	testSet, err := sgcnn.OpenSplit(o.dataset, o.dataDir, false, 0)
	if err != nil {
		return flagError(err)
	}
	if err := sgcnn.CheckFits(sm, testSet); err != nil {
		return err
	}
	if testSet, err = sgcnn.First(testSet, o.testLimit); err != nil {
		return err
	}
	w := gl.stdout
	if o.pureGo {
		defer quant.ForcePureGo()()
	}
	n, err := resolveValSplit(o.valSplit, o.valSet, trainSet.N)
	if err != nil {
		return err
	}
	if n > 0 && o.calib > n {
		return usagef("--calib %d: the validation split (--val-split) has %d images", o.calib, n)
	}
	q, err := sgcnn.Quantize(sm, sgcnn.QuantizeConfig{Train: trainSet, ValSplit: n, Calib: o.calib, CalibBatch: o.calibBatch})
	if err != nil {
		return flagError(err)
	}
	if !q.Accelerated {
		fmt.Fprintln(w, "note: the int8 kernels run in pure Go (this CPU has no AVX512_VNNI, or --pure-go or -tags noasm): correct but slower than fp32")
	}
	f32, err := sgcnn.Compile(sm)
	if err != nil {
		return err
	}
	norm := sgcnn.RecordedNorm(info, testSet)
	cal, i8 := q.Calibration, q.Net
	fmt.Fprintf(w, "sgcnn quantize %s (%s), %s, %s, %d threads, Go %s\n", o.weights, m.Arch,
		time.Now().UTC().Format("2006-01-02 15:04 MST"), budget.CPUModel(), parallel.Threads(), runtime.Version())
	fmt.Fprintf(w, "calibrated %d convs on %d %s images of the %s; int8 kernels: %s\n", len(cal.Ranges), cal.Images, o.dataset, q.From, kernelName())
	top, err := topOne(testSet, norm, o.batch, f32.Net, i8)
	if err != nil {
		return err
	}
	fmt.Fprintf(w, "top-1 on %d test images: fp32 %.2f%%  int8 %.2f%%  (int8 - fp32 %+.2f points; top-1 agreement %.2f%%)\n",
		top.n, top.acc[0], top.acc[1], top.acc[1]-top.acc[0], top.agree)
	fmt.Fprint(w, int8ErrorReport(top.acc[0], top.acc[1], q.Errors))
	var sess *ort.Session
	if o.onnx != "" {
		if sess, err = quantONNX(gl, o, q, testSet, norm, top.pred); err != nil {
			return err
		}
		if sess != nil {
			defer sess.Close()
		}
	}
	if o.benchBatch > 0 {
		return quantSpeed(w, m.InputShape[:], o.benchBatch, o.repeats, f32.Net, i8, sess)
	}
	return nil
}

// int8ErrorReport names the three convs with the largest int8 error (errs
// comes largest first) and, when int8 top-1 falls more than 1 point below
// fp32, adds a warning naming them.
func int8ErrorReport(f32, i8 float64, errs []quant.LayerError) string {
	var names []string
	for _, e := range errs[:min(3, len(errs))] {
		names = append(names, fmt.Sprintf("%s %.2f%%", e.Layer, 100*e.RelRMS))
	}
	list := strings.Join(names, ", ")
	s := fmt.Sprintf("largest int8 conv errors (relative RMS on calibration input): %s\n", list)
	if i8 < f32-1 {
		s += fmt.Sprintf("warning: int8 top-1 is %.2f points below fp32; the convs with the largest error are %s\n", f32-i8, list)
	}
	return s
}

// topOneResult is the top-1 accuracy (percent) of two networks and how
// often they agree.
type topOneResult struct {
	n     int
	acc   [2]float64
	agree float64
	pred  []int // the second network's predictions
}

// topOne evaluates nets on the test set.
func topOne(ds *data.Dataset, norm data.Norm, batch int, nets ...*compile.Net) (topOneResult, error) {
	var r topOneResult
	src, err := sgcnn.EvalSource(ds, norm, batch)
	if err != nil {
		return r, err
	}
	var right [2]int
	var preds []int
	agree := 0
	var ferr error
	err = src(0, func(b train.Batch) bool {
		var pred [2][]int
		for i, net := range nets[:2] {
			y, err := net.Forward(b.X)
			if err != nil {
				ferr = err
				return false
			}
			k := y.Shape[1]
			for j, label := range b.Y {
				p := argmaxRow(y.Data[j*k : (j+1)*k])
				pred[i] = append(pred[i], p)
				if p == label {
					right[i]++
				}
			}
		}
		for j := range pred[0] {
			if pred[0][j] == pred[1][j] {
				agree++
			}
		}
		preds = append(preds, pred[1]...)
		r.n += len(b.Y)
		return true
	})
	if err == nil {
		err = ferr
	}
	if err != nil || r.n == 0 {
		return r, err
	}
	for i := range 2 {
		r.acc[i] = 100 * float64(right[i]) / float64(r.n)
	}
	r.agree = 100 * float64(agree) / float64(r.n)
	r.pred = preds
	return r, nil
}

func argmaxRow(v []float32) int {
	b := 0
	for i, x := range v {
		if x > v[b] {
			b = i
		}
	}
	return b
}

// settleORT is the pause after every timed run when ONNX Runtime takes
// part: its idle threads spin a while and would take the next run's cores.
const settleORT = 50 * time.Millisecond

// quantSpeed times a batch of random images on fp32, int8 and (sess not
// nil) ONNX Runtime on the QDQ model, the engines taking turns in each of
// repeats rounds after one warm-up round, and prints the medians, the
// ratios and the CPU load just before.
func quantSpeed(w io.Writer, in []int, batch, repeats int, f32, i8 *compile.Net, sess *ort.Session) error {
	x := tensor.New(append([]int{batch}, in...)...)
	for i := range x.Data {
		x.Data[i] = float32(i%17)/8 - 1
	}
	shape := make([]int64, len(x.Shape))
	for i, d := range x.Shape {
		shape[i] = int64(d)
	}
	runs := []func() error{
		func() error { _, err := f32.Forward(x); return err },
		func() error { _, err := i8.Forward(x); return err },
	}
	if sess != nil {
		runs = append(runs, func() error { _, _, err := sess.Run(x.Data, shape); return err })
	}
	ts := make([][]time.Duration, len(runs))
	cs := make([][]time.Duration, len(runs)) // process CPU time, which waiting for a core does not inflate
	load, err := cpuload.Busy(time.Second)   // other jobs: measured before ours start
	if err != nil {
		return err
	}
	for rep := range repeats + 1 {
		for i, f := range runs {
			t0, c0 := time.Now(), cpuTime()
			if err := f(); err != nil {
				return err
			}
			if rep > 0 {
				ts[i] = append(ts[i], time.Since(t0))
				cs[i] = append(cs[i], cpuTime()-c0)
			}
			if sess != nil {
				time.Sleep(settleORT)
			}
		}
	}
	med := func(d []time.Duration) time.Duration { slices.Sort(d); return d[len(d)/2] }
	a, b := med(ts[0]), med(ts[1])
	fmt.Fprintf(w, "batch %d, median of %d interleaved rounds: fp32 %.2f ms  int8 %.2f ms  int8 speedup %.2fx  (best runs %.2fx; CPU load %.0f%% in the second before timing)\n",
		batch, repeats, ms(a), ms(b), float64(a)/float64(b), float64(slices.Min(ts[0]))/float64(slices.Min(ts[1])), 100*load)
	ca, cb := med(cs[0]), med(cs[1])
	fmt.Fprintf(w, "batch %d, same rounds, process CPU time: fp32 %.2f ms  int8 %.2f ms  int8 speedup %.2fx\n",
		batch, ms(ca), ms(cb), float64(ca)/float64(cb))
	if sess != nil {
		c := med(ts[2])
		fmt.Fprintf(w, "batch %d, same rounds: ONNX Runtime QDQ %.2f ms  sgcnn int8 %.2f ms  (sgcnn int8 %.2fx ONNX Runtime)\n",
			batch, ms(c), ms(b), float64(c)/float64(b))
	}
	if t := kernel.Int8Tuning(); t != "" {
		fmt.Fprintf(w, "int8 routes measured: %s\n", t)
	}
	return nil
}

// cpuTime returns the CPU time this process has used (all threads); 0
// where the clock cannot be read.
func cpuTime() time.Duration {
	var ts unix.Timespec
	if unix.ClockGettime(unix.CLOCK_PROCESS_CPUTIME_ID, &ts) != nil {
		return 0
	}
	return time.Duration(ts.Nano())
}

func ms(d time.Duration) float64 { return float64(d.Microseconds()) / 1000 }

// kernelName describes the int8 kernels in use.
func kernelName() string {
	if !quant.Accelerated() {
		return "pure Go"
	}
	if ok, _ := kernel.Int8AMX(); ok {
		return "AVX-512 VNNI assembly, AMX-INT8 tiles where measured faster"
	}
	return "AVX-512 VNNI assembly"
}
