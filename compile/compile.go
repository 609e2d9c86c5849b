package compile

import (
	"fmt"
	"runtime"
	"slices"
	"strings"
	"time"

	"github.com/sgcnn/sgcnn/graph"
	"github.com/sgcnn/sgcnn/internal/kernel"
	"github.com/sgcnn/sgcnn/internal/parallel"
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
	// MergedFit is Merged with a group cost model measured on the machine
	// at hand, per conv geometry, the first time a process compiles one
	// (a few milliseconds): how one-filter groups compare with larger ones
	// differs between CPUs.
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
	// SplitOne says how Forward runs a single image with two or more
	// threads: SplitAuto (the default) chooses by measurement, SplitOn
	// splits each conv (of at least 100K multiply-adds) over the threads,
	// SplitOff runs the image on its caller. A split conv runs by output
	// positions, each thread all channels of a band of rows, so that a
	// thread reads mostly what it wrote in the conv before, or, where the
	// plan cannot run by positions, by groups; the Net's helper goroutines
	// (a parallel.Team) spin for the parts while a Forward runs and for
	// 200 us after, then park. Results are bit for bit those of one thread.
	SplitOne SplitMode
	// Int8, when non-nil, names the conv layers (node names; convs whose
	// Layer is an *nn.Conv2d) that run in int8 (kernel.Int8Plan: weights
	// per output channel, symmetric int8, computed here from the folded
	// weights) with the given quantization of their fp32 input; the
	// output is dequantized to fp32 before the epilogue. Package quant
	// calibrates it.
	Int8 map[string]kernel.ActQuant
	// Threads is the number of goroutines Forward runs on; < 1 means the
	// program's default (package internal/parallel) at each call.
	Threads int
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
	Dead     int  // filters that read nothing: never computed
	Folded   int  // constant input channels folded into the bias
	Skipped  int  // output channels never written (folded by the next conv)
	Int8     bool // the layer runs in int8 (Options.Int8)
	// MACs and DenseMACs are the multiply-adds per image the chosen route
	// runs and the unpruned layer would run.
	MACs, DenseMACs int64
	// Measured nanoseconds per image of each candidate route (0: not
	// measured); MergedNs is the better of Merged and MergedFit.
	GroupedNs, MergedNs, DenseNs float64
}

// Net is a compiled network. Forward is not safe for concurrent use.
type Net struct {
	in, outSh []int // one image's input and output shapes
	steps     []*step
	nvals     int
	input     int // value id of the network's input
	output    int // value id of the network's output
	// steps[:split] run per micro-batch, steps[split:] per worker share,
	// starting from value mid (midN floats per image, kept in buffer mid).
	split, mid, midN int
	midBuf           []float32
	layers           []*LayerInfo
	nbuf             int
	micro            int
	splitOne         SplitMode
	auto             autoSplit      // SplitAuto's measurements
	team             *parallel.Team // for split images: their helpers
	workers          []*worker
	out              *tensor.Tensor
	pool             *parallel.Pool // Options.Threads
}

