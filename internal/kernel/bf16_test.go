package kernel

import (
	"math"
	"math/rand/v2"
	"testing"
)

func TestBF16Rounding(t *testing.T) {
	inf := float32(math.Inf(1))
	for _, c := range []struct {
		in   uint32
		want uint16
	}{
		{0x3f800000, 0x3f80}, // 1
		{0x3f808000, 0x3f80}, // tie, even below
		{0x3f818000, 0x3f82}, // tie, even above
		{0x3f808001, 0x3f81}, // just above the tie
		{0x3f807fff, 0x3f80}, // just below the tie
		{0xbf80c000, 0xbf81}, // negative, rounds away
		{0x00400000, 0x0000}, // denormal to zero
		{0x80000001, 0x8000}, // negative denormal to -0
		{0x7f7fffff, 0x7f80}, // max float rounds to +Inf
		{math.Float32bits(inf), 0x7f80},
		{0x7fc00000, 0x7fc0}, // quiet NaN
		{0x7f800001, 0x7fc0}, // signalling NaN, quieted (low bits dropped)
		{0x00800000, 0x0080}, // smallest normal
	} {
		if got := BF16(math.Float32frombits(c.in)); got != c.want {
			t.Errorf("BF16(%#08x) = %#04x, want %#04x", c.in, got, c.want)
		}
	}
	r := rand.New(rand.NewPCG(1, 2))
	src := make([]float32, 4096)
	for i := range src {
		src[i] = math.Float32frombits(r.Uint32())
	}
	dst := make([]float32, len(src))
	RoundBF16(dst, src)
	for i, x := range src {
		want := FromBF16(BF16(x))
		if math.Float32bits(dst[i]) != math.Float32bits(want) {
			t.Fatalf("RoundBF16(%#08x) = %#08x, want %#08x", math.Float32bits(x), math.Float32bits(dst[i]), math.Float32bits(want))
		}
		if x == x && !math.IsInf(float64(x), 0) && math.Abs(float64(x)) >= 0x1p-126 && math.Abs(float64(x)) < 0x1p127 {
			if e := math.Abs(float64(dst[i]-x)) / math.Abs(float64(x)); e > 1.0/256 {
				t.Fatalf("RoundBF16(%g) = %g: relative error %g > 2^-8", x, dst[i], e)
			}
		}
	}
}
