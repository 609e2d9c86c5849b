package sgcnn

import (
	"bytes"
	"errors"
	"fmt"
	"io"
	"math"
	"os"
	"strings"

	"github.com/sgcnn/sgcnn/data"
	"github.com/sgcnn/sgcnn/modelfile"
	"github.com/sgcnn/sgcnn/models"
	"github.com/sgcnn/sgcnn/onnximport"
	"github.com/sgcnn/sgcnn/pytorch"
)

// Model is a network with the record of how it was made: the data set it
// is for and the normalisation its inputs need.
type Model struct {
	// Model is the network, its architecture and its masks.
	Model *models.Model
	// Info is the model file's record: data set, mean and std, and the
	// training or pruning run that made it.
	Info modelfile.Info
}

// OpenOption configures Open.
type OpenOption func(*openOptions)

type openOptions struct {
	arch       string
	classes    int
	inputShape []int
	dataset    string
	nonFinite  bool
}

// WithArch names the architecture of a PyTorch checkpoint (which does not
// record it; see models.Names), or checks an sgcnn model file's.
func WithArch(arch string) OpenOption { return func(o *openOptions) { o.arch = arch } }

// WithClasses sets the number of classes of an ONNX network whose output
// size the file leaves open (0: as the file says).
func WithClasses(n int) OpenOption { return func(o *openOptions) { o.classes = n } }

// WithInputShape sets the C, H, W input of an ONNX network whose input
// shape the file leaves open.
func WithInputShape(c, h, w int) OpenOption {
	return func(o *openOptions) { o.inputShape = []int{c, h, w} }
}

// WithDataset records the data set a PyTorch or ONNX model is for (an
// sgcnn model file records its own); its normalisation is then the data
// set's.
func WithDataset(name string) OpenOption { return func(o *openOptions) { o.dataset = name } }

// AllowNonFinite loads a model whose weights hold NaN or Inf, which Open
// otherwise refuses (for debugging; see CheckFinite).
func AllowNonFinite() OpenOption { return func(o *openOptions) { o.nonFinite = true } }

// NeedArchError is Open's error for a PyTorch checkpoint opened without
// WithArch.
type NeedArchError struct {
	// Path is the checkpoint's file.
	Path string
}

func (e *NeedArchError) Error() string {
	return fmt.Sprintf("%s is a PyTorch checkpoint, which does not name its architecture: give WithArch (one of %s)", e.Path, strings.Join(models.Names(), ", "))
}

// New returns a fresh, untrained model of a registered architecture (see
// models.Names) for a data set (its classes and normalisation; "" for
// the architecture's usual one).
func New(arch, dataset string) (*Model, error) {
	m, err := models.New(arch, 0, 1)
	if err != nil {
		return nil, err
	}
	if dataset == "" {
		dataset = DefaultDataset(arch)
	}
	info := modelfile.Info{Dataset: dataset}
	if n, ok := datasetNorms[dataset]; ok {
		info.Mean, info.Std = n.Mean, n.Std
	}
	return &Model{Model: m, Info: info}, nil
}

// Open loads a model from path: an sgcnn model file (which names its
// architecture, an imported graph included), a PyTorch checkpoint (legacy
// or zip; WithArch is required, else *NeedArchError) or an ONNX file. A
// model whose weights hold NaN or Inf is refused (unless AllowNonFinite).
// With WithDataset, a model whose file records no normalisation gets the
// data set's. An unknown architecture is a *ConfigError.
func Open(path string, opts ...OpenOption) (*Model, error) {
	var o openOptions
	for _, fn := range opts {
		fn(&o)
	}
	if o.dataset != "" && !KnownDataset(o.dataset) {
		return nil, fmt.Errorf("dataset %q: want one of %s", o.dataset, strings.Join(Datasets, ", "))
	}
	m, err := open(path, o)
	if err != nil {
		return nil, err
	}
	if o.dataset != "" && m.Info.Dataset == "" {
		m.Info.Dataset = o.dataset
	}
	if len(m.Info.Mean) == 0 && o.dataset != "" {
		if n, ok := datasetNorms[m.Info.Dataset]; ok && len(n.Mean) == m.Model.InputShape[0] {
			m.Info.Mean, m.Info.Std = n.Mean, n.Std
		}
	}
	if o.nonFinite {
		return m, nil
	}
	if err := CheckFinite(m.Model); err != nil {
		return nil, fmt.Errorf("%s: %w", path, err)
	}
	return m, nil
}

