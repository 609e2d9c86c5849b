package nn

import (
	"fmt"
	"math"

	"github.com/sgcnn/sgcnn/internal/kernel"
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
	ctx.Pool().For(bn.C, func(_, ch int) {
		var mean, istd float64
		if ctx.Train {
			// One pass: sum and sum of squares in float64 (the vector
			// kernels convert each float32 exactly), then the variance as
			// E[x^2] - mean^2, which float64 keeps accurate unless the mean
			// dwarfs the spread by about 1e6.
			var s, ss float64
			for i := range b {
				ps, pss := kernel.SumSq(x.Data[(i*bn.C+ch)*hw : (i*bn.C+ch+1)*hw])
				s += ps
				ss += pss
			}
			mean = s / cnt
			varB := max(ss/cnt-mean*mean, 0)
			istd = 1 / math.Sqrt(varB+bn.Eps)
			m := bn.Momentum
			bn.Mean.Value.Data[ch] = float32((1-m)*float64(bn.Mean.Value.Data[ch]) + m*mean)
			bn.Var.Value.Data[ch] = float32((1-m)*float64(bn.Var.Value.Data[ch]) + m*varB*cnt/(cnt-1))
		} else {
			mean = float64(bn.Mean.Value.Data[ch])
			istd = 1 / math.Sqrt(float64(bn.Var.Value.Data[ch])+bn.Eps)
		}
		bn.mean[ch], bn.istd[ch] = float32(mean), float32(istd)
		scale := float32(istd) * bn.Gamma.Value.Data[ch]
		shift := bn.Beta.Value.Data[ch] - float32(mean)*scale
		for i := range b {
			off := (i*bn.C + ch) * hw
			kernel.Affine(x.Data[off:off+hw], y.Data[off:off+hw], scale, shift)
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
	ctx.Pool().For(bn.C, func(_, ch int) {
		mean, istd, gamma := bn.mean[ch], bn.istd[ch], bn.Gamma.Value.Data[ch]
		// Sums of dy and dy*x over the channel; sum dy*xhat follows as
		// istd*(sum dy*x - mean*sum dy).
		var sdy, sdyx float64
		for i := range b {
			off := (i*bn.C + ch) * hw
			s, sx := kernel.SumDot(dy.Data[off:off+hw], x.Data[off:off+hw])
			sdy += s
			sdyx += sx
		}
		sdyx = float64(istd) * (sdyx - float64(mean)*sdy)
		bn.Beta.Grad.Data[ch] += float32(sdy)
		bn.Gamma.Grad.Data[ch] += float32(sdyx)
		k := gamma * istd
		// dx = gamma*istd*(dy - mean(dy) - xhat*mean(dy*xhat))
		//    = k*dy + bx*x + c, with xhat = (x-mean)*istd.
		var bx, c float32
		if bn.train {
			mdy, mdyx := float32(sdy)/cnt, float32(sdyx)/cnt
			bx = -k * istd * mdyx
			c = -k*mdy - bx*mean
		}
		for i := range b {
			off := (i*bn.C + ch) * hw
			kernel.Affine2(dy.Data[off:off+hw], x.Data[off:off+hw], dx.Data[off:off+hw], k, bx, c)
		}
	})
	return dx, nil
}
