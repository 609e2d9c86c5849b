package selfgroup

import (
	"errors"
	"slices"
	"testing"
)

func TestRates(t *testing.T) {
	for _, tc := range []struct {
		step, target float64
		want         []float64
	}{
		{10, 70, []float64{10, 20, 30, 40, 50, 60, 70}},
		{10, 10, []float64{10}},
		{5, 95, nil}, // checked by length below
		{0.5, 97.5, nil},
		{33, 99, []float64{33, 66, 99}},
	} {
		got, err := Rates(tc.step, tc.target)
		if err != nil {
			t.Errorf("Rates(%g, %g): %v", tc.step, tc.target, err)
			continue
		}
		if tc.want != nil && !slices.Equal(got, tc.want) {
			t.Errorf("Rates(%g, %g) = %v, want %v", tc.step, tc.target, got, tc.want)
		}
		if n := int(tc.target/tc.step + 0.5); len(got) != n || got[n-1] != tc.target || got[0] != tc.step {
			t.Errorf("Rates(%g, %g) = %v", tc.step, tc.target, got)
		}
	}
	for _, tc := range []struct{ step, target float64 }{
		{10, 0}, {10, 100}, {10, -10}, {10, 105}, {0, 70}, {-10, 70}, {20, 70}, {80, 70}, {3, 10},
	} {
		_, err := Rates(tc.step, tc.target)
		var re *RateError
		if !errors.As(err, &re) || re.Step != tc.step || re.Target != tc.target {
			t.Errorf("Rates(%g, %g): error %v, want a *RateError", tc.step, tc.target, err)
		}
	}
}

func TestLayerRate(t *testing.T) {
	for _, tc := range []struct {
		p    float64
		fc   bool
		want float64
	}{{70, false, 70}, {70, true, 60}, {50, true, 50}, {60, true, 60}, {90, false, 90}} {
		if got := LayerRate(tc.p, DefaultFCCap, tc.fc); got != tc.want {
			t.Errorf("LayerRate(%g, 60, %v) = %g, want %g", tc.p, tc.fc, got, tc.want)
		}
	}
}

func TestSchemes(t *testing.T) {
	for _, s := range []Scheme{LG, G, L} {
		got, err := ParseScheme(s.String())
		if err != nil || got != s {
			t.Errorf("ParseScheme(%q) = %v, %v", s.String(), got, err)
		}
	}
	if s, err := ParseScheme(" lg "); err != nil || s != LG {
		t.Errorf("lower case: %v %v", s, err)
	}
	if _, err := ParseScheme("GL"); err == nil {
		t.Error("GL parsed")
	}
	lg, g, l := LG.Preset(), G.Preset(), L.Preset()
	if lg.LocalEpochs != 20 || lg.LocalLR != 0.01 || lg.GlobalEpochs != 90 || lg.GlobalLR != 0.01 {
		t.Errorf("LG preset %+v", lg)
	}
	if g.LocalEpochs != 0 || g.GlobalEpochs != 90 || l.LocalEpochs != 20 || l.GlobalEpochs != 0 {
		t.Errorf("G %+v, L %+v", g, l)
	}
	for e, want := range map[int]float64{0: 0.01, 29: 0.01, 30: 0.001, 59: 0.001, 60: 0.0001, 89: 0.0001} {
		if got := lg.GlobalLRAt(e); got < want*0.999999 || got > want*1.000001 {
			t.Errorf("GlobalLRAt(%d) = %g, want %g", e, got, want)
		}
	}
}
