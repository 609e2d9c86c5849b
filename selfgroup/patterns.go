package selfgroup

import "github.com/sgcnn/sgcnn/internal/maskgroup"

// Patterns returns the number of distinct input patterns (mask rows) among
// the live filters of an n x c mask: the number of groups of the diverse
// group convolution it describes. Dead filters (all-zero rows) are not
// counted. A nil mask is one dense pattern.
func Patterns(mask []float32, n, c int) int {
	groups, _ := GroupsOf(mask, n, c)
	return len(groups)
}

// GroupsOf partitions the live filters of an n x c mask by input pattern:
// each group lists, ascending, the filters whose mask rows are equal, and
// groups are ordered by their lowest filter. Filters whose row is all zero
// are dead (they read no input) and are returned apart in dead, ascending.
// A mask entry counts as kept when it is nonzero; nil means all ones.
func GroupsOf(mask []float32, n, c int) (groups [][]int, dead []int) {
	return maskgroup.Of(mask, n, c)
}
