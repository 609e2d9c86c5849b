package nn

import (
	"fmt"
	"math"

	"github.com/sgcnn/sgcnn/tensor"
)

// DistillCrossEntropy is the knowledge-distillation loss of Hinton et al.
// (2015) for a student's logits [B][K] against a teacher's logits on the
// same images and the true labels:
//
//	L = (1-alpha) * CE(z, y) + alpha * T^2 * KL(softmax(t/T) || softmax(z/T))
//
// averaged over the batch. The T^2 factor keeps the soft term's gradient
// on the scale of the hard one's; its gradient with respect to z_j is
// ((1-alpha) * (softmax(z)_j - [j == y]) + alpha * T * (softmax(z/T)_j -
// softmax(t/T)_j)) / B, written into grad (allocated when nil or of the
// wrong shape). alpha = 0 is the plain cross-entropy; temp must be > 0
// and alpha in [0, 1].
func DistillCrossEntropy(logits, teacher *tensor.Tensor, labels []int, temp, alpha float64, grad *tensor.Tensor) (float64, *tensor.Tensor, error) {
	if !(temp > 0) || !(alpha >= 0 && alpha <= 1) {
		return 0, nil, fmt.Errorf("distillation: temperature %g must be > 0 and alpha %g in [0, 1]", temp, alpha)
	}
	if logits == nil || teacher == nil || !tensor.SameShape(logits.Shape, teacher.Shape) {
		return 0, nil, fmt.Errorf("distillation: teacher logits must have the student's shape")
	}
	hard, grad, err := SoftmaxCrossEntropy(logits, labels, grad)
	if err != nil {
		return hard, grad, err
	}
	b, k := logits.Shape[0], logits.Shape[1]
	inv := 1 / float64(b)
	ps, pt := make([]float64, k), make([]float64, k)
	var soft float64
	for i := range b {
		lps := logSoftmaxT(logits.Data[i*k:(i+1)*k], temp, ps)
		lpt := logSoftmaxT(teacher.Data[i*k:(i+1)*k], temp, pt)
		g := grad.Data[i*k : (i+1)*k]
		for j := range k {
			p := math.Exp(lpt[j])
			soft += p * (lpt[j] - lps[j])
			gs := temp * (math.Exp(lps[j]) - p) * inv
			g[j] = float32((1-alpha)*float64(g[j]) + alpha*gs)
		}
	}
	loss := (1-alpha)*hard + alpha*temp*temp*soft*inv
	if math.IsNaN(loss) || math.IsInf(loss, 0) {
		return loss, grad, &NonFiniteError{Where: "the network's output or the teacher's", What: "loss"}
	}
	return loss, grad, nil
}

// logSoftmaxT writes log softmax(row/temp) into out and returns it.
func logSoftmaxT(row []float32, temp float64, out []float64) []float64 {
	mx := math.Inf(-1)
	for j, v := range row {
		out[j] = float64(v) / temp
		mx = max(mx, out[j])
	}
	var sum float64
	for _, v := range out {
		sum += math.Exp(v - mx)
	}
	lse := mx + math.Log(sum)
	for j := range out {
		out[j] -= lse
	}
	return out
}
