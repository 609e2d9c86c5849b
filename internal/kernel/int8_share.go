package kernel

import (
	"math/bits"
	"slices"
)

// This file shares interleaved quads between the groups of an Int8Plan.
//
// Every group reads its channels four at a time, interleaved into quads of
// 32-bit words (int8.go); self-grouped groups read overlapping channel
// sets, so that where two groups both read four channels c0..c3, one quad
// of them can serve both. i8QuadOrders chooses each group's quads so
// (greedily: the four channels that serve the most groups, while at
// least two), and share lays out every distinct quad once per image: a quad
// is interleaved just before the first group that reads it runs (so it is
// still in cache), into a buffer that the later groups read it from by
// offset (the padded tiles' tap offsets, the flat kernels' quad offsets).
// A group reads exactly as many quads as before, so no kernel does more
// work; the interleaving shrinks by 40-50% on the Conv-70 ResNets.
// Where the epilogue has skipped or planed channels (not fusable), walk
// keeps the groups' own quads.

// i8MaxShareGroups bounds the groups a plan shares quads among (the
// greedy search looks at every pair of groups per shared quad).
const i8MaxShareGroups = 128

// i8QuadOrders returns, for each group, the channels of its quads in
// order, 4 per quad: first the quads it shares with other groups (which
// may hold a channel or two it does not read, with zero weights), then
// its own, ascending (the last partial quad repeating its last channel).
// A group gets no more quads than its channels need.
func i8QuadOrders(c int, groups []Group) [][]int {
	words := (c + 63) / 64
	rest := make([][]uint64, len(groups)) // channels not yet in a quad, as bit sets
	orders := make([][]int, len(groups))
	for gi, g := range groups {
		rest[gi] = make([]uint64, words)
		if len(g.Filters) == 0 {
			continue
		}
		for _, ch := range g.Channels {
			rest[gi][ch/64] |= 1 << (ch % 64)
		}
	}
	if len(groups) <= i8MaxShareGroups {
		shareGreedy(c, rest, orders)
	}
	for gi, r := range rest {
		start := len(orders[gi])
		for w, b := range r {
			for ; b != 0; b &= b - 1 {
				orders[gi] = append(orders[gi], 64*w+bits.TrailingZeros64(b))
			}
		}
		if n := len(orders[gi]); n%4 != 0 && n > start {
			for range 4 - n%4 {
				orders[gi] = append(orders[gi], orders[gi][n-1])
			}
		}
	}
	return orders
}

// shareGreedy moves shared quads out of rest into orders: while some four
// channels serve at least two groups, the four (among two groups' common
// channels, the ones the most groups still read) that serve the most. A
// quad serves a group that still reads all four of its channels, or two
// or three of them where its last quads have room for the others (zero
// weights) without taking more quads than its channels need.
func shareGreedy(c int, rest [][]uint64, orders [][]int) {
	words := (c + 63) / 64
	freq := make([]int, c)
	left := make([]int, len(rest))   // channels in rest
	budget := make([]int, len(rest)) // quads a group has left
	for gi, r := range rest {
		for _, b := range r {
			left[gi] += bits.OnesCount64(b)
		}
		budget[gi] = (left[gi] + 3) / 4
	}
	serves := func(gi int, q [4]int) (n int, ok bool) {
		for _, ch := range q {
			n += int(rest[gi][ch/64] >> (ch % 64) & 1)
		}
		return n, n == 4 || n >= 2 && (left[gi]-n+3)/4 <= budget[gi]-1
	}
	common := make([]uint64, words)
	var chans []int
	for {
		clear(freq)
		for _, r := range rest {
			for w, b := range r {
				for ; b != 0; b &= b - 1 {
					freq[64*w+bits.TrailingZeros64(b)]++
				}
			}
		}
		var best [4]int
		bestUsers := 1
		for a := range rest {
			for b := a + 1; b < len(rest); b++ {
				n := 0
				for w := range common {
					common[w] = rest[a][w] & rest[b][w]
					n += bits.OnesCount64(common[w])
				}
				if n < 4 {
					continue
				}
				chans = chans[:0]
				for w, m := range common {
					for ; m != 0; m &= m - 1 {
						chans = append(chans, 64*w+bits.TrailingZeros64(m))
					}
				}
				slices.SortStableFunc(chans, func(x, y int) int { return freq[y] - freq[x] })
				q := [4]int(chans[:4])
				slices.Sort(q[:])
				u := 0
				for gi := range rest {
					if _, ok := serves(gi, q); ok {
						u++
					}
				}
				if u > bestUsers {
					best, bestUsers = q, u
				}
			}
		}
		if bestUsers < 2 {
			return
		}
		for gi, r := range rest {
			n, ok := serves(gi, best)
			if !ok {
				continue
			}
			orders[gi] = append(orders[gi], best[:]...)
			for _, ch := range best {
				r[ch/64] &^= 1 << (ch % 64)
			}
			left[gi] -= n
			budget[gi]--
		}
	}
}

// i8QuadSet is the layout of the distinct quads of a plan's groups of one
// kind: the padded quad planes (q.qstride words a quad), or the compact
// planes of 8x8 flat groups (i8Flat8QS words).
type i8QuadSet struct {
	idx   []int32 // [4*quads] byte offsets of each quad's byte planes (as i8Group.quads)
	qw    int     // words per quad
	start int     // its first word in the shared buffer
}

// share lays out the plan's distinct quads (i8QuadOrders) for walk: each
// group's shared tap offsets and quad offsets, and the quads that it
// interleaves first (i8Group.lo, hi). Call it after setFlat.
func (q *Int8Plan) share() {
	type key struct {
		set   int
		chans [4]int32
	}
	index := map[key]int{}
	var sets [2]i8QuadSet
	sets[0].qw, sets[1].qw = q.qstride, i8Flat8QS
	kk := q.p.KH * q.p.KW
	for gi := range q.groups {
		g := &q.groups[gi]
		g.set = 0
		if g.flat && q.p.W == 8 {
			g.set = 1
		}
		st := &sets[g.set]
		nq := len(g.quads) / 4
		g.lo = len(st.idx) / 4
		g.soffs = make([]int32, len(g.offs))
		g.sqo = make([]int32, nq)
		for k := range nq {
			kq := key{set: g.set, chans: [4]int32(g.quads[4*k : 4*k+4])}
			i, ok := index[kq]
			if !ok {
				i = len(st.idx) / 4
				index[kq] = i
				st.idx = append(st.idx, g.quads[4*k:4*k+4]...)
			}
			g.sqo[k] = int32(4 * i * st.qw)
			for t := range kk { // as offs, from quad i instead of k
				g.soffs[k*kk+t] = g.offs[k*kk+t] + int32(4*(i-k)*q.qstride)
			}
		}
		g.hi = len(st.idx) / 4
	}
	// The padded tiles read past a quad's start by up to q.reach words.
	n0 := len(sets[0].idx) / 4
	sets[1].start = max(n0*q.qstride, (n0-1)*q.qstride+q.reach) + 16
	q.sets = sets
	q.swords = sets[1].start + len(sets[1].idx)/4*i8Flat8QS + 16
}
