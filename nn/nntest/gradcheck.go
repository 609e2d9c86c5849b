package nntest

import (
	"fmt"
	"math"
	"math/rand/v2"
	"testing"

	"github.com/sgcnn/sgcnn/nn"
	"github.com/sgcnn/sgcnn/tensor"
)

// Target is a scalar function of some float32 tensors, with its analytic
// gradient, for CheckGradients.
type Target struct {
	Names  []string         // one per input, for messages
	Inputs []*tensor.Tensor // the variables; CheckGradients perturbs them in place and restores them
	// Fixed, where non-nil for an input, marks elements held constant (the
	// pruned weights of a masked layer): they are not perturbed, and their
	// analytic gradient must be exactly zero.
	Fixed [][]bool
	// Loss evaluates the function at the current values of Inputs.
	Loss func() (float64, error)
	// Grad returns the analytic gradient with respect to each input at the
	// current values, in the order of Inputs.
	Grad func() ([]*tensor.Tensor, error)
}

// GradOptions tunes CheckGradients. The zero value gives the defaults.
type GradOptions struct {
	// Eps is the central-difference step (default 1e-2). The layers
	// compute in float32, so much smaller steps drown in rounding noise;
	// the functions checked here are piecewise linear or smooth enough
	// that the O(Eps^2) truncation error stays well inside Tol.
	Eps float64
	// Tol bounds |analytic - numeric| elementwise (default Rtol 1e-2,
	// Atol 1e-3, relative to the numeric derivative).
	Tol Tol
	// MaxPerInput, when > 0, checks at most this many elements of each
	// input, spread evenly over it.
	MaxPerInput int
	// MaxKinkFrac is the fraction of checked elements that may be skipped
	// as lying at a kink (default 0.05); see CheckGradients.
	MaxKinkFrac float64
}

func (o GradOptions) withDefaults() GradOptions {
	if o.Eps == 0 {
		o.Eps = 1e-2
	}
	if o.Tol == (Tol{}) {
		o.Tol = Tol{Rtol: 1e-2, Atol: 1e-3}
	}
	if o.MaxKinkFrac == 0 {
		o.MaxKinkFrac = 0.05
	}
	return o
}

// GradReport summarises one CheckGradients call.
type GradReport struct {
	Checked, Bad, Kinks int
	MaxErr              float64 // largest |analytic - numeric| over smooth points
}

// CheckGradients compares tg's analytic gradient with float64 central
// differences (L(v+h) - L(v-h)) / (2h), element by element, and reports
// every element outside opt.Tol as a test error.
//
// Piecewise-linear layers (ReLU, max pooling) have kinks, where central
// differences are wrong. Each element is therefore differenced with steps
// Eps and Eps/2: on smooth ground the two agree to O(Eps^2), and the Eps/2
// one is compared with the analytic gradient; where they disagree beyond
// Tol, a kink lies within Eps of the point and the element is skipped and
// counted. The check fails if more than opt.MaxKinkFrac of the checked
// elements are skipped, so a wrong gradient cannot hide as kinks.
func CheckGradients(t testing.TB, name string, tg Target, opt GradOptions) GradReport {
	t.Helper()
	opt = opt.withDefaults()
	var rep GradReport
	grads, err := tg.Grad()
	if err != nil {
		t.Errorf("%s: analytic gradient: %v", name, err)
		return rep
	}
	if len(grads) != len(tg.Inputs) {
		t.Errorf("%s: %d gradients for %d inputs", name, len(grads), len(tg.Inputs))
		return rep
	}
	// Grad may return tensors owned by the layer: keep copies.
	for i, g := range grads {
		if g == nil || !tensor.SameShape(g.Shape, tg.Inputs[i].Shape) {
			t.Errorf("%s: gradient of %s is %v, want shape %v", name, tg.Names[i], g, tg.Inputs[i].Shape)
			return rep
		}
		grads[i] = g.Clone()
	}
	for k, in := range tg.Inputs {
		var fixed []bool
		if k < len(tg.Fixed) {
			fixed = tg.Fixed[k]
		}
		step := 1
		if opt.MaxPerInput > 0 && in.Len() > opt.MaxPerInput {
			step = (in.Len() + opt.MaxPerInput - 1) / opt.MaxPerInput
		}
		reported := 0
		for i := 0; i < in.Len(); i += step {
			an := float64(grads[k].Data[i])
			if fixed != nil && fixed[i] {
				if an != 0 {
					rep.Bad++
					t.Errorf("%s: d/d%s[%d] = %g, want exactly 0 (fixed element)", name, tg.Names[k], i, an)
				}
				continue
			}
			num, err := central(tg.Loss, in.Data, i, opt.Eps)
			var half float64
			if err == nil {
				half, err = central(tg.Loss, in.Data, i, opt.Eps/2)
			}
			if err != nil {
				t.Errorf("%s: loss at perturbed %s[%d]: %v", name, tg.Names[k], i, err)
				return rep
			}
			rep.Checked++
			if !opt.Tol.ok(half, num) {
				rep.Kinks++
				continue
			}
			num = half
			e := math.Abs(an - num)
			rep.MaxErr = max(rep.MaxErr, e)
			if !opt.Tol.ok(an, num) {
				rep.Bad++
				if reported++; reported <= 5 {
					t.Errorf("%s: d/d%s[%d]: analytic %.6g, numeric %.6g (|d| = %.3g)", name, tg.Names[k], i, an, num, e)
				}
			}
		}
		if reported > 5 {
			t.Errorf("%s: ... %d more bad elements of %s", name, reported-5, tg.Names[k])
		}
	}
	if rep.Checked == 0 {
		t.Errorf("%s: no element checked", name)
	}
	if float64(rep.Kinks) > opt.MaxKinkFrac*float64(rep.Checked) {
		t.Errorf("%s: %d of %d elements skipped as kinks (max %.0f%%): the function is not smooth enough for a check at Eps %g",
			name, rep.Kinks, rep.Checked, 100*opt.MaxKinkFrac, opt.Eps)
	}
	return rep
}

