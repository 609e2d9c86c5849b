// Package selfgroup implements one step of self-grouping pruning (Guo et al.,
// "Self-grouping Convolutional Neural Networks", Neural Networks 2020) on one
// layer held as raw slices, and the data types of the paper's schedule.
//
// # One step at cumulative rate p
//
//  1. Importance: for filter i and input channel j, I[i][j] is the sum over
//     the kernel positions of |W[i][j][u][v] * m[i][j]| (Importance; an FC
//     layer is a layer with a 1x1 kernel).
//  2. Self-grouping: the N importance vectors I[i] in R^C are clustered into
//     g groups (default 16, clamped to N) by k-means (internal/kmeans),
//     giving a group label pi(i) per filter and a centroid c_k per group.
//  3. Threshold: tau is the p-th percentile (numpy's linear interpolation,
//     Percentile) of the N*C values c_{pi(i)}[j] * m[i][j].
//  4. Group connectivity: group k keeps input channel j iff
//     c_k[j] * m[f(k)][j] > tau, with f(k) the lowest-index filter of the
//     group (FirstMember, the authors' code), or each filter i keeps j iff
//     c_{pi(i)}[j] * m[i][j] > tau (OwnMask). The new mask is the old one
//     ANDed with the group's keep vector, so connections are never regained.
//
// Step does 1-4. Rates and LayerRate build the schedule of cumulative rates
// (FC layers capped at 60 by default), Scheme and Preset describe local and
// global fine-tuning, and Patterns counts the groups of the resulting diverse
// group convolution in a mask (package internal/maskgroup lists them).
//
// # Layout
//
// Weights are row-major float32: W[i][j][u][v] is w[(i*c+j)*kk + u*k+v] with
// kk = k*k; a mask or importance matrix is n*c values, row i being filter i.
// Masks hold 0 or 1 (nil means all ones). Rates are percentages.
//
// Files: importance.go, percentile.go, step.go (Step, its options, and
// connect: steps 3-4, shared with StepWithLabels in labels.go),
// schedule.go (rates, schemes, presets), patterns.go.
package selfgroup
