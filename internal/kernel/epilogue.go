package kernel

// This file holds BiasAct, the per-channel epilogue of an inference conv
// (folded BatchNorm bias, residual add, ReLU) over one output plane, for
// package compile. The pure-Go loop biasActGo is the oracle and the
// fallback; epilogue_amd64.s has the AVX-512 version (hand-written: one
// loop of four instructions and a masked tail), chosen at init.

// BiasAct computes, for every j < len(y),
//
//	v := y[j] + b
//	if add != nil {
//		v += add[j]
//	}
//	if relu && v < 0 {
//		v = 0
//	}
//	y[j] = v
//
// add, when non-nil, must be at least as long as y. A NaN stays NaN.
func BiasAct(y, add []float32, b float32, relu bool) {
	if add != nil && len(add) < len(y) {
		panic("kernel: BiasAct: add shorter than y")
	}
	biasAct(y, add, b, relu)
}

// biasAct is the implementation in use.
var biasAct = biasActGo

// biasActRows is BiasAct from src to dst over rows of wo values: src
// rows have pitch sp (0: one row used for all), dst rows pitch dp, add
// rows (when add is non-nil) pitch wo.
//
//	for r := range rows {
//		for j := range wo {
//			v := src[r*sp+j] + b
//			if add != nil {
//				v += add[r*wo+j]
//			}
//			if relu && v < 0 {
//				v = 0
//			}
//			dst[r*dp+j] = v
//		}
//	}
var biasActRows = biasActRowsGo

// padRows copies rows rows of w floats from src (contiguous) to dst at
// row pitch dp and zeroes the dp-w floats after each row: the interior and
// side halos of a zero-padded plane.
//
//	for r := range rows {
//		copy(dst[r*dp:r*dp+w], src[r*w:(r+1)*w])
//		clear(dst[r*dp+w : (r+1)*dp])
//	}
var padRows = padRowsGo

// padRowsGo is padRows in Go.
func padRowsGo(dst, src []float32, rows, w, dp int) {
	for r := range rows {
		copy(dst[r*dp:r*dp+w], src[r*w:(r+1)*w])
		clear(dst[r*dp+w : (r+1)*dp])
	}
}

// deinterleaveRows splits rows of w floats (pitch sp in src) into their
// even and odd columns (pitch dp in even and odd): the stride-2 phase
// planes of a padded input (GroupPlan.pad2).
//
//	for r := range rows {
//		for i := 0; 2*i < w; i++ {
//			even[r*dp+i] = src[r*sp+2*i]
//		}
//		for i := 0; 2*i+1 < w; i++ {
//			odd[r*dp+i] = src[r*sp+2*i+1]
//		}
//	}
var deinterleaveRows = deinterleaveRowsGo

// deinterleaveRowsGo is deinterleaveRows in Go.
func deinterleaveRowsGo(even, odd, src []float32, rows, w, sp, dp int) {
	for r := range rows {
		s := src[r*sp : r*sp+w]
		e, o := even[r*dp:r*dp+(w+1)/2], odd[r*dp:r*dp+w/2]
		for i := range o {
			pr := s[2*i : 2*i+2 : 2*i+2]
			e[i], o[i] = pr[0], pr[1]
		}
		if w%2 == 1 {
			e[w/2] = s[w-1]
		}
	}
}

// biasActRowsGo is biasActRows in Go.
func biasActRowsGo(dst, src, add []float32, rows, wo, sp, dp int, b float32, relu bool) {
	for r := range rows {
		d := dst[r*dp : r*dp+wo]
		copy(d, src[r*sp:r*sp+wo])
		var a []float32
		if add != nil {
			a = add[r*wo : (r+1)*wo]
		}
		biasActGo(d, a, b, relu)
	}
}

// biasActGo is BiasAct in Go.
func biasActGo(y, add []float32, b float32, relu bool) {
	if add != nil {
		add = add[:len(y)]
		for j, v := range y {
			v = v + b + add[j]
			if relu && v < 0 {
				v = 0
			}
			y[j] = v
		}
		return
	}
	for j, v := range y {
		v += b
		if relu && v < 0 {
			v = 0
		}
		y[j] = v
	}
}
