package sgcnn

import (
	"fmt"

	"github.com/sgcnn/sgcnn/compile"
	"github.com/sgcnn/sgcnn/data"
	"github.com/sgcnn/sgcnn/export/onnx"
	"github.com/sgcnn/sgcnn/graph"
	"github.com/sgcnn/sgcnn/models"
	"github.com/sgcnn/sgcnn/quant"
	"github.com/sgcnn/sgcnn/tensor"
	"github.com/sgcnn/sgcnn/train"
)

// QuantizeConfig configures Quantize: the images the int8 network's
// activation ranges are calibrated on.
type QuantizeConfig struct {
	// Dataset and DataDir name the training data, as EvalConfig's ("":
	// the model file's data set, else its architecture's).
	Dataset, DataDir string
	// Train is the training set (nil: read by Dataset from DataDir).
	Train *data.Dataset
	// ValSplit is the validation split the calibration images are the
	// first of: ValSplit training images drawn with ValSeed, as Prune and
	// Train draw it, so a model fine-tuned with the same split is
	// calibrated on images it did not train on (0: the training set's
	// first images). ValSplitCapped makes it a default rather than a
	// demand (at most a tenth of the training set), as in PruneConfig.
	ValSplit       int
	ValSplitCapped bool
	// Calib is the number of calibration images (0: 512), CalibBatch the
	// images per forward pass (0: 64). Fewer images than one batch is an
	// error.
	Calib, CalibBatch int
}

// Quantized is a model compiled with its convs on the int8 route, and
// what calibrating it found.
type Quantized struct {
	// Compiled is the int8 network; Predict and Net.Forward run it.
	*Compiled
	// Calibration holds each int8 conv's calibrated input range.
	Calibration *quant.Calibration
	// From says which images calibrated it, e.g. "validation split (5000
	// of 50000 training images, seed 1)".
	From string
	// Errors is every int8 conv's relative error on its own fp32 input,
	// over the first batch of calibration images, largest first.
	Errors []quant.LayerError
	// Accelerated reports whether the int8 kernels run on AVX512_VNNI;
	// without it they run in pure Go, correct but slower than fp32.
	Accelerated bool
	model       *Model // the model quantized, for ExportONNX
}

// ONNXOptions returns the package export/onnx options that write the
// quantized model in ONNX's QDQ form, as the int8 route computes it:
// BatchNorm folded, each int8 conv's input quantized as calibrated
// (QuantizeLinear and DequantizeLinear, uint8), its weights per output
// channel (int8) and its bias on the grid of the int32 sums. ONNX Runtime
// runs such a model and agrees with the int8 route on 99.7-99.98% of the
// CIFAR-10 test images of docs/BENCHMARKS.md.
func (q *Quantized) ONNXOptions() onnx.Options {
	qdq := make(map[string]onnx.QDQ, len(q.Calibration.Ranges))
	for name, a := range q.Calibration.Int8() {
		qdq[name] = onnx.QDQ{Scale: a.Scale, Zero: a.Zero}
	}
	return onnx.Options{FoldBN: true, QDQ: qdq, Producer: "sgcnn",
		Metadata: map[string]string{"dataset": DatasetOf("", q.model), "precision": "int8 (QDQ)"}}
}

// Model returns the fp32 model that was quantized (masks included), as
// package export/onnx takes it.
func (q *Quantized) Model() *models.Model { return q.model.Model }

// ExportONNX writes the quantized model to path in ONNX's QDQ form
// (ONNXOptions), all or nothing: on an error no file is left at path.
// An existing file at path is replaced.
func (q *Quantized) ExportONNX(path string) error {
	return onnx.ExportFile(path, q.Model(), q.ONNXOptions())
}

