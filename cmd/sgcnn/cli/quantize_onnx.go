package cli

import (
	"fmt"
	"os"

	"github.com/sgcnn/sgcnn"
	"github.com/sgcnn/sgcnn/data"
	"github.com/sgcnn/sgcnn/export/onnx"
	"github.com/sgcnn/sgcnn/export/onnx/ort"
	"github.com/sgcnn/sgcnn/train"
)

// quantONNX writes the QDQ model to o.onnx and, where ONNX Runtime loads,
// evaluates it on the test set (its first --ort-limit images) against
// sgcnn int8's predictions pred and returns its session for the speed
// rounds; nil (and a note) where ONNX Runtime is not found.
func quantONNX(gl *globals, o *quantizeOptions, q *sgcnn.Quantized, ds *data.Dataset, norm data.Norm, pred []int) (*ort.Session, error) {
	w := gl.stdout
	opts := q.ONNXOptions()
	opts.Producer, opts.Metadata["dataset"] = "sgcnn quantize", o.dataset
	if err := onnx.ExportFile(o.onnx, q.Model(), opts); err != nil {
		return nil, err
	}
	fmt.Fprintf(w, "wrote %s (QDQ, %d int8 convs)\n", o.onnx, len(opts.QDQ))
	lib, err := ort.FindLibrary()
	if err == nil {
		err = ort.Open(lib)
	}
	if err != nil {
		fmt.Fprintf(w, "ONNX Runtime comparison skipped: %v\n", err)
		return nil, nil
	}
	model, err := os.ReadFile(o.onnx)
	if err != nil {
		return nil, err
	}
	s, err := ort.NewSession(model, onnx.InputName, onnx.OutputName, gl.threads)
	if err != nil {
		return nil, fmt.Errorf("%s: %w", o.onnx, err)
	}
	if ds, err = sgcnn.First(ds, o.ortLimit); err != nil {
		s.Close()
		return nil, err
	}
	src, err := sgcnn.EvalSource(ds, norm, o.batch)
	if err != nil {
		s.Close()
		return nil, err
	}
	var n, right, agree int
	var rerr error
	err = src(0, func(b train.Batch) bool {
		shape := make([]int64, len(b.X.Shape))
		for i, d := range b.X.Shape {
			shape[i] = int64(d)
		}
		y, ys, err := s.Run(b.X.Data, shape)
		if err != nil {
			rerr = err
			return false
		}
		k := int(ys[1])
		for j, label := range b.Y {
			p := argmaxRow(y[j*k : (j+1)*k])
			if p == label {
				right++
			}
			if n+j < len(pred) && p == pred[n+j] {
				agree++
			}
		}
		n += len(b.Y)
		return true
	})
	if err == nil {
		err = rerr
	}
	if err != nil {
		s.Close()
		return nil, err
	}
	fmt.Fprintf(w, "ONNX Runtime on the QDQ model: top-1 %.2f%%, top-1 agreement with sgcnn int8 %.2f%% (%d images)\n",
		100*float64(right)/float64(max(n, 1)), 100*float64(agree)/float64(max(n, 1)), n)
	return s, nil
}
