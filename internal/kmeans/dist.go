package kmeans

// sqDist returns the squared Euclidean distance sum_i (x[i]-c[i])^2 in float32.
// It is the inner loop of every assignment step, so it keeps eight
// independent accumulators: one chain of dependent additions would stall on
// the floating-point add latency (about four cycles) instead of its
// throughput. len(c) must be at least len(x).
func sqDist(x, c []float32) float32 {
	c = c[:len(x)] // one bounds check here lets the compiler drop the ones below
	var s0, s1, s2, s3, s4, s5, s6, s7 float32
	i := 0
	for ; i+8 <= len(x); i += 8 {
		xs := x[i : i+8 : i+8]
		cs := c[i : i+8 : i+8]
		d0 := xs[0] - cs[0]
		d1 := xs[1] - cs[1]
		d2 := xs[2] - cs[2]
		d3 := xs[3] - cs[3]
		d4 := xs[4] - cs[4]
		d5 := xs[5] - cs[5]
		d6 := xs[6] - cs[6]
		d7 := xs[7] - cs[7]
		s0 += d0 * d0
		s1 += d1 * d1
		s2 += d2 * d2
		s3 += d3 * d3
		s4 += d4 * d4
		s5 += d5 * d5
		s6 += d6 * d6
		s7 += d7 * d7
	}
	for ; i < len(x); i++ {
		d := x[i] - c[i]
		s0 += d * d
	}
	return ((s0 + s1) + (s2 + s3)) + ((s4 + s5) + (s6 + s7))
}

// sqDistRef is the obviously correct version of sqDist, accumulated in
// float64; tests compare the two.
func sqDistRef(x, c []float32) float64 {
	var s float64
	for i := range x {
		d := float64(x[i]) - float64(c[i])
		s += d * d
	}
	return s
}
