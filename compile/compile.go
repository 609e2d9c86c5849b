package compile

import (
	"fmt"
	"slices"

	"github.com/sgcnn/sgcnn/internal/kernel"
	"github.com/sgcnn/sgcnn/internal/parallel"
	"github.com/sgcnn/sgcnn/models"
	"github.com/sgcnn/sgcnn/nn"
	"github.com/sgcnn/sgcnn/tensor"
)

// Route is how one conv layer runs.
type Route int

const (
	// Auto measures the candidate routes at compile time and keeps the
	// fastest (the default).
	Auto Route = iota
	// Grouped runs one group per distinct kept-input pattern.
	Grouped
	// Merged runs the groups after greedily merging small ones.
	Merged
	// Dense runs all live filters as one group over the union of their
	// channels (the dense fallback; pruned weights are zeros).
	Dense
	// MergedFit is Merged with a cost model refitted to measured group
	// speeds (groupCostFit), which merges one-filter groups less eagerly.
	MergedFit
)

// String returns the route's name.
func (r Route) String() string {
	switch r {
	case Auto:
		return "auto"
	case Grouped:
		return "grouped"
	case Merged:
		return "merged"
	case Dense:
		return "dense"
	case MergedFit:
		return "merged-fit"
	}
	return fmt.Sprintf("Route(%d)", int(r))
}

// Options configures Compile. The zero value measures routes and uses
// micro-batches of DefaultMicro images.
type Options struct {
	// Route forces one route on every conv (Auto: measure per layer).
	Route Route
	// Plan, when non-nil, gives the route per conv layer name (as
	// Net.Plan returns it) and overrides Route for the layers it names.
	Plan map[string]Route
	// Micro is the number of images a worker carries through the network
	// at a time (default DefaultMicro).
	Micro int
	// IgnoreMasks compiles the network as if unpruned (every mask all
	// ones; pruned weights are zeros): the same engine's dense baseline.
	IgnoreMasks bool
	// SplitOne makes Forward on a single image with two or more threads
	// split each conv's groups over two goroutines (convs of at least
	// 100K multiply-adds). Off by default: on an idle 2-core machine it
	// ran slower than one thread (ResNet-20 Conv-70: 0.57 ms against 0.38;
	// ResNet-56: 2.0 against 1.4), the fork and join per conv outweighing
	// the second core at CIFAR sizes.
	SplitOne bool
}

// DefaultMicro is the default micro-batch. Measured on pruned CIFAR
// ResNets (best of 25, one thread): 1 and 2 images run 2-3% faster than 4
// and 8, whose activations spill out of the core's L2. The linear layers
// do not care: they run on each worker's whole share of the batch.
const DefaultMicro = 2

// LayerInfo reports how one conv or linear layer was compiled.
type LayerInfo struct {
	Name   string
	Route  Route // the route chosen (Dense for non-prunable layers)
	Groups int   // groups run (after merging)
	// Patterns is the number of distinct kept-input patterns among live
	// filters, after folding constant input channels.
	Patterns int
	Dead     int // filters that read nothing: never computed
	Folded   int // constant input channels folded into the bias
	Skipped  int // output channels never written (folded by the next conv)
	// MACs and DenseMACs are the multiply-adds per image the chosen route
	// runs and the unpruned layer would run.
	MACs, DenseMACs int64
	// Measured nanoseconds per image of each candidate route (0: not
	// measured); MergedNs is the better of Merged and MergedFit.
	GroupedNs, MergedNs, DenseNs float64
}

// Net is a compiled network. Forward is not safe for concurrent use.
type Net struct {
	in       []int // one image's input shape
	outSh    []int // one image's output shape
	prog     []op
	split    int // prog[:split] runs per micro-batch, prog[split:] per worker share
	midN     int // floats per image after prog[:split]
	mid      []float32
	layers   []*LayerInfo
	nbuf     int // buffer slots per worker
	micro    int
	splitOne bool
	workers  []*worker
	out      *tensor.Tensor
}

// worker is one goroutine's state: kernel scratch and one buffer per op.
type worker struct {
	ws   kernel.Workspace
	bufs [][]float32
	// split: the batch has fewer images than threads, so convs split one
	// image's groups over two goroutines (the second uses ws2).
	split bool
	ws2   kernel.Workspace
}

// buf returns slot id's buffer with n floats (contents undefined).
func (w *worker) buf(id, n int) []float32 {
	b := w.bufs[id]
	if cap(b) < n {
		b = make([]float32, n)
		w.bufs[id] = b
	}
	return b[:n]
}

// op is one step of a compiled program, run on m images at a time.
type op interface {
	// run computes the op's output for m images x (contiguous) into a
	// worker buffer and returns it; x is never modified.
	run(w *worker, x []float32, m int) []float32
}

