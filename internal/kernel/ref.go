package kernel

// This file holds the obviously-correct reference loops. The exported
// entry points dispatch to faster implementations; tests compare those
// against these.

// sgemmRef computes C = alpha*op(A)*op(B) + beta*C, row-major; op(A) is m x k,
// op(B) is k x n.
func sgemmRef(transA, transB bool, m, n, k int, alpha float32, a []float32, lda int, b []float32, ldb int, beta float32, c []float32, ldc int) {
	for i := range m {
		for j := range n {
			var s float32
			for p := range k {
				var av, bv float32
				if transA {
					av = a[p*lda+i]
				} else {
					av = a[i*lda+p]
				}
				if transB {
					bv = b[j*ldb+p]
				} else {
					bv = b[p*ldb+j]
				}
				s += av * bv
			}
			if beta == 0 {
				c[i*ldc+j] = alpha * s
			} else {
				c[i*ldc+j] = alpha*s + beta*c[i*ldc+j]
			}
		}
	}
}

// convForwardRef: y[n][oy][ox] = sum_c,ky,kx w[n][c][ky][kx] * x[c][oy*s-p+ky][ox*s-p+kx].
func convForwardRef(p Conv, x, w, y []float32) {
	oh, ow := p.OutH(), p.OutW()
	for n := range p.N {
		for oy := range oh {
			for ox := range ow {
				var s float32
				for c := range p.C {
					for ky := range p.KH {
						iy := oy*p.Stride - p.Pad + ky
						if iy < 0 || iy >= p.H {
							continue
						}
						for kx := range p.KW {
							ix := ox*p.Stride - p.Pad + kx
							if ix < 0 || ix >= p.W {
								continue
							}
							s += w[((n*p.C+c)*p.KH+ky)*p.KW+kx] * x[(c*p.H+iy)*p.W+ix]
						}
					}
				}
				y[(n*oh+oy)*ow+ox] = s
			}
		}
	}
}

// convBackwardDataRef: dx = conv^T(dy, w), overwriting dx.
func convBackwardDataRef(p Conv, dy, w, dx []float32) {
	clear(dx[:p.C*p.H*p.W])
	oh, ow := p.OutH(), p.OutW()
	for n := range p.N {
		for oy := range oh {
			for ox := range ow {
				g := dy[(n*oh+oy)*ow+ox]
				for c := range p.C {
					for ky := range p.KH {
						iy := oy*p.Stride - p.Pad + ky
						if iy < 0 || iy >= p.H {
							continue
						}
						for kx := range p.KW {
							ix := ox*p.Stride - p.Pad + kx
							if ix < 0 || ix >= p.W {
								continue
							}
							dx[(c*p.H+iy)*p.W+ix] += g * w[((n*p.C+c)*p.KH+ky)*p.KW+kx]
						}
					}
				}
			}
		}
	}
}

// convBackwardFilterRef: dw += correlation of x with dy.
func convBackwardFilterRef(p Conv, x, dy, dw []float32) {
	oh, ow := p.OutH(), p.OutW()
	for n := range p.N {
		for c := range p.C {
			for ky := range p.KH {
				for kx := range p.KW {
					var s float32
					for oy := range oh {
						iy := oy*p.Stride - p.Pad + ky
						if iy < 0 || iy >= p.H {
							continue
						}
						for ox := range ow {
							ix := ox*p.Stride - p.Pad + kx
							if ix < 0 || ix >= p.W {
								continue
							}
							s += dy[(n*oh+oy)*ow+ox] * x[(c*p.H+iy)*p.W+ix]
						}
					}
					dw[((n*p.C+c)*p.KH+ky)*p.KW+kx] += s
				}
			}
		}
	}
}

// groupConvForwardRef runs each group's filters over its channel list.
func groupConvForwardRef(p Conv, groups []Group, x, y []float32) {
	oh, ow := p.OutH(), p.OutW()
	kk := p.KH * p.KW
	for _, g := range groups {
		nc := len(g.Channels)
		for fi, n := range g.Filters {
			for oy := range oh {
				for ox := range ow {
					var s float32
					for ci, c := range g.Channels {
						for ky := range p.KH {
							iy := oy*p.Stride - p.Pad + ky
							if iy < 0 || iy >= p.H {
								continue
							}
							for kx := range p.KW {
								ix := ox*p.Stride - p.Pad + kx
								if ix < 0 || ix >= p.W {
									continue
								}
								s += g.Weights[(fi*nc+ci)*kk+ky*p.KW+kx] * x[(c*p.H+iy)*p.W+ix]
							}
						}
					}
					y[(n*oh+oy)*ow+ox] = s
				}
			}
		}
	}
}
