package detect

import (
	"sort"
)

// IoUThresholds are COCO's: 0.50, 0.55, ..., 0.95.
var IoUThresholds = func() []float64 {
	t := make([]float64, 10)
	for i := range t {
		t[i] = 0.5 + 0.05*float64(i)
	}
	return t
}()

// recallPoints is the number of recall levels of COCO's interpolated
// precision: 0, 0.01, ..., 1.
const recallPoints = 101

// Metrics are a detector's scores on a set (fractions, not percent).
type Metrics struct {
	AP50     float64   `json:"map50"`      // mAP at IoU 0.5
	AP75     float64   `json:"map75"`      // mAP at IoU 0.75
	AP       float64   `json:"map"`        // mAP averaged over IoU 0.50:0.05:0.95
	PerClass []float64 `json:"ap50_class"` // AP at IoU 0.5 per class; -1 where a class has no object
	Images   int       `json:"images"`
	Objects  int       `json:"objects"`
}

// Evaluate scores detections against ground truth in the manner of
// pycocotools' COCOeval (bbox, one area range, at most maxDets detections
// per image and class): per class and IoU threshold, detections are
// matched greedily in descending score to the unmatched object of the
// same class with the highest IoU >= the threshold; AP is the mean over
// 101 recall levels of the interpolated precision (the highest precision
// at any recall >= the level, 0 beyond the highest recall reached). mAP
// averages over the classes that have objects.
func Evaluate(dets [][]Detection, gts [][]Object, classes, maxDets int) Metrics {
	m := Metrics{Images: len(gts), PerClass: make([]float64, classes)}
	for _, g := range gts {
		m.Objects += len(g)
	}
	var sum50, sum75, sumAll float64
	n := 0
	for k := range classes {
		aps := make([]float64, len(IoUThresholds))
		ok := true
		for ti, thr := range IoUThresholds {
			aps[ti], ok = AveragePrecision(dets, gts, k, thr, maxDets)
		}
		if !ok {
			m.PerClass[k] = -1
			continue
		}
		m.PerClass[k] = aps[0]
		n++
		sum50 += aps[0]
		sum75 += aps[5]
		for _, a := range aps {
			sumAll += a
		}
	}
	if n > 0 {
		m.AP50, m.AP75, m.AP = sum50/float64(n), sum75/float64(n), sumAll/float64(n*len(IoUThresholds))
	}
	return m
}

// AveragePrecision is the COCO 101-point interpolated AP of class k at
// IoU threshold thr over all images (see Evaluate). ok is false when no
// image has an object of class k: AP is undefined then.
func AveragePrecision(dets [][]Detection, gts [][]Object, k int, thr float64, maxDets int) (ap float64, ok bool) {
	type scored struct {
		score float64
		tp    bool
	}
	var all []scored
	npos := 0
	for i, g := range gts {
		var boxes []Box
		for _, o := range g {
			if o.Class == k {
				boxes = append(boxes, o.Box)
			}
		}
		npos += len(boxes)
		var ds []Detection
		if i < len(dets) {
			for _, d := range dets[i] {
				if d.Class == k {
					ds = append(ds, d)
				}
			}
		}
		sort.SliceStable(ds, func(a, b int) bool { return ds[a].Score > ds[b].Score })
		if len(ds) > maxDets {
			ds = ds[:maxDets]
		}
		matched := make([]bool, len(boxes))
		for _, d := range ds {
			best, bestIoU := -1, min(thr, 1-1e-10)
			for j, b := range boxes {
				if matched[j] {
					continue
				}
				if iou := d.Box.IoU(b); iou >= bestIoU {
					best, bestIoU = j, iou
				}
			}
			if best >= 0 {
				matched[best] = true
			}
			all = append(all, scored{d.Score, best >= 0})
		}
	}
	if npos == 0 {
		return 0, false
	}
	// Images in order, then score: a stable sort, as COCOeval's mergesort.
	sort.SliceStable(all, func(a, b int) bool { return all[a].score > all[b].score })
	recall := make([]float64, len(all))
	precision := make([]float64, len(all))
	tp, fp := 0, 0
	for i, s := range all {
		if s.tp {
			tp++
		} else {
			fp++
		}
		recall[i] = float64(tp) / float64(npos)
		precision[i] = float64(tp) / float64(tp+fp)
	}
	for i := len(precision) - 1; i > 0; i-- {
		precision[i-1] = max(precision[i-1], precision[i])
	}
	var sum float64
	for r := range recallPoints {
		level := float64(r) * 0.01 // numpy.linspace(0, 1, 101) computes r*0.01
		// The first detection reaching this recall (searchsorted, left).
		i := sort.SearchFloat64s(recall, level)
		if i < len(recall) {
			sum += precision[i]
		}
	}
	return sum / recallPoints, true
}
