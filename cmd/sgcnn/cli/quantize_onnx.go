package cli

import (
	"fmt"
	"os"
	"slices"
	"time"

	"github.com/sgcnn/sgcnn/compile"
	"github.com/sgcnn/sgcnn/data"
	"github.com/sgcnn/sgcnn/export/onnx"
	"github.com/sgcnn/sgcnn/export/onnx/ort"
	"github.com/sgcnn/sgcnn/models"
	"github.com/sgcnn/sgcnn/quant"
	"github.com/sgcnn/sgcnn/tensor"
	"github.com/sgcnn/sgcnn/train"
)

// quantONNX writes the QDQ model to o.onnx and, where ONNX Runtime loads,
// evaluates it on the test set against sgcnn int8's predictions pred and
// times it beside i8.
func quantONNX(gl *globals, o *quantizeOptions, m *models.Model, cal *quant.Calibration, ds *data.Dataset, norm data.Norm, pred []int, i8 *compile.Net) error {
	w := gl.stdout
	q := map[string]onnx.QDQ{}
	for name, a := range cal.Int8() {
		q[name] = onnx.QDQ{Scale: a.Scale, Zero: a.Zero}
	}
	opts := onnx.Options{FoldBN: true, QDQ: q, Producer: "sgcnn quantize",
		Metadata: map[string]string{"dataset": o.dataset, "precision": "int8 (QDQ)"}}
	if err := onnx.ExportFile(o.onnx, m, opts); err != nil {
		return err
	}
	fmt.Fprintf(w, "wrote %s (QDQ, %d int8 convs)\n", o.onnx, len(q))
	lib, err := ort.FindLibrary()
	if err == nil {
		err = ort.Open(lib)
	}
	if err != nil {
		fmt.Fprintf(w, "ONNX Runtime comparison skipped: %v\n", err)
		return nil
	}
	model, err := os.ReadFile(o.onnx)
	if err != nil {
		return err
	}
	s, err := ort.NewSession(model, onnx.InputName, onnx.OutputName, gl.threads)
	if err != nil {
		return fmt.Errorf("%s: %w", o.onnx, err)
	}
	defer s.Close()
	src, err := evalSource(ds, norm, o.batch)
	if err != nil {
		return err
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
	if err != nil || n == 0 {
		return err
	}
	fmt.Fprintf(w, "ONNX Runtime on the QDQ model: top-1 %.2f%%, top-1 agreement with sgcnn int8 %.2f%% (%d images)\n",
		100*float64(right)/float64(n), 100*float64(agree)/float64(n), n)
	if o.benchBatch == 0 {
		return nil
	}
	shape := []int64{int64(o.benchBatch)}
	for _, d := range m.InputShape {
		shape = append(shape, int64(d))
	}
	tORT, err := s.Time(shape, 2, o.repeats)
	if err != nil {
		return err
	}
	x := tensor.New(append([]int{o.benchBatch}, m.InputShape[:]...)...)
	var ts []time.Duration
	for rep := range o.repeats + 1 {
		t0 := time.Now()
		if _, err := i8.Forward(x); err != nil {
			return err
		}
		if rep > 0 {
			ts = append(ts, time.Since(t0))
		}
	}
	slices.Sort(ts)
	t8 := ts[len(ts)/2]
	fmt.Fprintf(w, "batch %d, median of %d: ONNX Runtime QDQ %.2f ms  sgcnn int8 %.2f ms  (sgcnn int8 %.2fx ONNX Runtime; timed one after the other on a shared machine)\n",
		o.benchBatch, o.repeats, ms(tORT), ms(t8), float64(tORT)/float64(t8))
	return nil
}
