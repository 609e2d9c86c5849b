// Package swa averages the weights of several snapshots of one network
// and re-estimates its batch-norm statistics for the averaged weights:
// stochastic weight averaging (Izmailov et al., "Averaging Weights Leads
// to Wider Optima and Better Generalization", UAI 2018), as PyTorch's
// torch.optim.swa_utils does it with AveragedModel and update_bn.
//
// For a pruned network the snapshots must share their masks: the mean of
// weights that are zero in every snapshot stays zero, so the average keeps
// the same groups, parameter and FLOP counts. Snapshots with different
// masks are refused rather than merged.
package swa
