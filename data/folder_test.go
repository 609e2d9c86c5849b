package data

import (
	"bytes"
	"context"
	"image"
	"image/color"
	"image/jpeg"
	"image/png"
	"math/rand/v2"
	"path/filepath"
	"slices"
	"strings"
	"testing"
)

// solid returns a w x h image of one colour, left half c1, right half c2.
func halves(w, h int, c1, c2 color.NRGBA) *image.NRGBA {
	img := image.NewNRGBA(image.Rect(0, 0, w, h))
	for y := range h {
		for x := range w {
			c := c1
			if x >= w/2 {
				c = c2
			}
			img.SetNRGBA(x, y, c)
		}
	}
	return img
}

func encodePNG(t *testing.T, img image.Image) []byte {
	var b bytes.Buffer
	if err := png.Encode(&b, img); err != nil {
		t.Fatal(err)
	}
	return b.Bytes()
}

// A synthetic ImageNet-style folder: classes sorted, non-images ignored,
// resize and crop geometry right, JPEG and grey decode to RGB.
func TestImageFolder(t *testing.T) {
	dir := t.TempDir()
	red := color.NRGBA{255, 0, 0, 255}
	blue := color.NRGBA{0, 0, 255, 255}
	// class "b_blue": a 64x40 image, red left half, blue right half.
	writeFile(t, filepath.Join(dir, "b_blue", "x.PNG"), encodePNG(t, halves(64, 40, red, blue)))
	writeFile(t, filepath.Join(dir, "b_blue", "notes.txt"), []byte("not an image"))
	// class "a_grey": a grey 20x30 PNG and a JPEG.
	grey := image.NewGray(image.Rect(0, 0, 20, 30))
	for i := range grey.Pix {
		grey.Pix[i] = 100
	}
	writeFile(t, filepath.Join(dir, "a_grey", "g.png"), encodePNG(t, grey))
	var jb bytes.Buffer
	if err := jpeg.Encode(&jb, halves(300, 200, color.NRGBA{0, 200, 0, 255}, color.NRGBA{0, 200, 0, 255}), &jpeg.Options{Quality: 95}); err != nil {
		t.Fatal(err)
	}
	writeFile(t, filepath.Join(dir, "a_grey", "h.jpg"), jb.Bytes())

	f, err := LoadImageFolder(dir, 14)
	if err != nil {
		t.Fatal(err)
	}
	if !slices.Equal(f.Classes, []string{"a_grey", "b_blue"}) || !slices.Equal(f.Labels, []int{0, 0, 1}) || f.Resize != 16 {
		t.Fatalf("classes %v labels %v resize %d", f.Classes, f.Labels, f.Resize)
	}
	dst := make([]uint8, 3*14*14)
	at := func(c, y, x int) uint8 { return dst[c*196+y*14+x] }

	// Grey 20x30 -> 16x24, centre crop: every value 100 in all channels.
	if _, err := f.Read(0, dst, nil); err != nil {
		t.Fatal(err)
	}
	for i, v := range dst {
		if v != 100 {
			t.Fatalf("grey: dst[%d] = %d", i, v)
		}
	}
	// JPEG 300x200 green, shrunk by box filter then bilinear.
	if _, err := f.Read(1, dst, nil); err != nil {
		t.Fatal(err)
	}
	if r, g, b := at(0, 7, 7), at(1, 7, 7), at(2, 7, 7); r > 10 || g < 190 || g > 210 || b > 10 {
		t.Errorf("jpeg: centre pixel %d %d %d, want about 0 200 0", r, g, b)
	}
	// 64x40 -> 26x16; centre crop columns 6..19 straddle the edge at 13.
	label, err := f.Read(2, dst, nil)
	if err != nil || label != 1 {
		t.Fatalf("label %d, %v", label, err)
	}
	if at(0, 5, 0) != 255 || at(2, 5, 0) != 0 || at(0, 5, 13) != 0 || at(2, 5, 13) != 255 {
		t.Errorf("halves: row 5 R %v B %v", dst[5*14:6*14], dst[2*196+5*14:2*196+6*14])
	}
	// Random crops start at any of 13 columns of the 26-wide image, and
	// each start puts the red/blue edge somewhere else.
	f.RandomCrop = true
	rng := rand.New(rand.NewPCG(1, 2))
	rows := map[string]bool{}
	for range 40 {
		if _, err := f.Read(2, dst, rng); err != nil {
			t.Fatal(err)
		}
		rows[string(dst[:14])] = true
	}
	if len(rows) < 8 {
		t.Errorf("40 random crops gave %d distinct first rows", len(rows))
	}

	// Through a Loader, with workers.
	l, err := NewLoader(f, Config{BatchSize: 2, Flip: true, Seed: 1})
	if err != nil {
		t.Fatal(err)
	}
	var ys []int
	for b, err := range l.Epoch(context.Background(), 0) {
		if err != nil {
			t.Fatal(err)
		}
		if !slices.Equal(b.X.Shape[1:], []int{3, 14, 14}) {
			t.Fatalf("shape %v", b.X.Shape)
		}
		ys = append(ys, b.Y...)
	}
	if !slices.Equal(ys, []int{0, 0, 1}) {
		t.Errorf("labels %v", ys)
	}
}