func open(path string, o openOptions) (*Model, error) {
	head, err := readHead(path)
	if err != nil {
		return nil, err
	}
	switch {
	case IsNative(head):
		f, err := models.LoadFile(path, o.arch)
		if err != nil {
			return nil, err
		}
		return &Model{Model: f.Model, Info: f.Info}, nil
	case onnximport.IsONNX(head):
		if o.arch != "" {
			return nil, configErr("Arch", o.arch, "%s is an ONNX file, which brings its own network: an architecture is for PyTorch checkpoints", path)
		}
		g, err := onnximport.ReadFile(path, onnximport.Options{InputShape: o.inputShape})
		if err != nil {
			return nil, err
		}
		m, err := models.FromGraph(g, o.classes)
		if err != nil {
			return nil, fmt.Errorf("%s: %w", path, err)
		}
		return &Model{Model: m}, nil
	case strings.HasSuffix(path, ".safetensors"):
		return nil, fmt.Errorf("%s is not a valid safetensors file (no 8-byte header length followed by a JSON header)", path)
	}
	if o.arch == "" {
		return nil, &NeedArchError{Path: path}
	}
	m, err := models.New(o.arch, 0, 0)
	if err != nil {
		return nil, badConfig(err)
	}
	sd, err := pytorch.Load(path)
	if err != nil {
		return nil, err
	}
	if err := models.LoadStateDict(m, sd.Tensors); err != nil {
		return nil, fmt.Errorf("%s: %w", path, err)
	}
	return &Model{Model: m}, nil
}

// readHead returns the first bytes of a model file, refusing folders and
// empty files.
func readHead(path string) ([]byte, error) {
	f, err := os.Open(path)
	if err != nil {
		return nil, err
	}
	defer f.Close()
	fi, err := f.Stat()
	if err != nil {
		return nil, err
	}
	if fi.IsDir() {
		return nil, fmt.Errorf("%s is a folder, not a model file", path)
	}
	if fi.Size() == 0 {
		return nil, fmt.Errorf("%s is empty (0 bytes): not a model file", path)
	}
	head := make([]byte, 64)
	n, err := io.ReadFull(f, head)
	if err != nil && !errors.Is(err, io.ErrUnexpectedEOF) {
		return nil, fmt.Errorf("%s: %w", path, err)
	}
	return head[:n], nil
}

// IsNative reports whether a file's first bytes look like a safetensors
// file: an 8-byte little-endian header length followed by '{'.
func IsNative(head []byte) bool {
	return len(head) >= 9 && head[8] == '{' && !bytes.HasPrefix(head, []byte("PK"))
}

// IsNativeFile reports whether the file at path looks like an sgcnn model
// file (see IsNative); false for a file that cannot be read, a folder or
// an empty file.
func IsNativeFile(path string) bool {
	head, err := readHead(path)
	return err == nil && IsNative(head)
}

// CheckFinite returns an error naming the first tensor of m's state that
// holds NaN or Inf.
func CheckFinite(m *models.Model) error {
	if n, i, x, found := NonFinite(m); found {
		return fmt.Errorf("tensor %s holds %g at index %d: the model is not usable", n, x, i)
	}
	return nil
}

// NonFinite finds the first NaN or Inf in m's state (weights, running
// statistics), in state-dict order: the tensor's name, the index and the
// value; found is false when every value is finite.
func NonFinite(m *models.Model) (name string, index int, v float32, found bool) {
	names, ts := models.StateDict(m)
	for _, n := range names {
		for i, x := range ts[n].Data {
			if math.IsNaN(float64(x)) || math.IsInf(float64(x), 0) {
				return n, i, x, true
			}
		}
	}
	return "", 0, 0, false
}

// Save writes the model (weights, running statistics, masks) and its
// record to path, an sgcnn .safetensors file, atomically.
func (m *Model) Save(path string) error {
	return models.SaveFile(path, m.Model, m.Info, nil)
}

// Norm returns the normalisation the model's inputs need: the one its
// file records, else its data set's, else none (mean 0, std 1).
func (m *Model) Norm() data.Norm {
	c := m.Model.InputShape[0]
	if len(m.Info.Mean) == c && len(m.Info.Std) == c {
		return data.Norm{Mean: m.Info.Mean, Std: m.Info.Std}
	}
	if n, ok := datasetNorms[m.Info.Dataset]; ok && len(n.Mean) == c {
		return n
	}
	n := data.Norm{Mean: make([]float32, c), Std: make([]float32, c)}
	for i := range n.Std {
		n.Std[i] = 1
	}
	return n
}
