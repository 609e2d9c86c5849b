package graph

import (
	"testing"

	"github.com/sgcnn/sgcnn/nn"
	"github.com/sgcnn/sgcnn/nn/nntest"
	"github.com/sgcnn/sgcnn/tensor"
)

// convRef is the definition of a grouped, dilated, strided, padded
// convolution, one output at a time, in float64.
func convRef(c *convCore, x *tensor.Tensor, oh, ow int) *tensor.Tensor {
	b, h, w := x.Shape[0], x.Shape[2], x.Shape[3]
	cg, ng := c.In/c.Group, c.Out/c.Group
	kh, kw := c.Kernel[0], c.Kernel[1]
	y := tensor.New(b, c.Out, oh, ow)
	for i := range b {
		for n := range c.Out {
			g := n / ng
			for oy := range oh {
				for ox := range ow {
					var s float64
					if c.B != nil {
						s = float64(c.B.Value.Data[n])
					}
					for ci := range cg {
						for ky := range kh {
							iy := oy*c.Stride[0] - c.Pads[0] + ky*c.Dilation[0]
							for kx := range kw {
								ix := ox*c.Stride[1] - c.Pads[1] + kx*c.Dilation[1]
								if iy < 0 || iy >= h || ix < 0 || ix >= w {
									continue
								}
								xv := x.Data[((i*c.In+g*cg+ci)*h+iy)*w+ix]
								wv := c.W.Value.Data[((n*cg+ci)*kh+ky)*kw+kx]
								s += float64(xv) * float64(wv)
							}
						}
					}
					y.Data[((i*c.Out+n)*oh+oy)*ow+ox] = float32(s)
				}
			}
		}
	}
	return y
}

// convTRef is the definition of a transposed convolution: every input
// pixel scatters its weighted kernel into the output.
func convTRef(c *convCore, x *tensor.Tensor, oh, ow int) *tensor.Tensor {
	b, h, w := x.Shape[0], x.Shape[2], x.Shape[3]
	cg, ng := c.In/c.Group, c.Out/c.Group
	kh, kw := c.Kernel[0], c.Kernel[1]
	acc := make([]float64, b*c.Out*oh*ow)
	for i := range b {
		for ci := range c.In {
			g := ci / cg
			for iy := range h {
				for ix := range w {
					xv := float64(x.Data[((i*c.In+ci)*h+iy)*w+ix])
					for nj := range ng {
						n := g*ng + nj
						for ky := range kh {
							oy := iy*c.Stride[0] - c.Pads[0] + ky*c.Dilation[0]
							for kx := range kw {
								ox := ix*c.Stride[1] - c.Pads[1] + kx*c.Dilation[1]
								if oy < 0 || oy >= oh || ox < 0 || ox >= ow {
									continue
								}
								acc[((i*c.Out+n)*oh+oy)*ow+ox] += xv * float64(c.W.Value.Data[((ci*ng+nj)*kh+ky)*kw+kx])
							}
						}
					}
				}
			}
		}
	}
	y := tensor.New(b, c.Out, oh, ow)
	for j, v := range acc {
		y.Data[j] = float32(v)
		if c.B != nil {
			y.Data[j] += c.B.Value.Data[(j/(oh*ow))%c.Out]
		}
	}
	return y
}

type convCase struct {
	name       string
	in         []int // per-image input shape
	a          Attrs
	transposed bool
}

