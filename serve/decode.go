package serve

import (
	"bytes"
	"encoding/json"
	"errors"
	"fmt"
	"image"
	"image/color"
	stddraw "image/draw"
	_ "image/jpeg" // registers JPEG with image.Decode
	_ "image/png"  // registers PNG with image.Decode
	"io"
	"math"
	"mime"
	"net/http"

	xdraw "golang.org/x/image/draw"
)

// inputError is a request the server refuses: an HTTP status and a
// message for the JSON error. Shape, when set, is the expected input.
type inputError struct {
	status int
	msg    string
	shape  []int
}

func (e *inputError) Error() string { return e.msg }

// badShape is the 400 for an input of the wrong size.
func (s *Server) badShape(format string, args ...any) *inputError {
	return &inputError{status: http.StatusBadRequest, msg: fmt.Sprintf(format, args...), shape: s.in}
}

// readBody reads at most MaxBodyBytes of r's body; a larger body is a 413.
func (s *Server) readBody(w http.ResponseWriter, r *http.Request) ([]byte, error) {
	tooLarge := &inputError{status: http.StatusRequestEntityTooLarge, msg: fmt.Sprintf("request body larger than %d bytes", s.cfg.MaxBodyBytes)}
	if r.ContentLength > s.cfg.MaxBodyBytes {
		return nil, tooLarge
	}
	body, err := io.ReadAll(http.MaxBytesReader(w, r.Body, s.cfg.MaxBodyBytes))
	var mbe *http.MaxBytesError
	if errors.As(err, &mbe) {
		return nil, tooLarge
	}
	if err != nil {
		return nil, &inputError{status: http.StatusBadRequest, msg: "reading the request body: " + err.Error()}
	}
	if len(body) == 0 {
		return nil, &inputError{status: http.StatusBadRequest, msg: "empty request body: send a PNG or JPEG image, or JSON {\"pixels\": [C][H][W] integers 0..255}", shape: s.in}
	}
	return body, nil
}

// decode turns a request body into one normalised image (C*H*W floats):
// JSON pixel arrays when the content type says JSON or the body starts
// with '{', else a PNG or JPEG image.
func (s *Server) decode(body []byte, contentType string) ([]float32, error) {
	mt, _, _ := mime.ParseMediaType(contentType)
	trimmed := bytes.TrimLeft(body, " \t\r\n")
	if mt == "application/json" || (len(trimmed) > 0 && trimmed[0] == '{') {
		return s.decodeJSON(body)
	}
	return s.decodeImage(body)
}

// pixelsRequest is the JSON form of an image: pixels[c][y][x] in 0..255.
type pixelsRequest struct {
	Pixels [][][]float64 `json:"pixels"`
}

// decodeJSON reads {"pixels": [C][H][W]} of integers 0..255. JSON input
// must already have the network's shape (Resize applies to images only).
func (s *Server) decodeJSON(body []byte) ([]float32, error) {
	dec := json.NewDecoder(bytes.NewReader(body))
	dec.DisallowUnknownFields()
	var req pixelsRequest
	if err := dec.Decode(&req); err != nil {
		return nil, &inputError{status: http.StatusBadRequest, msg: "bad JSON: " + err.Error() + ` (want {"pixels": [C][H][W] integers 0..255})`, shape: s.in}
	}
	c, h, w := s.in[0], s.in[1], s.in[2]
	if len(req.Pixels) != c {
		return nil, s.badShape("pixels has %d channels, want %d", len(req.Pixels), c)
	}
	x := make([]float32, 0, c*h*w)
	for ci, plane := range req.Pixels {
		if len(plane) != h {
			return nil, s.badShape("pixels[%d] has %d rows, want %d", ci, len(plane), h)
		}
		for yi, row := range plane {
			if len(row) != w {
				return nil, s.badShape("pixels[%d][%d] has %d columns, want %d", ci, yi, len(row), w)
			}
			for xi, v := range row {
				if v < 0 || v > 255 || v != math.Trunc(v) {
					return nil, &inputError{status: http.StatusBadRequest, msg: fmt.Sprintf("pixels[%d][%d][%d] = %v: want an integer 0..255", ci, yi, xi, v)}
				}
				x = append(x, s.cfg.Norm.Normalize(ci, uint8(v)))
			}
		}
	}
	return x, nil
}

// decodeImage decodes a PNG or JPEG of the network's size (any size with
// Resize) into normalised channels: RGB for 3-channel networks, luma for
// 1-channel ones. The size is checked from the header before decoding.
func (s *Server) decodeImage(body []byte) ([]float32, error) {
	c, h, w := s.in[0], s.in[1], s.in[2]
	cfg, format, err := image.DecodeConfig(bytes.NewReader(body))
	if err != nil {
		return nil, &inputError{status: http.StatusBadRequest, msg: "not a PNG or JPEG image (" + err.Error() + `); JSON bodies are {"pixels": [C][H][W]}`, shape: s.in}
	}
	if c != 1 && c != 3 {
		return nil, s.badShape("the network takes %d channels: send JSON pixels, not an image", c)
	}
	sameSize := cfg.Width == w && cfg.Height == h
	switch {
	case !sameSize && !s.cfg.Resize:
		return nil, s.badShape("image is %dx%d (width x height), the network takes %dx%d; resize it or start the server with --resize", cfg.Width, cfg.Height, w, h)
	case !sameSize && int64(cfg.Width)*int64(cfg.Height) > int64(s.cfg.MaxResizePixels):
		return nil, &inputError{status: http.StatusRequestEntityTooLarge, msg: fmt.Sprintf("image is %dx%d, more than the %d pixels the server resizes", cfg.Width, cfg.Height, s.cfg.MaxResizePixels)}
	}
	img, _, err := image.Decode(bytes.NewReader(body))
	if err != nil {
		return nil, &inputError{status: http.StatusBadRequest, msg: fmt.Sprintf("bad %s image: %v", format, err)}
	}
	dst := image.NewNRGBA(image.Rect(0, 0, w, h))
	if sameSize {
		stddraw.Draw(dst, dst.Rect, img, img.Bounds().Min, stddraw.Src)
	} else {
		xdraw.BiLinear.Scale(dst, dst.Rect, img, img.Bounds(), xdraw.Src, nil)
	}
	x := make([]float32, c*h*w)
	for p := range h * w {
		px := dst.Pix[4*p : 4*p+4]
		if c == 1 {
			g := color.GrayModel.Convert(color.NRGBA{R: px[0], G: px[1], B: px[2], A: 255}).(color.Gray)
			x[p] = s.cfg.Norm.Normalize(0, g.Y)
			continue
		}
		for ci := range 3 {
			x[ci*h*w+p] = s.cfg.Norm.Normalize(ci, px[ci])
		}
	}
	return x, nil
}
