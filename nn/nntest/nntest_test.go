package nntest

import (
	"bytes"
	"encoding/binary"
	"fmt"
	"math"
	"math/rand/v2"
	"strings"
	"testing"

	"github.com/sgcnn/sgcnn/nn"
	"github.com/sgcnn/sgcnn/tensor"
)

// recorder is a testing.TB that records errors instead of failing, to
// check that the helpers do fail.
type recorder struct {
	testing.TB
	errs []string
}

func (r *recorder) Helper() {}
func (r *recorder) Errorf(format string, args ...any) {
	r.errs = append(r.errs, fmt.Sprintf(format, args...))
}

func encode(names []string, ts []*tensor.Tensor) []byte {
	var b bytes.Buffer
	b.WriteString(fixtureMagic)
	le := binary.LittleEndian
	_ = binary.Write(&b, le, uint32(len(ts)))
	for i, t := range ts {
		_ = binary.Write(&b, le, uint16(len(names[i])))
		b.WriteString(names[i])
		_ = binary.Write(&b, le, uint8(len(t.Shape)))
		for _, d := range t.Shape {
			_ = binary.Write(&b, le, uint32(d))
		}
		_ = binary.Write(&b, le, t.Data)
	}
	return b.Bytes()
}

func TestParseFixture(t *testing.T) {
	a, _ := tensor.From([]float32{1, -2.5, 3, 4, 5, 6}, 2, 3)
	s, _ := tensor.From([]float32{0.25})
	b := encode([]string{"w", "loss"}, []*tensor.Tensor{a, s})
	f, err := ParseFixture("mem", b)
	if err != nil {
		t.Fatal(err)
	}
	if len(f.Names) != 2 || f.Names[0] != "w" || f.Names[1] != "loss" {
		t.Fatalf("names %v", f.Names)
	}
	Compare(t, "w", f.Get(t, "w"), a, Tol{})
	if v := f.Scalar(t, "loss"); v != 0.25 || len(f.Tensors["loss"].Shape) != 0 {
		t.Errorf("scalar %g, shape %v", v, f.Tensors["loss"].Shape)
	}
	// Get returns a copy.
	f.Get(t, "w").Data[0] = 99
	if f.Tensors["w"].Data[0] != 1 {
		t.Error("Get did not copy")
	}
	bad := map[string][]byte{
		"bad magic": append([]byte("SGNNFX02"), b[8:]...),
		"truncated": b[:len(b)-3],
		"trailing":  append(append([]byte(nil), b...), 0),
		"short":     b[:5],
		"duplicate": encode([]string{"w", "w"}, []*tensor.Tensor{a, a}),
	}
	for name, data := range bad {
		if _, err := ParseFixture(name, data); err == nil {
			t.Errorf("%s: no error", name)
		} else if !strings.Contains(err.Error(), name) {
			t.Errorf("%s: error %q does not name the file", name, err)
		}
	}
}

func TestCompare(t *testing.T) {
	want, _ := tensor.From([]float32{1, -100, 0}, 3)
	tol := Tol{Rtol: 1e-3, Atol: 1e-6}
	cases := []struct {
		got  []float32
		fail bool
	}{
		{[]float32{1, -100, 0}, false},
		{[]float32{1.0009, -100.09, 9e-7}, false},
		{[]float32{1.0011, -100, 0}, true},
		{[]float32{1, -100.11, 0}, true},
		{[]float32{1, -100, 2e-6}, true},
		{[]float32{1, -100, float32(math.NaN())}, true},
	}
	for _, c := range cases {
		r := &recorder{TB: t}
		Compare(r, "v", &tensor.Tensor{Shape: []int{3}, Data: c.got}, want, tol)
		if (len(r.errs) > 0) != c.fail {
			t.Errorf("Compare(%v): errors %q, want failure %v", c.got, r.errs, c.fail)
		}
	}
	r := &recorder{TB: t}
	Compare(r, "v", tensor.New(1, 3), want, tol)
	if len(r.errs) != 1 || !strings.Contains(r.errs[0], "shape") {
		t.Errorf("shape mismatch: %q", r.errs)
	}
}

// scaled wraps a layer and multiplies its input gradient by k: k != 1 is
// a wrong gradient that CheckGradients must catch.
type scaled struct {
	nn.Layer
	k float32
}

func (s scaled) Backward(ctx *nn.Ctx, dy *tensor.Tensor) (*tensor.Tensor, error) {
	dx, err := s.Layer.Backward(ctx, dy)
	if err == nil {
		for i := range dx.Data {
			dx.Data[i] *= s.k
		}
	}
	return dx, err
}

func TestCheckGradientsCatchesErrors(t *testing.T) {
	r := rand.New(rand.NewPCG(1, 1))
	x := Randn(r, 1, 2, 2, 4, 4)
	dy := Randn(r, 1, 2, 3, 4, 4)
	newCtx := func() *nn.Ctx { return nn.NewCtx(true) }
	conv := nn.NewConv2d("conv", 2, 3, 3, 1, 1, true, r)
	for _, k := range []float32{1, 1.05} {
		rec := &recorder{TB: t}
		rep := CheckGradients(rec, "conv", LayerTarget(scaled{conv, k}, newCtx, x, dy), GradOptions{})
		if failed := len(rec.errs) > 0; failed != (k != 1) || rep.Checked != x.Len()+conv.W.Value.Len()+3 {
			t.Errorf("k=%g: %d checked, errors %q", k, rep.Checked, rec.errs)
		}
	}
	// A nonzero gradient at a Fixed element is an error.
	if err := conv.SetMask([]float32{1, 0, 1, 1, 1, 1}); err != nil {
		t.Fatal(err)
	}
	tg := LayerTarget(conv, newCtx, x, dy)
	grad := tg.Grad
	tg.Grad = func() ([]*tensor.Tensor, error) {
		g, err := grad()
		g[1].Data[9] = 1e-3 // weight [0][1][0][0], pruned
		return g, err
	}
	rec := &recorder{TB: t}
	CheckGradients(rec, "masked", tg, GradOptions{})
	if len(rec.errs) != 1 || !strings.Contains(rec.errs[0], "exactly 0") {
		t.Errorf("pruned weight with gradient: errors %q", rec.errs)
	}
	// ReLU on inputs within Eps of zero is all kinks: the check refuses.
	near := Randn(r, 1e-3, 40)
	rec = &recorder{TB: t}
	rep := CheckGradients(rec, "relu", LayerTarget(nn.NewReLU("relu"), newCtx, near, Randn(r, 1, 40)), GradOptions{})
	if rep.Kinks == 0 || len(rec.errs) == 0 {
		t.Errorf("relu near 0: %d kinks, errors %q", rep.Kinks, rec.errs)
	}
}
