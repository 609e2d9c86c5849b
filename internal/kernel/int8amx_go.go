package kernel

// The AMX route's steps in pure Go (i8AMXImpl): the fallback where the
// generated kernels do not run, and the reference their tests compare
// with.

// i8AMXGo is the AMX route's steps in pure Go.
var i8AMXGo = i8AMXImpl{amxGatherGo, amxTapsGo, amxBlocksGo, amxEpiYGo, amxEpiQGo, amxEpiQFGo}

// amxGatherGo is i8AMXImpl.gather in Go.
func amxGatherGo(k4 int, b []byte, offs []int32, nv int, dst []byte, ldd int) {
	for k := range k4 {
		copy(dst[k*ldd:k*ldd+64*nv], b[offs[k]:int(offs[k])+64*nv])
	}
}

// amxTapsGo is i8AMXImpl.taps in Go.
func amxTapsGo(n int, planes []byte, idx []int32, rows, wq, w int, dst []uint32, ps int) {
	for s := range n {
		for r := range rows {
			d := dst[s*ps+r*w : s*ps+(r+1)*w]
			src := planes[int(idx[s])+r*wq:]
			for x := range d {
				d[x] = uint32(src[x]) | uint32(src[x+1])<<8 | uint32(src[x+2])<<16 | uint32(src[x+3])<<24
			}
		}
	}
}

// amxBlocksGo is i8AMXImpl.blocks in Go.
func amxBlocksGo(mt int, a []int32, lda int, b []byte, boffs []int32, ldb int, c []int32, ldc int, ks, nb int) {
	np := 32 * nb
	for i := range 16 * mt {
		ci := c[i*ldc : i*ldc+np]
		clear(ci)
		for s := range ks {
			for k := range 16 {
				w := a[i*lda+16*s+k]
				if w == 0 {
					continue
				}
				w0, w1, w2, w3 := int32(int8(w)), int32(int8(w>>8)), int32(int8(w>>16)), int32(int8(w>>24))
				o := int(boffs[s]) + k*ldb
				row := b[o : o+4*np]
				for p := range ci {
					q := row[4*p : 4*p+4 : 4*p+4]
					ci[p] += w0*int32(q[0]) + w1*int32(q[1]) + w2*int32(q[2]) + w3*int32(q[3])
				}
			}
		}
	}
}

// amxEpiYGo is i8AMXImpl.epiY in Go (as i8GoY1).
func amxEpiYGo(mr, nv int, c []int32, ldc int, y []float32, yoff []int32, add []float32, vinfo []int32, sc, bias []float32, relu bool) {
	for i := range mr {
		o := int(yoff[i])
		for v := range nv {
			d := o + int(vinfo[2*v+1])
			for l := range 16 {
				if vinfo[2*v]>>l&1 == 0 {
					continue
				}
				r := epiAddRelu(fmaf(float32(c[i*ldc+16*v+l]), sc[i], bias[i]), add, d, relu)
				y[d] = r
				d++
			}
		}
	}
}

// amxEpiQGo is i8AMXImpl.epiQ in Go (as i8GoQ1).
func amxEpiQGo(mr, nv int, c []int32, ldc int, y []byte, yoff []int32, add []float32, aoff []int32, vinfo []int32, sc, bias []float32, q *[2]float32, relu bool) {
	for i := range mr {
		for v := range nv {
			d := int(aoff[i]) + int(vinfo[2*v+1])
			for l := range 16 {
				if vinfo[2*v]>>l&1 == 0 {
					continue
				}
				r := epiAddRelu(fmaf(float32(c[i*ldc+16*v+l]), sc[i], bias[i]), add, d, relu)
				y[int(yoff[i])+16*v+l] = quantByte(r, q[0], q[1])
				d++
			}
		}
	}
}

// amxEpiQFGo is i8AMXImpl.epiQF in Go.
func amxEpiQFGo(mr, nv int, c []int32, ldc int, y []byte, yoff []int32, add []float32, aoff []int32, voff []int32, sc, bias []float32, q *[2]float32, relu bool) {
	for i := range mr {
		for v := range nv {
			for l := range 16 {
				r := fmaf(float32(c[i*ldc+16*v+l]), sc[i], bias[i])
				if add != nil {
					r += add[int(aoff[i])+16*v+l]
				}
				if relu {
					r = max(r, 0)
				}
				y[int(yoff[i])+int(voff[2*v+l/8])+l%8] = quantByte(r, q[0], q[1])
			}
		}
	}
}
