// Package compile turns a masked network into an inference executor that
// runs the pruned connections only, so that the FLOPs the self-grouping
// method removes become wall-clock time saved.
//
// The authors' code (and package nn) keep a pruned layer as dense weights
// times a mask: it costs as much as the unpruned one. Compile instead
// rewrites each conv:
//
//   - Filters that share one kept-input pattern (one mask row) form a group
//     that reads only its own input-channel list (kernel.GroupConvForward:
//     the gather is a tap table, and each filter is written straight into
//     its output channel, so there is no gather or scatter buffer).
//   - An eval-mode BatchNorm right after a conv is folded into the conv's
//     weights and a per-channel bias; a following ReLU, and the residual
//     add (and ReLU) that ends a ResNet block, are applied in the same pass
//     over the output (the epilogue, epilogue.go).
//   - A dead filter (every input pruned) outputs a constant: act(bias),
//     with bias its folded BN shift or conv bias. Where the next layer is a
//     conv, that constant is folded into the next conv and the channel is
//     never computed or written; the fold is exact at the image border,
//     where the zero padding makes a constant input plane give a
//     position-dependent output (a per-channel bias plane, fold.go).
//     Elsewhere (residual adds, pools, concatenation) the constant plane
//     is written by the epilogue, which costs one store per value.
//   - Per layer, the grouped form competes with a dense one (all live
//     filters over the union of their channels) and a merged one (small
//     groups merged greedily, fewer and fuller micro-kernel tiles); the
//     fastest by measurement at compile time wins (tune.go), and Net.Layers
//     reports each layer's choice.
//
// The executor runs per worker on micro-batches of whole images through
// the whole network (parallel.For over micro-batches), so a worker's
// activations stay in its core's cache; Forward on a batch of B images uses
// min(parallel.Threads(), ceil(B/micro)) goroutines.
//
// Compile never imports selfgroup: a group is just a set of filters with
// equal mask rows, computed here (after removing the folded constant
// channels, which can merge groups).
//
// Saving: a compiled Net is not serialised. The masks and weights (an sgcnn
// model file) determine it; Compile with a fixed Options.Route, or with
// Options.Plan from a previous Net.Plan, rebuilds it deterministically.
package compile
