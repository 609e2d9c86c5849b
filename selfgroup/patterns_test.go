package selfgroup

import (
	"reflect"
	"testing"
)

func TestGroupsOf(t *testing.T) {
	// 6 filters x 3 channels.
	mask := []float32{
		1, 0, 1, // 0: pattern A
		0, 0, 0, // 1: dead
		0, 1, 1, // 2: pattern B
		1, 0, 1, // 3: A
		0, 1, 1, // 4: B
		1, 1, 1, // 5: C
	}
	groups, dead := GroupsOf(mask, 6, 3)
	if want := [][]int{{0, 3}, {2, 4}, {5}}; !reflect.DeepEqual(groups, want) {
		t.Errorf("groups %v, want %v", groups, want)
	}
	if want := []int{1}; !reflect.DeepEqual(dead, want) {
		t.Errorf("dead %v, want %v", dead, want)
	}
	if got := Patterns(mask, 6, 3); got != 3 {
		t.Errorf("Patterns = %d, want 3", got)
	}
	if got := Patterns(nil, 4, 3); got != 1 {
		t.Errorf("Patterns(nil) = %d, want 1", got)
	}
	// More than 8 channels: the key spans bytes.
	wide := make([]float32, 2*20)
	wide[19] = 1
	wide[20+18] = 1
	if got := Patterns(wide, 2, 20); got != 2 {
		t.Errorf("wide Patterns = %d, want 2", got)
	}
}
