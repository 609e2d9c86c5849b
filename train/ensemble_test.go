package train

import (
	"errors"
	"strings"
	"testing"

	"github.com/sgcnn/sgcnn/tensor"
)

// constTeacher returns a teacher that gives logits of the given shape,
// every entry v plus its index.
func constTeacher(v float32, shape ...int) func(*tensor.Tensor) (*tensor.Tensor, error) {
	return func(*tensor.Tensor) (*tensor.Tensor, error) {
		t := tensor.New(shape...)
		for i := range t.Data {
			t.Data[i] = v + float32(i)
		}
		return t, nil
	}
}

// TestEnsembleMeanOfLogits: the ensemble's logits are the elementwise
// mean of its teachers', on every call.
func TestEnsembleMeanOfLogits(t *testing.T) {
	e := Ensemble(constTeacher(1, 2, 3), constTeacher(2, 2, 3), constTeacher(6, 2, 3))
	for range 2 {
		got, err := e(tensor.New(2, 1))
		if err != nil {
			t.Fatal(err)
		}
		if !tensor.SameShape(got.Shape, []int{2, 3}) {
			t.Fatalf("shape %v, want [2 3]", got.Shape)
		}
		for i, v := range got.Data {
			if want := 3 + float32(i); v != want {
				t.Errorf("logit %d = %g, want %g", i, v, want)
			}
		}
	}
	// One teacher is itself: no copy, no averaging.
	one, err := Ensemble(constTeacher(5, 1, 2))(nil)
	if err != nil || one.Data[0] != 5 || one.Data[1] != 6 {
		t.Errorf("one teacher: %v %v", one, err)
	}
}

// TestEnsembleErrors: a teacher of another shape, or one that fails, is
// reported with its place in the ensemble.
func TestEnsembleErrors(t *testing.T) {
	if _, err := Ensemble(constTeacher(0, 2, 3), constTeacher(0, 2, 4))(nil); err == nil || !strings.Contains(err.Error(), "teacher 2") {
		t.Errorf("shape mismatch: %v, want an error naming teacher 2", err)
	}
	boom := errors.New("boom")
	fail := func(*tensor.Tensor) (*tensor.Tensor, error) { return nil, boom }
	if _, err := Ensemble(constTeacher(0, 2, 3), fail)(nil); !errors.Is(err, boom) || !strings.Contains(err.Error(), "teacher 2") {
		t.Errorf("failing teacher: %v", err)
	}
	if _, err := Ensemble()(nil); err == nil {
		t.Error("no teachers: want an error")
	}
}
