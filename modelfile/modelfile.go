// Package modelfile is sgcnn's native model file: a safetensors file (see
// package checkpoint) whose tensors are the model's PyTorch-named state
// dict, its connection masks ("<layer>.weight_mask", [N][C], as
// torch.nn.utils.prune names them) and optional extra state such as
// optimiser momentum ("optim.<param>.momentum_buffer"), and whose metadata
// holds the architecture and a JSON record of how the model was made, so
// that a saved model loads with no other file.
//
// An imported network (models.FromGraph, architecture "graph") is saved the
// same way, with its graph's JSON (graph.Graph: nodes, ops, attributes) in
// the metadata key "graph" and its constant operands ("<node>.const") among
// the tensors; Load rebuilds it with graph.Build and loads the tensors into
// it, so it too needs no other file.
package modelfile

import (
	"encoding/binary"
	"encoding/json"
	"fmt"
	"io"
	"os"
	"sort"
	"strconv"
	"strings"

	"github.com/sgcnn/sgcnn/checkpoint"
	"github.com/sgcnn/sgcnn/models"
	"github.com/sgcnn/sgcnn/nn"
	"github.com/sgcnn/sgcnn/tensor"
)

// Metadata keys.
const (
	keyFormat  = "format"
	keyArch    = "arch"
	keyClasses = "classes"
	keyShortB  = "shortcut_b"
	keyInfo    = "info"
	keyGraph   = "graph"
	format     = "sgcnn-model/1"
	maskSuffix = ".weight_mask"
	// OptimPrefix starts the names of optimiser state tensors.
	OptimPrefix = "optim."
	// maxHeader bounds the header Arch reads (the safetensors limit).
	maxHeader = 100 << 20
)

// Info records how a model was made: data set, normalisation, training and
// pruning state. It is free-form JSON for the commands that write it.
type Info struct {
	Dataset  string          `json:"dataset,omitempty"`
	Mean     []float32       `json:"mean,omitempty"`
	Std      []float32       `json:"std,omitempty"`
	Training json.RawMessage `json:"training,omitempty"`
	Pruning  json.RawMessage `json:"pruning,omitempty"`
}

// File is a loaded model file.
type File struct {
	Model *models.Model
	Info  Info
	// Extra holds the tensors that are neither parameters, buffers nor
	// masks (optimiser state), by name.
	Extra map[string]*tensor.Tensor
}

// Save writes m (weights, running statistics, masks), info and extra
// tensors to path atomically.
func Save(path string, m *models.Model, shortcutB bool, info Info, extra map[string]*tensor.Tensor) error {
	names, ts, graphJSON, err := stateOf(m)
	if err != nil {
		return err
	}
	tensors := make(map[string]*tensor.Tensor, len(ts)+len(extra))
	for k, v := range ts {
		tensors[k] = v
	}
	for _, p := range nn.Prunables(m.Net) {
		if mask := p.Mask(); mask != nil {
			n, c := p.MaskShape()
			name := p.Name() + maskSuffix
			tensors[name] = &tensor.Tensor{Shape: []int{n, c}, Data: mask}
			names = append(names, name)
		}
	}
	extraNames := make([]string, 0, len(extra))
	for k := range extra {
		if _, dup := tensors[k]; dup {
			return fmt.Errorf("modelfile: extra tensor %q clashes with a model tensor", k)
		}
		extraNames = append(extraNames, k)
	}
	sort.Strings(extraNames)
	for _, k := range extraNames {
		tensors[k] = extra[k]
		names = append(names, k)
	}
	infoJSON, err := json.Marshal(info)
	if err != nil {
		return fmt.Errorf("modelfile: %w", err)
	}
	meta := map[string]string{keyFormat: format, keyArch: m.Arch, keyClasses: strconv.Itoa(m.Classes), keyInfo: string(infoJSON)}
	if shortcutB {
		meta[keyShortB] = "true"
	}
	if graphJSON != "" {
		meta[keyGraph] = graphJSON
	}
	return checkpoint.Save(path, &checkpoint.File{Names: names, Tensors: tensors, Meta: meta})
}

// MaxClasses bounds the "classes" a model file may declare (ImageNet-21k
// has 21,841).
const MaxClasses = 100000

// hasClassifier reports whether a tensor of two or more dimensions has n
// rows.
func hasClassifier(ts map[string]*tensor.Tensor, n int) bool {
	for _, t := range ts {
		if len(t.Shape) >= 2 && t.Shape[0] == n && len(t.Data) >= n {
			return true
		}
	}
	return false
}

