// Package nn holds sgcnn's layers. Each layer's forward and backward pass
// sit side by side and are written out explicitly (in the manner of llm.c),
// on tensors in NCHW layout.
//
// Conventions:
//   - Forward caches what Backward needs; Backward must follow the Forward
//     of the same batch. Backward accumulates parameter gradients into
//     Param.Grad (callers zero them between steps) and returns the gradient
//     with respect to the layer's input.
//   - Layers reuse their output buffers from one batch to the next, so a
//     tensor returned by Forward is valid until that layer's next Forward.
//     ReLU and the residual add work in place on their input, as
//     torchvision's inplace=True does; no layer's Backward needs its own
//     output except ReLU, which is why this is safe.
//   - Prunable layers (Conv2d, Linear) carry a connection mask over
//     (filter, input channel) pairs; masked weights take part in neither
//     the forward nor the backward pass and get zero gradient.
//   - Parameter names follow PyTorch's state_dict names, so checkpoints map
//     one to one.
package nn

import (
	"fmt"
	"math"
	"math/rand/v2"

	"github.com/sgcnn/sgcnn/internal/kernel"
	"github.com/sgcnn/sgcnn/internal/parallel"
	"github.com/sgcnn/sgcnn/tensor"
)

// Layer is one node of a network.
type Layer interface {
	// Name is the layer's state_dict prefix, e.g. "layer1.0.conv1".
	Name() string
	// Forward computes the layer's output for input x.
	Forward(ctx *Ctx, x *tensor.Tensor) (*tensor.Tensor, error)
	// Backward takes the gradient of the loss with respect to the layer's
	// output and returns the gradient with respect to its input,
	// accumulating parameter gradients on the way.
	Backward(ctx *Ctx, dy *tensor.Tensor) (*tensor.Tensor, error)
	// Params lists the trainable parameters (nil for none).
	Params() []*Param
}

// Container is a layer made of other layers.
type Container interface {
	Layer
	Children() []Layer
}

// Buffered is a layer with non-trainable state saved in checkpoints
// (BatchNorm's running statistics).
type Buffered interface {
	Buffers() []*Param
}

// Prunable is a layer whose weight carries a connection mask over
// (filter, input channel) pairs: Conv2d and Linear.
type Prunable interface {
	Layer
	// Weight is the weight parameter, shaped [N][C][KH][KW] or [N][C].
	Weight() *Param
	// MaskShape returns N (filters) and C (input channels).
	MaskShape() (n, c int)
	// Mask returns the current mask (len N*C, values 0 or 1), or nil when
	// the layer is dense.
	Mask() []float32
	// SetMask installs a mask (len N*C) and zeroes the pruned weights; nil
	// makes the layer dense again.
	SetMask(m []float32) error
}

// Param is a named parameter or buffer with its gradient.
type Param struct {
	Name  string         // full state_dict name, e.g. "layer1.0.conv1.weight"
	Value *tensor.Tensor // the values
	Grad  *tensor.Tensor // the gradient (nil for buffers)
	Decay bool           // weight decay applies (weights, not BN or biases)
	// Mask, when non-nil, has one entry per (Shape[0], Shape[1]) pair,
	// broadcast over the remaining dimensions; 0 marks a pruned connection.
	Mask []float32
}

func newParam(name string, decay bool, shape ...int) *Param {
	return &Param{Name: name, Value: tensor.New(shape...), Grad: tensor.New(shape...), Decay: decay}
}

// Ctx carries the state of one forward/backward pass: training or
// evaluation mode, the random source for dropout, the number of worker
// goroutines, and per-worker kernel scratch space.
type Ctx struct {
	Train bool       // training mode (BN batch statistics, dropout on)
	Rand  *rand.Rand // random source for dropout; nil means a fixed seed
	// CheckFinite makes every Sequential check each layer's output for
	// NaN/Inf and fail naming the first layer that produced one.
	CheckFinite bool
	// Threads is the number of worker goroutines the layers use; < 1
	// means the program's default (package internal/parallel).
	Threads int
	// Precision is the arithmetic of the convolutions' products (FP32,
	// the zero value, or BF16).
	Precision Precision
	pool      *parallel.Pool
	ws        []kernel.Workspace
}

// NewCtx returns a context in training or evaluation mode.
func NewCtx(train bool) *Ctx { return &Ctx{Train: train} }

// Pool returns the worker pool of c.Threads goroutines (nil, the
// default pool, when Threads < 1), for layers outside this package.
func (c *Ctx) Pool() *parallel.Pool {
	if c == nil || c.Threads < 1 {
		return nil
	}
	if c.pool == nil || c.pool.Threads() != c.Threads {
		c.pool = parallel.NewPool(c.Threads)
	}
	return c.pool
}

