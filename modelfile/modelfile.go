// Package modelfile is sgcnn's native model file: a safetensors file (see
// package checkpoint) whose tensors are the model's PyTorch-named state
// dict, its connection masks ("<layer>.weight_mask", [N][C], as
// torch.nn.utils.prune names them) and optional extra state such as
// optimiser momentum ("optim.<param>.momentum_buffer"), and whose metadata
// holds the architecture and a JSON record of how the model was made, so
// that a saved model loads with no other file.
//
// An imported network (architecture "graph") is saved the same way, with
// its graph's JSON (graph.Graph: nodes, ops, attributes) in the metadata key
// "graph" and its constant operands ("<node>.const") among the tensors.
//
// The package reads and writes a file's parts: the architecture's name and
// class count, the state dict, the masks by layer name, the graph of an
// imported network, Info and extra tensors. It knows tensors and graphs
// only; package models builds a network from the parts (models.LoadFile)
// and takes them from one (models.SaveFile).
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
	"github.com/sgcnn/sgcnn/graph"
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
	// GraphArch is the architecture of an imported network, whose graph
	// the file holds (models.GraphArch).
	GraphArch = "graph"
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

// Mask is one layer's connection mask, [N][C] (1 keeps a connection).
type Mask struct {
	// Layer names the prunable layer (its PyTorch prefix).
	Layer string
	// Mask is the mask, shape [N][C].
	Mask *tensor.Tensor
}

// File is a model file's parts.
type File struct {
	// Arch names the architecture (GraphArch for an imported network).
	Arch string
	// Classes is the classifier's number of outputs, 1 to MaxClasses.
	Classes int
	// ShortcutB records a CIFAR ResNet with option B shortcuts.
	ShortcutB bool
	// Graph is an imported network's graph (Arch GraphArch; nil for a
	// built-in architecture). Load returns it with its constants attached
	// and its shapes inferred, and checks that the file holds every
	// weight its nodes need, at the size they need, so that graph.Build
	// allocates no more than the file holds.
	Graph *graph.Graph
	// Names lists the state dict's tensors in file order, and State holds
	// them (parameters, buffers; an imported graph's constants).
	Names []string
	State map[string]*tensor.Tensor
	// Masks are the connection masks, in file order.
	Masks []Mask
	// Info is the record of how the model was made.
	Info Info
	// Extra holds the tensors that are neither state nor masks (optimiser
	// state, named with OptimPrefix), by name.
	Extra map[string]*tensor.Tensor
}

// Save writes f to path atomically: the state dict in f.Names' order, then
// the masks, then the extra tensors by name.
func Save(path string, f *File) error {
	names := append([]string(nil), f.Names...)
	tensors := make(map[string]*tensor.Tensor, len(f.State)+len(f.Masks)+len(f.Extra))
	for _, n := range f.Names {
		t, ok := f.State[n]
		if !ok {
			return fmt.Errorf("modelfile: state tensor %q is listed but missing", n)
		}
		tensors[n] = t
	}
	for _, m := range f.Masks {
		name := m.Layer + maskSuffix
		if _, dup := tensors[name]; dup {
			return fmt.Errorf("modelfile: mask %q is given twice", name)
		}
		tensors[name] = m.Mask
		names = append(names, name)
	}
	extraNames := make([]string, 0, len(f.Extra))
	for k := range f.Extra {
		if _, dup := tensors[k]; dup {
			return fmt.Errorf("modelfile: extra tensor %q clashes with a model tensor", k)
		}
		extraNames = append(extraNames, k)
	}
	sort.Strings(extraNames)
	for _, k := range extraNames {
		tensors[k] = f.Extra[k]
		names = append(names, k)
	}
	infoJSON, err := json.Marshal(f.Info)
	if err != nil {
		return fmt.Errorf("modelfile: %w", err)
	}
	meta := map[string]string{keyFormat: format, keyArch: f.Arch, keyClasses: strconv.Itoa(f.Classes), keyInfo: string(infoJSON)}
	if f.ShortcutB {
		meta[keyShortB] = "true"
	}
	if (f.Graph != nil) != (f.Arch == GraphArch) {
		return fmt.Errorf("modelfile: architecture %q with a graph: %t (a graph goes with architecture %q only)", f.Arch, f.Graph != nil, GraphArch)
	}
	if f.Graph != nil {
		raw, err := json.Marshal(f.Graph)
		if err != nil {
			return fmt.Errorf("modelfile: the graph: %w", err)
		}
		meta[keyGraph] = string(raw)
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

// Load reads a model file's parts. wantArch, when not empty, must match
// the file's architecture. For a built-in architecture the file must hold
// a classifier weight of Classes rows, so that the model built from it
// costs no more than the file holds; an imported graph is checked against
// its weights (see File.Graph). Mask shapes are checked by whoever knows
// the layers (models.LoadFile).
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
	if arch != GraphArch && !hasClassifier(f.Tensors, classes) {
		return nil, fmt.Errorf("%s: metadata %q is %d, but the file holds no classifier weight of %d rows", path, keyClasses, classes, classes)
	}
	out := &File{Arch: arch, Classes: classes, ShortcutB: f.Meta[keyShortB] == "true",
		State: map[string]*tensor.Tensor{}, Extra: map[string]*tensor.Tensor{}}
	if s := f.Meta[keyInfo]; s != "" {
		if err := json.Unmarshal([]byte(s), &out.Info); err != nil {
			return nil, fmt.Errorf("%s: metadata %q: %w", path, keyInfo, err)
		}
	}
	for _, name := range f.Names {
		t := f.Tensors[name]
		switch {
		case strings.HasPrefix(name, OptimPrefix):
			out.Extra[name] = t
		case strings.HasSuffix(name, maskSuffix):
			out.Masks = append(out.Masks, Mask{Layer: strings.TrimSuffix(name, maskSuffix), Mask: t})
		default:
			out.Names = append(out.Names, name)
			out.State[name] = t
		}
	}
	if arch == GraphArch {
		if out.Graph, err = readGraph(f.Meta, out.State); err != nil {
			return nil, fmt.Errorf("%s: %w", path, err)
		}
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
