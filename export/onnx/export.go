package onnx

import (
	"fmt"
	"io"
	"maps"
	"slices"
	"time"

	"google.golang.org/protobuf/proto"

	"github.com/sgcnn/sgcnn/graph"
	"github.com/sgcnn/sgcnn/internal/atomicfile"
	"github.com/sgcnn/sgcnn/internal/onnxpb"
	"github.com/sgcnn/sgcnn/models"
)

// Opset is the ONNX operator set version Export writes.
const Opset = 13

// irVersion is the IR version that goes with opset 13.
const irVersion = 7

// Names of the graph's input and output.
const (
	InputName  = "input"
	OutputName = "logits"
)

// ConvMode says how a masked convolution is written.
type ConvMode int

const (
	// ConvDense writes one Conv with the pruned weights as zeros.
	ConvDense ConvMode = iota
	// ConvGrouped writes, per filter group, a Gather of the group's input
	// channels and a Conv, then a Concat and, unless the groups' filters
	// are already in order, a Gather that restores the filter order.
	ConvGrouped
	// ConvFastest times both forms of each masked conv with Options.Timer
	// and writes the faster.
	ConvFastest
)

// String returns "dense", "grouped" or "fastest".
func (c ConvMode) String() string {
	switch c {
	case ConvDense:
		return "dense"
	case ConvGrouped:
		return "grouped"
	case ConvFastest:
		return "fastest"
	}
	return fmt.Sprintf("ConvMode(%d)", int(c))
}

// ParseConvMode parses the names String returns.
func ParseConvMode(s string) (ConvMode, error) {
	for _, c := range []ConvMode{ConvDense, ConvGrouped, ConvFastest} {
		if c.String() == s {
			return c, nil
		}
	}
	return 0, fmt.Errorf("onnx: conv mode %q: want dense, grouped or fastest", s)
}

// Group is one filter group of a conv: its filters and the input channels
// they read, both ascending. A group with no channels holds dead filters,
// whose output is their bias alone.
type Group struct {
	Filters  []int
	Channels []int
}

// Timer measures a model: the median time of one run of the ONNX model
// (input "input", output "output") on an input of the given shape.
type Timer interface {
	Time(model []byte, shape []int64) (time.Duration, error)
}

// Options control Export. The zero value writes every conv dense, with a
// symbolic batch dimension and BatchNormalization nodes.
type Options struct {
	// Batch fixes the batch dimension of the input; 0 leaves it symbolic.
	Batch int
	// FoldBN folds each BatchNormalization node whose input is a Conv's
	// output, read by nothing else, into the conv's weights and bias.
	FoldBN bool
	// Conv says how masked convs are written; dense convs are always one
	// Conv node.
	Conv ConvMode
	// Forms overrides Conv for the named layers (ConvDense or ConvGrouped).
	Forms map[string]ConvMode
	// Groups, if set, gives a masked conv's filter groups (for example
	// from a compiled plan); it returns nil to fall back to the default,
	// one group per distinct mask row (maskgroup.Of). Every filter
	// must be in exactly one group, and a group must list every channel
	// its filters' mask rows keep.
	Groups func(layer string, mask []float32, n, c int) []Group
	// Timer times the two forms under ConvFastest.
	Timer Timer
	// TimeBatch is the batch size the forms are timed at (0: 8).
	TimeBatch int
	// Log, if set, receives one line per masked conv saying which form was
	// written and, under ConvFastest, both times.
	Log io.Writer
	// Producer is written as the model's producer_version.
	Producer string
	// QDQ, when non-nil, writes the named convs (graph node names, as
	// package quant calibrates them) in QDQ form (qdq.go): input
	// QuantizeLinear/DequantizeLinear with the given uint8 quantization,
	// int8 weights per output channel through DequantizeLinear, a float
	// Conv; masked ones dense, with zeros. It needs FoldBN, so that the
	// weights are quantized after the fold, as sgcnn's int8 route does.
	QDQ map[string]QDQ
	// Metadata is written as the model's metadata_props (for example the
	// input normalisation: sgcnn export writes "mean", "std", "dataset").
	Metadata map[string]string
}

