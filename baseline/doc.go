// Package baseline holds the comparison methods for self-grouping pruning:
// pruners that implement pipeline.Pruner, so that they share its schedule,
// fine-tuning, counting and reports, and differ from self-grouping only in
// how each step chooses the connections to drop. The paper's claim (Guo et
// al. 2020) is that data-dependent, diverse groups beat regular group
// convolution and other pruning at equal compression; these let a user
// check it on their own model.
//
// # Methods
//
//   - "self-grouping": the paper's method, pipeline.SelfGrouping.
//   - "taylor": self-grouping with the first-order Taylor importance
//     (pipeline.TaylorImportance) instead of the weights' L1 norms.
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
// Files: method.go (names, New, the shared per-layer loop), regular.go,
// random.go, l1filter.go, table.go (gathering runs into a comparison
// table and plot).
package baseline
