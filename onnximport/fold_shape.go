package onnximport

import (
	"fmt"
	"math"
	"slices"

	"github.com/sgcnn/sgcnn/internal/onnxpb"
)

// strides returns row-major strides of dims.
func strides(dims []int) []int {
	s := make([]int, len(dims))
	acc := 1
	for i := len(dims) - 1; i >= 0; i-- {
		s[i] = acc
		acc *= dims[i]
	}
	return s
}

// normAxis normalises an axis of a rank-r tensor.
func normAxis(a, r int) (int, error) {
	if a < 0 {
		a += r
	}
	if a < 0 || a >= r {
		return 0, fmt.Errorf("axis %d out of range for rank %d", a, r)
	}
	return a, nil
}

// gather folds Gather along axis.
func gather(x, idx *cval, axis int) (*cval, error) {
	ax, err := normAxis(axis, len(x.dims))
	if err != nil {
		return nil, err
	}
	dims := slices.Concat(x.dims[:ax], idx.dims, x.dims[ax+1:])
	out, err := newLike(x.kind, dims)
	if err != nil {
		return nil, err
	}
	outer, inner, n := tensorCount(x.dims[:ax]), tensorCount(x.dims[ax+1:]), x.dims[ax]
	ids := idx.ints()
	k := 0
	for o := range outer {
		for _, j := range ids {
			if j < 0 {
				j += n
			}
			if j < 0 || j >= n {
				return nil, fmt.Errorf("index %d out of range for an axis of %d", j, n)
			}
			for i := range inner {
				copyElem(out, k, x, (o*n+j)*inner+i)
				k++
			}
		}
	}
	return out, nil
}

// squeezeConst folds Squeeze and Unsqueeze.
func squeezeConst(unsqueeze bool, x *cval, axes []int) (*cval, error) {
	if unsqueeze {
		r := len(x.dims) + len(axes)
		norm := make([]int, len(axes))
		for i, a := range axes {
			p, err := normAxis(a, r)
			if err != nil {
				return nil, err
			}
			norm[i] = p
		}
		slices.Sort(norm)
		dims := slices.Clone(x.dims)
		for i, a := range norm {
			if i > 0 && norm[i-1] == a {
				return nil, fmt.Errorf("unsqueeze axes %v repeat", axes)
			}
			dims = slices.Insert(dims, a, 1)
		}
		return withDims(x, dims), nil
	}
	var dims []int
	for i, d := range x.dims {
		drop := axes == nil && d == 1
		for _, a := range axes {
			if p, err := normAxis(a, len(x.dims)); err == nil && p == i {
				if d != 1 {
					return nil, fmt.Errorf("squeeze of axis %d of length %d", i, d)
				}
				drop = true
			}
		}
		if !drop {
			dims = append(dims, d)
		}
	}
	return withDims(x, dims), nil
}

// concatConst folds Concat.
func concatConst(xs []*cval, axis int) (*cval, error) {
	r := len(xs[0].dims)
	ax, err := normAxis(axis, r)
	if err != nil {
		return nil, err
	}
	dims := slices.Clone(xs[0].dims)
	k := xs[0].kind
	for _, x := range xs[1:] {
		if len(x.dims) != r {
			return nil, fmt.Errorf("inputs %v and %v differ in rank", xs[0].dims, x.dims)
		}
		for i := range r {
			if i != ax && x.dims[i] != dims[i] {
				return nil, fmt.Errorf("inputs %v and %v differ off the axis", xs[0].dims, x.dims)
			}
		}
		dims[ax] += x.dims[ax]
		if x.kind == kFloat {
			k = kFloat
		}
	}
	out, err := newLike(k, dims)
	if err != nil {
		return nil, err
	}
	outer := tensorCount(dims[:ax])
	pos := 0
	for o := range outer {
		for _, x := range xs {
			chunk := tensorCount(x.dims[ax:])
			for i := range chunk {
				out.set(pos, x.at(o*chunk+i))
				pos++
			}
		}
	}
	return out, nil
}