var convCases = []convCase{
	{name: "group2", in: []int{4, 6, 6}, a: Attrs{Out: 6, Kernel: [2]int{3, 3}, Pads: [4]int{1, 1, 1, 1}, Group: 2, Bias: true}},
	{name: "depthwise_s2", in: []int{3, 7, 7}, a: Attrs{Out: 3, Kernel: [2]int{3, 3}, Stride: [2]int{2, 2}, Pads: [4]int{1, 1, 1, 1}, Group: 3}},
	{name: "depthwise_x2", in: []int{2, 5, 5}, a: Attrs{Out: 4, Kernel: [2]int{3, 3}, Pads: [4]int{1, 1, 1, 1}, Group: 2, Bias: true}},
	{name: "dilated", in: []int{2, 7, 7}, a: Attrs{Out: 3, Kernel: [2]int{3, 3}, Pads: [4]int{2, 2, 2, 2}, Dilation: [2]int{2, 2}, Bias: true}},
	{name: "rect_asym", in: []int{2, 6, 5}, a: Attrs{Out: 3, Kernel: [2]int{1, 3}, Stride: [2]int{2, 1}, Pads: [4]int{0, 1, 2, 0}}},
	{name: "rect_dil_asym", in: []int{3, 6, 7}, a: Attrs{Out: 2, Kernel: [2]int{3, 2}, Stride: [2]int{1, 2}, Pads: [4]int{1, 0, 0, 2}, Dilation: [2]int{1, 3}, Bias: true}},
	{name: "pointwise_group", in: []int{4, 3, 3}, a: Attrs{Out: 4, Kernel: [2]int{1, 1}, Group: 2}},
	{name: "pointwise_s2", in: []int{2, 5, 5}, a: Attrs{Out: 3, Kernel: [2]int{1, 1}, Stride: [2]int{2, 2}, Dilation: [2]int{1, 1}, Pads: [4]int{0, 0, 1, 1}}},
	{name: "transposed_s2", in: []int{3, 3, 4}, a: Attrs{Out: 2, Kernel: [2]int{3, 3}, Stride: [2]int{2, 2}, Pads: [4]int{1, 1, 1, 1}, OutputPadding: [2]int{1, 1}, Bias: true}, transposed: true},
	{name: "transposed_group", in: []int{4, 3, 3}, a: Attrs{Out: 6, Kernel: [2]int{2, 3}, Stride: [2]int{2, 1}, Pads: [4]int{0, 1, 1, 0}, Group: 2}, transposed: true},
	{name: "transposed_dil", in: []int{2, 3, 3}, a: Attrs{Out: 2, Kernel: [2]int{2, 2}, Dilation: [2]int{2, 1}}, transposed: true},
}

// buildConv builds the layer of a case through Build's path.
func buildConv(t *testing.T, c convCase) nn.Layer {
	t.Helper()
	op := Conv
	if c.transposed {
		op = ConvTranspose
	}
	n := &Node{Name: c.name, Op: op, Attrs: c.a}
	l, err := buildLayer(n, c.in, rng(11))
	if err != nil {
		t.Fatalf("%s: %v", c.name, err)
	}
	return l
}

func core(l nn.Layer) *convCore {
	switch l := l.(type) {
	case *GeneralConv:
		return &l.convCore
	case *GroupedConv:
		return &l.convCore
	case *ConvTranspose2d:
		return &l.convCore
	}
	return nil
}

// TestConvGeneralForward compares the im2col convolutions with their
// definitions, and the layer type Build picks.
func TestConvGeneralForward(t *testing.T) {
	for _, c := range convCases {
		l := buildConv(t, c)
		cc := core(l)
		if cc == nil {
			t.Fatalf("%s: Build made a %T", c.name, l)
		}
		_, isGeneral := l.(*GeneralConv)
		if !c.transposed && isGeneral != (max(c.a.Group, 1) == 1) {
			t.Errorf("%s: Build made a %T for group %d", c.name, l, c.a.Group)
		}
		_, prunable := l.(nn.Prunable)
		if prunable != isGeneral {
			t.Errorf("%s: %T prunable %v", c.name, l, prunable)
		}
		nntest.RandParams(l, rng(5), 0.5)
		x := batch(rng(6), 3, c.in...)
		y, err := l.Forward(nn.NewCtx(false), x)
		if err != nil {
			t.Fatalf("%s: %v", c.name, err)
		}
		oh, ow := y.Shape[2], y.Shape[3]
		n := &Node{Op: Conv, Attrs: c.a}
		ref := convRef
		if c.transposed {
			n.Op, ref = ConvTranspose, convTRef
		}
		want, err := n.convShape(c.in)
		if err != nil || !tensor.SameShape(y.Shape[1:], want) {
			t.Fatalf("%s: output %v, Infer says %v (%v)", c.name, y.Shape, want, err)
		}
		nntest.Compare(t, c.name, y, ref(cc, x, oh, ow), nntest.Tol{Rtol: 1e-5, Atol: 1e-5})
	}
}

