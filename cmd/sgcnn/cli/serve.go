package cli

import (
	"context"
	"fmt"
	"io"
	"net"
	"os"
	"os/signal"
	"strings"
	"syscall"
	"time"

	"github.com/spf13/cobra"

	"github.com/sgcnn/sgcnn"
	"github.com/sgcnn/sgcnn/compile"
	"github.com/sgcnn/sgcnn/data"
	"github.com/sgcnn/sgcnn/modelfile"
	"github.com/sgcnn/sgcnn/serve"
)

type serveOptions struct {
	model     string
	arch      string
	addr      string
	maxBatch  int
	maxWait   time.Duration
	maxBody   int64
	queue     int
	topK      int
	resize    bool
	route     string
	dataset   string
	precision string            // fp32 or int8
	dataDir   string            // int8: the data set's folder (calibration images)
	calib     int               // int8: calibration images
	listening func(addr string) // test hook: called once the port is open
}

func newServeCmd(g *globals) *cobra.Command {
	o := &serveOptions{}
	cmd := &cobra.Command{
		Use:   "serve --model FILE [--addr HOST:PORT]",
		Short: "Serve a compiled (pruned) model over HTTP, with dynamic batching",
		Long: `Compile a model (its connection masks as they are) and answer predictions
over HTTP until SIGTERM or Ctrl-C, then finish the requests in flight and
exit.

  POST /v1/predict[?k=N]  one image: a PNG or JPEG of the model's input size,
                          or JSON {"pixels": [C][H][W]} of integers 0..255.
                          Answers {"predictions": [{"class", "label",
                          "probability"}], "batch"}, the k most probable
                          classes first (default --top-k).
  GET  /healthz           {"status": "ok", "input_shape", "classes"}
  GET  /metrics           Prometheus metrics (requests by status, latency,
                          batch sizes, queue length, Go runtime).

Images are normalised with the mean/std recorded in the model file (else the
data set's defaults). An image of another size gets 400 with the expected
shape unless --resize is given (then it is scaled, bilinear). A body over
--max-body bytes gets 413; bad images and JSON get 400; a full queue gets
503. Every error is JSON {"error", "expected_shape"}.

Requests are batched dynamically: the first waiting image starts a batch,
which runs when it holds --max-batch images or --max-wait has passed
(--max-wait 0: at once, with the images that queued while the network was
busy). Batching pays where the CPU is free; on a machine that other jobs keep
busy, --max-batch 1 served more (bench/results/serve_load-*.md).
--threads sets the threads the network runs on. A model that fails to load
or compile stops the command before it listens.

--precision int8 serves the network with its convs in int8 (as sgcnn
quantize runs it: AVX-512 VNNI kernels, pure Go on CPUs without VNNI),
calibrated at start-up on --calib images of the data set's validation
split (found automatically, or in --data), so the data set must be at
hand.`,
		Example: `  sgcnn serve --model runs/prune-resnet56-G-conv70/checkpoint.safetensors
  sgcnn serve --model resnet56.safetensors --addr 127.0.0.1:9000 --threads 2 --max-batch 32 --max-wait 5ms
  sgcnn serve --model resnet20-12fca82f.th --arch resnet20 --resize
  sgcnn serve --model runs/prune-resnet56-G-conv70/checkpoint.safetensors --precision int8
  curl -s --data-binary @cat.png -H 'Content-Type: image/png' 'http://127.0.0.1:8080/v1/predict?k=3'`,
		Args: cobra.NoArgs,
		RunE: func(cmd *cobra.Command, args []string) error {
			ctx, stop := signal.NotifyContext(context.Background(), os.Interrupt, syscall.SIGTERM)
			defer stop()
			return runServe(ctx, g, o)
		},
	}
	f := cmd.Flags()
	f.StringVar(&o.model, "model", "", "model file (sgcnn .safetensors, or a PyTorch checkpoint with --arch)")
	f.StringVar(&o.arch, "arch", "", "architecture of a PyTorch checkpoint (see sgcnn info --list)")
	f.StringVar(&o.addr, "addr", "127.0.0.1:8080", "address to listen on (port 0: any free port)")
	f.IntVar(&o.maxBatch, "max-batch", serve.DefaultMaxBatch, "most images run in one batch")
	f.DurationVar(&o.maxWait, "max-wait", serve.DefaultMaxWait, "longest wait for more images after a batch's first (0: run what is queued when the network is free)")
	f.Int64Var(&o.maxBody, "max-body", serve.DefaultMaxBodyBytes, "largest request body in bytes (larger: 413)")
	f.IntVar(&o.queue, "queue", serve.DefaultQueue, "most images waiting (more: 503)")
	f.IntVar(&o.topK, "top-k", serve.DefaultTopK, "classes answered when a request gives no ?k=")
	f.BoolVar(&o.resize, "resize", false, "scale images of another size to the model's input instead of refusing them")
	f.StringVar(&o.route, "route", "auto", "conv route: auto (measured per layer at start-up), grouped, merged, merged-fit or dense")
	f.StringVar(&o.dataset, "dataset", "", "data set for labels and default normalisation (default: the model file's, else the architecture's)")
	f.StringVar(&o.precision, "precision", "fp32", "arithmetic of the convs: fp32, or int8 (calibrated at start-up on the data set's validation split)")
	f.StringVar(&o.dataDir, "data", "", "with --precision int8: folder with the data set's files (default: found automatically)")
	f.IntVar(&o.calib, "calib", 512, "with --precision int8: validation images to calibrate the activation ranges on")
	return cmd
}

