package serve_test

import (
	"bytes"
	"encoding/json"
	"fmt"
	"image"
	"image/color"
	"image/png"
	"math"
	"math/rand/v2"
	"net/http"
	"net/http/httptest"
	"testing"

	"github.com/sgcnn/sgcnn/compile"
	"github.com/sgcnn/sgcnn/data"
	"github.com/sgcnn/sgcnn/models"
	"github.com/sgcnn/sgcnn/nn"
	"github.com/sgcnn/sgcnn/serve"
	"github.com/sgcnn/sgcnn/tensor"
)

// prunedModel returns a randomly initialised arch whose prunable layers
// keep a random half of their connections, so the compiled network runs
// the grouped route.
func prunedModel(t *testing.T, arch string) *models.Model {
	t.Helper()
	m, err := models.New(arch, 0, 7)
	if err != nil {
		t.Fatal(err)
	}
	r := rand.New(rand.NewPCG(3, 4))
	for _, p := range nn.Prunables(m.Net) {
		n, c := p.MaskShape()
		mask := make([]float32, n*c)
		for i := range mask {
			if r.IntN(2) == 0 {
				mask[i] = 1
			}
		}
		if err := p.SetMask(mask); err != nil {
			t.Fatal(err)
		}
	}
	return m
}

// newServer compiles m (grouped route, no timing) and serves it with cfg
// (Norm: ImageNet's or MNIST's by channel count).
func newServer(t *testing.T, m *models.Model, cfg serve.Config) (*serve.Server, *httptest.Server) {
	t.Helper()
	if cfg.Norm.Mean == nil {
		cfg.Norm = data.ImageNetNorm
		if m.InputShape[0] == 1 {
			cfg.Norm = data.MNISTNorm
		}
	}
	s, err := serve.FromModel(m, compile.Options{Route: compile.Grouped}, cfg)
	if err != nil {
		t.Fatal(err)
	}
	hs := httptest.NewServer(s.Handler())
	t.Cleanup(func() { hs.Close(); s.Close() })
	return s, hs
}

// reference runs the uncompiled masked network (package nn, evaluation
// mode) on pixels [C][H][W] normalised by norm, and returns the softmax.
func reference(t *testing.T, m *models.Model, norm data.Norm, pixels [][][]uint8) []float64 {
	t.Helper()
	c, h, w := m.InputShape[0], m.InputShape[1], m.InputShape[2]
	x := tensor.New(1, c, h, w)
	for ci := range c {
		for y := range h {
			for xi := range w {
				v := float64(pixels[ci][y][xi])
				x.Data[(ci*h+y)*w+xi] = float32((v/255 - float64(norm.Mean[ci])) / float64(norm.Std[ci]))
			}
		}
	}
	y, err := m.Net.Forward(nn.NewCtx(false), x)
	if err != nil {
		t.Fatal(err)
	}
	mx := math.Inf(-1)
	for _, v := range y.Data {
		mx = max(mx, float64(v))
	}
	p := make([]float64, len(y.Data))
	var sum float64
	for i, v := range y.Data {
		p[i] = math.Exp(float64(v) - mx)
		sum += p[i]
	}
	for i := range p {
		p[i] /= sum
	}
	return p
}

// randomPixels returns c planes of h x w random bytes.
func randomPixels(seed uint64, c, h, w int) [][][]uint8 {
	r := rand.New(rand.NewPCG(seed, 1))
	px := make([][][]uint8, c)
	for ci := range px {
		px[ci] = make([][]uint8, h)
		for y := range px[ci] {
			px[ci][y] = make([]uint8, w)
			for x := range px[ci][y] {
				px[ci][y][x] = uint8(r.IntN(256))
			}
		}
	}
	return px
}

// jsonBody encodes pixels as a /v1/predict JSON body (as numbers, not
// base64).
func jsonBody(px [][][]uint8) []byte {
	ints := make([][][]int, len(px))
	for c := range px {
		ints[c] = make([][]int, len(px[c]))
		for y := range px[c] {
			ints[c][y] = make([]int, len(px[c][y]))
			for x, v := range px[c][y] {
				ints[c][y][x] = int(v)
			}
		}
	}
	b, _ := json.Marshal(map[string]any{"pixels": ints})
	return b
}

