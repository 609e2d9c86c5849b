package compile

// Peak returns the most goroutines that one loop of n's Forward has run
// on so far, for the tests of package compile_test.
func Peak(n *Net) int { return n.pool.Peak() }