// sliceConst folds Slice (steps may be negative here).
func sliceConst(x *cval, starts, ends, axes, steps []int) (*cval, error) {
	r := len(x.dims)
	lo, step := make([]int, r), make([]int, r)
	dims := slices.Clone(x.dims)
	for i := range r {
		step[i] = 1
	}
	for i, a := range axes {
		ax, err := normAxis(a, r)
		if err != nil {
			return nil, err
		}
		n, s := x.dims[ax], steps[i]
		if s == 0 {
			return nil, fmt.Errorf("slice step 0")
		}
		st, en := starts[i], ends[i]
		if st < 0 {
			st += n
		}
		if en < 0 {
			en += n
		}
		count := 0
		if s > 0 {
			st, en = min(max(st, 0), n), min(max(en, 0), n)
			if en > st {
				count = (en - st + s - 1) / s
			}
		} else {
			st, en = min(max(st, -1), n-1), min(max(en, -1), n-1)
			if st > en {
				count = (st - en - s - 1) / -s
			}
		}
		lo[ax], step[ax], dims[ax] = st, s, count
	}
	out, err := newLike(x.kind, dims)
	if err != nil {
		return nil, err
	}
	xs, os := strides(x.dims), strides(dims)
	for k := range out.numel() {
		src, rem := 0, k
		for i := range r {
			c := rem / os[i]
			rem %= os[i]
			src += (lo[i] + c*step[i]) * xs[i]
		}
		copyElem(out, k, x, src)
	}
	return out, nil
}

// reshapeConst folds Reshape of a constant.
func reshapeConst(x *cval, target []int, allowZero bool) (*cval, error) {
	dims := slices.Clone(target)
	free, known := -1, 1
	for i, d := range dims {
		switch {
		case d == 0 && !allowZero && i < len(x.dims):
			dims[i] = x.dims[i]
		case d == -1 && free < 0:
			free = i
			continue
		case d < 0:
			return nil, fmt.Errorf("reshape target %v", target)
		}
		if dims[i] > maxFolded || known > maxFolded/max(dims[i], 1) {
			return nil, fmt.Errorf("reshape target %v too large", target)
		}
		known *= dims[i]
	}
	n := x.numel()
	if free >= 0 {
		if known == 0 || n%known != 0 {
			return nil, fmt.Errorf("reshape target %v for %d values", target, n)
		}
		dims[free] = n / known
	} else if known != n {
		return nil, fmt.Errorf("reshape target %v for %d values", target, n)
	}
	return withDims(x, dims), nil
}

// transposeConst folds Transpose.
func transposeConst(x *cval, perm []int) (*cval, error) {
	r := len(x.dims)
	if perm == nil {
		for i := range r {
			perm = append(perm, r-1-i)
		}
	}
	if len(perm) != r {
		return nil, fmt.Errorf("perm %v for rank %d", perm, r)
	}
	dims := make([]int, r)
	seen := make([]bool, r)
	for i, p := range perm {
		if p < 0 || p >= r || seen[p] {
			return nil, fmt.Errorf("perm %v is not a permutation", perm)
		}
		seen[p] = true
		dims[i] = x.dims[p]
	}
	out, err := newLike(x.kind, dims)
	if err != nil {
		return nil, err
	}
	xs, os := strides(x.dims), strides(dims)
	for k := range out.numel() {
		src, rem := 0, k
		for i := range r {
			src += rem / os[i] * xs[perm[i]]
			rem %= os[i]
		}
		copyElem(out, k, x, src)
	}
	return out, nil
}

// constantOfShape folds ConstantOfShape (value: a one-element tensor,
// float 0 by default).
func constantOfShape(n *onnxpb.NodeProto, shape *cval) (*cval, error) {
	fill := &cval{kind: kFloat, f: []float32{0}}
	if a := attr(n, "value"); a != nil && a.T != nil {
		var err error
		if fill, err = tensorValue(a.T, ""); err != nil {
			return nil, err
		}
		if fill.numel() != 1 {
			return nil, fmt.Errorf("value %v is not one element", fill.dims)
		}
	}
	out, err := newLike(fill.kind, shape.ints())
	if err != nil {
		return nil, err
	}
	for k := range out.numel() {
		copyElem(out, k, fill, 0)
	}
	return out, nil
}

// rangeConst folds Range(start, limit, delta).
func rangeConst(start, limit, delta *cval) (*cval, error) {
	if start.numel() != 1 || limit.numel() != 1 || delta.numel() != 1 {
		return nil, fmt.Errorf("range bounds must be scalars")
	}
	s, l, d := start.at(0), limit.at(0), delta.at(0)
	if d == 0 {
		return nil, fmt.Errorf("range delta 0")
	}
	count := math.Max(math.Ceil((l-s)/d), 0)
	if !(count <= maxFolded) {
		return nil, fmt.Errorf("range of %v elements", count)
	}
	k := start.kind
	if limit.kind == kFloat || delta.kind == kFloat {
		k = kFloat
	}
	out, err := newLike(k, []int{int(count)})
	if err != nil {
		return nil, err
	}
	for i := range int(count) {
		out.set(i, s+float64(i)*d)
	}
	return out, nil
}
