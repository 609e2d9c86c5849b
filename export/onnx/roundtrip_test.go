package onnx_test

import (
	"bytes"
	"math/rand/v2"
	"testing"

	"github.com/sgcnn/sgcnn/export/onnx"
	"github.com/sgcnn/sgcnn/graph"
	"github.com/sgcnn/sgcnn/models"
	"github.com/sgcnn/sgcnn/onnximport"
)

// TestImportRoundTrip exports models (a built-in one and hand-built
// graphs, masked, BN folded or not) and imports the file again: the
// imported graph's forward equals the original's. The grouped conv form
// is left out: its Gather of activation channels is for runtimes, and the
// importer takes Gather on constants only.
func TestImportRoundTrip(t *testing.T) {
	r20, err := models.New("resnet20", 0, 1)
	if err != nil {
		t.Fatal(err)
	}
	randomize(r20, 2)
	maskGroups(t, r20, 3)
	mobile := graphModel(t, mobileNodes(rand.New(rand.NewPCG(1, 2))), [3]int{6, 12, 12}, "out", 10)
	randomize(mobile, 2)
	maskGroups(t, mobile, 3)
	up := graphModel(t, upNodes(), [3]int{4, 6, 6}, "fc", 5)
	for _, c := range []struct {
		name string
		m    *models.Model
		opts onnx.Options
	}{
		{"resnet20/masked", r20, onnx.Options{}},
		{"resnet20/masked/foldbn", r20, onnx.Options{FoldBN: true}},
		{"mobile/masked", mobile, onnx.Options{}},
		{"mobile/masked/foldbn", mobile, onnx.Options{FoldBN: true}},
		{"up", up, onnx.Options{}},
	} {
		t.Run(c.name, func(t *testing.T) {
			var buf bytes.Buffer
			if err := onnx.Export(&buf, c.m, c.opts); err != nil {
				t.Fatal(err)
			}
			g, err := onnximport.Read(buf.Bytes(), onnximport.Options{})
			if err != nil {
				t.Fatal(err)
			}
			net, err := graph.NewNet("imported", g)
			if err != nil {
				t.Fatal(err)
			}
			x := input(c.m, 2, 5)
			back := &models.Model{Net: net, InputShape: c.m.InputShape}
			y := logits(t, back, x)
			relWithin(t, c.name, y, logits(t, c.m, x))
		})
	}
}
