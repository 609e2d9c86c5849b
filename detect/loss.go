package detect

import (
	"fmt"
	"math"

	"github.com/sgcnn/sgcnn/nn"
	"github.com/sgcnn/sgcnn/tensor"
)

// Head output layout: channels [0, K) are class heatmap logits, K and K+1
// the box width and height in cells, K+2 and K+3 the sub-cell centre
// offset in x and y.
const extraChannels = 4

// Focal loss exponents (CenterNet's alpha and beta).
const (
	focalAlpha = 2
	focalBeta  = 4
)

// Weights scales the box terms against the focal loss.
type Weights struct {
	Size   float64 `json:"size"`
	Offset float64 `json:"offset"`
}

// DefaultWeights are CenterNet's: size 0.1, offset 1.
var DefaultWeights = Weights{Size: 0.1, Offset: 1}

// LossParts is a batch's loss and its terms.
type LossParts struct {
	Total  float64 `json:"total"`
	Focal  float64 `json:"focal"`
	Size   float64 `json:"size"`
	Offset float64 `json:"offset"`
}

// Loss returns the detection loss of the head output out ([B][K+4][H][W])
// against t, and its gradient with respect to out, written into grad
// (allocated when nil or of the wrong shape).
//
// The heatmap term is CenterNet's penalty-reduced focal loss on
// p = sigmoid(z):
//
//	-(1-p)^2 log p               where the target Y is 1 (a centre)
//	-(1-Y)^4 p^2 log(1-p)        elsewhere
//
// with gradients with respect to the logit z
//
//	(1-p)^2 (2 p log p - (1-p))
//	(1-Y)^4 p^2 (p - 2 (1-p) log(1-p))
//
// log p and log(1-p) are computed as -softplus(-z) and -softplus(z), so no
// clamping of p is needed. The size and offset terms are L1 distances at
// the centre cells only. Every term is divided by the number of objects
// (at least 1).
func Loss(out *tensor.Tensor, t *Targets, w Weights, grad *tensor.Tensor) (LossParts, *tensor.Tensor, error) {
	var lp LossParts
	want := []int{t.B, t.K + extraChannels, t.H, t.W}
	if out == nil || !tensor.SameShape(out.Shape, want) {
		var got []int
		if out != nil {
			got = out.Shape
		}
		return lp, nil, fmt.Errorf("detect: head output %s, want %s", tensor.ShapeString(got), tensor.ShapeString(want))
	}
	if grad == nil || !tensor.SameShape(grad.Shape, out.Shape) {
		grad = tensor.New(out.Shape...)
	}
	grad.Zero()
	hw, c := t.H*t.W, t.K+extraChannels
	norm := 1 / float64(max(1, len(t.Centres)))
	for i := range t.B {
		for k := range t.K {
			z := out.Data[(i*c+k)*hw : (i*c+k+1)*hw]
			y := t.Heat[(i*t.K+k)*hw : (i*t.K+k+1)*hw]
			g := grad.Data[(i*c+k)*hw : (i*c+k+1)*hw]
			for j, zv := range z {
				l, d := focal(float64(zv), float64(y[j]))
				lp.Focal += l
				g[j] = float32(d * norm)
			}
		}
	}
	lp.Focal *= norm
	for _, ct := range t.Centres {
		at := func(ch int) int { return ((ct.Item*c+t.K+ch)*t.H+ct.Y)*t.W + ct.X }
		for ch, target := range [4]float64{ct.W, ct.H, ct.OffX, ct.OffY} {
			wt, sum := w.Size, &lp.Size
			if ch >= 2 {
				wt, sum = w.Offset, &lp.Offset
			}
			d := float64(out.Data[at(ch)]) - target
			*sum += math.Abs(d) * norm
			grad.Data[at(ch)] += float32(wt * sign(d) * norm)
		}
	}
	lp.Total = lp.Focal + w.Size*lp.Size + w.Offset*lp.Offset
	if math.IsNaN(lp.Total) || math.IsInf(lp.Total, 0) {
		return lp, grad, &nn.NonFiniteError{Where: "the detection head's output", What: "loss"}
	}
	return lp, grad, nil
}

// focal returns the focal loss of logit z against target y and its
// derivative in z.
func focal(z, y float64) (loss, dz float64) {
	p := 1 / (1 + math.Exp(-z))
	if y == 1 {
		logp := -softplus(-z)
		q := (1 - p) * (1 - p)
		return -q * logp, q * (focalAlpha*p*logp - (1 - p))
	}
	log1mp := -softplus(z)
	wt := math.Pow(1-y, focalBeta) * p * p
	return -wt * log1mp, wt * (p - focalAlpha*(1-p)*log1mp)
}

// softplus is log(1 + e^x), computed without overflow.
func softplus(x float64) float64 {
	if x > 0 {
		return x + math.Log1p(math.Exp(-x))
	}
	return math.Log1p(math.Exp(x))
}

func sign(x float64) float64 {
	switch {
	case x > 0:
		return 1
	case x < 0:
		return -1
	}
	return 0
}