// forEach runs fn for i in [0, n) on c's workers, handing each worker its
// own kernel workspace.
func (c *Ctx) forEach(n int, fn func(worker int, ws *kernel.Workspace, i int)) {
	p := c.Pool()
	if t := p.Threads(); len(c.ws) < t {
		c.ws = append(c.ws, make([]kernel.Workspace, t-len(c.ws))...)
	}
	p.For(n, func(w, i int) { fn(w, &c.ws[w], i) })
}

func (c *Ctx) rand() *rand.Rand {
	if c.Rand == nil {
		c.Rand = rand.New(rand.NewPCG(1, 2))
	}
	return c.Rand
}

// ShapeError reports an input of the wrong shape, naming the layer.
type ShapeError struct {
	Layer string
	Got   []int
	Want  string
}

func (e *ShapeError) Error() string {
	return fmt.Sprintf("layer %s: input shape %s, want %s", e.Layer, tensor.ShapeString(e.Got), e.Want)
}

// NonFiniteError reports a NaN or Inf in a layer's output or a gradient.
type NonFiniteError struct {
	Where string // layer or parameter name
	What  string // "output", "gradient", "loss"
}

func (e *NonFiniteError) Error() string {
	return fmt.Sprintf("training diverged: NaN/Inf in %s of %s", e.What, e.Where)
}

// HasNonFinite reports whether xs holds a NaN or an Inf.
func HasNonFinite(xs []float32) bool {
	for _, v := range xs {
		if math.IsNaN(float64(v)) || math.IsInf(float64(v), 0) {
			return true
		}
	}
	return false
}

// reuse returns *buf if it has the given shape, else a new zero tensor
// stored in *buf.
func reuse(buf **tensor.Tensor, shape ...int) *tensor.Tensor {
	if *buf == nil || !tensor.SameShape((*buf).Shape, shape) {
		*buf = tensor.New(shape...)
	}
	return *buf
}

// check4D validates an NCHW input with the given channel count.
func check4D(layer string, x *tensor.Tensor, c int) error {
	if x == nil || len(x.Shape) != 4 || x.Shape[0] == 0 || (c > 0 && x.Shape[1] != c) {
		var got []int
		if x != nil {
			got = x.Shape
		}
		want := "[B C H W] with B >= 1"
		if c > 0 {
			want = fmt.Sprintf("[B %d H W] with B >= 1", c)
		}
		return &ShapeError{Layer: layer, Got: got, Want: want}
	}
	return nil
}

// Walk calls fn for l and every layer inside it, parents first.
func Walk(l Layer, fn func(Layer)) {
	fn(l)
	if c, ok := l.(Container); ok {
		for _, ch := range c.Children() {
			Walk(ch, fn)
		}
	}
}

// AllParams lists the trainable parameters of l and its children.
func AllParams(l Layer) []*Param {
	var ps []*Param
	Walk(l, func(x Layer) {
		if _, ok := x.(Container); !ok {
			ps = append(ps, x.Params()...)
		}
	})
	return ps
}

// AllBuffers lists the buffers (running statistics) of l and its children.
func AllBuffers(l Layer) []*Param {
	var ps []*Param
	Walk(l, func(x Layer) {
		if b, ok := x.(Buffered); ok {
			ps = append(ps, b.Buffers()...)
		}
	})
	return ps
}

// Prunables lists the prunable layers of l in forward order.
func Prunables(l Layer) []Prunable {
	var ps []Prunable
	Walk(l, func(x Layer) {
		if p, ok := x.(Prunable); ok {
			ps = append(ps, p)
		}
	})
	return ps
}

// ZeroGrad zeroes the gradients of all parameters of l.
func ZeroGrad(l Layer) {
	for _, p := range AllParams(l) {
		p.Grad.Zero()
	}
}

// applyMask zeroes w wherever the (n, c) mask is 0; kk is the number of
// elements per (filter, channel) pair.
func applyMask(w, mask []float32, kk int) {
	if mask == nil {
		return
	}
	for i, m := range mask {
		if m == 0 {
			clear(w[i*kk : (i+1)*kk])
		}
	}
}

// validMask checks a mask's length and values.
func validMask(layer string, m []float32, n, c int) error {
	if m == nil {
		return nil
	}
	if len(m) != n*c {
		return fmt.Errorf("layer %s: mask has %d entries, want %d (%d filters x %d channels)", layer, len(m), n*c, n, c)
	}
	for i, v := range m {
		if v != 0 && v != 1 {
			return fmt.Errorf("layer %s: mask entry %d is %g, want 0 or 1", layer, i, v)
		}
	}
	return nil
}