// Compile compiles m's network for inference (BatchNorm in evaluation
// mode, dropout off), with the connection masks the layers carry now.
// Later changes to m's weights or masks do not reach the Net.
func Compile(m *models.Model, opt Options) (*Net, error) {
	return CompileLayer(m.Net, m.InputShape[:], opt)
}

// CompileLayer compiles a network l taking one image of shape in (C, H, W).
func CompileLayer(l nn.Layer, in []int, opt Options) (*Net, error) {
	if len(in) != 3 || in[0] < 1 || in[1] < 1 || in[2] < 1 {
		return nil, fmt.Errorf("compile: input shape %v, want [C H W]", in)
	}
	if opt.Micro <= 0 {
		opt.Micro = DefaultMicro
	}
	c := &compiler{opt: opt, cur: -1}
	prog, out, err := c.seq(flatten([]nn.Layer{l}), slices.Clone(in))
	if err != nil {
		return nil, err
	}
	n := &Net{in: slices.Clone(in), outSh: out, prog: prog, layers: c.layers, nbuf: c.nbuf, micro: opt.Micro, split: len(prog), splitOne: opt.SplitOne}
	// The linear layers and what follows them run on each worker's whole
	// share of the batch: a product over many images at once reads the
	// weights once, where micro-batches would pack them again each time.
	for i, o := range prog {
		if _, ok := o.(*linearOp); ok {
			n.split, n.midN = i, c.sizes[i]
			break
		}
	}
	return n, nil
}

// Layers reports, in forward order, how each conv and linear layer was
// compiled.
func (n *Net) Layers() []LayerInfo {
	out := make([]LayerInfo, len(n.layers))
	for i, l := range n.layers {
		out[i] = *l
	}
	return out
}

// Plan returns the route chosen for each conv layer, by name: pass it as
// Options.Plan to rebuild the same Net without measuring.
func (n *Net) Plan() map[string]Route {
	p := map[string]Route{}
	for _, l := range n.layers {
		p[l.Name] = l.Route
	}
	return p
}

// InputShape returns one image's input shape.
func (n *Net) InputShape() []int { return slices.Clone(n.in) }

// OutputShape returns one image's output shape.
func (n *Net) OutputShape() []int { return slices.Clone(n.outSh) }

// Forward runs the network on a batch x of shape [B, C, H, W]. The result
// is valid until the next call to Forward.
func (n *Net) Forward(x *tensor.Tensor) (*tensor.Tensor, error) {
	if x == nil || len(x.Shape) != 4 || x.Shape[0] < 1 || !slices.Equal(x.Shape[1:], n.in) {
		var got []int
		if x != nil {
			got = x.Shape
		}
		return nil, &nn.ShapeError{Layer: "compiled network", Got: got, Want: fmt.Sprintf("[B %d %d %d] with B >= 1", n.in[0], n.in[1], n.in[2])}
	}
	b := x.Shape[0]
	inN, outN := tensor.Numel(n.in...), tensor.Numel(n.outSh...)
	shape := append([]int{b}, n.outSh...)
	if n.out == nil || !tensor.SameShape(n.out.Shape, shape) {
		n.out = tensor.New(shape...)
	}
	for len(n.workers) < parallel.Threads() {
		n.workers = append(n.workers, &worker{bufs: make([][]float32, n.nbuf)})
	}
	chunks := (b + n.micro - 1) / n.micro
	for _, w := range n.workers {
		w.split = n.splitOne && b == 1 && parallel.Threads() >= 2
	}
	head, tail := n.prog[:n.split], n.prog[n.split:]
	dst, dstN := n.out.Data, outN
	if len(tail) > 0 {
		if cap(n.mid) < b*n.midN {
			n.mid = make([]float32, b*n.midN)
		}
		dst, dstN = n.mid[:b*n.midN], n.midN
	}
	parallel.For(chunks, func(wi, ci int) {
		w := n.workers[wi]
		lo, hi := ci*n.micro, min(b, (ci+1)*n.micro)
		h := x.Data[lo*inN : hi*inN]
		for _, o := range head {
			h = o.run(w, h, hi-lo)
		}
		copy(dst[lo*dstN:hi*dstN], h)
	})
	if len(tail) > 0 {
		t := min(parallel.Threads(), b)
		parallel.For(t, func(wi, si int) {
			w := n.workers[wi]
			lo, hi := si*b/t, (si+1)*b/t
			h := dst[lo*dstN : hi*dstN]
			for _, o := range tail {
				h = o.run(w, h, hi-lo)
			}
			copy(n.out.Data[lo*outN:hi*outN], h)
		})
	}
	return n.out, nil
}

// flatten inlines nested Sequentials, which changes nothing in what runs
// but lets patterns (conv, BN, ReLU, conv) match across their borders.
func flatten(ls []nn.Layer) []nn.Layer {
	var out []nn.Layer
	for _, l := range ls {
		if s, ok := l.(*nn.Sequential); ok {
			out = append(out, flatten(s.Layers)...)
			continue
		}
		out = append(out, l)
	}
	return out
}