// central returns the central difference of loss in data[i] with step
// eps, using the steps actually representable in float32, and restores
// data[i].
func central(loss func() (float64, error), data []float32, i int, eps float64) (float64, error) {
	v := data[i]
	up, down := float32(float64(v)+eps), float32(float64(v)-eps)
	defer func() { data[i] = v }()
	data[i] = up
	lp, err := loss()
	if err != nil {
		return 0, err
	}
	data[i] = down
	lm, err := loss()
	if err != nil {
		return 0, err
	}
	return (lp - lm) / (float64(up) - float64(down)), nil
}

// LayerTarget returns the Target <layer(x), dy> as a function of x and of
// every parameter of layer (nn.AllParams), so that its gradient is the one
// Backward computes for the upstream gradient dy. newCtx is called before
// every pass: return a context whose random source restarts from the same
// seed when the layer draws random numbers (dropout). Pruned weights
// (Param.Mask 0) are Fixed.
func LayerTarget(layer nn.Layer, newCtx func() *nn.Ctx, x, dy *tensor.Tensor) Target {
	params := nn.AllParams(layer)
	tg := Target{
		Names:  []string{"x"},
		Inputs: []*tensor.Tensor{x},
		Fixed:  [][]bool{nil},
	}
	for _, p := range params {
		tg.Names = append(tg.Names, p.Name)
		tg.Inputs = append(tg.Inputs, p.Value)
		tg.Fixed = append(tg.Fixed, maskedElements(p))
	}
	tg.Loss = func() (float64, error) {
		// Layers may work in place on their input: pass a copy.
		y, err := layer.Forward(newCtx(), x.Clone())
		if err != nil {
			return 0, err
		}
		if y.Len() != dy.Len() {
			return 0, fmt.Errorf("output has %d values, dy %d", y.Len(), dy.Len())
		}
		var s float64
		for i, v := range y.Data {
			s += float64(v) * float64(dy.Data[i])
		}
		return s, nil
	}
	tg.Grad = func() ([]*tensor.Tensor, error) {
		nn.ZeroGrad(layer)
		ctx := newCtx()
		if _, err := layer.Forward(ctx, x.Clone()); err != nil {
			return nil, err
		}
		dx, err := layer.Backward(ctx, dy.Clone())
		if err != nil {
			return nil, err
		}
		out := []*tensor.Tensor{dx}
		for _, p := range params {
			out = append(out, p.Grad)
		}
		return out, nil
	}
	return tg
}

// maskedElements expands a parameter's (Shape[0], Shape[1]) mask to one
// flag per element, nil when the parameter has no mask.
func maskedElements(p *nn.Param) []bool {
	if p.Mask == nil {
		return nil
	}
	kk := p.Value.Len() / len(p.Mask)
	out := make([]bool, p.Value.Len())
	for i := range out {
		out[i] = p.Mask[i/kk] == 0
	}
	return out
}

// LossTarget returns the Target SoftmaxCrossEntropy(logits, labels) as a
// function of the logits.
func LossTarget(logits *tensor.Tensor, labels []int) Target {
	return Target{
		Names:  []string{"logits"},
		Inputs: []*tensor.Tensor{logits},
		Loss: func() (float64, error) {
			l, _, err := nn.SoftmaxCrossEntropy(logits, labels, nil)
			return l, err
		},
		Grad: func() ([]*tensor.Tensor, error) {
			_, g, err := nn.SoftmaxCrossEntropy(logits, labels, nil)
			return []*tensor.Tensor{g}, err
		},
	}
}

// Randn returns a tensor of the given shape with standard normal values
// times scale, drawn from rng.
func Randn(rng *rand.Rand, scale float64, shape ...int) *tensor.Tensor {
	t := tensor.New(shape...)
	for i := range t.Data {
		t.Data[i] = float32(rng.NormFloat64() * scale)
	}
	return t
}

// RandParams overwrites every parameter of layer with normal values times
// scale (BatchNorm weights get 1 added, so they stay away from zero) and
// re-applies the masks of prunable layers.
func RandParams(layer nn.Layer, rng *rand.Rand, scale float64) {
	for _, p := range nn.AllParams(layer) {
		for i := range p.Value.Data {
			p.Value.Data[i] = float32(rng.NormFloat64() * scale)
		}
	}
	nn.Walk(layer, func(l nn.Layer) {
		if bn, ok := l.(*nn.BatchNorm2d); ok {
			for i := range bn.Gamma.Value.Data {
				bn.Gamma.Value.Data[i]++
			}
		}
		if p, ok := l.(nn.Prunable); ok && p.Mask() != nil {
			_ = p.SetMask(p.Mask())
		}
	})
}
