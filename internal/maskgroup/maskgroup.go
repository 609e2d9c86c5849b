// Package maskgroup partitions the filters of a connection mask by their
// kept-input pattern: the groups of the diverse group convolution the mask
// describes. The pruning method (package selfgroup) and the executor
// (package compile) both need it, and neither may import the other.
package maskgroup

import "fmt"

// Of partitions the live filters of an n x c mask by input pattern:
// each group lists, ascending, the filters whose mask rows are equal, and
// groups are ordered by their lowest filter. Filters whose row is all zero
// are dead (they read no input) and are returned apart in dead, ascending.
// A mask entry counts as kept when it is nonzero; nil means all ones.
func Of(mask []float32, n, c int) (groups [][]int, dead []int) {
	if n < 0 || c < 1 || (mask != nil && len(mask) != n*c) {
		panic(fmt.Sprintf("maskgroup: Of: len(mask)=%d, n=%d, c=%d", len(mask), n, c))
	}
	if mask == nil {
		all := make([]int, n)
		for i := range all {
			all[i] = i
		}
		if n == 0 {
			return nil, nil
		}
		return [][]int{all}, nil
	}
	index := map[string]int{}
	key := make([]byte, (c+7)/8)
	for i := range n {
		clear(key)
		live := false
		for j, v := range mask[i*c : (i+1)*c] {
			if v != 0 {
				key[j/8] |= 1 << (j % 8)
				live = true
			}
		}
		if !live {
			dead = append(dead, i)
			continue
		}
		g, ok := index[string(key)]
		if !ok {
			g = len(groups)
			index[string(key)] = g
			groups = append(groups, nil)
		}
		groups[g] = append(groups[g], i)
	}
	return groups, dead
}
