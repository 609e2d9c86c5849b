package serve_test

import (
	"bytes"
	"image"
	"image/color"
	"image/jpeg"
	"io"
	"net/http"
	"slices"
	"strings"
	"testing"

	"github.com/sgcnn/sgcnn/compile"
	"github.com/sgcnn/sgcnn/data"
	"github.com/sgcnn/sgcnn/serve"
)

// uniformPixels is c planes of h x w bytes of one value per plane.
func uniformPixels(vals []uint8, h, w int) [][][]uint8 {
	px := make([][][]uint8, len(vals))
	for ci, v := range vals {
		px[ci] = make([][]uint8, h)
		for y := range h {
			px[ci][y] = bytes.Repeat([]byte{v}, w)
		}
	}
	return px
}

// TestJPEGAndSniffing sends a JPEG with no Content-Type (the server
// sniffs it) and checks it against the reference on the pixels Go's own
// JPEG decoder and colour model give.
func TestJPEGAndSniffing(t *testing.T) {
	m := prunedModel(t, "resnet20")
	s, hs := newServer(t, m, serve.Config{})
	var buf bytes.Buffer
	src := randomPixels(9, 3, 32, 32)
	if err := jpeg.Encode(&buf, rgbImage(src), &jpeg.Options{Quality: 90}); err != nil {
		t.Fatal(err)
	}
	dec, err := jpeg.Decode(bytes.NewReader(buf.Bytes()))
	if err != nil {
		t.Fatal(err)
	}
	px := uniformPixels([]uint8{0, 0, 0}, 32, 32)
	for y := range 32 {
		for x := range 32 {
			c := color.NRGBAModel.Convert(dec.At(x, y)).(color.NRGBA)
			px[0][y][x], px[1][y][x], px[2][y][x] = c.R, c.G, c.B
		}
	}
	var got serve.PredictResponse
	if code := post(t, hs.URL+"/v1/predict?k=10", "", buf.Bytes(), &got); code != 200 {
		t.Fatalf("status %d", code)
	}
	checkAgainst(t, got, reference(t, m, s.Config().Norm, px), 10)
}

// rgbImage turns 3 planes into an image.
func rgbImage(px [][][]uint8) *image.NRGBA {
	h, w := len(px[0]), len(px[0][0])
	img := image.NewNRGBA(image.Rect(0, 0, w, h))
	for y := range h {
		for x := range w {
			img.SetNRGBA(x, y, color.NRGBA{R: px[0][y][x], G: px[1][y][x], B: px[2][y][x], A: 255})
		}
	}
	return img
}

// TestResize checks that an image of the wrong size gets 400 with the
// expected shape, unless Resize is set: then a uniform 64x48 image
// predicts as the uniform 32x32 one (bilinear scaling keeps a flat
// colour).
func TestResize(t *testing.T) {
	m := prunedModel(t, "resnet20")
	big := pngBody(t, uniformPixels([]uint8{200, 30, 90}, 48, 64))
	_, plain := newServer(t, m, serve.Config{})
	var e serve.ErrorResponse
	if code := post(t, plain.URL+"/v1/predict", "image/png", big, &e); code != http.StatusBadRequest {
		t.Fatalf("wrong size without Resize: status %d (%s), want 400", code, e.Error)
	}
	if !slices.Equal(e.ExpectedShape, []int{3, 32, 32}) || !strings.Contains(e.Error, "64x48") {
		t.Errorf("error %+v: want the sizes and expected_shape [3 32 32]", e)
	}
	s, resized := newServer(t, m, serve.Config{Resize: true})
	var got serve.PredictResponse
	if code := post(t, resized.URL+"/v1/predict?k=10", "image/png", big, &got); code != 200 {
		t.Fatalf("with Resize: status %d", code)
	}
	checkAgainst(t, got, reference(t, m, s.Config().Norm, uniformPixels([]uint8{200, 30, 90}, 32, 32)), 10)
	// Resize bounds the pixels it decodes.
	_, tiny := newServer(t, m, serve.Config{Resize: true, MaxResizePixels: 1000})
	if code := post(t, tiny.URL+"/v1/predict", "image/png", big, &e); code != http.StatusRequestEntityTooLarge {
		t.Errorf("64x48 image over MaxResizePixels 1000: status %d, want 413", code)
	}
}

