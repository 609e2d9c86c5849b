package models

import (
	"reflect"
	"testing"

	"github.com/sgcnn/sgcnn/nn"
	"github.com/sgcnn/sgcnn/tensor"
)

// TestForwardShapes runs the small networks forward (and LeNet-5 and
// ResNet-20 backward) to check that the layers fit together.
func TestForwardShapes(t *testing.T) {
	cases := []struct {
		arch  string
		batch int
		opts  []Option
		back  bool
	}{
		{"lenet5", 2, nil, true},
		{"resnet20", 2, nil, true},
		{"resnet20", 1, []Option{ShortcutB()}, false},
		{"densenet40", 1, nil, false},
	}
	for _, c := range cases {
		m := mustNew(t, c.arch, c.opts...)
		x := tensor.New(c.batch, m.InputShape[0], m.InputShape[1], m.InputShape[2])
		for i := range x.Data {
			x.Data[i] = float32(i%7) - 3
		}
		ctx := nn.NewCtx(c.back)
		y, err := m.Net.Forward(ctx, x)
		if err != nil {
			t.Fatalf("%s: %v", c.arch, err)
		}
		if !reflect.DeepEqual(y.Shape, []int{c.batch, m.Classes}) {
			t.Errorf("%s: output %v, want [%d %d]", c.arch, y.Shape, c.batch, m.Classes)
		}
		if nn.HasNonFinite(y.Data) {
			t.Errorf("%s: non-finite output", c.arch)
		}
		if !c.back {
			continue
		}
		dy := tensor.New(y.Shape...)
		for i := range dy.Data {
			dy.Data[i] = 0.1
		}
		dx, err := m.Net.Backward(ctx, dy)
		if err != nil {
			t.Fatalf("%s backward: %v", c.arch, err)
		}
		if !reflect.DeepEqual(dx.Shape, x.Shape) {
			t.Errorf("%s: input gradient %v, want %v", c.arch, dx.Shape, x.Shape)
		}
	}
}
