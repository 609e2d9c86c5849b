package tensor

import "testing"

func TestFromChecksLength(t *testing.T) {
	if _, err := From(make([]float32, 5), 2, 3); err == nil {
		t.Fatal("5 values accepted for shape [2 3]")
	}
	x, err := From(make([]float32, 6), 2, 3)
	if err != nil || x.Dim(-1) != 3 || x.Len() != 6 {
		t.Fatalf("From: %v, %v", x, err)
	}
	y := x.Clone()
	y.Data[0] = 1
	if x.Data[0] != 0 {
		t.Fatal("Clone shares data")
	}
	if _, err := x.Reshape(3, 3); err == nil {
		t.Fatal("Reshape to a different size accepted")
	}
	if ShapeString([]int{2, 3}) != "[2 3]" || !SameShape([]int{1, 2}, []int{1, 2}) || SameShape([]int{1}, []int{1, 1}) {
		t.Fatal("shape helpers")
	}
}