func TestImageFolderErrors(t *testing.T) {
	dir := t.TempDir()
	if _, err := LoadImageFolder(dir, 8); err == nil || !strings.Contains(err.Error(), "no .jpg") {
		t.Errorf("empty folder: %v", err)
	}
	path := filepath.Join(dir, "c", "broken.png")
	writeFile(t, path, []byte("\x89PNG\r\n\x1a\nnot really"))
	f, err := LoadImageFolder(dir, 8)
	if err != nil {
		t.Fatal(err)
	}
	_, err = f.Read(0, make([]uint8, 3*64), nil)
	if err == nil || !strings.Contains(err.Error(), path) {
		t.Errorf("corrupt image: err = %v, want one naming %s", err, path)
	}
}

// RandomResized crops regions of random size: on a picture whose left
// half is red and right half blue, crops see different mixes, all from
// inside the picture, and each crop is Size x Size.
func TestImageFolderRandomResized(t *testing.T) {
	dir := t.TempDir()
	red, blue := color.NRGBA{255, 0, 0, 255}, color.NRGBA{0, 0, 255, 255}
	writeFile(t, filepath.Join(dir, "c", "x.png"), encodePNG(t, halves(90, 60, red, blue)))
	f, err := LoadImageFolder(dir, 16)
	if err != nil {
		t.Fatal(err)
	}
	f.RandomResized = true
	rng := rand.New(rand.NewPCG(3, 4))
	dst := make([]uint8, 3*16*16)
	reds := map[int]bool{}
	for range 50 {
		if _, err := f.Read(0, dst, rng); err != nil {
			t.Fatal(err)
		}
		n := 0
		for i := range 256 {
			if int(dst[i])+int(dst[512+i]) < 200 { // neither red nor blue: a pixel from outside
				t.Fatalf("pixel %d is R %d B %d", i, dst[i], dst[512+i])
			}
			if dst[i] > 128 {
				n++
			}
		}
		reds[n] = true
	}
	if len(reds) < 10 {
		t.Errorf("50 random resized crops gave %d distinct red areas", len(reds))
	}
	// The region drawn follows torchvision's bounds.
	for range 1000 {
		r := randomResized(rng, 90, 60)
		if r.x < 0 || r.y < 0 || r.x+r.w > 90 || r.y+r.h > 60 || r.w*r.h < 0.08*90*60-90-60 {
			t.Fatalf("region %+v outside the 90x60 image or below 8%% of it", r)
		}
		if a := r.w / r.h; a < 0.75*0.9 || a > 4.0/3*1.1 {
			t.Fatalf("region %+v has aspect %g", r, a)
		}
	}
}

// A class folder without images is refused by name (torchvision refuses
// it too); the splits are train/ and val/ when present.
func TestImageFolderEmptyClassAndSplits(t *testing.T) {
	dir := t.TempDir()
	writeFile(t, filepath.Join(dir, "a", "x.png"), encodePNG(t, halves(8, 8, color.NRGBA{A: 255}, color.NRGBA{A: 255})))
	writeFile(t, filepath.Join(dir, "b_empty", "readme.txt"), []byte("no images"))
	if _, err := LoadImageFolder(dir, 8); err == nil || !strings.Contains(err.Error(), "b_empty") {
		t.Errorf("empty class: %v", err)
	}
	if ImageFolderSplit(dir, true) != dir {
		t.Errorf("no train/: got %s", ImageFolderSplit(dir, true))
	}
	writeFile(t, filepath.Join(dir, "val", "a", "y.png"), encodePNG(t, halves(8, 8, color.NRGBA{A: 255}, color.NRGBA{A: 255})))
	if got := ImageFolderSplit(dir, false); got != filepath.Join(dir, "val") {
		t.Errorf("val split: got %s", got)
	}
}