func runServe(ctx context.Context, g *globals, o *serveOptions) error {
	if o.model == "" {
		return usagef("--model is required (a model file)")
	}
	if o.maxBatch < 1 || o.queue < 1 || o.topK < 1 || o.maxBody < 1 || o.maxWait < 0 {
		return usagef("--max-batch %d, --queue %d, --top-k %d, --max-body %d: want 1 or more; --max-wait %v: want 0 or more", o.maxBatch, o.queue, o.topK, o.maxBody, o.maxWait)
	}
	route, err := parseRoute(o.route)
	if err != nil {
		return err
	}
	if err := checkPrecision(o.precision, o.calib); err != nil {
		return err
	}
	if _, err := os.Stat(o.model); err != nil {
		return err
	}
	if o.arch == "" && !sgcnn.IsNativeFile(o.model) {
		return usagef("%s is not an sgcnn model file; for a PyTorch checkpoint give --arch", o.model)
	}
	m, info, err := openModel(o.arch, o.model)
	if err != nil {
		return err
	}
	o.dataset = sgcnn.DatasetOf(o.dataset, &sgcnn.Model{Model: m, Info: info})
	norm, labels, err := servingDefaults(o.dataset, info)
	if err != nil {
		return err
	}
	if len(labels) != m.Classes {
		labels = nil
	}
	cfg := serve.Config{Norm: norm, Labels: labels, MaxBatch: o.maxBatch, MaxWait: o.maxWait,
		MaxBodyBytes: o.maxBody, Queue: o.queue, TopK: o.topK, Resize: o.resize}
	copt := compile.Options{Route: route}
	if o.precision == "int8" {
		q, err := calibrateInt8(g.stdout, o.dataset, o.dataDir, o.calib, &sgcnn.Model{Model: m, Info: info})
		if err != nil {
			return err
		}
		copt.Int8 = q.Calibration.Int8()
	}
	srv, err := serve.FromModel(m, copt, cfg)
	if err != nil {
		return fmt.Errorf("%s: %w", o.model, err)
	}
	l, err := net.Listen("tcp", o.addr)
	if err != nil {
		srv.Close()
		return usagef("--addr %s: %v", o.addr, err)
	}
	in := m.InputShape
	fmt.Fprintf(g.stdout, "serving %s (%s, %dx%dx%d in, %d classes) on http://%s\n", o.model, m.Arch, in[0], in[1], in[2], m.Classes, l.Addr())
	if o.listening != nil {
		o.listening(l.Addr().String())
	}
	if err := srv.Serve(ctx, l); err != nil {
		return err
	}
	fmt.Fprintln(g.stdout, "stopped")
	return nil
}

// calibrateInt8 quantizes m for --precision int8 (serve, eval, export):
// calibrated on the first calib images of dataset's validation split (the
// default one, as sgcnn quantize draws it), found in dataDir or
// automatically. It reports the calibration to w.
func calibrateInt8(w io.Writer, dataset, dataDir string, calib int, m *sgcnn.Model) (*sgcnn.Quantized, error) {
	trainSet, err := sgcnn.OpenSplit(dataset, dataDir, true, 0)
	if err != nil {
		return nil, flagError(fmt.Errorf("--precision int8 calibrates on the training data: %w", err))
	}
	n, err := resolveValSplit(defaultValSplit, false, trainSet.N)
	if err != nil {
		return nil, err
	}
	if calib > n {
		return nil, usagef("--calib %d: the validation split has %d images", calib, n)
	}
	q, err := sgcnn.Quantize(m, sgcnn.QuantizeConfig{Train: trainSet, ValSplit: n, Calib: calib, CalibBatch: min(64, calib)})
	if err != nil {
		return nil, flagError(err)
	}
	fmt.Fprintf(w, "int8: %d convs calibrated on %d images of the %s\n", len(q.Calibration.Ranges), q.Calibration.Images, q.From)
	if !q.Accelerated {
		fmt.Fprintln(w, "note: the int8 kernels run in pure Go (this CPU has no AVX512_VNNI): correct but slower than fp32")
	}
	return q, nil
}

// checkPrecision refuses a --precision other than fp32 and int8, and a
// --calib below 1 with int8, before any work starts.
func checkPrecision(precision string, calib int) error {
	switch {
	case precision != "" && precision != "fp32" && precision != "int8":
		return usagef("--precision %q: want fp32 or int8 (bf16 is a training precision)", precision)
	case precision == "int8" && calib < 1:
		return usagef("--calib %d: want at least 1", calib)
	}
	return nil
}

// parseRoute reads --route.
func parseRoute(s string) (compile.Route, error) {
	for _, r := range []compile.Route{compile.Auto, compile.Grouped, compile.Merged, compile.MergedFit, compile.Dense} {
		if r.String() == s {
			return r, nil
		}
	}
	return 0, usagef("--route %q: want auto, grouped, merged, merged-fit or dense", s)
}

// servingDefaults returns the normalisation to serve a model with (the one
// its file records, else the data set's default) and the data set's class
// names.
func servingDefaults(dataset string, info modelfile.Info) (data.Norm, []string, error) {
	var norm data.Norm
	var labels []string
	switch dataset {
	case "cifar10":
		norm, labels = data.ImageNetNorm, data.CIFAR10Classes
	case "cifar100":
		norm, labels = data.CIFAR100Norm, data.CIFAR100Classes
	case "mnist":
		norm, labels = data.MNISTNorm, data.MNISTClasses
	case "fashion-mnist":
		norm, labels = data.FashionMNISTNorm, data.FashionMNISTClasses
	default:
		if len(info.Mean) == 0 {
			return norm, nil, usagef("--dataset %q: want one of %s (or a model file that records its mean/std)", dataset, strings.Join(sgcnn.Datasets, ", "))
		}
	}
	if len(info.Mean) > 0 && len(info.Mean) == len(info.Std) {
		norm = data.Norm{Mean: info.Mean, Std: info.Std}
	}
	return norm, labels, nil
}
