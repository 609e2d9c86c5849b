package selfgroup

import (
	"slices"
	"testing"
)

func TestImportance(t *testing.T) {
	// 2 filters, 2 channels, 2x1 kernels: w[i][j] = (a, b).
	w := []float32{
		1, -2 /* i0 j0 */, 0.5, 0.5, /* i0 j1 */
		-3, 0 /* i1 j0 */, 4, -1, /* i1 j1 */
	}
	if got, want := Importance(w, 2, 2, 2, nil), []float32{3, 1, 3, 5}; !slices.Equal(got, want) {
		t.Errorf("dense: %v, want %v", got, want)
	}
	mask := []float32{1, 0, 0, 1}
	if got, want := Importance(w, 2, 2, 2, mask), []float32{3, 0, 0, 5}; !slices.Equal(got, want) {
		t.Errorf("masked: %v, want %v", got, want)
	}
	// FC: kk = 1 is |w*m|.
	if got, want := Importance([]float32{-1, 2, 0, -0.25}, 2, 2, 1, mask), []float32{1, 0, 0, 0.25}; !slices.Equal(got, want) {
		t.Errorf("fc: %v, want %v", got, want)
	}
}

func TestTaylorImportance(t *testing.T) {
	w := []float32{1, -2, 0.5, 0.5}
	g := []float32{0.5, 0.25, -4, 0}
	if got, want := TaylorImportance(w, g, 1, 2, 2, nil), []float32{1, 2}; !slices.Equal(got, want) {
		t.Errorf("dense: %v, want %v", got, want)
	}
	if got, want := TaylorImportance(w, g, 1, 2, 2, []float32{0, 1}), []float32{0, 2}; !slices.Equal(got, want) {
		t.Errorf("masked: %v, want %v", got, want)
	}
	// A Taylor importance plugs into Step as imp.
	n, c, kk := 32, 16, 9
	w2 := convLike(n, c, kk, 1)
	imp := TaylorImportance(w2, convLike(n, c, kk, 2), n, c, kk, nil)
	res, err := Step(w2, n, c, kk, nil, 50, imp, Options{Seed: 1})
	if err != nil || res.Pruned < 0.45 || res.Pruned > 0.55 {
		t.Errorf("Step with Taylor importance: pruned %v, err %v", res.Pruned, err)
	}
}

func TestImportancePanics(t *testing.T) {
	for _, f := range []func(){
		func() { Importance(make([]float32, 7), 2, 2, 2, nil) },
		func() { Importance(make([]float32, 8), 2, 2, 2, make([]float32, 3)) },
		func() { Importance(nil, 0, 2, 2, nil) },
		func() { TaylorImportance(make([]float32, 8), make([]float32, 4), 2, 2, 2, nil) },
	} {
		func() {
			defer func() {
				if recover() == nil {
					t.Error("no panic")
				}
			}()
			f()
		}()
	}
}
