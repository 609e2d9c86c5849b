package nn

import (
	"fmt"

	"github.com/sgcnn/sgcnn/internal/kernel"
	"github.com/sgcnn/sgcnn/tensor"
)

// Sequential runs its layers one after another.
type Sequential struct {
	name   string
	Layers []Layer
}

// NewSequential returns a sequential container.
func NewSequential(name string, layers ...Layer) *Sequential {
	return &Sequential{name: name, Layers: layers}
}

// Name returns the container's name.
func (s *Sequential) Name() string { return s.name }

// Params returns nil; use AllParams for the parameters inside.
func (s *Sequential) Params() []*Param { return nil }

// Children returns the layers in order.
func (s *Sequential) Children() []Layer { return s.Layers }

// Forward runs every layer in order.
func (s *Sequential) Forward(ctx *Ctx, x *tensor.Tensor) (*tensor.Tensor, error) {
	var err error
	for _, l := range s.Layers {
		if x, err = l.Forward(ctx, x); err != nil {
			return nil, err
		}
		if ctx.CheckFinite && HasNonFinite(x.Data) {
			if _, ok := l.(Container); !ok {
				return nil, &NonFiniteError{Where: l.Name(), What: "output"}
			}
		}
	}
	return x, nil
}

// Backward runs every layer's backward in reverse order.
func (s *Sequential) Backward(ctx *Ctx, dy *tensor.Tensor) (*tensor.Tensor, error) {
	var err error
	for i := len(s.Layers) - 1; i >= 0; i-- {
		if dy, err = s.Layers[i].Backward(ctx, dy); err != nil {
			return nil, err
		}
	}
	return dy, nil
}

// Residual computes Body(x) + Shortcut(x); a nil Shortcut is the identity.
// The sum is formed in place in Body's output buffer.
type Residual struct {
	name     string
	Body     Layer
	Shortcut Layer
	ds       *tensor.Tensor
}

// NewResidual returns a residual connection.
func NewResidual(name string, body, shortcut Layer) *Residual {
	return &Residual{name: name, Body: body, Shortcut: shortcut}
}

// Name returns the block's name.
func (r *Residual) Name() string { return r.name }

// Params returns nil; use AllParams for the parameters inside.
func (r *Residual) Params() []*Param { return nil }

// Children returns the body and, if any, the shortcut.
func (r *Residual) Children() []Layer {
	if r.Shortcut == nil {
		return []Layer{r.Body}
	}
	return []Layer{r.Body, r.Shortcut}
}

// Forward computes Body(x) + Shortcut(x).
func (r *Residual) Forward(ctx *Ctx, x *tensor.Tensor) (*tensor.Tensor, error) {
	s := x
	if r.Shortcut != nil {
		var err error
		if s, err = r.Shortcut.Forward(ctx, x); err != nil {
			return nil, err
		}
	}
	y, err := r.Body.Forward(ctx, x)
	if err != nil {
		return nil, err
	}
	if !tensor.SameShape(y.Shape, s.Shape) {
		return nil, fmt.Errorf("layer %s: body output %s and shortcut output %s differ", r.name, tensor.ShapeString(y.Shape), tensor.ShapeString(s.Shape))
	}
	ctx.addInto(y.Data, s.Data)
	return y, nil
}

// Backward sends dy through both branches and sums the input gradients.
func (r *Residual) Backward(ctx *Ctx, dy *tensor.Tensor) (*tensor.Tensor, error) {
	if dy == nil {
		return nil, fmt.Errorf("layer %s: backward without a matching forward", r.name)
	}
	var ds *tensor.Tensor
	if r.Shortcut == nil {
		ds = dy
		if !keepsGrad(r.Body) {
			// Body's backward may work on dy in place: keep a copy.
			ds = reuse(&r.ds, dy.Shape...)
			copy(ds.Data, dy.Data)
		}
	} else {
		var err error
		if ds, err = r.Shortcut.Backward(ctx, dy); err != nil {
			return nil, err
		}
	}
	dx, err := r.Body.Backward(ctx, dy)
	if err != nil {
		return nil, err
	}
	ctx.addInto(dx.Data, ds.Data)
	return dx, nil
}

// keepsGrad reports whether l's Backward is known to leave the gradient it
// is given unchanged: true for Conv2d, BatchNorm2d and Linear, and for a
// Sequential whose last layer keeps it (only that layer sees the gradient
// passed in). ReLU works on it in place.
func keepsGrad(l Layer) bool {
	switch l := l.(type) {
	case *Conv2d, *BatchNorm2d, *Linear:
		return true
	case *Sequential:
		return len(l.Layers) > 0 && keepsGrad(l.Layers[len(l.Layers)-1])
	}
	return false
}

// DenseConcat computes cat(x, Body(x)) along channels: a DenseNet layer.
type DenseConcat struct {
	name    string
	Body    Layer
	cx      int
	y, dyb  *tensor.Tensor
	dxTotal *tensor.Tensor
}

// NewDenseConcat returns a concatenating block.
func NewDenseConcat(name string, body Layer) *DenseConcat {
	return &DenseConcat{name: name, Body: body}
}

// Name returns the block's name.
func (d *DenseConcat) Name() string { return d.name }

// Params returns nil; use AllParams for the parameters inside.
func (d *DenseConcat) Params() []*Param { return nil }

// Children returns the body.
func (d *DenseConcat) Children() []Layer { return []Layer{d.Body} }