// Choice records how one masked conv was written.
type Choice struct {
	Layer   string
	Groups  int      // filter groups, dead filters not counted
	Dead    int      // dead filters
	Form    ConvMode // ConvDense or ConvGrouped
	Dense   time.Duration
	Grouped time.Duration // both zero unless timed
}

// UnsupportedError reports a layer (a graph node) that ONNX export cannot
// express, or that cannot be lowered into a graph.
type UnsupportedError struct {
	Layer  string // layer (node) name
	Type   string // the node's op, or the Go type of a layer that has none
	Reason string
}

func (e *UnsupportedError) Error() string {
	return fmt.Sprintf("onnx: layer %s (%s) cannot be exported: %s", e.Layer, e.Type, e.Reason)
}

// Build converts m to an ONNX model: it lowers m.Net (graph.Of) and writes
// each node of the graph. It returns how each masked conv was written.
func Build(m *models.Model, opts Options) (*onnxpb.ModelProto, []Choice, error) {
	if m == nil || m.Net == nil {
		return nil, nil, fmt.Errorf("onnx: no model")
	}
	if opts.Conv == ConvFastest && opts.Timer == nil {
		return nil, nil, fmt.Errorf("onnx: conv mode fastest needs a Timer (ONNX Runtime)")
	}
	if len(opts.QDQ) > 0 && !opts.FoldBN {
		return nil, nil, fmt.Errorf("onnx: QDQ export needs FoldBN (weights are quantized after the fold)")
	}
	if opts.Batch < 0 {
		return nil, nil, fmt.Errorf("onnx: batch %d: want 0 (symbolic) or more", opts.Batch)
	}
	g, err := graph.Of(m.Net, m.InputShape[:])
	if err != nil {
		return nil, nil, lowerError(err)
	}
	b := newBuilder(m.Arch, opts)
	out, err := b.emitGraph(g)
	if err != nil {
		return nil, nil, err
	}
	if len(out.shape) != 1 {
		return nil, nil, fmt.Errorf("onnx: %s ends in shape %v, want [classes]", m.Arch, out.shape)
	}
	if out.name == InputName || !b.rename(out.name, OutputName) {
		b.node("Identity", OutputName, []string{out.name}, []string{OutputName})
	}
	b.g.Output = append(b.g.Output, valueInfo(OutputName, opts.Batch, out.shape))
	mp := &onnxpb.ModelProto{
		IrVersion:       irVersion,
		OpsetImport:     []*onnxpb.OperatorSetIdProto{{Domain: "", Version: Opset}},
		ProducerName:    "sgcnn",
		ProducerVersion: opts.Producer,
		DocString:       fmt.Sprintf("%s, %d classes, exported by sgcnn", m.Arch, m.Classes),
		Graph:           b.g,
	}
	keys := slices.Sorted(maps.Keys(opts.Metadata))
	for _, k := range keys {
		mp.MetadataProps = append(mp.MetadataProps, &onnxpb.StringStringEntryProto{Key: k, Value: opts.Metadata[k]})
	}
	return mp, b.choices, nil
}

// Export writes m to w as an ONNX file. Nothing is written unless the whole
// model converts.
func Export(w io.Writer, m *models.Model, opts Options) error {
	mp, _, err := Build(m, opts)
	if err != nil {
		return err
	}
	data, err := proto.Marshal(mp)
	if err != nil {
		return fmt.Errorf("onnx: encoding: %w", err)
	}
	_, err = w.Write(data)
	return err
}

// ExportFile writes m to path as an ONNX file, all or nothing: on any error
// no file is left at path (an existing one is kept).
func ExportFile(path string, m *models.Model, opts Options) error {
	mp, _, err := Build(m, opts)
	if err != nil {
		return err
	}
	data, err := proto.Marshal(mp)
	if err != nil {
		return fmt.Errorf("onnx: encoding: %w", err)
	}
	if err := atomicfile.Write(path, func(w io.Writer) error {
		_, err := w.Write(data)
		return err
	}); err != nil {
		return fmt.Errorf("onnx: writing %s: %w", path, err)
	}
	return nil
}
