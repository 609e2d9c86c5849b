package units

import "testing"

func TestHuman(t *testing.T) {
	for _, c := range []struct {
		n    int64
		want string
	}{{25557032, "25.56M"}, {4089184256, "4.09G"}, {2294000, "2.29M"}, {431080, "431.08K"}, {888360906, "888.36M"}, {999, "999"}, {0, "0"}} {
		if got := Human(c.n); got != c.want {
			t.Errorf("Human(%d) = %q, want %q", c.n, got, c.want)
		}
	}
}