// Load reads a model file and rebuilds its model. wantArch, when not
// empty, must match the file's architecture.
func Load(path, wantArch string) (*File, error) {
	f, err := checkpoint.Load(path)
	if err != nil {
		return nil, err
	}
	if f.Meta[keyFormat] != format {
		return nil, fmt.Errorf("%s: not an sgcnn model file (metadata %q is %q, want %q)", path, keyFormat, f.Meta[keyFormat], format)
	}
	arch := f.Meta[keyArch]
	if wantArch != "" && wantArch != arch {
		return nil, fmt.Errorf("%s: the file holds a %s, not a %s", path, arch, wantArch)
	}
	classes, err := strconv.Atoi(f.Meta[keyClasses])
	if err != nil || classes < 1 || classes > MaxClasses {
		return nil, fmt.Errorf("%s: metadata %q is %.20q, want an integer from 1 to %d", path, keyClasses, f.Meta[keyClasses], MaxClasses)
	}
	// A known architecture is built from the metadata before its tensors
	// are matched: the classifier's weights, [classes][features...], must be
	// in the file, so that the model built costs no more than the file
	// holds. (An imported graph is checked against its weights by build.)
	if arch != models.GraphArch && !hasClassifier(f.Tensors, classes) {
		return nil, fmt.Errorf("%s: metadata %q is %d, but the file holds no classifier weight of %d rows", path, keyClasses, classes, classes)
	}
	out := &File{Extra: map[string]*tensor.Tensor{}}
	if s := f.Meta[keyInfo]; s != "" {
		if err := json.Unmarshal([]byte(s), &out.Info); err != nil {
			return nil, fmt.Errorf("%s: metadata %q: %w", path, keyInfo, err)
		}
	}
	weights := map[string]*tensor.Tensor{}
	masks := map[string]*tensor.Tensor{}
	for name, t := range f.Tensors {
		switch {
		case strings.HasPrefix(name, OptimPrefix):
			out.Extra[name] = t
		case strings.HasSuffix(name, maskSuffix):
			masks[strings.TrimSuffix(name, maskSuffix)] = t
		default:
			weights[name] = t
		}
	}
	m, err := build(f.Meta, arch, classes, weights)
	if err != nil {
		return nil, fmt.Errorf("%s: %w", path, err)
	}
	out.Model = m
	for _, p := range nn.Prunables(m.Net) {
		t, ok := masks[p.Name()]
		if !ok {
			continue
		}
		delete(masks, p.Name())
		n, c := p.MaskShape()
		if !tensor.SameShape(t.Shape, []int{n, c}) {
			return nil, fmt.Errorf("%s: tensor %s%s has shape %s, want [%d %d]", path, p.Name(), maskSuffix, tensor.ShapeString(t.Shape), n, c)
		}
		if err := p.SetMask(t.Data); err != nil {
			return nil, fmt.Errorf("%s: %w", path, err)
		}
	}
	for name := range masks {
		return nil, fmt.Errorf("%s: mask %s%s names no prunable layer of %s", path, name, maskSuffix, arch)
	}
	if arch == models.GraphArch {
		return out, nil // build loaded the weights; SetMask zeroed the pruned ones
	}
	if err := models.LoadStateDict(m, weights); err != nil {
		return nil, fmt.Errorf("%s: %w", path, err)
	}
	return out, nil
}

// Arch returns the architecture an sgcnn model file names ("graph" for an
// imported network), reading only the file's header. It fails for any
// other kind of file.
func Arch(path string) (string, error) {
	f, err := os.Open(path)
	if err != nil {
		return "", err
	}
	defer f.Close()
	var n [8]byte
	if _, err := io.ReadFull(f, n[:]); err != nil {
		return "", fmt.Errorf("%s: not an sgcnn model file: %w", path, err)
	}
	size := binary.LittleEndian.Uint64(n[:])
	if st, err := f.Stat(); err != nil || size > uint64(st.Size()) || size > maxHeader {
		return "", fmt.Errorf("%s: not an sgcnn model file (header length %d)", path, size)
	}
	var hdr struct {
		Meta map[string]string `json:"__metadata__"`
	}
	if err := json.NewDecoder(io.LimitReader(f, int64(size))).Decode(&hdr); err != nil {
		return "", fmt.Errorf("%s: not an sgcnn model file: %w", path, err)
	}
	if hdr.Meta[keyFormat] != format {
		return "", fmt.Errorf("%s: not an sgcnn model file (metadata %q is %q, want %q)", path, keyFormat, hdr.Meta[keyFormat], format)
	}
	return hdr.Meta[keyArch], nil
}
