// Package compile turns a masked network into an inference executor that
// runs the pruned connections only, so that the FLOPs the self-grouping
// method removes become wall-clock time saved.
//
// The authors' code (and package nn) keep a pruned layer as dense weights
// times a mask: it costs as much as the unpruned one. Compile instead
// rewrites each conv:
//
//   - Filters that share one kept-input pattern (one mask row) form a group
//     that reads only its own input-channel list (kernel.GroupPlan: the
//     gather is a tap table prepared at compile time, and each filter is
//     written straight into its output channel, so there is no gather or
//     scatter buffer).
//   - An eval-mode BatchNorm right after a conv is folded into the conv's
//     weights and a per-channel bias; a following ReLU, and the residual
//     add (and ReLU) that ends a ResNet block, are applied as each output
//     row is stored (kernel.Epilogue).
//   - A dead filter (every input pruned) outputs a constant: act(bias),
//     with bias its folded BN shift or conv bias. Where only a conv reads
//     the output, that constant is folded into that conv and the channel is
//     never computed or written; the fold is exact at the image border,
//     where the zero padding makes a constant input plane give a
//     position-dependent output (a per-filter bias plane, conv.go's
//     foldConsts; a plane that is uniform, as after a 1x1 conv, becomes
//     bias).
//     Elsewhere (residual adds, pools, concatenation) the constant plane
//     is written by the epilogue, which costs one store per value.
//   - Per layer, the grouped form competes with a dense one (all live
//     filters over the union of their channels) and a merged one (small
//     groups merged greedily by a cost model of the micro-kernel's tiles,
//     and again by a model timed on this machine, costmodel.go); the
//     fastest by measurement at compile time wins (tune.go), and
//     Net.Layers reports each layer's choice.
//   - Linear layers run on their live outputs and the inputs those read.
//   - With Options.Int8 (calibrated by package quant), the named convs run
//     in int8 (kernel.Int8Plan): the input is quantized on the way in, the
//     int32 sums dequantized to fp32 before the same epilogue, and the
//     route is tuned on the int8 kernels, whose merged-fit candidate
//     merges by a cost model timed on them (fewer, larger groups than
//     fp32's: a small int8 group pays its packing and interleaving and
//     reads four channels at a time); such a conv never takes or writes
//     the padded handoff layout.
//
// The executor runs per worker on micro-batches of whole images through
// the convolutional part (the network's own worker pool over micro-batches), reusing its
// activation buffers by liveness so that they stay in the core's cache;
// the linear layers then run on each worker's whole share of the batch,
// reading their weights once. Forward on a batch of B images uses
// min(Options.Threads, ceil(B/micro)) goroutines; a batch of one image
// may instead split each conv over the threads (Options.SplitOne: by
// default whichever of the two ways measures faster, split.go).
//
// Compile reads only the network's lowered graph (package graph): it walks
// the nodes in order and fuses, on the DAG, a conv with the BatchNorm and
// ReLU or residual Add (and ReLU) that alone read its output. Slice, Pad
// and Transpose run as gathers through index tables made at compile time;
// a node without a compiled kernel (grouped or dilated convs, Sigmoid,
// Mul, Split, ...) runs through its own evaluation-mode forward, so any
// graph compiles. A value's buffer is reused once its last reader has run.
//
// Layout: compile.go (Options, Net, Forward), walk.go (the walk over the
// graph: fusion chains, steps, buffer liveness), ops.go (BN, pools,
// shortcuts, add, concatenation, linear), generic.go (gathers, and the
// fallback through graph's node forward), conv.go (folding, grouping),
// tune.go (merging, measurement), speed.go (timing and CPU load for sgcnn
// bench and the prune report).
//
// Compile never imports selfgroup: a group is just a set of filters with
// equal mask rows, computed here (after removing the folded constant
// channels, which can merge groups).
//
// Saving: a compiled Net is not serialised. The masks and weights (an sgcnn
// model file) determine it; Compile with a fixed Options.Route, or with
// Options.Plan from a previous Net.Plan, rebuilds it deterministically.
package compile
