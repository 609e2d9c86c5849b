package nn

import (
	"fmt"
	"math"

	"github.com/sgcnn/sgcnn/tensor"
)

// SoftmaxCrossEntropy returns the mean cross-entropy of logits [B][K]
// against integer labels, and its gradient with respect to the logits
// (written into grad, which is allocated when nil or of the wrong shape).
func SoftmaxCrossEntropy(logits *tensor.Tensor, labels []int, grad *tensor.Tensor) (float64, *tensor.Tensor, error) {
	if logits == nil || len(logits.Shape) != 2 || logits.Shape[0] == 0 {
		return 0, nil, fmt.Errorf("loss: logits must be [B K] with B >= 1")
	}
	b, k := logits.Shape[0], logits.Shape[1]
	if len(labels) != b {
		return 0, nil, fmt.Errorf("loss: %d labels for a batch of %d", len(labels), b)
	}
	if grad == nil || !tensor.SameShape(grad.Shape, logits.Shape) {
		grad = tensor.New(b, k)
	}
	var loss float64
	inv := 1 / float64(b)
	for i, y := range labels {
		if y < 0 || y >= k {
			return 0, nil, fmt.Errorf("loss: label %d of item %d is outside [0, %d)", y, i, k)
		}
		row := logits.Data[i*k : (i+1)*k]
		mx := row[0]
		for _, v := range row {
			mx = max(mx, v)
		}
		var sum float64
		for _, v := range row {
			sum += math.Exp(float64(v - mx))
		}
		lse := float64(mx) + math.Log(sum)
		loss += lse - float64(row[y])
		g := grad.Data[i*k : (i+1)*k]
		for j, v := range row {
			g[j] = float32(math.Exp(float64(v)-lse) * inv)
		}
		g[y] -= float32(inv)
	}
	loss *= inv
	if math.IsNaN(loss) || math.IsInf(loss, 0) {
		return loss, grad, &NonFiniteError{Where: "the network's output", What: "loss"}
	}
	return loss, grad, nil
}

// TopK counts the items whose label is among the k largest logits. Ties
// count against the label (a label tied with others is not "in" unless
// fewer than k logits are strictly larger).
func TopK(logits *tensor.Tensor, labels []int, k int) int {
	nc := logits.Shape[1]
	hits := 0
	for i, y := range labels {
		row := logits.Data[i*nc : (i+1)*nc]
		larger := 0
		for _, v := range row {
			if v > row[y] {
				larger++
			}
		}
		if larger < k {
			hits++
		}
	}
	return hits
}