// Quantize calibrates m's activation ranges on images of its training
// data and compiles m with every conv on the compiled fast path taking
// package quant's int8 route: weights per output channel, symmetric int8;
// inputs per tensor, asymmetric uint8. Bad settings are *ConfigError,
// found before any work starts. The fp32 network is Compile(m).
func Quantize(m *Model, cfg QuantizeConfig, opts ...CompileOption) (*Quantized, error) {
	if err := cfg.check(); err != nil {
		return nil, err
	}
	cal, err := calibrationImages(m, &cfg)
	if err != nil {
		return nil, err
	}
	g, err := graph.Of(m.Model.Net, m.Model.InputShape[:])
	if err != nil {
		return nil, err
	}
	c, err := quant.Calibrate(g, cal.images, cfg.CalibBatch)
	if err != nil {
		return nil, err
	}
	errs, err := quant.LayerErrors(g, cal.images, cfg.CalibBatch, c)
	if err != nil {
		return nil, err
	}
	var o compile.Options
	for _, fn := range opts {
		fn(&o)
	}
	n, err := quant.Compile(g, c, o)
	if err != nil {
		return nil, err
	}
	return &Quantized{
		Compiled:    &Compiled{Net: n, norm: cal.norm, in: m.Model.InputShape, classes: classesOf(m)},
		Calibration: c, From: cal.from, Errors: errs, Accelerated: quant.Accelerated(), model: m,
	}, nil
}

// check fills in QuantizeConfig's defaults and refuses bad values.
func (cfg *QuantizeConfig) check() error {
	switch {
	case cfg.CalibBatch < 0:
		return configErr("CalibBatch", cfg.CalibBatch, "want at least 1 (0: 64)")
	case cfg.Calib < 0:
		return configErr("Calib", cfg.Calib, "want at least one batch (0: 512)")
	case cfg.ValSplit < 0:
		return configErr("ValSplit", cfg.ValSplit, "want 0 (none) or a number of training images")
	}
	if cfg.CalibBatch == 0 {
		cfg.CalibBatch = 64
	}
	if cfg.Calib == 0 {
		cfg.Calib = 512
	}
	if cfg.Calib < cfg.CalibBatch {
		return configErr("Calib", cfg.Calib, "want at least one calibration batch (CalibBatch %d)", cfg.CalibBatch)
	}
	return nil
}

// calibration is the images Quantize calibrates on, normalised.
type calibration struct {
	images *tensor.Tensor
	norm   data.Norm
	from   string
}

// calibrationImages returns the first cfg.Calib images of cfg's
// validation split (of the training set without one), normalised as m
// records.
func calibrationImages(m *Model, cfg *QuantizeConfig) (*calibration, error) {
	ds := cfg.Train
	if ds == nil {
		var err error
		if ds, err = OpenSplit(DatasetOf(cfg.Dataset, m), cfg.DataDir, true, 0); err != nil {
			return nil, err
		}
	}
	if err := CheckFits(m, ds); err != nil {
		return nil, err
	}
	n, err := ValSplitOf(cfg.ValSplit, cfg.ValSplitCapped, ds.N)
	if err != nil {
		return nil, err
	}
	from := "training split"
	if n > 0 {
		total := ds.N
		if _, ds, _, err = HoldOut(ds, n); err != nil {
			return nil, err
		}
		from = fmt.Sprintf("validation split (%d of %d training images, seed %d)", n, total, ValSeed)
	}
	if cfg.Calib > ds.N {
		return nil, configErr("Calib", cfg.Calib, "the %s has %d images", from, ds.N)
	}
	if ds, err = First(ds, cfg.Calib); err != nil {
		return nil, err
	}
	norm := RecordedNorm(m.Info, ds)
	x, err := collectImages(ds, norm, cfg.CalibBatch)
	if err != nil {
		return nil, err
	}
	return &calibration{images: x, norm: norm, from: from}, nil
}

// collectImages gathers a data set's images, normalised and in order,
// into one tensor.
func collectImages(ds *data.Dataset, norm data.Norm, batch int) (*tensor.Tensor, error) {
	src, err := EvalSource(ds, norm, batch)
	if err != nil {
		return nil, err
	}
	var x []float32
	err = src(0, func(b train.Batch) bool {
		x = append(x, b.X.Data...)
		return true
	})
	if err != nil {
		return nil, err
	}
	c, h, w := ds.Dims()
	return tensor.From(x, len(x)/(c*h*w), c, h, w)
}