// Forward computes cat(x, Body(x)).
func (d *DenseConcat) Forward(ctx *Ctx, x *tensor.Tensor) (*tensor.Tensor, error) {
	if err := check4D(d.name, x, 0); err != nil {
		return nil, err
	}
	z, err := d.Body.Forward(ctx, x)
	if err != nil {
		return nil, err
	}
	if len(z.Shape) != 4 || z.Shape[0] != x.Shape[0] || z.Shape[2] != x.Shape[2] || z.Shape[3] != x.Shape[3] {
		return nil, fmt.Errorf("layer %s: body output %s cannot be concatenated to input %s", d.name, tensor.ShapeString(z.Shape), tensor.ShapeString(x.Shape))
	}
	b, cx, cz, hw := x.Shape[0], x.Shape[1], z.Shape[1], x.Shape[2]*x.Shape[3]
	d.cx = cx
	y := reuse(&d.y, b, cx+cz, x.Shape[2], x.Shape[3])
	for i := range b {
		copy(y.Data[i*(cx+cz)*hw:], x.Data[i*cx*hw:(i+1)*cx*hw])
		copy(y.Data[(i*(cx+cz)+cx)*hw:], z.Data[i*cz*hw:(i+1)*cz*hw])
	}
	return y, nil
}

// Backward splits dy between the input and the body.
func (d *DenseConcat) Backward(ctx *Ctx, dy *tensor.Tensor) (*tensor.Tensor, error) {
	if d.y == nil || dy == nil || !tensor.SameShape(dy.Shape, d.y.Shape) {
		return nil, fmt.Errorf("layer %s: backward without a matching forward", d.name)
	}
	b, c, hw := dy.Shape[0], dy.Shape[1], dy.Shape[2]*dy.Shape[3]
	cx, cz := d.cx, c-d.cx
	dyb := reuse(&d.dyb, b, cz, dy.Shape[2], dy.Shape[3])
	for i := range b {
		copy(dyb.Data[i*cz*hw:(i+1)*cz*hw], dy.Data[(i*c+cx)*hw:(i+1)*c*hw])
	}
	dz, err := d.Body.Backward(ctx, dyb)
	if err != nil {
		return nil, err
	}
	dx := reuse(&d.dxTotal, b, cx, dy.Shape[2], dy.Shape[3])
	for i := range b {
		dst, src, add := dx.Data[i*cx*hw:(i+1)*cx*hw], dy.Data[i*c*hw:(i*c+cx)*hw], dz.Data[i*cx*hw:(i+1)*cx*hw]
		for j := range dst {
			dst[j] = src[j] + add[j]
		}
	}
	return dx, nil
}

// ShortcutA is the parameter-free "option A" shortcut of CIFAR ResNets:
// x[:, :, ::Stride, ::Stride] with the channels zero-padded from In to Out
// ((Out-In)/2 zero channels on each side).
type ShortcutA struct {
	name        string
	In, Out     int
	Stride      int
	xshape      []int
	y, dx       *tensor.Tensor
	oh, ow, pad int
}

// NewShortcutA returns an option-A shortcut.
func NewShortcutA(name string, in, out, stride int) *ShortcutA {
	return &ShortcutA{name: name, In: in, Out: out, Stride: stride, pad: (out - in) / 2}
}

// Name returns the layer's name.
func (s *ShortcutA) Name() string { return s.name }

// Params returns nil.
func (s *ShortcutA) Params() []*Param { return nil }

// Forward subsamples and pads.
func (s *ShortcutA) Forward(ctx *Ctx, x *tensor.Tensor) (*tensor.Tensor, error) {
	if err := check4D(s.name, x, s.In); err != nil {
		return nil, err
	}
	b, h, w := x.Shape[0], x.Shape[2], x.Shape[3]
	s.oh, s.ow = (h+s.Stride-1)/s.Stride, (w+s.Stride-1)/s.Stride
	s.xshape = x.Shape
	y := reuse(&s.y, b, s.Out, s.oh, s.ow)
	ctx.forEach(b, func(_ int, _ *kernel.Workspace, i int) {
		yi := y.Data[i*s.Out*s.oh*s.ow : (i+1)*s.Out*s.oh*s.ow]
		clear(yi)
		for c := range s.In {
			src := x.Data[(i*s.In+c)*h*w:]
			dst := yi[(c+s.pad)*s.oh*s.ow:]
			for oy := range s.oh {
				for ox := range s.ow {
					dst[oy*s.ow+ox] = src[oy*s.Stride*w+ox*s.Stride]
				}
			}
		}
	})
	return y, nil
}

// Backward scatters the gradient of the kept channels back.
func (s *ShortcutA) Backward(ctx *Ctx, dy *tensor.Tensor) (*tensor.Tensor, error) {
	if s.xshape == nil || dy == nil || !tensor.SameShape(dy.Shape, s.y.Shape) {
		return nil, fmt.Errorf("layer %s: backward without a matching forward", s.name)
	}
	b, h, w := s.xshape[0], s.xshape[2], s.xshape[3]
	dx := reuse(&s.dx, s.xshape...)
	ctx.forEach(b, func(_ int, _ *kernel.Workspace, i int) {
		dxi := dx.Data[i*s.In*h*w : (i+1)*s.In*h*w]
		clear(dxi)
		for c := range s.In {
			src := dy.Data[(i*s.Out+c+s.pad)*s.oh*s.ow:]
			dst := dxi[c*h*w:]
			for oy := range s.oh {
				for ox := range s.ow {
					dst[oy*s.Stride*w+ox*s.Stride] = src[oy*s.ow+ox]
				}
			}
		}
	})
	return dx, nil
}