// pngBody encodes 3 planes as an RGB PNG, or 1 plane as a grey one.
func pngBody(t *testing.T, px [][][]uint8) []byte {
	t.Helper()
	h, w := len(px[0]), len(px[0][0])
	var img image.Image
	if len(px) == 1 {
		g := image.NewGray(image.Rect(0, 0, w, h))
		for y := range h {
			copy(g.Pix[y*g.Stride:], px[0][y])
		}
		img = g
	} else {
		rgba := image.NewNRGBA(image.Rect(0, 0, w, h))
		for y := range h {
			for x := range w {
				rgba.SetNRGBA(x, y, color.NRGBA{R: px[0][y][x], G: px[1][y][x], B: px[2][y][x], A: 255})
			}
		}
		img = rgba
	}
	var buf bytes.Buffer
	if err := png.Encode(&buf, img); err != nil {
		t.Fatal(err)
	}
	return buf.Bytes()
}

// post sends body to url and decodes the JSON answer into v.
func post(t *testing.T, url, contentType string, body []byte, v any) int {
	t.Helper()
	code, err := tryPost(url, contentType, body, v)
	if err != nil {
		t.Fatal(err)
	}
	return code
}

// tryPost is post for other goroutines than the test's: it returns its
// failure.
func tryPost(url, contentType string, body []byte, v any) (int, error) {
	resp, err := http.Post(url, contentType, bytes.NewReader(body))
	if err != nil {
		return 0, err
	}
	defer resp.Body.Close()
	if ct := resp.Header.Get("Content-Type"); ct != "application/json" {
		return 0, fmt.Errorf("POST %s: %d, Content-Type %q, want application/json", url, resp.StatusCode, ct)
	}
	if err := json.NewDecoder(resp.Body).Decode(v); err != nil {
		return 0, fmt.Errorf("POST %s: %d, body not JSON: %v", url, resp.StatusCode, err)
	}
	return resp.StatusCode, nil
}

// checkAgainst checks that got holds the k most probable classes of want,
// in order, with want's probabilities.
func checkAgainst(t *testing.T, got serve.PredictResponse, want []float64, k int) {
	t.Helper()
	if len(got.Predictions) != k {
		t.Fatalf("%d predictions, want %d", len(got.Predictions), k)
	}
	for i, p := range got.Predictions {
		if math.Abs(float64(p.Probability)-want[p.Class]) > 1e-4 {
			t.Errorf("class %d: probability %v, reference %v", p.Class, p.Probability, want[p.Class])
		}
		if i > 0 && p.Probability > got.Predictions[i-1].Probability {
			t.Errorf("predictions not sorted: %+v", got.Predictions)
		}
	}
	// Nothing left out is more probable than the last one answered
	// (beyond float noise).
	in := map[int]bool{}
	for _, p := range got.Predictions {
		in[p.Class] = true
	}
	last := float64(got.Predictions[k-1].Probability)
	for c, p := range want {
		if !in[c] && p > last+1e-4 {
			t.Errorf("class %d (p=%v) left out of the top %d", c, p, k)
		}
	}
}

// TestPredictMatchesReference serves a pruned ResNet-20 (RGB) and LeNet-5
// (grey) and checks JSON and PNG requests against the uncompiled masked
// network's softmax.
func TestPredictMatchesReference(t *testing.T) {
	for _, arch := range []string{"resnet20", "lenet5"} {
		t.Run(arch, func(t *testing.T) {
			m := prunedModel(t, arch)
			s, hs := newServer(t, m, serve.Config{})
			c, h, w := m.InputShape[0], m.InputShape[1], m.InputShape[2]
			for seed := range uint64(3) {
				px := randomPixels(seed, c, h, w)
				want := reference(t, m, s.Config().Norm, px)
				var got serve.PredictResponse
				if code := post(t, hs.URL+"/v1/predict?k=3", "application/json", jsonBody(px), &got); code != 200 {
					t.Fatalf("JSON: status %d", code)
				}
				checkAgainst(t, got, want, 3)
				got = serve.PredictResponse{}
				if code := post(t, hs.URL+"/v1/predict", "image/png", pngBody(t, px), &got); code != 200 {
					t.Fatalf("PNG: status %d", code)
				}
				checkAgainst(t, got, want, min(serve.DefaultTopK, m.Classes))
			}
		})
	}
}
