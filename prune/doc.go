// Package prune holds the pruning methods behind one interface, Pruner: the
// paper's self-grouping (Guo et al. 2020) and the methods it is compared
// with. A Pruner prunes a list of layers (nn.Prunable) to per-layer
// cumulative rates in one step, installs the new masks and returns a Layer
// record per layer. Package pipeline runs a schedule of such steps with
// fine-tuning over any Pruner and maps the records to report rows; Once
// prunes a model in one step, for benchmarks and tests.
//
// The paper's claim is that data-dependent, diverse groups beat regular
// group convolution and other pruning at equal compression; the other
// methods let a user check it on their own model.
//
// # Methods
//
// Methods are registered by name (Register, Lookup, Names) and built from
// Options by New; Check validates a method and its options before any
// work, in one place. The built-ins:
//
//   - "self-grouping": the paper's method, SelfGrouping (package selfgroup
//     on raw slices).
//   - "taylor": self-grouping with the first-order Taylor importance
//     (TaylorImportance) instead of the weights' L1 norms.
//   - "regular": regular group convolution (ResNeXt, AlexNet): g equal
//     groups, filter group k (contiguous filters) reads the k-th contiguous
//     1/g of the input channels. See Regular for how it meets the rate.
//   - "random": random filter clusters instead of k-means, drawn once per
//     layer from the seed, then self-grouping's centroid threshold and keep
//     rule (selfgroup.StepWithLabels).
//   - "l1filter": L1-norm filter pruning (Li et al., "Pruning Filters for
//     Efficient ConvNets", ICLR 2017): whole filters with the smallest L1
//     norms are removed. See L1Filter.
//
// # Equal budgets
//
// Every method is given the same per-layer cumulative rates as
// self-grouping and prunes that fraction of each layer's N*C connections
// (regular and l1filter exactly, up to rounding to whole connections or
// whole filters; random as closely as self-grouping's threshold does).
// Under the paper's masked count (package count) a layer's FLOPs are
// proportional to its kept connections, so equal rates give equal conv
// FLOPs, up to the one-FLOP-per-live-filter BN term.
//
// # Files
//
// prune.go (Pruner, Layer, EachLayer, Install, SelfGrouping, Once),
// registry.go (Options, Method, Register, Check, New), taylor.go,
// regular.go, random.go, l1filter.go. Comparison tables and plots of
// finished runs are in package report (compare.go).
package prune
