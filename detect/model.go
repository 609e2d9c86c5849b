package detect

import (
	"fmt"
	"math"
	"math/rand/v2"
	"sort"

	"github.com/sgcnn/sgcnn/models"
	"github.com/sgcnn/sgcnn/nn"
	"github.com/sgcnn/sgcnn/tensor"
)

// headPrior is the initial heatmap bias, -log((1-0.1)/0.1): every cell
// starts at p = 0.1, as in CenterNet and RetinaNet.
const headPrior = -2.19

// Detector is a backbone (a classifier's layers before its global pooling)
// with a CenterNet head on top: conv3x3 + ReLU + conv1x1 giving K class
// heatmaps, box width and height, and centre offsets.
type Detector struct {
	Arch     string         // the backbone's architecture
	Net      *nn.Sequential // backbone layers, then the head
	Backbone []nn.Layer     // the backbone part of Net (shared with the source model)
	Head     *nn.Sequential // the head part of Net
	Out      *nn.Conv2d     // the head's last conv
	Classes  int            // K
	Stride   int            // input pixels per output cell
	Features int            // the backbone's output channels
	input    [3]int         // the source model's input shape
}

// New builds a detector on m's feature extractor: the layers of m.Net (a
// Sequential) before its last global average pooling. The backbone's
// layers, weights and masks are m's own, not copies. The head has width
// hidden and its weights are drawn from seed.
func New(m *models.Model, classes, hidden int, seed uint64) (*Detector, error) {
	seq, ok := m.Net.(*nn.Sequential)
	if !ok {
		return nil, fmt.Errorf("detect: %s is not a sequential network", m.Arch)
	}
	cut := -1
	for i, l := range seq.Layers {
		if _, ok := l.(*nn.GlobalAvgPool); ok {
			cut = i
		}
	}
	if cut <= 0 {
		return nil, fmt.Errorf("detect: %s has no global average pooling to cut the feature extractor at", m.Arch)
	}
	if classes < 1 || hidden < 1 {
		return nil, fmt.Errorf("detect: %d classes, head width %d: want both >= 1", classes, hidden)
	}
	d := &Detector{Arch: m.Arch, Backbone: seq.Layers[:cut:cut], Classes: classes, input: m.InputShape}
	// Probe the backbone's channels and stride on one blank input.
	c, s := m.InputShape[0], m.InputShape[1]
	y, err := nn.NewSequential("backbone", d.Backbone...).Forward(nn.NewCtx(false), tensor.New(1, c, s, s))
	if err != nil {
		return nil, fmt.Errorf("detect: %s backbone: %w", m.Arch, err)
	}
	if len(y.Shape) != 4 || y.Shape[2] == 0 || s%y.Shape[2] != 0 {
		return nil, fmt.Errorf("detect: %s backbone gives %s on %dx%d input: not a feature map", m.Arch, tensor.ShapeString(y.Shape), s, s)
	}
	d.Features, d.Stride = y.Shape[1], s/y.Shape[2]
	rng := rand.New(rand.NewPCG(seed, seed^0xde7ec7))
	conv := nn.NewConv2d("head.conv", d.Features, hidden, 3, 1, 1, true, rng)
	d.Out = nn.NewConv2d("head.out", hidden, classes+extraChannels, 1, 1, 0, true, rng)
	for k := range classes {
		d.Out.B.Value.Data[k] = headPrior
	}
	d.Head = nn.NewSequential("head", conv, nn.NewReLU("head.relu"), d.Out)
	d.Net = nn.NewSequential("detector", append(append([]nn.Layer(nil), d.Backbone...), d.Head)...)
	return d, nil
}

// CheckInput reports an input size the backbone cannot take.
func (d *Detector) CheckInput(size int) error {
	if size%d.Stride != 0 || size < d.input[1] {
		return fmt.Errorf("detect: %dx%d input: want a multiple of the stride %d, at least %d", size, size, d.Stride, d.input[1])
	}
	return nil
}

// Detection is one decoded detection.
type Detection struct {
	Box   Box
	Class int
	Score float64
}

// Decode turns head outputs out ([B][K+4][H][W]) into at most topK
// detections per image, best first: the cells of each class heatmap that
// are the maximum of their 3x3 neighbourhood (CenterNet's max-pool
// non-maximum suppression), with boxes from the size and offset channels,
// clipped to the size x size canvas.
func Decode(out *tensor.Tensor, classes, stride, topK, size int) [][]Detection {
	b, c, h, w := out.Shape[0], out.Shape[1], out.Shape[2], out.Shape[3]
	hw := h * w
	res := make([][]Detection, b)
	for i := range b {
		var ds []Detection
		for k := range classes {
			z := out.Data[(i*c+k)*hw : (i*c+k+1)*hw]
			for y := range h {
				for x := range w {
					v := z[y*w+x]
					if !isPeak(z, h, w, x, y, v) {
						continue
					}
					at := func(ch int) float64 { return float64(out.Data[(i*c+classes+ch)*hw+y*w+x]) }
					bw, bh := max(0, at(0))*float64(stride), max(0, at(1))*float64(stride)
					cx, cy := (float64(x)+at(2))*float64(stride), (float64(y)+at(3))*float64(stride)
					clip := func(v float64) float64 { return min(max(v, 0), float64(size)) }
					ds = append(ds, Detection{Class: k, Score: 1 / (1 + math.Exp(-float64(v))),
						Box: Box{X0: clip(cx - bw/2), Y0: clip(cy - bh/2), X1: clip(cx + bw/2), Y1: clip(cy + bh/2)}})
				}
			}
		}
		sort.SliceStable(ds, func(a, b int) bool { return ds[a].Score > ds[b].Score })
		if len(ds) > topK {
			ds = ds[:topK]
		}
		res[i] = ds
	}
	return res
}

// isPeak reports whether v at (x, y) equals the maximum of its 3x3
// neighbourhood (as max_pool2d(3, stride 1, pad 1) == heat keeps it).
func isPeak(z []float32, h, w, x, y int, v float32) bool {
	for dy := -1; dy <= 1; dy++ {
		for dx := -1; dx <= 1; dx++ {
			px, py := x+dx, y+dy
			if px >= 0 && py >= 0 && px < w && py < h && z[py*w+px] > v {
				return false
			}
		}
	}
	return true
}
