package nn

// RunsGrouped reports whether c's last forward pass ran grouped
// (conv_sparse.go), for the tests of package nn_test.
func RunsGrouped(c *Conv2d) bool { return c.sp != nil }

// GroupedFilterMinOut exposes groupedFilterMinOut to the tests.
var GroupedFilterMinOut = &groupedFilterMinOut

// UseAMX exposes useAMX to the tests: false forces BF16's emulation.
var UseAMX = &useAMX