// worker is one goroutine's state: kernel scratch, buffer slots and the
// data of each value of the program.
type worker struct {
	ws   kernel.Workspace
	bufs [][]float32
	vals [][]float32 // by value id: the data of the value
	xs   [][]float32 // scratch: a step's inputs
	ys   [][]float32 // scratch: a step's outputs
	err  error       // the first error of a generic op
	ctx  *nn.Ctx     // the generic ops' context (evaluation mode)
	pool *parallel.Pool
	// split: the batch is one image, so its convs are split over team
	// (the helpers use hws; job holds the conv being split).
	split bool
	team  *parallel.Team
	hws   []kernel.Workspace
	job   splitJob
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

// step is one op of a compiled program with the values it reads and
// writes; slots and sizes (floats per image) are the outputs' buffers.
type step struct {
	op           op
	in, out      []int
	slots, sizes []int
}

// op is the computation of a step, run on m images at a time.
type op interface {
	// run computes the op's outputs for m images: xs[i] holds input i
	// (contiguous; never modified), ys[k] is output k's buffer, of m times
	// its size per image.
	run(w *worker, xs, ys [][]float32, m int)
}

// exec runs steps on m images.
func (w *worker) exec(steps []*step, m int) {
	for _, s := range steps {
		if w.err != nil {
			return
		}
		xs, ys := w.xs[:0], w.ys[:0]
		for _, v := range s.in {
			xs = append(xs, w.vals[v])
		}
		for k, id := range s.slots {
			ys = append(ys, w.buf(id, m*s.sizes[k]))
		}
		s.op.run(w, xs, ys, m)
		for k, v := range s.out {
			w.vals[v] = ys[k]
		}
		w.xs, w.ys = xs, ys
	}
}

// Compile compiles a network (an nn tree or a *graph.Net) taking one image
// of shape in, for inference (BatchNorm in evaluation mode, dropout off),
// with the connection masks its layers carry now: graph.Of lowers it, and
// CompileGraph compiles the graph. Later changes to the weights or masks
// do not reach the Net.
func Compile(net nn.Layer, in []int, opt Options) (*Net, error) {
	if len(in) == 0 || slices.ContainsFunc(in, func(d int) bool { return d < 1 }) {
		return nil, fmt.Errorf("compile: input shape %v, want [C H W] of positive sizes", in)
	}
	g, err := graph.Of(net, slices.Clone(in))
	if err != nil {
		return nil, fmt.Errorf("compile: %w", err)
	}
	return CompileGraph(g, opt)
}

// CompileGraph compiles a lowered network. Nodes whose layer is an
// *nn.Conv2d (with a following BatchNorm, ReLU and residual Add fused),
// an *nn.BatchNorm2d or an *nn.Linear, and the ops Relu, MaxPool,
// AveragePool, GlobalAveragePool, Add, Concat and ShortcutA in their
// common forms run on compiled kernels; Slice, Pad and Transpose as
// gathers; Dropout, Identity, Flatten and Reshape move no data; any other
// node runs through its own (*graph.Node).Forward in evaluation mode.
func CompileGraph(g *graph.Graph, opt Options) (*Net, error) {
	if opt.SplitOne < SplitAuto || opt.SplitOne > SplitOn {
		return nil, fmt.Errorf("compile: Options.SplitOne %d, want SplitAuto, SplitOff or SplitOn", int(opt.SplitOne))
	}
	if g.Shapes == nil {
		if err := g.Infer(); err != nil {
			return nil, fmt.Errorf("compile: %w", err)
		}
	}
	in := g.Shapes[g.Input]
	if len(in) == 0 || slices.ContainsFunc(in, func(d int) bool { return d < 1 }) {
		return nil, fmt.Errorf("compile: input shape %v, want positive sizes", in)
	}
	if opt.Micro <= 0 {
		opt.Micro = DefaultMicro
	}
	c := newCompiler(g, opt)
	if err := c.walk(); err != nil {
		return nil, err
	}
	for name := range opt.Int8 {
		if !slices.ContainsFunc(c.layers, func(l *LayerInfo) bool { return l.Name == name && l.Int8 }) {
			return nil, fmt.Errorf("compile: Options.Int8 names %q, which is not a conv of the compiled fast path", name)
		}
	}
	out, ok := c.ids[g.Output]
	if !ok {
		return nil, fmt.Errorf("compile: the graph's output %q is not computed", g.Output)
	}
	n := &Net{in: slices.Clone(in), outSh: slices.Clone(g.Shapes[g.Output]), steps: c.steps,
		nvals: len(c.vals), input: 0, output: out, layers: c.layers, micro: opt.Micro,
		split: len(c.steps), splitOne: opt.SplitOne, pool: parallel.NewPool(opt.Threads)}
	n.split, n.mid = c.splitPoint(out)
	if n.split < len(c.steps) {
		n.midN = c.vals[n.mid].size
	}
	c.allocate(out)
	n.nbuf = c.nbuf
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

// Forward runs the network on a batch x of shape [B, C, H, W] (B and one
// image's input shape). The result is valid until the next call to
// Forward.
func (n *Net) Forward(x *tensor.Tensor) (*tensor.Tensor, error) {
	if x == nil || len(x.Shape) != 1+len(n.in) || x.Shape[0] < 1 || !slices.Equal(x.Shape[1:], n.in) {
		var got []int
		if x != nil {
			got = x.Shape
		}
		return nil, &nn.ShapeError{Layer: "compiled network", Got: got, Want: fmt.Sprintf("[B %s] with B >= 1", shapeList(n.in))}
	}
	b := x.Shape[0]
	inN, outN := tensor.Numel(n.in...), tensor.Numel(n.outSh...)
	shape := append([]int{b}, n.outSh...)
	if n.out == nil || !tensor.SameShape(n.out.Shape, shape) {
		n.out = tensor.New(shape...)
	}
	for len(n.workers) < n.pool.Threads() {
		n.workers = append(n.workers, &worker{bufs: make([][]float32, n.nbuf), vals: make([][]float32, n.nvals), pool: n.pool})
	}
	split, trial := false, false
	if b == 1 && n.pool.Threads() >= 2 {
		switch n.splitOne {
		case SplitOn:
			split = true
		case SplitAuto:
			split, trial = n.auto.next()
		}
	}
	if trial {
		defer func(t0 time.Time) { n.auto.done(split, time.Since(t0)) }(time.Now())
	}
	for _, w := range n.workers {
		w.split, w.err = split, nil
	}
	if split {
		n.startTeam()
		n.team.Open()
		defer n.team.Close()
	}
	head, tail := n.steps[:n.split], n.steps[n.split:]
	res, dst, dstN := n.output, n.out.Data, outN
	if len(tail) > 0 {
		if cap(n.midBuf) < b*n.midN {
			n.midBuf = make([]float32, b*n.midN)
		}
		res, dst, dstN = n.mid, n.midBuf[:b*n.midN], n.midN
	}
	// Micro-batches go to whichever worker is free (ForAny): an image's
	// result does not depend on its worker, and a slower core takes fewer.
	chunks := (b + n.micro - 1) / n.micro
	n.pool.ForAny(chunks, func(wi, ci int) {
		w := n.workers[wi]
		lo, hi := ci*n.micro, min(b, (ci+1)*n.micro)
		w.vals[n.input] = x.Data[lo*inN : hi*inN]
		w.exec(head, hi-lo)
		copy(dst[lo*dstN:hi*dstN], w.vals[res])
	})
	if len(tail) > 0 {
		t := min(n.pool.Threads(), b)
		n.pool.For(t, func(wi, si int) {
			w := n.workers[wi]
			lo, hi := si*b/t, (si+1)*b/t
			w.vals[n.mid] = dst[lo*dstN : hi*dstN]
			w.exec(tail, hi-lo)
			copy(n.out.Data[lo*outN:hi*outN], w.vals[n.output])
		})
	}
	for _, w := range n.workers {
		if w.err != nil {
			return nil, w.err
		}
	}
	return n.out, nil
}

// startTeam starts n's helper goroutines for one image, once: they end
// when n is garbage collected.
func (n *Net) startTeam() {
	if n.team != nil {
		return
	}
	n.team = parallel.NewTeam(n.pool.Threads())
	if n.team == nil {
		return
	}
	w := n.workers[0]
	w.team = n.team
	w.hws = make([]kernel.Workspace, n.team.Helpers())
	runtime.AddCleanup(n, func(t *parallel.Team) { t.Stop() }, n.team)
}

// shapeList formats a shape as space-separated sizes.
func shapeList(s []int) string {
	return strings.Trim(fmt.Sprint(s), "[]")
}
