package selfgroup

import "github.com/sgcnn/sgcnn/internal/maskgroup"

// Patterns returns the number of distinct input patterns (mask rows) among
// the live filters of an n x c mask: the number of groups of the diverse
// group convolution it describes. Dead filters (all-zero rows) are not
// counted. A nil mask is one dense pattern.
func Patterns(mask []float32, n, c int) int {
	groups, _ := maskgroup.Of(mask, n, c)
	return len(groups)
}
