package detect_test

import (
	"fmt"

	"github.com/sgcnn/sgcnn/detect"
)

// Two objects, found with a false positive ranked in between: precision
// 1 up to recall 0.5, then 2/3, so AP = (51*1 + 50*2/3)/101.
func ExampleAveragePrecision() {
	gts := [][]detect.Object{{{Box: detect.Box{X0: 0, Y0: 0, X1: 10, Y1: 10}}, {Box: detect.Box{X0: 20, Y0: 20, X1: 30, Y1: 30}}}}
	dets := [][]detect.Detection{{
		{Box: detect.Box{X0: 0, Y0: 0, X1: 10, Y1: 10}, Score: 0.9},
		{Box: detect.Box{X0: 40, Y0: 40, X1: 50, Y1: 50}, Score: 0.8},
		{Box: detect.Box{X0: 21, Y0: 20, X1: 31, Y1: 30}, Score: 0.7}, // IoU 0.82
	}}
	for _, thr := range []float64{0.5, 0.9} {
		ap, _ := detect.AveragePrecision(dets, gts, 0, thr, 100)
		fmt.Printf("AP@%.1f = %.4f\n", thr, ap)
	}
	// Output:
	// AP@0.5 = 0.8350
	// AP@0.9 = 0.5050
}