// TestBadInput checks the 4xx answers, each a JSON error, and that the
// server still answers afterwards.
func TestBadInput(t *testing.T) {
	m := prunedModel(t, "lenet5")
	_, hs := newServer(t, m, serve.Config{MaxBodyBytes: 16 << 10})
	good := jsonBody(randomPixels(1, 1, 28, 28))
	bigPNG := pngBody(t, randomPixels(2, 1, 200, 200)) // about 40 KB
	gif := []byte("GIF89a\x01\x00\x01\x00\x00\x00\x00;")
	cases := []struct {
		name, url, ct string
		body          []byte
		status        int
		shape         bool   // the answer names the expected shape
		says          string // the error mentions this
	}{
		{"oversized PNG", "/v1/predict", "image/png", bigPNG, 413, false, "larger than 16384 bytes"},
		{"oversized JSON", "/v1/predict", "application/json", bytes.Repeat([]byte(" "), 17000), 413, false, "larger than"},
		{"empty", "/v1/predict", "image/png", nil, 400, true, "empty"},
		{"not an image", "/v1/predict", "image/png", []byte("hello"), 400, true, "not a PNG or JPEG"},
		{"GIF", "/v1/predict", "image/gif", gif, 400, true, "not a PNG or JPEG"},
		{"truncated PNG", "/v1/predict", "image/png", pngBody(t, randomPixels(3, 1, 28, 28))[:60], 400, false, "png"},
		{"wrong PNG size", "/v1/predict", "image/png", pngBody(t, randomPixels(3, 1, 32, 32)), 400, true, "32x32"},
		{"bad JSON", "/v1/predict", "application/json", []byte(`{"pixels": [`), 400, true, "bad JSON"},
		{"unknown field", "/v1/predict", "application/json", []byte(`{"pixel": []}`), 400, true, "unknown field"},
		{"JSON channels", "/v1/predict", "application/json", jsonBody(randomPixels(1, 3, 28, 28)), 400, true, "3 channels, want 1"},
		{"JSON rows", "/v1/predict", "application/json", jsonBody(randomPixels(1, 1, 27, 28)), 400, true, "27 rows, want 28"},
		{"JSON columns", "/v1/predict", "application/json", jsonBody(randomPixels(1, 1, 28, 29)), 400, true, "29 columns, want 28"},
		{"k=0", "/v1/predict?k=0", "application/json", good, 400, false, "from 1 to 10"},
		{"k=11", "/v1/predict?k=11", "application/json", good, 400, false, "from 1 to 10"},
		{"k=x", "/v1/predict?k=x", "application/json", good, 400, false, "from 1 to 10"},
	}
	// A pixel of 300 and one of 1.5, in place of the first value.
	for _, bad := range []string{"300", "1.5", "-1"} {
		i := bytes.Index(good, []byte("[[[")) + 3
		j := i + bytes.IndexByte(good[i:], ',')
		body := append(append(append([]byte{}, good[:i]...), bad...), good[j:]...)
		cases = append(cases, struct {
			name, url, ct string
			body          []byte
			status        int
			shape         bool
			says          string
		}{"pixel " + bad, "/v1/predict", "application/json", body, 400, false, "pixels[0][0][0] = " + bad})
	}
	for _, c := range cases {
		t.Run(c.name, func(t *testing.T) {
			var e serve.ErrorResponse
			code := post(t, hs.URL+c.url, c.ct, c.body, &e)
			if code != c.status {
				t.Errorf("status %d (%s), want %d", code, e.Error, c.status)
			}
			if e.Error == "" || !strings.Contains(e.Error, c.says) {
				t.Errorf("error %q, want it to mention %q", e.Error, c.says)
			}
			if c.shape && !slices.Equal(e.ExpectedShape, []int{1, 28, 28}) {
				t.Errorf("expected_shape %v, want [1 28 28]", e.ExpectedShape)
			}
		})
	}
	var got serve.PredictResponse
	if code := post(t, hs.URL+"/v1/predict", "application/json", good, &got); code != 200 || len(got.Predictions) != 5 {
		t.Errorf("good request after the bad ones: status %d, %d predictions", code, len(got.Predictions))
	}
	resp, err := http.Get(hs.URL + "/healthz")
	if err != nil || resp.StatusCode != 200 {
		t.Fatalf("healthz after bad input: %v %v", resp, err)
	}
	resp.Body.Close()
}

// TestConfigErrors checks New's refusals.
func TestConfigErrors(t *testing.T) {
	m := prunedModel(t, "lenet5")
	for _, c := range []struct {
		cfg  serve.Config
		says string
	}{
		{serve.Config{}, "0 means and 0 stds, want 1"},
		{serve.Config{Norm: mnistNorm3()}, "3 means"},
		{serve.Config{Norm: mnistNorm(0)}, "std[0]"},
		{serve.Config{Norm: mnistNorm(0.3), Labels: []string{"a"}}, "1 labels for 10 classes"},
		{serve.Config{Norm: mnistNorm(0.3), MaxBatch: -1}, "negative"},
	} {
		_, err := serve.FromModel(m, compileGrouped, c.cfg)
		if err == nil || !strings.Contains(err.Error(), c.says) {
			t.Errorf("%+v: error %v, want it to mention %q", c.cfg, err, c.says)
		}
	}
}

// mnistNorm is a one-channel normalisation with the given std.
func mnistNorm(std float32) data.Norm { return data.Norm{Mean: []float32{0.1}, Std: []float32{std}} }

// mnistNorm3 has three channels, for a one-channel network.
func mnistNorm3() data.Norm {
	return data.Norm{Mean: []float32{0.1, 0.1, 0.1}, Std: []float32{0.3, 0.3, 0.3}}
}

var compileGrouped = compile.Options{Route: compile.Grouped}

// TestOversizedChunked sends a body without a Content-Length (chunked),
// so only the reader's limit can stop it: 413.
func TestOversizedChunked(t *testing.T) {
	_, hs := newServer(t, prunedModel(t, "lenet5"), serve.Config{MaxBodyBytes: 1000})
	body := io.MultiReader(bytes.NewReader(bytes.Repeat([]byte("x"), 5000)))
	resp, err := http.Post(hs.URL+"/v1/predict", "image/png", body)
	if err != nil {
		t.Fatal(err)
	}
	defer resp.Body.Close()
	if resp.StatusCode != http.StatusRequestEntityTooLarge || resp.ContentLength == 0 {
		t.Errorf("chunked 5000-byte body over a 1000-byte limit: status %d, want 413 with a JSON error", resp.StatusCode)
	}
	if resp.Request.ContentLength != 0 {
		t.Fatalf("the request had a length (%d): not the chunked case", resp.Request.ContentLength)
	}
}
