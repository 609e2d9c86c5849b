// Package kernel holds sgcnn's compute kernels on raw float32 slices: SGEMM
// with the transposes backward needs, and 2-D convolution of one image
// (forward, backward data, backward filter), dense or as a list of filter
// groups that each read their own input-channel list.
//
// All functions are single-threaded and work on one image; callers
// parallelise over the images of a batch (package internal/parallel). Each
// goroutine owns one Workspace for scratch memory.
//
// Layout: images are [C][H][W], weights [N][C][KH][KW], all row-major.
package kernel

// Conv describes a 2-D convolution (cross-correlation, as PyTorch's Conv2d)
// of one image with C input channels of H x W, producing N output channels.
type Conv struct {
	C, H, W int // input channels, height, width
	N       int // output channels (filters)
	KH, KW  int // kernel height, width
	Stride  int // same in both directions, >= 1
	Pad     int // zero padding on every side, >= 0
}

// OutH is the output height.
func (p Conv) OutH() int { return (p.H+2*p.Pad-p.KH)/p.Stride + 1 }

// OutW is the output width.
func (p Conv) OutW() int { return (p.W+2*p.Pad-p.KW)/p.Stride + 1 }

// Group is one filter group of a diverse group convolution: the filters
// Filters (output channel indices) read only the input channels Channels.
// Weights is packed [len(Filters)][len(Channels)][KH][KW].
type Group struct {
	Filters  []int
	Channels []int
	Weights  []float32
}

// Workspace is per-goroutine scratch memory reused between kernel calls.
// The zero value is ready to use.
type Workspace struct {
	buf []float32 // Floats, for callers; the kernels never touch it

	// Kernel scratch, kept apart from buf so that a caller may pass a
	// Floats slice as an argument.
	ga, gb     []float32 // sgemm and direct conv: packed A and B
	s1, s2, s3 []float32 // conv: padded image or columns, output rows, weights
	offs       []int32   // per-k offsets into B (see microKernel)
	offs2      []int32   // a second offset table
	aoffs      [maxMR]int32
	tile       [maxMR * maxNR]float32
}

// grow returns (*s)[:n], reallocating when too small.
func grow[T any](s *[]T, n int) []T {
	if cap(*s) < n {
		*s = make([]T, n+n/8)
	}
	return (*s)[:n]
}

// Floats returns a scratch slice of n float32s (contents undefined), valid
// until the next call to Floats on the same Workspace.
func (ws *Workspace) Floats(n int) []float32 {
	if cap(ws.buf) < n {
		ws.buf = make([]float32, n)
	}
	return ws.buf[:n]
}
