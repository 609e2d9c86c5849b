package nn

import (
	"fmt"
	"math"

	"github.com/sgcnn/sgcnn/internal/parallel"
	"github.com/sgcnn/sgcnn/tensor"
)

// BatchNorm2d normalises each channel (PyTorch's BatchNorm2d: eps 1e-5,
// momentum 0.1, running variance updated with the unbiased batch
// variance). In training mode it uses batch statistics; in evaluation mode
// the running ones.
type BatchNorm2d struct {
	name     string
	C        int
	Eps      float64
	Momentum float64
	Gamma    *Param // weight [C]
	Beta     *Param // bias [C]
	Mean     *Param // running_mean [C] (buffer)
	Var      *Param // running_var [C] (buffer)

	x          *tensor.Tensor
	train      bool
	mean, istd []float32 // statistics used in the last forward
	y, dx      *tensor.Tensor
}

// NewBatchNorm2d returns a BN layer with gamma 1, beta 0, running mean 0 and
// running variance 1.
func NewBatchNorm2d(name string, c int) *BatchNorm2d {
	bn := &BatchNorm2d{name: name, C: c, Eps: 1e-5, Momentum: 0.1,
		Gamma: newParam(name+".weight", false, c), Beta: newParam(name+".bias", false, c),
		Mean: &Param{Name: name + ".running_mean", Value: tensor.New(c)},
		Var:  &Param{Name: name + ".running_var", Value: tensor.New(c)},
		mean: make([]float32, c), istd: make([]float32, c)}
	for i := range c {
		bn.Gamma.Value.Data[i] = 1
		bn.Var.Value.Data[i] = 1
	}
	return bn
}

// Name returns the layer's state_dict prefix.
func (bn *BatchNorm2d) Name() string { return bn.name }

// Params returns gamma and beta.
func (bn *BatchNorm2d) Params() []*Param { return []*Param{bn.Gamma, bn.Beta} }

// Buffers returns the running mean and variance.
func (bn *BatchNorm2d) Buffers() []*Param { return []*Param{bn.Mean, bn.Var} }

// Shift returns the constant output of channel ch for a constant zero
// input in evaluation mode: beta - gamma*mean/sqrt(var+eps).
func (bn *BatchNorm2d) Shift(ch int) float32 {
	return bn.Beta.Value.Data[ch] - bn.Gamma.Value.Data[ch]*bn.Mean.Value.Data[ch]/
		float32(math.Sqrt(float64(bn.Var.Value.Data[ch])+bn.Eps))
}

// Forward normalises x per channel.
func (bn *BatchNorm2d) Forward(ctx *Ctx, x *tensor.Tensor) (*tensor.Tensor, error) {
	if err := check4D(bn.name, x, bn.C); err != nil {
		return nil, err
	}
	b, hw := x.Shape[0], x.Shape[2]*x.Shape[3]
	if ctx.Train && b*hw < 2 {
		return nil, fmt.Errorf("layer %s: training needs more than one value per channel, got batch %d of %dx%d", bn.name, b, x.Shape[2], x.Shape[3])
	}
	bn.x, bn.train = x, ctx.Train
	y := reuse(&bn.y, x.Shape...)
	cnt := float64(b * hw)
	parallel.For(bn.C, func(_, ch int) {
		var mean, istd float64
		if ctx.Train {
			var s float64
			for i := range b {
				for _, v := range x.Data[(i*bn.C+ch)*hw : (i*bn.C+ch+1)*hw] {
					s += float64(v)
				}
			}
			mean = s / cnt
			var ss float64
			for i := range b {
				for _, v := range x.Data[(i*bn.C+ch)*hw : (i*bn.C+ch+1)*hw] {
					d := float64(v) - mean
					ss += d * d
				}
			}
			varB := ss / cnt
			istd = 1 / math.Sqrt(varB+bn.Eps)
			m := bn.Momentum
			bn.Mean.Value.Data[ch] = float32((1-m)*float64(bn.Mean.Value.Data[ch]) + m*mean)
			bn.Var.Value.Data[ch] = float32((1-m)*float64(bn.Var.Value.Data[ch]) + m*ss/(cnt-1))
		} else {
			mean = float64(bn.Mean.Value.Data[ch])
			istd = 1 / math.Sqrt(float64(bn.Var.Value.Data[ch])+bn.Eps)
		}
		bn.mean[ch], bn.istd[ch] = float32(mean), float32(istd)
		scale := float32(istd) * bn.Gamma.Value.Data[ch]
		shift := bn.Beta.Value.Data[ch] - float32(mean)*scale
		for i := range b {
			off := (i*bn.C + ch) * hw
			xs, ys := x.Data[off:off+hw], y.Data[off:off+hw]
			for j, v := range xs {
				ys[j] = v*scale + shift
			}
		}
	})
	return y, nil
}

// Backward computes dx and accumulates dgamma, dbeta.
func (bn *BatchNorm2d) Backward(ctx *Ctx, dy *tensor.Tensor) (*tensor.Tensor, error) {
	x := bn.x
	if x == nil || dy == nil || !tensor.SameShape(dy.Shape, x.Shape) {
		return nil, fmt.Errorf("layer %s: backward without a matching forward", bn.name)
	}
	b, hw := x.Shape[0], x.Shape[2]*x.Shape[3]
	dx := reuse(&bn.dx, x.Shape...)
	cnt := float32(b * hw)
	parallel.For(bn.C, func(_, ch int) {
		mean, istd, gamma := bn.mean[ch], bn.istd[ch], bn.Gamma.Value.Data[ch]
		// sums of dy and dy*xhat over the channel
		var sdy, sdyx float64
		for i := range b {
			off := (i*bn.C + ch) * hw
			xs, ds := x.Data[off:off+hw], dy.Data[off:off+hw]
			for j, g := range ds {
				sdy += float64(g)
				sdyx += float64(g * (xs[j] - mean) * istd)
			}
		}
		bn.Beta.Grad.Data[ch] += float32(sdy)
		bn.Gamma.Grad.Data[ch] += float32(sdyx)
		k := gamma * istd
		for i := range b {
			off := (i*bn.C + ch) * hw
			xs, ds, dxs := x.Data[off:off+hw], dy.Data[off:off+hw], dx.Data[off:off+hw]
			if !bn.train {
				for j, g := range ds {
					dxs[j] = g * k
				}
				continue
			}
			// dx = gamma*istd*(dy - mean(dy) - xhat*mean(dy*xhat))
			mdy, mdyx := float32(sdy)/cnt, float32(sdyx)/cnt
			for j, g := range ds {
				xh := (xs[j] - mean) * istd
				dxs[j] = k * (g - mdy - xh*mdyx)
			}
		}
	})
	return dx, nil
}
