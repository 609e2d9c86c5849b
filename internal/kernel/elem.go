package kernel

import "math"

// This file holds the elementwise loops of the layers (ReLU, the residual
// add, BatchNorm's statistics and affine maps): exported entry points, and
// pure-Go versions that also finish the tails the vector kernels leave.
// On amd64 with AVX-512 the generated kernels (micro_amd64.s) take whole
// 16-float vectors (they are called directly, not through function
// values, so that escape analysis sees that their arguments stay put). Scalar Go loops run 20-30 times slower
// than these memory-bound vector loops, and a compare-and-branch ReLU
// mispredicts on every other element.

// vecLen is the part of n the vector kernels take: 0 without them.
func vecLen(n int) int {
	if !cur.vec {
		return 0
	}
	return n &^ (vecW - 1)
}

// Relu sets x[i] = max(x[i], 0); NaNs stay NaN.
func Relu(x []float32) {
	n := vecLen(len(x))
	if n > 0 {
		reluAVX(x[:n])
	}
	for i, v := range x[n:] {
		x[n+i] = max(v, 0)
	}
}

// ReluMask sets dy[i] = 0 wherever y[i] <= 0 (a NaN y keeps its dy):
// the backward pass of a ReLU whose output was y. len(dy) >= len(y).
func ReluMask(y, dy []float32) {
	dy = dy[:len(y)]
	n := vecLen(len(y))
	if n > 0 {
		reluMaskAVX(y[:n], dy[:n])
	}
	for i, v := range y[n:] {
		// A conditional move, not a branch: the sign of y is random.
		m := uint32(0)
		if !(v <= 0) {
			m = ^uint32(0)
		}
		dy[n+i] = math.Float32frombits(math.Float32bits(dy[n+i]) & m)
	}
}

// AddTo sets dst[i] += src[i]. len(src) >= len(dst).
func AddTo(dst, src []float32) {
	src = src[:len(dst)]
	n := vecLen(len(dst))
	if n > 0 {
		addToAVX(dst[:n], src[:n])
	}
	for i, v := range src[n:] {
		dst[n+i] += v
	}
}

// Affine sets y[i] = a*x[i] + b. len(y) >= len(x).
func Affine(x, y []float32, a, b float32) {
	y = y[:len(x)]
	n := vecLen(len(x))
	if n > 0 {
		affineAVX(x[:n], y[:n], a, b)
	}
	for i, v := range x[n:] {
		y[n+i] = a*v + b
	}
}

// Affine2 sets z[i] = a*x[i] + b*y[i] + c. len(y), len(z) >= len(x).
func Affine2(x, y, z []float32, a, b, c float32) {
	y, z = y[:len(x)], z[:len(x)]
	n := vecLen(len(x))
	if n > 0 {
		affine2AVX(x[:n], y[:n], z[:n], a, b, c)
	}
	for i, v := range x[n:] {
		z[n+i] = a*v + b*y[n+i] + c
	}
}

// SumSq returns the sum of x and the sum of x[i]*x[i], accumulated in
// float64.
func SumSq(x []float32) (s, ss float64) {
	n := vecLen(len(x))
	if n > 0 {
		var out [16]float64
		sumSqAVX(x[:n], &out)
		s, ss = sum8(out[:8]), sum8(out[8:])
	}
	s1, ss1 := sumSqGo(x[n:])
	return s + s1, ss + ss1
}

// SumDot returns the sum of x and the sum of x[i]*y[i], accumulated in
// float64. len(y) >= len(x).
func SumDot(x, y []float32) (s, sxy float64) {
	y = y[:len(x)]
	n := vecLen(len(x))
	if n > 0 {
		var out [16]float64
		sumDotAVX(x[:n], y[:n], &out)
		s, sxy = sum8(out[:8]), sum8(out[8:])
	}
	s1, sxy1 := sumDotGo(x[n:], y[n:])
	return s + s1, sxy + sxy1
}

func sum8(v []float64) float64 {
	v = v[:8]
	return ((v[0] + v[1]) + (v[2] + v[3])) + ((v[4] + v[5]) + (v[6] + v[7]))
}

// sumSqGo is SumSq in Go, with four accumulator pairs so that the float64
// adds do not wait on each other.
func sumSqGo(x []float32) (s, ss float64) {
	var s0, s1, s2, s3, q0, q1, q2, q3 float64
	for len(x) >= 4 {
		a, b, c, d := float64(x[0]), float64(x[1]), float64(x[2]), float64(x[3])
		s0, s1, s2, s3 = s0+a, s1+b, s2+c, s3+d
		q0, q1, q2, q3 = q0+a*a, q1+b*b, q2+c*c, q3+d*d
		x = x[4:]
	}
	for _, v := range x {
		f := float64(v)
		s0 += f
		q0 += f * f
	}
	return (s0 + s1) + (s2 + s3), (q0 + q1) + (q2 + q3)
}

// sumDotGo is SumDot in Go (len(y) >= len(x)).
func sumDotGo(x, y []float32) (s, sxy float64) {
	var s0, s1, s2, s3, q0, q1, q2, q3 float64
	y = y[:len(x)]
	for len(x) >= 4 {
		a, b, c, d := float64(x[0]), float64(x[1]), float64(x[2]), float64(x[3])
		s0, s1, s2, s3 = s0+a, s1+b, s2+c, s3+d
		q0, q1, q2, q3 = q0+a*float64(y[0]), q1+b*float64(y[1]), q2+c*float64(y[2]), q3+d*float64(y[3])
		x, y = x[4:], y[4:]
	}
	for i, v := range x {
		f := float64(v)
		s0 += f
		q0 += f * float64(y[i])
	}
	return (s0 + s1) + (s2 + s3), (q0 + q1) + (q2 + q3)
}

// Subsample writes the stride-s subsample of an h x w plane (the option-A
// shortcut of a CIFAR ResNet): dst[oy*ow+ox] = src[oy*s*w+ox*s] for
// oy < ceil(h/s) and ox < ow = ceil(w/s). Stride 2 runs through the
// deinterleave of the stride-2 convs (AVX-512 where the CPU has it), its
// odd columns into ws's scratch.
func Subsample(dst, src []float32, h, w, s int, ws *Workspace) {
	oh, ow := (h+s-1)/s, (w+s-1)/s
	if s == 2 && h > 0 {
		deinterleaveRows(dst, grow(&ws.s3, oh*ow), src, oh, w, 2*w, ow)
		return
	}
	for oy := range oh {
		d, r := dst[oy*ow:(oy+1)*ow], src[oy*s*w:]
		for ox := range d {
			d[ox] = r[ox*s]
		}
	}
}
