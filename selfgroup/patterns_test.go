package selfgroup

import "testing"

func TestPatterns(t *testing.T) {
	// 6 filters x 3 channels.
	mask := []float32{
		1, 0, 1, // 0: pattern A
		0, 0, 0, // 1: dead, not a pattern
		0, 1, 1, // 2: pattern B
		1, 0, 1, // 3: A
		0, 1, 1, // 4: B
		1, 1, 1, // 5: C
	}
	if got := Patterns(mask, 6, 3); got != 3 {
		t.Errorf("Patterns = %d, want 3", got)
	}
	if got := Patterns(nil, 4, 3); got != 1 {
		t.Errorf("Patterns(nil) = %d, want 1", got)
	}
	if got := Patterns(make([]float32, 6), 2, 3); got != 0 {
		t.Errorf("Patterns(all dead) = %d, want 0", got)
	}
	// More than 8 channels: the key spans bytes.
	wide := make([]float32, 2*20)
	wide[19] = 1
	wide[20+18] = 1
	if got := Patterns(wide, 2, 20); got != 2 {
		t.Errorf("wide Patterns = %d, want 2", got)
	}
}
