package detect

import (
	"math"
	"testing"

	"github.com/sgcnn/sgcnn/tensor"
)

func near(a, b float64) bool { return math.Abs(a-b) < 1e-9 }

func TestIoU(t *testing.T) {
	a := Box{0, 0, 10, 10}
	for _, c := range []struct {
		b    Box
		want float64
	}{
		{a, 1},
		{Box{5, 0, 15, 10}, 50.0 / 150},
		{Box{10, 0, 20, 10}, 0}, // touching
		{Box{0, 0, 10, 6.2}, 0.62},
		{Box{2, 2, 4, 4}, 0.04},
	} {
		if got := a.IoU(c.b); !near(got, c.want) {
			t.Errorf("IoU(%v, %v) = %g, want %g", a, c.b, got, c.want)
		}
	}
}

// TestAveragePrecisionKnownCases works COCO's 101-point AP out by hand.
func TestAveragePrecisionKnownCases(t *testing.T) {
	g1 := Object{Box: Box{0, 0, 10, 10}, Class: 0}
	g2 := Object{Box: Box{20, 20, 30, 30}, Class: 0}
	hit1 := Detection{Box: g1.Box, Class: 0}
	hit2 := Detection{Box: g2.Box, Class: 0}
	miss := Detection{Box: Box{40, 40, 50, 50}, Class: 0}
	with := func(d Detection, s float64) Detection { d.Score = s; return d }
	cases := []struct {
		name string
		dets [][]Detection
		gts  [][]Object
		want float64
	}{
		{"perfect", [][]Detection{{with(hit1, 0.9)}, {with(hit2, 0.8)}}, [][]Object{{g1}, {g2}}, 1},
		// A false positive ranked first: precision 1/2 at recall 1, and
		// interpolation carries it to every level.
		{"fp first", [][]Detection{{with(miss, 0.9), with(hit1, 0.8)}}, [][]Object{{g1}}, 0.5},
		// TP, FP, TP over two objects: precision 1 up to recall 0.5 (51
		// levels), then 2/3 (50 levels).
		{"tp fp tp", [][]Detection{{with(hit1, 0.9), with(miss, 0.8)}, {with(hit2, 0.7)}}, [][]Object{{g1}, {g2}}, (51 + 50*2.0/3) / 101},
		// One of two objects found: recall stops at 0.5.
		{"half found", [][]Detection{{with(hit1, 0.9)}, nil}, [][]Object{{g1}, {g2}}, 51.0 / 101},
		{"nothing", [][]Detection{nil, nil}, [][]Object{{g1}, {g2}}, 0},
		// Two detections of one object: the second is a false positive.
		{"duplicate", [][]Detection{{with(hit1, 0.9), with(hit1, 0.8)}}, [][]Object{{g1}}, 1},
		{"duplicate first", [][]Detection{{with(miss, 0.95), with(hit1, 0.9), with(hit1, 0.8)}}, [][]Object{{g1}}, 0.5},
		// Scores order detections across images.
		{"across images", [][]Detection{{with(miss, 0.5)}, {with(hit2, 0.6)}}, [][]Object{{}, {g2}}, 1},
		// Another class's detection does not count.
		{"other class", [][]Detection{{{Box: g1.Box, Class: 1, Score: 1}}}, [][]Object{{g1}}, 0},
	}
	for _, c := range cases {
		got, ok := AveragePrecision(c.dets, c.gts, 0, 0.5, 100)
		if !ok || !near(got, c.want) {
			t.Errorf("%s: AP %g (ok %v), want %g", c.name, got, ok, c.want)
		}
	}
	if _, ok := AveragePrecision(nil, [][]Object{{g1}}, 1, 0.5, 100); ok {
		t.Error("AP defined for a class without objects")
	}
}

// TestEvaluateThresholds: one detection with IoU 0.62 matches at 0.50,
// 0.55 and 0.60 only, so mAP@[.5:.95] is 3/10; a second class with a
// perfect detection has AP 1 everywhere; a third without objects is left
// out of the mean.
func TestEvaluateThresholds(t *testing.T) {
	gts := [][]Object{{{Box: Box{0, 0, 10, 10}, Class: 0}, {Box: Box{20, 20, 30, 40}, Class: 1}}}
	dets := [][]Detection{{{Box: Box{0, 0, 10, 6.2}, Class: 0, Score: 0.9}, {Box: Box{20, 20, 30, 40}, Class: 1, Score: 0.3},
		{Box: Box{50, 50, 60, 60}, Class: 2, Score: 0.8}}}
	m := Evaluate(dets, gts, 3, 100)
	if !near(m.AP50, 1) || !near(m.AP75, 0.5) || !near(m.AP, (0.3+1)/2) {
		t.Errorf("metrics %+v, want mAP50 1, mAP75 0.5, mAP 0.65", m)
	}
	if m.PerClass[2] != -1 || m.Objects != 2 || m.Images != 1 {
		t.Errorf("per class %v, objects %d, images %d", m.PerClass, m.Objects, m.Images)
	}
}

// TestDecode places one peak with known size and offset.
func TestDecode(t *testing.T) {
	const k, h, w, stride = 2, 8, 8, 4
	out := tensor.New(1, k+extraChannels, h, w)
	for i := range k * h * w {
		out.Data[i] = -5
	}
	set := func(ch, y, x int, v float32) { out.Data[(ch*h+y)*w+x] = v }
	set(1, 3, 2, 2)    // class 1 peak at cell (2, 3)
	set(1, 3, 3, 1)    // its neighbour: not a peak
	set(0, 6, 6, 0)    // a weaker class 0 peak
	set(k, 3, 2, 5)    // width 5 cells = 20 px
	set(k+1, 3, 2, 2)  // height 2 cells = 8 px
	set(k+2, 3, 2, .5) // centre x = (2.5)*4 = 10
	set(k+3, 3, 2, .25)
	dets := Decode(out, k, stride, 100, 32)[0]
	if len(dets) < 2 {
		t.Fatalf("%d detections", len(dets))
	}
	d := dets[0]
	want := Box{X0: 0, Y0: 9, X1: 20, Y1: 17} // x 10+-10, y (3.25*4=13)+-4
	if d.Class != 1 || !near(d.Score, 1/(1+math.Exp(-2))) || d.Box != want {
		t.Errorf("first detection %+v, want class 1 box %v", d, want)
	}
	if dets[1].Class != 0 || !near(dets[1].Score, 0.5) {
		t.Errorf("second detection %+v", dets[1])
	}
	for _, d := range dets {
		if d.Class == 1 && near(d.Score, 1/(1+math.Exp(-1))) {
			t.Error("the non-peak neighbour was decoded")
		}
	}
	if n := len(Decode(out, k, stride, 1, 32)[0]); n != 1 {
		t.Errorf("top-1 gave %d detections", n)
	}
}