// TestGradientsConvGeneral checks every case's input and parameter
// gradients against finite differences, and a masked GeneralConv.
func TestGradientsConvGeneral(t *testing.T) {
	for _, c := range convCases {
		l := buildConv(t, c)
		nntest.RandParams(l, rng(5), 0.5)
		x := batch(rng(6), 2, c.in...)
		y, err := l.Forward(nn.NewCtx(true), x.Clone())
		if err != nil {
			t.Fatal(err)
		}
		dy := nntest.Randn(rng(8), 1, y.Shape...)
		rep := nntest.CheckGradients(t, c.name, nntest.LayerTarget(l, func() *nn.Ctx { return nn.NewCtx(true) }, x, dy), nntest.GradOptions{})
		if rep.Kinks > 0 {
			t.Errorf("%s: %d kinks in a linear function", c.name, rep.Kinks)
		}
	}
	c := convCases[4] // rect_asym, group 1
	l := buildConv(t, c).(*GeneralConv)
	nntest.RandParams(l, rng(5), 0.5)
	n, ch := l.MaskShape()
	mask := make([]float32, n*ch)
	for i := range mask {
		mask[i] = float32(i % 2)
	}
	if err := l.SetMask(mask); err != nil {
		t.Fatal(err)
	}
	x := batch(rng(6), 2, c.in...)
	y, err := l.Forward(nn.NewCtx(true), x.Clone())
	if err != nil {
		t.Fatal(err)
	}
	dy := nntest.Randn(rng(8), 1, y.Shape...)
	nntest.CheckGradients(t, "masked", nntest.LayerTarget(l, func() *nn.Ctx { return nn.NewCtx(true) }, x, dy), nntest.GradOptions{})
	if err := l.SetMask(mask[1:]); err == nil {
		t.Error("a mask of the wrong length was accepted")
	}
}

// TestBuildPicksNNConv checks that simple convs become nn.Conv2d and that
// GeneralConv gives the same result on the same weights.
func TestBuildPicksNNConv(t *testing.T) {
	a := Attrs{Out: 3, Kernel: [2]int{3, 3}, Stride: [2]int{2, 2}, Pads: [4]int{1, 1, 1, 1}, Bias: true}
	l, err := buildLayer(&Node{Name: "c", Op: Conv, Attrs: a}, []int{2, 7, 7}, rng(1))
	if err != nil {
		t.Fatal(err)
	}
	c2, ok := l.(*nn.Conv2d)
	if !ok {
		t.Fatalf("simple conv built as %T, want *nn.Conv2d", l)
	}
	cc, err := newCore("c", 2, a, false, rng(1))
	if err != nil {
		t.Fatal(err)
	}
	copy(cc.W.Value.Data, c2.W.Value.Data)
	copy(cc.B.Value.Data, c2.B.Value.Data)
	x := batch(rng(2), 2, 2, 7, 7)
	y1, _ := c2.Forward(nn.NewCtx(false), x)
	y2, err := cc.Forward(nn.NewCtx(false), x)
	if err != nil {
		t.Fatal(err)
	}
	nntest.Compare(t, "general vs nn", y2, y1, nntest.Tol{Rtol: 1e-5, Atol: 1e-5})
	for _, bad := range []Attrs{{Out: 3, Kernel: [2]int{3, 3}, Group: 4}, {Out: 0, Kernel: [2]int{3, 3}}} {
		if _, err := newCore("c", 2, bad, false, rng(1)); err == nil {
			t.Errorf("attrs %+v accepted", bad)
		}
	}
}
